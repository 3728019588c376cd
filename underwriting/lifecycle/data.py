"""Training data for the model lifecycle: the user's own frames or a synthetic book spec.

``--data PATH`` is either

* a **folder** (or the ``exchanges`` file itself) with the flat frames of
  :mod:`underwriting.domain.frames`, as CSV or Parquet::

      exchanges.csv|parquet   EXCHANGE_COLUMNS (name, currency, fx_units_per_usd optional), one row
                              per exchange, posture as of ``as_of``; optional ``exit_date``: end of
                              follow-up (closure); blank = followed to the data end
      incidents.csv|parquet   exchange_id, date, amount_usd, custody_tier, vector, reimbursed
                              (optional: vendor = the vendor whose compromise caused it)
      vendors.csv|parquet     exchange_id, vendor, role, registered (optional file)

  Every cell is checked; an error names the file, the line (CSV; header = line 1) or row
  (Parquet) and the column. The data end is ``[data] end`` of the config, else the latest
  ``exit_date``/incident date.
* a **TOML file** with a ``[data.synthetic]`` table (``n_exchanges``, ``years``, ``seed``, and
  any keyword of :func:`~underwriting.datasets.synthetic.make_exchange_portfolio`): a synthetic
  book calibrated to the bundled real tables.

:func:`load_book` returns a :class:`Book`; :func:`training_set` turns it into yearly landmark rows
(:func:`underwriting.scoring.shipped.landmark_rows`) with features and labels.
"""

from __future__ import annotations

import hashlib
import os
import typing
from dataclasses import dataclass, field
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

DAYS_PER_YEAR = 365.25
OPTIONAL_EXCHANGE = {"name": None, "jurisdiction": "unknown", "currency": "USD", "fx_units_per_usd": 1.0}
SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass
class Book:
    """A book of exchanges to train or evaluate on.

    Attributes
    ----------
    exchanges, incidents, vendors : DataFrame
        The flat frames (USD).
    exit_dates : Series
        End of follow-up per ``exchange_id`` (NaT = followed to ``end``).
    start, end : Timestamp
        The observation window (landmarks are yearly from ``start`` while ``t + h <= end``).
    source : dict
        ``{"kind": "synthetic", "spec": {...}}`` or ``{"kind": "files", "files": {name: sha256}}``.
    description : str
    parts : dict
        What is real and what is synthetic (for the model card).
    truth : GroundTruth or None
        Synthetic books only: the generator's truth (gives the oracle probability).
    """

    exchanges: pd.DataFrame
    incidents: pd.DataFrame
    vendors: pd.DataFrame
    exit_dates: pd.Series
    start: pd.Timestamp
    end: pd.Timestamp
    source: dict[str, Any]
    description: str
    parts: dict[str, list[str]] = field(default_factory=dict)
    truth: Any = None

    def fingerprint(self) -> str:
        """SHA-256 of the book's content (frames as canonical CSV, window, exit dates)."""
        h = hashlib.sha256()
        for name, df in (("exchanges", self.exchanges), ("incidents", self.incidents), ("vendors", self.vendors),
                         ("exit_dates", self.exit_dates.rename("exit_date").reset_index())):
            h.update(name.encode())
            h.update(df.to_csv(index=False, date_format="%Y-%m-%d", float_format="%.17g",
                               lineterminator="\n").encode("utf-8"))
        h.update(f"{self.start.date()}|{self.end.date()}".encode())
        return h.hexdigest()


@dataclass(frozen=True)
class LandmarkSet:
    """Landmark rows of a book: features, labels, groups, landmark dates and (synthetic) oracle."""

    rows: pd.DataFrame
    features: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray
    landmarks: np.ndarray
    oracle: np.ndarray | None
    horizon_years: float

    def subset(self, mask) -> LandmarkSet:
        m = np.asarray(mask, dtype=bool)
        return LandmarkSet(self.rows[m].reset_index(drop=True), self.features[m].reset_index(drop=True), self.y[m],
                           self.groups[m], self.landmarks[m], None if self.oracle is None else self.oracle[m],
                           self.horizon_years)


# --------------------------------------------------------------------------- synthetic books


def synthetic_spec(spec: Any) -> tuple[int, int | float, int, dict[str, Any]]:
    """``(n_exchanges, years, seed, other generator options)`` of a ``[data.synthetic]`` table, checked:
    whole numbers stay whole (``n_exchanges = 1.5`` is refused, not truncated)."""
    if not isinstance(spec, dict):
        raise InputError("must be a table (n_exchanges, years, seed, ...)", field="data.synthetic")
    spec = dict(spec)
    if "seed" not in spec:
        raise InputError("a synthetic book needs a seed", field="data.synthetic.seed")
    n, years, seed = spec.pop("n_exchanges", 1000), spec.pop("years", 10), spec.pop("seed")

    def whole(v: Any) -> bool:
        return isinstance(v, int | np.integer) and not isinstance(v, bool)

    if not whole(n) or n < 1:
        raise InputError(f"must be a positive whole number, got {n!r}", field="data.synthetic.n_exchanges")
    if not (whole(years) or isinstance(years, float)) or not np.isfinite(years) or years <= 0:
        raise InputError(f"must be a positive number of years, got {years!r}", field="data.synthetic.years")
    if not whole(seed) or not 0 <= seed < 2**32:
        raise InputError(f"must be a whole number from 0 to {2**32 - 1}, got {seed!r}", field="data.synthetic.seed")
    return int(n), years, int(seed), spec


def synthetic_book(spec: dict[str, Any]) -> Book:
    """A synthetic book from a spec ``{"n_exchanges", "years", "seed", ...}``."""
    from underwriting.datasets.synthetic import make_exchange_portfolio

    n, years, seed, spec = synthetic_spec(spec)
    try:
        book = make_exchange_portfolio(n, years=years, seed=seed, **spec)
    except TypeError as exc:
        raise InputError(f"unknown generator option ({exc})", field="data.synthetic") from None
    full = {"n_exchanges": n, "years": years, "seed": seed, **spec}
    return Book(
        exchanges=book.exchanges, incidents=book.incidents, vendors=book.vendors,
        exit_dates=book.lifetimes.set_index("exchange_id")["exit_date"],
        start=pd.Timestamp(book.truth.start), end=pd.Timestamp(book.truth.end),
        source={"kind": "synthetic", "generator": "underwriting.datasets.synthetic.make_exchange_portfolio",
                "spec": full},
        description=f"SYNTHETIC book: make_exchange_portfolio({', '.join(f'{k}={v}' for k, v in full.items())})",
        parts={"real": ["base breach rate and loss sizes of the generator are calibrated to the bundled real "
                        "tables (datasets/incidents.csv, datasets/exchanges.csv)"],
               "synthetic": ["every exchange, its posture, vendors and breaches", "the effect of every security "
                             "control (an assumption of the generator, see docs/datasets.md)"]},
        truth=book.truth,
    )


# --------------------------------------------------------------------------- user frames


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


def write_book(book: Book, directory: str | os.PathLike[str], fmt: str = "csv") -> Path:
    """Write a book as user frames (``exchanges``/``incidents``/``vendors`` in ``fmt``), e.g. to
    try ``underwriting train --data DIR`` on a synthetic book.

    ``book`` is a :class:`Book` or the generator's output
    (:func:`underwriting.datasets.synthetic.make_exchange_portfolio`), whose ``lifetimes`` give the
    exit dates."""
    if not isinstance(book, Book):
        lifetimes = getattr(book, "lifetimes", None)
        if lifetimes is None or not hasattr(book, "exchanges"):
            raise InputError(f"expected a Book or a SyntheticPortfolio, got {type(book).__name__}", field="book")
        book = Book(exchanges=book.exchanges, incidents=book.incidents, vendors=book.vendors,
                    exit_dates=lifetimes.set_index("exchange_id")["exit_date"],
                    start=pd.Timestamp(book.truth.start), end=pd.Timestamp(book.truth.end),
                    source={"kind": "synthetic"}, description="synthetic portfolio")
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    ex = book.exchanges.copy()
    ex["exit_date"] = ex["exchange_id"].map(book.exit_dates)
    inc = book.incidents[[c for c in (*INCIDENT_COLUMNS, "vendor") if c in book.incidents]]
    for name, df in (("exchanges", ex), ("incidents", inc), ("vendors", book.vendors[list(VENDOR_COLUMNS)])):
        if fmt == "csv":
            df.to_csv(d / f"{name}.csv", index=False, date_format="%Y-%m-%d", float_format="%.17g")
        elif fmt == "parquet":
            out = df.copy()
            for c in out.columns:
                if out[c].dtype == object:
                    out[c] = out[c].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
            out.to_parquet(d / f"{name}.parquet", index=False)
        else:
            raise InputError("must be 'csv' or 'parquet'", field="fmt")
    return d


# --------------------------------------------------------------------------- landmark rows


def landmark_dates(book: Book, horizon_years: float) -> list[pd.Timestamp]:
    """Yearly landmarks from the window start while ``t + horizon <= end``."""
    step = pd.Timedelta(days=round(DAYS_PER_YEAR))
    h = pd.Timedelta(days=round(horizon_years * DAYS_PER_YEAR))
    marks, t = [], book.start
    while t + h <= book.end:
        marks.append(t)
        t = t + step
    if not marks:
        raise InputError(f"the data window {book.start.date()} to {book.end.date()} is shorter than the horizon "
                         f"({horizon_years} years): no landmark row can be labelled", field="data")
    return marks


def training_set(book: Book, horizon_years: float = 1.0, feature_params: dict | None = None) -> LandmarkSet:
    """Landmark rows with features and labels (and the oracle probability for synthetic books).

    For a synthetic book this is exactly :func:`underwriting.scoring.shipped.synthetic_training_set`.
    """
    from underwriting.features import exchange_features
    from underwriting.scoring.shipped import landmark_rows

    marks = landmark_dates(book, horizon_years)
    rows, y = landmark_rows(book.exchanges, book.incidents, landmarks=marks, horizon_years=horizon_years,
                            exit_dates=book.exit_dates)
    if len(y) == 0:
        raise InputError("no landmark rows: no exchange is at risk at any landmark", field="data")
    feats = exchange_features(book.incidents, book.vendors, **(feature_params or {})).fit_transform(rows)
    oracle = None
    if book.truth is not None:
        snap = book.exchanges.set_index("exchange_id").loc[rows["exchange_id"]].reset_index()
        age = ((rows["as_of"] - pd.to_datetime(rows["launch_date"])).dt.days / DAYS_PER_YEAR).to_numpy(float)
        oracle = 1.0 - np.exp(-book.truth.cumulative_hazard(snap, start=age, stop=age + horizon_years))
    return LandmarkSet(rows=rows, features=feats, y=np.asarray(y, dtype=int), groups=rows["exchange_id"].to_numpy(),
                       landmarks=pd.to_datetime(rows["as_of"]).to_numpy(), oracle=oracle, horizon_years=horizon_years)
