"""The survival target ``y``: durations, event indicators and (optionally) entry times.

Accepted forms (the same everywhere in :mod:`underwriting.survival`):

* a **structured array** with an event field (``event``, ``status``, ``observed``, ``n_events``
  or ``events``) and a time field (``time``, ``duration``, ``stop``, ``T``), plus an optional
  entry field (``entry``, ``start``). :func:`survival_target` builds one. This is the form to use
  with scikit-learn's model selection (``GridSearchCV``, ``cross_val_score``): it can be indexed
  by row like ``X``.
* a **DataFrame** (or 2-D array) with 2 columns ``(duration, event)`` or 3 columns
  ``(start, stop, event)``; columns with the names above are matched by name, otherwise by position.
* a **tuple** ``(duration, event)`` or ``(start, stop, event)``.

Time is in the model's unit (years since the exchange's launch in this project). ``event`` is
0/1 for ``coxph`` and the AFT families; the piecewise-exponential family also accepts counts
(several breaches in one panel period).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from underwriting.errors import InputError

EVENT_NAMES = ("event", "status", "observed", "n_events", "events", "e")
TIME_NAMES = ("time", "duration", "stop", "t", "durations")
ENTRY_NAMES = ("entry", "start", "enter")


@dataclass(frozen=True)
class SurvivalTarget:
    """Parsed target: float arrays ``time`` and ``entry`` (zeros if none) and ``event`` counts."""

    time: np.ndarray
    event: np.ndarray
    entry: np.ndarray
    has_entry: bool

    def __len__(self) -> int:
        return self.time.shape[0]

    def take(self, idx: np.ndarray) -> SurvivalTarget:
        return SurvivalTarget(self.time[idx], self.event[idx], self.entry[idx], self.has_entry)


def survival_target(time, event, entry=None) -> np.ndarray:
    """Build the structured-array target ``y`` from arrays.

    Parameters
    ----------
    time : array-like of float
        Time of the event or of censoring (the row's ``stop``).
    event : array-like of bool or int
        1/True if the row ends with a breach (a count for panel rows), 0/False if censored.
    entry : array-like of float, optional
        Time the row enters the risk set (left truncation / counting-process ``start``).

    Returns
    -------
    numpy.ndarray
        Structured array with fields ``event`` (int64), ``time`` (float64) and, if given,
        ``entry`` (float64).
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event)
    if e.dtype == bool:
        e = e.astype(np.int64)
    fields = [("event", np.int64), ("time", np.float64)]
    if entry is not None:
        fields.append(("entry", np.float64))
    out = np.empty(t.shape[0], dtype=fields)
    out["event"] = e
    out["time"] = t
    if entry is not None:
        out["entry"] = np.asarray(entry, dtype=float)
    return out


def _find(names, candidates):
    low = {str(n).lower(): n for n in names}
    for c in candidates:
        if c in low:
            return low[c]
    return None


def parse_target(y, *, allow_counts: bool = True, n_rows: int | None = None) -> SurvivalTarget:
    """Parse any accepted form of ``y`` into a :class:`SurvivalTarget`, with checks.

    Raises
    ------
    InputError
        Unknown layout, non-finite or negative times, ``stop <= start``, negative events, or
        counts above 1 when ``allow_counts`` is False; a row count different from ``n_rows``.
    """
    import pandas as pd

    entry = None
    if isinstance(y, SurvivalTarget):
        tgt = y
        time, event, entry = tgt.time, tgt.event, (tgt.entry if tgt.has_entry else None)
    elif isinstance(y, np.ndarray) and y.dtype.names:
        names = y.dtype.names
        ev = _find(names, EVENT_NAMES)
        tm = _find(names, TIME_NAMES)
        en = _find(names, ENTRY_NAMES)
        if ev is None or tm is None:
            bools = [n for n in names if y.dtype[n] == np.dtype(bool)]
            floats = [n for n in names if np.issubdtype(y.dtype[n], np.floating)]
            if len(names) == 2 and len(bools) == 1 and len(floats) == 1:
                ev, tm = bools[0], floats[0]
            else:
                raise InputError(
                    f"structured target has fields {list(names)}; expected an event field "
                    f"({'/'.join(EVENT_NAMES[:5])}) and a time field ({'/'.join(TIME_NAMES[:4])}), "
                    "optionally an entry field (entry/start)", field="y")
        time, event = y[tm], y[ev]
        entry = y[en] if en is not None else None
    elif isinstance(y, tuple) and len(y) in (2, 3) and not np.isscalar(y[0]):
        if len(y) == 2:
            time, event = y
        else:
            entry, time, event = y
    else:
        if isinstance(y, pd.DataFrame):
            cols = list(y.columns)
            ev = _find(cols, EVENT_NAMES)
            tm = _find(cols, TIME_NAMES)
            en = _find(cols, ENTRY_NAMES)
            if ev is not None and tm is not None and y.shape[1] in (2, 3) and (y.shape[1] == 2 or en is not None):
                time, event = y[tm].to_numpy(), y[ev].to_numpy()
                entry = y[en].to_numpy() if en is not None else None
                y = None
            else:
                y = y.to_numpy()
        if y is not None:
            arr = np.asarray(y)
            if arr.ndim != 2 or arr.shape[1] not in (2, 3):
                raise InputError(
                    f"target has shape {arr.shape}; expected (duration, event) or (start, stop, event) "
                    "columns, a structured array or a tuple", field="y")
            if arr.shape[1] == 2:
                time, event = arr[:, 0], arr[:, 1]
            else:
                entry, time, event = arr[:, 0], arr[:, 1], arr[:, 2]
    try:
        time = np.asarray(time, dtype=float).reshape(-1)
        event_raw = np.asarray(event)
        if event_raw.dtype == bool:
            event_raw = event_raw.astype(np.int64)
        event_f = np.asarray(event_raw, dtype=float).reshape(-1)
        entry_arr = None if entry is None else np.asarray(entry, dtype=float).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InputError(f"target is not numeric: {exc}", field="y") from None
    n = time.shape[0]
    if event_f.shape[0] != n or (entry_arr is not None and entry_arr.shape[0] != n):
        raise InputError("target columns have different lengths", field="y")
    if n_rows is not None and n != n_rows:
        raise InputError(f"target has {n} rows but X has {n_rows}", field="y")
    if n == 0:
        raise InputError("target is empty", field="y")
    if not np.all(np.isfinite(time)):
        raise InputError("durations must be finite (no NaN/inf)", field="y.time")
    if np.any(time <= 0):
        raise InputError(f"durations must be positive; found {int(np.sum(time <= 0))} row(s) <= 0",
                         field="y.time")
    if not np.all(np.isfinite(event_f)) or np.any(event_f < 0) or np.any(event_f != np.round(event_f)):
        raise InputError("events must be non-negative integers (0/1, or counts for panel rows)",
                         field="y.event")
    if not allow_counts and np.any(event_f > 1):
        raise InputError("events must be 0/1 for this family; use family='piecewise_exponential' "
                         "for panel rows with several breaches in one period", field="y.event")
    if entry_arr is None:
        entry_out, has_entry = np.zeros(n), False
    else:
        if not np.all(np.isfinite(entry_arr)) or np.any(entry_arr < 0):
            raise InputError("entry (start) times must be finite and >= 0", field="y.entry")
        bad = int(np.sum(entry_arr >= time))
        if bad:
            raise InputError(f"entry (start) must be before stop; {bad} row(s) have start >= stop",
                             field="y.entry")
        entry_out, has_entry = entry_arr, bool(np.any(entry_arr > 0))
    return SurvivalTarget(time, event_f.astype(np.int64), entry_out, has_entry)
