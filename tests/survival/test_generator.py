"""Parameter recovery on the project's synthetic book (``make_exchange_portfolio``).

Own breaches in the generator are a Weibull-in-age proportional-hazards Poisson process with
known log-hazard coefficients on ``truth.design_matrix``; vendor-caused breaches are a separate
process and are left out of the target here. Counting-process rows run from entry (left
truncation at the exchange's age at the window start) between successive own breaches to exit.

Tolerances: 95% Wald intervals of the piecewise-exponential model (8 baseline intervals, an
approximation of the Weibull baseline) cover the true coefficients in at least 85% of the
3 x 44 intervals (3.5 binomial s.d. below nominal would be 0.88; 0.85 allows for the baseline
approximation), and the fitted concordance is within 0.01 of the true linear predictor's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from underwriting.datasets import synthetic
from underwriting.survival import TimeToBreachModel, survival_target
from underwriting.survival.metrics import concordance_index

DAYS = 365.25


def own_breach_rows(book) -> pd.DataFrame:
    """Counting-process rows (start, stop, n) per exchange from the book's own breaches."""
    lt = book.lifetimes.set_index("exchange_id")
    launch = pd.to_datetime(lt["launch_date"])

    def age(ids, dates):
        return (pd.to_datetime(dates).to_numpy() - launch.loc[ids].to_numpy()) / np.timedelta64(1, "D") / DAYS

    inc = book.incidents[book.incidents["cause"] == "own"]
    inc = inc.assign(a=age(inc["exchange_id"].to_numpy(), inc["date"]))
    ev = inc.groupby(["exchange_id", "a"]).size().rename("n").reset_index()
    by_ex = {k: g for k, g in ev.groupby("exchange_id")}
    ids = lt.index.to_numpy()
    a0 = age(ids, lt["entry_date"])
    a1 = age(ids, lt["exit_date"])
    out = []
    for i, eid in enumerate(ids):
        start = a0[i]
        g = by_ex.get(eid)
        if g is not None:
            for a, n in zip(g["a"].to_numpy(), g["n"].to_numpy(), strict=True):
                stop = max(a, start + 1e-6)
                out.append((eid, start, stop, n))
                start = stop
        if a1[i] > start:
            out.append((eid, start, a1[i], 0))
    return pd.DataFrame(out, columns=["exchange_id", "start", "stop", "n"])


@pytest.mark.slow
def test_generator_coefficients_recovered():
    hits, gaps = [], []
    for seed in range(3):
        book = synthetic.make_exchange_portfolio(3000, years=10, seed=seed)
        rows = own_breach_rows(book)
        X = book.truth.design_matrix(book.exchanges)
        X.index = book.exchanges["exchange_id"].to_numpy()
        Xr = X.loc[rows["exchange_id"]].reset_index(drop=True)
        truth = pd.Series(book.truth.coefficients)[Xr.columns]
        m = TimeToBreachModel(family="piecewise_exponential", n_intervals=8)
        m.fit(Xr, survival_target(rows["stop"], rows["n"], entry=rows["start"]))
        z = (m.coef_ - truth) / m.standard_errors_
        hits.append((z.abs() <= 1.959964).to_numpy())
        c_true = concordance_index(rows["stop"], rows["n"] > 0, Xr.to_numpy() @ truth.to_numpy())
        gaps.append(m.concordance_ - c_true)
    coverage = np.mean(np.concatenate(hits))
    assert coverage >= 0.85, coverage
    assert np.max(np.abs(gaps)) < 0.01, gaps
