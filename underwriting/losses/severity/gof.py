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


def truncated_pit(severity: Severity, amounts: ArrayLike, threshold: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``(u, 1 - u)`` with :math:`u = P(X \\le x \\mid X > t)` for each amount, both computed
    directly (``1 - u = S(x)/S(t)``) so neither loses digits in the tails."""
    x = np.asarray(amounts, dtype=float)
    t = float(threshold)
    s_t = float(severity.sf(t)) if t > 0 else 1.0
    f_t = 1.0 - s_t
    su = np.asarray(severity.sf(x), dtype=float) / s_t
    u = (np.asarray(severity.cdf(x), dtype=float) - f_t) / s_t
    return np.clip(u, 0.0, 1.0), np.clip(su, 0.0, 1.0)


def ad_ks_statistics(severity: Severity, amounts: ArrayLike, threshold: float = 0.0) -> tuple[float, float]:
    """Anderson-Darling :math:`A^2` and KS :math:`D` against the fit truncated at ``threshold``.

    Amounts are recorded to a rounding unit, so a loss reported *at* the threshold has
    truncated CDF 0 and would add :math:`-\\ln 0` to :math:`A^2`. Each probability transform is
    therefore kept inside the outer half plotting cells, :math:`[1/(2n), 1 - 1/(2n)]`: one
    boundary amount then adds at most about :math:`\\ln(2n)/n`. The parametric bootstrap of
    :func:`~underwriting.losses.severity.selection.gof_bootstrap` applies the same rule to its
    simulated samples, so its p-values are calibrated for it.
    """
    u, su = truncated_pit(severity, amounts, threshold)
    order = np.argsort(u, kind="stable")
    u, su = u[order], su[order]
    n = u.size
    lo = 0.5 / n
    uc = np.clip(u, lo, 1 - lo)
    suc = np.clip(su, lo, 1 - lo)
    i = np.arange(1, n + 1)
    ad = -n - np.sum((2 * i - 1) * (np.log(uc) + np.log(suc[::-1]))) / n
    ks = max(float(np.max(i / n - u)), float(np.max(u - (i - 1) / n)))
    return float(ad), ks


def goodness_of_fit(severity: Severity, amounts: ArrayLike, threshold: float = 0.0) -> GoodnessOfFit:
    """KS, Anderson-Darling (threshold handled, see :func:`ad_ks_statistics`) and QQ data of
    ``severity`` left-truncated at ``threshold``."""
    x = np.sort(np.asarray(amounts, dtype=float))
    n = x.size
    cdf = _truncated_cdf(severity, threshold)
    ks = stats.kstest(x, cdf)
    ad, _ = ad_ks_statistics(severity, x, threshold)
    i = np.arange(1, n + 1)
    f_t = float(severity.cdf(threshold)) if threshold > 0 else 0.0
    pp = (i - 0.5) / n
    qq = np.asarray(severity.ppf(f_t + pp * (1 - f_t)), dtype=float)
    for arr in (qq, x):
        arr.setflags(write=False)
    return GoodnessOfFit(float(ks.statistic), float(ks.pvalue), float(ad), qq, x)
