"""Exchange cohorts from two dated aggregator lists, and the alias table that keys them to the roster.

* :func:`load_cohorts` - ``datasets/cohorts.csv``: one row per exchange per snapshot
  (CoinPaprika 2019-09-07, CryptoCompare 2020-12-10) with country, 24-hour volume in USD, activity,
  CryptoCompare grade and grade points;
* :func:`load_aliases` - ``datasets/exchange_aliases.csv``: every aggregator name and the
  ``exchange_id`` it was keyed to, with the kind of match and, for reviewed matches, the reason;
* :func:`cohort_followup` - the at-risk cohort of one snapshot with its follow-up (snapshot date
  to closure where the roster has one, else the data cut-off) and its breach dates.

Cells are checked like the other curated tables: the first problem raises
:class:`~underwriting.datasets.loaders.DatasetError` naming the file, the line and the column.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING

from underwriting.datasets.loaders import (
    DatasetError,
    _frame,
    _parse_table,
    _read_raw,
    _resolve,
    _unique,
)
from underwriting.datasets.schema import Column
from underwriting.domain.vocabulary import BREACH_EVENT_TYPES, DATA_CUTOFF

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Aggregator snapshots in ``cohorts.csv`` and their dates.
SNAPSHOTS: dict[str, dt.date] = {"coinpaprika": dt.date(2019, 9, 7), "cryptocompare": dt.date(2020, 12, 10)}
#: CryptoCompare exchange grades, best first.
GRADES: tuple[str, ...] = ("AA", "A", "BB", "B", "C", "D", "E")
YES_NO: tuple[str, ...] = ("yes", "no")
#: How an alias was keyed to an ``exchange_id``.
MATCH_VOCAB: tuple[str, ...] = ("roster_name", "reviewed", "kept_apart", "coinpaprika_name", "new_id")

COHORT_SCHEMA: tuple[Column, ...] = (
    Column("snapshot", "vocab", True, tuple(SNAPSHOTS), "Aggregator list the row comes from."),
    Column("snapshot_date", "date", True, description="Date of the list (start of follow-up)."),
    Column("exchange_id", "id", True, description="Stable id; the roster's id where the exchange is on it."),
    Column("name", "text", True, description="Name as the aggregator lists it."),
    Column("source_key", "text", True, description="The aggregator's own id of the listing."),
    Column("country", "country", description="ISO 3166-1 alpha-2 (CryptoCompare country, else the roster's)."),
    Column("volume_24h_usd", "amount", True, description="Reported 24-hour volume, USD (CryptoCompare: BTC x BTC/USD)."),
    Column("volume_24h_btc", "amount", description="CryptoCompare's 24-hour volume in BTC (blank for CoinPaprika)."),
    Column("centralized", "vocab", True, YES_NO, "Centralised exchange (CryptoCompare type; reviewed list for CoinPaprika)."),
    Column("active", "vocab", True, YES_NO, "CoinPaprika 'active'; CryptoCompare: volume above zero."),
    Column("grade", "vocab", False, GRADES, "CryptoCompare grade (blank: ungraded)."),
    Column("grade_points", "amount", description="CryptoCompare total grade points."),
    Column("security_points", "amount", description="CryptoCompare Security points."),
    Column("legal_points", "amount", description="CryptoCompare Legal points."),
    Column("kyc_points", "amount", description="CryptoCompare KYCAndTransactionRisk points."),
    Column("team_points", "amount", description="CryptoCompare Team points."),
    Column("source_url", "url", True, description="The aggregator file at its repository commit."),
)

ALIAS_SCHEMA: tuple[Column, ...] = (
    Column("alias", "text", True, description="Name or id as a source spells it."),
    Column("source", "vocab", True, tuple(SNAPSHOTS), "Where the alias appears."),
    Column("exchange_id", "id", True),
    Column("match", "vocab", True, MATCH_VOCAB, "How the alias was keyed."),
    Column("reason", "text", True, description="Why (required; the reason of a reviewed match)."),
)


def load_cohorts(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load the cohort table (``datasets/cohorts.csv`` by default), checked and typed.

    Parameters
    ----------
    path : path-like, optional
        A CSV or Parquet file in :data:`COHORT_SCHEMA`; the shipped table if omitted.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`COHORT_SCHEMA`; ``snapshot_date`` ``datetime64[ns]``; volumes in USD
        (``volume_24h_usd``) and BTC as float; grade points as float (NaN = ungraded);
        vocabulary columns categorical.

    Raises
    ------
    DatasetError
        With line and column: bad vocabulary, date, number or URL; a ``snapshot_date`` that is
        not the snapshot's date; a duplicate (snapshot, exchange_id); grade points on an
        ungraded row.
    """
    p = _resolve(path, "cohorts.csv")
    raw = _read_raw(p)
    parsed = _parse_table(raw, COHORT_SCHEMA)
    _unique(parsed, raw, ("snapshot", "exchange_id"), "exchange in one snapshot")
    for i, line in enumerate(parsed["_line"]):
        snap, d = parsed["snapshot"][i], parsed["snapshot_date"][i]
        if d != SNAPSHOTS[snap]:
            raise raw.error(f"{snap} rows are dated {SNAPSHOTS[snap]}, not {d}", line, "snapshot_date")
        if parsed["grade"][i] is None:
            for c in ("grade_points", "security_points", "legal_points", "kyc_points", "team_points"):
                if parsed[c][i] is not None:
                    raise raw.error("grade points are given but grade is blank", line, c)
    return _frame(parsed, raw, COHORT_SCHEMA)


def load_aliases(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load the alias table (``datasets/exchange_aliases.csv`` by default), checked and typed.

    Returns the columns of :data:`ALIAS_SCHEMA`. Raises :class:`DatasetError` naming line and
    column for a blank reason, an unknown ``match`` or a duplicate (alias, source).
    """
    p = _resolve(path, "exchange_aliases.csv")
    raw = _read_raw(p)
    parsed = _parse_table(raw, ALIAS_SCHEMA)
    _unique(parsed, raw, ("alias", "source"), "alias")
    return _frame(parsed, raw, ALIAS_SCHEMA)


def cohort_followup(snapshot: str = "cryptocompare", *, end: str | dt.date = DATA_CUTOFF,
                    cohorts: pd.DataFrame | None = None, exchanges: pd.DataFrame | None = None,
                    incidents: pd.DataFrame | None = None,
                    breach_types: tuple[str, ...] = BREACH_EVENT_TYPES) -> pd.DataFrame:
    """At-risk cohort of one snapshot with its follow-up and breach count.

    The cohort is the snapshot's active centralised exchanges. Follow-up runs from the snapshot
    date to the earlier of ``end`` and the roster's closure date (a closure known only to the
    month or year is taken at the end of that period); exchanges not on the roster are followed
    to ``end`` (their closures are unknown: see ``datasets/cohorts.md``).

    Parameters
    ----------
    snapshot : {"coinpaprika", "cryptocompare"}
    end : date or str
        End of follow-up (``2025-11-30``, the data cut-off, by default).
    cohorts, exchanges, incidents : DataFrame, optional
        Loaded tables; the shipped ones if omitted.
    breach_types : tuple of str
        Incident ``event_type`` values counted as breaches.

    Returns
    -------
    pandas.DataFrame
        One row per exchange: the cohort columns plus ``launch_date``, ``closure_date``,
        ``start``, ``stop`` (timestamps), ``exposure_years`` (days / 365.25), ``breaches`` (count in
        (start, stop]) and ``breach_dates`` (list of timestamps).
    """
    import pandas as pd

    from underwriting.datasets.loaders import load_exchanges, load_incidents
    from underwriting.domain.vocabulary import DAYS_PER_YEAR

    if snapshot not in SNAPSHOTS:
        raise DatasetError(f"unknown snapshot {snapshot!r}; choose from {', '.join(SNAPSHOTS)}", source=None)
    coh = load_cohorts() if cohorts is None else cohorts
    ex = load_exchanges() if exchanges is None else exchanges
    inc = load_incidents() if incidents is None else incidents
    end_ts = pd.Timestamp(end)
    c = coh[(coh["snapshot"].astype(str) == snapshot) & (coh["active"].astype(str) == "yes")
            & (coh["centralized"].astype(str) == "yes")].copy()
    life = ex.set_index("exchange_id")
    c["launch_date"] = c["exchange_id"].map(life["launch_date"])
    clo = c["exchange_id"].map(life["closure_date"])
    prec = c["exchange_id"].map(life["closure_date_precision"].astype(object))
    clo_end = [
        (x + pd.offsets.YearEnd(0)) if p == "year" else (x + pd.offsets.MonthEnd(0)) if p == "month" else x
        for x, p in zip(clo, prec, strict=True)
    ]
    c["closure_date"] = pd.to_datetime(pd.Series(clo_end, index=c.index, dtype="object"))
    c["start"] = pd.Timestamp(SNAPSHOTS[snapshot])
    c["stop"] = c["closure_date"].where(c["closure_date"].notna() & (c["closure_date"] < end_ts), end_ts)
    c = c[c["stop"] > c["start"]].copy()  # closed before the snapshot: not at risk
    c["exposure_years"] = (c["stop"] - c["start"]).dt.days / DAYS_PER_YEAR
    br = inc[inc["event_type"].astype(str).isin(breach_types)]
    dates = br.groupby("exchange_id")["incident_date"].apply(list).to_dict()
    c["breach_dates"] = [
        sorted(d for d in dates.get(e, []) if s < d <= t)
        for e, s, t in zip(c["exchange_id"], c["start"], c["stop"], strict=True)
    ]
    c["breaches"] = c["breach_dates"].map(len).astype("int64")
    return c.reset_index(drop=True)
