"""Reading ``--data``: the user's own frames (CSV or Parquet, every cell checked) or a TOML book spec.

The folder layout and the checks are described in :mod:`underwriting.lifecycle.data`; an error
names the file, the line (CSV; header = line 1) or row (Parquet) and the column.
:func:`load_book` returns a :class:`~underwriting.lifecycle.data.Book`.
"""

from __future__ import annotations

import hashlib
import os
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from underwriting.datasets.loaders import DatasetError
from underwriting.domain.frames import (
    DATE_POSTURE_COLUMNS,
    EXCHANGE_COLUMNS,
    EXPOSURE_COLUMNS,
    INCIDENT_COLUMNS,
    POSTURE_COLUMNS,
    VENDOR_COLUMNS,
)
from underwriting.errors import InputError
from underwriting.lifecycle.data import Book, synthetic_book

OPTIONAL_EXCHANGE = {"name": None, "jurisdiction": "unknown", "currency": "USD", "fx_units_per_usd": 1.0}
SUFFIXES = (".csv", ".parquet", ".pq")


def _find(folder: Path, stem: str, *, required: bool) -> Path | None:
    hits = [folder / f"{stem}{s}" for s in SUFFIXES if (folder / f"{stem}{s}").is_file()]
    if len(hits) > 1:
        raise InputError(f"both {hits[0].name} and {hits[1].name} exist; keep one", source=str(folder))
    if not hits:
        if required:
            raise InputError(f"no {stem}.csv or {stem}.parquet in the data folder", source=str(folder))
        return None
    return hits[0]


def _read(path: Path) -> tuple[pd.DataFrame, int, str]:
    """Raw frame (strings for CSV), first data line number, row unit."""
    try:
        if path.suffix.lower() == ".csv":
            df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8")
            return df, 2, "line"
        return pd.read_parquet(path), 1, "row"
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 ({exc})", source=str(path)) from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is an input problem
        raise InputError(f"cannot read the table ({type(exc).__name__}: {exc})", source=str(path)) from None


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype(str).str.strip() == "")


def _err(path: Path, msg: str, idx: int | None, first: int, unit: str, col: str) -> DatasetError:
    return DatasetError(msg, source=str(path), line=None if idx is None else idx + first, column=col, unit=unit)


def _check_columns(df: pd.DataFrame, required, path: Path, what: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DatasetError(f"{what} lacks column(s) {', '.join(repr(c) for c in missing)} (documented schema: "
                           f"{', '.join(required)})", source=str(path), column=missing[0])


def _dates(df, col, path, first, unit, *, required: bool) -> pd.Series:
    s = df[col]
    if pd.api.types.is_datetime64_any_dtype(s):
        out = pd.to_datetime(s)
    else:
        blank = _blank(s)
        out = pd.to_datetime(s.where(~blank, None), format="%Y-%m-%d", errors="coerce")
        bad = out.isna() & ~blank
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise _err(path, f"{s.iloc[i]!r} is not a date (YYYY-MM-DD)", i, first, unit, col)
    if required and out.isna().any():
        i = int(np.flatnonzero(out.isna().to_numpy())[0])
        raise _err(path, "a date is required", i, first, unit, col)
    return out.astype("datetime64[ns]")


def _numbers(df, col, path, first, unit, *, lo: float | None = 0.0, hi: float | None = None) -> pd.Series:
    s = df[col]
    num = s.map(_to_float) if not pd.api.types.is_numeric_dtype(s) else s.astype(float)
    bad = ~np.isfinite(num.to_numpy(dtype=float)) | ((num < lo) if lo is not None else False) | \
        ((num > hi) if hi is not None else False)
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        rng = f" in [{lo}, {hi}]" if hi is not None else (" >= 0" if lo == 0 else "")
        raise _err(path, f"{s.iloc[i]!r} is not a finite number{rng}", i, first, unit, col)
    return num.astype(float)


def _to_float(v) -> float:
    """Correctly rounded parse (pandas' fast CSV float parser is not always round-trip exact)."""
    try:
        return float(str(v).strip())
    except ValueError:
        return float("nan")


def _vocab(df, col, allowed, path, first, unit) -> pd.Series:
    s = df[col].astype(object).where(~_blank(df[col]), None)
    bad = ~s.isin(list(allowed))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise _err(path, f"{s.iloc[i]!r} is not one of {', '.join(allowed)}", i, first, unit, col)
    return s.astype(str)


def _posture_vocab() -> dict[str, tuple[str, ...]]:
    from underwriting.domain.submission import Posture

    out = {}
    for c in POSTURE_COLUMNS:
        if c in DATE_POSTURE_COLUMNS or c == "security_staff_share":
            continue
        out[c] = tuple(typing.get_args(Posture.model_fields[c].annotation))
    return out


def _read_exchanges(path: Path) -> pd.DataFrame:
    raw, first, unit = _read(path)
    required = [c for c in EXCHANGE_COLUMNS if c not in OPTIONAL_EXCHANGE]
    _check_columns(raw, required, path, "exchanges")
    if raw.empty:
        raise InputError("no exchanges in the file", source=str(path))
    out = pd.DataFrame(index=raw.index)
    ids = raw["exchange_id"].astype(str).str.strip()
    if _blank(raw["exchange_id"]).any():
        i = int(np.flatnonzero(_blank(raw["exchange_id"]).to_numpy())[0])
        raise _err(path, "exchange_id is required", i, first, unit, "exchange_id")
    dup = ids.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise _err(path, f"duplicate exchange_id {ids.iloc[i]!r}", i, first, unit, "exchange_id")
    out["exchange_id"] = ids
    out["name"] = raw["name"].astype(str) if "name" in raw else ids
    out["jurisdiction"] = raw["jurisdiction"].astype(str) if "jurisdiction" in raw else "unknown"
    out["launch_date"] = _dates(raw, "launch_date", path, first, unit, required=True)
    out["as_of"] = _dates(raw, "as_of", path, first, unit, required=True)
    late = out["launch_date"] > out["as_of"]
    if late.any():
        i = int(np.flatnonzero(late.to_numpy())[0])
        raise _err(path, "launch_date is after as_of", i, first, unit, "launch_date")
    out["currency"] = raw["currency"].astype(str) if "currency" in raw else "USD"
    out["fx_units_per_usd"] = (_numbers(raw, "fx_units_per_usd", path, first, unit) if "fx_units_per_usd" in raw
                               else 1.0)
    for c in EXPOSURE_COLUMNS:
        out[c] = _numbers(raw, c, path, first, unit)
    for c, allowed in _posture_vocab().items():
        out[c] = _vocab(raw, c, allowed, path, first, unit)
    share = raw["security_staff_share"].astype(object)
    unknown = share.astype(str).str.strip() == "unknown"
    num = share.where(~unknown, 0.0).map(_to_float)
    bad = (num.isna() | (num < 0) | (num > 1)) & ~unknown
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise _err(path, f"{share.iloc[i]!r} is not a share in [0, 1] or 'unknown'", i, first, unit,
                   "security_staff_share")
    out["security_staff_share"] = [("unknown" if u else float(v)) for u, v in zip(unknown, num, strict=True)]
    for c in DATE_POSTURE_COLUMNS:
        status = _vocab(raw, f"{c}_status", ("date", "never", "unknown"), path, first, unit)
        d = _dates(raw, c, path, first, unit, required=False)
        need = (status == "date") & d.isna()
        if need.any():
            i = int(np.flatnonzero(need.to_numpy())[0])
            raise _err(path, f"{c}_status is 'date' but {c} is blank", i, first, unit, c)
        out[c] = d.where(status == "date")
        out[f"{c}_status"] = status
    out = out[list(EXCHANGE_COLUMNS)]
    if "exit_date" in raw:
        ex = _dates(raw, "exit_date", path, first, unit, required=False)
        before = ex < out["as_of"]
        if before.any():
            i = int(np.flatnonzero(before.to_numpy())[0])
            raise _err(path, "exit_date is before as_of", i, first, unit, "exit_date")
        out["exit_date"] = ex
    return out.reset_index(drop=True)


def _linked_ids(raw: pd.DataFrame, ids: set[str], path: Path, first: int, unit: str) -> pd.Series:
    """``exchange_id`` of a long table, each of which must be in the exchanges file."""
    eid = raw["exchange_id"].astype(str).str.strip()
    unknown = ~eid.isin(ids)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise _err(path, f"exchange_id {eid.iloc[i]!r} is not in the exchanges file", i, first, unit, "exchange_id")
    return eid


def _read_incidents(path: Path | None, ids: set[str]) -> pd.DataFrame:
    from underwriting.domain.submission import Incident

    cols = list(INCIDENT_COLUMNS)
    if path is None:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "date" else object) for c in cols})
    raw, first, unit = _read(path)
    _check_columns(raw, cols, path, "incidents")
    out = pd.DataFrame(index=raw.index)
    out["exchange_id"] = _linked_ids(raw, ids, path, first, unit)
    out["date"] = _dates(raw, "date", path, first, unit, required=True)
    out["amount_usd"] = _numbers(raw, "amount_usd", path, first, unit)
    for c, a in (("custody_tier", "custody_tier"), ("vector", "vector"), ("reimbursed", "customers_reimbursed")):
        out[c] = _vocab(raw, c, typing.get_args(Incident.model_fields[a].annotation), path, first, unit)
    if "vendor" in raw:
        v = raw["vendor"].astype(object)
        out["vendor"] = v.where(~_blank(v), None)
    return out.sort_values(["date", "exchange_id"], kind="stable").reset_index(drop=True)


def _read_vendors(path: Path | None, ids: set[str]) -> pd.DataFrame:
    from underwriting.domain.submission import Vendor

    if path is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in VENDOR_COLUMNS})
    raw, first, unit = _read(path)
    _check_columns(raw, list(VENDOR_COLUMNS), path, "vendors")
    out = pd.DataFrame(index=raw.index)
    out["exchange_id"] = _linked_ids(raw, ids, path, first, unit)
    if _blank(raw["vendor"]).any():
        i = int(np.flatnonzero(_blank(raw["vendor"]).to_numpy())[0])
        raise _err(path, "vendor is required", i, first, unit, "vendor")
    out["vendor"] = raw["vendor"].astype(str)
    out["role"] = _vocab(raw, "role", typing.get_args(Vendor.model_fields["role"].annotation), path, first, unit)
    out["registered"] = _vocab(raw, "registered", ("yes", "no", "unknown"), path, first, unit)
    return out.reset_index(drop=True)


def files_book(path: str | os.PathLike[str], *, end: str | None = None) -> Book:
    """Read the user's frames (see the module docstring)."""
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", source=str(p))
    folder = p if p.is_dir() else p.parent
    ex_path = _find(folder, "exchanges", required=True) if p.is_dir() else p
    if ex_path.suffix.lower() not in SUFFIXES:
        raise InputError(f"unsupported file type {ex_path.suffix!r}; use .csv or .parquet (or a folder, or a "
                         ".toml book spec)", source=str(p))
    inc_path = _find(folder, "incidents", required=True)
    ven_path = _find(folder, "vendors", required=False)
    ex = _read_exchanges(ex_path)
    ids = set(ex["exchange_id"])
    inc = _read_incidents(inc_path, ids)
    ven = _read_vendors(ven_path, ids)
    exits = ex.pop("exit_date") if "exit_date" in ex else pd.Series(pd.NaT, index=ex.index, dtype="datetime64[ns]")
    exits.index = ex["exchange_id"]
    start = ex["as_of"].min()
    if end is not None:
        try:
            stop = pd.Timestamp(end)
        except (TypeError, ValueError):
            raise InputError(f"{end!r} is not a date", field="data.end") from None
    else:
        cands = [d for d in (exits.max(), inc["date"].max() if len(inc) else pd.NaT) if pd.notna(d)]
        if not cands:
            raise InputError("cannot tell when the data ends: give exit_date values or [data] end in the config",
                             field="data.end")
        stop = max(cands)
    files = {q.name: hashlib.sha256(q.read_bytes()).hexdigest() for q in (ex_path, inc_path, ven_path) if q}
    return Book(exchanges=ex, incidents=inc, vendors=ven, exit_dates=exits, start=pd.Timestamp(start),
                end=pd.Timestamp(stop), source={"kind": "files", "files": files},
                description=f"user frames {', '.join(sorted(files))} ({len(ex)} exchanges, {len(inc)} incidents, "
                            f"{start.date()} to {stop.date()})",
                parts={"real": ["as supplied by the user (the toolkit cannot tell real from synthetic rows)"],
                       "synthetic": []})


def load_book(path: str | os.PathLike[str] | None, config: dict[str, Any] | None = None) -> Book:
    """A :class:`Book` from ``--data`` (folder, frame file or TOML book spec) or the config's ``[data]``."""
    from underwriting.fileio import read_document

    data_cfg = dict((config or {}).get("data") or {})
    if path is not None and Path(path).suffix.lower() == ".toml":
        doc = read_document(path)
        data_cfg = {**data_cfg, **(doc.get("data") or {})}
        if "synthetic" not in data_cfg:
            raise InputError("a TOML data file needs a [data.synthetic] table", source=str(path))
        return synthetic_book(data_cfg["synthetic"])
    if path is not None:
        return files_book(path, end=data_cfg.get("end"))
    if "synthetic" in data_cfg:
        return synthetic_book(data_cfg["synthetic"])
    if "path" in data_cfg:
        return files_book(data_cfg["path"], end=data_cfg.get("end"))
    raise InputError("no training data: pass --data PATH or give [data] in the config", field="--data")


