"""``reserve`` and ``compare-reserve`` tables in a language other than English.

English keeps the reserve engine's own ``to_table()`` (byte for byte, the golden files); another
language is rendered here from the same result's ``to_dict()``, so the engine's logic is untouched.
Labels come from the gettext catalogue, amounts are written as the language writes money (Japanese:
``400,000,000円（4億円）``), dates as ``2027年4月1日``. Each check's reason, and the warnings (checks too), are
rendered from its catalogue template and typed arguments (:func:`underwriting.domain.message.localise`), with
the outcome in the language; the requirement's formula is translated where the catalogue has it. Texts that
are data (regime facts, legal sources, the engine's notes) stay as the regime file and the engine word them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from underwriting.domain.message import localise, outcome_label
from underwriting.i18n import _, date_long, display_width, ljust, money, money_short, percent, rjust

__all__ = ["reserve_table", "compare_table"]


def _amt(x: Any, cur: str, short: bool = False) -> str:
    if x is None:
        return _("n/a")
    text = money(float(x), cur)
    return f"{text}（{money_short(float(x), cur)}）" if short else text


def _rows(rows: list[tuple[str, str]], indent: str = "  ") -> list[str]:
    w = max((display_width(k) for k, _v in rows), default=0)
    return [f"{indent}{ljust(k, w)}  {v}" for k, v in rows]


def reserve_table(d: Mapping[str, Any]) -> str:
    """The reserve assessment (``ReserveAssessment.to_dict()``) as text in the current language."""
    cur = str(d.get("currency") or "")
    out = [_("Reserve assessment: {name}").format(name=d.get("regime_name", d.get("regime")))
           + (_(" (PROVISIONAL)") if d.get("provisional") else "")]
    out.append(_("regime {id} v{version}, effective {effective}, status {status}; assessed at {as_of}; amounts in "
                 "{currency}").format(id=d.get("regime"), version=d.get("regime_version"),
                                      effective=date_long(d.get("regime_effective")), status=d.get("regime_status"),
                                      as_of=date_long(d.get("as_of")), currency=cur))
    checks = d.get("checks") or []
    warned = [localise(c.get('reason'), c.get('reason_message')) for c in checks if c.get("outcome") == "warning"]
    out += [_("WARNING: {reason}").format(reason=w) for w in warned or d.get("warnings") or []]
    req = d.get("requirement_detail") or {}
    out += ["", _("Requirement: {formula}").format(formula=_(str(req.get("formula", ""))))]
    for f in req.get("inputs") or []:
        out.append(f"  {_('input')} {f.get('name')}: {f.get('value')} {f.get('unit', '')} [{f.get('status', '')}]")
    for f in req.get("steps") or []:
        out.append(f"  {_('step')} {f.get('name')}: {f.get('value')} {f.get('unit', '')}")
    if d.get("facts"):
        out += ["", _("Facts the regime file relies on:")]
        for f in d["facts"]:
            out.append(f"  [{f.get('status')}] {f.get('fact')}" + (f" ({f['date']})" if f.get("date") else ""))
            out.append(f"      {_('source')}: {f.get('source')}")
    out += ["", _("Policies:")]
    if not d.get("policies"):
        out.append("  " + _("none"))
    for p in d.get("policies") or []:
        out.append("  " + _("{policy} {eligible}: band {low} to {high}, factor {factor}, coverage {coverage}, "
                            "alone {alone}").format(
            policy=p.get("policy_id"), eligible=_("eligible") if p.get("eligible") else _("INELIGIBLE"),
            low=_amt(p.get("attachment"), cur), high=_amt(p.get("exhaustion"), cur), factor=f"{p.get('factor', 0):.4f}",
            coverage=percent(p.get("coverage_share")), alone=_amt(p.get("standalone_credit"), cur)))
    out += ["", _("Checks:")]
    for c in checks:
        hc = f" {percent(c['haircut'])}" if c.get("outcome") == "haircut" else ""
        out.append(f"  [{outcome_label(str(c.get('outcome', '')))}] {c.get('policy') or '-'} {c.get('rule')}{hc}: "
                   f"{localise(c.get('reason'), c.get('reason_message'))}")
        out.append(f"      {_('source')}: {c.get('source')}")
    cap = d.get("cap") or {}
    out += [""] + _rows([
        (_("requirement"), _amt(d.get("requirement"), cur, short=True)),
        (_("credit before cap"), _amt(d.get("credit_before_cap"), cur)),
        (_("cap ({share} of requirement)").format(share=percent(cap.get("share"))), _amt(cap.get("amount"), cur)),
        (_("credit"), _amt(d.get("credit"), cur, short=True)),
        (_("credit share"), percent(d.get("credit_share"))),
        (_("residual cash reserve"), _amt(d.get("residual_cash"), cur, short=True)),
    ])
    sc = d.get("scenarios") or {}
    if sc:
        out += ["", _("Scenarios for the insurance share cap:")]
        for name, s in sc.items():
            out.append("  " + _("{name}: cap {cap}, credit {credit}, residual cash {residual}").format(
                name=ljust(name, 5), cap=rjust(percent(s.get("cap_share")), 4), credit=_amt(s.get("credit"), cur),
                residual=_amt(s.get("residual_cash"), cur)))
    rs = d.get("risk_sizing")
    if rs:
        out += ["", _("Risk-based sizing scenario [{status}]: {description}").format(
            status=rs.get("status"), description=rs.get("description"))]
        if rs.get("amount") is None:
            out.append("  " + _("not computed: {note}").format(note=rs.get("note")))
        else:
            out.append("  " + _("{q} quantile of annual ground-up customer loss: {amount}").format(
                q=percent(rs.get("quantile")), amount=_amt(rs.get("amount"), cur)))
            if rs.get("tvar") is not None:
                out.append("  " + _("TVaR at the same level: {tvar}").format(tvar=_amt(rs.get("tvar"), cur, short=True)))
            if rs.get("note"):
                out.append(f"  {_('note')}: {rs['note']}")
        out.append(f"  {_('source')}: {rs.get('source')}")
    return "\n".join(out) + "\n"


def compare_table(d: Mapping[str, Any], top: int = 15) -> str:
    """The insurance-versus-cash comparison (``Comparison.to_dict()``) as text in the current language."""
    cur = str(d.get("currency") or "")
    a = d.get("assumptions") or {}
    out = [_("Insurance vs cash under {regime} over {years} years (amounts in {currency}, NPV at {rate})").format(
        regime=d.get("regime"), years=d.get("horizon_years"), currency=cur, rate=percent(a.get("discount_rate"))),
        _("carry cost of cash = funding {funding} − reserve yield {yield_}; LGD {lgd}; basis-risk load {basis} "
          "[assumptions unless overridden]").format(
            funding=percent(a.get("funding_cost")), yield_=percent(a.get("reserve_yield")),
            lgd=percent(a.get("lgd")), basis=percent(a.get("basis_risk_load")))]
    if d.get("pricing_note"):
        out.append(str(d["pricing_note"]))
    out.append("")
    head = [_("programme"), _("compliant"), _("credit"), _("residual cash"), _("premium/yr"), _("NPV cost")]
    rows = []
    for p in (d.get("programmes") or [])[:top]:
        rows.append([str(p.get("label")) if p.get("policies") else _(str(p.get("label"))), _("yes") if p.get("compliant") else _("no"), _amt(p.get("credit"), cur),
                     _amt(p.get("residual_cash"), cur), _amt(p.get("premium"), cur), _amt(p.get("npv"), cur)])
    widths = [max(display_width(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        out.append("  " + "  ".join(ljust(c, widths[i]) if i < 2 else rjust(c, widths[i]) for i, c in enumerate(r)))
    if len(d.get("programmes") or []) > top:
        out.append("  " + _("... {n} more (see --json)").format(n=len(d["programmes"]) - top))
    skipped = d.get("skipped_overlapping") or []
    if skipped:
        out.append("  " + _("{n} programme(s) left out: their policies insure the same losses twice "
                            "(--allow-overlap to cost them)").format(n=len(skipped)))
    best, cash = d.get("best") or {}, d.get("cash_only") or {}
    if best and cash:
        out += ["", _("cheapest compliant: {label}: NPV {npv} vs cash only {cash} (saving {saving})").format(
            label=best.get("label") if best.get("policies") else _(str(best.get("label"))), npv=_amt(best.get("npv"), cur, short=True), cash=_amt(cash.get("npv"), cur, short=True),
            saving=_amt(float(cash.get("npv", 0)) - float(best.get("npv", 0)), cur, short=True))]
    return "\n".join(out) + "\n"
