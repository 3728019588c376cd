"""Goodness of fit of a severity to left-truncated amounts: KS, Anderson-Darling, QQ."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from underwriting.losses.severity.base import ArrayLike, Severity


@dataclass(frozen=True)
class GoodnessOfFit:
    """Goodness of fit of a severity to left-truncated data.

    Attributes
    ----------
    ks_statistic, ks_pvalue : float
        Kolmogorov-Smirnov distance to the truncated fitted CDF and its nominal p-value
        (optimistic: the parameters were estimated on the same data).
    ad_statistic : float
        Anderson-Darling :math:`A^2` against the truncated fitted CDF.
    qq_theoretical, qq_empirical : numpy.ndarray
        QQ-plot data: fitted truncated quantiles at plotting positions ``(i - 0.5)/n`` and the
        sorted amounts (currency units).
    """

    ks_statistic: float
    ks_pvalue: float
    ad_statistic: float
    qq_theoretical: np.ndarray = field(repr=False)
    qq_empirical: np.ndarray = field(repr=False)


def _truncated_cdf(sev: Severity, threshold: float) -> Callable[[np.ndarray], np.ndarray]:
    f_t = float(sev.cdf(threshold)) if threshold > 0 else 0.0
    s_t = 1.0 - f_t

    def cdf(x):
        return (np.asarray(sev.cdf(x), dtype=float) - f_t) / s_t
    return cdf


def goodness_of_fit(severity: Severity, amounts: ArrayLike, threshold: float = 0.0) -> GoodnessOfFit:
    """KS, Anderson-Darling and QQ data of ``severity`` (left-truncated at ``threshold``)."""
    x = np.sort(np.asarray(amounts, dtype=float))
    n = x.size
    cdf = _truncated_cdf(severity, threshold)
    ks = stats.kstest(x, cdf)
    u = np.clip(cdf(x), 1e-300, 1 - 1e-16)
    i = np.arange(1, n + 1)
    ad = -n - np.sum((2 * i - 1) * (np.log(u) + np.log1p(-u[::-1]))) / n
    f_t = float(severity.cdf(threshold)) if threshold > 0 else 0.0
    pp = (i - 0.5) / n
    qq = np.asarray(severity.ppf(f_t + pp * (1 - f_t)), dtype=float)
    for arr in (qq, x):
        arr.setflags(write=False)
    return GoodnessOfFit(float(ks.statistic), float(ks.pvalue), float(ad), qq, x)


