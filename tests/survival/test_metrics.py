"""Metrics against scikit-survival's published implementation, calibration plot, seeded CV.

Reference numbers were computed once with scikit-survival 0.28.0 (sklearn 1.9.1) on the data of
``_data()`` below (``concordance_index_ipcw``, ``concordance_index_censored``,
``cumulative_dynamic_auc``, ``brier_score``, ``integrated_brier_score``); scikit-survival is not a
dependency of the project.
"""

from __future__ import annotations

import numpy as np
import pytest

from underwriting.survival import TimeToBreachModel
from underwriting.survival import metrics as M

from ._sim import weibull_ph

SKSURV = {
    "uno_c_tau2": 0.7024527309580916,
    "harrell_c": 0.6926707748787203,
    "auc": [0.6351607723693213, 0.7260803099723088, 0.751066203878892, 0.7781978407761526],
    "mean_auc": 0.7231748160112903,
    "brier": [0.12388289253103674, 0.1807133841578477, 0.2154671149621609, 0.195517173218563],
    "ibs": 0.19189258512903493,
}


def _data():
    rng = np.random.default_rng(2024)
    n = 350
    x = rng.normal(size=n)
    t_ev = rng.exponential(1 / (0.3 * np.exp(0.8 * x)))
    c = rng.uniform(0.2, 6.0, size=n)
    t = np.round(np.minimum(t_ev, c), 1) + 0.1  # ties on purpose
    e = t_ev <= c
    times = np.array([0.5, 1.0, 2.0, 3.0])
    S = np.exp(-0.3 * np.exp(0.8 * x)[:, None] * times[None, :] * rng.uniform(0.7, 1.3, size=(n, 1)))
    return t[:200], e[:200], t[200:], e[200:], S[200:], times


def test_against_scikit_survival():
    ttr, etr, tte, ete, S, times = _data()
    risk = 1 - S
    assert M.concordance_index_ipcw(ttr, etr, tte, ete, risk[:, 2], tau=2.0) == pytest.approx(SKSURV["uno_c_tau2"], abs=1e-12)
    assert M.concordance_index(tte, ete, risk[:, 2]) == pytest.approx(SKSURV["harrell_c"], abs=1e-12)
    auc, mean_auc = M.cumulative_dynamic_auc(ttr, etr, tte, ete, risk, times)
    np.testing.assert_allclose(auc, SKSURV["auc"], atol=1e-12)
    assert mean_auc == pytest.approx(SKSURV["mean_auc"], abs=1e-12)
    np.testing.assert_allclose(M.brier_score(ttr, etr, tte, ete, S, times), SKSURV["brier"], atol=1e-12)
    assert M.integrated_brier_score(ttr, etr, tte, ete, S, times) == pytest.approx(SKSURV["ibs"], abs=1e-12)


def test_ipcw_refuses_horizon_at_data_cutoff():
    t = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0])
    e = np.array([1, 0, 1, 1, 0, 0, 0], bool)  # everyone left is censored at the cut-off 5.0
    with pytest.raises(ValueError, match="inside follow-up"):
        M.brier_score(t, e, t, e, np.full((7, 1), 0.5), [5.0])
    with pytest.raises(ValueError, match="inside follow-up"):
        M.concordance_index_ipcw(t, e, t, e, np.arange(7.0), tau=5.0)


def test_calibration_well_specified_model(tmp_path):
    X, y, truth = weibull_ph(3000, seed=31)
    m = TimeToBreachModel(horizon=1.0).fit(X, y)
    risk = m.predict_risk(X, 1.0)
    cal = M.calibration_at_horizon(y["time"], y["event"], risk, 1.0, plot_path=tmp_path / "cal.png")
    assert cal.ici < 0.02 and cal.e50 < 0.02 and cal.e90 < 0.05
    png = (tmp_path / "cal.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # a miscalibrated prediction (risk doubled) is detected
    bad = M.calibration_at_horizon(y["time"], y["event"], np.minimum(2 * risk, 0.99), 1.0)
    assert bad.ici > 3 * cal.ici


def test_cross_validation_seeded_parallel_and_global_state_untouched():
    X, y, _ = weibull_ph(400, seed=41)
    est = TimeToBreachModel(family="weibull_aft", horizon=2.0)
    np.random.seed(12345)  # noqa: NPY002 - the legacy global state is what must stay untouched
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    r1 = M.cross_validate(est, X, y, horizon=2.0, times=[0.5, 1.0, 2.0], n_splits=4, seed=7, n_jobs=1)
    after = np.random.get_state()[1]  # noqa: NPY002
    assert np.array_equal(before, after)
    r2 = M.cross_validate(est, X, y, horizon=2.0, times=[0.5, 1.0, 2.0], n_splits=4, seed=7, n_jobs=2)
    # same folds and numbers; lifelines' AFT optimiser may differ in the last bit across processes
    import pandas as pd

    pd.testing.assert_frame_equal(r1, r2, rtol=1e-12)
    r3 = M.cross_validate(est, X, y, horizon=2.0, n_splits=4, seed=8, n_jobs=1)
    assert not np.array_equal(r1["harrell_c"].to_numpy(), r3["harrell_c"].to_numpy())
    assert list(r1.columns) == ["fold", "n_train", "n_test", "events_test", "harrell_c", "uno_c", "auc",
                                "brier", "ibs"]
    assert (r1["harrell_c"] > 0.6).all() and (r1["auc"] > 0.6).all() and (r1["brier"] < 0.25).all()
