"""Exchange cohorts from two dated aggregator lists, and the alias table that keys them to the roster.

* :func:`load_cohorts` - ``datasets/cohorts.csv``: one row per exchange per snapshot
  (CoinPaprika 2019-09-07, CryptoCompare 2020-12-10) with country, 24-hour volume in USD, activity,
  CryptoCompare grade and grade points;
* :func:`load_aliases` - ``datasets/exchange_aliases.csv``: every aggregator name and the
  ``exchange_id`` it was keyed to, with the kind of match and, for reviewed matches, the reason;
* :func:`load_cohort_exits` - ``datasets/cohort_exits.csv``: for every cohort exchange the last
  date a dated list shows it active, its sourced closure and how its follow-up ends;
* :func:`cohort_followup` - the at-risk cohort of one snapshot with its follow-up (snapshot date
  to closure, or to the last date it was seen alive, or to the data cut-off when a source shows it
  alive then) and its breach dates.

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
    load_exchanges,
    load_incidents,
)
from underwriting.datasets.schema import Column
from underwriting.domain.vocabulary import BREACH_EVENT_TYPES, DATA_CUTOFF, DAYS_PER_YEAR

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Aggregator snapshots in ``cohorts.csv`` and their dates.
SNAPSHOTS: dict[str, dt.date] = {"coinpaprika": dt.date(2019, 9, 7), "cryptocompare": dt.date(2020, 12, 10)}
#: CryptoCompare exchange grades, best first.
GRADES: tuple[str, ...] = ("AA", "A", "BB", "B", "C", "D", "E")
YES_NO: tuple[str, ...] = ("yes", "no")
#: How an alias was keyed to an ``exchange_id``.
MATCH_VOCAB: tuple[str, ...] = ("roster_name", "reviewed", "kept_apart", "coinpaprika_name", "new_id")
#: Where an alias appears: a snapshot's aggregator, or a later dated list (``cohort_exits.md``).
ALIAS_SOURCES: tuple[str, ...] = (*SNAPSHOTS, "later_list")
#: How an exchange's follow-up ends (``cohort_exits.csv``), see :func:`cohort_followup`.
EXIT_KINDS: tuple[str, ...] = ("closed", "alive_at_cutoff", "omitted", "seen_latest", "no_later_evidence")
#: Where follow-up stops for an ``omitted`` exchange: at its last sighting (default) or halfway to
#: the first list that omits it.
OMITTED_RULES: tuple[str, ...] = ("last_seen", "midpoint")

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
    Column("source", "vocab", True, ALIAS_SOURCES, "Where the alias appears."),
    Column("exchange_id", "id", True),
    Column("match", "vocab", True, MATCH_VOCAB, "How the alias was keyed."),
    Column("reason", "text", True, description="Why (required; the reason of a reviewed match)."),
)

EXIT_SCHEMA: tuple[Column, ...] = (
    Column("exchange_id", "id", True, description="A cohort exchange (cohorts.csv)."),
    Column("last_seen_date", "date", True, description="Latest date a dated list shows it active."),
    Column("last_seen_url", "url", True, description="That list, at its repository commit."),
    Column("exit_date", "date", description="Sourced closure (end of the month/year when only that is known)."),
    Column("omitted_on", "date", description="First later comprehensive list omitting it (kind 'omitted')."),
    Column("exit_kind", "vocab", True, EXIT_KINDS, "How follow-up ends."),
    Column("source_url", "url", True, description="Source of the fact that ends follow-up."),
    Column("note", "text", description="Free text."),
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


def load_cohort_exits(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load the exit table (``datasets/cohort_exits.csv`` by default), checked and typed.

    Parameters
    ----------
    path : path-like, optional
        A CSV or Parquet file in :data:`EXIT_SCHEMA`; the shipped table if omitted.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`EXIT_SCHEMA`, dates as ``datetime64[ns]`` (NaT when blank).

    Raises
    ------
    DatasetError
        With line and column: a duplicate ``exchange_id``; ``exit_date`` blank for (or given
        without) ``closed``; ``omitted_on`` blank for (or given without) ``omitted`` or not after
        ``last_seen_date``; ``alive_at_cutoff`` last seen before the data cut-off, or another kind
        last seen on or after it; a sighting after the exit; a list date (``last_seen_date``,
        ``omitted_on``) in 2023 (lists dated 2023 are reserved for an independent validation).
    """
    p = _resolve(path, "cohort_exits.csv")
    raw = _read_raw(p)
    parsed = _parse_table(raw, EXIT_SCHEMA)
    _unique(parsed, raw, ("exchange_id",), "exchange")
    cutoff = DATA_CUTOFF if isinstance(DATA_CUTOFF, dt.date) else dt.date.fromisoformat(str(DATA_CUTOFF))
    for i, line in enumerate(parsed["_line"]):
        kind, seen = parsed["exit_kind"][i], parsed["last_seen_date"][i]
        ex, om = parsed["exit_date"][i], parsed["omitted_on"][i]
        for col, d in (("last_seen_date", seen), ("omitted_on", om)):  # list dates (closures may be 2023)
            if d is not None and d.year == 2023:
                raise raw.error("dated 2023: lists of 2023 are reserved for validation", line, col)
        if (kind == "closed") != (ex is not None):
            raise raw.error("exit_date is given exactly when exit_kind is 'closed'", line, "exit_date")
        if (kind == "omitted") != (om is not None):
            raise raw.error("omitted_on is given exactly when exit_kind is 'omitted'", line, "omitted_on")
        if om is not None and om <= seen:
            raise raw.error(f"omitted on {om}, not after last seen {seen}", line, "omitted_on")
        if ex is not None and ex < seen:
            raise raw.error(f"closed on {ex} but seen active on {seen}", line, "exit_date")
        if (kind == "alive_at_cutoff") != (seen >= cutoff):
            raise raw.error(f"last seen {seen}: 'alive_at_cutoff' means seen on or after {cutoff}",
                            line, "exit_kind")
    return _frame(parsed, raw, EXIT_SCHEMA)


def exit_censor_dates(exits: pd.DataFrame, omitted_rule: str = "last_seen") -> pd.Series:
    """Date at which each exchange's follow-up ends because of its exit evidence.

    ``closed``: the sourced closure; ``alive_at_cutoff``: NaT (no censoring before the cut-off);
    ``omitted``: the last sighting (``omitted_rule="last_seen"``) or halfway between it and the
    first list that omits it (``"midpoint"``); ``seen_latest`` and ``no_later_evidence``: the last
    sighting (for ``no_later_evidence`` the snapshot date itself: no exposure).

    Parameters
    ----------
    exits : DataFrame
        :func:`load_cohort_exits` output.
    omitted_rule : {"last_seen", "midpoint"}

    Returns
    -------
    pandas.Series
        Timestamps indexed by ``exchange_id`` (NaT: not censored).
    """
    import pandas as pd

    if omitted_rule not in OMITTED_RULES:
        raise DatasetError(f"unknown omitted_rule {omitted_rule!r}; choose from {', '.join(OMITTED_RULES)}",
                           source=None)
    kind = exits["exit_kind"].astype(str)
    seen = pd.to_datetime(exits["last_seen_date"])
    out = seen.where(kind != "alive_at_cutoff")
    out = out.where(kind != "closed", pd.to_datetime(exits["exit_date"]))
    if omitted_rule == "midpoint":
        om = pd.to_datetime(exits["omitted_on"])
        out = out.where(kind != "omitted", (seen + (om - seen) / 2).dt.normalize())
    return pd.Series(out.to_numpy(), index=exits["exchange_id"].astype(str).to_numpy(), name="censor_date")


def cohort_followup(snapshot: str = "cryptocompare", *, end: str | dt.date = DATA_CUTOFF,
                    cohorts: pd.DataFrame | None = None, exchanges: pd.DataFrame | None = None,
                    incidents: pd.DataFrame | None = None,
                    breach_types: tuple[str, ...] = BREACH_EVENT_TYPES, exits: bool = True,
                    cohort_exits: pd.DataFrame | None = None, omitted_rule: str = "last_seen") -> pd.DataFrame:
    """At-risk cohort of one snapshot with its follow-up and breach count.

    The cohort is the snapshot's active centralised exchanges. Follow-up runs from the snapshot
    date to the earliest of ``end``, the roster's closure date (a closure known only to the month
    or year is taken at the end of that period) and, with ``exits`` (the default), the exchange's
    exit censoring date from ``cohort_exits.csv`` (:func:`exit_censor_dates`): an exchange stays at
    risk to the cut-off only when a dated source shows it alive then; otherwise it leaves at its
    sourced closure or at the last date a list shows it active. An exchange censored at its own
    snapshot date (no later evidence) is kept with zero exposure, so that within-snapshot volume
    ranks do not depend on exits. Exchanges missing from the exit table (a user's own cohort) are
    followed to ``end`` and marked ``exit_kind`` = ``"not_in_exit_table"``. Breaches after
    ``stop`` are not counted.

    Parameters
    ----------
    snapshot : {"coinpaprika", "cryptocompare"}
    end : date or str
        End of follow-up (``2025-11-30``, the data cut-off, by default).
    cohorts, exchanges, incidents : DataFrame, optional
        Loaded tables; the shipped ones if omitted.
    breach_types : tuple of str
        Incident ``event_type`` values counted as breaches.
    exits : bool, default True
        Censor at exit or last-seen date; ``False`` gives the follow-up to ``end`` (roster
        closures only) of earlier versions.
    cohort_exits : DataFrame, optional
        :func:`load_cohort_exits` output; the shipped table if omitted.
    omitted_rule : {"last_seen", "midpoint"}
        See :func:`exit_censor_dates`.

    Returns
    -------
    pandas.DataFrame
        One row per exchange: the cohort columns plus ``launch_date``, ``closure_date``,
        ``start``, ``stop`` (timestamps), ``exposure_years`` (days / 365.25, zero for an exchange
        with no evidence after its snapshot), ``breaches`` (count in (start, stop]) and
        ``breach_dates`` (list of timestamps); with ``exits`` also ``exit_kind``,
        ``last_seen_date`` and ``censor_date`` (NaT: not censored), and ``breaches_after_stop``
        (breaches in (stop, end] that exits cut off: evidence that a last-seen date is too early).
    """
    import pandas as pd

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
    br = inc[inc["event_type"].astype(str).isin(breach_types)]
    dates = br.groupby("exchange_id")["incident_date"].apply(list).to_dict()
    if exits:
        xt = load_cohort_exits() if cohort_exits is None else cohort_exits
        cens = exit_censor_dates(xt, omitted_rule)
        by = xt.assign(exchange_id=xt["exchange_id"].astype(str)).set_index("exchange_id")
        eid = c["exchange_id"].astype(str)
        c["exit_kind"] = eid.map(by["exit_kind"].astype(str)).fillna("not_in_exit_table")
        c["last_seen_date"] = pd.to_datetime(eid.map(by["last_seen_date"]))
        c["censor_date"] = pd.to_datetime(eid.map(cens))
        cut = c["censor_date"].notna() & (c["censor_date"] < c["stop"])
        c["stop"] = c["stop"].where(~cut, c["censor_date"].clip(lower=c["start"]))
        c["breaches_after_stop"] = [
            sum(1 for d in dates.get(e, []) if t < d <= end_ts)
            for e, t in zip(c["exchange_id"], c["stop"], strict=True)
        ]
    c["exposure_years"] = (c["stop"] - c["start"]).dt.days / DAYS_PER_YEAR
    c["breach_dates"] = [
        sorted(d for d in dates.get(e, []) if s < d <= t)
        for e, s, t in zip(c["exchange_id"], c["start"], c["stop"], strict=True)
    ]
    c["breaches"] = c["breach_dates"].map(len).astype("int64")
    return c.reset_index(drop=True)


def exit_exposure_table(*, omitted_rule: str = "last_seen", **tables: pd.DataFrame) -> pd.DataFrame:
    """Exposure and breaches with and without exit censoring, by snapshot and volume third.

    Volume thirds are taken within each snapshot's at-risk cohort on the mid-rank of the 24-hour
    volume (``low``: rank percentile below 1/3, ``mid``, ``high``: 2/3 and above), the ranks the
    base frequency model uses.

    Parameters
    ----------
    omitted_rule : {"last_seen", "midpoint"}
        See :func:`exit_censor_dates`.
    **tables : DataFrame
        ``cohorts``, ``exchanges``, ``incidents``, ``cohort_exits`` passed to :func:`cohort_followup`.

    Returns
    -------
    pandas.DataFrame
        One row per (``snapshot``, ``third``) plus an ``all`` row per snapshot: ``exchanges``,
        ``exposure_years_before`` and ``exposure_years_after`` (years), ``removed_pct`` (percent
        of exposure removed), ``breaches_before``, ``breaches_after``, ``breaches_after_stop``
        (breaches that fall after an exchange's censoring date) and ``zero_exposure`` (exchanges
        left with no exposure).
    """
    import pandas as pd

    rows = []
    for snap in SNAPSHOTS:
        before = cohort_followup(snap, exits=False, **{k: v for k, v in tables.items() if k != "cohort_exits"})
        after = cohort_followup(snap, exits=True, omitted_rule=omitted_rule, **tables)
        pct = (before["volume_24h_usd"].rank(method="average") - 0.5) / len(before)
        third = pd.cut(pct, [0, 1 / 3, 2 / 3, 1], labels=["low", "mid", "high"], right=False)
        b = before.assign(third=third.astype(str).to_numpy())
        a = after.set_index("exchange_id").loc[b["exchange_id"]].reset_index()
        a["third"] = b["third"].to_numpy()
        for lab in ("low", "mid", "high", "all"):
            sb, sa = (b, a) if lab == "all" else (b[b["third"] == lab], a[a["third"] == lab])
            eb, ea = float(sb["exposure_years"].sum()), float(sa["exposure_years"].sum())
            rows.append({
                "snapshot": snap, "third": lab, "exchanges": len(sb),
                "exposure_years_before": eb, "exposure_years_after": ea,
                "removed_pct": 100.0 * (eb - ea) / eb if eb > 0 else 0.0,
                "breaches_before": int(sb["breaches"].sum()), "breaches_after": int(sa["breaches"].sum()),
                "breaches_after_stop": int(sa["breaches_after_stop"].sum()),
                "zero_exposure": int((sa["exposure_years"] <= 0).sum()),
            })
    return pd.DataFrame(rows)
