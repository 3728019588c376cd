"""The reserve assessment: requirement, policy tests, tower credit, cap, residual cash, audit trail.

Entry point: :func:`assess`. The result, :class:`ReserveAssessment`, renders as a table for
people (:meth:`ReserveAssessment.to_table`) and as JSON-ready data for systems
(:meth:`ReserveAssessment.to_dict`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from underwriting.domain.currency import FxTable
from underwriting.domain.policy import PolicyTerms
from underwriting.domain.submission import Submission
from underwriting.errors import InputError
from underwriting.reserve.figures import Check, FxLog, FxUse
from underwriting.reserve.regime import Regime, load_regime
from underwriting.reserve.requirement import Requirement, compute_requirement
from underwriting.reserve.rules import evaluate_policy, policy_factor
from underwriting.reserve.tower import (
    Layer,
    cell_weights,
    cell_width,
    coverage_share,
    overlaps,
    segments,
    tower_credit,
)

ENGINE_SRC = "underwriting reserve engine"


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
        Weighted share of the policy's band inside the requirement that its perils cover.
    standalone_credit : float
        Credit the policy would earn alone, before the regime cap, in the requirement currency.
    """

    policy_id: str
    currency: str
    eligible: bool
    factor: float
    attachment: float
    exhaustion: float
    coverage_share: float
    standalone_credit: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ReserveAssessment:
    """How much of a regime's requirement a set of policies replaces, and why.

    All amounts are in ``currency`` (the submission's). ``credit = min(credit_before_cap,
    cap_share × requirement)``; ``residual_cash = requirement − credit``.
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (keys: ``regime``, ``requirement``, ``credit``, ``credit_share``,
        ``residual_cash``, ``currency``, ``checks`` and details)."""
        reg = self.regime
        return {
            "regime": reg.id,
            "regime_name": reg.name,
            "regime_version": reg.version,
            "regime_effective": reg.effective.isoformat(),
            "regime_status": reg.status,
            "provisional": reg.provisional,
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
            "policies": [p.to_dict() for p in self.policies],
            "tower": list(self.segments),
            "coverage_weights": {f"{t}/{c}": w for (t, c), w in self.cell_weights.items()},
            "fx": [u.to_dict() for u in self.fx],
            "scenarios": self.scenarios,
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
        out.append("")
        out.append("Policies (bands in the requirement currency):")
        if not self.policies:
            out.append("  none")
        for p in self.policies:
            out.append(f"  {p.policy_id:<24} {'eligible' if p.eligible else 'INELIGIBLE':<10} "
                       f"band {_fmt(p.attachment)} to {_fmt(p.exhaustion)}  factor {p.factor:.4f}  "
                       f"coverage {p.coverage_share:.1%}  alone {_fmt(p.standalone_credit)}")
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
        return "\n".join(out) + "\n"


def _fmt(v: float | str) -> str:
    if isinstance(v, str):
        return v
    if v != 0 and abs(v) < 1:
        return f"{v:.6g}"
    return f"{v:,.2f}"


def assess(
    submission: Submission | str | Path,
    policies: Sequence[PolicyTerms | str | Path],
    regime: str | Path | Regime,
    fx: FxTable | None = None,
    *,
    as_of: dt.date | None = None,
    overrides: dict[str, Any] | None = None,
) -> ReserveAssessment:
    """Assess how much of ``regime``'s requirement ``policies`` may replace.

    Parameters
    ----------
    submission : Submission or path
        The exchange's submission (amounts in its ``exposure.currency``).
    policies : sequence of PolicyTerms or paths
        Policies forming the programme (a tower; overlaps count once).
    regime : str, Path or Regime
        Bundled regime id (``"jp-fsa-2026"``, ``"eu-mica-art67"``, ``"basel2-ama"``,
        ``"hk-sfc-vatp"``), a path to a regime TOML file, or a loaded regime.
    fx : FxTable, optional
        Rates for converting policy and regime amounts into the submission's currency (default: the
        bundled dated table if installed). Needed only when currencies differ; a missing rate
        raises :class:`InputError` naming the currency.
    as_of : date, optional
        Assessment date (default: the submission's ``as_of``); residual terms run from
        ``max(as_of, inception)``.
    overrides : dict, optional
        Regime parameter overrides, ``{"credit.cap_share": 0.2}`` (see :meth:`Regime.with_overrides`).

    Returns
    -------
    ReserveAssessment
    """
    from underwriting.domain.policy import load_policy
    from underwriting.domain.submission import load_submission

    sub = submission if isinstance(submission, Submission) else load_submission(str(submission))
    pols = [p if isinstance(p, PolicyTerms) else load_policy(str(p)) for p in policies]
    ids = [p.policy_id for p in pols]
    if len(set(ids)) != len(ids):
        pols = [p.model_copy(update={"policy_id": f"{p.policy_id}#{i + 1}"}) if ids.count(p.policy_id) > 1 else p
                for i, p in enumerate(pols)]
    reg = load_regime(regime)
    if overrides:
        reg = reg.with_overrides(overrides)
    when = as_of or sub.as_of
    log = FxLog(fx if fx is not None else default_fx(), when.year)
    req = compute_requirement(sub, reg, log)
    r = req.amount
    weights = cell_weights(reg, sub, req)
    has_coverage_rule = any(rule.kind == "coverage" for rule in reg.rules)
    coverage_rule = next((rule for rule in reg.rules if rule.kind == "coverage"), None)

    checks: list[Check] = []
    layers: list[Layer] = []
    for pol in pols:
        pc = evaluate_policy(reg, pol, when)
        factor = policy_factor(pc)
        if pol.coinsurance < 1.0:
            pc.append(Check("engine.coinsurance", "haircut", 1.0 - pol.coinsurance,
                            f"insurer pays {pol.coinsurance:.0%} of each covered loss", f"policy terms; {ENGINE_SRC}",
                            pol.policy_id, "input"))
        factor *= pol.coinsurance
        for exc, p in reg.other_exclusion_haircuts.items():
            if exc in pol.exclusions:
                h = float(p.value)
                pc.append(Check(f"exclusion.{exc}", "haircut" if h > 0 else "info", h,
                                f"policy excludes {exc}: {h:.0%} haircut (wording decides how much it bites)",
                                f"{p.source} [{p.status}]", pol.policy_id, p.status))
                factor *= 1.0 - h
        purpose = f"policy {pol.policy_id} layer"
        att = log.convert(pol.deductible + pol.aggregate_deductible, pol.currency, req.currency, purpose)
        lim = log.convert(pol.limit, pol.currency, req.currency, purpose)
        widths = {}
        for cell in weights:
            w = cell_width(pol, cell[0], cell[1], pol.limit) if has_coverage_rule else pol.limit
            widths[cell] = log.convert(w, pol.currency, req.currency, purpose)
        layer = Layer(pol.policy_id, att, lim, widths, factor)
        band, share = coverage_share(layer, weights, r)
        if coverage_rule is not None:
            pc.append(_coverage_check(coverage_rule, pol, layer, weights, band, share))
        layers.append(layer)
        checks.extend(pc)

    raw = tower_credit(layers, weights, r)
    cap_share = float(reg.credit.cap_share.value)
    credit = min(raw, cap_share * r)
    pcs = []
    for pol, L in zip(pols, layers, strict=True):
        band, share = coverage_share(L, weights, r)
        pcs.append(PolicyCredit(L.policy_id, pol.currency, L.factor > 0, L.factor, L.attachment,
                                L.attachment + L.limit, share, tower_credit([L], weights, r)))

    eng = [Check("engine.requirement", "info", 0.0,
                 f"requirement {r:,.2f} {req.currency}: {req.formula}", f"{reg.requirement.method}; see inputs",
                 None, "computed")]
    if layers:
        low = min(L.attachment for L in layers)
        if low > 0:
            eng.append(Check("engine.retention", "info", 0.0,
                             f"the first {min(low, r):,.2f} {req.currency} lies below the lowest attachment "
                             "(deductible): it stays in the cash reserve", ENGINE_SRC, None, "computed"))
        for a, b, lo, hi in overlaps(layers, r):
            eng.append(Check("engine.tower_overlap", "info", 0.0,
                             f"{a} and {b} overlap on {lo:,.2f} to {hi:,.2f}: counted once, at the better factor",
                             ENGINE_SRC, None, "computed"))
    cp = reg.credit.cap_share
    if raw > cap_share * r + 1e-9:
        eng.append(Check("credit.cap", "haircut", 1.0 - credit / raw if raw > 0 else 0.0,
                         f"credit {raw:,.2f} capped at {cap_share:.0%} of the requirement = {credit:,.2f}",
                         f"{cp.source} [{cp.status}]", None, cp.status))
    else:
        eng.append(Check("credit.cap", "pass", 0.0,
                         f"credit {raw:,.2f} within the cap of {cap_share:.0%} of the requirement "
                         f"({cap_share * r:,.2f})", f"{cp.source} [{cp.status}]", None, cp.status))
    scen = {name: {"cap_share": s, "credit": min(raw, s * r), "residual_cash": r - min(raw, s * r)}
            for name, s in reg.credit.scenarios.items()}
    return ReserveAssessment(reg, when, req.currency, req, raw, cap_share, credit, tuple(eng + checks),
                             tuple(pcs), tuple(segments(layers, r)), tuple(log.uses), weights, scen,
                             tuple(layers))


def default_fx() -> FxTable:
    """The bundled dated FX table if it is installed, else an empty table (conversions then ask for
    ``--fx``)."""
    try:
        return FxTable.bundled()
    except (FileNotFoundError, OSError, InputError):
        return FxTable()


def _coverage_check(rule, pol: PolicyTerms, layer: Layer, weights, band: float, share: float) -> Check:
    src = f"{rule.source} [{rule.status}]"
    if band <= 0:
        return Check(rule.rule, "info", 0.0, "the layer attaches above the requirement: it replaces nothing",
                     src, pol.policy_id, rule.status)
    gaps = []
    for (t, c), w in weights.items():
        if w <= 0:
            continue
        if layer.widths[(t, c)] <= 0:
            gaps.append(f"{t}/{c} not covered (weight {w:.1%})")
        elif layer.widths[(t, c)] < layer.limit:
            gaps.append(f"{t}/{c} sub-limited to {layer.widths[(t, c)]:,.0f} (weight {w:.1%})")
    if share >= 1.0 - 1e-12:
        return Check(rule.rule, "pass", 0.0, "covers every tier and cause the reserve is for", src, pol.policy_id,
                     rule.status)
    return Check(rule.rule, "haircut", 1.0 - share,
                 f"coverage mismatch: {'; '.join(gaps)}; weighted cover {share:.1%} of the band "
                 "(applied per cell in the tower)", src, pol.policy_id, rule.status)
