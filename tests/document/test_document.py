"""The quote letter: every section, the quote's own values (formatted, never raw), escaping, self-containment, missing keys."""

from __future__ import annotations

import base64
import copy
import html as html_mod
import re

import pytest

from underwriting import figures as F
from underwriting.quote.document import (
    FIGURES,
    build_quote_figures,
    figure_inputs,
    render_quote_html,
)

SECTIONS = ["exchange", "terms", "price", "defence", "figures", "reserve", "reasons", "assumptions", "fx",
            "versions"]


def _amount(x: float, cur: str) -> str:
    return f"{x:,.0f} {cur}"


def test_every_section_and_figure_is_present(full_quote, full_figures):
    html = render_quote_html(full_quote, figures=full_figures, lang="en")
    assert html.startswith("<!DOCTYPE html>")
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in html, sid
    assert 'id="warnings"' in html
    assert set(full_figures) == set(FIGURES)
    imgs = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(imgs) == len(FIGURES)
    assert sorted(base64.b64decode(s) for s in imgs) == sorted(full_figures.values())
    assert "not available" not in html  # every key is present in the full quote


def _sig(x: float, digits: int) -> str:
    """What the letter prints for a plain number: ``digits`` significant figures, positional."""
    import math

    d = max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))
    text = f"{x:,.{d}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def test_values_equal_the_quote_json(full_quote, full_figures):
    q = full_quote
    cur = q["currency"]
    html = render_quote_html(q, figures=full_figures, lang="en")
    text = re.sub(r"<[^>]+>", " ", html)
    assert html_mod.escape(q["warnings"][0]) in html
    assert f"<div class='big' id='premium'>{_amount(q['premium'], cur)}</div>" in html
    for key in ("expected_loss", "std", "tvar_995"):
        assert _amount(q[key], cur) in html
    basis = q["inputs"]["basis"]
    for name, v in q["premium_components"].items():
        m = re.search(rf"<th>{re.escape(name.replace('_', ' '))}</th><td class='num'>{re.escape(_amount(v, cur))}</td>"
                      rf"<td class='num'>([^<]*)</td>", html)
        assert m, name
        if name in ("expense", "commission", "tax"):  # each load shows its rate, an input
            assert m.group(1) == f"{F.percent(basis[name])} of premium", (name, m.group(1))
    t = q["terms"]
    assert f"Cover: <b>{_amount(t['limit'], cur)}</b> excess of <b>{_amount(t['deductible'], cur)}</b>" in html
    assert f"<span id='p_attach'>{F.percent(q['p_attach'])} (1 in {1 / q['p_attach']:,.0f} terms)</span>" in html
    assert f"<span id='p_exhaust'>{F.percent(q['p_exhaust'])} (1 in {1 / q['p_exhaust']:,.0f} terms)</span>" in html
    for row in q["ep_points"]:  # points inside the layer are listed; those below it are summarised
        if row["oep"] > 0:
            assert _amount(row["oep"], cur) in html and _amount(row["aep"], cur) in html
    assert "The layer loses nothing at 1 in 10 to 1 in 50" in text
    for p in q["perils"]:
        assert p["name"] in html and _amount(p["expected_loss"], cur) in html
    lo, hi = q["premium_range"]
    assert f"{_amount(lo, cur)} to {_amount(hi, cur)}" in html
    assert q["severity"]["family"] in html
    assert "shape = 0.42" in text and "scale = 21,000,000" in text and "anderson_darling" in text
    for f in q["frequency"]["factors"]:
        assert f["factor"] in html and html_mod.escape(f["reason"]) in html
        assert f"×{_sig(f['multiplier'], 3)}" in html
    assert "0.012 to 0.055" in html
    assert _amount(q["reserve"]["requirement"], cur) in html and _amount(q["reserve"]["credit"], cur) in html
    for a in q["assumptions"]:
        assert html_mod.escape(a, quote=True) in html
    for k, v in q["versions"].items():
        assert f"version: {k.replace('_', ' ')}</th><td>{html_mod.escape(v)}</td>" in html
    assert q["input_hash"] in html
    for r in q["reasons"]:
        assert r["factor"] in html and f"{r['log_rate']:+.3f}" in html
    assert str(q["fx"][0]["units_per_usd"]) in html


def test_no_raw_floats(full_quote, full_figures):
    """Every number is formatted: no long decimal tails such as 0.0021568987619027895 anywhere in the text."""
    for lang in ("en", "ja"):
        text = re.sub(r"<[^>]+>", " ", render_quote_html(full_quote, figures=full_figures, lang=lang))
        text = re.sub(r"data:image/png;base64,\S+", "", text)
        assert not re.findall(r"\d\.\d{7,}", text), lang
        assert not re.search(r"\de[-+]\d", text), lang


def test_warnings_at_the_top_include_the_reserve_warnings(demo_quote):
    q = copy.deepcopy(demo_quote)
    q["warnings"] = []
    html = render_quote_html(q, lang="en")
    reserve_warnings = [c for c in q["reserve"]["checks"] if c["outcome"] in ("warning", "fail")]
    top = html.split('id="warnings"')[1].split("</div>")[0]
    if reserve_warnings:
        assert "No warnings." not in html
        for c in reserve_warnings:
            assert html_mod.escape(c["reason"], quote=True) in top
    else:
        assert "No warnings." in top
    assert html.index('id="warnings"') < html.index('<section id="terms">')


def test_hostile_text_is_escaped(full_quote, full_figures):
    q = copy.deepcopy(full_quote)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    q["exchange"] = evil
    q["terms"]["policy_id"] = evil
    q["warnings"] = [evil]
    q["assumptions"] = [*q["assumptions"], evil]
    q["reasons"][0]["factor"] = evil
    q["reserve"]["checks"][0]["reason"] = evil
    q["perils"][0]["name"] = evil
    html = render_quote_html(q, figures=build_quote_figures(q))
    assert "<script" not in html.lower()
    assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert "<img src=x" not in html
    assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") >= 7
    assert evil not in html


def test_self_contained(full_quote, full_figures):
    html = render_quote_html(full_quote, figures=full_figures)
    srcs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "<link" not in html and "<script" not in html.lower() and "@import" not in html
    assert "url(" not in html
    assert "@page { size: A4" in html


def test_missing_defence_keys_say_not_available(demo_quote):
    q = copy.deepcopy(demo_quote)
    for key in ("severity", "perils", "p_attach", "p_exhaust", "ep_points", "premium_range", "warnings"):
        q.pop(key, None)
    q["frequency"].pop("factors", None)
    q["frequency"].pop("interval", None)
    figs = build_quote_figures(q)
    html = render_quote_html(q, figures=figs, lang="en")
    defence = html.split('<section id="defence">')[1].split("</section>")[0]
    for heading in ("Severity", "Perils", "Exceedance points"):
        block = defence.split(f"<h3>{heading}")[1].split("<h3>")[0]
        assert "not available" in block, heading
    price = html.split('<section id="price">')[1].split("</section>")[0]
    assert re.search(r"premium range \(90% frequency interval\)</th><td><span class=\"na\">not available", price)
    assert defence.count("not available") >= 6
    assert "the quote carries no warnings list" in html
    # the figures it cannot draw are named with the reason; those it can are drawn
    assert "loss_exceedance" not in figs and "perils" not in figs
    assert "Figure 2 (Loss exceedance" in html and "missing p_attach, p_exhaust, ep_points" in html
    assert "Figure 3 (Expected loss by peril): not available: the quote has no per-peril expected losses" in html
    assert "reserve" in figs and "factors" in figs  # from the reserve block and the risk-score reasons


def test_no_figures_supplied(full_quote):
    html = render_quote_html(full_quote, lang="en")
    assert "data:image" not in html
    assert html.count("not available: the figure was not supplied") == len(FIGURES)


def test_exceedance_points_come_from_the_quote(full_quote):
    spec = figure_inputs(full_quote)["loss_exceedance"]
    assert spec[0] == "loss_exceedance_chart"
    kw = spec[1]
    t, q = full_quote["terms"], full_quote
    att, lim, share = t["deductible"], t["limit"], t["coinsurance"]
    assert (kw["attachment"], kw["limit"], kw["currency"]) == (att, lim, q["currency"])
    expected = {(att, q["p_attach"]), (att + lim, q["p_exhaust"])}
    expected |= {(att + r["oep"] / share, 1 / r["return_period"]) for r in q["ep_points"] if 0 < r["oep"] < lim}
    assert set(zip(kw["amounts"], kw["probabilities"], strict=True)) == expected
    assert kw["markers"] == {"P(attach)": (att, q["p_attach"]),
                             "P(exhaust) (aggregate)": (att + lim, q["p_exhaust"])}  # the demo has an aggregate limit


def test_inconsistent_exceedance_is_not_drawn(full_quote):
    q = copy.deepcopy(full_quote)
    q["p_exhaust"] = 0.5  # more likely to exhaust than to attach: the document refuses to draw it
    assert "not decreasing" in figure_inputs(q)["loss_exceedance"]


def test_waterfall_inputs_from_the_reserve_block(full_quote):
    name, kw = figure_inputs(full_quote)["reserve"]
    r = full_quote["reserve"]
    assert name == "reserve_waterfall"
    assert kw["requirement"] == r["requirement"] and kw["residual"] == r["residual_cash"]
    assert [c for _, c in kw["credits"]] == [r["credit"]]
    assert kw["retention"] == min(full_quote["terms"]["deductible"], r["requirement"], r["residual_cash"])


@pytest.mark.parametrize("example", ["global_large_exchange.json", "hk_exchange_with_incident.json"])
def test_other_examples_render(example):
    from underwriting.domain.submission import load_submission
    from underwriting.quote.make import make_quote
    from underwriting.resources import example_path

    q = make_quote(load_submission(str(example_path(example))), None, seed=0).to_dict()
    html = render_quote_html(q, figures=build_quote_figures(q), lang="en")
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in html
    assert _amount(q["premium"], q["currency"]) in html


def test_factor_figure_falls_back_to_the_risk_score_reasons_and_says_so(demo_quote):
    q = copy.deepcopy(demo_quote)
    q["frequency"].pop("factors", None)
    name, kw = figure_inputs(q)["factors"]
    assert name == "factor_chart"
    assert [f["log_rate"] for f in kw["factors"]] == [r["log_rate"] for r in q["reasons"]][:12]
    html = render_quote_html(q, figures=build_quote_figures(q), lang="en")
    assert "Figure 1. Risk-score reasons" in html
