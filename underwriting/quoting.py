"""The quote pipeline: submission → features → risk and frequency → losses → premium → reserve credit.

:func:`make_quote` runs every stage in order and records which method and version produced each
number. Pricing is done in USD (the currency the severity is fitted in) and converted into the
submission's currency at the recorded rate; every premium principle used is positively homogeneous,
so the conversion commutes with pricing.

Perils. The breach frequency is split into the policy perils by the vector mix of the public incident
record (``datasets/incidents.csv``); each peril's loss is capped by what the exchange holds in the
custody tier that peril reaches (hot-wallet theft: hot + warm assets; cold-wallet theft: cold assets;
vendor, insider and social-engineering losses: a mixture over tiers weighted by the record's custody
mix). A peril the policy does not cover, or excludes, contributes nothing to the insurer's loss.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from underwriting._version import __version__
from underwriting.domain.currency import FxTable
from underwriting.domain.policy import PolicyTerms
from underwriting.domain.quote import (
    FrequencyBlock,
    MomentCheck,
    Quote,
    hash_inputs,
)
from underwriting.domain.submission import Submission
from underwriting.domain.vocabulary import (
    REPORTING_THRESHOLD_USD,
)
from underwriting.errors import InputError
from underwriting.pricing.premium import DEFAULT_PRINCIPLE
from underwriting.quote_frequency import (  # noqa: F401 - re-exported
    _QUOTE_SCOPE,
    RecordCalibration,
    _default_schedule,
    _frequency,
    _in_quote_scope,
    _one_risk_model,
    _one_risk_model_impl,
    _schedule_table,
    _sha_of_files,
    frequency_score,
    record_calibration,
    referral_warnings,
    score_block,
)
from underwriting.quote_losses import (  # noqa: F401 - re-exported
    FREQUENCY_MODELS,
    LossModel,
    _covered_perils,
    build_loss_model,
    default_terms,
)
from underwriting.quote_reserve import (  # noqa: F401 - re-exported
    _reserve_block,
    annual_ground_up_loss,
    assess_reserve,
)


@dataclass(frozen=True)
class PricingBasis:
    """How a technical price becomes a premium (assumptions a user can change).

    Parameters
    ----------
    principle : str
        Premium principle, default :data:`underwriting.pricing.premium.DEFAULT_PRINCIPLE`. The default Wang transform (λ = 0.25) is a standalone, market-style load:
        the technical premium is about 1.6–2× the expected loss for the bundled examples. A
        cost-of-capital charge on a standalone 99.5% TVaR (``"cost_of_capital:0.10"``) charges nearly
        the whole limit as capital for a layer that attaches a few percent of the time; capital is
        better allocated across a book (the portfolio issue).
    level : float
        TVaR level used by the principle and reported (0.995).
    expense, commission, tax : float
        Loads as fractions of premium.
    """

    principle: str = DEFAULT_PRINCIPLE
    level: float = 0.995
    expense: float = 0.10
    commission: float = 0.10
    tax: float = 0.0

    def describe(self) -> str:
        return (f"premium principle {self.principle} at TVaR {self.level}; expense {self.expense:.0%}, "
                f"commission {self.commission:.0%}, tax {self.tax:.0%} of premium")


def make_quote(
    sub: Submission,
    terms: PolicyTerms | None = None,
    *,
    regime: str | None = None,
    seed: int = 0,
    fx_rates: dict[str, float] | None = None,
    frequency_model: str = "frequency",
    basis: PricingBasis | None = None,
    registry: Any = None,
    schedule: Any = None,
    currency: str | None = None,
) -> Quote:
    """Quote one submission under one set of policy terms.

    Parameters
    ----------
    sub : Submission
        Validated submission; its ``exposure.currency`` is the quote currency.
    terms : PolicyTerms or Programme, optional
        Policy terms of one layer, or a tower of layers priced together on one loss model; default
        :func:`default_terms` (ground-up cover, no reserve credit).
    regime : str, optional
        Regime id or regime TOML path; default from the jurisdiction (:func:`default_regime`).
    seed : int
        Seed for every random step (recorded in the quote).
    fx_rates : dict, optional
        User rates in units per USD, overriding the bundled yearly table.
    frequency_model : {"frequency", "baseline", "survival"}
        Breach frequency of the loss model: the one risk model (default; base × experience ×
        schedule), the documented roster baseline, or the synthetic landmark survival model
        (comparison only). The score, band, reasons and ``p_breach_1y`` always come from the one
        risk model.
    basis : PricingBasis, optional
        Premium principle and loads.
    registry : Registry, optional
        Model registry (default: :func:`underwriting.registry.default_root`).
    schedule : path, mapping or ScheduleTable, optional
        Posture schedule table; default the shipped ``frequency/schedule.toml``. A user table is
        recorded in ``inputs`` (as a mapping) so ``reproduce`` recomputes the quote exactly.
    currency : str, optional
        Quote currency (any with a known rate); default the submission's. The exposure is converted at
        the as-of year's rates, every rate recorded in ``fx``.

    Returns
    -------
    Quote
        In canonical form (:meth:`Quote.canonical`: money to the currency's minor unit, other numbers to
        fixed significant digits), amounts in the quote currency; ``inputs`` holds everything needed to
        recompute it. Layers, defence block and guard rails: :mod:`underwriting.programme`.
    """
    token = _QUOTE_SCOPE.set({})
    try:
        return _make_quote(sub, terms, regime=regime, seed=seed, fx_rates=fx_rates, frequency_model=frequency_model,
                           basis=basis, registry=registry, schedule=schedule, currency=currency).canonical()
    finally:
        _QUOTE_SCOPE.reset(token)


def _make_quote(sub: Submission, terms: Any, *, regime: str | None, seed: int, fx_rates: dict[str, float] | None,
                frequency_model: str, basis: PricingBasis | None, registry: Any, schedule: Any,
                currency: str | None) -> Quote:
    from underwriting import programme as prog

    basis = basis or PricingBasis()
    user_terms = terms is not None
    terms = terms or default_terms(sub)
    tower = terms if hasattr(terms, "layers") else None
    layers = prog.layer_terms(terms)
    terms = layers[0]  # the loss model's window and perils: every layer of a tower shares the period
    if terms.expiry <= sub.as_of:  # issue #30: a term wholly before the submission's date prices nothing real
        raise InputError(f"the policy term {terms.inception} to {terms.expiry} lies wholly before the submission's "
                         f"as_of {sub.as_of}: quote a term that ends after it", field="expiry")
    fx = FxTable.bundled().with_user_rates(fx_rates or {})
    orig_sub = sub
    if currency is not None and currency.upper() != sub.currency:
        sub = prog.submission_in_currency(sub, currency.upper(), fx)
    table = _schedule_table(schedule)
    lm = build_loss_model(sub, terms, fx=fx, frequency_model=frequency_model, registry=registry, schedule=table)
    if frequency_model == "frequency":
        detail = lm.frequency.detail or {}
        score = score_block(sub, detail)
    else:  # the loss model uses a comparison frequency; score, band, reasons still from the one risk model
        fe1, _, v1 = _one_risk_model(sub, sub.as_of + dt.timedelta(days=1), 1.0, 0.0, fx, registry, table)
        score = score_block(sub, fe1.detail or {})
    q_rate, t_rate = lm.quote_per_usd, lm.policy_per_usd
    warnings = referral_warnings(orig_sub, terms.inception)
    warnings += prog.check_terms(layers, sub, policy_per_sub=t_rate / q_rate, prefix=tower is not None)
    fx_used = list(lm.fx_used)
    if orig_sub is not sub and orig_sub.currency != "USD":  # one row per currency, saying why it was used
        purpose = f"submission amounts converted from {orig_sub.currency} to {sub.currency}"
        same = [i for i, u in enumerate(fx_used) if u["currency"] == orig_sub.currency]
        if same:
            fx_used[same[0]] = {**fx_used[same[0]], "purpose": purpose}
        else:
            r = fx.rate(orig_sub.currency, sub.as_of.year)
            fx_used.insert(0, {"currency": orig_sub.currency, "units_per_usd": r.units_per_usd, "basis": r.basis,
                               "source": r.source, "purpose": purpose})
    methods = {"risk_score": "one risk model: log-linear in the annual breach rate of base x experience x schedule "
                             "(bands on the rate, reasons = largest log-rate factors)", **lm.methods}
    versions = {**lm.versions, "underwriting": __version__}
    if frequency_model != "frequency":
        versions.update(v1)

    priced_layers: list[Any] = []
    premium_range = None
    if lm.perils:
        layer_pairs = [(t, t.to_layer(t_rate)) for t in layers]
        priced_layers = prog.price_layers(lm.perils, layer_pairs, basis=basis, seed=seed, policy_per_usd=t_rate,
                                          warnings=warnings)
        first = priced_layers[0].priced
        for i, lp in enumerate(priced_layers):  # issue #30: a method switch is said, never silent
            if lp.priced.method != "fft":
                steps = "; ".join(lp.priced.distribution.diagnostics.get("escalation", ()))
                warnings.append(f"layer {i + 1}: the FFT grid failed its moment check, so the aggregate loss was "
                                f"computed by {lp.priced.method} instead (seeded, with its standard error): {steps}")
        el = sum(lp.priced.expected_loss for lp in priced_layers)
        sd = sum(lp.priced.std for lp in priced_layers)
        tv = sum(lp.priced.tvar for lp in priced_layers)
        prem = sum(lp.premium for lp in priced_layers)
        comps: dict[str, float] = {}
        for lp in priced_layers:
            for k, v in lp.components.items():
                if k != "total":
                    comps[k] = comps.get(k, 0.0) + v * q_rate
        mcheck = MomentCheck(ok=all(bool(lp.priced.moment_check) for lp in priced_layers), method=first.method)
        # φ of the tower: expected reinstatement premiums over the upfront premium
        phis = [lp.layer.reinstatement_factor(lp.priced.distribution) for lp in priced_layers]
        phi = phis[0] if len(phis) == 1 else (
            sum(f * lp.premium for f, lp in zip(phis, priced_layers, strict=True)) / prem if prem > 0 else 0.0)
        methods["aggregate"] = f"{first.method} compound over {len(lm.perils)} perils"
        if tower is not None:
            methods["aggregate"] += (f", each of {len(layers)} layers on the same loss model (tower std and TVaR: "
                                     "comonotonic sums of the layers')")
        premium_range = [v * q_rate for v in prog.premium_range(
            lm.perils, layer_pairs, prog.frequency_interval(lm.frequency),
            expected_breaches=lm.frequency.expected_breaches, basis=basis, seed=seed, policy_per_usd=t_rate)]
    else:  # guard rail: a policy whose exclusions remove every peril it lists covers nothing (no 0 premium)
        raise InputError(f"the exclusions {list(terms.exclusions)} remove every peril the policy lists "
                         f"({list(terms.perils)}): nothing is covered", field="exclusions")

    reserve_fx: list[dict[str, Any]] = []
    reserve = _reserve_block(sub, layers if user_terms else None, regime, fx, frequency_model=frequency_model,
                             fx_out=reserve_fx, registry=registry, schedule=table)
    if reserve.regime:
        versions["regime"] = f"{reserve.regime}@{reserve.regime_version}"

    conv = q_rate / t_rate
    terms_out = {
        "policy_id": terms.policy_id, "currency_of_policy": terms.currency,
        "inception": terms.inception.isoformat(), "expiry": terms.expiry.isoformat(),
        "term_years": terms.term_years, "deductible": terms.deductible * conv, "limit": terms.limit * conv,
        "aggregate_limit": None if terms.aggregate_limit is None else terms.aggregate_limit * conv,
        "coinsurance": terms.coinsurance, "perils_covered": list(lm.covered), "default_terms": not user_terms,
    }
    if terms.attachment > 0:
        terms_out["attachment"] = terms.attachment * conv
    if terms.minimum_premium > 0:
        terms_out["minimum_premium"] = terms.minimum_premium * conv
    if terms.sublimits:
        terms_out["sublimits"] = {k: v * conv for k, v in terms.sublimits.items()}
    if tower is not None:
        terms_out = prog.programme_terms(tower, conv, lm.covered)
    cover_usd = sum(t.limit * t.coinsurance for t in layers) / t_rate
    cal = record_calibration()
    freq = lm.frequency
    assumptions = [
        basis.describe(),
        f"severity: {cal.severity_fit.family} fitted by maximum likelihood to {cal.severity_fit.n} public incident "
        f"amounts >= {REPORTING_THRESHOLD_USD:,.0f} USD (left-truncated), capped by the assets of the custody tier hit",
        "breach frequency split into perils by the vector mix of the public incident record: "
        + ", ".join(f"{p} {s:.0%}" for p, s in cal.peril_shares.items()),
        f"breaches reaching vendor, insider and social-engineering paths hit hot assets with probability {cal.hot_share:.0%}"
        " (custody mix of the record)",
    ] + list(freq.assumptions)
    fx_used += prog.incident_fx(orig_sub, fx)
    used = {u["currency"] for u in fx_used} | {sub.currency, orig_sub.currency} | {
        c for u in reserve_fx for c in (u.get("from_currency"), u.get("to_currency"))}
    warnings += prog.unused_fx_warnings(fx_rates or {}, used)
    inputs = {"submission": orig_sub.model_dump(mode="json"),
              "terms": (tower or terms).model_dump(mode="json") if user_terms else None,
              "regime": regime, "seed": seed, "fx_rates": dict(sorted((fx_rates or {}).items())),
              "frequency_model": frequency_model, "basis": asdict(basis)}
    if orig_sub is not sub:
        inputs["currency"] = sub.currency
    if schedule is not None:
        inputs["schedule"] = table.model_dump(mode="json", exclude={"path"})
    p1 = score.p_breach  # one P(breach) per exchange, whatever frequency the loss model compares
    defence: dict[str, Any] = {"severity": prog.severity_block(cal.severity_fit), "perils": [], "p_attach": 0.0,
                               "p_exhaust": 0.0, "layers": [],
                               "ep_points": [{"return_period": rp, "oep": 0.0, "aep": 0.0}
                                             for rp in prog.EP_RETURN_PERIODS]}
    if priced_layers:
        defence.update(perils=prog.perils_block(lm.perils, priced_layers, q_rate),
                       p_attach=max(lp.priced.prob_attach for lp in priced_layers),
                       p_exhaust=min(lp.priced.prob_exhaust for lp in priced_layers),
                       ep_points=prog.ep_points(priced_layers, q_rate),
                       layers=prog.layer_blocks(priced_layers, q_rate, t_rate))
    return Quote(
        exchange=sub.exchange.name, as_of=sub.as_of, currency=sub.currency,
        risk_score=score.risk_score, risk_band=score.band, p_breach_1y=p1,
        expected_breaches_term=freq.expected_breaches, expected_loss=el * q_rate, std=sd * q_rate,
        tvar_995=tv * q_rate, premium=prem * q_rate, premium_components=comps, reinstatement_factor=phi,
        premium_range=premium_range,
        rate_on_line=(prem / cover_usd) if cover_usd > 0 else None,
        terms=terms_out, reserve=reserve, methods=methods, assumptions=assumptions, fx=fx_used, warnings=warnings,
        **defence,
        reasons=score.reasons, score=score, frequency=FrequencyBlock.from_estimate(freq, frequency_model).with_interval(prog.frequency_interval(freq)),
        moment_check=mcheck, versions=versions, seed=seed, inputs=inputs, input_hash=hash_inputs(inputs),
    )
