"""RiskScorer: monotone directions, determinism, column order, reason codes, save/load, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.features.toy import toy_book, toy_panel
from underwriting.errors import InputError, ModelIntegrityError
from underwriting.features import exchange_features, feature_directions
from underwriting.scoring.artifact import load, save
from underwriting.scoring.model import RiskScorer, assign_bands, risk_score


@pytest.fixture(scope="module")
def data():
    book = toy_book(400, seed=5)
    rows, y, oracle = toy_panel(book, years=range(2016, 2025))
    feats = exchange_features(book.incidents, book.vendors).fit_transform(rows)
    return feats, y, rows["exchange_id"].to_numpy()


@pytest.fixture(scope="module")
def scorer(data):
    X, y, g = data
    return RiskScorer(C=0.05, random_state=3).fit(X, y, groups=g)


def test_coefficients_respect_documented_directions(scorer):
    dirs = feature_directions()
    for f, b in zip(scorer.features_, scorer.coef_, strict=True):
        assert b * dirs[f] >= 0, f


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(0, 10_000), step=st.floats(0.01, 3.0), which=st.integers(0, 10_000))
def test_better_control_never_raises_risk(scorer, data, row, step, which):
    """Other things equal, moving any directed feature the 'better' way never raises P(breach)."""
    X = data[0]
    x = X.iloc[[row % len(X)]]
    directed = [f for f in scorer.features_ if feature_directions()[f] != 0]
    f = directed[which % len(directed)]
    better = x.copy()
    better[f] = better[f] - feature_directions()[f] * step  # direction -1: more is better
    assert scorer.p_breach(better)[0] <= scorer.p_breach(x)[0]


def test_deterministic_for_a_seed(data, scorer):
    X, y, g = data
    again = RiskScorer(C=0.05, random_state=3).fit(X, y, groups=g)
    assert again.to_dict() == scorer.to_dict()
    other = RiskScorer(C=0.05, random_state=4).fit(X, y, groups=g)
    assert other.calibration_ != scorer.calibration_  # the seed only moves the calibration folds


def test_stable_under_column_order(data, scorer):
    X, y, g = data
    rev = X[X.columns[::-1]]
    refit = RiskScorer(C=0.05, random_state=3).fit(rev, y, groups=g)
    assert np.array_equal(refit.p_breach(X), scorer.p_breach(X))
    assert np.array_equal(scorer.p_breach(rev), scorer.p_breach(X))


def test_calibrated_on_average(data, scorer):
    X, y, _ = data
    assert scorer.p_breach(X).mean() == pytest.approx(y.mean(), rel=0.1)


def test_reason_codes_come_from_the_model(data, scorer):
    X = data[0].iloc[:50]
    C = scorer.contributions(X)
    np.testing.assert_allclose(scorer.intercept_ + C.sum(axis=1), scorer.decision_function(X), rtol=1e-12)
    for i, reasons in enumerate(scorer.reasons(X, n=4)):
        sizes = [abs(r.contribution) for r in reasons]
        assert sizes == sorted(sizes, reverse=True)
        for r in reasons:
            members = [f for f, *_ in r.features]
            assert r.contribution == pytest.approx(C.iloc[i][members].sum())
            assert (r.direction == "raises") == (r.contribution > 0)
            assert np.sign(r.p_effect) == np.sign(r.contribution)
    # a different model gives different reasons: nothing is a fixed list
    flipped = RiskScorer.from_dict({**scorer.to_dict(), "coef": list(-np.abs(scorer.coef_))})
    assert [r.factor for r in flipped.reasons(X.iloc[:1])[0]] != [r.factor for r in scorer.reasons(X.iloc[:1])[0]] \
        or [r.direction for r in flipped.reasons(X.iloc[:1])[0]] != [r.direction for r in scorer.reasons(X.iloc[:1])[0]]


def test_bands_and_score_scale():
    assert list(assign_bands([0.0, 0.019, 0.02, 0.05, 0.1, 0.5])) == ["A", "A", "B", "C", "D", "E"]
    assert risk_score(0.001) == pytest.approx(0.0) and risk_score(0.5) == pytest.approx(100.0)
    assert risk_score(1e-6) == 0.0 and risk_score(0.99) == 100.0
    assert np.all(np.diff(risk_score(np.linspace(0.001, 0.5, 50))) > 0)


@pytest.mark.parametrize("calibration", ["platt", "isotonic", "none"])
def test_save_load_reproduces_predictions_exactly(data, tmp_path, calibration):
    X, y, g = data
    s = RiskScorer(C=0.05, calibration=calibration).fit(X, y, groups=g)
    path = save(s, tmp_path / "scorer.json", metadata={"note": "test"})
    loaded = load(path)
    assert np.array_equal(loaded.p_breach(X), s.p_breach(X))
    assert np.array_equal(loaded.bands(X), s.bands(X))
    assert loaded.reasons(X.iloc[:3]) == s.reasons(X.iloc[:3])
    assert loaded.metadata_ == {"note": "test"}
    assert "pickle" not in path.read_text()


def test_tampered_or_foreign_files_are_refused(scorer, tmp_path):
    path = save(scorer, tmp_path / "scorer.json")
    doc = json.loads(path.read_text())
    doc["model"]["coef"][0] += 1.0
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        load(path)
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(ModelIntegrityError, match="not a risk-scorer"):
        load(tmp_path / "other.json")
    with pytest.raises(ModelIntegrityError):
        load(tmp_path / "missing.json")


def test_bad_training_input_names_the_field(data):
    X, y, _ = data
    with pytest.raises(InputError) as err:
        RiskScorer().fit(X, np.full(len(y), 2))
    assert err.value.field == "y"
    with pytest.raises(InputError) as err:
        RiskScorer().fit(X, np.zeros(len(y)))
    assert err.value.field == "y"
    bad = X.copy()
    bad.iloc[0, 3] = np.nan
    with pytest.raises(InputError) as err:
        RiskScorer().fit(bad, y)
    assert err.value.field == X.columns[3]
    with pytest.raises(InputError) as err:
        RiskScorer(features=["no_such_feature"]).fit(X, y)
    assert err.value.field == "no_such_feature"
    with pytest.raises(InputError) as err:
        RiskScorer(band_thresholds=(0.1, 0.05, 0.2, 0.3)).fit(X, y)
    assert err.value.field == "band_thresholds"
    with pytest.raises(InputError) as err:
        RiskScorer(calibration="magic").fit(X, y)
    assert err.value.field == "calibration"


def test_unconstrained_scorer_is_available(data):
    X, y, g = data
    free = RiskScorer(directions=None, C=0.05).fit(X, y, groups=g)
    assert (free.directions_ == 0).all()
    assert isinstance(free.predict_proba(X.iloc[:2]), np.ndarray)
    assert pd.Series(free.predict(X)).isin([0, 1]).all()
