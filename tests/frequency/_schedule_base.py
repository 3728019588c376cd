"""A small real base model for the schedule and experience tests: a Poisson GLM with an exposure
offset, fitted on seeded synthetic cohort data (the tests do not depend on the cohorts branch).

``annual_rate(X)`` and ``predict_interval(X, level)`` follow the base-model protocol of
:class:`underwriting.frequency.model.BreachFrequency`; the interval is the delta method on the
log rate with the inverse Fisher information as the coefficients' covariance.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import PoissonRegressor

#: Truth of the synthetic cohort: log rate = TRUE_INTERCEPT + TRUE_SLOPE * log_volume.
TRUE_INTERCEPT = math.log(0.03)
TRUE_SLOPE = 0.30
#: ln of the 12-month volume (USD) that maps to log_volume = 0.
VOLUME_REF = 1e9


def synthetic_cohort(n: int = 600, *, seed: int = 7, alpha: float | None = None) -> pd.DataFrame:
    """``log_volume, exposure_years, breaches`` for ``n`` exchanges; gamma frailty of shape
    ``alpha`` (negative binomial counts) when given, plain Poisson otherwise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.5, n)
    e = rng.uniform(1.0, 8.0, n)
    rate = np.exp(TRUE_INTERCEPT + TRUE_SLOPE * x)
    if alpha is not None:
        rate = rate * rng.gamma(alpha, 1.0 / alpha, n)
    return pd.DataFrame({"log_volume": x, "exposure_years": e, "breaches": rng.poisson(rate * e)})


class PoissonGLMBase:
    """Poisson regression of breaches on ``log_volume`` with ``ln(exposure)`` offset."""

    def fit(self, X: pd.DataFrame, breaches, exposure_years) -> PoissonGLMBase:
        e = np.asarray(exposure_years, float)
        y = np.asarray(breaches, float)
        # Poisson deviance on y / e weighted by e is the offset likelihood: same MLE.
        glm = PoissonRegressor(alpha=0.0, tol=1e-10, max_iter=1000).fit(X[["log_volume"]], y / e, sample_weight=e)
        self.coef_ = np.array([glm.intercept_, glm.coef_[0]])
        D = np.column_stack([np.ones(len(X)), X["log_volume"].to_numpy(float)])
        w = e * np.exp(D @ self.coef_)
        self.cov_ = np.linalg.inv(D.T @ (D * w[:, None]))
        return self

    def _design(self, X: pd.DataFrame) -> np.ndarray:
        return np.column_stack([np.ones(len(X)), X["log_volume"].to_numpy(float)])

    def annual_rate(self, X: pd.DataFrame) -> pd.Series:
        return pd.Series(np.exp(self._design(X) @ self.coef_), index=X.index, name="annual_rate")

    def predict_interval(self, X: pd.DataFrame, level: float = 0.9) -> pd.DataFrame:
        D = self._design(X)
        eta = D @ self.coef_
        se = np.sqrt(np.einsum("ij,jk,ik->i", D, self.cov_, D))
        z = stats.norm.ppf(0.5 + level / 2)
        return pd.DataFrame({"annual_rate": np.exp(eta), "lo": np.exp(eta - z * se), "hi": np.exp(eta + z * se)},
                            index=X.index)


def fitted_base(seed: int = 7) -> PoissonGLMBase:
    c = synthetic_cohort(seed=seed)
    return PoissonGLMBase().fit(c, c["breaches"], c["exposure_years"])


def covariates(submissions) -> pd.DataFrame:
    """Base covariates of submissions (volume taken in its own currency: a test model)."""
    return pd.DataFrame({"log_volume": [math.log(max(s.exposure.trading_volume_12m, 1.0) / VOLUME_REF)
                                        for s in submissions]})
