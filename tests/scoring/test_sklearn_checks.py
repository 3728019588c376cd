"""scikit-learn's estimator checks on :class:`RiskScorer`, each case asserting what is true.

The scorer reads NAMED feature columns (its coefficients' documented directions are keyed by feature
name), so it refuses an unnamed array with an ``InputError`` ("needs a DataFrame of named
features"). scikit-learn's checks that train on bare arrays therefore assert that refusal
(:data:`NEED_NAMED_FEATURES`); the properties they cover are tested on feature frames in
``test_scorer.py``. Every other check must pass.
"""

from __future__ import annotations

import pytest

from tests.sklearn_cases import check_name, refused_array, sklearn_cases
from underwriting.errors import InputError
from underwriting.scoring.model import RiskScorer

NEED_NAMED_FEATURES = frozenset((
    "check_classifier_data_not_an_array", "check_classifiers_classes", "check_classifiers_one_label",
    "check_classifiers_regression_target", "check_classifiers_train", "check_complex_data",
    "check_decision_proba_consistency", "check_dict_unchanged", "check_dont_overwrite_parameters",
    "check_dtype_object", "check_estimator_sparse_array", "check_estimator_sparse_matrix",
    "check_estimator_sparse_tag", "check_estimators_dtypes", "check_estimators_empty_data_messages",
    "check_estimators_fit_returns_self", "check_estimators_nan_inf", "check_estimators_overwrite_params",
    "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_fit2d_1feature", "check_fit2d_1sample",
    "check_fit2d_predict1d", "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_n_features_in",
    "check_n_features_in_after_fitting", "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input", "check_requires_y_none", "check_supervised_y_2d",
))
CASES = sklearn_cases([RiskScorer()])


def test_every_listed_check_exists():
    assert NEED_NAMED_FEATURES <= {check_name(c) for _, c in CASES}


@pytest.mark.parametrize(("estimator", "check"), CASES, ids=[check_name(c) for _, c in CASES])
def test_sklearn_check(estimator, check):
    if check_name(check) not in NEED_NAMED_FEATURES:
        check(estimator)
        return
    with pytest.raises((InputError, AssertionError, ValueError)) as info:
        check(estimator)
    assert refused_array(info.value, "needs a DataFrame of named features"), repr(info.value)


def test_artifact_feature_params_are_the_pipeline_defaults():
    """The scorer file records the feature parameters; the shipped ones are the pipeline's defaults,
    which is what lets a quote build the features once for the scorer and the survival model."""
    from underwriting.features import DEFAULT_FEATURE_PARAMS, feature_params
    from underwriting.scoring import load_scorer
    from underwriting.scoring.artifact import DEFAULT_FEATURE_PARAMS as SAVED

    assert feature_params(**SAVED) == DEFAULT_FEATURE_PARAMS
    assert feature_params(**load_scorer().feature_params_) == DEFAULT_FEATURE_PARAMS
