"""scikit-learn's estimator checks on each transformer, each case asserting what is true.

The transformers read NAMED exchange-frame columns (questionnaire answers, ``exchange_id`` and
``as_of``, USD amounts); scikit-learn's checks feed unnamed random numeric arrays. For the checks
listed in :data:`NEED_ARRAYS` the truth is that the transformer refuses such an array with an
:class:`~underwriting.errors.InputError` naming what is missing, and that is what each of those cases
asserts (it fails if a check starts passing or fails for another reason). The same properties
(idempotent fit, pickling, sample-order and subset invariance, n_features_in_, feature names) are
tested on real exchange frames in ``test_features.py::test_sklearn_contract_on_exchange_frames``.
Every other check (cloning, parameters, repr, tags, not-fitted errors, ...) must pass.
"""

from __future__ import annotations

import pytest

from tests.sklearn_cases import check_name, refused_array, sklearn_cases
from underwriting.errors import InputError
from underwriting.features import (
    ExposureFeatures,
    IncidentHistoryFeatures,
    PostureEncoder,
    VendorFeatures,
)

#: Checks that pass unnamed numeric arrays (the transformers need named exchange-frame columns).
NEED_ARRAYS = frozenset((
    "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit", "check_estimators_dtypes", "check_complex_data", "check_dtype_object",
    "check_estimators_empty_data_messages", "check_pipeline_consistency", "check_estimators_nan_inf",
    "check_estimator_sparse_tag", "check_estimator_sparse_array", "check_estimator_sparse_matrix",
    "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_transformer_data_not_an_array",
    "check_transformer_general", "check_transformer_preserve_dtypes", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
    "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in", "check_fit2d_predict1d",
))

CASES = sklearn_cases([PostureEncoder(), ExposureFeatures(), IncidentHistoryFeatures(), VendorFeatures()])


def test_every_listed_check_exists():
    names = {check_name(c) for _, c in CASES}
    assert NEED_ARRAYS <= names, sorted(NEED_ARRAYS - names)


@pytest.mark.parametrize(("estimator", "check"), CASES, ids=[f"{type(e).__name__}-{check_name(c)}" for e, c in CASES])
def test_sklearn_check(estimator, check):
    if check_name(check) not in NEED_ARRAYS:
        check(estimator)
        return
    with pytest.raises((InputError, AssertionError, ValueError)) as info:
        check(estimator)
    # the refusal of the unnamed array, raised directly or wrapped by the check's own assertion
    assert refused_array(info.value), repr(info.value)


