"""Calibration targets of the synthetic generator, computed from the real curated tables.

The generator's base rates are never hand-typed: :func:`calibration_targets` derives them from
``datasets/incidents.csv`` and ``datasets/exchanges.csv`` (or a user's tables in that schema).
When the shipped tables are missing (a partial checkout), :func:`default_targets` falls back to
:data:`PLACEHOLDER_TARGETS` for the missing parts and says so in ``source`` and with a warning.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from underwriting.datasets.loaders import load_exchanges, load_incidents
from underwriting.datasets.panel import build_exchange_panel
from underwriting.datasets.schema import REIMBURSED_VOCAB
from underwriting.domain.vocabulary import BREACH_EVENT_TYPES, DATA_CUTOFF
from underwriting.resources import dataset_path

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass(frozen=True)
class CalibrationTargets:
    """Figures of the real data that the synthetic generator reproduces.

    Attributes
    ----------
    annual_breach_rate : float
        Breaches (``event_type`` in ``breach_types``) per exchange-year of the roster: every
        roster exchange is followed from launch (or ``since``) to closure or the cut-off.
    n_breaches, exchange_years : int, float
        Numerator and denominator of that rate.
    log_loss_mean, log_loss_sd : float
        Mean and standard deviation (ddof=1) of ln(amount_usd) over breaches with a stated
        positive amount (nominal USD at the time).
    log_losses : tuple of float
        Those log losses, for two-sample tests.
    hot_share : float
        Share of ``hot`` among breaches whose custody tier is known (hot or cold).
    vendor_share : float
        Share of breaches whose vector is ``third_party_vendor``.
    reimbursed_shares : dict
        Shares of ``full``/``partial``/``none``/``unknown`` among breaches.
    source : str
        Where each figure came from (``"datasets/..."`` or ``"placeholder"``).
    """

    annual_breach_rate: float
    n_breaches: int
    exchange_years: float
    log_loss_mean: float
    log_loss_sd: float
    log_losses: tuple[float, ...]
    hot_share: float
    vendor_share: float
    reimbursed_shares: dict[str, float] = field(default_factory=dict)
    source: str = ""

    def as_dict(self) -> dict[str, object]:
        """Plain-data view (without the individual log losses)."""
        return {
            "annual_breach_rate": self.annual_breach_rate, "n_breaches": self.n_breaches,
            "exchange_years": self.exchange_years, "log_loss_mean": self.log_loss_mean,
            "log_loss_sd": self.log_loss_sd, "n_losses": len(self.log_losses), "hot_share": self.hot_share,
            "vendor_share": self.vendor_share, "reimbursed_shares": dict(self.reimbursed_shares),
            "source": self.source,
        }


#: Used only for the parts of the real data that are missing, with a warning. The figures are
#: those of ``shared/reference/cex_incidents_public.csv`` (90 positive amounts: log-mean 16.60,
#: log-sd 2.47) and a breach rate of the order reported by the exchange-survival literature
#: (Moore, Christin & Szurdi 2018: 25 of 80 exchanges breached over ~5 years).
PLACEHOLDER_TARGETS = CalibrationTargets(
    annual_breach_rate=0.06, n_breaches=0, exchange_years=0.0, log_loss_mean=16.60, log_loss_sd=2.47,
    log_losses=(), hot_share=0.9, vendor_share=0.08,
    reimbursed_shares={"full": 0.3, "partial": 0.1, "none": 0.05, "unknown": 0.55},
    source="placeholder",
)


def calibration_targets(
    incidents: str | os.PathLike[str] | pd.DataFrame | None = None,
    exchanges: str | os.PathLike[str] | pd.DataFrame | None = None,
    *,
    cutoff: str | dt.date = DATA_CUTOFF,
    breach_types: Sequence[str] = BREACH_EVENT_TYPES,
    since: str | dt.date | None = None,
) -> CalibrationTargets:
    """Compute the generator's calibration targets from the real tables.

    Parameters
    ----------
    incidents, exchanges : path-like or DataFrame, optional
        The shipped tables by default.
    cutoff : date
        Data cut-off (end of follow-up of open exchanges).
    breach_types : sequence of str
        Event types counted as breaches.
    since : date, optional
        Count exposure and breaches from this date only (e.g. ``"2016-01-01"``, when early
        coverage is thin). Default: from each exchange's launch.

    Raises
    ------
    InputError
        A table is missing or malformed.
    """
    import numpy as np
    import pandas as pd

    ex = exchanges if isinstance(exchanges, pd.DataFrame) else load_exchanges(exchanges)
    inc = incidents if isinstance(incidents, pd.DataFrame) else load_incidents(incidents, exchanges=ex)
    roster = pd.DataFrame({"exchange_id": ex["exchange_id"].astype(str), "launch_date": ex["launch_date"],
                           "closure_date": ex["closure_date"]})
    if since is not None:
        lau = roster["launch_date"]
        roster["entry_date"] = lau.where(lau.isna() | (lau >= pd.Timestamp(since)), pd.Timestamp(since))
    events = pd.DataFrame({"exchange_id": inc["exchange_id"].astype(str), "date": inc["incident_date"],
                           "amount_usd": inc["amount_usd"], "event_type": inc["event_type"].astype(str)})
    panel = build_exchange_panel(roster, events, freq="Y", cutoff=cutoff, breach_types=breach_types)
    years = float((panel["age_stop"] - panel["age_start"]).sum())
    n = int(panel["n_events"].sum())
    br = inc[inc["event_type"].astype(str).isin(list(breach_types))]
    if since is not None:
        br = br[br["incident_date"] >= pd.Timestamp(since)]
    br = br[br["incident_date"] <= pd.Timestamp(cutoff)]
    amt = br["amount_usd"].to_numpy(float)
    logs = np.log(amt[np.isfinite(amt) & (amt > 0)])
    tiers = br["custody_tier"].astype(str)
    known = tiers.isin(["hot", "cold"])
    hot_share = float((tiers[known] == "hot").mean()) if known.any() else PLACEHOLDER_TARGETS.hot_share
    reimb = br["reimbursed"].astype(str).value_counts(normalize=True)
    return CalibrationTargets(
        annual_breach_rate=n / years if years > 0 else math.nan,
        n_breaches=n,
        exchange_years=years,
        log_loss_mean=float(logs.mean()) if len(logs) else math.nan,
        log_loss_sd=float(logs.std(ddof=1)) if len(logs) > 1 else math.nan,
        log_losses=tuple(float(x) for x in logs),
        hot_share=hot_share,
        vendor_share=float((br["vector"].astype(str) == "third_party_vendor").mean()) if len(br) else math.nan,
        reimbursed_shares={k: float(reimb.get(k, 0.0)) for k in REIMBURSED_VOCAB},
        source="datasets/incidents.csv + datasets/exchanges.csv" if incidents is None and exchanges is None
        else "user tables",
    )


def default_targets() -> CalibrationTargets:
    """Targets from the shipped tables; placeholders (with a warning) for whatever is missing."""

    try:
        inc_p, ex_p = dataset_path("incidents.csv"), dataset_path("exchanges.csv")
    except FileNotFoundError:
        inc_p = ex_p = None
    if inc_p is not None and inc_p.exists() and ex_p.exists():
        return calibration_targets()
    if inc_p is not None and inc_p.exists():
        # losses, tiers and shares from the real incidents; the rate needs the roster
        import pandas as pd

        inc = load_incidents(exchanges=None)
        span = pd.DataFrame({"exchange_id": sorted(set(inc["exchange_id"]))})
        span["launch_date"] = pd.Timestamp("2010-01-01")
        span["closure_date"] = pd.NaT
        part = calibration_targets(inc, span)
        warnings.warn("datasets/exchanges.csv is missing: the breach rate calibration target is a placeholder "
                      f"({PLACEHOLDER_TARGETS.annual_breach_rate}/exchange-year)", stacklevel=2)
        return replace(part, annual_breach_rate=PLACEHOLDER_TARGETS.annual_breach_rate, n_breaches=0,
                       exchange_years=0.0, source="datasets/incidents.csv (losses, shares); placeholder (rate)")
    warnings.warn("datasets/incidents.csv and exchanges.csv are missing: calibration targets are placeholders",
                  stacklevel=2)
    return PLACEHOLDER_TARGETS
