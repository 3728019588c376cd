"""The shipped time-to-breach model: a landmark piecewise-exponential model on a calibrated synthetic book.

Why landmarks. A quote needs the expected number of breaches in a policy window that starts at (or
shortly after) the submission's as-of date, with the exchange's posture, exposure, vendors and
incident history *as of that date*. A landmark model answers exactly that: at yearly landmark dates
``t`` every exchange at risk contributes one row, with its features as of ``t`` (the same feature
pipeline as the risk scorer) and the time from ``t`` to its next breach, censored at exit or after
``horizon`` years. A piecewise-exponential model on time since the landmark then gives the
cumulative hazard of any window ``[s, e]`` within the horizon directly (no flat Breslow tail: a
window beyond ``horizon`` raises). Posture changes and recent incidents move the hazard because the
features are recomputed at every landmark. Age enters as ``log_age_years``.

Why synthetic. No public data joins security posture to outcomes, so the model is fitted on
:func:`~underwriting.datasets.make_exchange_portfolio`, whose base breach rate and loss sizes are
calibrated to the real curated tables and whose posture effects are documented assumptions. The
validation compares it with the generator's true hazard (the oracle) on an independent book.

Recurrent breaches. The generator's breaches form a Poisson process given the covariates (no
self-excitation), so the hazard of the *next* breach from a landmark equals the breach intensity and
its integral over a window is the expected number of breaches there (the frequency hand-off).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from underwriting.datasets import make_exchange_portfolio
from underwriting.domain.frames import DATE_POSTURE_COLUMNS
from underwriting.domain.vocabulary import DAYS_PER_YEAR
from underwriting.fileio import atomic_write_text, canonical_json
from underwriting.survival._target import survival_target
from underwriting.survival.estimator import TimeToBreachModel
from underwriting.survival.metrics import calibration_at_horizon, concordance_index
from underwriting.survival.persistence import save

HALF_DAY_YEARS = 0.5 / DAYS_PER_YEAR
#: Defaults of the shipped model (seeded; ``make models`` rebuilds it byte for byte).
DEFAULTS: dict[str, Any] = {"n_exchanges": 4000, "years": 10, "seed": 20261121, "horizon": 3.0,
                            "breakpoints": (0.5, 1.0, 2.0), "validation_seed_offset": 1}


def landmark_survival_rows(book, *, horizon: float, step_years: float = 1.0) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows at yearly landmarks with the time to the next breach.

    Parameters
    ----------
    book : SyntheticPortfolio
        From :func:`~underwriting.datasets.make_exchange_portfolio`.
    horizon : float
        Follow-up after each landmark, in years (administrative censoring).
    step_years : float
        Spacing of landmarks, in years.

    Returns
    -------
    rows : DataFrame
        Exchange rows with ``as_of`` set to the landmark (dated posture answers moved with it).
    y : structured array
        ``(event, time)`` with time in years since the landmark.
    """
    ex = book.exchanges.reset_index(drop=True)
    life = book.lifetimes.set_index("exchange_id")
    start = pd.Timestamp(ex["as_of"].min())
    end = pd.Timestamp(life["exit_date"].max())
    exit_ = pd.to_datetime(ex["exchange_id"].map(life["exit_date"])).fillna(end)
    launch = pd.to_datetime(ex["launch_date"])
    snap = pd.to_datetime(ex["as_of"])
    inc = book.incidents[["exchange_id", "date"]].copy()
    inc["date"] = pd.to_datetime(inc["date"])
    step = pd.Timedelta(days=round(step_years * DAYS_PER_YEAR))
    h = pd.Timedelta(days=round(horizon * DAYS_PER_YEAR))
    parts, times, events = [], [], []
    t = start
    while t < end:
        at_risk = ((launch <= t) & (exit_ > t)).to_numpy()
        rows = ex[at_risk].copy()
        shift = t - snap[at_risk]
        for c in DATE_POSTURE_COLUMNS:
            rows[c] = pd.to_datetime(rows[c]) + shift
        rows["as_of"] = t
        # Features use incidents dated before t; an incident dated on or after t is an outcome (one
        # dated on the landmark day itself counts with half a day of exposure instead of being lost).
        nxt = inc[inc["date"] >= t].groupby("exchange_id")["date"].min()
        first = pd.to_datetime(rows["exchange_id"].map(nxt))
        cens = np.minimum(exit_[at_risk].to_numpy(), (t + h).to_datetime64())
        cens = np.minimum(cens, end.to_datetime64())
        hit = first.notna().to_numpy() & (first.to_numpy() <= cens)
        stop = np.where(hit, first.to_numpy(), cens)
        dur = (stop - t.to_datetime64()) / np.timedelta64(1, "D") / DAYS_PER_YEAR
        dur = np.where(hit & (dur <= 0), HALF_DAY_YEARS, dur)
        keep = dur > 0
        parts.append(rows[keep])
        times.append(dur[keep])
        events.append(hit[keep].astype(int))
        t = t + step
    rows = pd.concat(parts, ignore_index=True)

    return rows, survival_target(np.concatenate(times), np.concatenate(events))


def _features(book, rows: pd.DataFrame) -> pd.DataFrame:
    from underwriting.features import exchange_features

    return exchange_features(book.incidents, book.vendors).fit_transform(rows)


def fit_shipped_survival(*, n_exchanges: int = DEFAULTS["n_exchanges"], years: float = DEFAULTS["years"],
                         seed: int = DEFAULTS["seed"], horizon: float = DEFAULTS["horizon"],
                         breakpoints=DEFAULTS["breakpoints"], penalizer: float = 0.0) -> tuple[TimeToBreachModel, dict]:
    """Fit the landmark model on one synthetic book and validate it against the oracle on another.

    ``penalizer`` is the estimator's L2 penalty on standardised coefficients (0, the shipped model, fits
    by plain maximum likelihood); a small book needs one, since a rare feature level with no breach
    separates and the unpenalised fit's information matrix is then singular or nearly so, which
    floating-point noise between CPUs decides.

    Returns
    -------
    model : TimeToBreachModel
    meta : dict
        Training data description and validation figures (JSON-ready).
    """

    book = make_exchange_portfolio(n_exchanges, years, seed=seed)
    rows, y = landmark_survival_rows(book, horizon=horizon)
    X = _features(book, rows)
    model = TimeToBreachModel(family="piecewise_exponential", breakpoints=list(breakpoints), horizon=1.0,
                              penalizer=penalizer).fit(X, y)

    vseed = seed + DEFAULTS["validation_seed_offset"]
    vbook = make_exchange_portfolio(n_exchanges, years, seed=vseed)
    vrows, vy = landmark_survival_rows(vbook, horizon=horizon)
    vX = _features(vbook, vrows)
    risk = model.predict_risk(vX, 1.0)
    age = (pd.to_datetime(vrows["as_of"]) - pd.to_datetime(vrows["launch_date"])).dt.days.to_numpy() / DAYS_PER_YEAR
    oracle = 1.0 - np.exp(-vbook.truth.cumulative_hazard(vrows, age, horizon=1.0))
    t, e = vy["time"], vy["event"]
    cal = calibration_at_horizon(t, e, risk, 1.0)
    meta = {
        "trained_on": ("SYNTHETIC data: underwriting.datasets.make_exchange_portfolio "
                       f"(n_exchanges={n_exchanges}, years={years}, seed={seed}); base rate and loss sizes "
                       "calibrated to the real tables, posture effects are the generator's assumptions"),
        "design": {"rows": "yearly landmarks, time to next breach", "horizon_years": horizon,
                   "family": "piecewise_exponential", "breakpoints": list(breakpoints),
                   "n_rows": int(len(y)), "n_events": int(y["event"].sum()),
                   "n_features": int(X.shape[1])},
        "validation": {"generator_seed": vseed, "n_rows": int(len(vy)), "n_events": int(e.sum()),
                       "harrell_c_1y_model": concordance_index(t, e, risk),
                       "harrell_c_1y_oracle": concordance_index(t, e, oracle),
                       "mean_predicted_1y": float(risk.mean()), "mean_oracle_1y": float(oracle.mean()),
                       "ici_1y": float(cal.ici), "e50_1y": float(cal.e50)},
    }
    return model, meta


def build_model(directory: str | Path, version: str = "0.1.0") -> tuple[TimeToBreachModel, dict]:
    """Fit the shipped model with the defaults and save it as plain data, with a metadata file."""

    model, meta = fit_shipped_survival()
    directory = Path(directory)
    save(model, directory)
    meta = {"version": version, **meta}
    atomic_write_text(directory / "training.json", canonical_json(meta))
    return model, meta


def feature_row(submission, fx=None) -> pd.DataFrame:
    """The submission's features as of its ``as_of`` date (the model's landmark), default parameters."""
    from underwriting.features import submission_features

    return submission_features(submission, fx)


def policy_window_years(submission, terms) -> tuple[float, float]:
    """The policy window on the landmark axis: years from ``as_of`` to inception and to expiry."""
    start = max((terms.inception - submission.as_of).days, 0) / DAYS_PER_YEAR
    return start, start + terms.term_years
