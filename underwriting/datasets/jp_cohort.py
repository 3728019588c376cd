"""Japan's registered and deemed crypto-asset exchange operators, as an at-risk cohort.

* :func:`load_jp_exchanges` - ``datasets/jp_exchanges.csv``: one row per legal entity that held an
  FSA registration as a crypto-asset exchange service provider (暗号資産交換業者) or operated as a
  deemed operator (みなし業者) after the register opened, with entry, exit and last-seen dates and a
  source URL for each;
* :func:`jp_followup` - the same operators with their follow-up from ``max(entry, 2018-01-01)``
  to the end of exposure, and the breaches (``hack`` or ``insider`` in ``incidents.csv``) inside it.

End of exposure, in this order:

1. a known exit (deregistration, business abolition or transfer, merger, withdrawal or refusal of a
   deemed operator's application, end of customer service) ends it; an exit known only to the month
   or year ends it on the last day of that period;
2. without an exit date, the last date a source shows the operator registered or operating
   (``last_seen_date``) ends it: an operator whose exit is unknown is censored there, never
   followed to the cut-off on faith;
3. the data cut-off (``DATA_CUTOFF``, 2025-11-30) caps every follow-up.

Cells are checked like the other curated tables: the first problem raises
:class:`~underwriting.datasets.loaders.DatasetError` naming the file, the line and the column.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING

from underwriting.datasets.loaders import DatasetError, _resolve, load_incidents
from underwriting.datasets.schema import PRECISION_VOCAB, Column
from underwriting.datasets.tables import _end_of, _frame, _parse_table, _read_raw, _unique
from underwriting.domain.vocabulary import BREACH_EVENT_TYPES, DATA_CUTOFF, DAYS_PER_YEAR

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Start of the Japanese follow-up window.
JP_FOLLOWUP_START: dt.date = dt.date(2018, 1, 1)
#: How an operator came under the register.
ENTRY_KIND_VOCAB: tuple[str, ...] = ("registered", "deemed")
#: How an operator left it (or stopped serving customers).
EXIT_KIND_VOCAB: tuple[str, ...] = (
    "deregistration", "business_abolition", "business_transfer", "merger", "withdrawal",
    "registration_refused", "service_ended",
)
YES_NO: tuple[str, ...] = ("yes", "no")

JP_SCHEMA: tuple[Column, ...] = (
    Column("operator_id", "id", True, description="Unique slug of the legal entity."),
    Column("exchange_id", "id", True, description="The roster's id (exchanges.csv) where the exchange is on it, else a "
           "slug; breaches in incidents.csv are matched on it."),
    Column("legal_name_en", "text", True, description="Legal name in English (later names in brackets)."),
    Column("legal_name_ja", "text", True, description="Legal name in Japanese, as on the FSA register."),
    Column("brand", "text", True, description="Exchange or service name(s)."),
    Column("entry_kind", "vocab", True, ENTRY_KIND_VOCAB, "Registered, or deemed operator (operating when the Act "
           "took effect, application pending)."),
    Column("fsa_number", "text", description="Local Finance Bureau and register number, e.g. 'Kanto 00003'."),
    Column("entry_date", "date", True, description="Registration date, or 2017-04-01 (the Act's entry into force) "
           "for a deemed operator."),
    Column("entry_source_url", "url", True, description="Source stating the entry."),
    Column("registration_date", "date", description="Registration date (a deemed operator's later registration)."),
    Column("registration_source_url", "url", description="Source stating the registration date."),
    Column("exit_date", "partial_date", description="Date exposure ends (blank: none known)."),
    Column("exit_date_precision", "vocab", False, PRECISION_VOCAB, "Required when exit_date is given."),
    Column("exit_kind", "vocab", False, EXIT_KIND_VOCAB, "Kind of exit; may be given without a date (then the row "
           "is censored at last_seen_date)."),
    Column("exit_source_url", "url", description="Source stating the exit."),
    Column("last_seen_date", "date", True, description="Last date a source shows the operator registered or "
           "operating; censors the row when no exit date is known."),
    Column("last_seen_source_url", "url", True, description="Source of last_seen_date."),
    Column("offers_exchange", "vocab", True, YES_NO, "Offers exchange of crypto-assets to customers (no: custody, "
           "institutional settlement or ATMs only)."),
    Column("notes", "text"),
)


def load_jp_exchanges(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load the Japanese operator table (``datasets/jp_exchanges.csv`` by default), checked and typed.

    Parameters
    ----------
    path : path-like, optional
        A CSV or Parquet file in :data:`JP_SCHEMA`; the shipped table if omitted.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`JP_SCHEMA`; dates ``datetime64[ns]`` (a month-precision exit is stored as
        the month's first day, see ``exit_date_precision``); vocabulary columns categorical.

    Raises
    ------
    DatasetError
        With line and column: a bad date, vocabulary or URL; a duplicate ``operator_id``; an exit
        before entry; an exit date without precision or source; a deemed operator without a
        registration source; a ``last_seen_date`` before entry.
    """
    p = _resolve(path, "jp_exchanges.csv")
    raw = _read_raw(p)
    parsed = _parse_table(raw, JP_SCHEMA)
    _unique(parsed, raw, ("operator_id",), "operator_id")
    for i, line in enumerate(parsed["_line"]):
        entry, ex, prec = parsed["entry_date"][i], parsed["exit_date"][i], parsed["exit_date_precision"][i]
        given = parsed["_exit_date_given"][i]
        if ex is None:
            for c in ("exit_date_precision", "exit_source_url"):
                if parsed[c][i] is not None:
                    raise raw.error(f"{c} is set but exit_date is blank", line, c)
        else:
            if prec is None:
                raise raw.error("required when exit_date is given", line, "exit_date_precision")
            if given != prec:
                raise raw.error(f"exit_date is given to the {given} but exit_date_precision says {prec!r}",
                                line, "exit_date_precision")
            if parsed["exit_kind"][i] is None:
                raise raw.error("required when exit_date is given", line, "exit_kind")
            if parsed["exit_source_url"][i] is None:
                raise raw.error("required when exit_date is given", line, "exit_source_url")
            if _end_of(ex, prec) < entry:
                raise raw.error(f"exit {ex} is before entry {entry}", line, "exit_date")
        if parsed["last_seen_date"][i] < entry:
            raise raw.error(f"last_seen_date {parsed['last_seen_date'][i]} is before entry {entry}", line, "last_seen_date")
        reg = parsed["registration_date"][i]
        if (reg is None) != (parsed["registration_source_url"][i] is None):
            raise raw.error("registration_date and registration_source_url go together", line, "registration_source_url")
        if reg is not None and reg < entry:
            raise raw.error(f"registration_date {reg} is before entry {entry}", line, "registration_date")
    return _frame(parsed, raw, JP_SCHEMA)


def jp_followup(*, start: str | dt.date = JP_FOLLOWUP_START, end: str | dt.date = DATA_CUTOFF,
                operators: pd.DataFrame | None = None, incidents: pd.DataFrame | None = None,
                breach_types: tuple[str, ...] = BREACH_EVENT_TYPES, exchange_only: bool = False) -> pd.DataFrame:
    """Follow-up of every Japanese operator at risk inside ``[start, end]``, with its breaches.

    Parameters
    ----------
    start, end : date or str
        Follow-up window (2018-01-01 to the data cut-off 2025-11-30 by default).
    operators, incidents : DataFrame, optional
        Loaded tables (:func:`load_jp_exchanges`, ``load_incidents``); the shipped ones if omitted.
    breach_types : tuple of str
        Incident ``event_type`` values counted as breaches.
    exchange_only : bool
        Keep only operators that offer exchange to customers (``offers_exchange == "yes"``).

    Returns
    -------
    pandas.DataFrame
        One row per operator with positive follow-up: the table's columns plus ``start`` and
        ``stop`` (timestamps), ``end_reason`` (``exit``, ``last_seen`` or ``cutoff``: what ended
        exposure), ``exposure_years`` ((stop - start) in days / 365.25), ``breaches`` (count of
        breaches with ``start < date <= stop`` at the row's ``exchange_id``) and ``breach_dates``.

    Raises
    ------
    DatasetError
        If ``end`` is not after ``start``, or two operators sharing an ``exchange_id`` overlap in
        follow-up (a breach would count twice).
    """
    import pandas as pd

    s0, e0 = pd.Timestamp(start), pd.Timestamp(end)
    if e0 <= s0:
        raise DatasetError(f"follow-up end {e0.date()} is not after its start {s0.date()}", source=None)
    ops = load_jp_exchanges() if operators is None else operators
    inc = load_incidents() if incidents is None else incidents
    f = ops[ops["offers_exchange"].astype(str) == "yes"].copy() if exchange_only else ops.copy()
    exit_end = [
        pd.NaT if pd.isna(x) else pd.Timestamp(_end_of(x.date(), str(p)))
        for x, p in zip(f["exit_date"], f["exit_date_precision"].astype(object), strict=True)
    ]
    f["exit_end"] = pd.to_datetime(pd.Series(exit_end, index=f.index, dtype="object"))
    f["start"] = f["entry_date"].where(f["entry_date"] > s0, s0)
    known = f["exit_end"].notna()
    own_end = f["exit_end"].where(known, f["last_seen_date"])
    f["stop"] = own_end.where(own_end < e0, e0)
    f["end_reason"] = ["cutoff" if o >= e0 else ("exit" if k else "last_seen")
                       for o, k in zip(own_end, known, strict=True)]
    f = f[f["stop"] > f["start"]].drop(columns="exit_end").copy()
    for eid, g in f.groupby("exchange_id"):
        g = g.sort_values("start")
        if (g["start"].iloc[1:].to_numpy() < g["stop"].iloc[:-1].to_numpy()).any():
            raise DatasetError(f"operators sharing exchange_id {eid!r} overlap in follow-up", source=None)
    f["exposure_years"] = (f["stop"] - f["start"]).dt.days / DAYS_PER_YEAR
    br = inc[inc["event_type"].astype(str).isin(breach_types)]
    dates = br.groupby("exchange_id")["incident_date"].apply(list).to_dict()
    f["breach_dates"] = [
        sorted(d for d in dates.get(e, []) if s < d <= t)
        for e, s, t in zip(f["exchange_id"], f["start"], f["stop"], strict=True)
    ]
    f["breaches"] = f["breach_dates"].map(len).astype("int64")
    return f.reset_index(drop=True)
