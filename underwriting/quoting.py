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

import contextvars
import copy
import datetime as dt
import functools
import hashlib
import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from underwriting._version import __version__
from underwriting.domain.currency import FxTable
from underwriting.domain.frequency import FrequencyEstimate
from underwriting.domain.policy import PolicyTerms
from underwriting.domain.quote import (
    FrequencyBlock,
    MomentCheck,
    Quote,
    ReasonBlock,
    ReserveBlock,
    ScoreBlock,
    hash_inputs,
)
from underwriting.domain.submission import Submission
from underwriting.domain.vocabulary import (
    BREACH_EVENT_TYPES,
    DATA_CUTOFF,
    DAYS_PER_YEAR,
    EXCLUSION_TO_PERIL,
    PERILS,
    REPORTING_THRESHOLD_USD,
    VECTOR_TO_PERIL,
)
from underwriting.errors import InputError
from underwriting.pricing.premium import DEFAULT_PRINCIPLE

#: Frequency methods of :func:`build_loss_model`; the first is the default.
FREQUENCY_MODELS = ("frequency", "baseline", "survival")


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


@dataclass(frozen=True)
class RecordCalibration:
    """What the public record gives the quote: base rate, severity, peril and custody mixes."""

    base_rate: Any
    severity_fit: Any
    peril_shares: dict[str, float]
    hot_share: float
    data_sha: str


def _sha_of_files(*names: str) -> str:
    from underwriting.resources import dataset_path

    h = hashlib.sha256()
    for n in names:
        h.update(dataset_path(n).read_bytes())
    return h.hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def record_calibration() -> RecordCalibration:
    """Fit the data-driven parts of the quote from the shipped tables (cached per process)."""
    from underwriting.datasets import load_exchanges, load_incidents
    from underwriting.frequency.baseline import base_rate_from_roster
    from underwriting.losses.severity import fit_severity

    ex = load_exchanges()
    inc = load_incidents()
    dated = ex[ex["launch_date"].notna()]
    base = base_rate_from_roster(dated, inc, cutoff=DATA_CUTOFF)
    breaches = inc[inc["event_type"].isin(BREACH_EVENT_TYPES)]
    amounts = breaches["amount_usd"].dropna().to_numpy(dtype=float)
    amounts = amounts[amounts >= REPORTING_THRESHOLD_USD]
    sev = fit_severity(amounts, threshold=REPORTING_THRESHOLD_USD, family="lognormal")
    counts = {p: 0.0 for p in PERILS}
    for v in breaches["vector"].astype(str):
        if v in VECTOR_TO_PERIL:
            counts[VECTOR_TO_PERIL[v]] += 1.0
    total = sum(counts.values())
    shares = {p: c / total for p, c in counts.items()}
    tiers = breaches["custody_tier"].astype(str)
    n_hot, n_cold = int((tiers == "hot").sum()), int((tiers == "cold").sum())
    return RecordCalibration(base_rate=base, severity_fit=sev, peril_shares=shares,
                       hot_share=n_hot / (n_hot + n_cold), data_sha=_sha_of_files("incidents.csv", "exchanges.csv"))


#: Results shared between the stages of one :func:`make_quote` call (the reserve block's ground-up loss
#: model and the quote's own use the same verified frequency model, and the same one-risk-model
#: estimate when their windows agree). Set for the duration of one quote only, never across quotes.
_QUOTE_SCOPE: contextvars.ContextVar[dict[Any, Any] | None] = contextvars.ContextVar("underwriting_quote_scope",
                                                                                    default=None)


def _in_quote_scope(key: tuple[Any, ...], keep: tuple[Any, ...], compute: Any) -> Any:
    """``compute()``, reused within the current quote for the same ``key``. ``keep``: the objects whose
    ``id`` is in ``key``, held with the value so no id can be reused while the quote runs."""
    scope = _QUOTE_SCOPE.get()
    if scope is None:
        return compute()
    hit = scope.get(key)
    if hit is None:
        hit = (compute(), keep)
        scope[key] = hit
    return hit[0]


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


def build_loss_model(sub: Submission, terms: PolicyTerms, *, fx: FxTable, frequency_model: str = "frequency",
                     features: Any = None, registry: Any = None, schedule: Any = None) -> LossModel:
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
    comparison only).
    """
    from underwriting.losses.aggregate import Peril
    from underwriting.losses.frequency import NegativeBinomial, Poisson
    from underwriting.losses.severity import exposure_severity

    if frequency_model not in FREQUENCY_MODELS:
        raise InputError(f"unknown frequency model {frequency_model!r}", field="--frequency-model")
    year = sub.as_of.year
    fx_used: list[dict[str, Any]] = []

    def rate(c: str) -> float:
        r = fx.rate(c, year)
        if c != "USD" and not any(u["currency"] == c for u in fx_used):
            fx_used.append({"currency": c, "units_per_usd": r.units_per_usd, "basis": r.basis, "source": r.source})
        return r.units_per_usd

    q_rate = rate(sub.currency)
    t_rate = rate(terms.currency)
    cal = record_calibration()
    freq, methods, versions = _frequency(sub, terms, cal, frequency_model, fx, features, registry, schedule)

    assets = sub.exposure.customer_assets
    hot_usd = max((assets.hot + assets.warm) / q_rate, 1e-9)
    cold_usd = max(assets.cold / q_rate, 1e-9)
    ground = cal.severity_fit.severity
    tier_sev = {"hot_wallet_theft": exposure_severity(ground, hot_usd),
                "cold_wallet_theft": exposure_severity(ground, cold_usd)}
    mixed = exposure_severity(ground, [hot_usd, cold_usd], [cal.hot_share, 1 - cal.hot_share])
    covered = _covered_perils(terms)
    lam, var_lam = freq.expected_breaches, freq.variance_of_lambda
    perils = []
    for p in covered:
        share = cal.peril_shares.get(p, 0.0)
        if share <= 0:
            continue
        f = NegativeBinomial(lam * share, var_lam * share * share) if var_lam > 0 else Poisson(lam * share)
        perils.append(Peril(p, f, tier_sev.get(p, mixed)))

    layer = terms.to_layer(t_rate)
    methods["severity"] = f"{cal.severity_fit.family} (left-truncated MLE on public incidents), capped by tier assets"
    versions.update({"severity": f"{cal.severity_fit.family}@{cal.data_sha}", "datasets": cal.data_sha})
    return LossModel(perils=tuple(perils), layer=layer, covered=tuple(covered), frequency=freq, methods=methods,
                     versions=versions, quote_per_usd=q_rate, policy_per_usd=t_rate, fx_used=tuple(fx_used))


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
        Amounts in the quote currency; ``inputs`` holds everything needed to recompute it. Layers,
        defence block and guard rails: :mod:`underwriting.programme`.
    """
    token = _QUOTE_SCOPE.set({})
    try:
        return _make_quote(sub, terms, regime=regime, seed=seed, fx_rates=fx_rates, frequency_model=frequency_model,
                           basis=basis, registry=registry, schedule=schedule, currency=currency)
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
    warnings = prog.check_terms(layers, sub, policy_per_sub=t_rate / q_rate, prefix=tower is not None)
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


def _schedule_table(schedule: Any):
    from underwriting.frequency.schedule import ScheduleTable, load_schedule, schedule_from_mapping

    if schedule is None:
        return _default_schedule()
    if isinstance(schedule, ScheduleTable):
        table = schedule
    elif isinstance(schedule, dict):
        table = schedule_from_mapping(schedule, source="schedule")
    else:
        table = load_schedule(schedule)
    # factors in the questionnaire's order, whatever the order of the file or mapping (a quote stores
    # the table as canonical JSON with sorted keys; reproduce must list the factors as the quote did)
    order = [k for k in Submission.model_fields["posture"].annotation.model_fields if k in table.questions]
    if list(table.questions) != order:
        table = table.model_copy(update={"questions": {k: table.questions[k] for k in order}})
    return table


@functools.lru_cache(maxsize=1)
def _default_schedule():
    from underwriting.frequency.schedule import load_schedule

    return load_schedule()


def score_block(sub: Submission, detail: dict[str, Any], n_reasons: int = 5) -> ScoreBlock:
    """The risk-score block of the one risk model from a frequency detail (see :func:`frequency_score`)."""
    from underwriting.frequency.model import RATE_BAND_THRESHOLDS, rate_band, risk_score

    rate = float(detail["annual_rate"])
    p1 = -math.expm1(-rate)
    reasons = []
    for r in detail["reasons"][:n_reasons]:
        c = float(r["log_contribution"])
        reasons.append(ReasonBlock(factor=r["key"], direction="raises" if c > 0 else "lowers", log_rate=c,
                                   multiplier=math.exp(c), p_effect=p1 + math.expm1(-rate / math.exp(c)),
                                   detail=r["detail"]))
    unknown = sorted(k for k, v in sub.posture.model_dump(mode="json").items() if v == "unknown")
    return ScoreBlock(exchange=sub.exchange.name, as_of=sub.as_of.isoformat(), risk_score=risk_score(rate),
                      band=rate_band(rate), p_breach=p1, horizon_years=1.0, reasons=reasons,
                      band_thresholds=list(RATE_BAND_THRESHOLDS), unknown_answers=unknown,
                      model=dict(detail.get("model") or {}))


def frequency_score(sub: Submission, fx: FxTable | None = None, *, registry: Any = None, schedule: Any = None,
                    n_reasons: int = 5) -> tuple[ScoreBlock, FrequencyEstimate]:
    """Risk score, band, reasons and P(breach within 1 year) of the one risk model (``underwriting
    score``); the same numbers as the quote's. Returns ``(score block, one-year FrequencyEstimate)``."""
    fx = fx or FxTable.bundled()
    table = _schedule_table(schedule)
    start = sub.as_of + dt.timedelta(days=1)
    fe, _, _ = _one_risk_model(sub, start, 1.0, 0.0, fx, registry, table)
    return score_block(sub, fe.detail or {}, n_reasons), fe


def _one_risk_model(sub: Submission, start: dt.date, term: float, start_years: float, fx: FxTable, registry: Any,
                    table: Any) -> tuple[FrequencyEstimate, dict[str, str], dict[str, str]]:
    """Base × experience × schedule over a term of ``term`` years (the one risk model); within one quote
    computed once per window (callers get their own copies of the mutable parts)."""
    key = ("one_risk_model", id(sub), start, term, start_years, id(fx), id(registry), id(table))
    fe, methods, versions = _in_quote_scope(key, (sub, fx, registry, table), lambda: _one_risk_model_impl(
        sub, start, term, start_years, fx, registry, table))
    return copy.deepcopy((fe, methods, versions))


def _one_risk_model_impl(sub: Submission, start: dt.date, term: float, start_years: float, fx: FxTable,
                         registry: Any, table: Any) -> tuple[FrequencyEstimate, dict[str, str], dict[str, str]]:
    from scipy.stats import norm

    from underwriting.frequency.base_model import covariates_from_submission
    from underwriting.frequency.model import load_breach_frequency, schedule_sha

    bf = _in_quote_scope(("breach_frequency", id(registry), id(table)), (registry, table),
                         lambda: load_breach_frequency(registry, table))
    X = covariates_from_submission(sub, fx=fx)
    res = bf.explain(X, [sub], years=term)[0]
    base = bf.base_model
    reg = getattr(base, "registry_", {}) or {}
    prior = getattr(base, "experience_prior_", {}) or {}
    version = f"{reg.get('version', '?')}@{str(reg.get('manifest_sha256', ''))[:12]}"
    d = res.to_dict()
    cov = X.iloc[0]
    d["base"]["covariates"] = {
        "volume_24h_usd": None if not math.isfinite(cov["volume_24h_usd"]) else float(cov["volume_24h_usd"]),
        "country": cov["country"], "security_points": None,
        "age_years": None if not math.isfinite(cov["age_years"]) else float(cov["age_years"])}
    d["experience"]["prior_strength_interval"] = list(prior.get("interval") or [])
    d["model"] = {"name": "frequency", "version": reg.get("version", "?"),
                  "prior_strength": prior.get("alpha"), "prior_strength_interval": list(prior.get("interval") or []),
                  "schedule": f"{table.table.name} v{table.table.version}", "schedule_sha256": schedule_sha(table)}
    lam = res.expected_breaches
    lo, hi = res.expected_breaches_interval
    # gamma mixing of Λ: its coefficient of variation from the 90% interval read as lognormal
    s = (math.log(hi) - math.log(lo)) / (2 * float(norm.ppf(0.5 + res.level / 2))) if hi > lo else 0.0
    var_lam = lam * lam * math.expm1(s * s)
    rows = [{"factor": r["key"], "block": r["block"], "multiplier": r["factor"], "answer": r["answer"],
             "reason": r["source"], "log_contribution": r["log_contribution"]}
            for r in res.factor_table() if r["block"] in ("experience", "schedule")]
    fe = FrequencyEstimate(
        expected_breaches=lam, variance_of_lambda=var_lam, p_at_least_one=res.p_breach,
        start_years=start_years, end_years=start_years + term, method="frequency", term_years=term,
        annual_rate=res.annual_rate, p_breach_1y=-math.expm1(-res.annual_rate), multiplier=None,
        factors=tuple(rows), detail=d, assumptions=(
            f"breach frequency = base rate (Poisson regression on real exchange cohorts, frequency {reg.get('version', '?')}) "
            f"x experience (Poisson-gamma credibility, prior strength alpha = {prior.get('alpha', float('nan')):.3g} "
            "estimated on the same cohorts, 90% interval "
            + "-".join(f"{x:.3g}" for x in (prior.get("interval") or []) if x is not None)
            + f") x posture schedule ({table.table.name} v{table.table.version}: every factor an ASSUMPTION, capped)",
            f"the {res.level:.0%} interval carries the base model's parameter uncertainty only; the expected loss "
            "uses the negative binomial count from gamma mixing of the term's expected breaches with that spread",))
    methods = {"frequency": "one risk model: base (real cohorts) x experience x schedule (docs/schedule.md)"}
    versions = {"frequency": version, "schedule": f"{table.table.name} v{table.table.version}@{schedule_sha(table)[:12]}"}
    return fe, methods, versions


def _frequency(sub: Submission, terms: PolicyTerms, cal: RecordCalibration, frequency_model: str, fx: FxTable,
               features: Any = None, registry: Any = None,
               schedule: Any = None) -> tuple[FrequencyEstimate, dict[str, str], dict[str, str]]:
    """Breach frequency over the policy window: ``(estimate, methods, versions)``.

    ``survival`` (comparison only): the shipped landmark survival model (:mod:`underwriting.survival.landmarks`),
    expected breaches = cumulative hazard over the window from as-of to inception and expiry, variance
    from the coefficient covariance (delta method). ``baseline``: :mod:`underwriting.frequency.baseline`.
    ``features``: the submission's default feature row when the caller already built it.
    ``frequency`` (default): :func:`_one_risk_model`.
    """
    if frequency_model == "frequency":
        start = max((terms.inception - sub.as_of).days, 0) / DAYS_PER_YEAR
        return _one_risk_model(sub, terms.inception, terms.term_years, start, fx, registry, _schedule_table(schedule))
    if frequency_model == "survival":
        from underwriting.registry import load_model
        from underwriting.survival.frequency import frequency_for_term
        from underwriting.survival.landmarks import feature_row, policy_window_years

        # the registry's default (or a pinned) version, hashes checked
        model = load_model("survival") if registry is None else registry.load("survival")
        reg = getattr(model, "registry_", {}) or {}
        version = f"{reg.get('version', '?')}@{str(reg.get('manifest_sha256', ''))[:12]}"
        X = features if features is not None else feature_row(sub, fx)
        s, e = policy_window_years(sub, terms)
        fe = frequency_for_term(model, X, (s, e))
        fe = replace(fe, term_years=terms.term_years, annual_rate=fe.expected_breaches / terms.term_years,
                     p_breach_1y=float(model.predict_risk(X, 1.0)[0]), assumptions=(
                         "breach frequency from the shipped landmark survival model (piecewise exponential "
                         "on time since the as-of date), fitted on a synthetic book whose base rate is "
                         "calibrated to the real roster and whose posture effects are assumptions",))
        return fe, {"frequency": f"survival {reg.get('version', '?')} (landmark piecewise-exponential, "
                             "docs/survival.md)"}, {"survival": version}

    from underwriting.frequency.baseline import baseline_frequency

    start = max((terms.inception - sub.as_of).days, 0) / DAYS_PER_YEAR
    fe = baseline_frequency(sub, cal.base_rate, terms.term_years, start_years=start, assumptions=(
        f"base breach rate {cal.base_rate.rate:.4f} a year = {cal.base_rate.events} breaches over "
        f"{cal.base_rate.exchange_years:,.0f} exchange-years of the roster (exchanges with a known "
        "launch date); the roster over-represents breached exchanges, so this is an upper estimate",))
    methods = {"frequency": "baseline (roster base rate x posture multipliers, docs/baseline.md)"}
    versions = {"baseline": f"baseline@{cal.data_sha}"}
    return fe, methods, versions


def _reserve_block(sub: Submission, terms: PolicyTerms | list[PolicyTerms] | None, regime: str | None, fx: FxTable,
                   *, frequency_model: str = "frequency", fx_out: list[dict[str, Any]] | None = None,
                   registry: Any = None, schedule: Any = None) -> ReserveBlock:
    from underwriting.reserve.jurisdictions import default_regime, regime_note

    reg = regime or default_regime(sub.exchange.jurisdiction)
    if reg is None:
        return ReserveBlock(regime=None, requirement=None, credit=None, credit_share=None,
                            note=regime_note(sub.exchange.jurisdiction))
    a = assess_reserve(sub, [] if terms is None else list(terms) if isinstance(terms, list) else [terms], reg, fx,
                       frequency_model=frequency_model, registry=registry, schedule=schedule)
    d = a.to_dict()
    if fx_out is not None:
        fx_out.extend(d.get("fx", []))
    note = None if terms is not None else "no policy given: requirement only (pass --terms for the credit)"
    return ReserveBlock(regime=d["regime"], regime_version=d.get("regime_version"), requirement=d["requirement"],
                        credit=d["credit"], credit_share=d["credit_share"], residual_cash=d["residual_cash"],
                        checks=d["checks"], risk_sizing=d.get("risk_sizing"), note=note)


def annual_ground_up_loss(sub: Submission, fx: FxTable, *, frequency_model: str = "frequency",
                          registry: Any = None, schedule: Any = None) -> Any:
    """The exchange's annual ground-up customer loss over all custody tiers, from the quote's own loss
    model (for a regime's risk-based sizing scenario); ``registry`` and ``schedule`` as the quote's."""
    from underwriting.reserve.sizing import annual_ground_up_loss as _annual

    lm = build_loss_model(sub, default_terms(sub), fx=fx, frequency_model=frequency_model, registry=registry,
                          schedule=schedule)
    desc = (f"ground-up, all tiers, 1 year: {lm.methods.get('frequency', frequency_model)} frequency "
            f"({lm.frequency.expected_breaches:.4f} breaches); {lm.methods.get('severity', '')}")
    return _annual(lm.perils, lm.quote_per_usd, description=desc)


def assess_reserve(sub: Submission, policies: list[PolicyTerms], regime: Any, fx: FxTable, *,
                   as_of: dt.date | None = None, overrides: dict[str, Any] | None = None,
                   risk_sizing: bool = True, frequency_model: str = "frequency", registry: Any = None,
                   schedule: Any = None) -> Any:
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
                                       schedule=schedule)
    return assess(sub, policies, reg, fx, as_of=as_of, annual_loss=annual,
                  loss_model_note=annual.description if annual is not None else "")
