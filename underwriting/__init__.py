"""underwriting: price hack and theft insurance for crypto exchanges and compute the reserve credit.

Data flow: a QuoteRequest → calibration → frequency (the one risk model) → losses → layers (pricing) →
reserve credit → the quote and its letter (the package :mod:`underwriting.quote`).
The top-level import is kept light (no pandas/scikit-learn/lifelines/scipy) so the CLI starts fast.
The public Python API is :mod:`underwriting.api` (``import underwriting.api as uw``); its functions
other than ``quote`` are also reachable here (``underwriting.price_layer``), imported on first use
(``underwriting.quote`` is the quote package: call ``underwriting.api.quote``); ``underwriting.clear_caches()``
empties every per-process cache (:mod:`underwriting.caches`).
"""

from typing import Any

from underwriting._version import __version__
from underwriting.caches import clear_caches

_API = ("price_layer", "reserve", "load_submission", "load_policy", "Layer", "Registry")

__all__ = ["__version__", "api", "clear_caches", *_API]


def __getattr__(name: str) -> Any:
    if name == "api" or name in _API:
        import importlib

        api = importlib.import_module("underwriting.api")
        return api if name == "api" else getattr(api, name)
    raise AttributeError(f"module 'underwriting' has no attribute {name!r}")
