"""Claim-count distributions over the policy term (Poisson, negative binomial, geometric).

Each distribution gives what the aggregate engine needs:

* ``pgf(z)``: probability generating function :math:`E[z^N]`, for complex ``z`` (the FFT
  method evaluates it on the discrete Fourier transform of the severity);
* ``panjer_ab()`` and ``p0``: the (a, b, 0) recursion constants for Panjer;
* ``pmf``, ``mean``, ``var``, ``ppf`` and ``rvs(size, random_state)`` for Monte Carlo.

Counts are over the policy term: a survival model's cumulative hazard :math:`\\Lambda` over
the term gives ``Poisson(Λ)`` and :math:`P(N \\ge 1) = 1 - e^{-\\Lambda}`; uncertainty about
:math:`\\Lambda` (a gamma frailty) turns it into a negative binomial.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from underwriting.errors import InputError

__all__ = ["Frequency", "Poisson", "NegativeBinomial", "geometric", "make_frequency"]


def _nonneg(name: str, v: float) -> float:
    v = float(v)
    if not math.isfinite(v) or v < 0:
        raise InputError(f"must be a non-negative finite number, got {v!r}", field=name)
    return v


class Frequency(ABC):
    """Distribution of the number of loss events over the policy term."""

    family: ClassVar[str] = "abstract"

    @abstractmethod
    def pgf(self, z: Any) -> Any:
        """:math:`E[z^N]` (vectorised, complex ``z`` allowed)."""

    def log_pgf(self, z: Any) -> Any:
        """:math:`\\log E[z^N]` (principal branch; vectorised, complex ``z`` with ``|z| <= 1``).

        The compound engine sums these over perils and exponentiates once. Subclasses override it
        with a closed form; this default takes the logarithm of :meth:`pgf`.
        """
        return np.log(self.pgf(z))

    @abstractmethod
    def panjer_ab(self) -> tuple[float, float]:
        """``(a, b)`` with :math:`p_k = (a + b/k) p_{k-1}` for k >= 1."""

    @property
    @abstractmethod
    def p0(self) -> float:
        """:math:`P(N = 0)`."""

    @abstractmethod
    def mean(self) -> float:
        """Expected number of events over the term."""

    @abstractmethod
    def var(self) -> float:
        """Variance of the number of events."""

    @property
    @abstractmethod
    def _dist(self):
        """scipy frozen distribution."""

    @property
    @abstractmethod
    def params(self) -> dict[str, float]:
        """Parameters as a plain mapping."""

    def pmf(self, k: Any) -> Any:
        """:math:`P(N = k)`."""
        return self._dist.pmf(k)

    def cdf(self, k: Any) -> Any:
        """:math:`P(N \\le k)`."""
        return self._dist.cdf(k)

    def ppf(self, q: Any) -> Any:
        """Smallest ``k`` with :math:`P(N \\le k) \\ge q`."""
        return self._dist.ppf(q)

    def prob_at_least_one(self) -> float:
        """:math:`P(N \\ge 1)`: probability of at least one breach over the term."""
        return 1.0 - self.p0

    def log_pgf_real(self, x: np.ndarray) -> np.ndarray:
        """:math:`\\log E[x^N]` for real ``x >= 1`` (``inf`` where it diverges); for Chernoff bounds."""
        with np.errstate(all="ignore"):
            return np.log(np.real(self.pgf(np.asarray(x, dtype=complex))))

    def rvs(self, size: int | tuple[int, ...] = 1,
            random_state: int | np.random.Generator | None = None) -> np.ndarray:
        """Draw event counts from a seeded numpy Generator."""
        return self._rvs(np.random.default_rng(random_state), size)

    @abstractmethod
    def _rvs(self, rng: np.random.Generator, size: Any) -> np.ndarray: ...

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"{type(self).__name__}({inner})"


@dataclass(frozen=True, repr=False)
class Poisson(Frequency):
    """Poisson event count.

    Parameters
    ----------
    lam : float
        Expected number of events over the policy term (>= 0), e.g. the cumulative hazard.
    """

    lam: float
    family: ClassVar[str] = "poisson"

    def __post_init__(self) -> None:
        object.__setattr__(self, "lam", _nonneg("lam", self.lam))

    @classmethod
    def from_rate(cls, rate_per_year: float, term_years: float = 1.0) -> Poisson:
        """Poisson count over ``term_years`` from an annual event rate."""
        return cls(_nonneg("rate_per_year", rate_per_year) * _nonneg("term_years", term_years))

    @classmethod
    def from_probability(cls, prob_at_least_one: float) -> Poisson:
        """Poisson whose :math:`P(N \\ge 1)` equals the given breach probability over the term."""
        p = float(prob_at_least_one)
        if not (0.0 <= p < 1.0):
            raise InputError(f"must be in [0, 1), got {p!r}", field="prob_at_least_one")
        return cls(-math.log1p(-p))

    @property
    def params(self) -> dict[str, float]:
        return {"lam": self.lam}

    @property
    def _dist(self):
        return stats.poisson(self.lam)

    def pgf(self, z):
        return np.exp(self.lam * (np.asarray(z) - 1.0))

    def log_pgf(self, z):
        return self.lam * (np.asarray(z) - 1.0)

    def log_pgf_real(self, x):
        return self.lam * (np.asarray(x, dtype=float) - 1.0)

    def panjer_ab(self) -> tuple[float, float]:
        return 0.0, self.lam

    @property
    def p0(self) -> float:
        return math.exp(-self.lam)

    def mean(self) -> float:
        return self.lam

    def var(self) -> float:
        return self.lam

    def _rvs(self, rng, size):
        return rng.poisson(self.lam, size)


@dataclass(frozen=True, repr=False, init=False)
class NegativeBinomial(Frequency):
    """Negative binomial count as a gamma-mixed Poisson.

    :math:`N \\mid \\Lambda \\sim Poisson(\\Lambda)`, :math:`\\Lambda \\sim Gamma` with mean
    ``mean`` and variance ``var_lambda`` (the parameter uncertainty or frailty). Then
    :math:`E[N] = m`, :math:`Var[N] = m + v`, and in the (r, beta) parametrisation
    :math:`r = m^2/v`, :math:`\\beta = v/m`, :math:`P(z) = (1 - \\beta(z - 1))^{-r}`.

    Parameters
    ----------
    mean : float
        Expected number of events over the term (> 0).
    var_lambda : float
        Variance of the Poisson mean across the mixing distribution (> 0).
    """

    mean_: float
    var_lambda: float
    family: ClassVar[str] = "negbin"

    def __init__(self, mean: float, var_lambda: float):
        m = _nonneg("mean", mean)
        v = _nonneg("var_lambda", var_lambda)
        if m <= 0 or v <= 0:
            raise InputError("mean and var_lambda must both be > 0 (use Poisson for var_lambda = 0)",
                             field="var_lambda" if m > 0 else "mean")
        object.__setattr__(self, "mean_", m)
        object.__setattr__(self, "var_lambda", v)

    @classmethod
    def from_r_beta(cls, r: float, beta: float) -> NegativeBinomial:
        """Negative binomial with :math:`P(z) = (1 - \\beta(z-1))^{-r}`."""
        r, beta = _nonneg("r", r), _nonneg("beta", beta)
        return cls(r * beta, r * beta * beta)

    @property
    def r(self) -> float:
        """Shape (number-of-successes) parameter."""
        return self.mean_**2 / self.var_lambda

    @property
    def beta(self) -> float:
        """Scale parameter: variance of the mixing gamma divided by its mean."""
        return self.var_lambda / self.mean_

    @property
    def params(self) -> dict[str, float]:
        return {"mean": self.mean_, "var_lambda": self.var_lambda}

    @property
    def _dist(self):
        return stats.nbinom(self.r, 1.0 / (1.0 + self.beta))

    def pgf(self, z):
        return (1.0 - self.beta * (np.asarray(z) - 1.0)) ** (-self.r)

    def log_pgf(self, z):
        # 1 - beta (z - 1) has real part >= 1 for |z| <= 1: the principal logarithm is the pgf's
        return -self.r * np.log(1.0 - self.beta * (np.asarray(z) - 1.0))

    def log_pgf_real(self, x):
        x = np.asarray(x, dtype=float)
        base = 1.0 - self.beta * (x - 1.0)
        with np.errstate(all="ignore"):
            return np.where(base > 0, -self.r * np.log(np.where(base > 0, base, 1.0)), np.inf)

    def panjer_ab(self) -> tuple[float, float]:
        a = self.beta / (1.0 + self.beta)
        return a, (self.r - 1.0) * a

    @property
    def p0(self) -> float:
        return (1.0 + self.beta) ** (-self.r)

    def mean(self) -> float:
        return self.mean_

    def var(self) -> float:
        return self.mean_ + self.var_lambda

    def _rvs(self, rng, size):
        return rng.negative_binomial(self.r, 1.0 / (1.0 + self.beta), size)


def geometric(beta: float) -> NegativeBinomial:
    """Geometric count :math:`P(N=k) = \\beta^k/(1+\\beta)^{k+1}` (negative binomial, r = 1)."""
    b = _nonneg("beta", beta)
    if b <= 0:
        raise InputError("must be > 0", field="beta")
    return NegativeBinomial.from_r_beta(1.0, b)


def make_frequency(family: str, **params: float) -> Frequency:
    """Build a frequency from a name (``poisson``, ``negbin``, ``geometric``) and parameters.

    ``poisson``: ``lam``; ``negbin``: ``mean`` and ``var_lambda`` (or ``r`` and ``beta``);
    ``geometric``: ``beta``.
    """
    fam = family.strip().lower()
    p = dict(params)
    try:
        if fam == "poisson":
            _only(p, {"lam"}, fam)
            return Poisson(p["lam"])
        if fam in ("negbin", "nbinom", "negative_binomial"):
            if set(p) == {"r", "beta"}:
                return NegativeBinomial.from_r_beta(p["r"], p["beta"])
            _only(p, {"mean", "var_lambda"}, fam)
            return NegativeBinomial(p["mean"], p["var_lambda"])
        if fam == "geometric":
            _only(p, {"beta"}, fam)
            return geometric(p["beta"])
    except KeyError as exc:
        raise InputError(f"missing parameter {exc.args[0]!r} for {fam}", field="frequency") from None
    raise InputError(f"unknown frequency distribution {family!r}; choose from poisson, negbin, geometric",
                     field="frequency")


def _only(p: dict[str, float], allowed: set[str], fam: str) -> None:
    unknown = sorted(set(p) - allowed)
    if unknown:
        raise InputError(f"unknown parameter(s) {unknown} for {fam}; expected {sorted(allowed)}",
                         field="frequency")
