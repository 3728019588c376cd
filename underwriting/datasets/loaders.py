"""Loading the curated tables as typed pandas frames, with schema checks that name line and column.

Three loaders read the shipped files (or a user's own files in the same schema, CSV or Parquet):

* :func:`load_incidents` - one row per incident (``incidents.csv``);
* :func:`load_exchanges` - the roster, one row per exchange (``exchanges.csv``);
* :func:`load_fx_rates` - yearly average FX rates (``fx_rates.csv``).

:func:`load_exchange_panel` joins the first two into an exchange x period panel for survival
models (see :mod:`underwriting.datasets.panel`).

Every cell is checked on load. The first problem raises :class:`DatasetError` (an
:class:`~underwriting.errors.InputError`, so the CLI exits 2) whose message names the file, the
line (CSV, header = line 1) or row (Parquet, first data row = row 1) and the column::

    datasets/incidents.csv: line 17, column 'vector': unknown value 'hot wallet'; allowed: ...
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from underwriting.caches import register_cache
from underwriting.datasets.panel import build_exchange_panel
from underwriting.datasets.schema import EXCHANGE_SCHEMA, FX_SCHEMA, INCIDENT_SCHEMA
from underwriting.datasets.tables import (  # noqa: F401 (DatasetError and MAX_DATA_BYTES re-exported)
    DatasetError,
    _end_of,
    _frame,
    _parse_table,
    _read_raw,
    _unique,
)
from underwriting.domain.vocabulary import BREACH_EVENT_TYPES, DATA_CUTOFF
from underwriting.errors import InputError
from underwriting.resources import dataset_path

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

# --------------------------------------------------------------------------- public loaders

#: The shipped incident table, read and checked once per process: one quote asks for it twice (the
#: severity calibration and the state-actor peril split), each read parsing and cross-checking the
#: roster again. Keyed by the file's path, size and modification time, so an edited or replaced file is
#: read afresh; callers get a copy (a frame is mutable).
_SHIPPED_INCIDENTS: dict[tuple[Any, ...], pd.DataFrame] = register_cache({}, "datasets.loaders.shipped_incidents",
                                                                          static=True)


def _file_key(p: Path) -> tuple[str, int, int]:
    st = p.stat()
    return str(p.resolve()), st.st_size, st.st_mtime_ns


def _resolve(path: str | os.PathLike[str] | None, name: str) -> Path:
    if path is not None:
        return Path(path)

    try:
        return dataset_path(name)
    except FileNotFoundError as exc:  # pragma: no cover - broken install
        raise InputError(str(exc)) from None


def _validate_exchanges(path: str | os.PathLike[str] | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    p = _resolve(path, "exchanges.csv")
    raw = _read_raw(p)
    parsed = _parse_table(raw, EXCHANGE_SCHEMA)
    _unique(parsed, raw, ("exchange_id",), "exchange_id")
    for i, line in enumerate(parsed["_line"]):
        launch, lp, lg = parsed["launch_date"][i], parsed["launch_date_precision"][i], parsed["_launch_date_given"][i]
        if launch is None and lp is not None:
            raise raw.error("launch_date_precision is set but launch_date is blank", line, "launch_date_precision")
        if launch is not None and lp is None:
            raise raw.error("required when launch_date is given", line, "launch_date_precision")
        if _finer(lg, lp):
            raise raw.error(f"launch_date is given to the {lg} but launch_date_precision says {lp!r}", line, "launch_date_precision")
        closure = parsed["closure_date"][i]
        cp, cr, cg = parsed["closure_date_precision"][i], parsed["closure_reason"][i], parsed["_closure_date_given"][i]
        if closure is None:
            if cp is not None:
                raise raw.error("closure_date_precision is set but closure_date is blank", line, "closure_date_precision")
            if cr is not None:
                raise raw.error("closure_reason is set but closure_date is blank (blank means open)", line, "closure_reason")
            continue
        if cp is None:
            raise raw.error("required when closure_date is given", line, "closure_date_precision")
        if cr is None:
            raise raw.error("required when closure_date is given", line, "closure_reason")
        if _finer(cg, cp):
            raise raw.error(f"closure_date is given to the {cg} but closure_date_precision says {cp!r}", line, "closure_date_precision")
        if launch is not None and _end_of(closure, cp) < launch:
            raise raw.error(f"closure_date {closure} is before launch_date {launch}", line, "closure_date")
    frame = _frame(parsed, raw, EXCHANGE_SCHEMA)
    info = {
        "lines": dict(zip(parsed["exchange_id"], parsed["_line"], strict=True)),
        "life": {eid: (parsed["launch_date"][i], parsed["closure_date"][i], parsed["closure_date_precision"][i])
                 for i, eid in enumerate(parsed["exchange_id"])},
        "source": raw.source,
    }
    return frame, info


_RANK = {"day": 0, "month": 1, "year": 2}


def _finer(given: str | None, stated: str | None) -> bool:
    """True when the text holds less detail than the stated precision (``2014`` said to be a day)."""
    if given is None or stated is None:
        return False
    return _RANK[given] > _RANK[stated]


def load_exchanges(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load the exchange roster (``datasets/exchanges.csv`` by default), checked and typed.

    Parameters
    ----------
    path : path-like, optional
        A CSV or Parquet file in the same schema (user data); the shipped roster if omitted.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`~underwriting.datasets.schema.EXCHANGE_SCHEMA` in file order:
        ``launch_date``/``closure_date`` as ``datetime64[ns]`` (a month- or year-precision date is
        stored as its first day; ``launch_date`` is NaT when no source states it, ``closure_date`` is
        NaT while open), the precision columns and
        ``closure_reason`` as categoricals, text columns as ``object``.

    Raises
    ------
    DatasetError
        With line and column, for a malformed file: unknown vocabulary, bad date, blank
        ``source_url``, duplicate ``exchange_id``, closure before launch, closure fields set on
        an open exchange (or missing on a closed one).
    """
    return _validate_exchanges(path)[0]


def load_incidents(path: str | os.PathLike[str] | None = None, *,
                   exchanges: str | os.PathLike[str] | pd.DataFrame | None | bool = True) -> pd.DataFrame:
    """Load the incident table (``datasets/incidents.csv`` by default), checked and typed.

    Parameters
    ----------
    path : path-like, optional
        A CSV or Parquet file in the same schema (user data); the shipped table if omitted.
    exchanges : path-like, DataFrame, True or None
        Roster to cross-check against: every ``exchange_id`` must be on it and every incident must
        fall within the exchange's life (launch to closure, allowing for the dates' precision).
        ``True`` (default) means the shipped roster when ``path`` is omitted and no cross-check
        when a user ``path`` is given; ``None``/``False`` skips the check.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`~underwriting.datasets.schema.INCIDENT_SCHEMA` in file order:
        ``incident_date`` ``datetime64[ns]``; ``amount_usd``/``amount_usd_alt`` float (NaN = not
        stated); ``vector``, ``custody_tier``, ``reimbursed``, ``event_type`` categoricals with
        the full vocabulary as categories; ``dprk_attributed`` bool; text as ``object``.

    Raises
    ------
    DatasetError
        With line and column: unknown vocabulary, bad date, blank ``source_url``, duplicate
        ``incident_id`` or duplicate (exchange_id, incident_date, amount_usd), an exchange not
        on the roster, or an incident outside the exchange's life.
    """
    p = _resolve(path, "incidents.csv")
    if exchanges is True:
        exchanges = None if path is not None else _resolve(None, "exchanges.csv")
    if path is None and isinstance(exchanges, Path):  # the shipped table, checked against the shipped roster
        key = _file_key(p) + _file_key(exchanges)
        frame = _SHIPPED_INCIDENTS.get(key)
        if frame is None:
            frame = _load_incidents(p, exchanges)
            _SHIPPED_INCIDENTS.clear()  # one entry: the current files
            _SHIPPED_INCIDENTS[key] = frame
        return frame.copy()
    return _load_incidents(p, exchanges)


def _load_incidents(p: Path, exchanges: Any) -> pd.DataFrame:
    """Read, check and type the incident table at ``p``; ``exchanges``: the roster to cross-check
    against (a path or frame), or ``None``/``False`` for none."""
    raw = _read_raw(p)
    parsed = _parse_table(raw, INCIDENT_SCHEMA)
    _unique(parsed, raw, ("incident_id",), "incident_id")
    _unique(parsed, raw, ("exchange_id", "incident_date", "amount_usd"), "incident (same exchange, date and amount)")
    for i, line in enumerate(parsed["_line"]):
        who, src = parsed["attribution"][i], parsed["attribution_source_url"][i]
        if (who is None) != (src is None):
            raise raw.error("attribution and attribution_source_url go together: give both or neither", line,
                            "attribution_source_url" if src is None else "attribution")
        if who == "state_dprk" and not parsed["dprk_attributed"][i]:
            raise raw.error("attribution state_dprk needs dprk_attributed = yes", line, "dprk_attributed")
    if exchanges is not None and exchanges is not False:
        life = _life_table(exchanges)
        for i, line in enumerate(parsed["_line"]):
            eid, d = parsed["exchange_id"][i], parsed["incident_date"][i]
            if eid not in life:
                raise raw.error(f"exchange_id {eid!r} is not on the exchange roster", line, "exchange_id")
            launch, closure, cp = life[eid]
            if launch is not None and d < launch:
                raise raw.error(f"incident on {d} is before {eid} launched ({launch})", line, "incident_date")
            if closure is not None and d > _end_of(closure, cp):
                raise raw.error(f"incident on {d} is after {eid} closed ({closure}, precision {cp})", line, "incident_date")
    return _frame(parsed, raw, INCIDENT_SCHEMA)


def _life_table(exchanges: Any) -> dict[str, tuple[dt.date | None, dt.date | None, str | None]]:
    import pandas as pd

    if isinstance(exchanges, pd.DataFrame):
        out = {}
        prec = exchanges["closure_date_precision"] if "closure_date_precision" in exchanges else [None] * len(exchanges)
        for eid, lau, clo, cp in zip(exchanges["exchange_id"], exchanges["launch_date"], exchanges["closure_date"], prec, strict=True):
            out[str(eid)] = (None if pd.isna(lau) else pd.Timestamp(lau).date(), None if pd.isna(clo) else pd.Timestamp(clo).date(),
                             None if cp is None or (not isinstance(cp, str) and pd.isna(cp)) else str(cp))
        return out
    return _validate_exchanges(exchanges)[1]["life"]


def load_fx_rates(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load yearly average FX rates (``datasets/fx_rates.csv`` by default), checked and typed.

    Returns ``year`` (int), ``currency`` (str, a three-letter ISO 4217 code; the table may hold
    currencies that submissions do not accept yet), ``units_per_usd`` (float > 0), ``source_url``,
    ``notes``. Raises :class:`DatasetError` naming line and column (malformed currency code,
    non-positive rate, duplicate year/currency, blank source).
    """
    p = _resolve(path, "fx_rates.csv")
    raw = _read_raw(p)
    parsed = _parse_table(raw, FX_SCHEMA)
    for cur, line in zip(parsed["currency"], parsed["_line"], strict=True):
        if not re.match(r"^[A-Z]{3}$", cur) or cur == "USD":
            raise raw.error(f"{cur!r} is not an ISO 4217 code other than USD (e.g. JPY)", line, "currency")
    _unique(parsed, raw, ("year", "currency"), "rate (same year and currency)")
    return _frame(parsed, raw, FX_SCHEMA)


def load_exchange_panel(
    freq: str = "Q",
    *,
    cutoff: str | dt.date = DATA_CUTOFF,
    time_scale: str = "calendar",
    breach_types: Sequence[str] = BREACH_EVENT_TYPES,
    incidents: str | os.PathLike[str] | pd.DataFrame | None = None,
    exchanges: str | os.PathLike[str] | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Exchange x period panel of the real roster, for time-varying and recurrent-event survival.

    Parameters
    ----------
    freq : {"Q", "M", "Y"}
        Calendar period of a row (quarter, month, year).
    cutoff : date or str
        Data cut-off: follow-up of an open exchange ends here (``2025-11-30`` for the shipped data).
    time_scale : {"calendar", "gap"}
        What ``start``/``stop`` measure. ``"calendar"`` (counting process, Andersen-Gill): years
        since launch, never reset. ``"gap"``: years since the later of launch and the end of the
        period of the previous breach (the clock restarts after each breach; for PWP gap-time
        models stratify on ``episode``). Both are always present as ``age_start/age_stop`` and
        ``gap_start/gap_stop``.
    breach_types : sequence of str
        ``event_type`` values that count as a breach (``hack`` and ``insider`` by default).
    incidents, exchanges : path-like or DataFrame, optional
        Own data in the shipped schema (paths are loaded and checked); the shipped tables if
        omitted.

    Returns
    -------
    pandas.DataFrame
        See :func:`underwriting.datasets.panel.build_exchange_panel` for the columns.
    """
    import pandas as pd

    ex = exchanges if isinstance(exchanges, pd.DataFrame) else load_exchanges(exchanges)
    if isinstance(incidents, pd.DataFrame):
        inc = incidents
    else:
        inc = load_incidents(incidents, exchanges=ex)
    roster = pd.DataFrame({
        "exchange_id": ex["exchange_id"].astype(str),
        "launch_date": ex["launch_date"],
        "closure_date": ex["closure_date"],
        "jurisdiction": ex["country"] if "country" in ex else None,
    })
    events = pd.DataFrame({
        "exchange_id": inc["exchange_id"].astype(str),
        "date": inc["incident_date"] if "incident_date" in inc else inc["date"],
        "amount_usd": inc["amount_usd"],
        "event_type": inc["event_type"].astype(str) if "event_type" in inc else "hack",
    })
    return build_exchange_panel(roster, events, freq=freq, cutoff=cutoff, time_scale=time_scale,
                                breach_types=breach_types)
