"""Human-readable rendering of a quote (plain text tables, no third-party dependency): ``Quote.summary()``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from underwriting.domain.quote import Quote


#: The premium build-up in the order it is built (others after, sorted).
COMPONENT_ORDER = ("expected_loss", "risk_load", "expense", "commission", "tax", "minimum_uplift", "reinstatement_credit")


def _component_order(components: dict) -> list[str]:
    return [k for k in COMPONENT_ORDER if k in components] + sorted(k for k in components if k not in COMPONENT_ORDER)

def _money(x: float | None, cur: str) -> str:
    return "n/a" if x is None else f"{x:,.0f} {cur}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def table(rows: list[tuple[str, str]], title: str | None = None) -> str:
    """Two-column text table."""
    width = max(len(k) for k, _ in rows)
    out = [title, "-" * len(title)] if title else []
    out += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(out)


def format_quote(q: Quote) -> str:
    """Render a quote for people: summary, premium build-up, reserve, reasons, provenance."""
    c = q.currency
    t = q.terms
    parts = [
        table([
            ("exchange", q.exchange),
            ("as of", q.as_of.isoformat()),
            ("risk score", f"{q.risk_score:.1f} / 100 (band {q.risk_band})"),
            ("P(breach within 1 year), the one risk model", _pct(q.p_breach_1y)),
            *([(f"loss-model frequency ({q.frequency.method}, comparison): P(breach in term)",
                _pct(q.frequency.p_at_least_one_in_term))] if q.frequency.method != "frequency" else []),
            ("expected breaches in term", f"{q.expected_breaches_term:.4f}"),
        ], "Quote"),
        *([("Warnings\n--------\n" + "\n".join(f"  ! {w}" for w in q.warnings))] if q.warnings else []),
        table([
            ("policy", str(t.get("policy_id"))),
            ("term", f"{t.get('inception')} to {t.get('expiry')}"),
            ("cover", f"{_money(t.get('limit'), c)} xs {_money(t.get('attachment', t.get('deductible')), c)} "
                      "per occurrence"),
            *([("insured's retention (deductible)", _money(t.get("deductible"), c))] if "attachment" in t else []),
            ("aggregate limit", _money(t.get("aggregate_limit"), c) if t.get("aggregate_limit") else "none"),
            ("insurer's share", _pct(t.get("coinsurance"))),
        ], "Terms (in the quote currency)"),
        table([
            ("expected loss", _money(q.expected_loss, c)),
            ("standard deviation", _money(q.std, c)),
            ("TVaR 99.5%", _money(q.tvar_995, c)),
            *[(f"  {k}", _money(q.premium_components[k], c)) for k in _component_order(q.premium_components)],
            ("premium", _money(q.premium, c)),
            *([("premium range (90% frequency interval)",
                f"{_money(q.premium_range[0], c)} to {_money(q.premium_range[1], c)}")] if q.premium_range else []),
            ("rate on line", _pct(q.rate_on_line)),
        ], "Loss and premium"),
    ]
    parts += format_defence(q)
    if q.portfolio:
        pf = q.portfolio
        parts.append(table([
            ("book AAL (USD)", f"{pf.book_aal:,.0f}"), ("book TVaR (USD)", f"{pf.book_tvar:,.0f}"),
            ("this exchange's co-TVaR (USD)", f"{pf.co_tvar:,.0f}"),
            ("allocated capital", _money(pf.capital_quote_currency, c)),
            ("capital load in premium", _money(pf.capital_load_quote_currency, c)),
            ("method", pf.method),
        ], "Portfolio capital"))
    r = q.reserve
    rrows = [("regime", f"{r.regime} {r.regime_version or ''}".strip() if r.regime else "none")]
    if r.regime:
        rrows += [("requirement", _money(r.requirement, c)), ("credit from this policy", _money(r.credit, c)),
                  ("credit share", _pct(r.credit_share)), ("residual cash reserve", _money(r.residual_cash, c))]
    if r.note:
        rrows.append(("note", r.note))
    parts.append(table(rrows, "Reserve"))
    if r.checks:
        lines = ["Reserve checks", "--------------"]
        for ch in r.checks:
            lines.append(f"  [{ch.get('outcome', '?'):>7}] {ch.get('rule')}: {ch.get('reason')}")
        parts.append("\n".join(lines))
    if q.reasons:
        lines = ["Reasons (largest log-rate factors first)", "----------------------------------------"]
        for rs in q.reasons[:8]:
            lines.append(f"  {rs.direction:>6}  {rs.factor}: x{rs.multiplier:.3f} ({rs.log_rate:+.3f} on the log rate, "
                         f"{rs.p_effect:+.2%} on P(breach)) {rs.detail}")
        parts.append("\n".join(lines))
    factors = q.frequency.factors or []
    if factors:
        fr = q.frequency
        lines = [f"Frequency factors ({fr.method})", "-" * (20 + len(fr.method))]
        if fr.base:
            cv = fr.base.get("covariates") or {}
            lines.append(f"  base rate {fr.base['annual_rate']:.5f}/yr [{fr.base['interval'][0]:.5f}, "
                         f"{fr.base['interval'][1]:.5f}] from " + ", ".join(f"{k}={cv[k]}" for k in sorted(cv)))
        for f in factors:
            m = f["multiplier"]
            lines.append(f"  x{m:<7.4g} {f['factor']} = {f['answer']}: {f['reason']}")
        if fr.annual_rate_interval:
            lines.append(f"  annual rate {fr.annual_rate:.5f} [{fr.annual_rate_interval[0]:.5f}, "
                         f"{fr.annual_rate_interval[1]:.5f}]; term expected breaches {fr.expected_breaches:.5f}; "
                         f"P(breach in term) {_pct(fr.p_at_least_one_in_term)} [{_pct(fr.p_breach_interval[0])}, "
                         f"{_pct(fr.p_breach_interval[1])}]")
        parts.append("\n".join(lines))
    if q.fx:
        parts.append(table([(u["currency"], f"{u['units_per_usd']:,.6g} per USD ({u.get('basis', '')}; "
                                            f"{u.get('source', '')})" + (f" - {u['purpose']}" if u.get("purpose") else ""))
                            for u in q.fx], "FX rates used"))
    # sorted, so a quote read back from its JSON (sorted keys) prints the same report
    prov = [(k, q.methods[k]) for k in sorted(q.methods)] + [(f"version {k}", q.versions[k]) for k in sorted(q.versions)]
    prov += [("seed", str(q.seed)), ("input hash", q.input_hash[:16] + "…")]
    parts.append(table(prov, "Provenance"))
    if q.assumptions:
        parts.append("Assumptions\n-----------\n" + "\n".join(f"  - {a}" for a in q.assumptions))
    return "\n\n".join(parts)


def format_defence(q: Quote) -> list[str]:
    """The defence block as text: layers of a tower, severity and its fit, perils, P(attach), P(exhaust), EP points."""
    c = q.currency
    parts = []
    if q.layers and len(q.layers) > 1:
        lines = ["Layers", "------"]
        for lay in q.layers:
            lines.append(f"  {lay.policy_id}: {lay.label}  expected loss {_money(lay.expected_loss, c)}, premium "
                         f"{_money(lay.premium, c)}, rate on line {_pct(lay.rate_on_line)}, P(attach) "
                         f"{_pct(lay.p_attach)}, P(exhaust) {_pct(lay.p_exhaust)}")
        parts.append("\n".join(lines))
    rows: list[tuple[str, str]] = []
    if q.severity is not None:
        sv = q.severity
        g = sv.gof
        rows += [("severity", f"{sv.family} ({', '.join(f'{k} = {sv.parameters[k]:.6g}' for k in sorted(sv.parameters))}; "
                              f"{sv.currency}, n = {sv.n}, truncated at {sv.threshold:,.0f})"),
                 ("goodness of fit", f"Anderson-Darling A2 = {g.statistic:.4g}, p = {g.p_value:.3g} ({g.p_value_method})")]
        if sv.selection:
            rows.append(("families by AIC", ", ".join(f"{f.family} {f.delta_aic:+.1f} (weight {f.akaike_weight:.2f})"
                                                      for f in sv.selection)))
    if q.frequency.interval:
        lo, hi = q.frequency.interval
        rows.append(("expected breaches in term", f"{q.frequency.expected_breaches:.5f}, 90% interval {lo:.5f} to {hi:.5f}"))
    if q.p_attach is not None:
        rows += [("P(attach) in term", _pct(q.p_attach)), ("P(exhaust) in term", _pct(q.p_exhaust))]
    if rows:
        parts.append(table(rows, "Defence"))
    if q.perils:
        lines = ["Perils (expected count in term, expected insured loss)", "-------------------------------------------------------"]
        for p in q.perils:
            lines.append(f"  {p.name:<20} {p.expected_count:.5f}  {_money(p.expected_loss, c)}")
        parts.append("\n".join(lines))
    if q.ep_points:
        lines = ["Exceedance points (return period in terms: OEP, AEP)", "-----------------------------------------------------"]
        for e in q.ep_points:
            lines.append(f"  1 in {e.return_period:>5g}  OEP {_money(e.oep, c)}  AEP {_money(e.aep, c)}")
        parts.append("\n".join(lines))
    return parts
