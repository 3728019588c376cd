"""The quote pipeline: one :class:`~underwriting.quote.request.QuoteRequest` → one canonical Quote.

:func:`make_quote` composes the stages in order (:data:`underwriting.quote.STAGES`), each returning a
typed result: calibration (:mod:`~underwriting.quote.calibration`) → frequency
(:class:`~underwriting.quote.frequency.TermFrequency`) → losses (:class:`~underwriting.quote.losses.LossModel`,
built once per quote) → layers (:class:`~underwriting.quote.layers.PricedProgramme`) → defence
(:mod:`~underwriting.quote.defence`) → reserve (:class:`~underwriting.domain.quote.ReserveBlock`), and
records which method and version produced each number. Pricing is done in USD (the currency the
severity is fitted in) and converted into the submission's currency at the recorded rate; every premium
principle used is positively homogeneous, so the conversion commutes with pricing.

Perils. The breach frequency is split into the policy perils by the vector mix of the public incident
record (``datasets/incidents.csv``); each peril's loss is capped by what the exchange holds in the
custody tier that peril reaches (hot-wallet theft: hot + warm assets; cold-wallet theft: cold assets;
vendor, insider and social-engineering losses: a mixture over tiers weighted by the record's custody
mix). A peril the policy does not cover, or excludes, contributes nothing to the insurer's loss.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from typing import Any

from underwriting._version import __version__
from underwriting.domain.currency import FxTable, fx_row
from underwriting.domain.message import Message, msg, seq, term
from underwriting.domain.policy import Programme
from underwriting.domain.quote import FrequencyBlock, MomentCheck, Quote, hash_inputs
from underwriting.domain.vocabulary import REPORTING_THRESHOLD_USD
from underwriting.errors import InputError
from underwriting.i18n import N_
from underwriting.quote.calibration import loss_calibration
from underwriting.quote.currency import incident_fx, submission_in_currency, unused_fx_warnings
from underwriting.quote.defence import defence, frequency_interval
from underwriting.quote.frequency import (
    _QUOTE_SCOPE,
    _schedule_table,
    quote_score,
    referral_warnings,
    schedule_version_message,
    term_frequency,
)
from underwriting.quote.layers import (
    check_terms,
    layer_terms,
    price_programme,
    programme_terms,
)
from underwriting.quote.losses import build_loss_model, default_terms, loss_exposure
from underwriting.quote.request import QuoteRequest
from underwriting.quote.reserve import reserve_block

__all__ = ["make_quote"]

#: How the quote's risk score is made (recorded in ``methods``, its message in ``method_messages``).
RISK_SCORE_METHOD_MESSAGE = msg(N_("one risk model: log-linear in the annual breach rate of base x experience x "
                                   "schedule (bands on the rate, reasons = largest log-rate factors)"))
RISK_SCORE_METHOD = RISK_SCORE_METHOD_MESSAGE.text()


def make_quote(request: Any, terms: Any = None, /, *, registry: Any = None, **options: Any) -> Quote:
    """Quote one request.

    Parameters
    ----------
    request : QuoteRequest
        The submission, terms, regime and options (checked there, with their defaults). For convenience a
        :class:`~underwriting.domain.submission.Submission` may be given instead, with ``terms`` and the
        keyword options of :meth:`QuoteRequest.build` (``regime``, ``seed``, ``fx_rates``,
        ``frequency_model``, ``basis``, ``schedule``, ``currency``, ``principle``, ``pricing_basis``,
        ``model_versions``): the request is built from them and checked the same way.
    registry : Registry, optional
        Model registry (default: :func:`underwriting.registry.default_root`); where the models come
        from, not what is quoted, so not part of the request.

    Returns
    -------
    Quote
        In canonical form (:meth:`Quote.canonical`: money to the currency's minor unit, other numbers to
        fixed significant digits), amounts in the quote currency; ``inputs`` holds everything needed to
        recompute it.

    Raises
    ------
    InputError
        A bad option or input (naming the field), or terms that cover nothing.
    """
    if not isinstance(request, QuoteRequest):
        request = QuoteRequest.build(request, terms, **options)
    elif terms is not None or options:
        raise TypeError("make_quote(QuoteRequest) takes no terms or options besides registry=")
    pins = request.options.model_versions
    token = _QUOTE_SCOPE.set({})
    try:
        with _pinned(pins, registry):
            return _make_quote(request, registry).canonical()
    finally:
        _QUOTE_SCOPE.reset(token)


def _pinned(pins: dict[str, str], registry: Any) -> Any:
    """The request's model versions pinned for the quote; a version the registry lacks is a bad input."""
    if not pins:
        return contextlib.nullcontext()
    from underwriting.registry import Registry, pinned

    reg = registry if registry is not None else Registry(None)
    for name, version in pins.items():
        have = reg.versions(name)
        if version not in have:
            raise InputError(f"{name} {version} is not in the registry {reg.root} (versions: "
                             f"{', '.join(have) or 'none'})", field=f"options.model_versions.{name}")
    return pinned(pins)


def _make_quote(req: QuoteRequest, registry: Any) -> Quote:
    o = req.options
    basis, fm = req.basis(), o.frequency_model
    orig_sub, user_terms = req.submission, req.terms is not None
    contract = req.terms or default_terms(orig_sub)
    tower = contract if isinstance(contract, Programme) else None
    layers = layer_terms(contract)
    terms = layers[0]  # the loss model's window and perils: every layer of a tower shares the period
    if terms.expiry <= orig_sub.as_of:  # issue #30: a term wholly before the submission's date prices nothing real
        raise InputError(f"the policy term {terms.inception} to {terms.expiry} lies wholly before the submission's "
                         f"as_of {orig_sub.as_of}: quote a term that ends after it", field="expiry")
    fx = FxTable.bundled().with_user_rates(o.fx)
    sub = orig_sub if o.currency in (None, orig_sub.currency) else submission_in_currency(orig_sub, o.currency, fx)
    table = _schedule_table(req.schedule_table())

    freq = term_frequency(sub, terms, fm, fx, registry=registry, schedule=table)
    exposure = loss_exposure(sub, fx)  # the loss model's severities, built once (the reserve's ground-up view too)
    lm = build_loss_model(sub, terms, fx=fx, frequency_model=fm, registry=registry, schedule=table, frequency=freq,
                          exposure=exposure)
    score, score_versions = quote_score(sub, freq, fm, fx, registry=registry, schedule=table)
    q_rate, t_rate = lm.quote_per_usd, lm.policy_per_usd
    warnings = referral_warnings(orig_sub, terms.inception)
    warnings += check_terms(layers, sub, policy_per_sub=t_rate / q_rate, prefix=tower is not None)
    if not lm.perils:  # guard rail: a policy whose exclusions remove every peril it lists covers nothing
        raise InputError(f"the exclusions {list(terms.exclusions)} remove every peril the policy lists "
                         f"({list(terms.perils)}): nothing is covered", field="exclusions")
    interval = frequency_interval(lm.frequency)
    priced = price_programme(lm.perils, layers, basis=basis, seed=o.seed, policy_per_usd=t_rate, interval=interval,
                             expected_breaches=lm.frequency.expected_breaches, warnings=warnings)
    reserve_fx: list[dict[str, Any]] = []
    reserve = reserve_block(sub, layers if user_terms else None, req.regime, fx, frequency_model=fm, fx_out=reserve_fx,
                            registry=registry, schedule=table, ground_up=None if user_terms else lm, exposure=exposure)

    aggregate = msg(N_("{method} compound over {n} perils"), method=str(priced.method), n=str(len(lm.perils)))
    if tower is not None:
        aggregate = msg(N_("{aggregate}, each of {n} layers on the same loss model (tower std and TVaR: comonotonic "
                           "sums of the layers')"), aggregate=aggregate, n=str(len(layers)))
    said = {"risk_score": RISK_SCORE_METHOD_MESSAGE, **lm.method_messages, "aggregate": aggregate}
    methods = {"risk_score": RISK_SCORE_METHOD, **lm.methods, "aggregate": aggregate.text()}
    method_messages = said  # every text in ``methods`` is its message's text
    versions = {**lm.versions, "underwriting": __version__, **score_versions}
    if reserve.regime:
        versions["regime"] = f"{reserve.regime}@{reserve.regime_version}"
    fx_used = _fx_rows(lm.fx_used, orig_sub, sub, fx) + incident_fx(orig_sub, fx)
    used = {u["currency"] for u in fx_used} | {sub.currency, orig_sub.currency} | {
        c for u in reserve_fx for c in (u.get("from_currency"), u.get("to_currency"))}
    warnings += unused_fx_warnings(o.fx, used)
    inputs = _inputs(req, basis, sub, table)
    assumptions = _assumptions(basis, lm)
    version_messages = {}
    if "schedule" in versions:  # the schedule's name is prose: its version as a message too
        sv = schedule_version_message(table, versions["schedule"].rpartition("@")[2])
        if versions["schedule"] == sv.text():
            version_messages["schedule"] = sv
    cover_usd = sum(t.limit * t.coinsurance for t in layers) / t_rate
    return Quote(
        exchange=sub.exchange.name, as_of=sub.as_of, currency=sub.currency,
        risk_score=score.risk_score, risk_band=score.band, p_breach_1y=score.p_breach,
        expected_breaches_term=lm.frequency.expected_breaches, expected_loss=priced.expected_loss * q_rate,
        std=priced.std * q_rate, tvar_995=priced.tvar * q_rate, premium=priced.premium * q_rate,
        premium_components=_components(priced.layers, q_rate),
        reinstatement_factor=priced.reinstatement_factor, premium_range=[v * q_rate for v in priced.premium_range],
        rate_on_line=(priced.premium / cover_usd) if cover_usd > 0 else None,
        terms=_terms_block(terms, tower, user_terms, q_rate / t_rate, lm.covered), reserve=reserve, methods=methods,
        assumptions=[a.text() for a in assumptions], assumption_messages=assumptions,
        method_messages=method_messages, version_messages=version_messages, fx=fx_used, warnings=warnings,
        **defence(loss_calibration().severity_fit, lm.perils, priced.layers, q_rate, t_rate,
                  registry).quote_fields(),
        reasons=score.reasons, score=score,
        frequency=FrequencyBlock.from_estimate(lm.frequency, fm).with_interval(interval),
        moment_check=MomentCheck(ok=priced.moment_check_ok, method=priced.method), versions=versions, seed=o.seed,
        inputs=inputs, input_hash=hash_inputs(inputs),
    )


def _components(layers: Any, q_rate: float) -> dict[str, float]:
    """The premium components summed over the layers, each converted into the quote currency."""
    comps: dict[str, float] = {}
    for lp in layers:
        for k, v in lp.components.items():
            if k != "total":
                comps[k] = comps.get(k, 0.0) + v * q_rate
    return comps


def _fx_rows(loss_fx: Any, orig_sub: Any, sub: Any, fx: FxTable) -> list[dict[str, Any]]:
    """The loss model's rates, with the submission's conversion said once per currency (why it was used)."""
    fx_used = list(loss_fx)
    if orig_sub is not sub and orig_sub.currency != "USD":
        purpose = msg(N_("submission amounts converted from {from_currency} to {to_currency}"),
                      from_currency=orig_sub.currency, to_currency=sub.currency)
        same = [i for i, u in enumerate(fx_used) if u["currency"] == orig_sub.currency]
        if same:
            fx_used[same[0]] = {**fx_used[same[0]], "purpose": purpose.text(), "purpose_message": purpose.as_json()}
        else:
            fx_used.insert(0, fx_row(fx.rate(orig_sub.currency, sub.as_of.year), purpose))
    return fx_used


def _terms_block(terms: Any, tower: Any, user_terms: bool, conv: float, covered: Any) -> dict[str, Any]:
    """The quote's ``terms`` block in the quote currency (a tower's span for a programme)."""
    if tower is not None:
        return programme_terms(tower, conv, covered)
    out = {
        "policy_id": terms.policy_id, "currency_of_policy": terms.currency,
        "inception": terms.inception.isoformat(), "expiry": terms.expiry.isoformat(),
        "term_years": terms.term_years, "deductible": terms.deductible * conv, "limit": terms.limit * conv,
        "aggregate_limit": None if terms.aggregate_limit is None else terms.aggregate_limit * conv,
        "coinsurance": terms.coinsurance, "perils_covered": list(covered), "default_terms": not user_terms,
    }
    if terms.attachment > 0:
        out["attachment"] = terms.attachment * conv
    if terms.minimum_premium > 0:
        out["minimum_premium"] = terms.minimum_premium * conv
    if terms.sublimits:
        out["sublimits"] = {k: v * conv for k, v in terms.sublimits.items()}
    return out


def _assumptions(basis: Any, lm: Any) -> list[Message]:
    """What the quote rests on, each as a template and arguments (the quote's ``assumptions`` are their texts)."""
    cal = loss_calibration()
    fe = lm.frequency
    said = list(fe.assumption_messages)  # every frequency method gives its assumptions as messages
    return [
        basis.describe_message(),
        msg(N_("severity: {family} fitted by maximum likelihood to {n} public incident amounts >= {threshold} USD "
               "(left-truncated), capped by the assets of the custody tier hit"),
            family=cal.severity_fit.family, n=str(cal.severity_fit.n),
            threshold=f"{REPORTING_THRESHOLD_USD:,.0f}"),
        msg(N_("breach frequency split into perils by the vector mix of the public incident record: {shares}"),
            shares=seq([msg(N_("{peril} {share}"), peril=term(p), share=f"{s:.0%}")
                        for p, s in cal.peril_shares.items()])),
        msg(N_("breaches reaching vendor, insider and social-engineering paths hit hot assets with probability {share} "
               "(custody mix of the record)"), share=f"{cal.hot_share:.0%}"),
    ] + said


def _inputs(req: QuoteRequest, basis: Any, sub: Any, table: Any) -> dict[str, Any]:
    """Everything ``reproduce`` needs to recompute the quote (the keys of every earlier quote, unchanged)."""
    o = req.options
    inputs = {"submission": req.submission.model_dump(mode="json"),
              "terms": req.terms.model_dump(mode="json") if req.terms is not None else None,
              "regime": req.regime, "seed": o.seed, "fx_rates": dict(sorted(o.fx.items())),
              "frequency_model": o.frequency_model, "basis": asdict(basis)}
    if sub is not req.submission:
        inputs["currency"] = sub.currency
    if o.schedule is not None:
        inputs["schedule"] = table.model_dump(mode="json", exclude={"path"})
    return inputs
