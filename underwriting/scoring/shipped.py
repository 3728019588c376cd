"""Training rows for the risk scorer, and the fit of the shipped scorer on the synthetic book.

Landmarking
    A scorer predicts P(breach within ``h`` years of the as-of date). From a book observed over a
    window, each exchange at risk at a landmark date ``t`` gives one row: its frame row with
    ``as_of = t`` (so incident-history and vendor-compromise features use only what happened
    before ``t``) and the label "a breach in ``[t, t + h)``". Rows whose follow-up ends before
    ``t + h`` without a breach are dropped (their outcome is unknown). Rows of one exchange are
    correlated, so folds and bootstraps group by ``exchange_id``.
Static posture
    The synthetic book states posture once, at the start of the window, and holds it fixed. With
    ``hold_posture=True`` the dated answers (last penetration test, last red team) are moved with
    the landmark so their age at ``as_of`` stays what it was at the start.
Oracle
    :func:`synthetic_training_set` also returns the true probability of each row from the
    generator's :class:`~underwriting.datasets.synthetic.GroundTruth` (own Weibull hazard over the
    row's age interval plus the vendor component), the yardstick of the scorer's discrimination.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from underwriting.datasets.synthetic import make_exchange_portfolio
from underwriting.domain.frames import DATE_POSTURE_COLUMNS
from underwriting.domain.vocabulary import DAYS_PER_YEAR
from underwriting.errors import InputError
from underwriting.features import exchange_features
from underwriting.features._common import as_timestamps
from underwriting.scoring.artifact import DEFAULT_FEATURE_PARAMS, save
from underwriting.scoring.model import RiskScorer
from underwriting.scoring.validation import validate_scores

#: Seed and size of the synthetic book the shipped scorer is fitted on (and of its test book).
DEFAULT_TRAIN = {"n_exchanges": 4000, "years": 10, "seed": 20261121}
DEFAULT_TEST_SEED_OFFSET = 1
#: Penalty of the shipped scorer (chosen on the toy and synthetic books; see docs/scoring.md).
DEFAULT_C = 0.05


def landmark_rows(exchanges: pd.DataFrame, incidents: pd.DataFrame, *, landmarks, horizon_years: float = 1.0,
                  exit_dates: pd.Series | None = None, hold_posture: bool = True) -> tuple[pd.DataFrame, np.ndarray]:
    """Landmark rows of a book and their labels (see the module docstring).

    Parameters
    ----------
    exchanges : DataFrame
        Exchange frame (``EXCHANGE_COLUMNS``), one row per exchange.
    incidents : DataFrame
        ``exchange_id`` and ``date`` of every breach.
    landmarks : sequence of dates
    horizon_years : float
    exit_dates : Series, optional
        End of follow-up per ``exchange_id`` (closure or end of data); default: no exit.
    hold_posture : bool
        Move dated posture answers with the landmark (static posture).

    Returns
    -------
    rows : DataFrame
        Exchange rows with ``as_of`` = landmark (index 0..n-1).
    y : ndarray of int
    """
    if not (isinstance(horizon_years, int | float) and horizon_years > 0):
        raise InputError(f"must be a positive number, got {horizon_years!r}", field="horizon_years")
    ex = exchanges.reset_index(drop=True)
    launch = as_timestamps(ex["launch_date"], field="launch_date")
    snap = as_timestamps(ex["as_of"], field="as_of")
    exit_ = (ex["exchange_id"].map(exit_dates) if exit_dates is not None
             else pd.Series(pd.NaT, index=ex.index, dtype="datetime64[ns]"))
    exit_ = pd.to_datetime(exit_).fillna(pd.Timestamp.max)
    h = pd.Timedelta(days=round(horizon_years * DAYS_PER_YEAR))
    inc = incidents[["exchange_id", "date"]].copy()
    inc["date"] = as_timestamps(inc["date"], field="incidents.date")
    parts, labels = [], []
    for t in pd.to_datetime(list(landmarks)):
        at_risk = (launch <= t) & (exit_ > t)
        rows = ex[at_risk].copy()
        if hold_posture:
            shift = t - snap[at_risk]
            for c in DATE_POSTURE_COLUMNS:
                rows[c] = pd.to_datetime(rows[c]) + shift
        rows["as_of"] = t
        hit = inc[(inc["date"] >= t) & (inc["date"] < t + h)]["exchange_id"].unique()
        y = rows["exchange_id"].isin(hit).to_numpy()
        complete = (exit_[at_risk] >= t + h).to_numpy()
        keep = y | complete
        parts.append(rows[keep])
        labels.append(y[keep].astype(int))
    out = pd.concat(parts, ignore_index=True) if parts else ex.iloc[:0].copy()
    return out, (np.concatenate(labels) if labels else np.zeros(0, dtype=int))


@dataclass(frozen=True)
class TrainingSet:
    """Landmark rows of a synthetic book with features, labels, groups and the oracle probability."""

    rows: pd.DataFrame
    features: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray
    oracle: np.ndarray
    book: Any
    horizon_years: float


def synthetic_training_set(n_exchanges: int = 2000, years: float = 10, seed: int = 0, *,
                           horizon_years: float = 1.0, feature_params: dict | None = None,
                           **generator_kw) -> TrainingSet:
    """Generate a synthetic book and turn it into landmark rows (yearly landmarks from the start).

    ``generator_kw`` go to :func:`underwriting.datasets.synthetic.make_exchange_portfolio`.
    """

    book = make_exchange_portfolio(n_exchanges, years=years, seed=seed, **generator_kw)
    start = pd.Timestamp(book.truth.start)
    end = pd.Timestamp(book.truth.end)
    step = pd.Timedelta(days=round(DAYS_PER_YEAR))
    marks = []
    t = start
    while t + pd.Timedelta(days=round(horizon_years * DAYS_PER_YEAR)) <= end:
        marks.append(t)
        t = t + step
    exits = book.lifetimes.set_index("exchange_id")["exit_date"]
    rows, y = landmark_rows(book.exchanges, book.incidents, landmarks=marks, horizon_years=horizon_years,
                            exit_dates=exits)
    feats = exchange_features(book.incidents, book.vendors, **(feature_params or {})).fit_transform(rows)
    # oracle: truth evaluated on the snapshot rows (posture as generated), over the row's age interval
    snap = book.exchanges.set_index("exchange_id").loc[rows["exchange_id"]].reset_index()
    age = ((rows["as_of"] - pd.to_datetime(rows["launch_date"])).dt.days / DAYS_PER_YEAR).to_numpy(float)
    lam = book.truth.cumulative_hazard(snap, start=age, stop=age + horizon_years)
    oracle = 1.0 - np.exp(-lam)
    return TrainingSet(rows=rows, features=feats, y=y, groups=rows["exchange_id"].to_numpy(),
                       oracle=oracle, book=book, horizon_years=horizon_years)


def fit_synthetic_scorer(n_exchanges: int = DEFAULT_TRAIN["n_exchanges"], years: float = DEFAULT_TRAIN["years"],
                         seed: int = DEFAULT_TRAIN["seed"], *, horizon_years: float = 1.0,
                         n_boot: int = 500, **scorer_kw) -> tuple[RiskScorer, dict]:
    """Fit a scorer on one synthetic book and validate it on an independent one (seed + 1).

    Returns the fitted scorer and JSON-ready metadata: the training data, the validation report
    (scorer next to the oracle, with bootstrap intervals) and the calibration table.
    """

    scorer_kw.setdefault("C", DEFAULT_C)
    train = synthetic_training_set(n_exchanges, years, seed, horizon_years=horizon_years)
    test = synthetic_training_set(n_exchanges, years, seed + DEFAULT_TEST_SEED_OFFSET,
                                  horizon_years=horizon_years)
    scorer = RiskScorer(horizon_years=horizon_years, random_state=seed, **scorer_kw).fit(
        train.features, train.y, groups=train.groups)
    report = validate_scores(test.y, scorer.p_breach(test.features), oracle=test.oracle, groups=test.groups,
                             n_boot=n_boot, seed=seed)
    meta = {
        "trained_on": "SYNTHETIC data: underwriting.datasets.synthetic.make_exchange_portfolio "
                      f"(n_exchanges={n_exchanges}, years={years}, seed={seed}); posture effects are the "
                      "generator's assumptions, not estimates from real outcomes",
        "training": {"generator": "make_exchange_portfolio", "n_exchanges": n_exchanges, "years": years,
                     "seed": seed, "rows": int(len(train.y)), "events": int(train.y.sum()),
                     "landmarks": "yearly from the window start", "horizon_years": horizon_years},
        "validation": {"generator_seed": seed + DEFAULT_TEST_SEED_OFFSET, **report.to_dict()},
    }
    return scorer, meta


def build_model(directory, version: str = "0.1.0", *, n_boot: int = 500, **kw) -> tuple[RiskScorer, dict]:
    """Fit the shipped scorer (:func:`fit_synthetic_scorer`, fixed seed) and save it to
    ``directory/scorer.json``. Deterministic: the same call writes the same bytes."""
    from pathlib import Path

    scorer, meta = fit_synthetic_scorer(n_boot=n_boot, **kw)
    meta = {"version": version, **meta}
    save(scorer, Path(directory) / "scorer.json", feature_params=DEFAULT_FEATURE_PARAMS, metadata=meta)
    return scorer, meta
