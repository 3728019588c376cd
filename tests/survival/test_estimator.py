"""TimeToBreachModel: published oracles, agreement with lifelines, scikit-learn contract, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_rossi
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

from underwriting.errors import InputError
from underwriting.survival import TimeToBreachModel, survival_target

from ._sim import weibull_ph

ROSSI_COEF = {"fin": -0.3794222, "age": -0.0574377, "race": 0.3138998, "wexp": -0.1497957,
              "mar": -0.4337039, "paro": -0.0848711, "prio": 0.0914971}
ROSSI_C = 0.6403292


@pytest.fixture(scope="module")
def rossi():
    df = load_rossi()
    X = df.drop(columns=["week", "arrest"])
    y = survival_target(df["week"], df["arrest"])
    return df, X, y


def test_rossi_cox_oracle(rossi):
    _, X, y = rossi
    m = TimeToBreachModel(family="coxph", horizon=52).fit(X, y)
    for name, value in ROSSI_COEF.items():
        assert m.coef_[name] == pytest.approx(value, abs=1e-6)
    assert m.concordance_ == pytest.approx(ROSSI_C, abs=1e-7)
    assert m.score(X, y) == pytest.approx(ROSSI_C, abs=1e-7)


@pytest.mark.parametrize("family", ["coxph", "weibull_aft", "lognormal_aft", "loglogistic_aft"])
def test_predictions_match_lifelines(rossi, family):
    """Our plain-data predict path reproduces lifelines' own predictions."""
    _, X, y = rossi
    m = TimeToBreachModel(family=family, horizon=52).fit(X, y)
    # Event times only: between them lifelines interpolates the Breslow baseline linearly,
    # while we keep the estimator's step function (Λ0(25.5) = Λ0(25)).
    times = np.array([1.0, 10.0, 25.0, 52.0])
    ref = m.lifelines_model_.predict_survival_function(X.iloc[:40], times=times).T.to_numpy()
    np.testing.assert_allclose(m.predict_survival(X.iloc[:40], times), ref, rtol=1e-10, atol=1e-12)


def test_aft_score_ranks_by_risk_not_median(rossi):
    _, X, y = rossi
    m = TimeToBreachModel(family="weibull_aft", horizon=52).fit(X, y)
    from underwriting.survival.metrics import concordance_index

    risk = m.predict_risk(X, 52)
    assert m.score(X, y) == pytest.approx(concordance_index(y["time"], y["event"], risk), abs=1e-12)


def test_target_forms_agree(rossi):
    df, X, y = rossi
    forms = [y, (df["week"].to_numpy(), df["arrest"].to_numpy()),
             df[["week", "arrest"]], df[["week", "arrest"]].to_numpy(),
             pd.DataFrame({"duration": df["week"], "event": df["arrest"].astype(bool)})]
    coefs = [TimeToBreachModel().fit(X, f).coef_.to_numpy() for f in forms]
    for c in coefs[1:]:
        np.testing.assert_array_equal(c, coefs[0])


def test_sklearn_contract_and_gridsearch():
    X, y, _ = weibull_ph(300, seed=3)
    est = TimeToBreachModel(family="coxph", penalizer=0.0, horizon=2.0)
    assert est.get_params()["penalizer"] == 0.0
    est.set_params(penalizer=0.1, family="weibull_aft")
    assert est.penalizer == 0.1 and est.family == "weibull_aft"
    c = clone(est)
    assert c.get_params() == est.get_params() and not hasattr(c, "state_")
    gs = GridSearchCV(TimeToBreachModel(horizon=2.0),
                      {"family": ["coxph", "weibull_aft", "piecewise_exponential"], "penalizer": [0.0, 0.5]},
                      cv=KFold(3, shuffle=True, random_state=0))
    gs.fit(X, y)
    assert set(gs.best_params_) == {"family", "penalizer"}
    assert 0.6 < gs.best_score_ < 0.9
    assert np.isfinite(gs.cv_results_["mean_test_score"]).all()


def test_window_is_difference_of_cumulative_hazard(rossi):
    _, X, y = rossi
    m = TimeToBreachModel(horizon=52).fit(X, y)
    H = m.predict_cumulative_hazard_at(X.iloc[:10], [10.0, 30.0])
    np.testing.assert_array_equal(m.predict_cumulative_hazard(X.iloc[:10], 10.0, 30.0), H[:, 1] - H[:, 0])
    # per-row windows
    starts = np.linspace(0, 20, 10)
    w = m.predict_cumulative_hazard(X.iloc[:10], starts, starts + 12)
    assert w.shape == (10,) and np.all(w >= 0)


def test_no_silent_extrapolation(rossi):
    _, X, y = rossi
    m = TimeToBreachModel(horizon=52).fit(X, y)
    with pytest.raises(InputError, match=r"horizon 60 is beyond the training data's maximum follow-up 52"):
        m.predict_risk(X.iloc[:2], 60)
    with pytest.raises(InputError, match="beyond"):
        m.predict_cumulative_hazard(X.iloc[:2], 40, 53)
    for family in ("coxph", "weibull_aft", "piecewise_exponential"):
        mt = TimeToBreachModel(family=family, horizon=52, extrapolation="tail").fit(X, y)
        lam = mt.predict_cumulative_hazard_at(X.iloc[:3], [52.0, 60.0, 80.0])
        assert np.all(np.diff(lam, axis=1) > 0), family  # the tail keeps accruing hazard: never flat


def test_cox_tail_is_documented_constant_rate(rossi):
    _, X, y = rossi
    m = TimeToBreachModel(horizon=52, extrapolation="tail", tail_window=13).fit(X, y)
    x = X.iloc[:1]
    h = m.predict_cumulative_hazard_at(x, [39.0, 52.0, 65.0])[0]
    # the tail hazard over (52, 65] equals the average over the last 13 weeks of follow-up
    assert h[2] - h[1] == pytest.approx(h[1] - h[0], rel=1e-12)


def test_strata(rossi):
    df, X, y = rossi
    m = TimeToBreachModel(strata=["wexp"], horizon=52).fit(X, y)
    assert "wexp" not in m.coef_.index
    # lifelines returns stratified predictions grouped by stratum (rows reordered): realign
    ref = m.lifelines_model_.predict_survival_function(X.iloc[:30], times=[20.0, 52.0]).T.sort_index().to_numpy()
    np.testing.assert_allclose(m.predict_survival(X.iloc[:30], [20.0, 52.0]), ref, rtol=1e-10)
    bad = X.iloc[:1].copy()
    bad["wexp"] = 7
    with pytest.raises(InputError, match="stratum"):
        m.predict_risk(bad, 10)
    with pytest.raises(InputError, match="coxph.* only"):
        TimeToBreachModel(family="weibull_aft", strata=["wexp"]).fit(X, y)


def test_bad_inputs(rossi):
    df, X, y = rossi
    with pytest.raises(InputError, match="unknown family"):
        TimeToBreachModel(family="cox").fit(X, y)
    Xn = X.copy()
    Xn.loc[3, "age"] = np.nan
    with pytest.raises(InputError, match=r"non-finite values in \['age'\]"):
        TimeToBreachModel().fit(Xn, y)
    with pytest.raises(InputError, match="durations must be positive"):
        TimeToBreachModel().fit(X, survival_target(df["week"] - 60, df["arrest"]))
    with pytest.raises(InputError, match="0/1"):
        TimeToBreachModel().fit(X, survival_target(df["week"], df["arrest"] * 2))
    with pytest.raises(InputError, match="rows"):
        TimeToBreachModel().fit(X.iloc[:10], y)
    m = TimeToBreachModel(horizon=52).fit(X, y)
    with pytest.raises(InputError, match="lacks column"):
        m.predict_risk(X.drop(columns=["age"]), 10)
    with pytest.raises(InputError, match="start >= stop"):
        TimeToBreachModel().fit(X, (df["week"].to_numpy(), df["week"].to_numpy(), df["arrest"].to_numpy()))
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TimeToBreachModel().predict_risk(X, 1.0)


def test_left_truncated_breslow_matches_counting_process_definition():
    """Late entry: the Breslow baseline uses risk sets entry < t <= stop (lifelines' does not)."""
    from lifelines import CoxTimeVaryingFitter

    X, y, _ = weibull_ph(400, seed=11)
    rng = np.random.default_rng(0)
    entry = y["time"] * rng.uniform(0, 0.6, size=len(y))
    yt = survival_target(y["time"], y["event"], entry=entry)
    m = TimeToBreachModel(horizon=2.0).fit(X, yt)
    long = X.assign(id=np.arange(len(X)), start=entry, stop=y["time"], event=y["event"])
    ctv = CoxTimeVaryingFitter().fit(long, id_col="id", event_col="event", start_col="start", stop_col="stop")
    np.testing.assert_allclose(m.coef_.to_numpy(), ctv.params_.reindex(m.coef_.index).to_numpy(), rtol=1e-5)  # optimiser tolerances
    # both baselines are at the covariate means: compare Λ for one row
    bh = ctv.baseline_cumulative_hazard_
    t_grid = bh.index.to_numpy()[::25]
    ours = m.predict_cumulative_hazard_at(X.iloc[:1], t_grid)[0]
    ref = bh.iloc[::25, 0].to_numpy() * np.exp((X.iloc[0] - X.mean()).to_numpy() @ ctv.params_.reindex(m.coef_.index).to_numpy())
    np.testing.assert_allclose(ours, ref, rtol=1e-5)
