"""Deprecated location of the count distributions: they live in :mod:`underwriting.losses.counts`.

A thin re-export kept for one round so that modules owned by other branches (quoting, portfolio,
compare-reserve) keep importing ``underwriting.losses.frequency`` while they move to
``underwriting.losses.counts``. ``underwriting/frequency/`` is the breach-frequency model of a
quote; this module is not.
"""

from underwriting.losses.counts import (
    Frequency,
    NegativeBinomial,
    Poisson,
    geometric,
    make_frequency,
)

__all__ = ["Frequency", "NegativeBinomial", "Poisson", "geometric", "make_frequency"]
