"""Policy tests: one pure function per rule kind a regime file may declare, each registered with
:func:`~underwriting.reserve.regime_params.rule_kind` (its name and parameter schema).

Each takes the policy, the assessment date and the rule's typed parameters and returns a
:class:`~underwriting.reserve.figures.Check`. ``fail`` makes the policy ineligible; ``haircut``
multiplies its credit by ``1 - haircut``. The ``coverage`` kind is evaluated by
:mod:`underwriting.reserve.tower`, which needs the requirement.
"""

from __future__ import annotations

import datetime as dt

from underwriting.domain.policy import RATINGS, PolicyTerms
from underwriting.domain.vocabulary import EXCLUSION_TO_PERIL
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


def _mk(rule: RuleSpec, pol: PolicyTerms, outcome: str, haircut: float, reason: str) -> Check:
    return Check(rule.rule, outcome, float(haircut), reason, _src(rule), pol.policy_id, rule.status)  # type: ignore[arg-type]


@rule_kind("initial_term", DaysParams)
def initial_term(rule: RuleSpec, p: DaysParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    days = (pol.expiry - pol.inception).days
    if days >= p.min_days:
        return _mk(rule, pol, "pass", 0.0, f"initial term {days} days ≥ {p.min_days}")
    return _mk(rule, pol, "fail", 1.0, f"initial term {days} days < {p.min_days} required")


@rule_kind("cancellation_notice", DaysParams)
def cancellation_notice(rule: RuleSpec, p: DaysParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    d = pol.cancellation_notice_days
    if d >= p.min_days:
        return _mk(rule, pol, "pass", 0.0, f"cancellation notice {d} days ≥ {p.min_days}")
    return _mk(rule, pol, "fail", 1.0, f"cancellation notice {d} days < {p.min_days} required")


@rule_kind("authorised_insurer")
def authorised_insurer(rule: RuleSpec, p: object, pol: PolicyTerms, as_of: dt.date) -> Check:
    if pol.insurer_authorised:
        return _mk(rule, pol, "pass", 0.0, f"{pol.insurer} is declared authorised")
    return _mk(rule, pol, "fail", 1.0, f"{pol.insurer} is not authorised to provide insurance here")


@rule_kind("third_party", ThirdPartyParams)
def third_party(rule: RuleSpec, p: ThirdPartyParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    if not pol.captive:
        return _mk(rule, pol, "pass", 0.0, "insurer is a third party (not a captive)")
    if pol.reinsured_out and p.captive_allowed_if_reinsured:
        return _mk(rule, pol, "pass", 0.0, "captive, but the risk is reinsured out to a third party")
    why = "not reinsured out" if not pol.reinsured_out else "captives are not accepted even if reinsured"
    return _mk(rule, pol, "fail", 1.0, f"insurer is a captive of the insured's group ({why})")


@rule_kind("insurer_rating", RatingParams)
def insurer_rating(rule: RuleSpec, p: RatingParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    r = pol.insurer_rating
    if r != "NR" and RATINGS.index(r) <= RATINGS.index(p.min_rating):
        return _mk(rule, pol, "pass", 0.0, f"insurer rated {r} ≥ {p.min_rating}")
    return _mk(rule, pol, "fail", 1.0, f"insurer rated {r}, below the minimum {p.min_rating}")


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
    if h == 0.0:
        return _mk(rule, pol, "pass", 0.0, f"residual term {days} days ≥ {p.full_credit_days} (from {start})")
    shape = (f"linear: ({p.full_credit_days} − {days}) ÷ ({p.full_credit_days} − {p.zero_credit_days})"
             if h < 1.0 else f"≤ {p.zero_credit_days} days: full haircut")
    return _mk(rule, pol, "haircut", h, f"residual term {days} days (from {start}); {shape} = {h:.1%}")


@rule_kind("forbidden_exclusions", ForbiddenExclusionsParams)
def forbidden_exclusions(rule: RuleSpec, p: ForbiddenExclusionsParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    bad = [e for e in pol.exclusions if e in p.exclusions]
    if not bad:
        return _mk(rule, pol, "pass", 0.0, f"none of the forbidden exclusions ({', '.join(p.exclusions)})")
    return _mk(rule, pol, "fail", 1.0, f"policy excludes {', '.join(bad)}, which this regime does not accept")


@rule_kind("payment_uncertainty", PaymentUncertaintyParams)
def payment_uncertainty(rule: RuleSpec, p: PaymentUncertaintyParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    h_r = p.rating_haircuts[pol.insurer_rating]
    late = max(0, pol.claims_payment_days - p.prompt_payment_days)
    h_d = min(p.max_delay_haircut, late * p.haircut_per_day_late)
    h = 1.0 - (1.0 - h_r) * (1.0 - h_d)
    reason = (f"rating {pol.insurer_rating}: {h_r:.1%}; claims paid in {pol.claims_payment_days} days "
              f"({late} beyond {p.prompt_payment_days}) × {p.haircut_per_day_late:.2%}/day = {h_d:.1%} "
              f"(max {p.max_delay_haircut:.0%}); combined 1 − (1 − {h_r:.3f})(1 − {h_d:.3f}) = {h:.1%}")
    return _mk(rule, pol, "haircut" if h > 0 else "pass", h, reason)


@rule_kind("wording_check", WordingParams)
def wording_check(rule: RuleSpec, p: WordingParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    return _mk(rule, pol, "info", 0.0, "not checkable from the policy terms; verify the wording covers: "
               + "; ".join(p.items))


@rule_kind("declared_coverage", DeclaredCoverageParams)
def declared_coverage(rule: RuleSpec, p: DeclaredCoverageParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    """Every item the regime needs must be declared covered in the policy terms; else no credit."""
    if not p.items:
        return _mk(rule, pol, "pass", 0.0, "no declared coverage required (scenario switched off)")
    missing = [label for item, label in p.items.items() if not getattr(pol.declared_coverage, item)]
    if not missing:
        return _mk(rule, pol, "pass", 0.0, "declares cover of: " + "; ".join(p.items.values()))
    return _mk(rule, pol, "fail", 1.0, f"undeclared required coverage ({len(missing)} of {len(p.items)}): "
               + "; ".join(missing) + " (set them under [declared_coverage] only if the wording covers them)")


@rule_kind("required_perils", RequiredPerilsParams)
def required_perils(rule: RuleSpec, p: RequiredPerilsParams, pol: PolicyTerms, as_of: dt.date) -> Check:
    """Every required peril must be covered and not excluded; else no credit."""
    removed = {EXCLUSION_TO_PERIL[e] for e in pol.exclusions if e in EXCLUSION_TO_PERIL}
    missing = [x for x in p.perils if x not in pol.perils or x in removed]
    if not missing:
        return _mk(rule, pol, "pass", 0.0, "covers the required perils: " + ", ".join(p.perils))
    return _mk(rule, pol, "fail", 1.0, "required peril(s) not covered or excluded: " + ", ".join(missing))


def in_force(pol: PolicyTerms, as_of: dt.date) -> Check:
    """The engine's own test: an expired policy earns nothing; a future one is assessed at inception."""
    src = "engine: a policy counts only while in force [assumption]"
    if pol.expiry <= as_of:
        return Check("engine.in_force", "fail", 1.0, f"policy expired on {pol.expiry} (assessed at {as_of})",
                     src, pol.policy_id, "assumption")
    if pol.inception > as_of:
        return Check("engine.in_force", "info", 0.0,
                     f"policy starts {pol.inception}, after the assessment date {as_of}: assessed as at inception",
                     src, pol.policy_id, "assumption")
    return Check("engine.in_force", "pass", 0.0, f"in force on {as_of} ({pol.inception} to {pol.expiry})", src,
                 pol.policy_id, "assumption")


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
