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
          + Σ_{t=1..H} (carry − recoveries + default + basis_risk_load × basis) / (1+d)^t

Cash only is the empty programme: ``NPV = Σ carry(R) / (1+d)^t``. The exchange's own expected
losses are common to every option and left out. The requirement and the programme are assumed to
stay the same over the horizon (renewed on the same terms).

Candidates come from quotes the user supplies (:func:`load_quotes`) or from a pricing callable
over a limit × deductible grid (:func:`grid_candidates`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from pathlib import Path

from underwriting.domain.currency import FxTable
from underwriting.domain.submission import Submission
from underwriting.errors import InputError
from underwriting.reserve.assessment import ReserveAssessment, assess
from underwriting.reserve.candidates import (  # noqa: F401 - re-exported
    _QUOTE_EXTRA,
    _short,
    grid_candidates,
    layer_pricer,
    load_quotes,
    perils_pricer,
)
from underwriting.reserve.compare_plots import (  # noqa: F401 - re-exported
    _partial_credit,
    plot_costs,
    plot_waterfall,
    short_amount,
)
from underwriting.reserve.compare_types import (  # noqa: F401 - re-exported
    Candidate,
    Comparison,
    CostAssumptions,
    PriceFn,
    ProgrammeCost,
)
from underwriting.reserve.figures import FxLog
from underwriting.reserve.regime import Regime, load_regime


def annuity(rate: float, years: int, *, advance: bool = False) -> float:
    """Present value of 1 per year for ``years`` years (in arrears, or in advance)."""
    s = sum((1.0 + rate) ** -t for t in range(1, years + 1))
    return s * (1.0 + rate) if advance else s


def evaluate_programme(sub: Submission, regime: Regime, programme: Sequence[Candidate], fx: FxTable,
                       assumptions: CostAssumptions, horizon_years: int,
                       as_of: dt.date | None = None) -> tuple[ProgrammeCost, ReserveAssessment]:
    """Cost one programme (see the module docstring for the formulas)."""
    a = assess(sub, [c.policy for c in programme], regime, fx, as_of=as_of)
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
    spread = assumptions.funding_cost - assumptions.reserve_yield
    carry = spread * a.residual_cash
    basis_cost = assumptions.basis_risk_load * basis
    annual_end = carry - rec + dflt + basis_cost
    npv = prem * annuity(assumptions.discount_rate, horizon_years, advance=True) + \
        annual_end * annuity(assumptions.discount_rate, horizon_years)
    compliant = all(p.eligible for p in a.policies)
    note = "" if compliant else "ineligible: " + ", ".join(p.policy_id for p in a.policies if not p.eligible)
    cost = ProgrammeCost(tuple(c.policy.policy_id for c in programme), compliant, a.requirement.amount, a.credit,
                         a.residual_cash, prem, carry, rec, dflt, basis, prem + annual_end, npv, note, basis_cost)
    return cost, a


def optimise(sub: Submission, regime: str | Path | Regime, candidates: Sequence[Candidate], fx: FxTable | None = None,
             *, horizon_years: int = 3, assumptions: CostAssumptions | None = None, max_layers: int = 3,
             as_of: dt.date | None = None, allow_overlap: bool = False, pricing_note: str = "") -> Comparison:
    """Evaluate cash only and every mix of up to ``max_layers`` candidates; pick the cheapest compliant.

    A mix is *compliant* when every policy in it passes the regime's tests (a failed policy earns no
    credit yet costs its premium); credit plus residual cash always meets the requirement.

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
    allow_overlap : bool
        Also cost programmes in which two policies pay the same losses (same custody tier and cause on
        overlapping bands): double insurance, left out by default.
    pricing_note : str
        Where the candidates' premiums came from, shown with the table.
    """
    if not isinstance(horizon_years, int) or not 1 <= horizon_years <= 50:
        raise InputError(f"must be a whole number of years between 1 and 50 (got {horizon_years!r})",
                         field="--horizon-years")
    if not 1 <= max_layers <= 6:
        raise InputError("must be between 1 and 6", field="--max-layers")
    reg = load_regime(regime)
    if fx is None:
        from underwriting.reserve.assessment import default_fx

        fx = default_fx()
    assumptions = assumptions or CostAssumptions.default()
    ids = [c.policy.policy_id for c in candidates]
    if len(set(ids)) != len(ids):
        raise InputError("two candidates share a policy_id; give each quote its own", field="quote.policy_id")
    clash = set() if allow_overlap or len(candidates) < 2 else double_insured_pairs(sub, reg, candidates, fx, as_of)
    progs: list[tuple[ProgrammeCost, ReserveAssessment]] = []
    skipped: list[str] = []
    for k in range(0, min(max_layers, len(candidates)) + 1):
        for combo in itertools.combinations(candidates, k):
            ids_c = [c.policy.policy_id for c in combo]
            if any((x, y) in clash for x, y in itertools.combinations(ids_c, 2)):
                skipped.append(" + ".join(ids_c))
                continue
            progs.append(evaluate_programme(sub, reg, combo, fx, assumptions, horizon_years, as_of))
    progs.sort(key=lambda pa: (not pa[0].compliant, pa[0].npv, len(pa[0].policies)))
    best, best_a = next(pa for pa in progs if pa[0].compliant)
    cash = next(pa[0] for pa in progs if not pa[0].policies)
    return Comparison(reg.id, best_a.currency, horizon_years, assumptions, tuple(p for p, _ in progs), best, cash,
                      best_a, tuple(candidates), tuple(skipped), pricing_note)


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
