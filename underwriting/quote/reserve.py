"""The quote's reserve stage: the reserve block of a quote and the reserve assessment with risk-based sizing.

:func:`assess_reserve` builds a regime's risk-based sizing scenario from the quote's own loss model
(:func:`annual_ground_up_loss`): the ground-up model of all perils over one year from the day after
as-of. A quote on its default (ground-up) terms hands its own loss model in, so it is not built again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from underwriting.domain.currency import FxTable
from underwriting.domain.policy import PolicyTerms
from underwriting.domain.quote import (
    ReserveBlock,
)
from underwriting.domain.submission import Submission
from underwriting.quote.losses import Exposure, LossModel, build_loss_model, default_terms
from underwriting.quote.options import DEFAULT_FREQUENCY_MODEL


def reserve_block(sub: Submission, terms: PolicyTerms | list[PolicyTerms] | None, regime: str | None, fx: FxTable,
                  *, frequency_model: str = DEFAULT_FREQUENCY_MODEL, fx_out: list[dict[str, Any]] | None = None,
                  registry: Any = None, schedule: Any = None, ground_up: LossModel | None = None,
                  exposure: Exposure | None = None) -> ReserveBlock:
    """The quote's reserve block under ``regime`` (default from the jurisdiction); ``fx_out`` collects the
    rates the assessment used; ``ground_up``: the quote's loss model when it is the ground-up one, else
    ``exposure``: the quote's severities by tier, for the ground-up model of the risk-based sizing."""
    from underwriting.reserve.jurisdictions import default_regime, regime_note

    reg = regime or default_regime(sub.exchange.jurisdiction)
    if reg is None:
        return ReserveBlock(regime=None, requirement=None, credit=None, credit_share=None,
                            note=regime_note(sub.exchange.jurisdiction))
    a = assess_reserve(sub, [] if terms is None else list(terms) if isinstance(terms, list) else [terms], reg, fx,
                       frequency_model=frequency_model, registry=registry, schedule=schedule, ground_up=ground_up,
                       exposure=exposure)
    d = a.to_dict()
    if fx_out is not None:
        fx_out.extend(d.get("fx", []))
    note = None if terms is not None else "no policy given: requirement only (pass --terms for the credit)"
    return ReserveBlock(regime=d["regime"], regime_version=d.get("regime_version"), requirement=d["requirement"],
                        credit=d["credit"], credit_share=d["credit_share"], residual_cash=d["residual_cash"],
                        checks=d["checks"], risk_sizing=d.get("risk_sizing"), note=note)


def annual_ground_up_loss(sub: Submission, fx: FxTable, *, frequency_model: str = DEFAULT_FREQUENCY_MODEL,
                          registry: Any = None, schedule: Any = None, ground_up: LossModel | None = None,
                          exposure: Exposure | None = None) -> Any:
    """The exchange's annual ground-up customer loss over all custody tiers, from the quote's own loss
    model (for a regime's risk-based sizing scenario); ``registry`` and ``schedule`` as the quote's.
    ``ground_up``: that loss model when the caller has built it already (the default terms'); ``exposure``:
    the severities by tier of ``sub`` when the caller has them."""
    from underwriting.reserve.sizing import annual_ground_up_loss as _annual

    lm = ground_up or build_loss_model(sub, default_terms(sub), fx=fx, frequency_model=frequency_model,
                                       registry=registry, schedule=schedule, exposure=exposure)
    desc = (f"ground-up, all tiers, 1 year: {lm.methods.get('frequency', frequency_model)} frequency "
            f"({lm.frequency.expected_breaches:.4f} breaches); {lm.methods.get('severity', '')}")
    return _annual(lm.perils, lm.quote_per_usd, description=desc)


def assess_reserve(sub: Submission, policies: list[PolicyTerms], regime: Any, fx: FxTable, *,
                   as_of: dt.date | None = None, overrides: dict[str, Any] | None = None,
                   risk_sizing: bool = True, frequency_model: str = DEFAULT_FREQUENCY_MODEL, registry: Any = None,
                   schedule: Any = None, ground_up: LossModel | None = None, exposure: Exposure | None = None) -> Any:
    """Reserve assessment with the regime's risk-based sizing built from the quote's loss model.

    The one path of ``underwriting reserve``, ``underwriting.api.reserve`` and the service's
    ``POST /v1/reserve``. ``regime`` is an id, a TOML path or a loaded regime; ``overrides`` are
    ``--param`` style parameter changes; ``risk_sizing=False`` skips the loss model.
    """
    from underwriting.reserve import assess, load_regime

    reg = load_regime(regime) if not hasattr(regime, "risk_sizing") else regime
    if overrides:
        reg = reg.with_overrides(overrides)
    annual = None
    if risk_sizing and reg.risk_sizing is not None:
        annual = annual_ground_up_loss(sub, fx, frequency_model=frequency_model, registry=registry,
                                       schedule=schedule, ground_up=ground_up, exposure=exposure)
    return assess(sub, policies, reg, fx, as_of=as_of, annual_loss=annual,
                  loss_model_note=annual.description if annual is not None else "")


def grid_from_quote_model(sub: Submission, template: PolicyTerms, deductibles: list[float], limits: list[float],
                          fx: FxTable, *, frequency_model: str = DEFAULT_FREQUENCY_MODEL,
                          principle: str | None = None) -> tuple[list[Any], str]:
    """Candidates over a deductible × limit grid priced with the exchange's own quote loss model.

    Each layer is priced under the quote's principle (default ``DEFAULT_PRINCIPLE``) with its expense
    and commission loads, so the premium is the one charged. Returns ``(candidates, pricing_note)``;
    used by ``underwriting compare-reserve --template`` and :func:`underwriting.api.compare_reserve`.
    """
    from underwriting.pricing.premium import Loadings
    from underwriting.quote.request import PricingBasis
    from underwriting.reserve.compare import grid_candidates, perils_pricer

    basis = PricingBasis(principle=principle or "")
    principle = basis.principle
    loads = Loadings(expense=basis.expense, commission=basis.commission, tax=basis.tax)
    lm = build_loss_model(sub, template, fx=fx, frequency_model=frequency_model)
    price, loss = perils_pricer(lm.perils, lm.policy_per_usd, template, principle=principle, loadings=loads,
                                level=basis.level)
    note = (f"grid priced with the exchange's own quote loss model ({lm.methods.get('frequency', '')}; "
            f"{lm.methods.get('severity', '')}); {principle} with expense {basis.expense:.0%} and "
            f"commission {basis.commission:.0%}: premiums as charged")
    return grid_candidates(template, deductibles, limits, price, loss_fn=loss), note
