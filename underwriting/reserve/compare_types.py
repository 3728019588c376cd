"""Result and input types of the insurance-versus-cash comparison (:mod:`underwriting.reserve.compare`).

``CostAssumptions`` (the economic assumptions, from ``cost_assumptions.toml``), ``Candidate`` (one
policy and its price), ``ProgrammeCost`` (the cost lines of one programme) and ``Comparison``
(every programme evaluated); the formulas are in :mod:`underwriting.reserve.compare`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from underwriting.domain.policy import PolicyTerms
from underwriting.errors import InputError
from underwriting.reserve.assessment import ReserveAssessment

PriceFn = Callable[[float, float], float]


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
            if not (isinstance(v, int | float) and -1.0 < float(v) < 10.0):
                raise InputError(f"must be a number between -1 and 10 (got {v!r})", field=k)
            if k in ("lgd", "expected_loss_ratio") and not 0.0 <= v <= 1.0 + 9.0 * (k == "expected_loss_ratio"):
                raise InputError(f"out of range (got {v!r})", field=k)
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
    """Cost of one programme over the horizon (amounts in the submission currency)."""

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

    @property
    def label(self) -> str:
        return " + ".join(self.policies) if self.policies else "cash only"

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["policies"] = list(self.policies)
        d["label"] = self.label
        return d


@dataclass(frozen=True)
class Comparison:
    """All programmes evaluated, cheapest compliant first, with the assumptions used."""

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

    def to_dict(self) -> dict[str, Any]:
        a = self.assumptions
        return {
            "regime": self.regime, "currency": self.currency, "horizon_years": self.horizon_years,
            "assumptions": {k: getattr(a, k) for k in ("funding_cost", "reserve_yield", "discount_rate", "lgd",
                                                        "expected_loss_ratio", "basis_risk_load", "pd_1y")},
            "assumption_sources": a.provenance,
            "candidates": [{"policy_id": c.policy.policy_id, "currency": c.policy.currency,
                            "deductible": c.policy.deductible, "limit": c.policy.limit,
                            "insurer_rating": c.policy.insurer_rating, "premium": c.premium,
                            "expected_recovery": c.expected_recovery, "basis": c.basis} for c in self.candidates],
            "best": self.best.to_dict(),
            "cash_only": self.cash_only.to_dict(),
            "saving_vs_cash": self.cash_only.npv - self.best.npv,
            "programmes": [p.to_dict() for p in self.programmes],
            "skipped_overlapping": list(self.skipped_overlap),
            "pricing_note": self.pricing_note,
            "best_assessment": self.best_assessment.to_dict(),
        }

    def to_table(self, top: int = 15) -> str:
        cur = self.currency
        a = self.assumptions
        out = [f"Insurance vs cash under {self.regime} over {self.horizon_years} years (amounts in {cur}, NPV at "
               f"{a.discount_rate:.1%})",
               f"carry cost of cash = funding {a.funding_cost:.2%} − reserve yield {a.reserve_yield:.2%} = "
               f"{a.funding_cost - a.reserve_yield:.2%}/yr; LGD {a.lgd:.0%}; basis-risk load {a.basis_risk_load:.0%} "
               "[all assumptions unless overridden]"]
        if self.pricing_note:
            out.append(self.pricing_note)
        out.append("")
        hdr = (f"  {'programme':<44}{'ok':<4}{'credit':>18}{'residual cash':>18}{'premium/yr':>16}"
               f"{'E[recov]/yr':>16}{'default/yr':>12}{'basis cost/yr':>15}{'NPV cost':>18}")
        out.append(hdr)
        for p in self.programmes[:top]:
            out.append(f"  {p.label[:43]:<44}{'yes' if p.compliant else 'no':<4}{p.credit:>18,.0f}"
                       f"{p.residual_cash:>18,.0f}{p.premium:>16,.0f}{p.expected_recovery:>16,.0f}"
                       f"{p.default_cost:>12,.0f}{p.basis_cost:>15,.0f}{p.npv:>18,.0f}")
        if len(self.programmes) > top:
            out.append(f"  ... {len(self.programmes) - top} more (see --json)")
        out.append("  premium/yr: premiums as charged (loaded); basis cost/yr: basis-risk load × expected uncovered "
                   "loss inside the credited band")
        if self.skipped_overlap:
            out.append(f"  {len(self.skipped_overlap)} programme(s) left out: their policies insure the same losses "
                       "twice (--allow-overlap to cost them)")
        out += ["", f"cheapest compliant: {self.best.label}: NPV {self.best.npv:,.0f} vs cash only "
                f"{self.cash_only.npv:,.0f} (saving {self.cash_only.npv - self.best.npv:,.0f})"]
        return "\n".join(out) + "\n"
