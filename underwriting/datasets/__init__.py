"""Curated real data (loaders, panel, key figures) and the synthetic book generator.

Public API (imported lazily, so ``import underwriting.datasets`` stays cheap)::

    from underwriting.datasets import (
        load_incidents, load_exchanges, load_fx_rates, load_exchange_panel,
        make_exchange_portfolio, calibration_targets, describe, format_describe,
        load_jp_exchanges, jp_followup,
    )
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_incidents": "underwriting.datasets.loaders",
    "load_exchanges": "underwriting.datasets.loaders",
    "load_fx_rates": "underwriting.datasets.loaders",
    "load_exchange_panel": "underwriting.datasets.loaders",
    "DatasetError": "underwriting.datasets.loaders",
    "load_jp_exchanges": "underwriting.datasets.jp_cohort",
    "jp_followup": "underwriting.datasets.jp_cohort",
    "build_exchange_panel": "underwriting.datasets.panel",
    "PANEL_COLUMNS": "underwriting.datasets.panel",
    "make_exchange_portfolio": "underwriting.datasets.synthetic",
    "SyntheticPortfolio": "underwriting.datasets.synthetic",
    "GroundTruth": "underwriting.datasets.synthetic",
    "calibration_targets": "underwriting.datasets.calibration",
    "CalibrationTargets": "underwriting.datasets.calibration",
    "describe": "underwriting.datasets.summary",
    "format_describe": "underwriting.datasets.summary",
    "DATA_CUTOFF": "underwriting.datasets.schema",
    "BREACH_EVENT_TYPES": "underwriting.datasets.schema",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'underwriting.datasets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
