"""The quote's calibration stage: what the shipped public record gives every quote.

Two independent fits, each cached once per process (the shipped tables do not change while it runs):

* :func:`roster_base_rate`: the roster's base breach rate (the ``baseline`` frequency method's base);
* :func:`loss_calibration`: the severity (left-truncated maximum likelihood on the public incident
  amounts, USD), the peril mix of breaches (vector → peril) and the hot share of the custody tiers hit.

The frequency stage (:mod:`underwriting.quote.frequency`) reads only the first; the loss stage
(:mod:`underwriting.quote.losses`) only the second. :func:`record_calibration` gives both at once (the
portfolio's synthetic book and the tests read it).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

from underwriting.caches import register_cache
from underwriting.domain.vocabulary import (
    BREACH_EVENT_TYPES,
    DATA_CUTOFF,
    PERILS,
    REPORTING_THRESHOLD_USD,
    VECTOR_TO_PERIL,
)

__all__ = ["BaseRateCalibration", "LossCalibration", "RecordCalibration", "roster_base_rate", "loss_calibration",
           "record_calibration", "data_sha"]


def _sha_of_files(*names: str) -> str:
    from underwriting.resources import dataset_path

    h = hashlib.sha256()
    for n in names:
        h.update(dataset_path(n).read_bytes())
    return h.hexdigest()[:12]


@register_cache(static=True)  # shipped data, read once
@functools.lru_cache(maxsize=1)
def data_sha() -> str:
    """The first 12 hex digits of the SHA-256 of the shipped ``incidents.csv`` and ``exchanges.csv``."""
    return _sha_of_files("incidents.csv", "exchanges.csv")


@dataclass(frozen=True)
class BaseRateCalibration:
    """The roster's base breach rate (breaches a year per exchange) and the data it comes from."""

    base_rate: Any
    data_sha: str


@dataclass(frozen=True)
class LossCalibration:
    """The severity fit (USD, ground up), the breach share of each peril and the hot share of tiers hit."""

    severity_fit: Any
    peril_shares: dict[str, float]
    hot_share: float
    data_sha: str


@dataclass(frozen=True)
class RecordCalibration:
    """What the public record gives the quote: base rate, severity, peril and custody mixes."""

    base_rate: Any
    severity_fit: Any
    peril_shares: dict[str, float]
    hot_share: float
    data_sha: str


@register_cache(static=True)  # shipped data, read once
@functools.lru_cache(maxsize=1)
def roster_base_rate() -> BaseRateCalibration:
    """The base breach rate of the roster's exchanges with a known launch date (cached per process)."""
    from underwriting.datasets import load_exchanges, load_incidents
    from underwriting.frequency.baseline import base_rate_from_roster

    ex = load_exchanges()
    dated = ex[ex["launch_date"].notna()]
    return BaseRateCalibration(base_rate=base_rate_from_roster(dated, load_incidents(), cutoff=DATA_CUTOFF),
                               data_sha=data_sha())


@register_cache(static=True)  # shipped data, read once
@functools.lru_cache(maxsize=1)
def loss_calibration() -> LossCalibration:
    """Severity, peril shares and hot share from the public incident record (cached per process)."""
    from underwriting.datasets import load_incidents
    from underwriting.losses.severity import fit_severity

    inc = load_incidents()
    breaches = inc[inc["event_type"].isin(BREACH_EVENT_TYPES)]
    amounts = breaches["amount_usd"].dropna().to_numpy(dtype=float)
    amounts = amounts[amounts >= REPORTING_THRESHOLD_USD]
    sev = fit_severity(amounts, threshold=REPORTING_THRESHOLD_USD, family="lognormal")
    counts = {p: 0.0 for p in PERILS}
    for v in breaches["vector"].astype(str):
        if v in VECTOR_TO_PERIL:
            counts[VECTOR_TO_PERIL[v]] += 1.0
    total = sum(counts.values())
    shares = {p: c / total for p, c in counts.items()}
    tiers = breaches["custody_tier"].astype(str)
    n_hot, n_cold = int((tiers == "hot").sum()), int((tiers == "cold").sum())
    return LossCalibration(severity_fit=sev, peril_shares=shares, hot_share=n_hot / (n_hot + n_cold),
                           data_sha=data_sha())


def record_calibration() -> RecordCalibration:
    """Both calibrations at once (each cached per process)."""
    base, loss = roster_base_rate(), loss_calibration()
    return RecordCalibration(base_rate=base.base_rate, severity_fit=loss.severity_fit,
                             peril_shares=loss.peril_shares, hot_share=loss.hot_share, data_sha=loss.data_sha)
