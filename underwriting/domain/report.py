"""Human-readable rendering of a quote (plain text tables, no third-party dependency): ``Quote.summary()``."""

from __future__ import annotations

from typing import Any

from underwriting.domain.message import localise, outcome_label
from underwriting.i18n import (
    N_,
    _,
    current_lang,
    date_long,
    display_width,
    ljust,
    money_short,
    rjust,
)
from underwriting.i18n import money as _i18n_money

#: What the renderers read: a :class:`~underwriting.domain.quote.Quote` (its attributes). Not imported,
#: not even for type checkers: ``domain.quote`` imports this module (``Quote.summary()``), never the reverse.
QuoteLike = Any


#: The premium build-up in the order it is built (others after, sorted).
COMPONENT_ORDER = ("expected_loss", "risk_load", "expense", "commission", "tax", "minimum_uplift", "reinstatement_credit")


def _component_order(components: dict) -> list[str]:
    return [k for k in COMPONENT_ORDER if k in components] + sorted(k for k in components if k not in COMPONENT_ORDER)

def _money(x: float | None, cur: str) -> str:
    """An exact amount with its currency in the current language ("5,000,000 JPY"; Japanese "5,000,000円")."""
    return _i18n_money(x, cur, na=_("n/a"))


def _pct(x: float | None) -> str:
    return _("n/a") if x is None else f"{100 * x:.2f}%"


def _date(d: object) -> str:
    """A date: ISO in English (as printed before), ``2026年10月1日`` in Japanese."""

    return str(d) if current_lang() == "en" else date_long(d)  # type: ignore[arg-type]


def _headline_money(x: float | None, cur: str) -> str:
    """An exact amount, and in Japanese also its 億円/百万円 form: "9,325,448円（9.33百万円）"."""

    exact = _money(x, cur)
    if current_lang() == "en" or x is None:
        return exact
    return f"{exact}（{money_short(x, cur)}）"


def _rule(title: str) -> str:
    """The underline of a title, as wide as the title is on screen (wide characters count two)."""

    return "-" * display_width(title)


def table(rows: list[tuple[str, str]], title: str | None = None) -> str:
    """Two-column text table (columns aligned by display width, so Japanese labels line up)."""

    width = max(display_width(k) for k, _v in rows)
    out = [title, _rule(title)] if title else []
    out += [f"  {ljust(k, width)}  {v}" for k, v in rows]
    return "\n".join(out)


def format_quote(q: QuoteLike) -> str:
    """Render a quote for people: summary, premium build-up, reserve, reasons, provenance.

    Written in the language of :func:`underwriting.i18n.use_lang` (English by default); amounts in
    the quote currency.
    """
    c = q.currency
    t = q.terms
    parts = [
        table([
            (_("exchange"), q.exchange),
            (_("as of"), _date(q.as_of.isoformat())),
            (_("risk score"), _("{score} / 100 (band {band})").format(score=f"{q.risk_score:.1f}", band=q.risk_band)),
            (_("P(breach within 1 year), the one risk model"), _pct(q.p_breach_1y)),
            *([(_("loss-model frequency ({method}, comparison): P(breach in term)").format(
                method=method_label(q.frequency.method)),
                _pct(q.frequency.p_at_least_one_in_term))] if q.frequency.method != "frequency" else []),
            (_("expected breaches in term"), f"{q.expected_breaches_term:.4f}"),
        ], _("Quote")),
        *([(_("Warnings") + "\n" + _rule(_("Warnings")) + "\n" + "\n".join(f"  ! {w}" for w in q.warnings))]
          if q.warnings else []),
        table([
            (_("policy"), str(t.get("policy_id"))),
            (_("term"), _("{inception} to {expiry}").format(inception=_date(t.get("inception")), expiry=_date(t.get("expiry")))),
            (_("cover"), _("{limit} xs {attachment} per occurrence").format(
                limit=_headline_money(t.get("limit"), c),
                attachment=_headline_money(t.get("attachment", t.get("deductible")), c))),
            *([(_("insured's retention (deductible)"), _money(t.get("deductible"), c))] if "attachment" in t else []),
            (_("aggregate limit"), _money(t.get("aggregate_limit"), c) if t.get("aggregate_limit") else _("none")),
            (_("insurer's share"), _pct(t.get("coinsurance"))),
        ], _("Terms (in the quote currency)")),
        table([
            (_("expected loss"), _money(q.expected_loss, c)),
            (_("standard deviation"), _money(q.std, c)),
            (_("TVaR 99.5%"), _money(q.tvar_995, c)),
            *[(f"  {component_label(k)}", _money(q.premium_components[k], c)) for k in _component_order(q.premium_components)],
            (_("premium"), _headline_money(q.premium, c)),
            *([(_("premium range (90% frequency interval)"),
                _("{low} to {high}").format(low=_money(q.premium_range[0], c), high=_money(q.premium_range[1], c)))]
              if q.premium_range else []),
            (_("rate on line"), _pct(q.rate_on_line)),
        ], _("Loss and premium")),
    ]
    parts += format_defence(q)
    if q.portfolio:
        pf = q.portfolio
        parts.append(table([
            (_("book AAL (USD)"), f"{pf.book_aal:,.0f}"), (_("book TVaR (USD)"), f"{pf.book_tvar:,.0f}"),
            (_("this exchange's co-TVaR (USD)"), f"{pf.co_tvar:,.0f}"),
            (_("allocated capital"), _money(pf.capital_quote_currency, c)),
            (_("capital load in premium"), _money(pf.capital_load_quote_currency, c)),
            (_("method"), pf.method),
        ], _("Portfolio capital")))
    r = q.reserve
    rrows = [(_("regime"), f"{r.regime} {r.regime_version or ''}".strip() if r.regime else _("none"))]
    if r.regime:
        rrows += [(_("requirement"), _money(r.requirement, c)), (_("credit from this policy"), _money(r.credit, c)),
                  (_("credit share"), _pct(r.credit_share)), (_("residual cash reserve"), _money(r.residual_cash, c))]
    if r.note:
        rrows.append((_("note"), r.note))
    parts.append(table(rrows, _("Reserve")))
    if r.checks:
        lines = [_("Reserve checks"), _rule(_("Reserve checks"))]
        width = 7 if current_lang() == "en" else 10  # the widest outcome: "warning"; Japanese ヘアカット
        for ch in r.checks:
            label = rjust(outcome_label(str(ch.get("outcome", "?"))), width)
            lines.append(f"  [{label}] {ch.get('rule')}: {localise(ch.get('reason'), ch.get('reason_message'))}")
        parts.append("\n".join(lines))
    if q.reasons:
        head = _("Reasons (largest log-rate factors first)")
        lines = [head, _rule(head)]
        for rs in q.reasons[:8]:
            lines.append("  " + _("{direction}  {factor}: x{multiplier} ({log_rate} on the log rate, {p_effect} on "
                                  "P(breach)) {detail}").format(
                direction=f"{_(rs.direction):>6}", factor=rs.factor, multiplier=f"{rs.multiplier:.3f}",
                log_rate=f"{rs.log_rate:+.3f}", p_effect=f"{rs.p_effect:+.2%}",
                detail=localise(rs.detail, rs.detail_message)))
        parts.append("\n".join(lines))
    factors = q.frequency.factors or []
    if factors:
        fr = q.frequency
        head = _("Frequency factors ({method})").format(method=method_label(fr.method))
        lines = [head, _rule(head)]
        if fr.base:
            cv = fr.base.get("covariates") or {}
            lines.append("  " + _("base rate {rate}/yr [{low}, {high}] from {covariates}").format(
                rate=f"{fr.base['annual_rate']:.5f}", low=f"{fr.base['interval'][0]:.5f}",
                high=f"{fr.base['interval'][1]:.5f}", covariates=", ".join(f"{k}={covariate_text(cv[k])}" for k in sorted(cv))))
        for f in factors:
            m = f["multiplier"]
            lines.append(f"  x{m:<7.4g} {f['factor']} = {localise(f['answer'], f.get('answer_message'))}: "
                         f"{localise(f['reason'], f.get('reason_message'))}")
        if fr.annual_rate_interval:
            lines.append("  " + _("annual rate {rate} [{low}, {high}]; term expected breaches {breaches}; "
                                  "P(breach in term) {p} [{p_low}, {p_high}]").format(
                rate=f"{fr.annual_rate:.5f}", low=f"{fr.annual_rate_interval[0]:.5f}",
                high=f"{fr.annual_rate_interval[1]:.5f}", breaches=f"{fr.expected_breaches:.5f}",
                p=_pct(fr.p_at_least_one_in_term), p_low=_pct(fr.p_breach_interval[0]),
                p_high=_pct(fr.p_breach_interval[1])))
        parts.append("\n".join(lines))
    if q.fx:
        parts.append(table([(u["currency"], _("{rate} per USD ({basis}; {source})").format(
            rate=f"{u['units_per_usd']:,.6g}", basis=localise(u.get("basis", ""), u.get("basis_message")),
            source=u.get("source", ""))
            + (f" - {localise(u['purpose'], u.get('purpose_message'))}" if u.get("purpose") else "")) for u in q.fx],
            _("FX rates used")))
    # sorted, so a quote read back from its JSON (sorted keys) prints the same report
    prov = [(provenance_label(k), localise(q.methods[k], q.method_messages.get(k))) for k in sorted(q.methods)]
    prov += [(_("version {name}").format(name=provenance_label(k)), localise(q.versions[k], q.version_messages.get(k))
              if current_lang() != "en" else q.versions[k]) for k in sorted(q.versions)]
    prov += [(_("seed"), str(q.seed)), (_("input hash"), q.input_hash[:16] + "…")]
    parts.append(table(prov, _("Provenance")))
    if q.assumptions:
        said = assumption_texts(q.assumptions, q.assumption_messages)
        parts.append(_("Assumptions") + "\n" + _rule(_("Assumptions")) + "\n" + "\n".join(f"  - {a}" for a in said))
    return "\n\n".join(parts)


#: Labels of the provenance rows (methods and versions by their keys), in other languages than English.
PROVENANCE_LABELS: dict[str, str] = {
    "aggregate": N_("aggregate loss"), "frequency": N_("breach frequency"), "risk_score": N_("risk score"),
    "severity": N_("severity"), "state_actor_exclusion": N_("state-actor exclusion"), "datasets": N_("datasets"),
    "regime": N_("regime"), "schedule": N_("posture schedule"), "baseline": N_("baseline frequency"),
    "survival": N_("survival model"),
}


#: Names of the frequency methods (``frequency.method``), in other languages than English.
METHOD_LABELS: dict[str, str] = {"frequency": N_("one risk model"), "baseline": N_("baseline"),
                                 "survival": N_("survival model")}


def method_label(name: str) -> str:
    """A frequency method's name: the key in English (as printed before), its label in other languages."""
    if current_lang() == "en" or name not in METHOD_LABELS:
        return name
    return _(METHOD_LABELS[name])


def provenance_label(key: str) -> str:
    """A provenance row's label: the key in English (as printed before), translated in other languages
    (an unknown key, e.g. the package name ``underwriting``, stays as it is)."""
    if current_lang() == "en" or key not in PROVENANCE_LABELS:
        return key
    return _(PROVENANCE_LABELS[key])


def assumption_texts(assumptions: list[str], messages: list) -> list[str]:
    """The assumptions in the current language: each with its message when the quote carries one for every
    assumption (in order), else each text (translated where the catalogue has it)."""
    pair = len(messages) == len(assumptions)
    return [localise(a, messages[i] if pair else None) for i, a in enumerate(assumptions)]


def covariate_text(v: object) -> str:
    """A base-rate covariate's value: as printed before in English; an absent one "n/a" in other languages."""
    return _("n/a") if v is None and current_lang() != "en" else str(v)


def component_label(key: str) -> str:
    """The label of a premium component key (``risk_load`` → "risk_load" in English, 危険保険料 ... in Japanese).

    English keeps the key as printed before (the golden text files); other languages translate it.
    """

    if current_lang() == "en":
        return key
    return _(key.replace("_", " "))


def format_defence(q: QuoteLike) -> list[str]:
    """The defence block as text: layers of a tower, severity and its fit, perils, P(attach), P(exhaust), EP points."""
    c = q.currency
    parts = []
    if q.layers and len(q.layers) > 1:
        lines = [_("Layers"), _rule(_("Layers"))]
        for lay in q.layers:
            lines.append("  " + _("{policy}: {label}  expected loss {el}, premium {premium}, rate on line {rol}, "
                                  "P(attach) {p_attach}, P(exhaust) {p_exhaust}").format(
                policy=lay.policy_id, label=lay.label, el=_money(lay.expected_loss, c), premium=_money(lay.premium, c),
                rol=_pct(lay.rate_on_line), p_attach=_pct(lay.p_attach), p_exhaust=_pct(lay.p_exhaust)))
        parts.append("\n".join(lines))
    rows: list[tuple[str, str]] = []
    if q.severity is not None:
        sv = q.severity
        g = sv.gof
        rows += [(_("severity"), _("{family} ({parameters}; {currency}, n = {n}, truncated at {threshold})").format(
                     family=sv.family, parameters=", ".join(f"{k} = {sv.parameters[k]:.6g}" for k in sorted(sv.parameters)),
                     currency=sv.currency, n=sv.n, threshold=f"{sv.threshold:,.0f}")),
                 (_("goodness of fit"), _("Anderson-Darling A2 = {a2}, p = {p} ({method})").format(
                     a2=f"{g.statistic:.4g}", p=f"{g.p_value:.3g}",
                     method=localise(g.p_value_method, g.p_value_method_message)))]
        if sv.selection:
            rows.append((_("families by AIC"), ", ".join(
                _("{family} {delta} (weight {weight})").format(family=f.family, delta=f"{f.delta_aic:+.1f}",
                                                              weight=f"{f.akaike_weight:.2f}")
                for f in sv.selection)))
    if q.frequency.interval:
        lo, hi = q.frequency.interval
        rows.append((_("expected breaches in term"), _("{mean}, 90% interval {low} to {high}").format(
            mean=f"{q.frequency.expected_breaches:.5f}", low=f"{lo:.5f}", high=f"{hi:.5f}")))
    sv = q.frequency.survival
    if sv:
        med = sv.get("median_years_to_breach")
        rows.append((_("survival over the term"), ", ".join(f"S({t:.3g}y) = {p:.4f}" for t, p in
                                                            zip(sv["times_years"], sv["survival"], strict=True))))
        rows.append((_("median time to breach"), _("infinite (rate 0)") if med is None
                     else _("{years} years").format(years=f"{med:,.1f}")))
    if q.p_attach is not None:
        rows += [(_("P(attach) in term"), _pct(q.p_attach)), (_("P(exhaust) in term"), _pct(q.p_exhaust))]
    if rows:
        parts.append(table(rows, _("Defence")))
    if q.perils:

        head = _("Perils (expected count in term, expected insured loss)")
        lines = [head, _rule(head) + "-"]  # one dash longer than the title, as the golden text has it
        width = max(20, *(display_width(peril_label(p.name)) for p in q.perils))
        for p in q.perils:
            lines.append(f"  {ljust(peril_label(p.name), width)} {p.expected_count:.5f}  {_money(p.expected_loss, c)}")
        parts.append("\n".join(lines))
    if q.ep_points:
        head = _("Exceedance points (return period in terms: OEP, AEP)")
        lines = [head, _rule(head) + "-"]  # one dash longer than the title, as the golden text has it
        for e in q.ep_points:
            lines.append("  " + _("1 in {rp}  OEP {oep}  AEP {aep}").format(
                rp=f"{e.return_period:>6,.0f}", oep=_money(e.oep, c), aep=_money(e.aep, c)))
        parts.append("\n".join(lines))
    return parts


def peril_label(name: str) -> str:
    """A peril's name: the vocabulary key in English (as printed before), translated in other languages."""

    if current_lang() == "en":
        return name
    return _(name.replace("_", " "))
