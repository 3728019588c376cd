"""The quote document: one self-contained HTML page an underwriter can send.

Built only from a quote's canonical JSON (``Quote.to_dict()`` or the output of ``underwriting quote
--json``), so it can be re-rendered from an archived quote. The page embeds its figures as base64
``data:`` URIs and its CSS inline; it loads nothing from the network and needs no JavaScript. It is
laid out for A4 (print it from a browser to get a PDF). Every text taken from the quote is
HTML-escaped.

Sections: the exchange and headline price, warnings, the terms, the price and its components, the
defence block (frequency with its factors and interval, severity with its goodness of fit, the
perils, P(attach), P(exhaust), the EP points, the premium range), the figures (rating factors, loss
exceedance with the layer, per-peril split, reserve waterfall with the retention), the reserve, the
reasons, the assumptions and the versions. A key the quote does not carry is shown as "not
available" rather than left out silently.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from underwriting import figures as _fig
from underwriting.domain.message import localise
from underwriting.domain.report import assumption_texts, provenance_label

__all__ = ["render_quote_html", "build_quote_figures", "figure_inputs", "FIGURES"]

#: The document's figures, in order: key → caption.
FIGURES: dict[str, str] = {
    "factors": "Rating factors: each factor's contribution to the log of the breach rate",
    "loss_exceedance": "Loss exceedance over the term, with the layer marked",
    "perils": "Expected loss by peril",
    "reserve": "Reserve credit waterfall, with the retention that stays in cash",
}

NA = "not available"


# ---- reading the quote JSON -----------------------------------------------------------------------

from underwriting.i18n import finite_number as _num  # noqa: E402  (one home: the number reader)


def _layer(q: Mapping[str, Any]) -> tuple[float | None, float | None, float]:
    """(attachment, limit, share) of the quoted layer, in the quote currency."""
    t = q.get("terms") or {}
    att = _num(t.get("attachment"))
    if att is None:
        att = _num(t.get("deductible"))
    share = _num(t.get("coinsurance"))
    if share is None:
        share = _num(t.get("share"))
    return att, _num(t.get("limit")), share if share is not None and share > 0 else 1.0


def _exceedance_points(q: Mapping[str, Any]) -> tuple[list[tuple[float, float]], dict[str, tuple[float, float]]] | str:
    """Ground-up loss exceedance points implied by the quote's own numbers, or why there are none.

    P(attach) sits at the attachment and P(exhaust) at attachment + limit; each EP point whose
    occurrence loss to the layer (OEP) lies strictly inside the layer maps back to the ground-up loss
    ``attachment + oep / share`` at probability ``1 / return_period``.
    """
    att, lim, share = _layer(q)
    if att is None or lim is None or lim <= 0:
        return "the quote's terms carry no attachment (or deductible) and limit"
    p_att, p_exh = _num(q.get("p_attach")), _num(q.get("p_exhaust"))
    pts: list[tuple[float, float]] = []
    markers: dict[str, tuple[float, float]] = {}
    t = q.get("terms") or {}
    # with aggregate terms the pricing engine reports P(attach) / P(exhaust) of the aggregate: say so
    agg_att = " (aggregate)" if (_num(t.get("aggregate_deductible")) or 0.0) > 0 else ""
    agg_exh = " (aggregate)" if _num(t.get("aggregate_limit")) is not None else ""
    if p_att is not None and p_att > 0 and att > 0:
        pts.append((att, p_att))
        markers[f"P(attach){agg_att}"] = (att, p_att)
    if p_exh is not None and p_exh > 0:
        pts.append((att + lim, p_exh))
        markers[f"P(exhaust){agg_exh}"] = (att + lim, p_exh)
    for row in q.get("ep_points") or []:
        rp, oep = _num(row.get("return_period")), _num(row.get("oep"))
        if rp and rp > 1 and oep is not None and 0 < oep < lim * share:
            pts.append((att + oep / share, 1.0 / rp))
    if len(pts) < 2:
        missing = [k for k in ("p_attach", "p_exhaust", "ep_points") if q.get(k) is None]
        why = f"missing {', '.join(missing)}" if missing else "fewer than two non-zero points"
        return f"the quote has too little exceedance information ({why})"
    # several points at one amount are a step of the curve (an atom of the loss, e.g. the loss capped by
    # the custody tier's assets): highest probability first
    pts.sort(key=lambda t: (t[0], -t[1]))
    # a curve of exceedance probabilities cannot rise with the amount: refuse to draw one that does
    if any(b[1] > a[1] * (1 + 1e-9) for a, b in zip(pts, pts[1:], strict=False)):
        return "the quote's exceedance points are not decreasing in the loss amount"
    return pts, markers


def _factors(q: Mapping[str, Any]) -> list[dict[str, Any]]:
    f = (q.get("frequency") or {}).get("factors")
    if isinstance(f, Mapping):
        return [{"factor": k, "multiplier": v} for k, v in f.items()]
    return [dict(x) for x in f or [] if isinstance(x, Mapping)]


def _retention(q: Mapping[str, Any]) -> float:
    """The part of the requirement below the lowest attachment, which stays in cash."""
    r = q.get("reserve") or {}
    att, _, _ = _layer(q)
    req, res = _num(r.get("requirement")) or 0.0, _num(r.get("residual_cash")) or 0.0
    return max(0.0, min(att or 0.0, req, res))


def figure_inputs(quote_json: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]] | str]:
    """For each figure of :data:`FIGURES`, the chart function name and its plain arguments, or why it cannot be drawn."""
    q = quote_json
    cur = str(q.get("currency") or "")
    out: dict[str, tuple[str, dict[str, Any]] | str] = {}
    fac = _factors(q)
    reasons = [{"factor": r["factor"], "log_rate": r["log_rate"]} for r in q.get("reasons") or []
               if isinstance(r, Mapping) and r.get("factor") and _num(r.get("log_rate")) is not None]
    if fac and all(_num(f.get("multiplier")) for f in fac):
        out["factors"] = ("factor_chart", {"factors": fac})
    elif reasons:  # no rating schedule in this quote: show the risk score's reasons, titled as such
        out["factors"] = ("factor_chart", {"factors": reasons[:12], "title": "Risk score reasons: contribution "
                                           "to the log annual breach rate (the quote lists no frequency factors)"})
    else:
        out["factors"] = "the quote lists neither frequency factors with multipliers nor risk-score reasons"
    ep = _exceedance_points(q)
    if isinstance(ep, str):
        out["loss_exceedance"] = ep
    else:
        att, lim, _ = _layer(q)
        pts, markers = ep
        out["loss_exceedance"] = ("loss_exceedance_chart", {
            "amounts": [x for x, _ in pts], "probabilities": [p for _, p in pts], "attachment": att,
            "limit": lim, "currency": cur, "markers": markers, "label": "from the quote's P(attach), EP points, P(exhaust)"})
    perils = [p for p in q.get("perils") or [] if isinstance(p, Mapping) and _num(p.get("expected_loss")) is not None]
    out["perils"] = (("peril_split_chart", {"perils": perils, "currency": cur}) if perils
                     else "the quote has no per-peril expected losses")
    r = q.get("reserve") or {}
    req, cred, res = _num(r.get("requirement")), _num(r.get("credit")), _num(r.get("residual_cash"))
    if r.get("regime") and req is not None and cred is not None and res is not None \
            and abs(req - cred - res) <= 1e-6 * max(1.0, req):
        pid = str((q.get("terms") or {}).get("policy_id") or "this policy")
        from underwriting.i18n import _

        out["reserve"] = ("reserve_waterfall", {"requirement": req, "credits": [(_("credit: {policy}").format(policy=pid), cred)],
                                                "retention": _retention(q), "residual": res, "currency": cur})
    elif not r.get("regime"):
        out["reserve"] = "no reserve regime was applied to this quote"
    else:
        out["reserve"] = "the reserve block lacks a requirement, credit and residual that add up"
    return out


def build_quote_figures(quote_json: Mapping[str, Any]) -> dict[str, bytes]:
    """PNG bytes of each figure the quote JSON has the data for (keys of :data:`FIGURES`).

    Figures whose data the quote lacks are left out; :func:`render_quote_html` says why.
    """
    out = {}
    for key, spec in figure_inputs(quote_json).items():
        if isinstance(spec, str):
            continue
        name, kwargs = spec
        out[key] = _fig.to_png_bytes(getattr(_fig, name)(**kwargs))
    return out


# ---- HTML -----------------------------------------------------------------------------------------

def _figures(q: Mapping[str, Any], figs: Mapping[str, bytes] | None) -> str:
    from underwriting.i18n import _
    from underwriting.quote.letter import e

    reasons = figure_inputs(q)
    out = []
    for i, (key, caption) in enumerate(FIGURES.items(), start=1):
        spec = reasons.get(key)
        if key == "factors" and not isinstance(spec, str) and spec and spec[1].get("title"):
            caption = "Risk-score reasons: contribution to the log annual breach rate (no frequency factors in this quote)"
        caption = _(caption)
        png = (figs or {}).get(key)
        fig_no = _("Figure {n}").format(n=i)
        if png:
            src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            out.append(f'<figure id="fig-{key}"><img src="{src}" alt="{e(caption)}">'
                       f"<figcaption>{e(fig_no)}. {e(caption)}.</figcaption></figure>")
        else:
            why = spec if isinstance(spec, str) else "the figure was not supplied"
            out.append(f'<figure id="fig-{key}" class="missing"><p class="na">{e(fig_no)} ({e(caption)}): '
                       f"{e(_('not available'))}: {e(_(why))}.</p></figure>")
    return '<div class="figs">' + "".join(out) + "</div>"


_CSS = """
@page { size: A4; margin: 14mm 14mm 16mm 14mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #566573; } }
* { box-sizing: border-box; }
html { background: #ffffff; }
body { font-family: "DejaVu Sans", "IPAexGothic", "Helvetica Neue", Arial, sans-serif; font-size: 9.5pt;
       color: #1c2833; line-height: 1.38; max-width: 182mm; margin: 0 auto; padding: 8mm 0; }
header { border-bottom: 3px solid #1c2833; padding-bottom: 3mm; margin-bottom: 4mm; }
header h1 { font-size: 16pt; margin: 0 0 1mm 0; }
header .sub { color: #566573; font-size: 8.5pt; }
.headline { display: flex; gap: 4mm; margin: 3mm 0; }
.headline > div { flex: 1; border: 1px solid #d5d8dc; border-radius: 2mm; padding: 2mm 3mm; }
.headline .label { font-size: 7.5pt; color: #566573; text-transform: uppercase; letter-spacing: .04em; }
.headline .big { font-size: 12pt; font-weight: bold; white-space: nowrap; }
h2 { font-size: 12pt; border-bottom: 1px solid #aab7b8; padding-bottom: 1mm; margin: 5mm 0 2.5mm; }
h3 { font-size: 10.5pt; margin: 3.5mm 0 1.5mm; }
h4 { font-size: 9pt; margin: 2.5mm 0 1mm; color: #34495e; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 2.5mm; font-size: 8.5pt; table-layout: auto; }
th, td { text-align: left; vertical-align: top; padding: 1mm 1.8mm; border-bottom: 1px solid #e5e8e8; }
table.kv th { width: 34%; font-weight: normal; color: #566573; }
table.grid thead th { background: #f2f3f4; font-weight: bold; border-bottom: 1px solid #aab7b8; }
th.num, td.num { white-space: nowrap; text-align: right; font-variant-numeric: tabular-nums; }
tr.total th, tr.total td { font-weight: bold; border-top: 2px solid #1c2833; }
.two { display: flex; gap: 5mm; } .two > div { flex: 1; min-width: 0; }
table.factors, table.checks { font-size: 7.5pt; } table.factors td, table.checks td { padding: 0.6mm 1.5mm; }
table.factors td:first-child { width: 34%; } table.factors td:last-child { width: 46%; }
table.checks td:first-child { width: 22%; } table.checks td:nth-child(2) { width: 9%; }
td { overflow-wrap: break-word; }
ul { margin: 0; padding-left: 4.5mm; }
.na { color: #a04000; font-style: italic; }
.warnings { border-left: 4px solid #c0392b; background: #fdedec; padding: 1.5mm 4mm; margin: 3mm 0; }
.warnings h2 { border: none; margin: 1mm 0; color: #922b21; font-size: 11pt; }
.ok { border-left: 4px solid #1e8449; background: #eafaf1; padding: 2mm 4mm; margin: 3mm 0; }
.signature { margin-top: 2mm; break-inside: avoid; } .sigline { border-bottom: 1px solid #1c2833; height: 9mm; }
.signature p { margin: 1mm 0; }
.page1 { break-after: page; } .page1 table { font-size: 8pt; margin-bottom: 1.5mm; }
.page1 th, .page1 td { padding: 0.7mm 1.5mm; } .page1 h2 { margin: 3mm 0 1.5mm; } .page1 .lead { margin: 1mm 0; }
figure { margin: 3mm 0; break-inside: avoid; }
figure img { width: 100%; max-width: 170mm; display: block; border: 1px solid #e5e8e8; }
figcaption { font-size: 8pt; color: #566573; margin-top: 1mm; }
footer { margin-top: 6mm; border-top: 1px solid #aab7b8; padding-top: 2mm; font-size: 7.5pt; color: #566573; }
code { font-size: 7.5pt; }
.small, td.small, span.small { font-size: 7.5pt; color: #566573; }
@media print { body { padding: 0; max-width: none; } h2, h3, h4 { break-after: avoid; }
  .figs figure { display: inline-block; vertical-align: top; width: 49%; margin: 0 0 2mm 0; }
  .figs figure#fig-factors { display: block; width: 100%; }
  #fig-factors img { width: auto; max-width: 100%; max-height: 80mm; margin: 0 auto; }
  body { font-size: 9pt; } table { font-size: 8pt; }
  table.checks, table.factors { font-size: 6.5pt; } table.checks td { padding: 0.4mm 1.2mm; } }
"""


def render_quote_html(quote_json: Mapping[str, Any], *, figures: Mapping[str, bytes] | None = None,
                      slip: Mapping[str, Any] | None = None, letter: Mapping[str, Any] | None = None,
                      lang: str | None = None) -> str:
    """Render a quote as a quote letter: one self-contained HTML page (A4, inline CSS, embedded PNG figures).

    Page one is the summary a broker sends (warnings, the slip, the premium build-up, the validity
    date and the signature block); then the defence, the figures, the reserve credit with its
    caveats, the reasons, assumptions, exchange rates, versions and the input hash.

    Parameters
    ----------
    quote_json : dict
        The quote's canonical JSON as a dict (``Quote.to_dict()`` or ``json.loads`` of ``quote --json``).
    figures : dict of str to bytes, optional
        PNG bytes by figure key (see :data:`FIGURES`), e.g. from :func:`build_quote_figures`. A figure
        not given is shown as "not available" with the reason.
    slip : dict, optional
        The policy terms file as JSON (``PolicyTerms``/``Programme`` ``model_dump(mode="json")``): the
        insurer, reinstatements, exclusions and conditions the quote JSON does not carry.
    letter : dict, optional
        The pricing-basis file as JSON (validity days, subjectivities, signatory).
    lang : {"en", "ja"}, optional
        Language of the letter (default: ``UNDERWRITING_LANG``, then the locale, then English).

    Returns
    -------
    str
        The HTML document (UTF-8 text). Amounts are in the quote's currency, with the currency.
    """
    from underwriting.i18n import _, use_lang
    from underwriting.quote import letter as L

    q = quote_json
    with use_lang(lang) as code:
        cur = str(q.get("currency") or "")
        e = L.e
        exch = q.get("exchange", "?")
        warns = L.warnings_list(q)
        if warns:
            wblock = (f'<div class="warnings" id="warnings"><h2>{e(_("Warnings"))}</h2><ul>'
                      + "".join(f"<li>{e(w)}</li>" for w in warns) + "</ul></div>")
        elif warns is None:
            wblock = (f'<div class="warnings" id="warnings"><h2>{e(_("Warnings"))}</h2><p class="na">'
                      f'{e(_("not available"))}: {e(_("the quote carries no warnings list"))}</p></div>')
        else:
            wblock = f'<div class="ok" id="warnings">{e(_("No warnings."))}</div>'
        fx = [u for u in q.get("fx") or [] if isinstance(u, Mapping)]
        versions = dict(q.get("versions") or {})
        said = dict(q["method_messages"]) if isinstance(q.get("method_messages"), Mapping) else {}
        vsaid = dict(q.get("version_messages") or {}) if isinstance(q.get("version_messages"), Mapping) else {}
        prov = [(_("method: {name}").format(name=provenance_label(k)), e(localise(v, said.get(k))))
                for k, v in (q.get("methods") or {}).items()]
        prov += [(_("version: {name}").format(name=provenance_label(k).replace("_", " ")),
                  e(localise(v, vsaid.get(k)))) for k, v in versions.items()]
        prov += [(_("seed"), e(q.get("seed"))), (_("input hash"), f"<code>{e(q.get('input_hash', ''))}</code>")]
        score = _num(q.get("risk_score"))
        exch_rows = [(_("insured"), e(exch)), (_("as of"), e(L.date_long(q.get("as_of")))),
                     (_("risk score (0 best, 100 worst)"),
                      e(f"{score:.1f} / 100 ({_('band')} {q.get('risk_band', '?')})") if score is not None else L.na()),
                     (_("P(breach within 1 year)"), L.pct(q.get("p_breach_1y"))),
                     (_("expected breaches in the term"), L.sig(q.get("expected_breaches_term"), 3))]
        pf = q.get("portfolio")
        title = _("Crypto-exchange hack and theft insurance: quotation for {exchange}").format(exchange=exch)
        page1 = [
            f"<header><h1>{e(title)}</h1><div class='sub'>{e(_('as of'))} {e(L.date_long(q.get('as_of')))} · "
            f"{e(_('amounts in {currency}').format(currency=cur))} · {e(_('reference'))} "
            f"<code>{e(str(q.get('input_hash', ''))[:16])}</code></div></header>",
            wblock, L.headline(q, cur),
            L.section("terms", _("The slip"), L.slip_section(q, slip, letter)),
            L.section("price", _("The premium and its build-up"),
                      L.price_section(q, letter).replace("{signature}", L.signature_block(q, slip, letter))),
        ]
        body = [
            "<div class='page1'>" + "\n".join(page1) + "</div>",
            L.section("exchange", _("The insured"), L._kv(exch_rows)),
            L.section("defence", _("How the price is built (defence)"), L.defence_section(q)),
            L.section("figures", _("Figures"), _figures(q, figures)),
            L.section("reserve", _("Reserve credit"), L.reserve_section(q)),
        ]
        if pf:
            body.append(L.section("portfolio", _("Portfolio capital"), L._kv(
                [(_(str(k).replace("_", " ")), L.amount(v, cur) if _num(v) is not None and "capital" in k else e(v))
                 for k, v in pf.items()])))
        assumptions = q.get("assumptions") or []
        if isinstance(assumptions, list) and all(isinstance(a, str) for a in assumptions):
            messages = q.get("assumption_messages")
            assumptions = assumption_texts(assumptions, messages if isinstance(messages, list) else [])
        body += [
            L.section("reasons", _("Reasons (risk score, largest effects first)"), L.reasons_section(q)),
            L.section("assumptions", _("Assumptions"),
                      ("<ul>" + "".join(f"<li>{e(a)}</li>" for a in assumptions) + "</ul>") if assumptions
                      else f"<p>{L.na()}</p>"),
            L.section("fx", _("Exchange rates used"), L._grid(
                [_("currency"), _("units per USD"), _("basis and source")],
                [[e(u.get("currency", "?")), e(u.get("units_per_usd", "")),
                  e(f"{localise(u.get('basis', ''), u.get('basis_message'))}; {u.get('source', '')}"
                    + (f" ({localise(u['purpose'], u.get('purpose_message'))})" if u.get("purpose") else ""))]
                 for u in fx], num_cols=(1,)) if fx else f"<p>{e(_('None: every amount was already in the quote currency.'))}</p>"),
            L.section("versions", _("Methods, versions and reproduction"), L._kv(prov)),
            f"<footer>{e(_('Generated by underwriting {version} from the quote canonical JSON; this page loads nothing from the network.').format(version=versions.get('underwriting', '')))}</footer>",
        ]
        return (f"<!DOCTYPE html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">"
                f"<title>{e(title)}</title><meta name=\"viewport\" content=\"width=device-width\">"
                f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
