"""SeverityEstimator is a scikit-learn estimator: sklearn's own checks run on it.

It models one column of strictly positive loss amounts. scikit-learn's generic checks fit on
several columns of arbitrary reals (shifted so the minimum is 0 for ``positive_only``
estimators), which a univariate loss-size distribution cannot take; those checks are strict
expected failures below, each with the reason. The behaviours they would have checked
(pickling, idempotent fits, cloning, n_features_in_, not touching parameters) are checked on
valid one-column data in the tests after them.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from underwriting.losses.severity import SeverityEstimator

_MULTI = ("fits on several feature columns; a severity is a distribution of one column of loss amounts "
          "(it raises ValueError naming the column count)")
_ZERO = ("fits on data shifted to a minimum of exactly 0; a zero loss has zero density under every "
         "severity family (it raises InputError, a ValueError, about non-positive amounts)")

EXPECTED_FAILED = {name: _MULTI for name in (
    "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_estimators_dtypes", "check_dtype_object", "check_pipeline_consistency", "check_estimators_nan_inf",
    "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_dict_unchanged", "check_fit_idempotent",
    "check_fit_check_is_fitted", "check_n_features_in", "check_fit2d_predict1d")}
EXPECTED_FAILED["check_fit2d_1feature"] = _ZERO


@parametrize_with_checks([SeverityEstimator()], expected_failed_checks=lambda est: EXPECTED_FAILED,
                         xfail_strict=True)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def amounts():
    rng = np.random.default_rng(7)
    x = rng.lognormal(12.0, 1.5, 4000)
    return x[x >= 1e5].reshape(-1, 1)


def test_fit_on_one_column_sets_trailing_underscore_attributes_only(amounts):
    est = SeverityEstimator("lognormal", threshold=1e5)
    before = est.get_params()
    est.fit(amounts)
    assert est.get_params() == before
    assert est.n_features_in_ == 1
    assert est.severity_.family == "lognormal"
    assert abs(est.severity_.params["mu"] - 12.0) < 0.3


def test_refit_is_idempotent_and_pickle_round_trips(amounts):
    a = SeverityEstimator("weibull", threshold=1e5).fit(amounts)
    b = clone(a).fit(amounts)
    assert a.severity_.params == b.severity_.params
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c.score_samples(amounts), a.score_samples(amounts))
    assert c.score(amounts) == pytest.approx(a.score_samples(amounts).mean(), rel=1e-12)


def test_rejects_several_columns_and_negative_amounts(amounts):
    with pytest.raises(ValueError, match="one column"):
        SeverityEstimator().fit(np.hstack([amounts, amounts]))
    with pytest.raises(ValueError, match="Negative values"):
        SeverityEstimator().fit(-amounts)
