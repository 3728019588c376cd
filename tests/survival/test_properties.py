"""Property tests: window additivity, risk in [0, 1] and non-decreasing in the horizon."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from underwriting.survival import TimeToBreachModel

from ._sim import weibull_ph

X, Y, _ = weibull_ph(300, seed=21)
MODELS = {f: TimeToBreachModel(family=f, horizon=2.0, n_intervals=4).fit(X, Y)
          for f in ("coxph", "weibull_aft", "lognormal_aft", "loglogistic_aft", "piecewise_exponential")}
T_MAX = float(min(m.follow_up_ for m in MODELS.values()))

families = st.sampled_from(sorted(MODELS))
rows = st.lists(st.floats(-3, 3), min_size=3, max_size=3).map(lambda v: pd.DataFrame([v], columns=X.columns))
times = st.floats(0.0, T_MAX)


@settings(max_examples=60, deadline=None)
@given(families, rows, times, times, times)
def test_window_additivity(family, x, a, b, c):
    m = MODELS[family]
    a, b, c = sorted([a, b, c])
    whole = m.predict_cumulative_hazard(x, a, c)[0]
    parts = m.predict_cumulative_hazard(x, a, b)[0] + m.predict_cumulative_hazard(x, b, c)[0]
    assert abs(whole - parts) <= 1e-12 * max(1.0, whole)
    assert m.predict_cumulative_hazard(x, 0.0, b)[0] >= 0


@settings(max_examples=60, deadline=None)
@given(families, rows, st.lists(times, min_size=2, max_size=6))
def test_risk_bounded_and_monotone(family, x, hs):
    m = MODELS[family]
    hs = np.sort(np.asarray(hs))
    risk = np.array([m.predict_risk(x, h)[0] for h in hs])
    assert np.all((risk >= 0) & (risk <= 1))
    assert np.all(np.diff(risk) >= -1e-15)
    surv = m.predict_survival(x, hs)[0]
    np.testing.assert_allclose(risk, 1 - surv, atol=1e-15)
