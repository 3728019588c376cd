"""The quote's loss stage: default terms, covered perils and :func:`build_loss_model` (USD).

Frequency by peril (split by the public record's vector mix, less its state-attributed share when the
policy excludes war and state actors) with severities scaled and capped by the hot wallet or capped by all
custodied assets (:mod:`underwriting.losses.perils`); shared by :func:`underwriting.quote.make.make_quote`
(which builds it once per quote) and the portfolio simulation. The frequency comes from the frequency
stage (:func:`underwriting.quote.frequency.term_frequency`), the severity from the calibration stage
(:func:`underwriting.quote.calibration.loss_calibration`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from underwriting.domain.currency import FxTable, fx_row
from underwriting.domain.frequency import FrequencyEstimate
from underwriting.domain.message import Message, data, msg, seq, term
from underwriting.domain.policy import PolicyTerms
from underwriting.domain.submission import Submission
from underwriting.domain.vocabulary import (
    EXCLUSION_TO_PERIL,
    PERILS,
)
from underwriting.errors import InputError
from underwriting.i18n import N_
from underwriting.quote.calibration import loss_calibration
from underwriting.quote.frequency import TermFrequency, term_frequency
from underwriting.quote.options import FREQUENCY_MODELS

#: Assets below one US dollar in a custody tier count as none: a breach there takes nothing (USD).
MIN_EXPOSED_USD = 1.0


def default_terms(sub: Submission) -> PolicyTerms:
    """Ground-up cover of all customer assets for one year from the day after ``as_of``: the cost of
    the risk itself, before any policy structure."""
    start = sub.as_of + dt.timedelta(days=1)
    # one year later; a 29 February start ends on 28 February (no 29th next year)
    expiry = start.replace(year=start.year + 1, day=28 if (start.month, start.day) == (2, 29) else start.day)
    total = sub.exposure.customer_assets.total
    return PolicyTerms(
        policy_id="ground-up", insurer="(none: ground-up cost of risk)", insurer_rating="NR",
        insurer_authorised=False, inception=start, expiry=expiry,
        cancellation_notice_days=0, currency=sub.currency, deductible=0.0, limit=max(total, 1.0),
        perils=list(PERILS))


def _covered_perils(terms: PolicyTerms) -> list[str]:
    removed = {EXCLUSION_TO_PERIL[e] for e in terms.exclusions if e in EXCLUSION_TO_PERIL}
    return [p for p in terms.perils if p not in removed]


@dataclass(frozen=True)
class LossModel:
    """One exchange's insured-loss model over the policy term, in USD.

    Attributes
    ----------
    perils : tuple of Peril
        Covered perils, each with its count over the term and its exposure-capped severity (USD).
    layer : Layer
        The policy's terms converted into USD.
    covered : tuple of str
        Perils the policy covers after exclusions.
    frequency : FrequencyEstimate
        Expected breaches over the term, their variance, P(breach within 1 year) and the method.
    quote_per_usd, policy_per_usd : float
        Conversion rates (units per USD) of the quote currency and of the policy currency.
    fx_used : tuple of dict
        Every rate used, with its basis and source.
    method_messages : dict of Message
        Each method as a template and arguments (its text is the method's), for other languages.
    """

    perils: tuple[Any, ...]
    layer: Any
    covered: tuple[str, ...]
    frequency: FrequencyEstimate
    methods: dict[str, str]
    versions: dict[str, str]
    quote_per_usd: float
    policy_per_usd: float
    fx_used: tuple[dict[str, Any], ...]
    method_messages: dict[str, Message] = field(default_factory=dict)


@dataclass(frozen=True)
class Exposure:
    """The terms-free half of one exchange's loss model: the severity a breach of each custody tier meets (USD).

    Attributes
    ----------
    tier_severity : dict
        ``hot_wallet_theft`` (scaled and capped by the hot wallet; None without hot assets) and
        ``cold_wallet_theft`` (capped by all custodied assets).
    mixed : Severity
        The severity of the other perils (vendor, insider, social engineering): a mixture over the tiers.
    mixed_share : float
        The share of those perils' breaches that can take anything (1, or the cold share without hot assets).
    quote_per_usd : float
        Units of the submission's currency per USD (the assets' conversion).
    """

    tier_severity: dict[str, Any]
    mixed: Any
    mixed_share: float
    quote_per_usd: float


def loss_exposure(sub: Submission, fx: FxTable) -> Exposure:
    """Severities by custody tier of ``sub`` (USD): built once per quote and shared by its loss models."""
    from underwriting.losses.perils import hot_wallet_severity
    from underwriting.losses.severity import MixtureSeverity, exposure_severity

    cal = loss_calibration()
    q_rate = fx.rate(sub.currency, sub.as_of.year).units_per_usd
    assets = sub.exposure.customer_assets
    hot_usd = (assets.hot + assets.warm) / q_rate
    all_usd = max((assets.hot + assets.warm + assets.cold) / q_rate, hot_usd, MIN_EXPOSED_USD)
    ground = cal.severity_fit.severity
    # hot-wallet breaches scale with the hot wallet (losses/perils.py); a cold or multisig breach can reach all
    # custodied assets (DMM 2024, Bybit 2025), so the other tier is capped at the total: both caps are
    # non-decreasing in the hot assets and in the total, so more hot assets or padding never lower a loss
    all_sev = exposure_severity(ground, all_usd)
    if hot_usd >= MIN_EXPOSED_USD:
        hot_sev = hot_wallet_severity(ground, hot_usd)
        return Exposure(tier_severity={"hot_wallet_theft": hot_sev, "cold_wallet_theft": all_sev},
                        mixed=MixtureSeverity((hot_sev, all_sev), (cal.hot_share, 1 - cal.hot_share)),
                        mixed_share=1.0, quote_per_usd=q_rate)
    # no hot wallet: its breaches take nothing, the exact limit of the mixture (zero losses pay nothing)
    return Exposure(tier_severity={"hot_wallet_theft": None, "cold_wallet_theft": all_sev}, mixed=all_sev,
                    mixed_share=1 - cal.hot_share, quote_per_usd=q_rate)


def build_loss_model(sub: Submission, terms: PolicyTerms, *, fx: FxTable, frequency_model: str = FREQUENCY_MODELS[0],
                     features: Any = None, registry: Any = None, schedule: Any = None,
                     frequency: TermFrequency | None = None, exposure: Exposure | None = None) -> LossModel:
    """Frequency by peril and exposure-capped severities for one exchange and policy (USD).

    Shared by :func:`make_quote` and the portfolio simulation, so a book is simulated with exactly the
    loss model its quotes are priced with. ``features`` (the submission's feature row, as
    :func:`underwriting.features.submission_features` builds it with the default parameters) is
    reused by the survival comparison model instead of being built again. ``registry``: the model
    registry (default: the shipped models or ``UNDERWRITING_REGISTRY``). ``schedule``: the posture
    schedule table (path, mapping or ``ScheduleTable``; default the shipped ``schedule.toml``).

    ``frequency_model``: ``"frequency"`` (default, the one risk model: base × experience ×
    schedule, :func:`underwriting.frequency.model.load_breach_frequency`), ``"baseline"`` (the
    documented roster baseline) or ``"survival"`` (the synthetic landmark model, a non-default
    comparison only). ``frequency``: the frequency stage's result for these terms, and ``exposure``:
    :func:`loss_exposure` of ``sub``, when the caller has them already (otherwise computed here).
    """
    from underwriting.losses.aggregate import Peril
    from underwriting.losses.counts import NegativeBinomial, Poisson
    from underwriting.losses.perils import hot_wallet_assumption, state_actor_split

    if frequency_model not in FREQUENCY_MODELS:
        raise InputError(f"unknown frequency model {frequency_model!r}; choose {', '.join(FREQUENCY_MODELS)}",
                         field="frequency_model")
    year = sub.as_of.year
    fx_used: list[dict[str, Any]] = []

    def rate(c: str) -> float:
        r = fx.rate(c, year)
        if c != "USD" and not any(u["currency"] == c for u in fx_used):
            fx_used.append(fx_row(r))
        return r.units_per_usd

    q_rate = rate(sub.currency)
    t_rate = rate(terms.currency)
    cal = loss_calibration()
    tf = frequency or term_frequency(sub, terms, frequency_model, fx, features=features, registry=registry,
                                     schedule=schedule)
    freq, versions, said = tf.estimate, dict(tf.versions), dict(tf.method_messages)

    exp = exposure or loss_exposure(sub, fx)
    if exp.quote_per_usd != q_rate:  # a defect, not an input: the exposure of another submission or currency
        raise ValueError(f"the exposure was built at {exp.quote_per_usd} {sub.currency} per USD, not {q_rate}")
    tier_sev, mixed, mixed_share = exp.tier_severity, exp.mixed, exp.mixed_share
    covered = _covered_perils(terms)
    state = state_actor_split() if "war_and_state_actor" in terms.exclusions else None
    lam, var_lam = freq.expected_breaches, freq.variance_of_lambda
    perils = []
    for p in covered:
        share = cal.peril_shares.get(p, 0.0)
        if state is not None:  # the exclusion removes the state-attributed part of the peril: never adds
            share *= 1.0 - state[p].share
        if p not in tier_sev:
            share *= mixed_share
        sev = tier_sev.get(p, mixed)
        if share <= 0 or sev is None:
            continue
        f = NegativeBinomial(lam * share, var_lam * share * share) if var_lam > 0 else Poisson(lam * share)
        perils.append(Peril(p, f, sev))

    layer = terms.to_layer(t_rate)
    drain = hot_wallet_assumption().median_drain_share
    said["severity"] = msg(N_("{family} (left-truncated MLE on public incidents); hot-wallet breaches: median raised to"
                              " {drain} x hot-wallet assets where larger ({status}, losses/perils.toml), capped at the "
                              "hot-wallet assets; other breaches capped at all custodied assets"),
                           family=cal.severity_fit.family, drain=f"{drain:g}",
                           status=data(hot_wallet_assumption().status))
    if state is not None:
        parts = seq([msg(N_("{peril} {share} ({low}-{high})"), peril=term(p), share=f"{state[p].share:.1%}",
                             low=f"{state[p].low:.1%}", high=f"{state[p].high:.1%}") for p in covered
                     if cal.peril_shares.get(p, 0.0) > 0])
        said["state_actor_exclusion"] = msg(N_("war_and_state_actor excluded: the state-attributed share of each "
                                               "peril's breaches is removed from its frequency, {parts} (90% Jeffreys "
                                               "intervals; datasets/incidents.csv attribution, one source per row)"),
                                            parts=parts)
    # a method without a message (a frequency method of an older stage) keeps its text
    methods = {**dict(tf.methods), **{k: m.text() for k, m in said.items()}}
    versions.update({"severity": f"{cal.severity_fit.family}@{cal.data_sha}", "datasets": cal.data_sha})
    return LossModel(perils=tuple(perils), layer=layer, covered=tuple(covered), frequency=freq, methods=methods,
                     versions=versions, quote_per_usd=q_rate, policy_per_usd=t_rate, fx_used=tuple(fx_used),
                     method_messages=said)
