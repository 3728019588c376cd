"""Insurance versus cash: the cost of meeting a reserve requirement over a horizon, and the cheapest mix.

For a programme (a set of policies, possibly empty) with reserve credit ``C`` against requirement
``R``, per year (all in the submission's currency)::

    carry        = (funding_cost − reserve_yield) × (R − C)        cost of holding the residual cash
    premium      = Σ premiums                                     paid at the start of each year
    recoveries   = Σ E[insurer payments]                           (a saving: losses you no longer bear)
    default      = Σ PD_1y(rating) × LGD × E[insurer payments]     recoveries lost to insurer default
    basis        = Σ E[payments] × (1 − s) / s                     expected losses inside the policy's band
                                                                   it would not pay (s = coverage share ×
                                                                   coinsurance); costed at basis_risk_load

    NPV = Σ_{t=1..H} premium / (1+d)^(t−1)
          + Σ_{t=1..H} (carry_t − recoveries + default + basis_risk_load × basis) / (1+d)^t

Cash only is the empty programme: ``NPV = Σ carry(R) / (1+d)^t``. The exchange's own expected
losses are common to every option and left out. The requirement is held at its start value over
the horizon. The credit ``C`` is followed **through the term**: each policy is renewed on the same
terms at its expiry (:mod:`underwriting.reserve.term`), the credit decays with the residual term
in between, and year ``t``'s carry is on ``R − C̄_t`` with ``C̄_t`` the year's average credit. The
gap between the credit at the start and the average is cash the exchange must hold
(``gap_cost = spread × (C_start − C̄)`` per year).

Candidates come from quotes the user supplies (:func:`load_quotes`) or from a pricing callable
over a limit × deductible grid (:func:`grid_candidates`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from underwriting.domain.currency import FxTable
from underwriting.domain.policy import PolicyTerms
from underwriting.domain.submission import Submission
from underwriting.errors import InputError
from underwriting.reserve.assessment import ReserveAssessment, assess
from underwriting.reserve.candidates import grid_candidates, load_quotes, perils_pricer  # noqa: F401 - re-exported
from underwriting.reserve.compare_plots import plot_costs, plot_waterfall  # noqa: F401 - re-exported
from underwriting.reserve.compare_types import (  # noqa: F401 - re-exported
    Candidate,
    Comparison,
    CostAssumptions,
    ProgrammeCost,
)
from underwriting.reserve.figures import FxLog
from underwriting.reserve.regime import Regime, load_regime
from underwriting.reserve.term import RENEWAL, RawPath, credit_path


def annuity(rate: float, years: int, *, advance: bool = False) -> float:
    """Present value of 1 per year for ``years`` years (in arrears, or in advance)."""
    s = sum((1.0 + rate) ** -t for t in range(1, years + 1))
    return s * (1.0 + rate) if advance else s


@dataclass(frozen=True)
class _Static:
    """A programme's cost lines that do not depend on the cap, and its credit path before the cap."""

    ids: tuple[str, ...]
    compliant: bool
    requirement: float
    premium: float
    recoveries: float
    default: float
    basis: float
    reasons: tuple[str, ...]
    path: RawPath


def _static(sub: Submission, regime: Regime, programme: Sequence[Candidate], fx: FxTable,
            assumptions: CostAssumptions, horizon_years: int, start: dt.date,
            samples_per_year: int) -> tuple[_Static, ReserveAssessment]:
    a = assess(sub, [c.policy for c in programme], regime, fx, as_of=start)
    log = FxLog(fx, a.as_of.year)
    cur = a.currency
    prem = rec = dflt = basis = 0.0
    for c, pc in zip(programme, a.policies, strict=True):
        p_prem = log.convert(c.premium, c.policy.currency, cur, "premium")
        p_rec = log.convert(c.expected_recovery, c.policy.currency, cur, "expected recovery")
        prem += p_prem
        rec += p_rec
        dflt += assumptions.pd_1y[c.policy.insurer_rating] * assumptions.lgd * p_rec
        s = pc.coverage_share * c.policy.coinsurance
        # a policy earning no credit leaves no credited band to miss (its uncovered losses stay in cash)
        basis += p_rec * (1.0 - s) / s if s > 0 and pc.standalone_credit > 0 else 0.0
    dependent = any(rule.kind == "residual_term" for rule in regime.rules)

    def credit_at(pols: Sequence[PolicyTerms], day: dt.date) -> float:
        if day == start and list(pols) == [c.policy for c in programme]:
            return a.credit_before_cap
        return assess(sub, list(pols), regime, fx, as_of=day, fx_year=start.year).credit_before_cap

    path = credit_path([c.policy for c in programme], credit_at, start, horizon_years,
                       samples_per_year=samples_per_year, dependent=dependent)
    reasons = tuple(f"{p.policy_id}: {'; '.join(p.ineligible_reasons)}" for p in a.policies if not p.eligible)
    return _Static(tuple(c.policy.policy_id for c in programme), all(p.eligible for p in a.policies),
                   a.requirement.amount, prem, rec, dflt, basis, reasons, path), a


def _cost(st: _Static, cap_amount: float, assumptions: CostAssumptions, horizon_years: int) -> ProgrammeCost:
    """Cost lines and NPV of one programme under a cap amount (module docstring)."""
    path = st.path.capped(cap_amount)
    spread = assumptions.funding_cost - assumptions.reserve_yield
    r = st.requirement
    carry_by_year = tuple(spread * max(0.0, r - c) for c in path.by_year)
    basis_cost = assumptions.basis_risk_load * st.basis
    d = assumptions.discount_rate
    npv = st.premium * annuity(d, horizon_years, advance=True) + sum(
        (cy - st.recoveries + st.default + basis_cost) * (1.0 + d) ** -(t + 1) for t, cy in enumerate(carry_by_year))
    carry = sum(carry_by_year) / len(carry_by_year)
    note = "" if st.compliant else "ineligible: " + " | ".join(st.reasons)
    return ProgrammeCost(st.ids, st.compliant, r, path.average, max(0.0, r - path.average), st.premium, carry,
                         st.recoveries, st.default, st.basis, st.premium + carry - st.recoveries + st.default
                         + basis_cost, npv, note, basis_cost, credit_start=path.start, credit_by_year=path.by_year,
                         credit_low=path.low, peak_cash=max(0.0, r - path.low),
                         gap_cost=spread * max(0.0, path.start - path.average), carry_by_year=carry_by_year,
                         ineligible_reasons=st.reasons)


def evaluate_programme(sub: Submission, regime: Regime, programme: Sequence[Candidate], fx: FxTable,
                       assumptions: CostAssumptions, horizon_years: int,
                       as_of: dt.date | None = None, *, samples_per_year: int = 24
                       ) -> tuple[ProgrammeCost, ReserveAssessment]:
    """Cost one programme under the regime's cap (see the module docstring for the formulas)."""
    start = as_of or sub.as_of
    st, a = _static(sub, regime, programme, fx, assumptions, horizon_years, start, samples_per_year)
    return _cost(st, a.cap_amount, assumptions, horizon_years), a


def horizon_start(sub: Submission, candidates: Sequence[Candidate], as_of: dt.date | None = None) -> dt.date:
    """The horizon starts at the assessment date, or at the earliest quoted inception if that is later
    (the same date for every programme)."""
    start = as_of or sub.as_of
    firsts = [c.policy.inception for c in candidates]
    return max(start, min(firsts)) if firsts else start


#: Most candidate policies one comparison accepts (a deductible x limit grid prices every cell first).
MAX_CANDIDATES = 64
#: Most programmes (mixes of up to ``max_layers`` candidates, cash only included) one comparison considers:
#: each is assessed at ``samples_per_year`` dates over the horizon (about 0.03 s of CPU each) and listed in
#: the JSON output (about 1.1 kB each). A 12 x 12 grid with three layers is 487,635 programmes (781 MB of
#: memory and 36 MB of JSON before this limit); 2,000 bounds a run to about a minute and 2 MB.
MAX_PROGRAMMES = 2_000


def programme_count(n_candidates: int, max_layers: int) -> int:
    """Number of programmes ``optimise`` would cost: sum of C(n, k) for k = 0 .. max_layers."""
    import math

    return sum(math.comb(n_candidates, k) for k in range(0, min(max_layers, n_candidates) + 1))


def check_programme_count(n_candidates: int, max_layers: int, *, field: str = "--max-layers") -> None:
    """Refuse a comparison too large to cost, before any candidate is priced.

    Raises
    ------
    InputError
        More than :data:`MAX_CANDIDATES` candidates, or more than :data:`MAX_PROGRAMMES` programmes.
    """
    if n_candidates > MAX_CANDIDATES:
        raise InputError(f"{n_candidates:,} candidate policies, over the limit of {MAX_CANDIDATES}: use fewer "
                         "deductibles, limits or quotes", field=field)
    n = programme_count(n_candidates, max_layers)
    if n > MAX_PROGRAMMES:
        raise InputError(f"{n_candidates} candidates in mixes of up to {max_layers} make {n:,} programmes, over the "
                         f"limit of {MAX_PROGRAMMES:,}: lower --max-layers or use fewer candidates", field=field)


def optimise(sub: Submission, regime: str | Path | Regime, candidates: Sequence[Candidate], fx: FxTable | None = None,
             *, horizon_years: int = 3, assumptions: CostAssumptions | None = None, max_layers: int = 3,
             as_of: dt.date | None = None, allow_overlap: bool = False, pricing_note: str = "",
             samples_per_year: int = 24) -> Comparison:
    """Evaluate cash only and every mix of up to ``max_layers`` candidates; pick the cheapest compliant.

    A mix is *compliant* when every policy in it passes the regime's tests (a failed policy earns no
    credit yet costs its premium); credit plus residual cash always meets the requirement. The credit
    is followed through the horizon under the renewal assumption of :mod:`underwriting.reserve.term`,
    and the same programmes are costed under each of the regime's cap scenarios.

    Parameters
    ----------
    sub : Submission
    regime : str, Path or Regime
    candidates : sequence of Candidate
        Priced policies (quotes, or a grid from a pricing callable).
    horizon_years : int
        Years over which the programme is renewed on the same terms (≥ 1).
    max_layers : int
        Largest number of policies in one programme (mixes grow as n choose k).
    as_of : date, optional
        Assessment date (default the submission's); the horizon starts there, or at the earliest
        quoted inception if later (:func:`horizon_start`).
    allow_overlap : bool
        Also cost programmes in which two policies pay the same losses (same custody tier and cause on
        overlapping bands): double insurance, left out by default.
    pricing_note : str
        Where the candidates' premiums came from, shown with the table.
    samples_per_year : int
        Dates per year at which the credit is assessed (midpoint rule).
    """
    if not isinstance(horizon_years, int) or isinstance(horizon_years, bool) or not 1 <= horizon_years <= 50:
        raise InputError(f"must be a whole number of years between 1 and 50 (got {horizon_years!r})",
                         field="--horizon-years")
    if not isinstance(max_layers, int) or not 1 <= max_layers <= 6:
        raise InputError("must be between 1 and 6", field="--max-layers")
    check_programme_count(len(candidates), max_layers)
    reg = load_regime(regime)
    if fx is None:
        from underwriting.reserve.assessment import default_fx

        fx = default_fx()
    assumptions = assumptions or CostAssumptions.default()
    ids = [c.policy.policy_id for c in candidates]
    if len(set(ids)) != len(ids):
        raise InputError("two candidates share a policy_id; give each quote its own", field="quote.policy_id")
    start = horizon_start(sub, candidates, as_of)
    clash = set() if allow_overlap or len(candidates) < 2 else double_insured_pairs(sub, reg, candidates, fx, start)
    statics: list[tuple[_Static, ReserveAssessment]] = []
    skipped: list[str] = []
    for k in range(0, min(max_layers, len(candidates)) + 1):
        for combo in itertools.combinations(candidates, k):
            ids_c = [c.policy.policy_id for c in combo]
            if any((x, y) in clash for x, y in itertools.combinations(ids_c, 2)):
                skipped.append(" + ".join(ids_c))
                continue
            statics.append(_static(sub, reg, combo, fx, assumptions, horizon_years, start, samples_per_year))
    r = statics[0][0].requirement

    def ranked(cap_share: float) -> list[tuple[ProgrammeCost, ReserveAssessment]]:
        out = [(_cost(st, cap_share * r, assumptions, horizon_years), a) for st, a in statics]
        out.sort(key=lambda pa: (not pa[0].compliant, pa[0].npv, len(pa[0].policies)))
        return out

    cap_share = float(reg.credit.cap_share.value)
    progs = ranked(cap_share)
    best, best_a = next(pa for pa in progs if pa[0].compliant)
    cash = next(pa[0] for pa in progs if not pa[0].policies)
    scen = {}
    for name, share in reg.credit.scenarios.items():
        alt = ranked(float(share))
        b = next(pa[0] for pa in alt if pa[0].compliant)
        c0 = next(pa[0] for pa in alt if not pa[0].policies)
        scen[name] = {"cap_share": float(share), "best": b.label, "npv": b.npv, "cash_only_npv": c0.npv,
                      "saving_vs_cash": c0.npv - b.npv, "credit_average": b.credit, "credit_start": b.credit_start}
    return Comparison(reg.id, best_a.currency, horizon_years, assumptions, tuple(p for p, _ in progs), best, cash,
                      best_a, tuple(candidates), tuple(skipped), pricing_note, start=start,
                      renewal=RENEWAL, samples_per_year=samples_per_year, cap_scenarios=scen,
                      caveats=caveats(best_a, start), regime_obj=reg)


def caveats(a: ReserveAssessment, start: dt.date) -> tuple[str, ...]:
    """What a board must read beside the figures: the regime's status, warnings and the cap's status."""
    reg = a.regime
    out = [w.reason for w in a.warnings]
    if reg.provisional:
        out.append(f"{reg.id} is PROVISIONAL (status {reg.status}): the rules are not published; every figure is a "
                   "scenario, not a compliance position")
    for ch in reg.choices:
        opt = ch.options[ch.in_effect]
        others = ", ".join(f"{k} ({v.source})" for k, v in ch.options.items() if k != ch.in_effect)
        out.append(f"scenario choice {ch.name} = {ch.in_effect} [{opt.status}]: {opt.reading}; other reading(s): "
                   f"{others}")
    cp = reg.credit.cap_share
    if cp.status != "confirmed":
        out.append(f"the cap on insurance ({float(cp.value):.0%} of the requirement) is [{cp.status}]: {cp.source}; "
                   "the cap scenarios below show how the answer moves with it")
    return tuple(out)


def double_insured_pairs(sub: Submission, regime: Regime, candidates: Sequence[Candidate], fx: FxTable,
                         as_of: dt.date | None = None) -> set[tuple[str, str]]:
    """Pairs of candidates (ordered as given) that pay the same losses: a common (tier, cause) cell on
    overlapping bands ``[attachment, attachment + width)``, in the requirement currency."""
    a = assess(sub, [c.policy for c in candidates], regime, fx, as_of=as_of)
    out = set()
    for i, x in enumerate(a.layers):
        for y in a.layers[i + 1:]:
            for cell, wx in x.widths.items():
                wy = y.widths[cell]
                if wx > 0 and wy > 0 and min(x.attachment + wx, y.attachment + wy) > max(x.attachment, y.attachment):
                    out.add((x.policy_id, y.policy_id))
                    break
    return out
