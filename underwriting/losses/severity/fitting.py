"""Left-truncated maximum-likelihood fitting of severities, with a parametric bootstrap."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from underwriting.errors import InputError
from underwriting.losses.severity.base import ArrayLike, FitSpec, Severity, _check_level, _rng
from underwriting.losses.severity.catalogue import make_severity
from underwriting.losses.severity.gof import GoodnessOfFit, goodness_of_fit
from underwriting.losses.severity.registry import FAMILY_REGISTRY


# --------------------------------------------------------------------------------------------
# Fitting with left truncation
# --------------------------------------------------------------------------------------------
def _spec(family: str, x: np.ndarray, threshold: float, splice_at: float | None) -> FitSpec:
    """The registered family's fitting recipe (:meth:`Severity.fit_spec`)."""
    cls = FAMILY_REGISTRY.get(family)
    if cls is None:
        raise InputError(f"unknown severity family {family!r}; choose from {sorted(FAMILY_REGISTRY)}", field="family")
    return cls.fit_spec(x, threshold, **({} if splice_at is None else {"splice_at": splice_at}))


def _neg_loglik(sev: Severity, x: np.ndarray, threshold: float) -> float:
    ll = float(np.sum(sev.logpdf(x)))
    if threshold > 0:
        ll -= x.size * float(sev.logsf(threshold))
    return -ll if math.isfinite(ll) else math.inf


def _objective(spec: FitSpec, x: np.ndarray, threshold: float) -> Callable[[np.ndarray], float]:
    def f(z: np.ndarray) -> float:
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return _neg_loglik(spec.build(z), x, threshold)
        except (InputError, ValueError, OverflowError, ZeroDivisionError):
            return math.inf
    return f


def _hessian(f: Callable[[np.ndarray], float], z: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``z``."""
    k = z.size
    h = 1e-4 * np.maximum(1.0, np.abs(z))
    H = np.empty((k, k))
    f0 = f(z)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        H[i, i] = (f(z + ei) - 2 * f0 + f(z - ei)) / h[i] ** 2
        for j in range(i + 1, k):
            ej = np.zeros(k)
            ej[j] = h[j]
            H[i, j] = H[j, i] = (f(z + ei + ej) - f(z + ei - ej) - f(z - ei + ej) + f(z - ei - ej)) / (4 * h[i] * h[j])
    return H


def _minimise(f: Callable[[np.ndarray], float], starts: list[np.ndarray]) -> np.ndarray:
    best_z, best_v = None, math.inf
    for z0 in starts:
        if not math.isfinite(f(z0)):
            continue
        r = optimize.minimize(f, z0, method="Nelder-Mead",
                              options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 20000, "maxfev": 40000})
        z = r.x
        r2 = optimize.minimize(f, z, method="BFGS", options={"gtol": 1e-8})
        if math.isfinite(r2.fun) and r2.fun <= r.fun:
            z = r2.x
        v = f(z)
        if v < best_v:
            best_z, best_v = z, v
    if best_z is None:
        raise InputError("the likelihood is not finite at any starting point; check the data and threshold",
                         field="amounts")
    return best_z


@dataclass(frozen=True)
class BootstrapResult:
    """Parametric bootstrap of a severity fit.

    Attributes
    ----------
    names : tuple of str
        Parameter names (columns of ``samples``).
    samples : numpy.ndarray
        ``(n_boot, n_params)`` refitted parameters.
    cov : numpy.ndarray
        Bootstrap covariance of the parameters.
    seed : int or None
        The seed used.
    """

    names: tuple[str, ...]
    samples: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)
    seed: int | None = None

    def interval(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Percentile confidence interval of each parameter."""
        a = (1 - _check_level(level)) / 2
        lo, hi = np.quantile(self.samples, [a, 1 - a], axis=0)
        return {n: (float(lo[j]), float(hi[j])) for j, n in enumerate(self.names)}

    def severities(self, family: str, fixed: Mapping[str, float] | None = None) -> list[Severity]:
        """The bootstrapped severities, e.g. to propagate parameter uncertainty to prices."""
        fixed = dict(fixed or {})
        return [make_severity(family, **fixed, **dict(zip(self.names, row, strict=True))) for row in self.samples]


@dataclass(frozen=True)
class SeverityFit:
    """Result of :func:`fit_severity` (immutable).

    Attributes
    ----------
    family : str
        Family name.
    severity : Severity
        The fitted ground-up severity (currency units).
    threshold : float
        Reporting threshold used for left truncation (currency units).
    n : int
        Number of amounts fitted.
    loglik, aic, bic : float
        Truncated log-likelihood and information criteria.
    names : tuple of str
        Names of the estimated parameters (``splice threshold`` is fixed, not estimated).
    cov : numpy.ndarray
        Observed-information covariance of the estimated parameters (natural scale, delta
        method from the optimiser's transformed scale); ``nan`` if the Hessian is singular.
    gof : GoodnessOfFit
        KS, Anderson-Darling and QQ data.
    """

    family: str
    severity: Severity
    threshold: float
    n: int
    loglik: float
    aic: float
    bic: float
    names: tuple[str, ...]
    cov: np.ndarray = field(repr=False)
    gof: GoodnessOfFit = field(repr=False)
    _amounts: np.ndarray = field(repr=False, compare=False, default=None)
    _splice_at: float | None = field(repr=False, compare=False, default=None)
    _z: np.ndarray | None = field(repr=False, compare=False, default=None)

    @property
    def params(self) -> dict[str, float]:
        """Estimated parameters."""
        return {n: self.severity.params[n] for n in self.names}

    @property
    def se(self) -> dict[str, float]:
        """Standard errors from the observed information."""
        d = np.sqrt(np.clip(np.diag(self.cov), 0, None)) if np.all(np.isfinite(self.cov)) else np.full(len(self.names), np.nan)
        return {n: float(v) for n, v in zip(self.names, d, strict=True)}

    def bootstrap(self, n_boot: int = 200, random_state: int | None = 0) -> BootstrapResult:
        """Parametric bootstrap: simulate truncated samples from the fit and refit each.

        Parameters
        ----------
        n_boot : int
            Number of bootstrap samples.
        random_state : int or None
            Seed of the numpy Generator (results are reproducible for a given seed).
        """
        if n_boot < 2:
            raise InputError("need at least 2 bootstrap samples", field="n_boot")
        rng = _rng(random_state)
        sev, t = self.severity, self.threshold
        f_t = float(sev.cdf(t)) if t > 0 else 0.0
        rows = []
        for _ in range(int(n_boot)):
            u = f_t + rng.random(self.n) * (1 - f_t)
            sample = np.asarray(sev.ppf(u), dtype=float)
            try:
                refit = fit_severity(sample, t, self.family, splice_at=self._splice_at, _gof=False,
                                     _start=self._z, _cov=False)
            except InputError:
                continue
            rows.append([refit.severity.params[n] for n in self.names])
        samples = np.asarray(rows)
        samples.setflags(write=False)
        cov = np.cov(samples, rowvar=False)
        return BootstrapResult(self.names, samples, np.atleast_2d(cov),
                               random_state if isinstance(random_state, int) else None)

    def summary(self) -> dict[str, Any]:
        """Plain-data summary (JSON-ready)."""
        return {"family": self.family, "params": self.params, "se": self.se, "threshold": self.threshold,
                "n": self.n, "loglik": self.loglik, "aic": self.aic, "bic": self.bic,
                "ks_statistic": self.gof.ks_statistic, "ks_pvalue": self.gof.ks_pvalue,
                "ad_statistic": self.gof.ad_statistic}


def _validate_amounts(amounts: ArrayLike, threshold: float) -> tuple[np.ndarray, float]:
    x = np.asarray(amounts, dtype=float).reshape(-1)
    t = float(threshold)
    if not math.isfinite(t) or t < 0:
        raise InputError(f"must be a non-negative finite amount, got {threshold!r}", field="threshold")
    if x.size < 5:
        raise InputError(f"need at least 5 loss amounts to fit, got {x.size}", field="amounts")
    if np.any(~np.isfinite(x)) or np.any(x <= 0):
        raise InputError("loss amounts must be positive and finite", field="amounts")
    if np.any(x < t):
        raise InputError(f"{int(np.sum(x < t))} amount(s) fall below the reporting threshold {t:,.0f}",
                         field="amounts")
    return x, t


def fit_severity(amounts: ArrayLike, threshold: float = 0.0, family: str = "lognormal", *,
                 splice_at: float | None = None, _gof: bool = True, _start: np.ndarray | None = None,
                 _cov: bool = True) -> SeverityFit:
    """Maximum-likelihood fit of a severity to amounts reported only above ``threshold``.

    The likelihood is the left-truncated one, :math:`\\prod_i f(x_i)/S(t)`: incidents below
    the reporting threshold were never recorded, so ignoring the truncation biases the fit
    towards large losses.

    Parameters
    ----------
    amounts : array of float
        Loss amounts (currency units), all ``>= threshold``.
    threshold : float
        Reporting threshold (currency units); 0 for no truncation.
    family : str
        A registered family (:data:`~underwriting.losses.severity.registry.FAMILY_REGISTRY`:
        ``lognormal``, ``lomax``, ``weibull``, ``gamma``, ``spliced``...).
    splice_at : float, optional
        Splice point of the ``spliced`` family (currency units); default the 80th percentile of
        the amounts (so that the GPD tail sees the largest 20%).

    Returns
    -------
    SeverityFit
    """
    x, t = _validate_amounts(amounts, threshold)
    family = family.strip().lower()
    spec = _spec(family, x, t, splice_at)
    splice_at = spec.options.get("splice_at", splice_at)
    f = _objective(spec, x, t)
    z = _minimise(f, [np.asarray(_start)] if _start is not None else spec.start(x, t))
    sev = spec.build(z)
    nll = f(z)
    k = len(spec.names)
    try:
        if not _cov:
            raise ValueError("covariance not requested")
        H = _hessian(f, z)
        cov_z = np.linalg.inv(H)
        if not np.all(np.isfinite(cov_z)) or np.any(np.diag(cov_z) < 0):
            raise np.linalg.LinAlgError
        J = np.diag(spec.jacobian(z))
        cov = J @ cov_z @ J.T
    except (np.linalg.LinAlgError, ValueError):
        cov = np.full((k, k), np.nan)
    cov.setflags(write=False)
    gof = goodness_of_fit(sev, x, t) if _gof else GoodnessOfFit(math.nan, math.nan, math.nan, np.empty(0), np.empty(0))
    x_ro = x.copy()
    x_ro.setflags(write=False)
    return SeverityFit(family=sev.family, severity=sev,
                       threshold=t, n=x.size, loglik=-nll, aic=2 * k + 2 * nll,
                       bic=k * math.log(x.size) + 2 * nll, names=spec.names, cov=cov, gof=gof,
                       _amounts=x_ro, _splice_at=splice_at, _z=np.asarray(z, dtype=float))


