"""Result and input types of the insurance-versus-cash comparison (:mod:`underwriting.reserve.compare`).

``CostAssumptions`` (the economic assumptions, from ``cost_assumptions.toml``), ``Candidate`` (one
policy and its price), ``ProgrammeCost`` (the cost lines of one programme) and ``Comparison``
(every programme evaluated); the formulas are in :mod:`underwriting.reserve.compare`.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from underwriting.domain.policy import PolicyTerms
from underwriting.errors import InputError
from underwriting.reserve.assessment import ReserveAssessment

PriceFn = Callable[[float, float], float]



#: Lowest accepted funding cost, reserve yield or discount rate (a share per year). The most negative central
#: bank policy rates were -0.75% (Swiss National Bank, 2015-2022) and -0.1% (Bank of Japan, 2016-2024).
MIN_RATE = -0.05
_RATES = ("funding_cost", "reserve_yield", "discount_rate")

#: Most programme names the JSON lists as left out for double insurance (all are counted).
MAX_SKIPPED_LISTED = 100

@dataclass(frozen=True)
class CostAssumptions:
    """Economic assumptions of the comparison (shares per year unless stated).

    Attributes
    ----------
    funding_cost, reserve_yield, discount_rate : float
        Per year. The carry cost of cash is ``funding_cost − reserve_yield``.
    lgd : float
        Loss given insurer default, share of the claim owed.
    expected_loss_ratio : float
        Expected recoveries ÷ premium, used when a quote gives no expected loss.
    basis_risk_load : float
        Cost per unit of expected uncovered loss inside the credited band.
    pd_1y : dict
        One-year insurer default probability by rating.
    provenance : dict
        ``{name: "source [status]"}`` for display.
    """

    funding_cost: float
    reserve_yield: float
    discount_rate: float
    lgd: float
    expected_loss_ratio: float
    basis_risk_load: float
    pd_1y: dict[str, float]
    provenance: dict[str, str] = field(default_factory=dict)

    @classmethod
    def default(cls, **overrides: float) -> CostAssumptions:
        """The bundled defaults (``cost_assumptions.toml``) with keyword overrides (marked ``user``)."""
        text = (resources.files("underwriting.reserve") / "cost_assumptions.toml").read_text(encoding="utf-8")
        data = tomllib.loads(text)
        vals: dict[str, Any] = {k: v["value"] for k, v in data.items()}
        prov = {k: f"{v['source']} [{v['status']}]" for k, v in data.items()}
        for k, v in overrides.items():
            if v is None:
                continue
            if k not in vals or k == "pd_1y":
                raise InputError(f"unknown cost assumption; known: {', '.join(sorted(set(vals) - {'pd_1y'}))}", field=k)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise InputError(f"must be a number (got {v!r})", field=k)
            top = 10.0 if k == "expected_loss_ratio" else 1.0
            if not -1.0 < float(v) <= top:
                raise InputError(f"must be a share per year between -1 and {top:g} (got {v!r}; 7% is 0.07)", field=k)
            if k in _RATES and float(v) < MIN_RATE:  # -0.999999 made every NPV explode
                raise InputError(f"{v:g} is below {MIN_RATE:g} a year: no central bank or market rate has been that "
                                 "negative (the lowest policy rate was the Swiss National Bank's -0.75%)", field=k)
            if k in ("lgd", "expected_loss_ratio") and v < 0.0:
                raise InputError(f"must not be negative (got {v!r})", field=k)
            vals[k] = float(v)
            prov[k] = "command line [user]"
        return cls(**vals, provenance=prov)


@dataclass(frozen=True)
class Candidate:
    """A priced policy that could join a programme.

    Attributes
    ----------
    policy : PolicyTerms
    premium : float
        Annual premium in the policy's currency.
    expected_recovery : float
        Expected annual insurer payments in the policy's currency.
    basis : str
        Where the price came from (``"quote"``, ``"price_fn"``, ``"premium × expected_loss_ratio"``...).
    """

    policy: PolicyTerms
    premium: float
    expected_recovery: float
    basis: str = "quote"


@dataclass(frozen=True)
class ProgrammeCost:
    """Cost of one programme over the horizon (amounts in the submission currency).

    ``credit`` is the credit averaged through the horizon under the renewal assumption
    (:mod:`underwriting.reserve.term`), ``credit_start`` the credit on the horizon's first day,
    ``credit_by_year`` the average in each year and ``credit_low`` the lowest sampled value;
    ``residual_cash = requirement − credit`` (average) and ``peak_cash = requirement − credit_low``.
    ``carry`` is the average annual carry, ``carry_by_year`` each year's; ``gap_cost`` the carry of the
    gap between the day-one credit and the average (per year). ``ineligible_reasons`` gives
    ``policy: rule: reason`` for every failed test.
    """

    policies: tuple[str, ...]
    compliant: bool
    requirement: float
    credit: float
    residual_cash: float
    premium: float
    carry: float
    expected_recovery: float
    default_cost: float
    basis_risk: float
    annual_cost: float
    npv: float
    note: str = ""
    basis_cost: float = 0.0
    credit_start: float = 0.0
    credit_by_year: tuple[float, ...] = ()
    credit_low: float = 0.0
    peak_cash: float = 0.0
    gap_cost: float = 0.0
    carry_by_year: tuple[float, ...] = ()
    ineligible_reasons: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return " + ".join(self.policies) if self.policies else "cash only"

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        for k in ("policies", "credit_by_year", "carry_by_year", "ineligible_reasons"):
            d[k] = list(d[k])
        d["credit_average"] = self.credit
        d["label"] = self.label
        return d


@dataclass(frozen=True)
class Comparison:
    """All programmes evaluated, cheapest compliant first, with the assumptions used.

    Attributes
    ----------
    start : date
        First day of the horizon.
    renewal : str
        The renewal assumption behind the credit through the term.
    cap_scenarios : dict
        Per regime cap scenario: ``cap_share``, ``best`` (label), ``npv``, ``cash_only_npv``,
        ``saving_vs_cash``, ``credit_average``, ``credit_start``.
    caveats : tuple of str
        The regime's warnings (effective date), provisional status and the cap's status.
    """

    regime: str
    currency: str
    horizon_years: int
    assumptions: CostAssumptions
    programmes: tuple[ProgrammeCost, ...]
    best: ProgrammeCost
    cash_only: ProgrammeCost
    best_assessment: ReserveAssessment
    candidates: tuple[Candidate, ...]
    skipped_overlap: tuple[str, ...] = ()
    pricing_note: str = ""
    start: dt.date | None = None
    renewal: str = ""
    samples_per_year: int = 24
    cap_scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    caveats: tuple[str, ...] = ()
    regime_obj: Any = None

    @property
    def saving_vs_cash(self) -> float:
        """NPV of cash only minus NPV of the cheapest compliant programme."""
        return self.cash_only.npv - self.best.npv

    def to_dict(self) -> dict[str, Any]:
        a = self.assumptions
        ba = self.best_assessment
        reg = ba.regime
        return {
            "regime": self.regime, "currency": self.currency, "horizon_years": self.horizon_years,
            "regime_status": reg.status, "provisional": reg.provisional, "regime_effective": reg.effective.isoformat(),
            "cap": {"share": ba.cap_share, "status": reg.credit.cap_share.status,
                    "source": reg.credit.cap_share.source},
            "caveats": list(self.caveats),
            "horizon_start": self.start.isoformat() if self.start else None,
            "renewal": self.renewal, "samples_per_year": self.samples_per_year,
            "assumptions": {k: getattr(a, k) for k in ("funding_cost", "reserve_yield", "discount_rate", "lgd",
                                                        "expected_loss_ratio", "basis_risk_load", "pd_1y")},
            "assumption_sources": a.provenance,
            "candidates": [{"policy_id": c.policy.policy_id, "currency": c.policy.currency,
                            "deductible": c.policy.deductible, "attachment": c.policy.attachment_point,
                            "aggregate_deductible": c.policy.aggregate_deductible,
                            "limit": c.policy.limit, "aggregate_limit": c.policy.aggregate_limit,
                            "reinstatements": c.policy.reinstatements, "coinsurance": c.policy.coinsurance,
                            "inception": c.policy.inception.isoformat(), "expiry": c.policy.expiry.isoformat(),
                            "insurer_rating": c.policy.insurer_rating, "premium": c.premium,
                            "expected_recovery": c.expected_recovery, "basis": c.basis} for c in self.candidates],
            "best": self.best.to_dict(),
            "cash_only": self.cash_only.to_dict(),
            "saving_vs_cash": self.saving_vs_cash,
            "cap_scenarios": self.cap_scenarios,
            "programmes": [p.to_dict() for p in self.programmes],
            "skipped_overlapping": list(self.skipped_overlap[:MAX_SKIPPED_LISTED]),
            "skipped_overlapping_count": len(self.skipped_overlap),
            "pricing_note": self.pricing_note,
            "best_assessment": ba.to_dict(),
        }

    def to_table(self, top: int = 15) -> str:
        cur = self.currency
        a = self.assumptions
        reg = self.best_assessment.regime
        prov = " (PROVISIONAL)" if reg.provisional else ""
        out = [f"Insurance vs cash under {self.regime}{prov} over {self.horizon_years} years from {self.start} "
               f"(amounts in {cur}, NPV at {a.discount_rate:.1%})"]
        out += [f"WARNING: {c}" for c in self.caveats]
        out += [f"carry cost of cash = funding {a.funding_cost:.2%} − reserve yield {a.reserve_yield:.2%} = "
                f"{a.funding_cost - a.reserve_yield:.2%}/yr; LGD {a.lgd:.0%}; basis-risk load {a.basis_risk_load:.0%} "
                "[all assumptions unless overridden]",
                f"renewal [assumption]: {self.renewal} ({self.samples_per_year} dates a year)"]
        if self.pricing_note:
            out.append(self.pricing_note)
        out.append("")
        hdr = (f"  {'programme':<40}{'ok':<4}{'credit day 1':>15}{'credit avg':>15}{'cash avg':>15}"
               f"{'gap carry/yr':>14}{'premium/yr':>14}{'E[recov]/yr':>13}{'default/yr':>11}{'basis cost/yr':>14}"
               f"{'NPV cost':>15}")
        out.append(hdr)
        for p in self.programmes[:top]:
            out.append(f"  {p.label[:39]:<40}{'yes' if p.compliant else 'no':<4}{p.credit_start:>15,.0f}"
                       f"{p.credit:>15,.0f}{p.residual_cash:>15,.0f}{p.gap_cost:>14,.0f}{p.premium:>14,.0f}"
                       f"{p.expected_recovery:>13,.0f}{p.default_cost:>11,.0f}{p.basis_cost:>14,.0f}{p.npv:>15,.0f}")
        if len(self.programmes) > top:
            out.append(f"  ... {len(self.programmes) - top} more (see --json)")
        out.append("  credit day 1: on the horizon's first day; credit avg: averaged through the horizon as the residual "
                   "term runs off and the policies renew; cash avg: requirement − credit avg; gap carry/yr: carry of "
                   "(credit day 1 − credit avg), cash that covers the decay")
        out.append("  premium/yr: premiums as charged (loaded); basis cost/yr: basis-risk load × expected uncovered "
                   "loss inside the credited band")
        if self.skipped_overlap:
            out.append(f"  {len(self.skipped_overlap)} programme(s) left out: their policies insure the same losses "
                       "twice (--allow-overlap to cost them)")
        bad = [p for p in self.programmes if not p.compliant]
        if bad:
            out += ["", "Ineligible programmes (no credit; why):"]
            for p in bad:
                out.append(f"  {p.label}: " + " | ".join(p.ineligible_reasons))
        out += ["", f"cheapest compliant: {self.best.label}: NPV {self.best.npv:,.0f} vs cash only "
                f"{self.cash_only.npv:,.0f} (saving {self.saving_vs_cash:,.0f}); credit {self.best.credit_start:,.0f} "
                f"on day 1, {self.best.credit:,.0f} on average, peak cash {self.best.peak_cash:,.0f}"]
        if self.cap_scenarios:
            out += ["", f"Cap scenarios (the regime's cap {self.best_assessment.cap_share:.0%} is "
                    f"[{reg.credit.cap_share.status}]): the best programme under each"]
            for name, sc in self.cap_scenarios.items():
                out.append(f"  {name:<8} cap {sc['cap_share']:>5.0%}  best {sc['best'][:44]:<45} NPV "
                           f"{sc['npv']:>15,.0f}  saving vs cash {sc['saving_vs_cash']:>15,.0f}")
        return "\n".join(out) + "\n"
