"""Premium principles, loads and :func:`price_layer`.

A premium principle turns the distribution of the insurer's loss ``L`` over the term into a
technical (risk) premium; loads for expenses, commission and premium tax then give the gross
premium, floored at a minimum premium.

Principles (``name:parameter``, the form the CLI takes):

=====================  ================================================================
``pure``               :math:`E[L]`
``expected_value:θ``   :math:`(1+θ)E[L]`
``std:k``              :math:`E[L] + k\\,SD[L]`
``variance:k``         :math:`E[L] + k\\,Var[L]` (``k`` per currency unit)
``cost_of_capital:r``  :math:`E[L] + r\\,(TVaR_p[L] - E[L])`: capital is the TVaR at the
                       pricing level in excess of the expected loss, remunerated at ``r``
``wang:λ``             :math:`\\int_0^\\infty Φ(Φ^{-1}(S(x)) + λ)\\,dx`
``ph:ρ``               :math:`\\int_0^\\infty S(x)^{ρ}\\,dx`, ``0 < ρ <= 1`` (proportional hazard)
=====================  ================================================================

Loads: with expense ratio ``e`` and commission ``c`` as fractions of the premium before tax
and premium tax ``t`` on top, :math:`P_{gross} = \\max(P_{tech}/(1-e-c)\\,(1+t),\\ P_{min})`.
With reinstatements, the premium income is split between the upfront premium ``P`` and the
expected reinstatement premium ``φP``, so the upfront premium is the target divided by
``1 + φ``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from underwriting.caches import register_cache
from underwriting.errors import InputError
from underwriting.losses.aggregate import (
    DEFAULT_RETURN_PERIODS,
    AggregateResult,
    MomentCheck,
    Peril,
)
from underwriting.losses.aggregate.discretisation import cacheable_severity
from underwriting.losses.counts import Frequency, NegativeBinomial, Poisson
from underwriting.losses.severity import Severity
from underwriting.pricing.layers import Layer, _layer_mean
from underwriting.pricing.principles import (
    PRINCIPLE_BOUNDS,
    PRINCIPLES,
    Principle,
    distortion_premium,
    parse_principle,
    ph_distortion,
    wang_distortion,
)

__all__ = [
    "Principle",
    "parse_principle",
    "PRINCIPLES",
    "PRINCIPLE_BOUNDS",
    "Loadings",
    "PremiumComponents",
    "PricingResult",
    "price_layer",
    "price_perils",
    "distortion_premium",
    "wang_distortion",
    "ph_distortion",
    "DEFAULT_ILF_LIMITS",
    "DEFAULT_PRINCIPLE",
]

#: The one default premium principle of every entry point (quote, price, price_perils, compare-reserve,
#: the API and the service): a Wang transform with lambda = 0.25, a standalone market-style load.
DEFAULT_PRINCIPLE = "wang:0.25"

#: Per-occurrence limits of the increased-limits table (currency units).
DEFAULT_ILF_LIMITS: tuple[float, ...] = (1e6, 2e6, 5e6, 1e7, 2.5e7, 5e7, 1e8, 2.5e8, 5e8, 1e9)


@dataclass(frozen=True)
class Loadings:
    """Loads from technical to gross premium (fractions) and the minimum premium.

    Parameters
    ----------
    expense : float
        Insurer's expenses as a fraction of the premium before tax.
    commission : float
        Broker commission as a fraction of the premium before tax.
    tax : float
        Premium tax rate, added on top.
    minimum_premium : float
        Floor on the upfront premium (currency units).
    """

    expense: float = 0.0
    commission: float = 0.0
    tax: float = 0.0
    minimum_premium: float = 0.0

    def __post_init__(self) -> None:
        for name in ("expense", "commission", "tax", "minimum_premium"):
            v = float(getattr(self, name))
            if not math.isfinite(v) or v < 0:
                raise InputError(f"must be a non-negative number, got {v!r}", field=name)
            object.__setattr__(self, name, v)
        if self.expense + self.commission >= 1:
            raise InputError("expense + commission must be below 1 (fractions of premium)", field="expense")


@dataclass(frozen=True)
class PremiumComponents:
    """Premium by component (currency units).

    ``expected_loss + risk_load + expense + commission + tax + reinstatement_credit +
    minimum_uplift == total``, the upfront gross premium. The reinstatement credit (<= 0) is
    the part of the premium income expected to come from reinstatement premiums.
    """

    expected_loss: float
    risk_load: float
    expense: float
    commission: float
    tax: float
    minimum_uplift: float
    reinstatement_credit: float
    total: float

    def to_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PricingResult:
    """Everything :func:`price_layer` computes (immutable, JSON-ready via :meth:`to_dict`).

    Amounts are in currency units over the policy term.

    Attributes
    ----------
    expected_loss, std : float
        Mean and standard deviation of the insurer's loss.
    level, var, tvar : float
        Pricing level and the VaR/TVaR of the loss at that level.
    premium : float
        Upfront gross premium (after loads, minimum premium and reinstatement credit).
    technical_premium : float
        Premium from the principle before loads (on the total premium income basis).
    components : PremiumComponents
    expected_reinstatement_premium : float
    rate_on_line : float or None
        ``premium / (share * limit)`` (aggregate limit if no occurrence limit).
    loss_ratio : float
        ``expected_loss / (premium + expected_reinstatement_premium)``.
    prob_attach, prob_exhaust : float
    ilf_table : tuple of dict
        Increased-limits table at the layer's deductible.
    ep_curve : tuple of dict
        AEP/OEP points by return period.
    method : str
    moment_check : bool
    moment_detail : MomentCheck
    se_mean : float
        Monte Carlo standard error of the expected loss (0 for FFT/Panjer).
    """

    expected_loss: float
    std: float
    level: float
    var: float
    tvar: float
    premium: float
    technical_premium: float
    components: PremiumComponents
    expected_reinstatement_premium: float
    rate_on_line: float | None
    loss_ratio: float | None
    prob_attach: float
    prob_exhaust: float
    ilf_table: tuple[dict[str, float], ...]
    ep_curve: tuple[dict[str, float], ...]
    method: str
    moment_check: bool
    moment_detail: MomentCheck
    principle: str
    layer: Layer
    se_mean: float = 0.0
    bucket: float | None = None
    seed: int | None = None
    distribution: AggregateResult | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output (no numpy types, infinities as None)."""
        def fin(v):
            return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v
        return {
            "expected_loss": self.expected_loss, "std": self.std, "var": self.var, "tvar": self.tvar,
            "level": self.level, "premium": self.premium, "technical_premium": self.technical_premium,
            "premium_components": self.components.to_dict(),
            "expected_reinstatement_premium": self.expected_reinstatement_premium,
            "rate_on_line": fin(self.rate_on_line), "loss_ratio": fin(self.loss_ratio),
            "prob_attach": self.prob_attach, "prob_exhaust": self.prob_exhaust,
            "ilf_table": [{k: fin(v) for k, v in r.items()} for r in self.ilf_table],
            "ep_curve": list(self.ep_curve), "method": self.method, "moment_check": self.moment_check,
            "moment_detail": self.moment_detail.to_dict(), "principle": self.principle,
            "layer": self.layer.to_dict(), "se_mean": self.se_mean, "bucket": self.bucket, "seed": self.seed,
        }


def _ilf_table(perils: Sequence[Peril], layer: Layer, limits: Sequence[float]) -> tuple[dict[str, float], ...]:
    lims = tuple(sorted({float(v) for v in limits if v > 0} | ({layer.limit} if math.isfinite(layer.limit) else set())))
    key = _ilf_key(perils, layer, lims)
    rows = _ilf_rows(perils, layer.deductible, layer.share, dict(layer.sublimits), lims) if key is None \
        else _ilf_rows_cached(key)
    return tuple(dict(r) for r in rows)  # the caller's own rows


def _ilf_key(perils: Sequence[Peril], layer: Layer, lims: tuple[float, ...]) -> tuple | None:
    """Value key of an ILF table, or ``None`` unless every peril is the package's frozen, value-compared
    kind (the table then depends on the values only; a user's severity is never cached)."""
    for p in perils:
        if type(p) is not Peril or type(p.frequency) not in (Poisson, NegativeBinomial) \
                or not cacheable_severity(p.severity):
            return None
    key = (tuple(perils), layer.deductible, layer.share, tuple(sorted(layer.sublimits.items())), lims)
    try:
        hash(key)
    except TypeError:
        return None
    return tuple((type(v).__name__, v) for v in key)  # typed, as the compound cache's key


@register_cache
@functools.lru_cache(maxsize=64)
def _ilf_rows_cached(key) -> tuple[dict[str, float], ...]:
    (_, perils), (_, deductible), (_, share), (_, subs), (_, lims) = key
    return _ilf_rows(list(perils), deductible, share, dict(subs), lims)


def _ilf_rows(perils: Sequence[Peril], deductible: float, share: float, sublimits: dict[str, float],
              lims: tuple[float, ...]) -> tuple[dict[str, float], ...]:
    rows = []
    base = None
    for lim in lims:
        el = sum(p.frequency.mean() * _layer_mean(p.severity, deductible, min(lim, sublimits.get(p.name, math.inf)))
                 for p in perils) * share
        if base is None:
            base = el
        rows.append({"limit": lim, "expected_loss": el, "ilf": el / base if base > 0 else math.nan})
    return tuple(rows)


def price_perils(perils: Peril | Sequence[Peril], layer: Layer | None = None, *,
                 principle: str | Principle = DEFAULT_PRINCIPLE, level: float = 0.995,
                 loadings: Loadings | None = None, method: str = "fft",
                 ilf_limits: Sequence[float] = DEFAULT_ILF_LIMITS,
                 return_periods: Sequence[float] = DEFAULT_RETURN_PERIODS,
                 **engine: Any) -> PricingResult:
    """Price a layer over one or more perils.

    Parameters
    ----------
    perils : Peril or sequence of Peril
        Loss sources with their counts over the term and exposure-mapped severities.
    layer : Layer, optional
        Policy terms (default: unlimited ground-up cover).
    principle : str or Principle
        Premium principle, e.g. ``"cost_of_capital:0.10"``; default :data:`DEFAULT_PRINCIPLE` (``"wang:0.25"``).
    level : float
        Level of VaR/TVaR reported and used by ``cost_of_capital``, in (0, 1).
    loadings : Loadings, optional
        Expense, commission, tax loads and minimum premium.
    method : {"fft", "panjer", "mc"}
        Aggregate method.
    ilf_limits : sequence of float
        Occurrence limits of the increased-limits table.
    return_periods : sequence of float
        Return periods (terms) of the EP curve.
    **engine
        Passed to :func:`~underwriting.losses.aggregate.compound` (``n_buckets``, ``n_sims``,
        ``random_state``, ...).

    Returns
    -------
    PricingResult
    """
    level = float(level)
    if not (0 < level < 1):
        raise InputError(f"level must be strictly between 0 and 1, got {level!r}", field="level")
    layer = layer or Layer()
    loadings = loadings or Loadings()
    pr = parse_principle(principle)
    dist = layer.loss_distribution(perils, method=method, **engine)
    ps = (perils,) if isinstance(perils, Peril) else tuple(perils)
    el = dist.mean
    tech = pr.technical_premium(dist, level)
    top = float(dist.values[-1]) if len(dist.values) else 0.0
    if not math.isfinite(tech) or tech > top * (1 + 1e-9) + 1e-9:
        # No premium principle may charge more than the largest aggregate loss the layer can pay (a
        # distortion or TVaR-based premium never does; a moment load with a large parameter can).
        raise InputError(f"technical premium {tech:,.6g} under {pr} exceeds the largest loss the layer can pay "
                         f"({top:,.6g}): lower the principle's parameter", field="principle")
    phi = layer.reinstatement_factor(dist)
    before_tax_total = tech / (1.0 - loadings.expense - loadings.commission)
    gross_total = before_tax_total * (1.0 + loadings.tax)
    upfront = gross_total / (1.0 + phi)
    uplift = max(loadings.minimum_premium - upfront, 0.0)
    premium = upfront + uplift
    # components on the total-income basis; the reinstatement credit moves the expected
    # reinstatement premium out of the upfront premium, so the components add up to `premium`
    comps = PremiumComponents(
        expected_loss=el, risk_load=tech - el, expense=before_tax_total * loadings.expense,
        commission=before_tax_total * loadings.commission, tax=before_tax_total * loadings.tax,
        minimum_uplift=uplift, reinstatement_credit=upfront - gross_total, total=premium)
    exp_rp = premium * phi
    cover = layer.limit if math.isfinite(layer.limit) else layer.agg_limit
    rol = premium / (layer.share * cover) if math.isfinite(cover) else None
    income = premium + exp_rp
    return PricingResult(
        expected_loss=el, std=dist.std, level=level, var=dist.value_at_risk(level), tvar=dist.tvar(level),
        premium=premium, technical_premium=tech, components=comps, expected_reinstatement_premium=exp_rp,
        rate_on_line=rol, loss_ratio=el / income if income > 0 else None,
        prob_attach=dist.prob_attach, prob_exhaust=dist.prob_exhaust,
        ilf_table=_ilf_table(ps, layer, ilf_limits), ep_curve=tuple(dist.ep_curve(return_periods)),
        method=dist.method, moment_check=bool(dist.moment_check), moment_detail=dist.moment_check,
        principle=str(pr), layer=layer, se_mean=dist.se_mean, bucket=dist.bucket, seed=dist.seed,
        distribution=dist)


def price_layer(frequency: Frequency, severity: Severity, layer: Layer | None = None, **kwargs: Any) -> PricingResult:
    """Price a layer for one peril: ``frequency`` (count over the term) and ``severity``.

    See :func:`price_perils` for the keyword arguments.

    Examples
    --------
    >>> import math
    >>> from underwriting.losses.counts import Poisson
    >>> from underwriting.losses.severity import Lognormal
    >>> r = price_layer(Poisson(0.3), Lognormal(math.log(1e5), 2.0), Layer(1e6, 9e6),
    ...                 principle="expected_value:0.3")
    >>> round(r.expected_loss, 2), round(r.premium, 2)
    (87807.56, 114149.83)
    """
    return price_perils(Peril("all", frequency, severity), layer, **kwargs)
