"""Deprecated location of the count distributions: they live in :mod:`underwriting.losses.counts`.

Importing this module warns (``DeprecationWarning``); it will be removed in underwriting 0.2.0.
No module of the package imports it (``tests/test_architecture.py`` checks). ``underwriting/frequency/``
is the breach-frequency model of a quote; this module is not.
"""

import warnings

from underwriting.losses.counts import (
    Frequency,
    NegativeBinomial,
    Poisson,
    geometric,
    make_frequency,
)

#: The release that removes this module.
REMOVED_IN = "0.2.0"

warnings.warn("underwriting.losses.frequency is deprecated and will be removed in underwriting "
              f"{REMOVED_IN}; import from underwriting.losses.counts", DeprecationWarning, stacklevel=2)

__all__ = ["Frequency", "NegativeBinomial", "Poisson", "geometric", "make_frequency"]
