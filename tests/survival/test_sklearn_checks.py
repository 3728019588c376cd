"""scikit-learn's estimator checks on :class:`TimeToBreachModel`, each case asserting what is true.

A time-to-breach model is fitted on a survival target, ``(duration, event)`` or ``(start, stop,
event)``; scikit-learn's checks pass a plain 1-D ``y`` of labels, which the model refuses with an
``InputError`` naming ``y`` ("target has shape ..."). The checks that fit on such a ``y``
(:data:`NEED_SURVIVAL_TARGET`) assert that refusal (after any part of the check that runs before
the fit, e.g. the NaN/inf refusal of ``X``); the properties they cover are tested on survival
targets in ``test_estimator.py`` and ``test_persistence.py``. Every other check must pass
(cloning, parameters, repr, tags, not-fitted errors, the refusal of sparse input).
"""

from __future__ import annotations

import pytest

from tests.sklearn_cases import check_name, refused_array, sklearn_cases
from underwriting.errors import InputError
from underwriting.survival.estimator import TimeToBreachModel

NEED_SURVIVAL_TARGET = frozenset((
    "check_complex_data", "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object",
    "check_estimators_dtypes", "check_estimators_empty_data_messages", "check_estimators_fit_returns_self",
    "check_estimators_nan_inf", "check_estimators_overwrite_params", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_fit2d_1feature", "check_fit2d_1sample", "check_fit2d_predict1d",
    "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_n_features_in",
    "check_n_features_in_after_fitting", "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
))
CASES = sklearn_cases([TimeToBreachModel()])


def test_every_listed_check_exists():
    assert NEED_SURVIVAL_TARGET <= {check_name(c) for _, c in CASES}


@pytest.mark.parametrize(("estimator", "check"), CASES, ids=[check_name(c) for _, c in CASES])
def test_sklearn_check(estimator, check):
    if check_name(check) not in NEED_SURVIVAL_TARGET:
        check(estimator)
        return
    with pytest.raises((InputError, AssertionError, ValueError)) as info:
        check(estimator)
    assert refused_array(info.value, "target has shape"), repr(info.value)
