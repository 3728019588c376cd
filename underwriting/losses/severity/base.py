"""Severity base class and shared argument checks (amounts in currency units)."""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy import integrate

from underwriting.caches import register_cache
from underwriting.errors import InputError

ArrayLike = Any  # float or numpy array


def _rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from a seed or an existing Generator (never the global state)."""
    if isinstance(random_state, np.random.RandomState):
        raise InputError("pass an int seed or a numpy Generator, not a legacy RandomState",
                         field="random_state")
    return np.random.default_rng(random_state)


def _check_positive(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise InputError(f"must be a positive finite number, got {value!r}", field=name)
    return v


def _check_finite(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"must be a finite number, got {value!r}", field=name)
    return v


def _check_level(p: float, name: str = "level") -> float:
    p = float(p)
    if not (0.0 < p < 1.0):
        raise InputError(f"must be strictly between 0 and 1, got {p!r}", field=name)
    return p


# --------------------------------------------------------------------------------------------
# Base class
# --------------------------------------------------------------------------------------------
class Severity(ABC):
    """Distribution of the size of one loss, in currency units.

    Subclasses implement ``cdf``, ``sf``, ``pdf``, ``ppf``, ``params`` and, where a closed
    form exists, ``limited_moment`` and ``moment``. Everything else is derived here.
    """

    family: ClassVar[str] = "abstract"

    @classmethod
    def fit_spec(cls, amounts: np.ndarray, threshold: float, **options: Any) -> FitSpec:
        """How :func:`~underwriting.losses.severity.fitting.fit_severity` fits this family: parameters
        on an unconstrained scale, the map back, its Jacobian, the build and the starting points.
        A family without one cannot be fitted (only built from given parameters)."""
        raise InputError(f"the {cls.family} family has no fitting recipe (fit_spec)", field="family")

    # --- distribution functions ------------------------------------------------------------
    @abstractmethod
    def cdf(self, x: ArrayLike) -> ArrayLike:
        """P(X <= x)."""

    @abstractmethod
    def sf(self, x: ArrayLike) -> ArrayLike:
        """P(X > x)."""

    @abstractmethod
    def pdf(self, x: ArrayLike) -> ArrayLike:
        """Density of the continuous part at ``x`` (per currency unit)."""

    @abstractmethod
    def ppf(self, q: ArrayLike) -> ArrayLike:
        """Quantile (value at risk) at probability ``q``, in currency units."""

    @property
    @abstractmethod
    def params(self) -> dict[str, float]:
        """Parameters as a plain mapping (for JSON and the CLI)."""

    def logpdf(self, x: ArrayLike) -> ArrayLike:
        """Natural log of :meth:`pdf`."""
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x))

    def logsf(self, x: ArrayLike) -> ArrayLike:
        """Natural log of :meth:`sf`."""
        with np.errstate(divide="ignore"):
            return np.log(self.sf(x))

    def rvs(self, size: int | tuple[int, ...] = 1,
            random_state: int | np.random.Generator | None = None) -> np.ndarray:
        """Draw loss amounts (currency units) by inversion, from a seeded numpy Generator."""
        rng = _rng(random_state)
        u = rng.random(size)
        return np.asarray(self.ppf(u), dtype=float)

    # --- moments -----------------------------------------------------------------------------
    def limited_moment(self, u: ArrayLike, k: int = 1) -> ArrayLike:
        """:math:`E[(X \\wedge u)^k]` in currency^k; numerical integration unless overridden.

        Uses :math:`E[(X\\wedge u)^k] = k \\int_0^u x^{k-1} S(x)\\,dx` with adaptive quadrature
        split at quantiles of ``X``.
        """
        u_arr = np.asarray(u, dtype=float)
        out = np.empty(u_arr.shape)
        flat_u, flat_o = u_arr.reshape(-1), out.reshape(-1)
        knots = np.asarray(self.ppf(np.array([0.1, 0.5, 0.9, 0.99, 0.999, 0.9999])), dtype=float)
        for i, ui in enumerate(flat_u):
            if ui <= 0:
                flat_o[i] = 0.0
                continue
            if not math.isfinite(ui):
                flat_o[i] = self.moment(k)
                continue
            pts = [0.0] + [p for p in knots if 0 < p < ui] + [ui]
            total = 0.0
            for a, b in zip(pts[:-1], pts[1:], strict=False):
                val, _ = integrate.quad(lambda x: k * x ** (k - 1) * float(self.sf(x)), a, b,
                                        epsabs=0.0, epsrel=1e-12, limit=200)
                total += val
            flat_o[i] = total
        return out if out.ndim else float(out)

    def lev(self, u: ArrayLike) -> ArrayLike:
        """Limited expected value :math:`E[X \\wedge u]` (currency units)."""
        return self.limited_moment(u, 1)

    @abstractmethod
    def moment(self, k: int = 1) -> float:
        """Raw moment :math:`E[X^k]` (``inf`` when it does not exist)."""

    def moments(self, n: int = 2) -> tuple[float, ...]:
        """Raw moments :math:`E[X], ..., E[X^n]`."""
        return tuple(self.moment(k) for k in range(1, n + 1))

    def mean(self) -> float:
        """Expected loss size :math:`E[X]` (currency units)."""
        return self.moment(1)

    def var(self) -> float:
        """Variance (currency^2); ``inf`` when the second moment does not exist."""
        m1, m2 = self.moment(1), self.moment(2)
        return m2 - m1 * m1 if math.isfinite(m2) else math.inf

    def std(self) -> float:
        """Standard deviation (currency units)."""
        return math.sqrt(self.var())

    def tvar(self, p: float) -> float:
        """Tail value at risk :math:`E[X \\mid X > VaR_p]` (currency units).

        Uses :math:`TVaR_p = VaR_p + E[(X - VaR_p)_+]/(1-p)`, valid for any distribution.
        """
        p = _check_level(p, "p")
        v = float(self.ppf(p))
        return v + (self.mean() - float(self.lev(v))) / (1.0 - p)

    # --- stop-loss transforms -------------------------------------------------------------
    def stop_loss(self, a: ArrayLike) -> ArrayLike:
        """Stop-loss transform :math:`\\pi(a) = E[(X-a)_+]` (currency units).

        Families override this with a tail formula that keeps its relative accuracy far in
        the tail (where ``mean - lev(a)`` would be lost to cancellation).
        """
        a_arr = np.asarray(a, dtype=float)
        out = np.where(np.isinf(a_arr), 0.0, self.mean() - np.asarray(self.lev(a_arr)))
        return out if out.ndim else float(out)

    def stop_loss2(self, a: ArrayLike) -> ArrayLike:
        """Second-order stop-loss :math:`E[((X-a)_+)^2]` (currency^2)."""
        a_arr = np.asarray(a, dtype=float)
        m2 = self.moment(2)
        with np.errstate(invalid="ignore"):
            out = np.where(np.isinf(a_arr), 0.0,
                           m2 - np.asarray(self.limited_moment(a_arr, 2)) - 2 * a_arr * np.asarray(self.stop_loss(a_arr)))
        return out if out.ndim else float(out)

    # --- per-occurrence layer ------------------------------------------------------------
    def layer_mean(self, deductible: ArrayLike = 0.0, limit: ArrayLike = math.inf) -> ArrayLike:
        """Expected payment per loss of the layer ``limit`` xs ``deductible``.

        The layer pays :math:`\\min((X-d)_+, l)`; its mean is :math:`LEV(d+l) - LEV(d) =
        \\pi(d) - \\pi(d+l)`. Each form loses digits to cancellation when its larger operand
        dwarfs the result (the stop-loss form for a thin layer under a huge mean, the LEV form
        for a remote layer), so the one whose larger operand is smaller is used, element-wise.
        """
        d = np.asarray(deductible, dtype=float)
        top = d + np.asarray(limit, dtype=float)
        with np.errstate(invalid="ignore", over="ignore"):
            lev_top = np.asarray(self.lev(top), dtype=float)
            lev_d = np.where(d > 0, np.asarray(self.lev(d), dtype=float), 0.0)
            by_lev = lev_top - lev_d
            if math.isfinite(self.mean()):
                pi_d = np.asarray(self.stop_loss(d), dtype=float)
                by_sl = pi_d - np.asarray(self.stop_loss(top), dtype=float)
                use_sl = np.isinf(top) | (np.abs(pi_d) <= np.abs(lev_top))
                out = np.where(use_sl, by_sl, by_lev)
            else:
                out = by_lev
        out = np.maximum(out, 0.0)
        return out if out.ndim else float(out)

    def layer_moment(self, deductible: float = 0.0, limit: float = math.inf, k: int = 1) -> float:
        """:math:`E[Y^k]` for the per-loss layer payment :math:`Y = \\min((X-d)_+, l)`, k = 1, 2.

        ``k = 2`` uses :math:`\\pi_2(d) - \\pi_2(d+l) - 2l\\,\\pi(d+l)` or
        :math:`E[(X\\wedge(d+l))^2] - E[(X\\wedge d)^2] - 2d\\,E[Y]`, whichever has the smaller
        operands (less cancellation); an unlimited layer needs a finite second moment.
        """
        d, lim = float(deductible), float(limit)
        top = d + lim
        if k == 1:
            return float(self.layer_mean(d, lim))
        if k != 2:
            raise ValueError("layer_moment supports k = 1 or 2")
        m2_finite = math.isfinite(self.moment(2))
        if math.isinf(top):
            return float(self.stop_loss2(d)) if m2_finite else math.inf
        with np.errstate(invalid="ignore", over="ignore"):
            m2_top = float(self.limited_moment(top, 2))
            m2_d = float(self.limited_moment(d, 2)) if d > 0 else 0.0
            by_lev = m2_top - m2_d - 2.0 * d * float(self.layer_mean(d, lim))
            if m2_finite:
                pi2_d = float(self.stop_loss2(d))
                by_sl = pi2_d - float(self.stop_loss2(top)) - 2.0 * lim * float(self.stop_loss(top))
                if abs(pi2_d) <= abs(m2_top) or not math.isfinite(by_lev):
                    return max(by_sl, 0.0)
        return max(by_lev, 0.0)

    def layer_moments_by_quadrature(self, deductible: float = 0.0, limit: float = math.inf) -> tuple[float, float]:
        """:math:`(E[Y], E[Y^2])` of the layer by quadrature of the survival function.

        An independent second method for the closed forms: :math:`E[Y] = \\int_0^l S(d+y)\\,dy`
        and :math:`E[Y^2] = \\int_0^l 2y\\,S(d+y)\\,dy`, split at quantiles of ``X`` (and
        integrated in ``log`` of the amount above the deductible, where heavy tails are smooth).
        Each piece by adaptive Gauss-Legendre (20 against 40 nodes, bisected until they agree to
        :data:`QUADRATURE_RTOL`, every piece's nodes in one vectorised call of ``sf``); should that
        not converge, by scipy's adaptive ``quad`` as before (about four times slower for a quote's
        layers). Used by the engine's moment check; relative accuracy about 1e-9 or better.
        """
        d, lim = float(deductible), float(limit)
        pieces = self._quadrature_pieces(d, lim)
        out = _sf_moments_gauss_legendre(self, d, pieces)
        if out is None:
            out = _sf_moments_quad(self, d, pieces)
        if not math.isfinite(lim):
            hi = pieces[-1][1]
            # beyond hi: closed-form tail of the stop-loss transforms
            with np.errstate(invalid="ignore", over="ignore"):
                tail1 = float(self.stop_loss(d + hi))
                tail2 = float(self.stop_loss2(d + hi)) + 2.0 * hi * tail1
            out = (out[0] + tail1, out[1] + tail2)
        return out

    def _quadrature_pieces(self, d: float, lim: float) -> list[tuple[float, float]]:
        """The intervals ``[a, b]`` of the amount above ``d`` that the quadrature integrates separately:
        split at quantiles of ``X`` (where a cap or a mixture's kink may sit); the last ends at the
        limit, or far in the tail (``10^6`` times the last knot) for an unlimited layer."""
        qs = np.asarray(self.ppf(np.array([1e-6, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1 - 1e-6,
                                           1 - 1e-9, 1 - 1e-12])), dtype=float)
        top = d + lim
        knots = sorted({float(q) - d for q in qs if math.isfinite(q) and d < q < top})
        hi = lim if math.isfinite(lim) else max([*knots, 1.0]) * 1e6
        pts = [0.0, *[k for k in knots if 0 < k < hi], hi]
        return [(a, b) for a, b in zip(pts[:-1], pts[1:], strict=False) if b > a]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"{type(self).__name__}({inner})"


class _ScipyBacked:
    """``cdf``, ``sf``, ``pdf`` and ``ppf`` from the frozen scipy distribution ``self._dist``."""

    def cdf(self, x):
        return self._dist.cdf(x)

    def sf(self, x):
        return self._dist.sf(x)

    def pdf(self, x):
        return self._dist.pdf(x)

    def ppf(self, q):
        return self._dist.ppf(q)


#: Relative agreement of the 20- and 40-node Gauss-Legendre sums at which the quadrature of
#: :meth:`Severity.layer_moments_by_quadrature` stops bisecting.
QUADRATURE_RTOL = 1e-11
#: At most this many bisection rounds and sub-intervals before falling back to scipy's ``quad``.
QUADRATURE_MAX_ROUNDS = 40
QUADRATURE_MAX_INTERVALS = 20_000


@register_cache(static=True)
@functools.lru_cache(maxsize=1)
def _gauss_legendre_nodes() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x20, w20 = np.polynomial.legendre.leggauss(20)
    x40, w40 = np.polynomial.legendre.leggauss(40)
    return x20, w20, x40, w40


def _adaptive_gauss_legendre(fun: Any, a: np.ndarray, b: np.ndarray) -> float | None:
    """Sum of the integrals of ``fun`` (vectorised) over the intervals ``[a_i, b_i]``, or ``None`` when
    the 20- and 40-node rules do not agree to :data:`QUADRATURE_RTOL` of the total within the limits.

    Each round evaluates every open interval's nodes in one call, accepts the intervals whose error
    estimate ``|G40 - G20|`` is within their share of the tolerance, and bisects the others.
    """
    x20, w20, x40, w40 = _gauss_legendre_nodes()
    done = done_err = 0.0
    for _ in range(QUADRATURE_MAX_ROUNDS):
        mid, half = 0.5 * (a + b), 0.5 * (b - a)
        n = a.size
        fx = np.asarray(fun(np.concatenate(((mid[:, None] + half[:, None] * x20).ravel(),
                                            (mid[:, None] + half[:, None] * x40).ravel()))), dtype=float)
        i20 = half * (fx[: 20 * n].reshape(n, 20) @ w20)
        i40 = half * (fx[20 * n:].reshape(n, 40) @ w40)
        err = np.abs(i40 - i20)
        if not (np.all(np.isfinite(i40)) and np.all(np.isfinite(err))):
            return None
        total = done + float(i40.sum())
        tol = QUADRATURE_RTOL * abs(total)
        if done_err + float(err.sum()) <= tol:
            return total
        ok = err <= 0.5 * tol / n
        done += float(i40[ok].sum())
        done_err += float(err[ok].sum())
        a, b = a[~ok], b[~ok]
        mid = 0.5 * (a + b)
        a, b = np.concatenate((a, mid)), np.concatenate((mid, b))
        if a.size > QUADRATURE_MAX_INTERVALS:
            return None
    return None


def _sf_moments_gauss_legendre(sev: Any, d: float, pieces: list[tuple[float, float]]) -> tuple[float, float] | None:
    """``(int S(d+y) dy, int 2y S(d+y) dy)`` over ``pieces`` (the first from 0 in ``y``, the rest in
    ``log y``) by :func:`_adaptive_gauss_legendre`, or ``None`` when it does not converge."""
    lin = [(a, b) for a, b in pieces if a <= 0]
    logs = [(math.log(a), math.log(b)) for a, b in pieces if a > 0]
    out = []
    with np.errstate(all="ignore"):
        for power in (0, 1):
            total = 0.0
            if lin:
                def f(y, pw=power):
                    return (2.0 * y if pw else 1.0) * np.asarray(sev.sf(d + y), dtype=float)
                v = _adaptive_gauss_legendre(f, np.array([p[0] for p in lin]), np.array([p[1] for p in lin]))
                if v is None:
                    return None
                total += v
            if logs:
                def g(t, pw=power):
                    y = np.exp(t)
                    return y * (2.0 * y if pw else 1.0) * np.asarray(sev.sf(d + y), dtype=float)
                v = _adaptive_gauss_legendre(g, np.array([p[0] for p in logs]), np.array([p[1] for p in logs]))
                if v is None:
                    return None
                total += v
            out.append(total)
    return out[0], out[1]


def _sf_moments_quad(sev: Any, d: float, pieces: list[tuple[float, float]]) -> tuple[float, float]:
    """The same integrals by scipy's adaptive ``quad``, one scalar call of ``sf`` per node."""
    out = []
    for power in (0, 1):
        total = 0.0
        for a, b in pieces:
            if a <= 0:
                def f(y, pw=power):
                    return (2.0 * y if pw else 1.0) * float(sev.sf(d + y))
                val, _ = integrate.quad(f, a, b, epsabs=0.0, epsrel=1e-11, limit=200)
            else:  # y = e^t
                def g(t, pw=power):
                    y = math.exp(t)
                    return y * (2.0 * y if pw else 1.0) * float(sev.sf(d + y))
                val, _ = integrate.quad(g, math.log(a), math.log(b), epsabs=0.0, epsrel=1e-11, limit=200)
            total += val
        out.append(total)
    return out[0], out[1]


@dataclass(frozen=True)
class FitSpec:
    """A family's left-truncated maximum-likelihood recipe (returned by ``Severity.fit_spec``).

    Attributes
    ----------
    names : tuple of str
        Parameter names, in the order of the vectors below.
    to_natural, jacobian : callable
        Unconstrained vector ``z`` -> natural parameters, and the diagonal of their derivative in ``z``.
    build : callable
        ``z`` -> the severity.
    start : callable
        ``start(amounts, threshold)`` -> starting vectors ``z`` for the optimiser.
    options : mapping
        Options the fit used and records (the spliced family's ``splice_at``).
    """

    names: tuple[str, ...]
    to_natural: Callable[[np.ndarray], np.ndarray]
    jacobian: Callable[[np.ndarray], np.ndarray]
    build: Callable[[np.ndarray], Severity]
    start: Callable[[np.ndarray, float], list[np.ndarray]]
    options: Mapping[str, float] = field(default_factory=dict)
