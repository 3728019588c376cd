"""Discretisation of the per-occurrence layer payment and the automatic grid."""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Sequence

import numpy as np
from scipy import special

from underwriting.caches import register_cache
from underwriting.errors import InputError
from underwriting.losses.aggregate.results import (
    DiscretisationError,
    Peril,
)
from underwriting.losses.severity import CappedSeverity, MixtureSeverity, Severity
from underwriting.losses.severity.registry import FAMILY_REGISTRY

# --------------------------------------------------------------------------------------------
# Discretisation
# --------------------------------------------------------------------------------------------
#: Ground-up probability beyond which an unlimited severity is truncated for discretisation.
TAIL_EPS = 1e-12


#: Bound on the per-process caches of :func:`_occurrence_cap` and :func:`discretize_layer`.
CACHE_SIZE = 256
#: Only grids up to this length are cached (the coarse grids of the Chernoff range, shared by the
#: premium-range ends and the two-scale levels): at most ``CACHE_SIZE`` × 8 KiB. Full grids are not
#: (0.5 MiB each at 2^16; a quote's whole distribution is cached by :func:`compound` instead).
CACHED_GRID_MAX = 1024


def cacheable_severity(sev: object) -> bool:
    """True when ``sev`` is one of the package's frozen, value-compared severities (hashable by its
    parameters), so a pure function of it may be cached by value: the four families, the spliced
    lognormal-GPD, any other registered family (a frozen dataclass: registration checks), and caps
    and mixtures of those. Any other severity (an unregistered subclass, possibly mutable or compared
    by identity) is never cached."""
    t = type(sev)
    if t is CappedSeverity:
        return cacheable_severity(sev.base)
    if t is MixtureSeverity:
        return all(cacheable_severity(c) for c in sev.components)
    if FAMILY_REGISTRY.get(getattr(t, "family", None)) is not t:
        return False
    try:
        hash(sev)
    except TypeError:
        return False
    return True


def severity_top(sev: Severity) -> float:
    """``float(sev.ppf(1.0))``, the largest possible loss (``inf`` when unbounded); cached by value for
    the package's own severities (a custody-tier mixture finds it by bisection)."""
    if cacheable_severity(sev):
        return _severity_top_cached(sev)
    return float(sev.ppf(1.0))


@register_cache
@functools.lru_cache(maxsize=CACHE_SIZE)
def _severity_top_cached(sev: Severity) -> float:
    return float(sev.ppf(1.0))


def _occurrence_cap(sev: Severity, d: float, limit: float) -> tuple[float, float]:
    """Largest per-occurrence payment to discretise and the probability mass truncated (cached by value
    for the package's own severities: the quantiles of a mixture are found by bisection)."""
    if cacheable_severity(sev):
        return _occurrence_cap_cached(sev, d, limit)
    return _occurrence_cap_impl(sev, d, limit)


@register_cache
@functools.lru_cache(maxsize=CACHE_SIZE, typed=True)
def _occurrence_cap_cached(sev: Severity, d: float, limit: float) -> tuple[float, float]:
    return _occurrence_cap_impl(sev, d, limit)


def _occurrence_cap_impl(sev: Severity, d: float, limit: float) -> tuple[float, float]:
    top = severity_top(sev)
    cap = min(limit, top - d)
    truncated = 0.0
    if not math.isfinite(cap):
        cap = float(sev.ppf(1.0 - TAIL_EPS)) - d
        truncated = float(sev.sf(d + cap))
    return max(cap, 0.0), truncated


def discretize_layer(severity: Severity, deductible: float, limit: float, h: float, n: int,
                     method: str = "dispersal") -> np.ndarray:
    """Probabilities of the per-occurrence layer payment on the grid ``0, h, 2h, ...``.

    The payment is :math:`Y = \\min((X - d)_+, l)` (``limit = inf`` means unlimited; it is
    then truncated at the :math:`1 - 10^{-12}` quantile with the excess mass at the cut).

    Parameters
    ----------
    severity : Severity
    deductible, limit : float
        Per-occurrence deductible and limit (currency units).
    h : float
        Bucket size (currency units).
    n : int
        Length of the returned array.
    method : {"dispersal", "round"}
        ``dispersal`` (default) splits the probability of each interval ``(kh, (k+1)h]``
        between its end points so that the local mean is kept; the discrete mean equals
        :math:`E[Y]` exactly, using only limited expected values. ``round`` puts the mass of
        ``((k-1/2)h, (k+1/2)h]`` at ``kh``.
    """
    if n <= CACHED_GRID_MAX and cacheable_severity(severity):
        try:
            hit = _discretize_cached(severity, deductible, limit, h, n, method)
        except TypeError:  # an unhashable argument: compute it
            return _discretize_impl(severity, deductible, limit, h, n, method)
        return hit.copy()
    return _discretize_impl(severity, deductible, limit, h, n, method)


@register_cache
@functools.lru_cache(maxsize=CACHE_SIZE, typed=True)
def _discretize_cached(severity: Severity, deductible: float, limit: float, h: float, n: int,
                       method: str) -> np.ndarray:
    out = _discretize_impl(severity, deductible, limit, h, n, method)
    out.setflags(write=False)
    return out


def _discretize_impl(severity: Severity, deductible: float, limit: float, h: float, n: int,
                     method: str) -> np.ndarray:
    d = float(deductible)
    cap, _ = _occurrence_cap(severity, d, limit)
    out = np.zeros(n)
    if cap <= 0:
        out[0] = 1.0
        return out
    kmax = min(n - 1, int(math.ceil(cap / h - 1e-9)))
    if method == "dispersal":
        y = d + np.minimum(h * np.arange(kmax + 2), cap)
        # D_k = ∫_{kh}^{(k+1)h} S_Y = LEV(d + (k+1)h) - LEV(d + kh) = π(d + kh) - π(d + (k+1)h):
        # the differences are taken in the form whose operands are smaller (less cancellation):
        # stop-loss differences for remote layers, LEV differences for thin layers under a huge mean
        with np.errstate(invalid="ignore", over="ignore"):
            lev = np.asarray(severity.lev(y), dtype=float)
            D = np.diff(lev)
            if math.isfinite(severity.mean()):
                sl = np.asarray(severity.stop_loss(y), dtype=float)
                # LEV differences up to the first point where the stop-loss is the smaller operand,
                # stop-loss differences from there on: one switch, so the masses still telescope
                switch = np.abs(sl[:-1]) <= np.abs(lev[1:])
                k0 = int(np.argmax(switch)) if switch.any() else D.size
                D = np.concatenate((D[:k0], -np.diff(sl[k0:])))
        if not np.all(np.isfinite(D)):
            raise DiscretisationError("the severity's limited expected values are not finite on the grid")
        f = np.empty(kmax + 1)
        f[0] = 1.0 - D[0] / h
        f[1:] = (D[:-1] - D[1:]) / h
    elif method == "round":
        y = h * (np.arange(kmax + 1) + 0.5)
        F = np.where(y < cap, np.asarray(severity.cdf(d + np.minimum(y, cap)), dtype=float), 1.0)
        f = np.diff(np.concatenate(([0.0], F)))
        f[0] = F[0]
        f[-1] += 1.0 - F[-1]
    else:
        raise InputError(f"unknown discretisation {method!r}; use 'dispersal' or 'round'", field="discretization")
    np.maximum(f, 0.0, out=f)
    out[: f.size] = f
    return out


def _log_mgf_disc(f: np.ndarray, h: float, t: np.ndarray) -> np.ndarray:
    """log E[exp(t Y)] for a discrete Y on grid h (vectorised over t)."""
    nz = np.flatnonzero(f > 0)
    logf = np.log(f[nz])
    x = nz * h
    return special.logsumexp(logf[None, :] + t[:, None] * x[None, :], axis=1)


def _chernoff_range(perils: Sequence[Peril], caps: Sequence[float], d: float, eps: float,
                    n_prov: int = 256) -> float:
    """Upper bound R with P(S > R) <= eps by Chernoff, on a coarse discretisation."""
    cmax = max(caps)
    if cmax <= 0:
        return 0.0
    h0 = cmax / n_prov
    if not h0 >= sys.float_info.min * 1e6:  # subnormal widths (5e-324): the grid and 1/cmax overflow
        raise InputError(f"a layer width of {cmax:g} currency units is too small to price", field="limit")
    s = np.logspace(-4, 3, 40)
    t = s / cmax
    total = np.zeros_like(t)
    seen: dict = {}  # perils with one (package) severity and cap share its log-mgf (the same numbers)
    for peril, c in zip(perils, caps, strict=True):
        if c <= 0:
            continue
        key = (peril.severity, c) if cacheable_severity(peril.severity) else None
        lm = seen.get(key) if key is not None else None
        if lm is None:
            f = discretize_layer(peril.severity, d, c, h0, n_prov + 2)
            lm = _log_mgf_disc(f, h0, t)
            if key is not None:
                seen[key] = lm
        with np.errstate(over="ignore", invalid="ignore"):
            total = total + peril.frequency.log_pgf_real(np.exp(lm))
    with np.errstate(invalid="ignore"):
        x = (total - math.log(eps)) / t
    x = x[np.isfinite(x)]
    if x.size == 0:  # pragma: no cover - pgf diverges everywhere: fall back on a wide range
        return cmax * 1000
    return float(max(x.min(), cmax))


def _choose_bucket(R: float, caps: Sequence[float], n: int, padding: int) -> float:
    usable = n / (2 ** padding)
    h = R / usable
    finite = [c for c in caps if c > 0]
    if not finite or h <= 0:
        return 1.0
    cref = max(finite)
    m = math.floor(cref / h)
    if m >= 1:
        h = cref / m  # the largest occurrence limit sits on the grid; h >= R/usable
    return h


