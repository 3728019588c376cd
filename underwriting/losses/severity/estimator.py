"""scikit-learn estimator wrapping the left-truncated severity fit."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from underwriting.errors import InputError
from underwriting.losses.severity.base import ArrayLike
from underwriting.losses.severity.fitting import _neg_loglik, fit_severity
from underwriting.losses.severity.selection import select_severity


class SeverityEstimator(BaseEstimator):
    """scikit-learn estimator of a loss-size distribution reported above a threshold.

    ``X`` is one column (shape ``(n_samples, 1)``) of loss amounts (currency units), each at or above ``threshold``;
    ``y`` is ignored. The constructor stores its arguments untouched; everything learnt ends
    in ``_``.

    Parameters
    ----------
    family : str, default "lognormal"
        Severity family (``lognormal``, ``lomax``, ``weibull``, ``gamma``, ``spliced``), or
        ``"auto"`` for selection by AIC.
    threshold : float, default 0.0
        Reporting threshold (left truncation), currency units.

    Attributes
    ----------
    fit_ : SeverityFit
        The fit (parameters, covariance, goodness of fit).
    severity_ : Severity
        The fitted distribution.
    n_features_in_ : int
        Always 1.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).lognormal(12, 1.5, 200).reshape(-1, 1)
    >>> est = SeverityEstimator("lognormal").fit(x)
    >>> round(est.severity_.params["mu"], 1)
    12.0
    """

    def __init__(self, family: str = "lognormal", threshold: float = 0.0):
        self.family = family
        self.threshold = threshold

    def _amounts(self, X: ArrayLike, *, reset: bool) -> np.ndarray:
        x = validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite=True,
                          ensure_min_samples=5 if reset else 1)
        if np.any(x < 0):
            raise ValueError("Negative values in data passed to SeverityEstimator: loss amounts are positive")
        if x.shape[1] != 1:
            raise ValueError(f"SeverityEstimator takes one column of loss amounts, got {x.shape[1]} columns")
        return np.asarray(x, dtype=float).reshape(-1)

    def fit(self, X: ArrayLike, y: Any = None) -> SeverityEstimator:
        """Fit to loss amounts ``X`` (one column, ``(n_samples, 1)``; currency units).

        Raises
        ------
        InputError
            Fewer than 5 amounts, non-positive amounts, or amounts below ``threshold``.
        """
        x = self._amounts(X, reset=True)
        if not isinstance(self.family, str):
            raise InputError(f"family must be a string, got {self.family!r}", field="family")
        if self.family.strip().lower() == "auto":
            self.fit_ = select_severity(x, self.threshold).best
        else:
            self.fit_ = fit_severity(x, self.threshold, self.family)
        self.severity_ = self.fit_.severity
        return self

    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """Truncated log-density of each amount (per currency unit)."""
        check_is_fitted(self)
        x = self._amounts(X, reset=False)
        t = float(self.threshold)
        ld = np.asarray(self.severity_.logpdf(x), dtype=float)
        if t > 0:
            ld = ld - float(self.severity_.logsf(t))
        return np.where(x >= t, ld, -np.inf)

    def score(self, X: ArrayLike, y: Any = None) -> float:
        """Mean truncated log-likelihood per amount (higher is better)."""
        check_is_fitted(self)
        x = self._amounts(X, reset=False)
        return -_neg_loglik(self.severity_, x, float(self.threshold)) / x.size

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.target_tags.required = False
        return tags
