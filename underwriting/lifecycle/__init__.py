"""Model lifecycle (issue #8): train, evaluate, compare, promote, reproduce.

Public API (imported lazily; ``import underwriting.lifecycle`` stays cheap)::

    from underwriting.lifecycle import (
        train, TrainResult, load_config, DEFAULT_CONFIG,      # lifecycle.training
        evaluate, compare, backtest, premium_impact,          # lifecycle.evaluation
        reproduce, Reproduction,                              # lifecycle.reproduction
        load_book, training_set, write_book, Book,            # lifecycle.data
    )
    from underwriting.registry import Registry, pinned, load_model   # the registry itself

See ``docs/lifecycle.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "train": "underwriting.lifecycle.training", "TrainResult": "underwriting.lifecycle.training",
    "load_config": "underwriting.lifecycle.training", "DEFAULT_CONFIG": "underwriting.lifecycle.training",
    "evaluate": "underwriting.lifecycle.evaluation", "compare": "underwriting.lifecycle.evaluation",
    "backtest": "underwriting.lifecycle.evaluation", "premium_impact": "underwriting.lifecycle.evaluation",
    "reference_book": "underwriting.lifecycle.evaluation",
    "reproduce": "underwriting.lifecycle.reproduction", "Reproduction": "underwriting.lifecycle.reproduction",
    "load_book": "underwriting.lifecycle.data", "training_set": "underwriting.lifecycle.data",
    "write_book": "underwriting.lifecycle.data", "synthetic_book": "underwriting.lifecycle.data",
    "Book": "underwriting.lifecycle.data",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'underwriting.lifecycle' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
