"""The result of a reserve assessment: :class:`ReserveAssessment` and its :class:`PolicyCredit` rows.

Built by :func:`underwriting.reserve.assessment.assess`; renders as a table for people
(:meth:`ReserveAssessment.to_table`) and as JSON-ready data for systems
(:meth:`ReserveAssessment.to_dict`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from underwriting.reserve.figures import Check, FxUse
from underwriting.reserve.regime import Regime
from underwriting.reserve.requirement import Requirement
from underwriting.reserve.tower import (
    Component,
    Layer,
)


@dataclass(frozen=True)
class PolicyCredit:
    """One policy's place in the tower.

    Attributes
    ----------
    attachment, exhaustion : float
        Band ``[attachment, attachment + limit]`` in the requirement currency.
    factor : float
        Credit factor (0 if ineligible).
    coverage_share : float
        Cell-weighted share of the policy's band that its perils cover, over the requirement
        components it answers for (0 if it answers for none).
    standalone_credit : float
        Credit the policy would earn alone, before the regime cap, in the requirement currency.
    components : tuple of dict
        Per component: ``component``, ``amount``, ``band_from``, ``band_to``, ``covered_share``,
        ``factor``, ``credit`` (alone, before the cap) and ``credit_in_tower`` (its share of the
        programme's credit, before the cap).
    payable : float
        Most loss the insurer pays on over the period (aggregate limit, or limit × (1 +
        reinstatements)), converted; ``inf`` for no bound.
    credit_bound : float
        ``factor × payable``: the most credit the policy supplies over all components.
    credit_in_tower : float
        The policy's part of the programme's credit before the cap (≤ ``credit_bound``).
    ineligible_reasons : tuple of str
        ``rule: reason`` of every failed test (empty when eligible).
    """

    policy_id: str
    currency: str
    eligible: bool
    factor: float
    attachment: float
    exhaustion: float
    coverage_share: float
    standalone_credit: float
    components: tuple[dict[str, Any], ...] = ()
    payable: float = float("inf")
    credit_bound: float = float("inf")
    credit_in_tower: float = 0.0
    ineligible_reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["components"] = [dict(c) for c in self.components]
        d["ineligible_reasons"] = list(self.ineligible_reasons)
        for k in ("payable", "credit_bound"):  # JSON has no infinity: null means no bound
            if d[k] == float("inf"):
                d[k] = None
        return d


@dataclass(frozen=True)
class ReserveAssessment:
    """How much of a regime's requirement a set of policies replaces, and why.

    All amounts are in ``currency`` (the submission's). ``credit = min(credit_before_cap,
    cap_share × requirement)`` with ``credit_before_cap = Σ_k C_k`` over the requirement components
    (:mod:`underwriting.reserve.tower`); ``residual_cash = requirement − credit``.
    """

    regime: Regime
    as_of: dt.date
    currency: str
    requirement: Requirement
    credit_before_cap: float
    cap_share: float
    credit: float
    checks: tuple[Check, ...]
    policies: tuple[PolicyCredit, ...]
    segments: tuple[dict[str, Any], ...]
    fx: tuple[FxUse, ...]
    cell_weights: dict[tuple[str, str], float]
    scenarios: dict[str, dict[str, float]]
    layers: tuple[Layer, ...] = ()
    components: tuple[Component, ...] = ()
    component_credits: tuple[float, ...] = ()
    risk_sizing: dict[str, Any] | None = None

    @property
    def credit_share(self) -> float:
        """Credit ÷ requirement (0 when the requirement is 0)."""
        r = self.requirement.amount
        return self.credit / r if r > 0 else 0.0

    @property
    def residual_cash(self) -> float:
        """Cash reserve still to hold: requirement − credit."""
        return max(0.0, self.requirement.amount - self.credit)

    @property
    def cap_amount(self) -> float:
        return self.cap_share * self.requirement.amount

    @property
    def warnings(self) -> tuple[Check, ...]:
        """Checks flagging the assessment itself (e.g. a regime assessed before its effective date)."""
        return tuple(c for c in self.checks if c.outcome == "warning")

    def component_table(self) -> list[dict[str, Any]]:
        """Per requirement component: amount, tier mix, credit before the cap and per-policy bands."""
        out = []
        for i, (k, ck) in enumerate(zip(self.components, self.component_credits, strict=True)):
            out.append({"component": k.name, "amount": k.amount, "tier_mix": dict(k.tier_mix),
                        "credit_before_cap": ck,
                        "policies": [{"policy_id": p.policy_id, **{x: p.components[i][x] for x in (
                            "band_from", "band_to", "covered_share", "factor", "credit", "credit_in_tower")}}
                                     for p in self.policies]})
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (keys: ``regime``, ``requirement``, ``credit``, ``credit_share``,
        ``residual_cash``, ``currency``, ``components``, ``warnings``, ``checks`` and details)."""
        reg = self.regime
        return {
            "regime": reg.id,
            "regime_name": reg.name,
            "regime_version": reg.version,
            "regime_effective": reg.effective.isoformat(),
            "regime_status": reg.status,
            "provisional": reg.provisional,
            "requirement_only": reg.requirement_only,
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "requirement": self.requirement.amount,
            "credit": self.credit,
            "credit_share": self.credit_share,
            "residual_cash": self.residual_cash,
            "credit_before_cap": self.credit_before_cap,
            "cap": {"share": self.cap_share, "amount": self.cap_amount,
                    "status": reg.credit.cap_share.status, "source": reg.credit.cap_share.source},
            "requirement_detail": self.requirement.to_dict(),
            "components": self.component_table(),
            "policies": [p.to_dict() for p in self.policies],
            "tower": list(self.segments),
            "coverage_weights": {f"{t}/{c}": w for (t, c), w in self.cell_weights.items()},
            "fx": [u.to_dict() for u in self.fx],
            "scenarios": self.scenarios,
            "risk_sizing": self.risk_sizing,
            "facts": [f.model_dump(mode="json") for f in reg.facts],
            "choices": [{**c.model_dump(mode="json"), "in_effect": c.in_effect} for c in reg.choices],
            "warnings": [c.reason for c in self.warnings],
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_table(self) -> str:
        """Human-readable assessment (deterministic: used for golden files)."""
        reg, cur = self.regime, self.currency
        out = []
        prov = " (PROVISIONAL)" if reg.provisional else ""
        out.append(f"Reserve assessment: {reg.name}{prov}")
        out.append(f"regime {reg.id} v{reg.version}, effective {reg.effective}, status {reg.status}; "
                   f"assessed at {self.as_of}; amounts in {cur}")
        for w in self.warnings:
            out.append(f"WARNING: {w.reason}")
        out.append("")
        out.append(f"Requirement: {self.requirement.formula}")
        for f in self.requirement.inputs:
            out.append(f"  in   {f.name:<36} {_fmt(f.value):>22} {f.unit:<10} [{f.status}]")
        for f in self.requirement.steps:
            out.append(f"  step {f.name:<68} {_fmt(f.value):>22} {f.unit}")
        if self.fx:
            out.append("FX rates used (amount_to = amount_from × rate):")
            for u in self.fx:
                out.append(f"  {u.from_currency}->{u.to_currency} {u.year}: {u.rate:.6g} ({u.purpose}; {u.basis})")
        if reg.facts:
            out.append("")
            out.append("Facts the regime file relies on:")
            for fct in reg.facts:
                when = f" ({fct.date})" if fct.date else ""
                out.append(f"  [{fct.status}] {fct.fact}{when}")
                out.append(f"  {'':<12}source: {fct.source}")
        for ch in reg.choices:
            out.append("")
            out.append(f"Scenario choice {ch.name} ({ch.description}); in effect: {ch.in_effect}"
                       f"{'' if ch.selected else ' (default)'}; change with --param choices.{ch.name}=OPTION")
            for label, opt in ch.options.items():
                mark = "*" if label == ch.in_effect else " "
                out.append(f"  {mark} {label:<12} [{opt.status}] {opt.reading}")
                out.append(f"  {'':<15}source: {opt.source}")
        out.append("")
        if reg.requirement_only:
            out.append("Requirement only: this regime states no way for insurance to meet it (credit cap 0%).")
            out.append("")
        out.append("Policies (bands in the requirement currency):")
        if not self.policies:
            out.append("  none")
        for p in self.policies:
            pays = "no aggregate bound" if p.payable == float("inf") else f"pays at most {_fmt(p.payable)}"
            out.append(f"  {p.policy_id:<24} {'eligible' if p.eligible else 'INELIGIBLE':<10} "
                       f"band {_fmt(p.attachment)} to {_fmt(p.exhaustion)}  factor {p.factor:.4f}  "
                       f"coverage {p.coverage_share:.1%}  alone {_fmt(p.standalone_credit)}  {pays}  "
                       f"in the tower {_fmt(p.credit_in_tower)}")
            for why in p.ineligible_reasons:
                out.append(f"  {'':<24} ineligible: {why}")
        out.append("")
        out.append("Credit by requirement component (tier; causes weighted inside; before the cap):")
        for row in self.component_table():
            mix = ", ".join(f"{t} {s:.1%}" for t, s in row["tier_mix"].items())
            out.append(f"  {row['component']:<10} amount {_fmt(row['amount']):>22}  credit "
                       f"{_fmt(row['credit_before_cap']):>22}  (losses from: {mix})")
            for pp in row["policies"]:
                out.append(f"    {pp['policy_id']:<22} band {_fmt(pp['band_from'])} to {_fmt(pp['band_to'])}  "
                           f"covered {pp['covered_share']:.1%}  factor {pp['factor']:.4f}  "
                           f"alone {_fmt(pp['credit'])}  in the tower {_fmt(pp['credit_in_tower'])}")
        out.append("")
        out.append("Checks:")
        for c in self.checks:
            who = c.policy or "-"
            hc = f"{c.haircut:.1%}" if c.outcome == "haircut" else ""
            out.append(f"  [{c.outcome:<7}] {who:<20} {c.rule:<34} {hc:>6}  {c.reason}")
            out.append(f"  {'':<10}{'':<20} source: {c.source}")
        out.append("")
        w = max(len(cur) + 22, 24)
        out.append(f"  {'requirement':<34}{_fmt(self.requirement.amount):>{w}}")
        out.append(f"  {'credit before cap':<34}{_fmt(self.credit_before_cap):>{w}}")
        out.append(f"  {f'cap ({self.cap_share:.0%} of requirement)':<34}{_fmt(self.cap_amount):>{w}}")
        out.append(f"  {'credit':<34}{_fmt(self.credit):>{w}}")
        out.append(f"  {'credit share':<34}{self.credit_share:>{w}.2%}")
        out.append(f"  {'residual cash reserve':<34}{_fmt(self.residual_cash):>{w}}")
        if self.scenarios:
            out.append("")
            out.append("Scenarios for the insurance share cap:")
            for name, s in self.scenarios.items():
                out.append(f"  {name:<10} cap {s['cap_share']:>5.0%}  credit {_fmt(s['credit']):>22}  "
                           f"residual cash {_fmt(s['residual_cash']):>22}")
        rs = self.risk_sizing
        if rs is not None:
            out.append("")
            out.append(f"Risk-based sizing scenario [{rs['status']}]: {rs['description']}")
            if rs.get("amount") is None:
                out.append(f"  not computed: {rs['note']}")
            else:
                out.append(f"  {_pct(rs['quantile'])} quantile of annual ground-up customer loss (all custody tiers)"
                           f"{_fmt(rs['amount']):>24} {cur}")
                out.append(f"  precedent sanity band {_fmt(rs['band_low'])} to {_fmt(rs['band_high'])} {cur}: "
                           f"{rs['position']}")
                out.append(f"  credit against it (same programme, cap {self.cap_share:.0%}) "
                           f"{_fmt(rs['credit']):>22}; residual cash {_fmt(rs['residual_cash'])}")
                if rs.get("tvar") is not None:
                    out.append(f"  P(any loss in a year) {rs['p_any_loss']:.2%}; beside the quantile:")
                    out.append(f"    TVaR at {_pct(rs['quantile'])} (mean loss beyond the quantile) "
                               f"{_fmt(rs['tvar']):>24} {cur}; credit against it {_fmt(rs['tvar_credit'])}")
                    out.append(f"    {_pct(rs['quantile'])} quantile of a year with a loss "
                               f"{_fmt(rs['conditional_quantile']):>24} {cur}; credit against it "
                               f"{_fmt(rs['conditional_credit'])}")
                if rs.get("note"):
                    out.append(f"  note: {rs['note']}")
                out.append(f"  loss model: {rs['loss_model']}")
            out.append(f"  source: {rs['source']}")
        return "\n".join(out) + "\n"


def _pct(q: float) -> str:
    text = f"{q * 100:.6f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _fmt(v: float | str | bool) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if v != 0 and abs(v) < 100 and v != round(v, 2):
        return f"{v:.6g}"
    return f"{v:,.2f}"
