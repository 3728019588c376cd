"""Locating shipped data and models, from a source checkout or an installed wheel.

In a checkout the files live at the top level (``datasets/``, ``models/``); in a wheel they are
packaged under ``underwriting/_bundled/``. Both layouts are found without configuration.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent

#: The bundled sample quoted by ``underwriting demo`` (and by the service's warm-up): a small Japanese
#: exchange, its primary policy and the regime it is assessed under.
DEMO_SUBMISSION = "jp_small_exchange.json"
DEMO_TERMS = "policy_jp_primary.toml"
DEMO_REGIME = "jp-fsa-2026"


def _root(kind: str) -> Path:
    bundled = _PKG / "_bundled" / kind
    if bundled.is_dir():
        return bundled
    checkout = _PKG.parent / kind
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"shipped {kind}/ folder not found (looked in {bundled} and {checkout})")


def dataset_path(name: str) -> Path:
    """Path of a shipped dataset file, e.g. ``dataset_path("incidents.csv")``."""
    return _root("datasets") / name


def models_root() -> Path:
    """Folder of the shipped model registry."""
    return _root("models")


def example_path(name: str) -> Path:
    """Path of a bundled example (submissions and policy terms)."""
    return _root("datasets") / "examples" / name
