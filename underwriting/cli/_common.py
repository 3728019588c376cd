"""Argument helpers shared by the sub-commands (standard library only, safe at start-up)."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from underwriting.errors import InputError


def parse_fx(items: list[str]) -> dict[str, float]:
    """Parse ``["JPY=150.2", ...]`` (units per USD) into ``{"JPY": 150.2}``.

    Raises
    ------
    InputError
        On ``--fx`` for a malformed item or a rate that is not a positive finite number.
    """
    rates: dict[str, float] = {}
    for item in items:
        cur, sep, val = item.partition("=")
        try:
            rate = float(val)
        except ValueError:
            rate = float("nan")
        if not sep or not cur.strip() or not math.isfinite(rate) or rate <= 0:
            raise InputError(f"expected CUR=RATE with a positive rate in units per USD (e.g. JPY=150), got {item!r}",
                             field="--fx")
        rates[cur.strip().upper()] = rate
    return rates


def _whole(text: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def seed_arg(text: str) -> int:
    """argparse type of ``--seed``: a whole number from 0 to 2**32 - 1 (what numpy and scikit-learn accept)."""
    v = _whole(text)
    if not 0 <= v < 2**32:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {2**32 - 1}, got {text!r}")
    return v


def n_jobs_arg(text: str) -> int:
    """argparse type of ``--n-jobs``: a positive number of workers, or negative as joblib counts (-1: all cores)."""
    v = _whole(text)
    if v == 0:
        raise argparse.ArgumentTypeError("must not be 0 (give a number of workers, or -1 for all cores)")
    return v


def check_output_file(path: str | None, option: str) -> None:
    """Refuse an output file path that cannot be written, before any work is done."""
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise InputError("is a directory, expected a file name", source=option)
    parent = next((q for q in (p.parent, *p.parent.parents) if q.exists()), None)
    if parent is not None and not parent.is_dir():
        raise InputError(f"{parent} is not a directory", source=option)
    if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write in {parent} (permission denied)", source=option)


def check_output_dir(path: str | None, option: str) -> None:
    """Refuse an output folder path that exists as a file (or lies under one), before any work is done."""
    if path is None:
        return
    p = Path(path)
    existing = next((q for q in (p, *p.parents) if q.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InputError("exists and is not a directory" if existing == p else f"{existing} is not a directory",
                         source=option)
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"cannot write in {existing} (permission denied)", source=option)


def write_output(path: str, text: str, option: str) -> None:
    """Write ``text`` to the user's ``path`` atomically; an OS refusal is an input error naming ``option``."""
    from underwriting.fileio import atomic_write_text

    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}", source=option) from None


def add_model_data_args(p: argparse.ArgumentParser) -> None:
    """``--data``, ``--config``, ``--name``, ``--registry`` and ``--n-boot``, shared by ``evaluate`` and ``compare``."""
    p.add_argument("--data", metavar="PATH", help="data folder or file, or a .toml book spec")
    p.add_argument("--config", metavar="CONFIG.toml", help="configuration with a [data] table")
    p.add_argument("--name", default="risk_scorer", help="model (default risk_scorer)")
    p.add_argument("--registry", metavar="DIR", help="registry folder (default: $UNDERWRITING_REGISTRY or models/)")
    p.add_argument("--n-boot", type=int, default=500, help="bootstrap resamples (default 500)")
