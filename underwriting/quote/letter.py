"""The sections of the quote letter (:mod:`underwriting.quote.document`): slip, build-up, defence, reserve.

Every builder takes the quote's canonical JSON and returns escaped HTML in the current language
(:func:`underwriting.i18n.use_lang`). Amounts always carry their currency (Japanese yen as 円);
probabilities are percentages with "1 in N terms"; no number is printed raw. ``slip`` (the policy
terms file as JSON) and ``letter`` (the pricing-basis file) add what the quote JSON does not carry
(insurer, reinstatements, exclusions, conditions, subjectivities, signatory); a field neither gives
is shown as "not given", never left out.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from underwriting.domain.message import localise, outcome_label
from underwriting.domain.report import covariate_text
from underwriting.i18n import _, current_lang, date_long, finite_number, money, money_short, percent

__all__ = ["warnings_list", "headline", "slip_section", "price_section", "defence_section", "reserve_section",
           "reasons_section", "signature_block", "label", "amount"]


def e(x: Any) -> str:
    """HTML-escaped text."""
    return html.escape(str(x), quote=True)


def na() -> str:
    return f'<span class="na">{e(_("not available"))}</span>'


def not_given() -> str:
    return f'<span class="na">{e(_("not given"))}</span>'


def amount(x: Any, cur: str) -> str:
    """An exact amount with its currency (escaped), or "not available"."""
    v = finite_number(x)
    return na() if v is None else e(money(v, cur))


def pct(x: Any) -> str:
    v = finite_number(x)
    return na() if v is None else e(percent(v))


def sig(x: Any, digits: int = 4) -> str:
    """A plain number with ``digits`` significant figures, positional (never "1e-05")."""
    v = finite_number(x)
    if v is None:
        return na()
    if v == 0:
        return "0"
    d = max(0, digits - 1 - int(math.floor(math.log10(abs(v)))))
    text = f"{v:,.{min(d, 12)}f}"
    return e(text.rstrip("0").rstrip(".") if "." in text else text)


def one_in(p: Any) -> str:
    """``p`` as "0.325% (1 in 307 terms)"."""
    v = finite_number(p)
    if v is None:
        return na()
    if v <= 0:
        return e(percent(0.0))
    return e(_("{p} (1 in {n} terms)").format(p=percent(v), n=f"{1 / v:,.0f}"))


def label(key: str) -> str:
    """A vocabulary key (peril, exclusion, premium component) as words in the current language."""
    return _(str(key).replace("_", " "))


def _kv(rows: Sequence[tuple[str, str]], cls: str = "kv") -> str:
    """Two-column table; labels are escaped here, values must already be HTML."""
    body = "".join(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="{cls}">{body}</table>'


def _grid(head: Sequence[str], rows: Sequence[Sequence[str]], num_cols: Sequence[int] = (), cls: str = "grid") -> str:
    """A table with a header; cells must already be HTML; ``num_cols`` are right-aligned."""
    def attr(i: int) -> str:
        return ' class="num"' if i in num_cols else ""

    h = "".join(f"<th{attr(i)}>{e(c)}</th>" for i, c in enumerate(head))
    b = "".join("<tr>" + "".join(f"<td{attr(i)}>{c}</td>" for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{h}</tr></thead><tbody>{b}</tbody></table>'


def section(sid: str, title: str, body: str) -> str:
    return f'<section id="{e(sid)}"><h2>{e(title)}</h2>{body}</section>'


# ---- warnings and headline -----------------------------------------------------------------------

def warnings_list(q: Mapping[str, Any]) -> list[str] | None:
    """Every warning of the quote: its own list, then the reserve checks whose outcome is a warning or a failure.

    ``None`` when the quote carries no warnings list at all.
    """
    own = q.get("warnings")
    checks = [c for c in (q.get("reserve") or {}).get("checks") or [] if isinstance(c, Mapping)
              and c.get("outcome") in ("warning", "fail")]
    if own is None and not checks:
        return None
    out = [str(w) for w in own] if own is not None else [
        _("not available") + ": " + _("the quote carries no warnings list")]
    out += [_("reserve ({rule}): {reason}").format(rule=c.get("rule", "?"),
                                                   reason=localise(c.get("reason"), c.get("reason_message")))
            for c in checks]
    return out


def headline(q: Mapping[str, Any], cur: str) -> str:
    prem = finite_number(q.get("premium"))
    boxes = [
        (_("premium"), f"<div class='big' id='premium'>{amount(prem, cur)}</div>"
         + (f"<div class='small'>{e(money_short(prem, cur))}</div>" if prem is not None else "")),
        (_("rate on line"), f"<div class='big'>{pct(q.get('rate_on_line'))}</div>"),
        (_("expected loss"), f"<div class='big'>{amount(q.get('expected_loss'), cur)}</div>"),
        (_("P(attach)"), f"<div class='big'>{pct(q.get('p_attach'))}</div>"),
    ]
    return "<div class='headline'>" + "".join(f"<div><div class='label'>{e(k)}</div>{v}</div>" for k, v in boxes) + "</div>"


# ---- page one: the slip and the premium ----------------------------------------------------------

def _layers(q: Mapping[str, Any], slip: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Each layer's attachment, limit, deductible, aggregate limit, reinstatements, in the quote currency."""
    t = q.get("terms") or {}
    slips = list((slip or {}).get("layers") or ([slip] if slip else []))
    lays = [lay for lay in q.get("layers") or [] if isinstance(lay, Mapping)]
    if not lays:
        lays = [{"policy_id": t.get("policy_id"), "attachment": t.get("attachment", t.get("deductible")),
                 "limit": t.get("limit"), "coinsurance": t.get("coinsurance")}]
    out = []
    for i, lay in enumerate(lays):
        s = slips[i] if i < len(slips) else {}
        out.append({**lay, "deductible": s.get("deductible", t.get("deductible") if len(lays) == 1 else None),
                    "aggregate_limit": s.get("aggregate_limit", t.get("aggregate_limit") if len(lays) == 1 else None),
                    "reinstatements": s.get("reinstatements"), "insurer": s.get("insurer"),
                    "insurer_rating": s.get("insurer_rating"), "currency_of_slip": s.get("currency")})
    return out


def slip_section(q: Mapping[str, Any], slip: Mapping[str, Any] | None, letter: Mapping[str, Any] | None) -> str:
    """The slip: insured, insurer and share, period, layers, sub-limits, perils, exclusions, conditions, subjectivities."""
    cur = str(q.get("currency") or "")
    t = q.get("terms") or {}
    s = slip or {}
    first = (s.get("layers") or [s])[0] if s else {}
    lays = _layers(q, slip)
    insurer = first.get("insurer")
    share = finite_number(t.get("coinsurance"))
    ins_txt = not_given() if not insurer else e(_("{insurer} (rating {rating}), share {share}").format(
        insurer=insurer, rating=first.get("insurer_rating", "?"), share=percent(share if share is not None else 1.0)))
    rows = [
        (_("insured"), e(q.get("exchange", "?"))),
        (_("insurer and share"), ins_txt),
        (_("period of insurance"), e(_("{start} to {end} (both days inclusive)").format(
            start=date_long(t.get("inception"), na=_("not given")), end=date_long(t.get("expiry"), na=_("not given"))))),
        (_("perils insured"), e(", ".join(label(p) for p in t.get("perils_covered") or [])) or not_given()),
        (_("exclusions"), (e(", ".join(label(x) for x in first.get("exclusions") or [])) or e(_("none")))
         if s else not_given()),
    ]
    sub = t.get("sublimits") or {}
    pcur = str(t.get("currency_of_policy") or cur)
    rows.append((_("sub-limits (per occurrence)"), e("; ".join(f"{label(k)} {money(finite_number(v), pcur)}" for k, v in sub.items()))
                 if sub else e(_("none"))))
    cond = []
    if s:
        if first.get("cancellation_notice_days") is not None:
            cond.append(_("cancellation by the insurer on {n} days' notice").format(n=first["cancellation_notice_days"]))
        if first.get("claims_payment_days") is not None:
            cond.append(_("valid claims paid within {n} days").format(n=first["claims_payment_days"]))
        if first.get("insurer_authorised") is not None:
            cond.append(_("insurer authorised in the jurisdiction") if first["insurer_authorised"]
                        else _("insurer NOT authorised in the jurisdiction"))
    rows.append((_("conditions"), ("<ul>" + "".join(f"<li>{e(c)}</li>" for c in cond) + "</ul>") if cond else not_given()))
    subj = (letter or {}).get("subjectivities")
    rows.append((_("subjectivities"), ("<ul>" + "".join(f"<li>{e(x)}</li>" for x in subj) + "</ul>") if subj
                 else not_given()))
    head = [_("layer"), _("attachment"), _("limit"), _("deductible"), _("aggregate limit"), _("reinstatements")]
    body = []
    for lay in lays:
        rein = lay.get("reinstatements")
        body.append([e(lay.get("policy_id") or "?"), amount(lay.get("attachment"), cur), amount(lay.get("limit"), cur),
                     amount(lay.get("deductible"), cur) if lay.get("deductible") is not None else not_given(),
                     amount(lay.get("aggregate_limit"), cur) if lay.get("aggregate_limit") is not None else e(_("none")),
                     e(rein) if rein is not None else not_given()])
    lim = finite_number(t.get("limit"))
    att = finite_number(t.get("attachment", t.get("deductible")))
    lead = ""
    if lim is not None:
        cover = e(_("Cover: {limit} excess of {attachment} per occurrence.")).format(
            limit=f"<b>{amount(lim, cur)}</b>", attachment=f"<b>{amount(att or 0.0, cur)}</b>")
        lead = f'<p class="lead">{cover}</p>'
    return lead + _kv(rows) + _grid(head, body, num_cols=(1, 2, 3, 4))


def price_section(q: Mapping[str, Any], letter: Mapping[str, Any] | None) -> str:
    """The premium build-up with each load's rate (an input), taxes, rate on line and the validity date."""
    cur = str(q.get("currency") or "")
    comps = q.get("premium_components") or {}
    basis = (q.get("inputs") or {}).get("basis") or {}
    prem = finite_number(q.get("premium"))
    rates = {k: basis.get(k) for k in ("expense", "commission", "tax")}
    rows = []
    for k, v in comps.items():
        rate = finite_number(rates.get(k))
        basis_txt = e(_("{rate} of premium").format(rate=percent(rate))) if rate is not None else ""
        if k == "minimum_uplift" and q.get("layers"):  # the floor is a term of each layer
            floor = sum(finite_number(lay.get("minimum_premium")) or 0.0 for lay in q["layers"])
            basis_txt = e(_("minimum premium {amount}").format(amount=money(floor, cur)))
        rows.append(f"<tr><th>{e(label(k))}</th><td class='num'>{amount(v, cur)}</td><td class='num'>{basis_txt}</td></tr>")
    rows.append(f"<tr class='total'><th>{e(_('premium'))}</th><td class='num'>{amount(prem, cur)}</td>"
                f"<td class='num'>{e(_('tax included')) if comps else ''}</td></tr>")
    table = (f"<table class='grid buildup'><thead><tr><th>{e(_('component'))}</th><th class='num'>{e(_('amount'))}</th>"
             f"<th class='num'>{e(_('load (input)'))}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")
    as_of = q.get("as_of")
    valid = None
    days = (letter or {}).get("validity_days")
    if as_of and days:
        try:
            valid = dt.date.fromisoformat(str(as_of)[:10]) + dt.timedelta(days=int(days))
        except ValueError:
            valid = None
    pr = q.get("premium_range")
    stats = [
        (_("rate on line"), pct(q.get("rate_on_line"))),
        (_("expected loss"), amount(q.get("expected_loss"), cur)),
        (_("standard deviation"), amount(q.get("std"), cur)),
        (_("TVaR 99.5%"), amount(q.get("tvar_995"), cur)),
        (_("premium range (90% frequency interval)"),
         e(_("{low} to {high}").format(low=money(finite_number(pr[0]), cur), high=money(finite_number(pr[1]), cur)))
         if isinstance(pr, list | tuple) and len(pr) == 2 else na()),
        (_("quote valid until"), e(date_long(valid)) if valid else not_given()),
    ]
    return f"<div class='two'><div>{table}</div><div>{_kv(stats)}{{signature}}</div></div>"


def signature_block(q: Mapping[str, Any], slip: Mapping[str, Any] | None, letter: Mapping[str, Any] | None) -> str:
    s = slip or {}
    insurer = ((s.get("layers") or [s])[0] if s else {}).get("insurer")
    who = (letter or {}).get("signatory")
    return ("<div class='signature'>"
            f"<p>{e(_('For and on behalf of {insurer}').format(insurer=insurer or _('the insurer')))}</p>"
            "<div class='sigline'></div>"
            f"<p>{e(who) if who else e(_('name and title'))}</p>"
            f"<p>{e(_('date'))}: ____________</p></div>")


# ---- the defence -----------------------------------------------------------------------------------

def _frequency(q: Mapping[str, Any]) -> str:
    fr = q.get("frequency") or {}
    if not fr:
        return f"<h3>{e(_('Frequency'))}</h3>{na()}"
    iv = fr.get("interval") or fr.get("expected_breaches_interval")
    itxt = (e(_("{low} to {high}").format(low=sig(iv[0], 3), high=sig(iv[1], 3)))
            if isinstance(iv, list | tuple) and len(iv) == 2 else na())
    rows = [(_("annual breach rate"), sig(fr.get("annual_rate"), 3)),
            (_("expected breaches in the term"), sig(fr.get("expected_breaches"), 3)),
            (_("90% interval"), itxt)]
    base = fr.get("base") or {}
    if base:
        cov = base.get("covariates") or {}
        rows.append((_("base rate (real exchange cohorts)"), e(", ".join(
            f"{k} = {sig(v, 4) if finite_number(v) is not None else covariate_text(v)}" for k, v in cov.items()))
            + f" → {sig(base.get('annual_rate'), 3)}"))
    fac = [f for f in fr.get("factors") or [] if isinstance(f, Mapping)]
    ftab = (_grid([_("factor"), _("answer"), _("multiplier"), _("reason")],
                  [[e(f.get("factor", "?")), e(localise(f.get("answer", ""), f.get("answer_message"))),
                    "×" + sig(f.get("multiplier"), 3), e(localise(f.get("reason", ""), f.get("reason_message")))]
                   for f in fac],
                  num_cols=(2,), cls="grid factors") if fac else f"<p>{na()}</p>")
    return f"<h3>{e(_('Frequency'))}</h3>{_kv(rows)}<h4>{e(_('Factors'))}</h4>{ftab}"


def _severity(q: Mapping[str, Any]) -> str:
    sev = q.get("severity")
    if not sev:
        return f"<h3>{e(_('Severity'))}</h3>{na()}"
    params = ", ".join(f"{k} = {sig(v, 4)}" for k, v in (sev.get("parameters") or {}).items())
    g = sev.get("gof") or {}
    gtxt = na() if not g else e(_("{test}: statistic {stat}, p = {p}").format(
        test=g.get("test", g.get("statistic") if isinstance(g.get("statistic"), str) else "gof"),
        stat=sig(g.get("statistic") if finite_number(g.get("statistic")) is not None else g.get("value"), 3),
        p=sig(g.get("p_value"), 3))) + (
            f" <span class='small'>({e(localise(g['p_value_method'], g.get('p_value_method_message')))})</span>"
                                        if g.get("p_value_method") else "")
    rows = [(_("family"), f"<b>{e(sev.get('family', '?'))}</b>"), (_("parameters"), params or na()),
            (_("losses fitted"), e(sev.get("n")) if sev.get("n") is not None else na()),
            (_("goodness of fit"), gtxt)]
    sel = [r for r in sev.get("selection") or [] if isinstance(r, Mapping)]
    out = f"<h3>{e(_('Severity'))}</h3>{_kv(rows)}"
    if sel:
        out += f"<h4>{e(_('Families fitted to the same losses, by AIC'))}</h4>" + _grid(
            [_("family"), "ΔAIC", _("weight")],
            [[e(r.get("family", "?")), sig(r.get("delta_aic"), 3), pct(r.get("akaike_weight"))] for r in sel],
            num_cols=(1, 2))
    return out


def _ep_points(q: Mapping[str, Any], cur: str) -> str:
    """The EP points inside the layer, and what the layer's own P(attach) says about the rest."""
    ep = [r for r in q.get("ep_points") or [] if isinstance(r, Mapping)]
    if not ep:
        return f"<h3>{e(_('Exceedance points'))}</h3>{na()}"
    inside = [r for r in ep if (finite_number(r.get("oep")) or 0) > 0 or (finite_number(r.get("aep")) or 0) > 0]
    below = [r for r in ep if r not in inside]
    out = f"<h3>{e(_('Exceedance points'))}</h3>"
    if inside:  # return periods across, OEP and AEP down: three rows fit the page better than seven
        out += _grid([_("return period"), *(_("1 in {n}").format(n=f"{finite_number(r.get('return_period')) or 0:,.0f}")
                                            for r in inside)],
                     [[k, *(amount(r.get(k.lower()), cur) for r in inside)] for k in ("OEP", "AEP")],
                     num_cols=tuple(range(1, len(inside) + 1)))
    rps_all = [finite_number(r.get("return_period")) or 0 for r in ep]
    if rps_all and min(rps_all) > 10:  # chosen from the layer's own tail (quote.defence.ep_return_periods)
        out += "<p>" + e(_("The layer is reached less than once in 10 terms (P(attach) = {p}): its points are chosen "
                           "from its own tail, 1 in {low} to 1 in {high} (six points evenly spaced in log from "
                           "1/P(attach) to 1 in 10,000).").format(
            low=f"{min(rps_all):,.0f}", high=f"{max(rps_all):,.0f}",
            p=one_in(q.get("p_attach")).replace("&#x27;", "'"))) + "</p>"
    if below:
        rps = [finite_number(r.get("return_period")) or 0 for r in below]
        out += "<p>" + e(_("The layer loses nothing at 1 in {low} to 1 in {high}: those points lie below its "
                           "attachment. It is reached with P(attach) = {p}.").format(
            low=f"{min(rps):,.0f}", high=f"{max(rps):,.0f}", p=one_in(q.get("p_attach")).replace("&#x27;", "'"))) + "</p>"
    return out


def defence_section(q: Mapping[str, Any]) -> str:
    cur = str(q.get("currency") or "")
    perils = [p for p in q.get("perils") or [] if isinstance(p, Mapping)]
    ptab = _grid([_("peril"), _("expected count in the term"), _("expected insured loss")],
                 [[e(label(p.get("name", "?"))) + f" <span class='small'>({e(p.get('name', '?'))})</span>",
                   sig(p.get("expected_count"), 3), amount(p.get("expected_loss"), cur)] for p in perils],
                 num_cols=(1, 2)) if perils else na()
    probs = _kv([(_("P(attach): a loss reaches the layer"), f"<span id='p_attach'>{one_in(q.get('p_attach'))}</span>"),
                 (_("P(exhaust): a loss uses the whole limit"),
                  f"<span id='p_exhaust'>{one_in(q.get('p_exhaust'))}</span>")])
    return (_frequency(q) + _severity(q) + f"<h3>{e(_('Perils'))}</h3>{ptab}"
            + f"<h3>{e(_('Layer probabilities'))}</h3>{probs}" + _ep_points(q, cur))


def reserve_section(q: Mapping[str, Any]) -> str:
    cur = str(q.get("currency") or "")
    r = q.get("reserve") or {}
    if not r:
        return na()
    if not r.get("regime"):
        return f"<p>{e(r.get('note') or _('no reserve regime was applied to this quote'))}</p>"
    rows = [(_("regime"), e(f"{r.get('regime')} {r.get('regime_version') or ''}".strip())),
            (_("requirement"), amount(r.get("requirement"), cur)),
            (_("credit from this policy"), amount(r.get("credit"), cur)),
            (_("credit share"), pct(r.get("credit_share"))),
            (_("residual cash reserve"), amount(r.get("residual_cash"), cur))]
    if r.get("note"):
        rows.append((_("note"), e(r["note"])))
    checks = [c for c in r.get("checks") or [] if isinstance(c, Mapping)]
    ctab = _grid([_("rule"), _("outcome"), _("haircut"), _("reason, status and source")],
                 [[e(c.get("rule", "?")) + (f"<br><span class='small'>{e(c['policy'])}</span>" if c.get("policy") else ""),
                   e(outcome_label(str(c.get("outcome", "")))),
                   pct(c.get("haircut")) if c.get("outcome") == "haircut" else "",
                   f"{e(localise(c.get('reason'), c.get('reason_message')))}<br>"
                   f"<span class='small'>{e(c.get('status', ''))}: {e(c.get('source', ''))}</span>"]
                  for c in checks], cls="grid checks") if checks else ""
    caveat = e(_("Caveat: the credit is a forecast under the regime file's rules; rules marked [assumption] or "
                 "[reported] are not yet published law."))
    return _kv(rows) + f"<p class='small'>{caveat}</p>" + (f"<h3>{e(_('Checks'))}</h3>{ctab}" if ctab else "")


def reasons_section(q: Mapping[str, Any]) -> str:
    rows = [r for r in q.get("reasons") or [] if isinstance(r, Mapping)]
    if not rows:
        return f'<p class="na">{e(_("not available"))}: {e(_("the quote lists no reasons"))}</p>'

    def signed(x: Any, fmt: str) -> str:
        v = finite_number(x)
        return "" if v is None else e(format(v, fmt))

    return _grid([_("factor"), _("direction"), _("log rate"), _("effect on P(breach)"), _("detail")],
                 [[e(r.get("factor", "?")), e(_(str(r.get("direction", "")))), signed(r.get("log_rate"), "+.3f"),
                   e(f"{100 * finite_number(r.get('p_effect')):+.2f} pts") if finite_number(r.get("p_effect")) is not None else "",
                   f"<span class='small'>{e(localise(r.get('detail') or '', r.get('detail_message')))}</span>"]
                  for r in rows], num_cols=(2, 3))


def lang_attr() -> str:
    return current_lang()
