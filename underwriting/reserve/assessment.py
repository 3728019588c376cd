"""The reserve assessment: requirement, policy tests, tower credit, cap, residual cash, audit trail.

Entry point: :func:`assess`. The result, :class:`ReserveAssessment`, renders as a table for
people (:meth:`ReserveAssessment.to_table`) and as JSON-ready data for systems
(:meth:`ReserveAssessment.to_dict`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from underwriting.domain.currency import FxTable
from underwriting.domain.message import data, date, money, msg, num, seq, term, text
from underwriting.domain.policy import PolicyTerms
from underwriting.domain.submission import Submission
from underwriting.errors import InputError
from underwriting.i18n import N_
from underwriting.reserve.allocation import allocate
from underwriting.reserve.assessment_result import PolicyCredit, ReserveAssessment  # noqa: F401 - re-exported
from underwriting.reserve.figures import Check, FxLog
from underwriting.reserve.regime import Regime, load_regime
from underwriting.reserve.requirement import compute_requirement
from underwriting.reserve.rules import evaluate_policy, policy_factor
from underwriting.reserve.tower import (
    Component,
    Layer,
    cell_width,
    component_credit,
    components,
    coverage_share,
    layer_in_component,
    overlaps,
    payable_amount,
    segments,
)
from underwriting.reserve.tower import (
    cell_weights as _cell_weights,
)

ENGINE_SRC = "underwriting reserve engine"
#: A loss quantile the risk-based sizing scenario can use: ``q -> amount`` in the submission currency,
#: or an object with ``value_at_risk(q)`` (an aggregate distribution of annual ground-up loss).
AnnualLoss = Any


def _quantile(annual_loss: AnnualLoss, q: float) -> float:
    if hasattr(annual_loss, "value_at_risk"):
        return float(annual_loss.value_at_risk(q))
    if callable(annual_loss):
        return float(annual_loss(q))
    raise TypeError("annual_loss must be callable q -> amount or have value_at_risk(q)")


def assess(
    submission: Submission | str | Path,
    policies: Sequence[PolicyTerms | str | Path],
    regime: str | Path | Regime,
    fx: FxTable | None = None,
    *,
    as_of: dt.date | None = None,
    overrides: dict[str, Any] | None = None,
    annual_loss: AnnualLoss | None = None,
    loss_model_note: str = "",
    fx_year: int | None = None,
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
        ``"hk-sfc-vatp"``, ``"ae-vara"``), a path to a regime TOML file, or a loaded regime.
    fx : FxTable, optional
        Rates for converting policy and regime amounts into the submission's currency (default: the
        bundled dated table if installed). Needed only when currencies differ; a missing rate
        raises :class:`InputError` naming the currency.
    as_of : date, optional
        Assessment date (default: the submission's ``as_of``); residual terms run from
        ``max(as_of, inception)``. Before the regime's effective date the assessment carries a warning.
    overrides : dict, optional
        Regime parameter overrides, ``{"credit.cap_share": 0.2}`` (see :meth:`Regime.with_overrides`).
    annual_loss : callable or distribution, optional
        The exchange's annual ground-up customer loss over all custody tiers, in the submission
        currency: ``q -> amount`` or an object with ``value_at_risk(q)``. Used by a regime's
        risk-based sizing scenario (the reserve layer takes the loss model as an input; the CLI and
        the quote build it from the same frequency and severity the quote uses).
    loss_model_note : str
        One line describing ``annual_loss`` for the audit trail.
    fx_year : int, optional
        Year of the conversion rates (default: the assessment date's year); the credit through the
        term (:mod:`underwriting.reserve.term`) holds the rates of the horizon's start.

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
    log = FxLog(fx if fx is not None else default_fx(), fx_year or when.year)
    req = compute_requirement(sub, reg, log)
    r = req.amount
    comps = components(reg, sub, req)
    has_coverage_rule = any(rule.kind == "coverage" for rule in reg.rules)
    coverage_rule = next((rule for rule in reg.rules if rule.kind == "coverage"), None)
    cells = list(comps[0].cells())

    checks: list[Check] = []
    layers: list[Layer] = []
    for pol in pols:
        pc = evaluate_policy(reg, pol, when)
        factor = policy_factor(pc)
        if pol.coinsurance < 1.0:
            pc.append(Check.of("engine.coinsurance", "haircut", 1.0 - pol.coinsurance,
                               msg(N_("insurer pays {share} of each covered loss"), share=num(pol.coinsurance, ".0%")),
                               f"policy terms; {ENGINE_SRC}", pol.policy_id, "input"))
        factor *= pol.coinsurance
        for exc, p in reg.other_exclusion_haircuts.items():
            if exc in pol.exclusions:
                h = float(p.value)
                pc.append(Check.of(f"exclusion.{exc}", "haircut" if h > 0 else "info", h,
                                   msg(N_("policy excludes {exclusion}: {haircut} haircut (wording decides how much "
                                             "it bites)"), exclusion=term(exc), haircut=num(h, ".0%")),
                                   f"{p.source} [{p.status}]", pol.policy_id, p.status))
                factor *= 1.0 - h
        purpose = f"policy {pol.policy_id} layer"
        att = log.convert(pol.attachment_point + pol.aggregate_deductible, pol.currency, req.currency, purpose)
        lim = log.convert(pol.limit, pol.currency, req.currency, purpose)
        widths = {}
        for cell in cells:
            w = cell_width(pol, cell[0], cell[1], pol.limit) if has_coverage_rule else pol.limit
            widths[cell] = log.convert(w, pol.currency, req.currency, purpose)
        payable = log.convert(payable_amount(pol), pol.currency, req.currency, purpose)
        layer = Layer(pol.policy_id, att, lim, widths, factor, payable)
        if coverage_rule is not None:
            pc.append(_coverage_check(coverage_rule, pol, layer, comps, req.currency))
        layers.append(layer)
        checks.extend(pc)

    alloc = allocate(layers, comps)
    comp_credits = alloc.component_credits
    raw = sum(comp_credits)
    cap_share = float(reg.credit.cap_share.value)
    credit = min(raw, cap_share * r)
    pcs = []
    for n, (pol, L) in enumerate(zip(pols, layers, strict=True)):
        _, share = coverage_share(L, comps)
        alone = allocate([L], comps)
        per = []
        for j, k in enumerate(comps):
            info = layer_in_component(L, k)
            per.append({"component": k.name, "amount": k.amount, "band_from": info["band_from"],
                        "band_to": info["band_to"], "covered_share": info["covered_share"], "factor": L.factor,
                        "credit": alone.policy_credits[0][j], "credit_in_tower": alloc.policy_credits[n][j]})
        pcs.append(PolicyCredit(L.policy_id, pol.currency, L.factor > 0, L.factor, L.attachment,
                                L.attachment + L.limit, share, alone.total, tuple(per), L.payable,
                                L.factor * L.payable if math.isfinite(L.payable) else math.inf,
                                sum(alloc.policy_credits[n]), _reasons(pc)))

    eng: list[Check] = []
    if when < reg.effective:
        eng.append(Check.of("engine.effective_date", "warning", 0.0,
                            msg(N_("assessed at {as_of}, before the regime's effective date {effective}: the rules "
                                      "may change before they apply; figures are a forecast, not a compliance "
                                      "position"), as_of=date(when), effective=date(reg.effective)),
                            f"regime effective date [{reg.status}]", None, reg.status))
    cur = req.currency
    eng.append(Check.of("engine.requirement", "info", 0.0,
                        msg(N_("requirement {amount}: {formula}"), amount=money(r, cur), formula=data(req.formula)),
                        f"{reg.requirement.method}; see inputs", None, "computed"))
    if len(comps) > 1:
        parts = seq((msg(N_("{component} {amount} earns {credit}"), component=term(k.name),
                         amount=money(k.amount, cur, unit=False), credit=money(c, cur, unit=False))
                     for k, c in zip(comps, comp_credits, strict=True)), "; ")
        eng.append(Check.of("engine.components", "info", 0.0,
                            msg(N_("credit measured per requirement component, each capped at its own amount: "
                                      "{parts}"), parts=parts), ENGINE_SRC, None, "computed"))
    if layers:
        top = max(k.amount for k in comps)
        low = min(L.attachment for L in layers)
        if low > 0:
            eng.append(Check.of("engine.retention", "info", 0.0,
                                msg(N_("the first {amount} of each component's losses lies below the lowest "
                                          "attachment (deductible): it stays in the cash reserve"),
                                       amount=money(min(low, top), cur)), ENGINE_SRC, None, "computed"))
        for a, b, lo, hi in overlaps(layers, top):
            eng.append(Check.of("engine.tower_overlap", "info", 0.0,
                                msg(N_("{a} and {b} overlap on {low} to {high}: counted once, at the better factor"),
                                       a=text(a), b=text(b), low=money(lo, cur, unit=False),
                                       high=money(hi, cur, unit=False)), ENGINE_SRC, None, "computed"))
    for pid in alloc.binding:
        L = next(x for x in layers if x.policy_id == pid)
        eng.append(Check.of("engine.payable", "info", 0.0,
                            msg(N_("{policy} can pay at most {payable} over its period (aggregate limit, or limit × "
                                      "(1 + reinstatements)); its credit over all components is held to factor × that "
                                      "= {held}, allocated to the components in order ({components})"),
                                   policy=text(pid), payable=money(L.payable, cur),
                                   held=money(L.factor * L.payable, cur, unit=False),
                                   components=seq((term(k.name) for k in comps), ", ")),
                            ENGINE_SRC, pid, "computed"))
    cp = reg.credit.cap_share
    if raw > cap_share * r + 1e-9:
        eng.append(Check.of("credit.cap", "haircut", 1.0 - credit / raw if raw > 0 else 0.0,
                            msg(N_("credit {raw} capped at {cap} of the requirement = {credit}"),
                                   raw=money(raw, cur, unit=False), cap=num(cap_share, ".0%"),
                                   credit=money(credit, cur, unit=False)),
                            f"{cp.source} [{cp.status}]", None, cp.status))
    else:
        eng.append(Check.of("credit.cap", "pass", 0.0,
                            msg(N_("credit {raw} within the cap of {cap} of the requirement ({amount})"),
                                   raw=money(raw, cur, unit=False), cap=num(cap_share, ".0%"),
                                   amount=money(cap_share * r, cur, unit=False)),
                            f"{cp.source} [{cp.status}]", None, cp.status))
    scen = {name: {"cap_share": s, "credit": min(raw, s * r), "residual_cash": r - min(raw, s * r)}
            for name, s in reg.credit.scenarios.items()}
    sizing = _risk_sizing(reg, comps, layers, cap_share, log, req.currency, annual_loss, loss_model_note)
    return ReserveAssessment(reg, when, req.currency, req, raw, cap_share, credit, tuple(eng + checks),
                             tuple(pcs), tuple(segments(layers, max((k.amount for k in comps), default=r))),
                             tuple(log.uses), _cell_weights(comps), scen, tuple(layers), tuple(comps), comp_credits,
                             sizing)


def _risk_sizing(reg: Regime, comps: list[Component], layers: list[Layer], cap_share: float, log: FxLog,
                 cur: str, annual_loss: AnnualLoss | None, note: str) -> dict[str, Any] | None:
    """The regime's risk-based sizing scenario (``None`` if the regime has none)."""
    rs = reg.risk_sizing
    if rs is None:
        return None
    q = float(rs.quantile.value)
    lo = log.convert(float(rs.band_low.value), reg.currency, cur, "risk sizing sanity band")
    hi = log.convert(float(rs.band_high.value), reg.currency, cur, "risk sizing sanity band")
    out: dict[str, Any] = {"status": rs.status, "source": rs.source, "description": rs.description,
                           "quantile": q, "quantile_status": rs.quantile.status, "band_low": lo, "band_high": hi,
                           "amount": None, "credit": None, "residual_cash": None, "position": None,
                           "loss_model": note}
    if annual_loss is None:
        out["note"] = ("no loss model given (the CLI's reserve command and the quote build it from the quote's "
                       "frequency and severity)")
        return out
    amount = _quantile(annual_loss, q)
    if not amount >= 0 or amount == float("inf"):
        raise InputError(f"the loss model's {pct(q)} quantile is {amount!r}, not a finite amount",
                         field="risk_sizing.quantile")
    # the same programme against the scenario's requirement: one component over all tiers
    mix: dict[str, float] = {}
    total = sum(k.amount for k in comps)
    for k in comps:
        for t, s in k.tier_mix.items():
            mix[t] = mix.get(t, 0.0) + (k.amount / total if total > 0 else 1.0 / len(comps)) * s
    comp = Component("all tiers", amount, mix, dict(comps[0].cause_weights))
    raw = component_credit(layers, comp)
    credit = min(raw, cap_share * amount)
    pos = ("inside the band" if lo <= amount <= hi else
           f"below the band ({amount / lo:.2f}× its low end)" if amount < lo else
           f"above the band ({amount / hi:.2f}× its high end)")
    note = ""
    if hasattr(annual_loss, "tail_value_at_risk"):
        p_any = float(annual_loss.p_any_loss)
        tvar = float(annual_loss.tail_value_at_risk(q))
        # the q quantile of the loss in a year that has a loss: P(S <= x | S > 0) = q <=> P(S <= x) = 1 - p(1 - q)
        cond = _quantile(annual_loss, 1.0 - p_any * (1.0 - q)) if p_any > 0 else 0.0
        out.update(p_any_loss=p_any, tvar=tvar, conditional_quantile=cond,
                   tvar_credit=min(component_credit(layers, Component("all tiers", tvar, mix,
                                                                      dict(comps[0].cause_weights))), cap_share * tvar),
                   conditional_credit=min(component_credit(layers, Component("all tiers", cond, mix,
                                                                             dict(comps[0].cause_weights))),
                                          cap_share * cond))
        if p_any < 1.0 - q:
            note = (f"P(any loss in a year) = {p_any:.2%} is below {pct(1.0 - q)}, so the {pct(q)} quantile is "
                    f"{'0' if amount == 0 else 'set by the loss-free years'}: a quantile-sized reserve would hold "
                    f"{'nothing' if amount == 0 else 'little'}; the TVaR at the same level and the {pct(q)} quantile "
                    "of a loss year are shown beside it")
    out.update(amount=amount, credit=credit, residual_cash=amount - credit, position=pos, note=note)
    return out


def pct(q: float) -> str:
    """A probability as a percentage with the digits it needs: 0.995 → ``99.5%``, 0.9999 → ``99.99%``."""
    text = f"{q * 100:.6f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _reasons(checks: list[Check]) -> tuple[str, ...]:
    """Why a policy is ineligible: ``rule: reason`` of each failed check (empty if eligible)."""
    return tuple(f"{c.rule}: {c.reason}" for c in checks if c.outcome == "fail")


def default_fx() -> FxTable:
    """The bundled dated FX table if it is installed, else an empty table (conversions then ask for
    ``--fx``)."""
    try:
        return FxTable.bundled()
    except (FileNotFoundError, OSError, InputError):
        return FxTable()


def _coverage_check(rule, pol: PolicyTerms, layer: Layer, comps: list[Component], cur: str) -> Check:
    """The coverage rule on one policy's layer (widths in ``cur``, the requirement's currency)."""
    src = f"{rule.source} [{rule.status}]"
    infos = [(k, layer_in_component(layer, k)) for k in comps]
    if all(i["band"] <= 0 for _, i in infos):
        return Check.of(rule.rule, "info", 0.0, msg(N_("the layer attaches above every requirement component: it "
                                                          "replaces nothing")), src, pol.policy_id, rule.status)
    gaps = []
    for k, _ in infos:
        live = [(cell, w) for cell, w in k.cells().items() if w > 0]
        if len(comps) > 1 and live and all(layer.widths[cell] <= 0 for cell, _ in live):
            gaps.append(msg(N_("{component} component not covered at all (no credit there)"), component=term(k.name)))
            continue
        for (t, c), w in k.cells().items():
            if w <= 0:
                continue
            where = (msg(N_("{tier}/{cause}"), tier=term(t), cause=term(c)) if len(comps) == 1
                     else msg(N_("{component} component: {cause}"), component=term(k.name), cause=term(c)))
            if layer.widths[(t, c)] <= 0:
                gaps.append(msg(N_("{where} not covered (weight {weight})"), where=where, weight=num(w, ".1%")))
            elif layer.attachment + layer.widths[(t, c)] < min(layer.attachment + layer.limit, k.amount):
                gaps.append(msg(N_("{where} sub-limited to {amount} (weight {weight})"), where=where,
                                amount=money(layer.widths[(t, c)], cur, ",.0f", unit=False),
                                weight=num(w, ".1%")))
    _, share = coverage_share(layer, comps)
    if not gaps:
        return Check.of(rule.rule, "pass", 0.0, msg(N_("covers every tier and cause the reserve is for")), src,
                        pol.policy_id, rule.status)
    return Check.of(rule.rule, "haircut", 1.0 - share,
                    msg(N_("coverage mismatch: {gaps}; covered {share} of its band in the components it answers "
                              "for (applied per component and cell in the tower; components it does not answer for "
                              "earn nothing)"), gaps=seq(gaps, "; "), share=num(share, ".1%")),
                    src, pol.policy_id, rule.status)
