"""The quote's frame-free frequency path gives exactly (==, bit for bit) the numbers of the pandas path.

The quote builds the one-row covariates as :class:`RawCovariates` (no DataFrame), asks the base
model for rate and interval in one pass (``_rate_and_interval``), takes the normal quantile from a
cache and copies its per-quote result with a plain-data copy instead of ``copy.deepcopy``. Every
test here compares the fast form with the public pandas form, or with ``design`` run on a
DataFrame as the frame path did, using exact equality.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from underwriting.domain.currency import FxTable
from underwriting.domain.submission import Submission
from underwriting.frequency.base_design import RawCovariates, design
from underwriting.frequency.base_model import (
    BaseFrequencyModel,
    norm_quantile,
    submission_covariates,
)
from underwriting.frequency.base_panel import covariates_from_submission
from underwriting.resources import example_path

NUMERIC = ("volume_24h_usd", "age_years", "security_points", "year")


@pytest.fixture(scope="module")
def bf():
    from underwriting.frequency.model import load_breach_frequency

    return load_breach_frequency()


def _bits(a) -> bytes:
    return np.ascontiguousarray(np.asarray(a, dtype=float)).tobytes()


def _frame_rate(model: BaseFrequencyModel, X: pd.DataFrame) -> np.ndarray:
    """Rates of the rows with a known volume, as the frame path computed them: ``design`` on a
    DataFrame of the raw covariates (year: the data end)."""
    raw = pd.DataFrame(index=X.index)
    for c in ("volume_24h_usd", "age_years", "security_points"):
        raw[c] = pd.to_numeric(X[c]).astype(float) if c in X else np.nan
    raw["country"] = X["country"] if "country" in X else None
    raw["year"] = model.data_end_
    known = raw["volume_24h_usd"].notna()
    D = design(raw[known], model.reference_log_volume_, trend=True, trend_cap=model.data_end_,
               unknown_as_offshore=model.unknown_as_offshore)[:, model._columns("trend" in model.terms_)]
    return np.exp(D @ model.coef_.to_numpy())


COUNTRIES = ["JP", "US", "SC", "KY", "VG", "MT", "gb", " hk ", "", "  ", None]
volumes = st.one_of(st.just(float("nan")), st.just(0.0), st.floats(min_value=0.0, max_value=1e13, allow_nan=False),
                    st.floats(min_value=1e2, max_value=1e11).map(lambda v: float(round(v))))
rows = st.fixed_dictionaries({
    "volume_24h_usd": volumes, "age_years": st.one_of(st.just(float("nan")), st.floats(0.0, 30.0)),
    "country": st.sampled_from(COUNTRIES),
    "security_points": st.one_of(st.just(float("nan")), st.floats(0.0, 10.0)),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(rows, min_size=1, max_size=6), st.floats(0.5, 0.99))
def test_raw_covariates_give_the_frame_numbers_exactly(bf, recs, level):
    model = bf.base_model
    X = pd.DataFrame(recs, index=[3 * i + 5 for i in range(len(recs))])
    raw = RawCovariates.from_records(recs)
    rate, lo, hi = model._rate_and_interval(raw, level)
    iv = model.predict_interval(X, level)
    assert _bits(rate) == _bits(model.annual_rate(X)) == _bits(iv["annual_rate"])
    assert _bits(lo) == _bits(iv["lo"]) and _bits(hi) == _bits(iv["hi"])
    assert list(iv.index) == list(X.index)
    assert _bits(model.predict(raw)) == _bits(rate)
    known = ~np.isnan(X["volume_24h_usd"].to_numpy())
    assert _bits(rate[known]) == _bits(_frame_rate(model, X))
    assert np.all(lo <= rate) and np.all(rate <= hi)


def _varied_submissions(n: int, seed: int) -> list[Submission]:
    rng = random.Random(seed)
    bases = [json.loads(example_path(f).read_text(encoding="utf-8"))
             for f in ("jp_small_exchange.json", "hk_exchange_with_incident.json", "global_large_exchange.json")]
    out = []
    while len(out) < n:
        d = copy.deepcopy(rng.choice(bases))
        d["exchange"]["name"] = f"Exchange {len(out)}"
        d["exchange"]["jurisdiction"] = rng.choice(["JP", "US", "HK", "SC", "KY", "MT", "gb", "BR"])
        d["exchange"]["launch_date"] = (dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(2500))).isoformat()
        d["exposure"]["currency"] = rng.choice(["JPY", "USD", "EUR", "HKD", "KRW", "TRY"])
        d["exposure"]["trading_volume_12m"] = round(10 ** rng.uniform(5, 13), rng.choice([0, 2]))
        as_of = min(dt.date(rng.choice(range(2019, 2027)), 1, 1) + dt.timedelta(days=rng.randrange(365)),
                    dt.date(2026, 11, 30))
        d["as_of"] = as_of.isoformat()
        for k, v in d["posture"].items():
            if isinstance(v, str) and len(v) == 10 and v[4] == "-":
                d["posture"][k] = (as_of - dt.timedelta(days=rng.randrange(1, 700))).isoformat()
        for inc in d.get("incidents", []):
            inc["date"] = (as_of - dt.timedelta(days=rng.randrange(30, 900))).isoformat()
        try:
            out.append(Submission.model_validate(d))
        except ValueError:  # e.g. an incident before the drawn launch date: draw again
            continue
    return out


def test_explain_on_raw_covariates_equals_explain_on_the_frame(bf):
    fx = FxTable.bundled()
    subs = _varied_submissions(40, seed=19)
    for s in subs:
        frame = covariates_from_submission(s, fx=fx)
        raw = RawCovariates.from_records([submission_covariates(s, fx=fx)])
        for years in (1.0, 1.5):
            a = bf.explain(raw, [s], years=years)[0]
            b = bf.explain(frame, [s], years=years)[0]
            assert a == b and a.to_dict() == b.to_dict()
        iv = bf.base_model.predict_interval(frame, bf.level)
        assert a.base_rate == bf.base_model.annual_rate(frame).iloc[0] == iv["annual_rate"].iloc[0]
        assert a.base_interval == (iv["lo"].iloc[0], iv["hi"].iloc[0])
    frame = pd.concat([covariates_from_submission(s, fx=fx) for s in subs], ignore_index=True)
    raw = RawCovariates.from_records([submission_covariates(s, fx=fx) for s in subs])
    assert bf.explain(raw, subs) == bf.explain(frame, subs)
    assert bf.predict(raw, subs).equals(bf.predict(frame, subs).reset_index(drop=True))


def test_submission_covariates_are_the_frame_row():
    fx = FxTable.bundled()
    subs = [*_varied_submissions(10, seed=7), {"as_of": "2025-01-01", "exchange": {"jurisdiction": " "}}, {}]
    for s in subs:
        row = covariates_from_submission(s, fx=fx).iloc[0]
        cov = submission_covariates(s, fx=fx)
        assert list(cov) == list(row.index)
        for c in NUMERIC:
            assert _bits([cov[c]]) == _bits([row[c]])
        assert cov["country"] == row["country"]


def test_quote_stage_uses_the_frame_numbers(bf):
    """The one risk model of the quote equals BreachFrequency.explain on the public DataFrame."""
    from underwriting.quote import frequency as qf

    fx = FxTable.bundled()
    for s in _varied_submissions(8, seed=3):
        fe, _, _ = qf._one_risk_model(s, s.as_of + dt.timedelta(days=1), 1.0, 0.0, fx, None, qf._schedule_table(None))
        res = bf.explain(covariates_from_submission(s, fx=fx), [s], years=1.0)[0]
        assert fe.annual_rate == res.annual_rate and fe.expected_breaches == res.expected_breaches
        assert fe.detail["base"]["interval"] == list(res.base_interval)
        assert fe.detail["base"]["annual_rate"] == bf.base_model.annual_rate(covariates_from_submission(s, fx=fx)).iloc[0]
        assert fe.detail["base"]["covariates"]["country"] == s.exchange.jurisdiction


def test_norm_quantile_is_scipy_ppf():
    from scipy import stats

    for p in (0.5, 0.75, 0.9, 0.95, 0.975, 0.995, 0.5 + 0.9 / 2):
        q = norm_quantile(p)
        assert q == stats.norm.ppf(p) and type(q) is type(stats.norm.ppf(p))


def _containers(obj, out):
    if isinstance(obj, (dict, list)):
        out.append(obj)
        for v in obj.values() if isinstance(obj, dict) else obj:
            _containers(v, out)
    elif isinstance(obj, tuple):
        for v in obj:
            _containers(v, out)
    return out


def test_each_caller_gets_its_own_copy_equal_to_deepcopy():
    from underwriting.quote import frequency as qf

    s = _varied_submissions(1, seed=11)[0]
    fx, table = FxTable.bundled(), qf._schedule_table(None)
    start = s.as_of + dt.timedelta(days=1)
    tok = qf._QUOTE_SCOPE.set({})
    try:
        a = qf._one_risk_model(s, start, 1.0, 0.0, fx, None, table)
        stored = next(v[0] for k, v in qf._QUOTE_SCOPE.get().items() if k[0] == "one_risk_model")
        snapshot = copy.deepcopy(stored)
        assert a == snapshot and qf._copy_estimate(stored[0]) == copy.deepcopy(stored[0])
        ids_stored = {id(c) for c in _containers((stored[0].detail, stored[0].factors, stored[1], stored[2]), [])}
        ids = {id(c) for c in _containers((a[0].detail, a[0].factors, a[1], a[2]), [])}
        a[0].detail["annual_rate"] = -1.0
        a[0].detail["schedule"]["factors"][0]["factor"] = -1.0
        a[0].factors[0]["multiplier"] = -1.0
        a[1]["frequency"] = "changed"
        b = qf._one_risk_model(s, start, 1.0, 0.0, fx, None, table)
        ids_b = {id(c) for c in _containers((b[0].detail, b[0].factors, b[1], b[2]), [])}
        assert not ids & ids_b and not ids & ids_stored and not ids_b & ids_stored
        assert stored == snapshot and b == snapshot
        assert b[0].detail["annual_rate"] == b[0].annual_rate > 0
        assert b[0].detail["schedule"]["factors"][0]["factor"] > 0 and b[0].factors[0]["multiplier"] > 0
        assert b[1]["frequency"] != "changed"
    finally:
        qf._QUOTE_SCOPE.reset(tok)
    assert qf._plain_copy({"a": [1, (2.0, {"b": None})], "c": np.float64(3.0)}) == {"a": [1, (2.0, {"b": None})], "c": 3.0}


def test_a_subclass_override_is_used_and_other_models_get_a_frame(bf):
    from underwriting.frequency.model import BreachFrequency

    class Doubled(BaseFrequencyModel):
        def annual_rate(self, X, *, year=None):
            return 2 * super().annual_rate(X, year=year)

    base = Doubled.from_dict(bf.base_model.to_dict())
    recs = [{"volume_24h_usd": 1e6, "age_years": 2.0, "country": "JP", "security_points": math.nan}]
    m, lo, hi = base._rate_and_interval(RawCovariates.from_records(recs), 0.9)
    plain, _, _ = bf.base_model._rate_and_interval(RawCovariates.from_records(recs), 0.9)
    assert m[0] == 2 * plain[0]

    class FrameOnly:
        def annual_rate(self, X):
            assert isinstance(X, pd.DataFrame)
            return pd.Series(0.01, index=X.index)

        def predict_interval(self, X, level):
            assert isinstance(X, pd.DataFrame)
            return pd.DataFrame({"lo": 0.005, "hi": 0.02}, index=X.index)

    s = _varied_submissions(1, seed=5)[0]
    res = BreachFrequency(FrameOnly(), prior_strength=3.0).fit().explain(
        RawCovariates.from_records([submission_covariates(s)]), [s])[0]
    assert res.base_rate == 0.01 and res.base_interval == (0.005, 0.02)


def test_raw_covariates_check_their_shape_and_negative_volumes(bf):
    from underwriting.errors import InputError

    with pytest.raises(ValueError, match="shape"):
        RawCovariates({"volume_24h_usd": [1.0, 2.0]}, 1)
    with pytest.raises(InputError, match="non-negative"):
        bf.base_model.predict(RawCovariates.from_records([{"volume_24h_usd": -1.0, "country": "JP"}]))
    raw = RawCovariates.from_records([{"volume_24h_usd": 5.0, "country": None}, {"volume_24h_usd": None, "country": "JP"}])
    assert len(raw) == 2 and raw.columns == ["volume_24h_usd", "country"] and math.isnan(raw["volume_24h_usd"][1])
    assert list(raw.take(np.array([False, True]))["country"]) == ["JP"]
    assert list(raw.with_column("volume_24h_usd", 0.0)["volume_24h_usd"]) == [0.0, 0.0]
