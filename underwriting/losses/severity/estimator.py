"""scikit-learn estimator wrapping the severity fit."""

from __future__ import annotations

from typing import Any

import numpy as np

from underwriting.losses.severity.base import ArrayLike
from underwriting.losses.severity.fitting import _neg_loglik, fit_severity
from underwriting.losses.severity.selection import select_severity


class SeverityEstimator:
    """scikit-learn-style wrapper around :func:`fit_severity`.

    Parameters
    ----------
    family : str
        Severity family, or ``"auto"`` for selection by AIC.
    threshold : float
        Reporting threshold (left truncation), currency units.

    Attributes
    ----------
    fit_ : SeverityFit
        Set by :meth:`fit`.
    severity_ : Severity
        The fitted distribution.
    """

    def __init__(self, family: str = "lognormal", threshold: float = 0.0):
        self.family = family
        self.threshold = threshold

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"family": self.family, "threshold": self.threshold}

    def set_params(self, **params: Any) -> SeverityEstimator:
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X: ArrayLike, y: Any = None) -> SeverityEstimator:
        """Fit to loss amounts ``X`` (1-D, or a single-column 2-D array)."""
        x = np.asarray(X, dtype=float).reshape(-1)
        if self.family == "auto":
            self.fit_ = select_severity(x, self.threshold).best
        else:
            self.fit_ = fit_severity(x, self.threshold, self.family)
        self.severity_ = self.fit_.severity
        return self

    def score(self, X: ArrayLike, y: Any = None) -> float:
        """Mean truncated log-likelihood per amount (higher is better)."""
        x = np.asarray(X, dtype=float).reshape(-1)
        return -_neg_loglik(self.severity_, x, float(self.threshold)) / x.size
