"""Cohort panel and submission covariates of the base frequency model.

:func:`cohort_panel` cuts the pooled exchange cohorts into exchange x calendar-piece rows for
:meth:`underwriting.frequency.base_model.BaseFrequencyModel.fit`;
:func:`covariates_from_submission` turns a submission into one row of raw covariates for its
``predict``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from underwriting.datasets.cohorts import (
    SNAPSHOTS,
    cohort_followup,
    load_cohort_exits,
    load_cohorts,
)
from underwriting.datasets.loaders import load_exchanges, load_incidents
from underwriting.domain.currency import FxTable
from underwriting.domain.vocabulary import BREACH_EVENT_TYPES, DATA_CUTOFF, DAYS_PER_YEAR
from underwriting.errors import InputError
from underwriting.frequency.base_design import _is_missing

#: How follow-up ends (:func:`cohort_panel`): ``evidence`` (the model's rule), ``last_seen``, ``none``.
EXIT_RULES: tuple[str, ...] = ("evidence", "last_seen", "none")

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


# --------------------------------------------------------------------------- cohort panel


def _decimal_year(ts: pd.Timestamp) -> float:
    start = dt.date(ts.year, 1, 1)
    days = (dt.date(ts.year + 1, 1, 1) - start).days
    return ts.year + (ts.date() - start).days / days


def cohort_panel(*, end: str | dt.date = DATA_CUTOFF, snapshots: tuple[str, ...] = ("coinpaprika", "cryptocompare"),
                 attrition_censor: bool = False, cohorts: pd.DataFrame | None = None,
                 exchanges: pd.DataFrame | None = None, incidents: pd.DataFrame | None = None,
                 breach_types: tuple[str, ...] = BREACH_EVENT_TYPES, exit_rule: str = "evidence",
                 cohort_exits: pd.DataFrame | None = None) -> pd.DataFrame:
    """Exchange x calendar-piece rows of the pooled cohorts, ready for :meth:`BaseFrequencyModel.fit`.

    Exit (``exit_rule``, see :data:`EXIT_RULES`): ``"evidence"`` (the model's rule) ends an exchange's
    follow-up at its sourced closure, or halfway between its last sighting and the first comprehensive
    list that omits it (``omitted``); an exchange seen on the latest comprehensive list
    (``seen_latest``: CryptoCompare 2021-12-14, CoinGecko 2022-01-28) stays at risk to ``end``, because the 2026
    lists are partial (they miss exchanges such as OKX, Bitfinex, bitFlyer and Gemini that
    certainly operated in 2025), so absence from it is not evidence of exit. ``"last_seen"``
    censors every exchange at its last sighting (the exit table's default; biased low where later
    lists are partial: breaches after the last sighting are lost). ``"none"`` ignores the exit table
    (roster closures only, the follow-up of frequency 0.1.0).

    An exchange enters at the first listed snapshot where it is active and centralised and is
    followed to closure (roster) or ``end``. Pieces are calendar years, split at 2020-12-10 where
    the covariates of an exchange listed by CryptoCompare are refreshed (volume rank, country,
    grade); before that, and for exchanges CryptoCompare does not list, the CoinPaprika values
    hold (no grade). ``attrition_censor=True`` ends the follow-up of CoinPaprika exchanges not
    listed as active by CryptoCompare at 2020-12-10 (a sensitivity analysis: they may have
    closed unrecorded). ``cohort_exits``: the exit table (``datasets/cohort_exits.md``; the shipped
    one if omitted), read as ``exit_rule`` says.

    Returns
    -------
    pandas.DataFrame
        ``exchange_id``, ``snapshot`` (whose covariates), ``start``, ``stop``, ``year`` (piece
        midpoint, decimal), ``year_end`` (piece end, decimal), ``calendar_year``,
        ``exposure_years``, ``breaches``, ``volume_24h_usd``, ``volume_pct`` (within-snapshot
        mid-rank of log1p volume), ``age_years`` (NaN: launch unknown), ``country``,
        ``security_points`` (NaN: ungraded).
    """
    import pandas as pd

    coh = load_cohorts() if cohorts is None else cohorts
    ex = load_exchanges() if exchanges is None else exchanges
    inc = load_incidents() if incidents is None else incidents
    if exit_rule not in EXIT_RULES:
        raise InputError(f"unknown exit_rule {exit_rule!r}; choose from {', '.join(EXIT_RULES)}", field="exit_rule")
    xt = None
    if exit_rule == "evidence":

        xt = (load_cohort_exits() if cohort_exits is None else cohort_exits).copy()
        kind = xt["exit_kind"].astype(str)
        # seen on the latest comprehensive list: no evidence of exit before the cut-off
        xt["exit_kind"] = kind.where(kind != "seen_latest", "alive_at_cutoff")
    elif exit_rule == "last_seen":
        xt = cohort_exits
    fu = {s: cohort_followup(s, end=end, cohorts=coh, exchanges=ex, incidents=inc, breach_types=breach_types,
                             exits=exit_rule != "none", cohort_exits=xt,
                             omitted_rule="midpoint" if exit_rule == "evidence" else "last_seen")
          for s in snapshots}
    for f in fu.values():
        r = np.log1p(f["volume_24h_usd"].to_numpy(dtype=float))
        f["volume_pct"] = (pd.Series(r).rank(method="average").to_numpy() - 0.5) / len(r)
    # country at fit time: CryptoCompare's (any listing, active or not), never the roster's, which
    # was built from incidents
    cc_all = coh[coh["snapshot"].astype(str) == "cryptocompare"]
    cc_country = {e: c for e, c in zip(cc_all["exchange_id"], cc_all["country"], strict=True)
                  if isinstance(c, str) and c}
    for f in fu.values():
        f["country"] = f["exchange_id"].map(cc_country)
    cp = fu.get("coinpaprika")
    cc = fu.get("cryptocompare")
    cc_by = cc.set_index("exchange_id") if cc is not None else None
    refresh = pd.Timestamp(SNAPSHOTS["cryptocompare"])
    end_ts = pd.Timestamp(end)
    rows = []

    def emit(rec: Any, s: str, a: pd.Timestamp, b: pd.Timestamp, breaches: list) -> None:
        # split [a, b) at calendar years
        cuts = [a] + [pd.Timestamp(y, 1, 1) for y in range(a.year + 1, b.year + 1)] + [b]
        for u, v in zip(cuts[:-1], cuts[1:], strict=True):
            if v <= u:
                continue
            launch = rec["launch_date"]
            age = np.nan if pd.isna(launch) else max(0.0, (u - launch).days / DAYS_PER_YEAR)
            sec = rec["security_points"] if s == "cryptocompare" and pd.notna(rec.get("grade")) else np.nan
            rows.append({
                "exchange_id": rec["exchange_id"], "snapshot": s, "start": u, "stop": v,
                "year": _decimal_year(u + (v - u) / 2), "year_end": _decimal_year(v), "calendar_year": u.year,
                "exposure_years": (v - u).days / DAYS_PER_YEAR,
                "breaches": sum(1 for d in breaches if u < d <= v),
                "volume_24h_usd": rec["volume_24h_usd"], "volume_pct": rec["volume_pct"], "age_years": age,
                "country": rec["country"] if isinstance(rec["country"], str) and rec["country"] else None,
                "security_points": float(sec) if pd.notna(sec) else np.nan,
            })

    seen = set()
    if cp is not None:
        for _, rec in cp.iterrows():
            seen.add(rec["exchange_id"])
            stop = rec["stop"]
            in_cc = cc_by is not None and rec["exchange_id"] in cc_by.index
            if in_cc and stop > refresh:
                emit(rec, "coinpaprika", rec["start"], refresh, rec["breach_dates"])
                r2 = cc_by.loc[rec["exchange_id"]]
                r2 = r2.copy()
                r2["exchange_id"] = rec["exchange_id"]
                emit(r2, "cryptocompare", refresh, stop, rec["breach_dates"])
            elif attrition_censor and cc is not None and stop > refresh:
                emit(rec, "coinpaprika", rec["start"], refresh, rec["breach_dates"])
            else:
                emit(rec, "coinpaprika", rec["start"], min(stop, end_ts), rec["breach_dates"])
    if cc is not None:
        for _, rec in cc.iterrows():
            if rec["exchange_id"] in seen:
                continue
            emit(rec, "cryptocompare", rec["start"], rec["stop"], rec["breach_dates"])
    out = pd.DataFrame(rows)
    return out[out["exposure_years"] > 0].reset_index(drop=True)


# --------------------------------------------------------------------------- submissions


def covariates_from_submission(sub: Any, *, fx: Any | None = None) -> pd.DataFrame:
    """One row of raw covariates for :meth:`BaseFrequencyModel.predict` from a submission.

    * ``volume_24h_usd``: ``exposure.trading_volume_12m`` converted to USD at the as-of year's
      average rate (the bundled FX table unless ``fx`` is given), divided by 365 (a 12-month
      total as a daily figure, the scale of the aggregator lists);
    * ``age_years``: years from ``exchange.launch_date`` to ``as_of``;
    * ``country``: ``exchange.jurisdiction``;
    * ``security_points``: NaN (a submission has no CryptoCompare grade: the ungraded level);
    * ``year``: ``as_of`` as a decimal year.

    A field that is missing from ``sub`` becomes NaN/None (documented missing), never zero.
    The values are those of :func:`submission_covariates`.
    """
    import pandas as pd

    return pd.DataFrame([submission_covariates(sub, fx=fx)])


def submission_covariates(sub: Any, *, fx: Any | None = None) -> dict[str, Any]:
    """The row of :func:`covariates_from_submission` as a plain mapping (column to value: floats,
    NaN for unknown, ``country`` a string or None), without building a frame."""
    import pandas as pd

    def get(obj: Any, *path: str) -> Any:
        for p in path:
            if obj is None:
                return None
            obj = obj.get(p) if isinstance(obj, dict) else getattr(obj, p, None)
        return obj

    as_of = get(sub, "as_of")
    as_of_ts = pd.Timestamp(as_of) if as_of is not None else None
    vol12 = get(sub, "exposure", "trading_volume_12m")
    cur = get(sub, "exposure", "currency")
    vol = np.nan
    if vol12 is not None and not _is_missing(vol12):
        v = float(vol12)
        if cur and str(cur).upper() != "USD":
            if fx is None:

                fx = FxTable.bundled()
            year = as_of_ts.year if as_of_ts is not None else DATA_CUTOFF.year
            v = fx.convert(v, str(cur).upper(), "USD", year)
        vol = v / 365.0
    launch = get(sub, "exchange", "launch_date")
    age = np.nan
    if launch is not None and as_of_ts is not None:
        age = max(0.0, (as_of_ts - pd.Timestamp(launch)).days / DAYS_PER_YEAR)
    country = get(sub, "exchange", "jurisdiction")
    return {
        "volume_24h_usd": vol, "age_years": age, "country": country if not _is_missing(country) else None,
        "security_points": np.nan,
        "year": _decimal_year(as_of_ts) if as_of_ts is not None else np.nan,
    }
