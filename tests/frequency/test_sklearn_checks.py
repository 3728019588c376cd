"""scikit-learn's estimator checks on the premium-setting frequency models, each case asserting what is true.

:class:`BaseFrequencyModel` reads NAMED covariate columns (``volume_24h_usd``, ``country``,
``security_points``, ``exposure_years``, ``year``) and :class:`BreachFrequency` reads the same
covariates plus the exchanges' submissions; scikit-learn's checks feed unnamed random numeric
arrays. For the checks in :data:`NEED_FRAMES` the truth is that the model refuses such an array
with an :class:`~underwriting.errors.InputError` saying it needs a pandas DataFrame, and each of
those cases asserts exactly that (it fails if a check starts passing or fails for another reason).
Every other check (cloning, parameters, repr, tags, not-fitted errors, no attributes set in
``__init__``, ...) must pass. The fitted behaviour on real frames is tested in
``test_base_model.py`` and ``test_schedule_model.py``; the shipped model's numbers in the golden quotes.
"""

from __future__ import annotations

import pytest

from tests.sklearn_cases import check_name, refused_array, sklearn_cases
from underwriting.errors import InputError
from underwriting.frequency.base_model import BaseFrequencyModel
from underwriting.frequency.model import BreachFrequency

#: Checks that pass unnamed numeric arrays (the models need named covariate columns).
NEED_FRAMES = frozenset((
    "check_complex_data", "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object",
    "check_estimator_sparse_array", "check_estimator_sparse_matrix", "check_estimator_sparse_tag",
    "check_estimators_dtypes", "check_estimators_empty_data_messages", "check_estimators_fit_returns_self",
    "check_estimators_nan_inf", "check_estimators_overwrite_params", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_fit2d_1feature", "check_fit2d_1sample", "check_fit2d_predict1d",
    "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_n_features_in",
    "check_n_features_in_after_fitting", "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
))
#: Checks scikit-learn itself skips in this environment (array API input needs SCIPY_ARRAY_API=1).
SKIPPED_BY_SKLEARN = frozenset(("check_array_api_input",))

CASES = sklearn_cases([BaseFrequencyModel(), BreachFrequency(BaseFrequencyModel(), prior_strength=2.0)])


def test_every_listed_check_exists():
    names = {check_name(c) for _, c in CASES}
    assert NEED_FRAMES <= names, sorted(NEED_FRAMES - names)


@pytest.mark.parametrize(("estimator", "check"), CASES, ids=[f"{type(e).__name__}-{check_name(c)}" for e, c in CASES])
def test_sklearn_check(estimator, check):
    name = check_name(check)
    if name in SKIPPED_BY_SKLEARN:
        pytest.skip("scikit-learn skips it: SCIPY_ARRAY_API is not set")
    if name not in NEED_FRAMES:
        check(estimator)
        return
    with pytest.raises((InputError, AssertionError, ValueError)) as info:
        check(estimator)
    assert refused_array(info.value), repr(info.value)


def test_estimator_conventions():
    base = BaseFrequencyModel(trend=False, covariates=("volume",))
    assert base.get_params() == {"trend": False, "trend_alpha": 0.05, "level": 0.9, "covariates": ("volume",)}
    bf = BreachFrequency(base, prior_strength=3.0)
    assert bf.get_params(deep=True)["base_model__covariates"] == ("volume",)
    bf.set_params(base_model__level=0.8, n_reasons=3)
    assert base.level == 0.8 and bf.n_reasons == 3
    fitted = BreachFrequency(base, prior_strength=3.0).fit()
    assert {k for k in vars(fitted) if k.endswith("_")} >= {"schedule_", "prior_strength_", "prior_fit_"}
    assert fitted.prior_strength == 3.0  # the constructor argument, untouched


def test_the_shipped_model_loads_as_an_estimator():
    from sklearn.base import clone

    from underwriting.frequency.model import load_breach_frequency

    bf = load_breach_frequency()
    assert isinstance(bf.base_model, BaseFrequencyModel)
    assert bf.base_model.coef_.index.tolist() == bf.base_model.terms_
    fresh = clone(bf.base_model)
    assert fresh.get_params() == bf.base_model.get_params() and not hasattr(fresh, "coef_")
