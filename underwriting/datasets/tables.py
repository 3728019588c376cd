"""Reading a data file (CSV or Parquet) and checking every cell against a schema.

The first problem raises :class:`DatasetError` (an :class:`~underwriting.errors.InputError`, so the
CLI exits 2) naming the file, the line (CSV, header = line 1) or row (Parquet, first data row =
row 1) and the column. The public loaders of the curated tables are in
:mod:`underwriting.datasets.loaders`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from underwriting.datasets.schema import Column
from underwriting.errors import InputError
from underwriting.fileio import read_text

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Largest data file accepted, in bytes.
MAX_DATA_BYTES = 200 * 1024 * 1024

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_PARTIAL_RE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


class DatasetError(InputError):
    """A malformed data file. ``line`` (or Parquet row) and ``column`` locate the problem.

    Attributes
    ----------
    line : int or None
        File line number (CSV, header is line 1) or 1-based data row (Parquet).
    column : str or None
        Offending column.
    """

    def __init__(self, message: str, *, source: str | None, line: int | None = None,
                 column: str | None = None, unit: str = "line"):
        self.line = line
        self.column = column
        parts = []
        if line is not None:
            parts.append(f"{unit} {line}")
        if column is not None:
            parts.append(f"column {column!r}")
        super().__init__(message, field=", ".join(parts) or None, source=source)


# --------------------------------------------------------------------------- reading raw rows


class _Raw:
    """Rows of a file as strings, with the line number of each row."""

    def __init__(self, header: list[str], rows: list[list[str]], lines: list[int], source: str, unit: str):
        self.header = header
        self.rows = rows
        self.lines = lines
        self.source = source
        self.unit = unit

    def error(self, message: str, line: int | None = None, column: str | None = None) -> DatasetError:
        return DatasetError(message, source=self.source, line=line, column=column, unit=self.unit)


def _read_csv_raw(path: Path) -> _Raw:

    text = read_text(path, max_bytes=MAX_DATA_BYTES)
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    src = str(path)
    try:
        header = next(reader)
    except StopIteration:  # pragma: no cover - read_text refuses empty files
        raise DatasetError("file is empty", source=src) from None
    except csv.Error as exc:
        raise DatasetError(f"cannot parse CSV header ({exc})", source=src, line=1) from None
    header = [h.strip() for h in header]
    rows: list[list[str]] = []
    lines: list[int] = []
    prev = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DatasetError(f"cannot parse CSV ({exc})", source=src, line=prev + 1) from None
        start = prev + 1
        prev = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise DatasetError(
                f"row has {len(row)} fields but the header has {len(header)} "
                "(an unquoted comma or a missing field?)", source=src, line=start)
        rows.append(row)
        lines.append(start)
    return _Raw(header, rows, lines, src, "line")


def _cell_str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    try:
        import pandas as pd

        if v is pd.NaT or (not isinstance(v, str) and pd.isna(v)):
            return ""
        if isinstance(v, pd.Timestamp):
            return v.date().isoformat()
    except (TypeError, ValueError):
        pass
    if isinstance(v, bool):
        return "yes" if v else ""
    return str(v)


def _read_parquet_raw(path: Path) -> _Raw:
    import pandas as pd

    src = str(path)
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is an input problem
        raise DatasetError(f"cannot read Parquet file ({type(exc).__name__}: {exc})", source=src) from None
    header = [str(c) for c in frame.columns]
    rows = [[_cell_str(v) for v in rec] for rec in frame.itertuples(index=False, name=None)]
    return _Raw(header, rows, list(range(1, len(rows) + 1)), src, "row")


def _read_raw(path: str | os.PathLike[str]) -> _Raw:
    p = Path(path)
    if not p.exists():
        raise DatasetError("no such file", source=str(p))
    if p.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet_raw(p)
    return _read_csv_raw(p)


# --------------------------------------------------------------------------- cell parsing


def _partial_date(text: str) -> tuple[dt.date, str] | None:
    m = _PARTIAL_RE.match(text)
    if not m:
        return None
    y, mo, d = m.groups()
    try:
        if d is not None:
            return dt.date(int(y), int(mo), int(d)), "day"
        if mo is not None:
            return dt.date(int(y), int(mo), 1), "month"
        return dt.date(int(y), 1, 1), "year"
    except ValueError:
        return None


def _parse_table(raw: _Raw, schema: Sequence[Column]) -> dict[str, list[Any]]:
    """Check every cell; return parsed column lists (plus ``_line`` and the precision implied by
    partial dates under ``_<name>_given``)."""
    idx = {h: i for i, h in enumerate(raw.header)}
    dupes = sorted({h for h in raw.header if raw.header.count(h) > 1})
    if dupes:
        raise raw.error(f"column appears more than once in the header: {', '.join(dupes)}", line=1, column=dupes[0])
    for col in schema:
        if col.name not in idx and not col.may_be_absent:
            raise raw.error(f"required column is missing from the header (columns: {', '.join(c.name for c in schema)})",
                            line=1, column=col.name)
    out: dict[str, list[Any]] = {c.name: [] for c in schema}
    out["_line"] = list(raw.lines)
    today = dt.date.today()
    for col in schema:
        vals = out[col.name]
        if col.name not in idx:  # an optional column added later: absent means all blank
            vals.extend([None] * len(raw.rows))
            continue
        given = out.setdefault(f"_{col.name}_given", []) if col.kind == "partial_date" else None
        j = idx[col.name]
        for row, line in zip(raw.rows, raw.lines, strict=True):
            s = row[j].strip()
            if not s:
                if col.required:
                    raise raw.error("required value is blank", line, col.name)
                vals.append(None)
                if given is not None:
                    given.append(None)
                continue
            if col.kind in ("id", "text"):
                vals.append(s)
            elif col.kind == "country":
                if not _COUNTRY_RE.match(s):
                    raise raw.error(f"{s!r} is not an ISO 3166-1 alpha-2 country code (e.g. JP, US)", line, col.name)
                vals.append(s)
            elif col.kind == "date":
                if not _DATE_RE.match(s):
                    raise raw.error(f"{s!r} is not an ISO date (YYYY-MM-DD)", line, col.name)
                try:
                    d = dt.date.fromisoformat(s)
                except ValueError:
                    raise raw.error(f"{s!r} is not a valid calendar date", line, col.name) from None
                if d > today:
                    raise raw.error(f"{s} is in the future", line, col.name)
                vals.append(d)
            elif col.kind == "partial_date":
                pd_ = _partial_date(s)
                if pd_ is None:
                    raise raw.error(f"{s!r} is not a date (YYYY-MM-DD, YYYY-MM or YYYY)", line, col.name)
                if pd_[0] > today:
                    raise raw.error(f"{s} is in the future", line, col.name)
                vals.append(pd_[0])
                given.append(pd_[1])
            elif col.kind in ("amount", "rate"):
                try:
                    x = float(s.replace(",", "").replace("_", ""))
                except ValueError:
                    raise raw.error(f"{s!r} is not a number", line, col.name) from None
                if not math.isfinite(x) or x < 0 or (col.kind == "rate" and x == 0):
                    raise raw.error(f"{s!r} must be a finite {'positive' if col.kind == 'rate' else 'non-negative'} number",
                                    line, col.name)
                vals.append(x)
            elif col.kind == "year":
                try:
                    y = int(s)
                except ValueError:
                    raise raw.error(f"{s!r} is not a year", line, col.name) from None
                if not 1990 <= y <= today.year:
                    raise raw.error(f"year {y} is out of range (1990-{today.year})", line, col.name)
                vals.append(y)
            elif col.kind == "vocab":
                if s not in col.vocab:
                    raise raw.error(f"unknown value {s!r}; allowed: {', '.join(col.vocab)}", line, col.name)
                vals.append(s)
            elif col.kind == "flag":
                if s.lower() not in ("yes", "true", "1"):
                    raise raw.error(f"{s!r} is not a flag: write 'yes' or leave blank", line, col.name)
                vals.append(True)
            elif col.kind == "url":
                if not (s.startswith(("http://", "https://")) and len(s) > 10 and " " not in s):
                    raise raw.error(f"{s!r} is not a URL (http:// or https://)", line, col.name)
                vals.append(s)
            else:  # pragma: no cover - schema bug
                raise ValueError(f"unknown column kind {col.kind}")
    return out


def _frame(parsed: dict[str, list[Any]], raw: _Raw, schema: Sequence[Column]) -> pd.DataFrame:
    import pandas as pd

    data: dict[str, Any] = {}
    for col in schema:
        v = parsed[col.name]
        if col.kind in ("date", "partial_date"):
            data[col.name] = pd.to_datetime(pd.Series(v, dtype="object"), errors="raise").astype("datetime64[ns]")
        elif col.kind in ("amount", "rate"):
            data[col.name] = pd.Series([math.nan if x is None else x for x in v], dtype="float64")
        elif col.kind == "year":
            data[col.name] = pd.Series(v, dtype="int64")
        elif col.kind == "vocab":
            data[col.name] = pd.Categorical(v, categories=list(col.vocab))
        elif col.kind == "flag":
            data[col.name] = pd.Series([bool(x) for x in v], dtype="bool")
        else:
            data[col.name] = pd.Series(v, dtype="object")
    frame = pd.DataFrame(data, columns=[c.name for c in schema])
    extra = [h for h in raw.header if h not in frame.columns]
    for h in extra:  # user columns beyond the schema are kept as text
        j = raw.header.index(h)
        frame[h] = [r[j] for r in raw.rows]
    return frame


def _unique(parsed: dict[str, list[Any]], raw: _Raw, key: Sequence[str], what: str) -> None:
    seen: dict[tuple[Any, ...], int] = {}
    for i, line in enumerate(parsed["_line"]):
        k = tuple(parsed[c][i] for c in key)
        if k in seen:
            shown = ", ".join(f"{c}={parsed[c][i]}" for c in key)
            raise raw.error(f"duplicate {what} ({shown}); first seen at {raw.unit} {seen[k]}", line, key[-1] if len(key) == 1 else key[0])
        seen[k] = line


def _end_of(d: dt.date, precision: str | None) -> dt.date:
    """Last day a date of the given precision can stand for."""
    if precision == "year":
        return dt.date(d.year, 12, 31)
    if precision == "month":
        nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)
    return d
