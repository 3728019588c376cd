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
import html
import math
from collections.abc import Mapping
from typing import Any

from underwriting import figures as _fig

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

def _num(x: Any) -> float | None:
    """A finite float, or None."""
    if isinstance(x, bool) or x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


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
    pts.sort()
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
        out["reserve"] = ("reserve_waterfall", {"requirement": req, "credits": [(f"credit: {pid}", cred)],
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

def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _plain(x: float | int) -> str:
    """A number in positional notation (never "1e+08"): thousands separated, six significant figures."""
    if isinstance(x, int):
        return f"{x:,}"
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    if abs(x) >= 1e5:
        return f"{x:,.0f}"
    d = min(12, max(0, 5 - int(math.floor(math.log10(abs(x))))))
    text = f"{x:,.{d}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _amount(x: Any, cur: str) -> str:
    v = _num(x)
    if v is None:
        return f'<span class="na">{NA}</span>'
    return f"{v:,.0f} {_e(cur)}"


def _pct(x: Any) -> str:
    v = _num(x)
    return f'<span class="na">{NA}</span>' if v is None else _e(_fig.percent(v))


def _na(what: str = "") -> str:
    extra = f": {_e(what)}" if what else ""
    return f'<p class="na">{NA}{extra}</p>'


def _value(x: Any, cur: str, key: str = "") -> str:
    """Render one scalar, formatting amounts and shares by the key's name."""
    if x is None:
        return '<span class="na">none</span>'
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int | float):
        k = key.lower()
        if (any(w in k for w in ("share", "coinsurance", "rate_on_line", "probab", "haircut"))
                or k.startswith("p_")) and abs(x) <= 1:
            return _e(_fig.percent(float(x)))
        if cur and any(w in k for w in ("limit", "deductible", "attachment", "premium", "amount", "retention",
                                        "loss", "requirement", "credit", "cash", "capital", "tvar", "std",
                                        "oep", "aep")):
            return _amount(x, cur)
        return _e(_plain(x))
    if isinstance(x, list):
        if all(not isinstance(v, Mapping | list) for v in x):
            return _e(", ".join(str(v) for v in x)) if x else '<span class="na">none</span>'
        return _rows_table(x, cur)
    if isinstance(x, Mapping):
        return _kv_table(x, cur)
    return _e(x)


def _kv_table(d: Mapping[str, Any], cur: str, cls: str = "kv") -> str:
    rows = "".join(f"<tr><th>{_e(str(k).replace('_', ' '))}</th><td>{_value(v, cur, str(k))}</td></tr>"
                   for k, v in d.items())
    return f'<table class="{cls}">{rows}</table>'


def _rows_table(rows: list[Any], cur: str) -> str:
    rows = [r for r in rows if isinstance(r, Mapping)]
    if not rows:
        return '<span class="na">none</span>'
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    head = "".join(f"<th>{_e(c.replace('_', ' '))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_value(r.get(c), cur, c)}</td>" for c in cols) + "</tr>"
                   for r in rows)
    return f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{_e(sid)}"><h2>{_e(title)}</h2>{body}</section>'


def _terms(q: Mapping[str, Any], cur: str) -> str:
    t = dict(q.get("terms") or {})
    if not t:
        return _na("the quote carries no terms")
    att, lim, _ = _layer(q)
    head = ""
    if lim is not None:
        head = (f'<p class="lead">Cover: <b>{_amount(lim, cur)}</b> excess of <b>{_amount(att or 0.0, cur)}</b>'
                f" per occurrence, {_e(t.get('inception', '?'))} to {_e(t.get('expiry', '?'))}.</p>")
    return head + _kv_table(t, cur)


def _price(q: Mapping[str, Any], cur: str) -> str:
    comps = q.get("premium_components") or {}
    prem = _num(q.get("premium"))
    rows = []
    for k, v in comps.items():
        share = _num(v)
        frac = f"{_fig.percent(share / prem, digits=3)}" if prem and share is not None else ""
        rows.append(f"<tr><th>{_e(str(k).replace('_', ' '))}</th><td class='num'>{_amount(v, cur)}</td>"
                    f"<td class='num'>{_e(frac)}</td></tr>")
    rows.append(f"<tr class='total'><th>premium</th><td class='num'>{_amount(prem, cur)}</td>"
                f"<td class='num'>{'100%' if prem else ''}</td></tr>")
    comp = ("<table class='grid'><thead><tr><th>component</th><th>amount</th><th>share of premium</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>")
    stats = ("<table class='kv'>"
             f"<tr><th>expected loss</th><td class='num'>{_amount(q.get('expected_loss'), cur)}</td></tr>"
             f"<tr><th>standard deviation</th><td class='num'>{_amount(q.get('std'), cur)}</td></tr>"
             f"<tr><th>TVaR 99.5%</th><td class='num'>{_amount(q.get('tvar_995'), cur)}</td></tr>"
             f"<tr><th>rate on line</th><td class='num'>{_pct(q.get('rate_on_line'))}</td></tr></table>")
    return f"<div class='two'><div>{comp}</div><div>{stats}</div></div>"


def _defence(q: Mapping[str, Any], cur: str) -> str:
    parts = []
    fr = q.get("frequency")
    if fr:
        interval = fr.get("interval")
        itxt = (_e(", ".join(f"{k}: {v}" for k, v in interval.items())) if isinstance(interval, Mapping)
                else _e(" to ".join(f"{_num(v):.4g}" if _num(v) is not None else str(v) for v in interval))
                if isinstance(interval, list | tuple) else f'<span class="na">{NA}</span>')
        scal = {k: v for k, v in fr.items() if k not in ("factors", "interval")}
        fac = _factors(q)
        ftab = _rows_table(fac, cur) if fac else _na("no frequency factors")
        parts.append(f"<h3>Frequency</h3><p>90% interval: {itxt}</p>{_kv_table(scal, cur) if scal else ''}"
                     f"<h4>Factors</h4>{ftab}")
    else:
        parts.append(f"<h3>Frequency</h3>{_na()}")
    sev = q.get("severity")
    if sev:
        rest = {k: v for k, v in sev.items() if k not in ("family", "parameters", "gof")}
        gof = sev.get("gof")
        parts.append(f"<h3>Severity</h3><p>family: <b>{_e(sev.get('family', NA))}</b></p>"
                     f"<h4>Parameters</h4>{_kv_table(sev['parameters'], '') if sev.get('parameters') else _na()}"
                     f"<h4>Goodness of fit</h4>{_value(gof, cur, 'gof') if gof else _na()}"
                     f"{_kv_table(rest, cur) if rest else ''}")
    else:
        parts.append(f"<h3>Severity</h3>{_na()}")
    perils = q.get("perils")
    parts.append("<h3>Perils</h3>" + (_rows_table(list(perils), cur) if perils else _na()))
    parts.append("<h3>Layer probabilities</h3><table class='kv'>"
                 f"<tr><th>P(attach): a loss reaches the layer</th><td id='p_attach'>{_pct(q.get('p_attach'))}</td></tr>"
                 f"<tr><th>P(exhaust): a loss uses the whole limit</th><td id='p_exhaust'>{_pct(q.get('p_exhaust'))}"
                 "</td></tr></table>")
    ep = q.get("ep_points")
    parts.append("<h3>Exceedance points (return period in years)</h3>" + (_rows_table(list(ep), cur) if ep else _na()))
    pr = q.get("premium_range")
    if isinstance(pr, list | tuple) and len(pr) == 2:
        parts.append(f"<h3>Premium range</h3><p>{_amount(pr[0], cur)} to {_amount(pr[1], cur)} "
                     "(from the frequency interval)</p>")
    else:
        parts.append(f"<h3>Premium range</h3>{_na()}")
    return "".join(parts)


def _figures(q: Mapping[str, Any], figs: Mapping[str, bytes] | None) -> str:
    reasons = figure_inputs(q)
    out = []
    for i, (key, caption) in enumerate(FIGURES.items(), start=1):
        spec = reasons.get(key)
        if key == "factors" and not isinstance(spec, str) and spec and spec[1].get("title"):
            caption = "Risk-score reasons: contribution to the log annual breach rate (no frequency factors in this quote)"
        png = (figs or {}).get(key)
        if png:
            src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            out.append(f'<figure id="fig-{key}"><img src="{src}" alt="{_e(caption)}">'
                       f"<figcaption>Figure {i}. {_e(caption)}.</figcaption></figure>")
        else:
            why = reasons.get(key)
            why = why if isinstance(why, str) else "the figure was not supplied"
            out.append(f'<figure id="fig-{key}" class="missing"><p class="na">Figure {i} ({_e(caption)}): '
                       f"{NA}: {_e(why)}.</p></figure>")
    return "".join(out)


def _reserve(q: Mapping[str, Any], cur: str) -> str:
    r = dict(q.get("reserve") or {})
    if not r:
        return _na()
    checks = r.pop("checks", [])
    body = _kv_table(r, cur)
    if checks:
        rows = []
        for c in checks:
            if not isinstance(c, Mapping):
                continue
            h = _num(c.get("haircut"))
            who = f"<br><span class='small'>{_e(c['policy'])}</span>" if c.get("policy") else ""
            rows.append(f"<tr><td>{_e(c.get('rule', '?'))}{who}</td><td>{_e(c.get('outcome', ''))}</td>"
                        f"<td class='num'>{'' if h is None else _e(_fig.percent(h))}</td>"
                        f"<td>{_e(c.get('reason', ''))}<br><span class='small'>{_e(c.get('status', ''))}: "
                        f"{_e(c.get('source', ''))}</span></td></tr>")
        body += ("<h3>Checks</h3><table class='grid checks'><thead><tr><th>rule</th><th>outcome</th>"
                 "<th>haircut</th><th>reason, status and source</th></tr></thead><tbody>"
                 + "".join(rows) + "</tbody></table>")
    return body


def _reasons(reasons: list[Any]) -> str:
    rows = [r for r in reasons if isinstance(r, Mapping)]
    if not rows:
        return _na("the quote lists no reasons")
    body = []
    for r in rows:
        lo, pe = _num(r.get("log_rate")), _num(r.get("p_effect"))
        feats = str(r.get("detail") or "")
        body.append(f"<tr><td>{_e(r.get('factor', '?'))}</td><td>{_e(r.get('direction', ''))}</td>"
                    f"<td class='num'>{'' if lo is None else _e(f'{lo:+.3f}')}</td>"
                    f"<td class='num'>{'' if pe is None else _e(f'{100 * pe:+.2f} pts')}</td>"
                    f"<td class='small'>{_e(feats)}</td></tr>")
    return ("<table class='grid'><thead><tr><th>factor</th><th>direction</th><th>log rate</th>"
            "<th>effect on P(breach)</th><th>detail</th></tr></thead><tbody>"
            + "".join(body) + "</tbody></table>")


_CSS = """
@page { size: A4; margin: 16mm 15mm 16mm 15mm; }
* { box-sizing: border-box; }
html { background: #ffffff; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 10pt; color: #1c2833;
       line-height: 1.4; max-width: 180mm; margin: 0 auto; padding: 10mm 0; }
header { border-bottom: 3px solid #1c2833; padding-bottom: 4mm; margin-bottom: 5mm; }
header h1 { font-size: 19pt; margin: 0 0 1mm 0; }
header .sub { color: #566573; }
.headline { display: flex; gap: 6mm; margin: 4mm 0; }
.headline > div { flex: 1; border: 1px solid #d5d8dc; border-radius: 2mm; padding: 2.5mm 3mm; }
.headline .label { font-size: 8pt; color: #566573; text-transform: uppercase; letter-spacing: .04em; }
.headline .big { font-size: 14pt; font-weight: bold; }
h2 { font-size: 13pt; border-bottom: 1px solid #aab7b8; padding-bottom: 1mm; margin: 7mm 0 3mm; }
h3 { font-size: 11pt; margin: 4mm 0 2mm; }
h4 { font-size: 9.5pt; margin: 3mm 0 1.5mm; color: #34495e; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm; font-size: 9pt; }
th, td { text-align: left; vertical-align: top; padding: 1.2mm 2mm; border-bottom: 1px solid #e5e8e8; }
table.kv th { width: 42%; font-weight: normal; color: #566573; }
table.grid thead th { background: #f2f3f4; font-weight: bold; border-bottom: 1px solid #aab7b8; }
td.num { white-space: nowrap; text-align: right; font-variant-numeric: tabular-nums; }
tr.total th, tr.total td { font-weight: bold; border-top: 2px solid #1c2833; }
.two { display: flex; gap: 6mm; } .two > div { flex: 1; }
.na { color: #a04000; font-style: italic; }
.warnings { border-left: 4px solid #c0392b; background: #fdedec; padding: 2mm 4mm; margin: 4mm 0; }
.warnings h2 { border: none; margin: 1mm 0; color: #922b21; }
.ok { border-left: 4px solid #1e8449; background: #eafaf1; padding: 2mm 4mm; margin: 4mm 0; }
figure { margin: 4mm 0; page-break-inside: avoid; break-inside: avoid; }
figure img { width: 100%; max-width: 170mm; display: block; border: 1px solid #e5e8e8; }
figcaption { font-size: 8.5pt; color: #566573; margin-top: 1mm; }
section { break-inside: auto; }
footer { margin-top: 8mm; border-top: 1px solid #aab7b8; padding-top: 2mm; font-size: 8pt; color: #566573; }
code { font-size: 8.5pt; }
td.small, span.small { font-size: 7.5pt; color: #566573; }
table.checks td:first-child { width: 28%; word-break: break-word; }
table { table-layout: auto; } td { overflow-wrap: anywhere; }
@media print { body { padding: 0; } h2 { break-after: avoid; } }
"""


def render_quote_html(quote_json: Mapping[str, Any], *, figures: Mapping[str, bytes] | None = None) -> str:
    """Render a quote as one self-contained HTML page (A4, inline CSS, embedded PNG figures).

    Parameters
    ----------
    quote_json : dict
        The quote's canonical JSON as a dict (``Quote.to_dict()`` or ``json.loads`` of ``quote --json``).
    figures : dict of str to bytes, optional
        PNG bytes by figure key (see :data:`FIGURES`), e.g. from :func:`build_quote_figures`. A figure
        not given is shown as "not available" with the reason.

    Returns
    -------
    str
        The HTML document (UTF-8 text). Amounts are in the quote's currency.
    """
    q = quote_json
    cur = str(q.get("currency") or "")
    exch = q.get("exchange", "?")
    warnings = q.get("warnings")
    if warnings:
        wblock = ('<div class="warnings" id="warnings"><h2>Warnings</h2><ul>'
                  + "".join(f"<li>{_e(w)}</li>" for w in warnings) + "</ul></div>")
    elif warnings is None:
        wblock = f'<div class="warnings" id="warnings"><h2>Warnings</h2>{_na("the quote carries no warnings list")}</div>'
    else:
        wblock = '<div class="ok" id="warnings">No warnings.</div>'
    fx = q.get("fx") or []
    reasons = q.get("reasons") or []
    assumptions = q.get("assumptions") or []
    versions = dict(q.get("versions") or {})
    prov = {**{f"method: {k}": v for k, v in (q.get("methods") or {}).items()},
            **{f"version: {k}": v for k, v in versions.items()},
            "seed": q.get("seed"), "input hash": q.get("input_hash")}
    pf = q.get("portfolio")
    body = [
        f"<header><h1>Crypto-exchange hack and theft insurance: quote for {_e(exch)}</h1>"
        f"<div class='sub'>as of {_e(q.get('as_of', '?'))} · amounts in {_e(cur)} · reference "
        f"<code>{_e(str(q.get('input_hash', ''))[:16])}</code></div></header>",
        "<div class='headline'>"
        f"<div><div class='label'>premium</div><div class='big' id='premium'>{_amount(q.get('premium'), cur)}</div></div>"
        f"<div><div class='label'>rate on line</div><div class='big'>{_pct(q.get('rate_on_line'))}</div></div>"
        f"<div><div class='label'>expected loss</div><div class='big'>{_amount(q.get('expected_loss'), cur)}</div></div>"
        f"<div><div class='label'>risk score</div><div class='big'>{_e(_plain(round(_num(q.get('risk_score')) or 0.0, 1)) if _num(q.get('risk_score')) is not None else NA)} / 100"
        f" (band {_e(q.get('risk_band', NA))})</div></div></div>",
        wblock,
        _section("exchange", "The exchange", _kv_table({
            "exchange": exch, "as of": q.get("as_of"), "risk score (0 best, 100 worst)": q.get("risk_score"),
            "risk band": q.get("risk_band"), "P(breach within 1 year)": _fig.percent(_num(q.get("p_breach_1y")))
            if _num(q.get("p_breach_1y")) is not None else None,
            "expected breaches in the term": q.get("expected_breaches_term")}, cur)),
        _section("terms", "The terms", _terms(q, cur)),
        _section("price", "The price and its components", _price(q, cur)),
        _section("defence", "How the price is built (defence)", _defence(q, cur)),
        _section("figures", "Figures", _figures(q, figures)),
        _section("reserve", "Reserve", _reserve(q, cur)),
    ]
    if pf:
        body.append(_section("portfolio", "Portfolio capital", _kv_table(pf, cur)))
    body += [
        _section("reasons", "Reasons (risk score, largest effects first)", _reasons(reasons)),
        _section("assumptions", "Assumptions",
                 ("<ul>" + "".join(f"<li>{_e(a)}</li>" for a in assumptions) + "</ul>") if assumptions else _na()),
        _section("fx", "Exchange rates used", _rows_table(list(fx), cur) if fx else
                 "<p>None: every amount was already in the quote currency.</p>"),
        _section("versions", "Methods, versions and reproduction", _kv_table(prov, cur)),
        f"<footer>Generated by underwriting {_e(versions.get('underwriting', ''))} from the quote's canonical JSON. "
        "Figures are embedded; this page loads nothing from the network.</footer>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Quote: {_e(exch)}</title><meta name=\"viewport\" content=\"width=device-width\">"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
