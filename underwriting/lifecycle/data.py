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

:func:`underwriting.lifecycle.book_files.load_book` reads ``--data`` (the user's frames are read and
checked there) and returns a :class:`Book`; :func:`training_set` turns it into yearly landmark rows
(:func:`underwriting.scoring.shipped.landmark_rows`) with features and labels.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from underwriting.domain.frames import (
    INCIDENT_COLUMNS,
    VENDOR_COLUMNS,
)
from underwriting.errors import InputError

DAYS_PER_YEAR = 365.25


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
