"""scikit-learn's estimator checks as plain ``(estimator, check)`` pairs, so that a test can assert
what each check does (pass, or raise a named error) instead of marking it as an expected failure."""

from __future__ import annotations

import functools


def check_name(check) -> str:
    """Name of a check callable from :func:`sklearn.utils.estimator_checks.estimator_checks_generator`."""
    while isinstance(check, functools.partial):
        check = check.func
    return check.__name__


def sklearn_cases(estimators) -> list[tuple[object, object]]:
    """Every check scikit-learn runs on each estimator (legacy checks included), unmarked."""
    from sklearn.utils.estimator_checks import estimator_checks_generator

    return [(est, check) for e in estimators
            for est, check in estimator_checks_generator(e, legacy=True, mark=None)]


def refused_array(exc: BaseException, needs: str = "needs a pandas DataFrame") -> bool:
    """Whether ``exc`` is, or was raised while handling, an ``InputError`` saying ``needs``."""
    from underwriting.errors import InputError

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, InputError) and needs in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
