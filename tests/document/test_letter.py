"""The quote letter a broker can send: every slip field of the JP sample, loads as inputs shown in the build-up,
the validity date and signature, in English and Japanese; a PDF without Chromium is refused before any work."""

from __future__ import annotations

import html as html_mod
import json
import re

import pytest

from tests.conftest import EXAMPLES
from underwriting.i18n import date_long

SUB = EXAMPLES / "jp_small_exchange.json"
POLICY = EXAMPLES / "policy_jp_primary.toml"
BASIS = EXAMPLES / "pricing_basis_default.toml"


def _letter(cli, tmp_path, *extra, lang="en"):
    page, js = tmp_path / f"q_{lang}.html", tmp_path / f"q_{lang}.json"
    code, out, err = cli("quote", SUB, "--terms", POLICY, "--report", page, "--out", js, "--lang", lang, *extra)
    assert code == 0, err
    return page.read_text(encoding="utf-8"), json.loads(js.read_text(encoding="utf-8")), out


def _text(html: str) -> str:
    return html_mod.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_every_slip_field_of_the_jp_sample(cli, tmp_path):
    html, q, _ = _letter(cli, tmp_path, "--pricing-basis", BASIS)
    page1 = _text(html.split("<div class='page1'>")[1].split("<section id=\"exchange\">")[0])
    import tomllib

    pol = tomllib.loads(POLICY.read_text(encoding="utf-8"))
    basis = tomllib.loads(BASIS.read_text(encoding="utf-8"))
    expect = [
        "insured " + q["exchange"],
        f"insurer and share {pol['insurer']} (rating {pol['insurer_rating']}), share 100%",
        f"period of insurance {date_long(pol['inception'].isoformat(), lang='en')} to "
        f"{date_long(pol['expiry'].isoformat(), lang='en')}",
        "perils insured hot wallet theft, cold wallet theft, third party vendor, insider, social engineering",
        "exclusions war and state actor",
        "sub-limits (per occurrence) social engineering 500,000,000 JPY",
        f"cancellation by the insurer on {pol['cancellation_notice_days']} days' notice",
        f"valid claims paid within {pol['claims_payment_days']} days",
        # the layer: attachment, limit, deductible, aggregate limit, reinstatements
        f"{pol['policy_id']} 100,000,000 JPY 5,000,000,000 JPY 100,000,000 JPY 5,000,000,000 JPY {pol['reinstatements']}",
        f"premium {q['premium']:,.0f} JPY",
        f"rate on line {100 * q['rate_on_line']:.3g}%",
        "quote valid until 30 October 2026",  # as_of 2026-09-30 + 30 days
        f"For and on behalf of {pol['insurer']}",
        basis["signatory"],
        *basis["subjectivities"],
    ]
    for e in expect:
        assert e in page1, e
    assert "not given" not in page1 and "not available" not in page1
    for k in ("expected loss", "risk load", "expense", "commission", "tax", "minimum uplift"):
        assert re.search(rf"\b{k}\b [\d,]+ JPY", page1), k
    assert "expense 17,000" not in page1  # sanity: the build-up comes from the quote, below


def test_loads_are_inputs_shown_in_the_build_up(cli, tmp_path):
    """The default basis file reproduces the quote without it (same premium, same input hash); other loads
    change the premium exactly as the build-up says, and each load's rate is printed beside it."""
    _, q0, _ = _letter(cli, tmp_path)
    _, q1, _ = _letter(cli, tmp_path, "--pricing-basis", BASIS)
    assert q1["premium"] == q0["premium"] and q1["input_hash"] == q0["input_hash"]
    mine = tmp_path / "basis.toml"
    mine.write_text("expense = 0.15\ncommission = 0.125\ntax = 0.05\nvalidity_days = 14\n", encoding="utf-8")
    html, q2, _ = _letter(cli, tmp_path, "--pricing-basis", mine)
    c = q2["premium_components"]
    assert q2["inputs"]["basis"]["expense"] == 0.15 and q2["inputs"]["basis"]["commission"] == 0.125
    # the canonical quote rounds each amount to the yen: the identities hold to a few yen
    assert sum(c.values()) == pytest.approx(q2["premium"], abs=4)
    before_tax = q2["premium"] - c["tax"]
    assert c["expense"] == pytest.approx(0.15 * before_tax, abs=2)
    assert c["commission"] == pytest.approx(0.125 * before_tax, abs=2)
    assert c["tax"] == pytest.approx(0.05 * before_tax, abs=2)
    assert q2["premium"] > q0["premium"] and q2["input_hash"] != q0["input_hash"]
    assert c["expected_loss"] == pytest.approx(q0["premium_components"]["expected_loss"], abs=1)
    text = _text(html)
    assert f"expense {c['expense']:,.0f} JPY 15% of premium" in text
    assert f"commission {c['commission']:,.0f} JPY 12.5% of premium" in text
    assert f"tax {c['tax']:,.0f} JPY 5% of premium" in text
    assert "quote valid until 14 October 2026" in text


@pytest.mark.parametrize(("body", "field"), [
    ("expense = 0.6\ncommission = 0.5\n", "expense + commission"),
    ("expense = -0.1\n", "expense"),
    ("comission = 0.1\n", "comission"),
    ("validity_days = 0\n", "validity_days"),
])
def test_bad_pricing_basis_is_exit_2_naming_the_field(cli, tmp_path, body, field):
    bad = tmp_path / "basis.toml"
    bad.write_text(body, encoding="utf-8")
    code, out, err = cli("quote", SUB, "--pricing-basis", bad, "--report", tmp_path / "q.html")
    assert code == 2 and field in err and str(bad.name) in err and "Traceback" not in err and out == ""
    assert not (tmp_path / "q.html").exists()


def test_japanese_letter(cli, tmp_path):
    from underwriting.i18n import money_short

    html, q, out = _letter(cli, tmp_path, "--pricing-basis", BASIS, lang="ja")
    assert '<html lang="ja">' in html
    text = _text(html)
    for word in ("見積書", "被保険者", "保険者と引受割合", "保険期間 2026年10月1日から2027年10月1日まで", "担保危険",
                 "免責事由", "内枠てん補限度額", "免責金額", "てん補限度額", "復元回数", "保険料", "レート・オン・ライン",
                 "見積有効期限 2026年10月30日", "責任準備金", f"{q['premium']:,.0f}円",
                 money_short(q["premium"], "JPY", lang="ja")):
        assert word in text, word
    # yen is 円 everywhere the letter formats an amount (the reserve engine's own English reasons aside)
    assert not re.search(r"\d JPY", _text(html.split('<section id="reserve">')[0]))
    reserve = html.split('<section id="reserve">')[1].split("<h3>")[0]
    assert not re.search(r"\d JPY", _text(reserve)) and "400,000,000円" in _text(reserve)
    assert "保険料" in out  # the table printed with the letter is Japanese too


def test_tower_letter_labels_are_in_the_quote_currency(cli, tmp_path):
    page = tmp_path / "t.html"
    code, _, err = cli("quote", EXAMPLES / "global_large_exchange.json", "--terms", EXAMPLES / "tower_usd.toml",
                       "--currency", "EUR", "--report", page, "--lang", "en")
    assert code == 0, err
    slip = _text(page.read_text(encoding="utf-8").split('<section id="terms">')[1].split("</section>")[0])
    assert " EUR" in slip and " USD" not in slip


def test_pdf_without_chromium_is_refused_before_any_work(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("UNDERWRITING_CHROMIUM", str(tmp_path / "no-such-browser"))
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = cli("quote", SUB, "--report", tmp_path / "q.pdf")
    assert code == 2 and "--report" in err and "chromium" in err.lower() and out == ""
    assert not (tmp_path / "q.pdf").exists()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_ep_points_from_the_layers_own_tail(cli, tmp_path, lang):
    """Issue #27: the JP sample's primary is reached less than once in 10 years, so its six EP points run from
    beyond its 1/P(attach) to 1 in 10,000, every one inside the layer and money formatted, and the letter
    says how they were chosen."""
    from underwriting.i18n import money

    html, q, _ = _letter(cli, tmp_path, lang=lang)
    sec = _text(html.split("Exceedance points" if lang == "en" else "超過確率点")[-1].split("</table>")[0] + "</table>")
    rps = [r["return_period"] for r in q["ep_points"]]
    assert len(rps) == 6 and rps[-1] == 10_000 and rps[0] > 1 / q["p_attach"]
    for r in q["ep_points"]:
        n = f"{r['return_period']:,.0f}"
        assert (f"1 in {n}" if lang == "en" else f"{n}年に1回") in sec, n
        assert money(r["oep"], "JPY", lang=lang) in sec and money(r["aep"], "JPY", lang=lang) in sec
    text = _text(html)
    if lang == "en":
        assert f"its points are chosen from its own tail, 1 in {rps[0]:,.0f} to 1 in 10,000" in text
        assert "loses nothing" not in text
    else:
        assert f"{rps[0]:,.0f}年に1回から10,000年に1回まで" in text
