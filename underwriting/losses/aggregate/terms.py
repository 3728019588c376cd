"""Validated policy terms of the engines, analytic moments and the moment check."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from underwriting.errors import InputError
from underwriting.losses.aggregate.results import (
    PERILS,
    MomentCheck,
    Peril,
    _rel,
)


# --------------------------------------------------------------------------------------------
# Terms and validation
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Terms:
    deductible: float
    limit: float
    sublimits: Mapping[str, float]
    agg_deductible: float
    agg_limit: float
    share: float

    def peril_limit(self, name: str) -> float:
        return min(self.limit, self.sublimits.get(name, math.inf))


def check_amount(name: str, v: float, *, allow_inf: bool = False, positive: bool = False) -> float:
    """A validated amount (currency units): a number, finite (or +inf when allowed), >= 0 (or > 0)."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise InputError(f"must be a number, got {v!r}", field=name) from None
    if math.isnan(v) or (math.isinf(v) and not (allow_inf and v > 0)):
        raise InputError(f"must be a finite number{' or inf' if allow_inf else ''}, got {v!r}", field=name)
    if v < 0 or (positive and v == 0):
        raise InputError(f"must be {'positive' if positive else 'non-negative'}, got {v!r}", field=name)
    return v


def _terms(deductible, limit, sublimits, agg_deductible, agg_limit, share) -> _Terms:
    subs = dict(sublimits or {})
    for k in subs:
        if k not in PERILS:
            raise InputError(f"unknown peril {k!r} in sub-limits; choose from {list(PERILS)}", field="sublimits")
        subs[k] = check_amount(f"sublimits.{k}", subs[k], allow_inf=True, positive=True)
    share = float(share)
    if not (0.0 < share <= 1.0):
        raise InputError(f"insurer's share must be in (0, 1], got {share!r}", field="share")
    return _Terms(check_amount("deductible", deductible), check_amount("limit", limit, allow_inf=True, positive=True),
                  subs, check_amount("agg_deductible", agg_deductible),
                  check_amount("agg_limit", agg_limit, allow_inf=True, positive=True), share)


def _as_perils(perils: Peril | Sequence[Peril]) -> tuple[Peril, ...]:
    if isinstance(perils, Peril):
        return (perils,)
    out = tuple(perils)
    if not out or not all(isinstance(p, Peril) for p in out):
        raise InputError("give one or more Peril objects", field="perils")
    return out


# --------------------------------------------------------------------------------------------
# Analytic moments
# --------------------------------------------------------------------------------------------
def _analytic_moments(perils, terms: _Terms) -> tuple[float, float]:
    mean = var = 0.0
    for p in perils:
        lim = terms.peril_limit(p.name)
        e1 = p.severity.layer_moment(terms.deductible, lim, 1)
        e2 = p.severity.layer_moment(terms.deductible, lim, 2) if math.isfinite(lim) or math.isfinite(p.severity.moment(2)) else math.inf
        en, vn = p.frequency.mean(), p.frequency.var()
        mean += en * e1
        var += en * e2 + (vn - en) * e1 * e1 if math.isfinite(e2) else math.inf
    return mean, var


def _moment_check(perils, terms, m_comp, v_comp, mean_rtol, var_rtol, *, mc_n: int | None = None,
                  mc_m4: float | None = None) -> MomentCheck:
    m_an, v_an = _analytic_moments(perils, terms)
    note = ""
    if mc_n is not None:  # Monte Carlo: compare within 4 standard errors
        se_m = math.sqrt(v_comp / mc_n) if v_comp > 0 else 0.0
        ok = abs(m_comp - m_an) <= 4 * se_m + 1e-12 * abs(m_an)
        if math.isfinite(v_an) and mc_m4 is not None:
            se_v = math.sqrt(max(mc_m4 - v_comp**2, 0.0) / mc_n)
            ok = ok and abs(v_comp - v_an) <= 4 * se_v + 1e-12 * v_an
        note = "Monte Carlo: agreement within 4 standard errors"
        return MomentCheck(m_an, m_comp, v_an, v_comp, mean_rtol, var_rtol, bool(ok), note)
    ok = _rel(m_comp, m_an) <= mean_rtol
    if math.isfinite(v_an):
        ok = ok and _rel(v_comp, v_an) <= var_rtol
    else:
        note = "analytic variance is infinite: only the mean is checked"
    if not ok:
        note = (note + "; " if note else "") + (
            "computed moments disagree with the analytic ones: increase n_buckets, or the severity "
            "tail is too heavy for the grid")
    return MomentCheck(m_an, m_comp, v_an, v_comp, mean_rtol, var_rtol, bool(ok), note)


# --------------------------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------------------------
def _exact_attach_exhaust(perils, terms: _Terms) -> tuple[float | None, float | None]:
    """P(at least one occurrence exceeds the deductible) and P(one uses up its limit)."""
    p_none = 1.0
    p_no_exhaust = 1.0
    for p in perils:
        lim = terms.peril_limit(p.name)
        p_none *= float(np.real(p.frequency.pgf(float(p.severity.cdf(terms.deductible)))))
        if math.isfinite(lim):
            p_no_exhaust *= float(np.real(p.frequency.pgf(float(p.severity.cdf(terms.deductible + lim) if
                                                                 terms.deductible + lim < float(p.severity.ppf(1.0)) else 1.0))))
    return 1.0 - p_none, 1.0 - p_no_exhaust


def _oep_curve(perils, terms: _Terms, grid: np.ndarray) -> np.ndarray:
    """P(largest single occurrence payment > y) on a grid, before aggregate terms and share."""
    prod = np.ones_like(grid)
    for p in perils:
        lim = terms.peril_limit(p.name)
        F = np.where(grid < lim, np.asarray(p.severity.cdf(terms.deductible + np.minimum(grid, lim)), dtype=float), 1.0)
        prod *= np.real(p.frequency.pgf(F))
    return 1.0 - prod


def _apply_aggregate_terms(x: np.ndarray, terms: _Terms) -> np.ndarray:
    return terms.share * np.clip(x - terms.agg_deductible, 0.0, terms.agg_limit)


