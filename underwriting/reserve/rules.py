"""Policy tests: one pure function per rule kind a regime file may declare, each registered with
:func:`~underwriting.reserve.regime_params.rule_kind` (its name and parameter schema).

Each takes the policy, the assessment date and the rule's typed parameters and returns a
:class:`~underwriting.reserve.figures.Check`. ``fail`` makes the policy ineligible; ``haircut``
multiplies its credit by ``1 - haircut``. The ``coverage`` kind is evaluated by
:mod:`underwriting.reserve.tower`, which needs the requirement.
"""

from __future__ import annotations

import datetime as dt

from underwriting.domain.message import Message, data, date, msg, num, seq, term, text
from underwriting.domain.policy import RATINGS, PolicyTerms
from underwriting.domain.vocabulary import EXCLUSION_TO_PERIL
from underwriting.i18n import N_
from underwriting.reserve.figures import Check
from underwriting.reserve.regime import Regime, RuleSpec, typed_rule_params
from underwriting.reserve.regime_params import (
    RULE_KIND_REGISTRY,
    DaysParams,
    DeclaredCoverageParams,
    ForbiddenExclusionsParams,
    PaymentUncertaintyParams,
    RatingParams,
    RequiredPerilsParams,
    ResidualTermParams,
    ThirdPartyParams,
    WordingParams,
    rule_kind,
)


def _src(rule: RuleSpec) -> str:
    return f"{rule.source} [{rule.status}]"


def _mk(rule: RuleSpec, pol: PolicyTerms, outcome: str, haircut: float, why: Message) -> Check:
    return Check.of(rule.rule, outcome, float(haircut), why, _src(rule), pol.policy_id, rule.status)  # type: ignore[arg-type]


@rule_kind("initial_term", DaysParams)
def initial_term(rule: RuleSpec, p: DaysParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    days = (pol.expiry - pol.inception).days
    args = {"days": num(days), "min_days": num(p.min_days)}
    if days >= p.min_days:
        return _mk(rule, pol, "pass", 0.0, msg(N_("initial term {days} days ≥ {min_days}"), **args))
    return _mk(rule, pol, "fail", 1.0, msg(N_("initial term {days} days < {min_days} required"), **args))


@rule_kind("cancellation_notice", DaysParams)
def cancellation_notice(rule: RuleSpec, p: DaysParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    d = pol.cancellation_notice_days
    args = {"days": num(d), "min_days": num(p.min_days)}
    if d >= p.min_days:
        return _mk(rule, pol, "pass", 0.0, msg(N_("cancellation notice {days} days ≥ {min_days}"), **args))
    return _mk(rule, pol, "fail", 1.0, msg(N_("cancellation notice {days} days < {min_days} required"), **args))


@rule_kind("authorised_insurer")
def authorised_insurer(rule: RuleSpec, p: object, pol: PolicyTerms, as_of: dt.date) -> Check:
    if pol.insurer_authorised:
        return _mk(rule, pol, "pass", 0.0, msg(N_("{insurer} is declared authorised"), insurer=text(pol.insurer)))
    return _mk(rule, pol, "fail", 1.0, msg(N_("{insurer} is not authorised to provide insurance here"),
                                              insurer=text(pol.insurer)))


@rule_kind("third_party", ThirdPartyParams)
def third_party(rule: RuleSpec, p: ThirdPartyParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    if not pol.captive:
        return _mk(rule, pol, "pass", 0.0, msg(N_("insurer is a third party (not a captive)")))
    if pol.reinsured_out and p.captive_allowed_if_reinsured:
        return _mk(rule, pol, "pass", 0.0, msg(N_("captive, but the risk is reinsured out to a third party")))
    why = (msg(N_("not reinsured out")) if not pol.reinsured_out
           else msg(N_("captives are not accepted even if reinsured")))
    return _mk(rule, pol, "fail", 1.0, msg(N_("insurer is a captive of the insured's group ({why})"), why=why))


@rule_kind("insurer_rating", RatingParams)
def insurer_rating(rule: RuleSpec, p: RatingParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    r = pol.insurer_rating
    args = {"rating": text(r), "minimum": text(p.min_rating)}
    if r != "NR" and RATINGS.index(r) <= RATINGS.index(p.min_rating):
        return _mk(rule, pol, "pass", 0.0, msg(N_("insurer rated {rating} ≥ {minimum}"), **args))
    return _mk(rule, pol, "fail", 1.0, msg(N_("insurer rated {rating}, below the minimum {minimum}"), **args))


def residual_term_haircut(residual_days: int, full_credit_days: int, zero_credit_days: int) -> float:
    """Linear residual-term haircut: 0 at ≥ ``full_credit_days``, 1 at ≤ ``zero_credit_days``.

    Between the two: ``(full - residual) / (full - zero)`` (e.g. 365/90 days: 0.5 at 227.5 days).
    """
    if residual_days >= full_credit_days:
        return 0.0
    if residual_days <= zero_credit_days:
        return 1.0
    return (full_credit_days - residual_days) / (full_credit_days - zero_credit_days)


@rule_kind("residual_term", ResidualTermParams)
def residual_term(rule: RuleSpec, p: ResidualTermParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    start = max(as_of, pol.inception)
    days = (pol.expiry - start).days
    h = residual_term_haircut(days, p.full_credit_days, p.zero_credit_days)
    full, zero = num(p.full_credit_days), num(p.zero_credit_days)
    if h == 0.0:
        return _mk(rule, pol, "pass", 0.0, msg(N_("residual term {days} days ≥ {full} (from {start})"),
                                                  days=num(days), full=full, start=date(start)))
    shape = (msg(N_("linear: ({full} − {days}) ÷ ({full} − {zero})"), full=full, days=num(days), zero=zero)
             if h < 1.0 else msg(N_("≤ {zero} days: full haircut"), zero=zero))
    return _mk(rule, pol, "haircut", h, msg(N_("residual term {days} days (from {start}); {shape} = {haircut}"),
                                               days=num(days), start=date(start), shape=shape,
                                               haircut=num(h, ".1%")))


@rule_kind("forbidden_exclusions", ForbiddenExclusionsParams)
def forbidden_exclusions(rule: RuleSpec, p: ForbiddenExclusionsParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    bad = [e for e in pol.exclusions if e in p.exclusions]
    if not bad:
        return _mk(rule, pol, "pass", 0.0, msg(N_("none of the forbidden exclusions ({exclusions})"),
                                                  exclusions=seq(map(term, p.exclusions), ", ")))
    return _mk(rule, pol, "fail", 1.0, msg(N_("policy excludes {exclusions}, which this regime does not accept"),
                                              exclusions=seq(map(term, bad), ", ")))


@rule_kind("payment_uncertainty", PaymentUncertaintyParams)
def payment_uncertainty(rule: RuleSpec, p: PaymentUncertaintyParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    h_r = p.rating_haircuts[pol.insurer_rating]
    late = max(0, pol.claims_payment_days - p.prompt_payment_days)
    h_d = min(p.max_delay_haircut, late * p.haircut_per_day_late)
    h = 1.0 - (1.0 - h_r) * (1.0 - h_d)
    why = msg(N_("rating {rating}: {rating_haircut}; claims paid in {days} days ({late} beyond {prompt}) × "
                    "{per_day}/day = {delay_haircut} (max {max_delay}); combined 1 − (1 − {rating_factor})(1 − "
                    "{delay_factor}) = {haircut}"),
                 rating=text(pol.insurer_rating), rating_haircut=num(h_r, ".1%"), days=num(pol.claims_payment_days),
                 late=num(late), prompt=num(p.prompt_payment_days), per_day=num(p.haircut_per_day_late, ".2%"),
                 delay_haircut=num(h_d, ".1%"), max_delay=num(p.max_delay_haircut, ".0%"),
                 rating_factor=num(h_r, ".3f"), delay_factor=num(h_d, ".3f"), haircut=num(h, ".1%"))
    return _mk(rule, pol, "haircut" if h > 0 else "pass", h, why)


@rule_kind("wording_check", WordingParams)
def wording_check(rule: RuleSpec, p: WordingParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    return _mk(rule, pol, "info", 0.0, msg(N_("not checkable from the policy terms; verify the wording covers: "
                                                 "{items}"), items=seq(map(data, p.items), "; ")))


@rule_kind("declared_coverage", DeclaredCoverageParams)
def declared_coverage(rule: RuleSpec, p: DeclaredCoverageParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    """Every item the regime needs must be declared covered in the policy terms; else no credit."""
    if not p.items:
        return _mk(rule, pol, "pass", 0.0, msg(N_("no declared coverage required (scenario switched off)")))
    missing = [label for item, label in p.items.items() if not getattr(pol.declared_coverage, item)]
    if not missing:
        return _mk(rule, pol, "pass", 0.0, msg(N_("declares cover of: {items}"),
                                                  items=seq(map(data, p.items.values()), "; ")))
    return _mk(rule, pol, "fail", 1.0, msg(N_("undeclared required coverage ({missing} of {required}): {items} "
                                                 "(set them under [declared_coverage] only if the wording covers "
                                                 "them)"), missing=num(len(missing)), required=num(len(p.items)),
                                              items=seq(map(data, missing), "; ")))


@rule_kind("required_perils", RequiredPerilsParams)
def required_perils(rule: RuleSpec, p: RequiredPerilsParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    """Every required peril must be covered and not excluded; else no credit."""
    removed = {EXCLUSION_TO_PERIL[e] for e in pol.exclusions if e in EXCLUSION_TO_PERIL}
    missing = [x for x in p.perils if x not in pol.perils or x in removed]
    if not missing:
        return _mk(rule, pol, "pass", 0.0, msg(N_("covers the required perils: {perils}"),
                                                  perils=seq(map(term, p.perils), ", ")))
    return _mk(rule, pol, "fail", 1.0, msg(N_("required peril(s) not covered or excluded: {perils}"),
                                              perils=seq(map(term, missing), ", ")))


def in_force(pol: PolicyTerms, as_of: dt.date) -> Check:
    """The engine's own test: an expired policy earns nothing; a future one is assessed at inception."""
    src = "engine: a policy counts only while in force [assumption]"
    dates = {"as_of": date(as_of), "inception": date(pol.inception), "expiry": date(pol.expiry)}
    if pol.expiry <= as_of:
        return Check.of("engine.in_force", "fail", 1.0, msg(N_("policy expired on {expiry} (assessed at {as_of})"),
                                                               expiry=dates["expiry"], as_of=dates["as_of"]),
                        src, pol.policy_id, "assumption")
    if pol.inception > as_of:
        return Check.of("engine.in_force", "info", 0.0,
                        msg(N_("policy starts {inception}, after the assessment date {as_of}: assessed as at "
                                  "inception"), inception=dates["inception"], as_of=dates["as_of"]),
                        src, pol.policy_id, "assumption")
    return Check.of("engine.in_force", "pass", 0.0, msg(N_("in force on {as_of} ({inception} to {expiry})"), **dates),
                    src, pol.policy_id, "assumption")


def evaluate_policy(regime: Regime, pol: PolicyTerms, as_of: dt.date) -> list[Check]:
    """Run the engine's in-force test and every non-coverage rule of ``regime`` on ``pol``."""
    checks = [in_force(pol, as_of)]
    for rule in regime.rules:
        check = RULE_KIND_REGISTRY[rule.kind].check
        if check is None:  # evaluated elsewhere (coverage: the tower)
            continue
        checks.append(check(rule, typed_rule_params(regime, rule), pol, as_of))
    return checks


def policy_factor(checks: list[Check]) -> float:
    """Credit factor from a policy's checks: 0 if any failed, else the product of ``1 - haircut``."""
    f = 1.0
    for c in checks:
        if c.outcome == "fail":
            return 0.0
        if c.outcome == "haircut":
            f *= 1.0 - c.haircut
    return f
