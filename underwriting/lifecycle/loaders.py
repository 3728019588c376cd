"""Loaders of the registry's model kinds (called by :class:`underwriting.registry.Registry` with a
version folder whose files have already been checked against its manifest)."""

from __future__ import annotations

from pathlib import Path

import underwriting.frequency  # noqa: F401  registers the frequency kind
import underwriting.losses.severity.record  # noqa: F401  registers the severity_fit kind
import underwriting.scoring  # noqa: F401  registers the risk_scorer kind
import underwriting.survival  # noqa: F401  registers the survival kind

SCORER_FILE = "scorer.json"
SURVIVAL_DIR = "."


def load_risk_scorer(directory):
    """``<version>/scorer.json`` as a :class:`~underwriting.scoring.model.RiskScorer`."""
    from underwriting.scoring.artifact import load

    return load(Path(directory) / SCORER_FILE)


def load_survival(directory):
    """A :class:`~underwriting.survival.TimeToBreachModel` saved with ``underwriting.survival.save``."""
    from underwriting.survival import load

    return load(Path(directory))
