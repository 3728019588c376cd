"""Reserve check reasons in Japanese: rendered from one catalogue template and typed arguments per check.

The English reason is formatted from the same template (so every golden quote's text stays byte for byte);
the Japanese one has no English left but ids, names, currency codes and legal sources; a saved quote's
JSON renders the same Japanese as the quote it was saved from.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from tests.reserve.helpers import load_example, make_policy, with_exposure
from underwriting import i18n
from underwriting.domain.message import localise, outcome_label, parse
from underwriting.domain.report import format_quote
from underwriting.reserve.assessment import assess
from underwriting.reserve.regime import load_regime
from underwriting.reserve.regime_words import REGIME_WORDS

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests/golden/quotes"
SUB = ROOT / "datasets/examples/jp_small_exchange.json"
POLICY = ROOT / "datasets/examples/policy_jp_primary.toml"
REGIMES = sorted(p.stem for p in (ROOT / "underwriting/reserve/regimes").glob("*.toml"))

#: ASCII words a Japanese reason may keep: the formula's functions (min/max, as the regime file writes them).
ALLOWED = {"min", "max"}


def check_reason(c, *, lang=None):
    """A check's reason (a dict of the quote's JSON) in ``lang``, as the renderers write it."""
    return localise(c.get("reason"), c.get("reason_message"), lang=lang)


def english_words(text: str, *, keep: tuple[str, ...] = ()) -> list[str]:
    """ASCII words of 3+ letters in ``text`` that are not ids (``a_b``/``a.b``), codes (all capitals) or ``keep``."""
    for k in keep:
        text = text.replace(k, " ")
    words = re.findall(r"(?<![\w.\-])[A-Za-z][A-Za-z_.\-]*[A-Za-z](?![\w.])", text)
    return [w for w in words if len(w) >= 3 and not w.isupper() and "_" not in w and "." not in w
            and w not in ALLOWED]


def _golden_checks():
    for path in sorted(GOLDEN.glob("*.json")):
        for c in (json.loads(path.read_text(encoding="utf-8")).get("reserve") or {}).get("checks") or []:
            yield path.stem, c


def test_english_reason_is_the_template_filled_for_every_golden_check():
    """The English text a golden quote recorded is exactly its template filled with its arguments."""
    n = 0
    for name, c in _golden_checks():
        assert c["reason_message"]["kind"] == "message", (name, c["rule"])
        assert parse(c["reason_message"]).text() == c["reason"], (name, c["rule"])
        assert check_reason(c, lang="en") == c["reason"]
        n += 1
    assert n > 200


def test_every_golden_check_renders_in_japanese_without_english():
    for name, c in _golden_checks():
        ja = check_reason(c, lang="ja")
        assert ja != c["reason"] and "{" not in ja, (name, c["rule"], ja)
        keep = (*re.findall(r"[A-Z][\w&' ]*\(fictional\)", ja), c.get("policy") or "")
        assert not english_words(ja, keep=keep), (name, c["rule"], ja, english_words(ja, keep=keep))


def _reserve_section(text: str) -> list[str]:
    head = "責任準備金の判定"
    lines = text.splitlines()
    i = lines.index(head)
    out = []
    for line in lines[i + 2:]:
        if not line.strip():
            break
        out.append(line)
    return out


def _jp_quote():
    from underwriting.api import quote

    return quote(str(SUB), terms=str(POLICY))


def test_japanese_report_of_the_jp_sample_has_no_english_reason():
    q = _jp_quote()
    with i18n.use_lang("ja"):
        text = format_quote(q)
    lines = _reserve_section(text)
    assert len(lines) == len(q.reserve.checks) >= 15
    for line, c in zip(lines, q.reserve.checks, strict=True):
        m = re.match(r"  \[ *(\S+)\] (\S+): (.*)$", line)
        assert m, line
        label, rule, reason = m.groups()
        assert rule == c["rule"] and label == outcome_label(c["outcome"], lang="ja") and not label.isascii()
        leftover = english_words(reason, keep=("Example Marine & Fire (fictional)",))
        assert not leftover, (line, leftover)
    assert "285,000,000円" in text and "2027年4月1日" in text and "ヘアカット" in text
    with i18n.use_lang("en"):
        en = format_quote(q)
    assert "[haircut] credit.cap: credit 285,000,000.00 capped at 50% of the requirement = 200,000,000.00" in en


def test_a_saved_quote_renders_the_same_japanese():
    """The quote's canonical JSON, read back, gives the same Japanese report and reasons."""
    from underwriting.domain.quote import Quote

    q = _jp_quote()
    saved = json.loads(q.canonical().to_json())
    back = Quote.model_validate(saved)
    with i18n.use_lang("ja"):
        assert format_quote(back) == format_quote(q.canonical())
        assert [check_reason(c) for c in saved["reserve"]["checks"]] == [check_reason(c) for c in q.reserve.checks]
    assert all(c["reason_message"]["id"] and isinstance(c["reason_message"]["args"], dict)
               for c in saved["reserve"]["checks"])


def test_a_check_without_a_template_keeps_its_recorded_english():
    old = {"rule": "jp.x", "outcome": "pass", "reason": "an old reason"}
    assert check_reason(old, lang="ja") == "an old reason"
    bad = {**old, "reason_message": {"kind": "message", "id": "value {missing}", "args": {}}}
    assert check_reason(bad, lang="ja") == "an old reason"
    odd = {**old, "reason_message": {"kind": "message", "id": "value {x}", "args": {"x": {"kind": "nonsense"}}}}
    assert check_reason(odd, lang="ja") == "an old reason"
    # saved before reasons were one message (reason_id and reason_args beside the text): English kept
    earlier = {**old, "reason_id": "value {x}", "reason_args": {"x": {"kind": "text", "value": "1"}}}
    assert check_reason(earlier, lang="ja") == "an old reason"


def _variants():
    """Policies that fail, haircut or overlap, so every reason template is rendered."""
    d = dt.date
    return [
        [make_policy()],
        [make_policy(inception=d(2026, 10, 1), expiry=d(2027, 2, 1), cancellation_notice_days=10,
                     insurer_authorised=False, captive=True, insurer_rating="BBB", claims_payment_days=90,
                     exclusions=["supervisory_action", "war_and_state_actor"], perils=["hot_wallet_theft"],
                     declared_coverage={}, coinsurance=0.5, deductible=5e7)],
        [make_policy(captive=True, reinsured_out=True, insurer_rating="NR")],
        [make_policy(policy_id="p", limit=2e8, reinstatements=0, aggregate_limit=2e8),
         make_policy(policy_id="q", attachment=1e8, limit=3e8, sublimits={"cold_wallet_theft": 1e6})],
        [make_policy(inception=d(2020, 1, 1), expiry=d(2021, 1, 1))],
        [make_policy(attachment=1e15, limit=1e9)],
    ]


@pytest.mark.parametrize("regime", REGIMES)
def test_every_branch_renders_in_both_languages(regime, fx):
    sub = with_exposure(load_example("jp_small_exchange.json"), gross_income=2e9)  # Basel's indicator
    seen = set()
    for pols in _variants():
        a = assess(sub, pols, regime, fx, as_of=dt.date(2026, 12, 1))
        for c in (x.to_dict() for x in a.checks):
            assert parse(c["reason_message"]).text() == c["reason"]
            ja = check_reason(c, lang="ja")
            names = tuple(p.insurer for p in pols) + tuple(p.policy_id for p in pols)
            assert "{" not in ja and not english_words(ja, keep=names), (regime, c["rule"], ja)
            seen.add(c["reason_message"]["id"])
    assert len(seen) >= 8


@pytest.fixture
def fx():
    from underwriting.domain.currency import FxTable

    return FxTable().with_user_rates({"JPY": 150.0, "EUR": 0.92, "HKD": 7.8})


@pytest.mark.parametrize("regime", REGIMES)
def test_every_regime_text_a_reason_quotes_is_in_the_catalogue(regime):
    """A regime file edited without regime_words.REGIME_WORDS would fall back to English: caught here."""
    reg = load_regime(regime)
    texts = [reg.requirement.formula]
    for rule in reg.rules:
        items = (rule.params or {}).get("items") if rule.kind in ("wording_check", "declared_coverage") else None
        texts += list(items.values() if isinstance(items, dict) else items or [])
    t = i18n.translations("ja")
    for text in texts:
        assert text in REGIME_WORDS, text
        assert t.gettext(text) != text, text


def test_reserve_command_in_japanese_renders_every_reason(cli):
    args = ("reserve", SUB, "--policy", POLICY, "--regime", "jp-fsa-2026", "--no-risk-sizing")
    code, ja, err = cli(*args, "--lang", "ja")
    assert code == 0, err
    code, js, _ = cli(*args, "--json")
    d = json.loads(js)
    for c in d["checks"]:
        assert check_reason(c, lang="ja") in ja
    assert "警告：評価日2026年9月30日は制度の施行日2027年4月1日より前です" in ja
    assert "assessed at" not in ja and "[ヘアカット]" in ja
