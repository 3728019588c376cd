"""Policy structure and the quote's defence: layers and towers, guard rails, currency, defence block.

The layers stage of :func:`underwriting.quote.make.make_quote`: it holds the logic of issue #16 so the
pipeline itself stays short (the defence block: :mod:`underwriting.quote.defence`; currencies:
:mod:`underwriting.quote.currency`).

* **Layers and towers.** One :class:`~underwriting.domain.policy.PolicyTerms` is one layer; a
  :class:`~underwriting.domain.policy.Programme` is a tower of them. Every layer is priced on the
  same loss model (the same perils, counts and severities, in USD) by
  :func:`underwriting.pricing.premium.price_perils`; the quote's expected loss and premium are the
  sums over the layers (expected values add). The standard deviation and TVaR of a tower are the sums
  of the layers' (comonotonic sums: upper bounds, since both are subadditive); the OEP of a tower at a
  return period is the sum of the layers' (each layer's largest occurrence payment comes from the same
  largest ground-up loss) and the AEP the comonotonic sum.
* **Guard rails.** Terms that make the cover unreachable or worthless are refused (exit 2, naming the
  field): a limit or sub-limit below one unit of the policy currency, a layer attaching at or above
  the exchange's customer assets (no single loss can reach it: the severity is capped by them), and
  an aggregate deductible no modelled term's losses reach (P(attach) = 0). Merely unusual terms are
  quoted with a warning: a layer reached less than once in :data:`RARE_ATTACH_TERMS` terms. The
  premium never falls below the expected loss and a risk load is never negative: a principle whose
  discretised value falls below the mean (a layer far narrower than the grid's bucket) is floored at
  the expected loss, and the quote says so; an upfront premium that a large reinstatement credit
  would take under the expected loss is raised to it (with a warning).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from underwriting.errors import InputError

__all__ = ["EP_RETURN_PERIODS", "EP_FARTHEST_TERMS", "RARE_ATTACH_TERMS", "LayerPricing", "PricedProgramme",
           "layer_terms", "check_terms", "price_layers", "price_programme", "premium_range", "layer_blocks",
           "programme_terms"]

#: Return periods (policy terms; years for a one-year policy) of the quote's EP points for a layer reached at
#: least once in 10 terms; a layer reached more rarely gets points from its own P(attach)
#: (:func:`underwriting.quote.defence.ep_return_periods`).
EP_RETURN_PERIODS: tuple[float, ...] = (10.0, 25.0, 50.0, 100.0, 200.0, 250.0)
#: The rarest EP point of a rarely reached layer: 1 in this many terms (or 10 x 1/P(attach) if rarer still).
EP_FARTHEST_TERMS = 10_000.0
#: A layer reached less often than once in this many terms is quoted with a warning.
RARE_ATTACH_TERMS = 10_000.0
#: Below this P(attach) the cover is unreachable (refused): the aggregate loss grid holds no mass there.
UNREACHABLE_P = 1e-12


def layer_terms(terms: Any) -> list[Any]:
    """The layers of ``terms``: a Programme's layers, or ``[terms]`` for one PolicyTerms."""
    return list(terms.layers) if hasattr(terms, "layers") else [terms]


def check_terms(layers: Sequence[Any], sub: Any, *, policy_per_sub: float, prefix: bool = False) -> list[str]:
    """Refuse terms that make a layer worthless before any pricing; return warnings for unusual ones.

    Parameters
    ----------
    layers : sequence of PolicyTerms
    sub : Submission
    policy_per_sub : float
        Units of the policy currency per unit of the submission's currency.
    prefix : bool
        Name fields ``layers.<i>.<field>`` (a programme) instead of ``<field>``.

    Raises
    ------
    InputError
        A limit or sub-limit below one currency unit, or a layer attaching at or above the customer
        assets (no loss can reach it).
    """
    warnings: list[str] = []
    assets = sub.exposure.customer_assets.total * policy_per_sub
    for i, t in enumerate(layers):
        name = (lambda f, i=i: f"layers.{i}.{f}") if prefix else (lambda f: f)
        if t.limit < 1.0:
            raise InputError(f"{t.limit:g} {t.currency} is below one currency unit: the cover is worthless",
                             field=name("limit"))
        for peril, amount in t.sublimits.items():
            if amount < 1.0:
                raise InputError(f"{amount:g} {t.currency} is below one currency unit: the {peril} cover is "
                                 "worthless", field=name(f"sublimits.{peril}"))
        att = t.attachment_point
        if att > 0 and att >= assets:
            f = "attachment" if t.attachment > 0 else "deductible"
            raise InputError(f"the layer attaches at {att:,.0f} {t.currency}, at or above the exchange's customer "
                             f"assets ({assets:,.0f} {t.currency}); no single loss (capped by the assets) can reach it",
                             field=name(f))
        if t.minimum_premium > 0 and t.minimum_premium > t.limit * t.coinsurance:
            warnings.append(f"{t.policy_id}: minimum premium {t.minimum_premium:,.0f} {t.currency} exceeds the "
                            "insurer's share of the limit")
    if len(layers) > 1:  # a tower: say where it leaves a gap (retained by the insured) or layers overlap
        ordered = sorted(layers, key=lambda t: (t.attachment_point, t.limit))
        for lo, hi in zip(ordered, ordered[1:], strict=False):
            top = lo.attachment_point + lo.limit
            if hi.attachment_point > top:
                warnings.append(f"{lo.policy_id} ends at {top:,.0f} {lo.currency} but {hi.policy_id} attaches at "
                                f"{hi.attachment_point:,.0f}: the gap between them is retained by the insured")
            elif hi.attachment_point < top:
                warnings.append(f"{lo.policy_id} and {hi.policy_id} overlap from {hi.attachment_point:,.0f} to "
                                f"{min(top, hi.attachment_point + hi.limit):,.0f} {lo.currency}: both pay there")
    return warnings


@dataclass(frozen=True)
class LayerPricing:
    """One layer priced on the quote's loss model (amounts in USD over the term).

    ``premium`` and ``components`` are the pricing engine's, or floored at the expected loss when
    ``floored`` (see :func:`price_layers`).
    """

    terms: Any
    layer: Any
    priced: Any
    premium: float
    components: dict[str, float]
    floored: bool


def _floored(priced: Any, loads: Any) -> tuple[float, dict[str, float]]:
    """Premium and components with the technical premium floored at the expected loss (risk load 0)."""
    el = priced.expected_loss
    phi = priced.layer.reinstatement_factor(priced.distribution)
    before_tax = el / (1.0 - loads.expense - loads.commission)
    gross = before_tax * (1.0 + loads.tax)
    upfront = gross / (1.0 + phi)
    uplift = max(loads.minimum_premium - upfront, 0.0)
    premium = upfront + uplift
    comps = {"expected_loss": el, "risk_load": 0.0, "expense": before_tax * loads.expense,
             "commission": before_tax * loads.commission, "tax": before_tax * loads.tax, "minimum_uplift": uplift,
             "reinstatement_credit": upfront - gross, "total": premium}
    return premium, comps


def price_layers(perils: Sequence[Any], layers: Sequence[tuple[Any, Any]], *, basis: Any, seed: int,
                 policy_per_usd: float, warnings: list[str], premium_only: bool = False) -> list[LayerPricing]:
    """Price each ``(PolicyTerms, Layer in USD)`` on the same perils; floors and warnings applied.

    ``premium_only``: leave out the priced results' increased-limits table and EP points (the premium range
    reads only the premiums; neither enters a premium).

    A layer's ``minimum_premium`` (policy currency) enters the loads in USD. A technical premium below
    the expected loss (possible only through discretisation, for a layer much narrower than a bucket)
    is floored at the expected loss, with a warning.
    """
    from underwriting.pricing.premium import Loadings, price_perils

    out = []
    for terms, layer in layers:
        loads = Loadings(expense=basis.expense, commission=basis.commission, tax=basis.tax,
                         minimum_premium=terms.minimum_premium / policy_per_usd)
        detail = {"ilf_limits": (), "return_periods": ()} if premium_only else {"return_periods": EP_RETURN_PERIODS}
        priced = price_perils(list(perils), layer, principle=basis.principle, level=basis.level, loadings=loads,
                              method="fft", random_state=seed, **detail)
        if priced.method != "fft":  # issue #30: a change of method is said, never silent
            steps = "; ".join(priced.distribution.diagnostics.get("escalation", ()))
            warnings.append(f"{terms.policy_id}: the FFT grid failed its moment check, so the aggregate loss was "
                            f"computed by {priced.method} instead (seeded, with its standard error): {steps}")
        floored = priced.technical_premium < priced.expected_loss
        prem, comps = priced.premium, priced.components.to_dict()
        if floored:
            prem, comps = _floored(priced, loads)
            warnings.append(f"{terms.policy_id}: the premium principle gave a risk load of "
                            f"{priced.technical_premium - priced.expected_loss:.3g} USD (negative, a discretisation "
                            "artefact of a very narrow layer); floored at the expected loss")
        if prem < priced.expected_loss:
            # a large reinstatement credit can push the upfront premium under the expected loss (the
            # premium income, upfront plus expected reinstatement premiums, never is): floor it
            lift = priced.expected_loss - prem
            comps = {**comps, "minimum_uplift": comps.get("minimum_uplift", 0.0) + lift}
            prem = priced.expected_loss
            comps["total"] = prem
            warnings.append(f"{terms.policy_id}: the reinstatement credit took the upfront premium below the "
                            "expected loss; raised to the expected loss")
        lp = LayerPricing(terms=terms, layer=layer, priced=priced, premium=prem, components=comps, floored=floored)
        p_att = priced.prob_attach
        agg = terms.aggregate_deductible > 0
        if priced.expected_loss <= 0 or p_att < UNREACHABLE_P:
            field = "aggregate_deductible" if agg else ("attachment" if terms.attachment > 0 else "deductible")
            raise InputError(f"{terms.policy_id}: no loss the model can produce reaches this layer "
                             f"(P(attach) = {p_att:.3g}, expected loss {priced.expected_loss:.3g} USD): "
                             "the cover is worthless", field=field)
        if p_att * RARE_ATTACH_TERMS < 1.0:
            warnings.append(f"{terms.policy_id}: the layer is reached less than once in {RARE_ATTACH_TERMS:,.0f} "
                            f"terms (P(attach) = {p_att:.3g}); its price rests on the far tail of the severity")
        out.append(lp)
    return out


@dataclass(frozen=True)
class PricedProgramme:
    """The layers stage's result: every layer priced on the one loss model, and their sums (USD over the term).

    ``std`` and ``tvar`` of a tower are comonotonic sums of the layers' (upper bounds); ``reinstatement_factor`` is φ, a tower's weighted
    by premium; ``premium_range`` the premium at each end of the frequency interval.
    """

    layers: tuple[LayerPricing, ...]
    expected_loss: float
    std: float
    tvar: float
    premium: float
    moment_check_ok: bool
    method: str
    reinstatement_factor: float
    premium_range: tuple[float, ...]


def price_programme(perils: Sequence[Any], layers: Sequence[Any], *, basis: Any, seed: int, policy_per_usd: float,
                    interval: Sequence[float], expected_breaches: float, warnings: list[str]) -> PricedProgramme:
    """Price each layer of ``layers`` (PolicyTerms, policy currency) on ``perils`` and sum them (USD).

    Floors, guard rails and warnings as :func:`price_layers`; ``interval`` (the frequency interval of the
    term's expected breaches) gives the premium range by :func:`premium_range`.
    """
    pairs = [(t, t.to_layer(policy_per_usd)) for t in layers]
    priced = price_layers(perils, pairs, basis=basis, seed=seed, policy_per_usd=policy_per_usd, warnings=warnings)
    prem = sum(lp.premium for lp in priced)
    phis = [lp.layer.reinstatement_factor(lp.priced.distribution) for lp in priced]
    phi = phis[0] if len(phis) == 1 else (
        sum(f * lp.premium for f, lp in zip(phis, priced, strict=True)) / prem if prem > 0 else 0.0)
    rng = premium_range(perils, pairs, interval, expected_breaches=expected_breaches, basis=basis, seed=seed,
                        policy_per_usd=policy_per_usd)
    return PricedProgramme(
        layers=tuple(priced), expected_loss=sum(lp.priced.expected_loss for lp in priced),
        std=sum(lp.priced.std for lp in priced), tvar=sum(lp.priced.tvar for lp in priced), premium=prem,
        moment_check_ok=all(bool(lp.priced.moment_check) for lp in priced),
        method=priced[0].priced.method, reinstatement_factor=phi, premium_range=tuple(rng))


def premium_range(perils: Sequence[Any], layers: Sequence[tuple[Any, Any]], interval: Sequence[float], *,
                  expected_breaches: float, basis: Any, seed: int, policy_per_usd: float) -> list[float]:
    """Premium (USD, all layers) at each end of the frequency interval of the term's expected breaches.

    With ``lam`` breaches expected instead of ``expected_breaches`` (the point estimate, all perils,
    covered or not), each covered peril's count becomes Poisson with mean ``lam × mean_p /
    expected_breaches``; every layer is priced as in :func:`price_layers` (loads, minimum premium,
    floors), so a tower's range is the sum of its layers' ranges.
    """
    from underwriting.losses.aggregate import Peril
    from underwriting.losses.counts import Poisson

    total = float(expected_breaches)
    out = []
    for lam in interval:
        if total <= 0 or lam <= 0:
            out.append(0.0)
            continue
        scaled = [Peril(p.name, Poisson(lam * float(p.frequency.mean()) / total), p.severity) for p in perils]
        try:
            out.append(sum(lp.premium for lp in price_layers(scaled, layers, basis=basis, seed=seed,
                                                             policy_per_usd=policy_per_usd, warnings=[],
                                                             premium_only=True)))
        except InputError:  # the layer is out of reach at the low end of the interval: only the floor applies
            out.append(sum(t.minimum_premium / policy_per_usd for t, _ in layers))
    return out


def layer_blocks(priced: Sequence[LayerPricing], q_rate: float, policy_per_usd: float) -> list[dict[str, Any]]:
    """Per-layer results in the quote currency."""
    conv = q_rate / policy_per_usd
    out = []
    for lp in priced:
        t, r = lp.terms, lp.priced
        prem = lp.premium * q_rate
        cover = t.limit * t.coinsurance * conv
        out.append({
            "policy_id": t.policy_id, "label": f"{_short(t.limit)} xs {_short(t.attachment_point)} {t.currency}",
            "attachment": t.attachment_point * conv, "limit": t.limit * conv, "coinsurance": t.coinsurance,
            "expected_loss": r.expected_loss * q_rate, "std": r.std * q_rate, "tvar_995": r.tvar * q_rate,
            "premium": prem, "minimum_premium": t.minimum_premium * conv,
            "premium_components": {k: v * q_rate for k, v in lp.components.items() if k != "total"},
            "rate_on_line": prem / cover if cover > 0 else None, "p_attach": r.prob_attach,
            "p_exhaust": r.prob_exhaust, "risk_load_floored": lp.floored,
        })
    return out


def _short(v: float) -> str:
    for div, suf in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.6g}{suf}"
    return f"{v:.6g}"


def programme_terms(programme: Any, conv: float, covered: Sequence[str]) -> dict[str, Any]:
    """The quote's ``terms`` block for a tower: its span (lowest attachment to highest top), in the quote currency."""
    ls = list(programme.layers)
    bottom = min(t.attachment_point for t in ls)
    top = max(t.attachment_point + t.limit for t in ls)
    shares = {t.coinsurance for t in ls}
    first = ls[0]
    return {"policy_id": programme.programme_id, "currency_of_policy": first.currency,
            "inception": first.inception.isoformat(), "expiry": first.expiry.isoformat(),
            "term_years": first.term_years, "deductible": min(t.deductible for t in ls) * conv,
            "attachment": bottom * conv, "limit": (top - bottom) * conv, "aggregate_limit": None,
            "coinsurance": shares.pop() if len(shares) == 1 else 1.0, "perils_covered": list(covered),
            "default_terms": False, "layers": len(ls)}
