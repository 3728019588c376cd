"""The quote's engine texts in Japanese: frequency factors, reasons, FX basis, fit method, provenance, assumptions.

Each text the engine builds carries a message (catalogue template and typed arguments) beside its English
(:mod:`underwriting.domain.message`); the English is formatted from the same message, the Japanese
report renders the message. The English reports are the golden files (tests/test_golden_quotes.py).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from underwriting.domain.message import Data, Template, Term, data, localise, msg, parse
from underwriting.i18n import translations, use_lang

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "datasets" / "examples"
SAMPLES = ("jp_small_exchange.json", "hk_exchange_with_incident.json", "global_large_exchange.json")

#: ASCII words of 4+ letters a Japanese report may keep: family, test and principle names, model and
#: package names, posture answers that are identifiers, incident names in the baseline's reasons.
ALLOWED = {"lognormal", "weibull", "gamma", "lomax", "Anderson", "Darling", "TVaR", "wang", "Jeffreys", "totp",
           "underwriting", "Bybit", "Coincheck", "spliced", "panjer", "monte", "carlo", "none"}
#: The Japanese report's sections this task translates (by their headings' start).
SECTIONS = ("理由", "頻度の係数", "使用した為替レート", "出所", "前提")


def _quote(sample: str, model: str = "frequency", terms: str | None = "policy_jp_primary.toml"):
    from underwriting.domain.policy import load_terms
    from underwriting.domain.submission import load_submission
    from underwriting.quote.make import make_quote

    t = load_terms(str(EXAMPLES / terms)) if terms else None
    return make_quote(load_submission(str(EXAMPLES / sample)), t, seed=0, frequency_model=model)


def _prose_words(text: str, names: list[str]) -> list[str]:
    """ASCII words of 4+ letters in ``text`` that are not identifiers, URLs, data names or allowed words."""
    for n in sorted(names, key=len, reverse=True):
        text = text.replace(n, " ")
    text = re.sub(r"https?://\S+", " ", text)
    # hashes and hash prefixes (input hash, data and model shas): hex runs of 8+ with a digit
    text = re.sub(r"(?<![A-Za-z0-9])(?=[0-9a-f]*[0-9])[0-9a-f]{8,}(?![A-Za-z0-9])", " ", text)
    text = re.sub(r"[\w\-]*[_./@][\w\-./@]*", " ", text)  # identifiers: posture.admin_mfa, docs/x.md, 0.2.0@sha
    text = re.sub(r"\b\w+=", " ", text)  # key=value
    return [w for w in re.findall(r"[A-Za-z]{4,}", text) if w not in ALLOWED]


def _sections(report: str) -> dict[str, str]:
    out = {}
    for block in report.split("\n\n"):
        head = block.splitlines()[0]
        for s in SECTIONS:
            if head.startswith(s):
                out[s] = block
        if head.startswith("根拠"):  # the defence: the goodness-of-fit line
            out["適合度"] = "\n".join(ln for ln in block.splitlines() if "適合度" in ln)
    return out


def _names(q) -> list[str]:
    sub = q.inputs["submission"]
    return [sub["exchange"]["name"], *(v["name"] for v in sub.get("vendors") or [])]


def _factor_ids(q, section: str) -> list[str]:
    """The identifiers a section names its rows by (the quote's own factor keys, as ``posture.*`` names):
    the reasons' factors in the reasons, the frequency factors' names at the start of their lines."""
    if section == "理由":
        return [r.factor for r in q.reasons]
    if section == "頻度の係数":
        return [f["factor"] for f in q.frequency.factors or []]
    return []


def _without_row_ids(text: str, ids: list[str]) -> str:
    """``text`` with each row's leading identifier removed (only where a row names it, not in its prose)."""
    out = []
    for line in text.splitlines():
        for i in sorted(ids, key=len, reverse=True):
            # reasons: "  上げる  <id>：×1.2 ..."; factors: "  x1.15    <id> = ..."
            m = re.match(r"(\s*\S+\s+)" + re.escape(i) + r"(?=：×| = )", line)
            if m:
                line = m.group(1) + line[m.end():]
                break
        out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize(("sample", "model", "terms"), [
    *((s, "frequency", "policy_jp_primary.toml") for s in SAMPLES),
    ("jp_small_exchange.json", "frequency", None),
    ("hk_exchange_with_incident.json", "baseline", "policy_jp_primary.toml"),
    ("jp_small_exchange.json", "survival", "policy_jp_primary.toml"),
    ("global_large_exchange.json", "frequency", "tower_usd.toml"),
])
def test_japanese_report_has_no_english_prose_in_the_engine_sections(sample, model, terms):
    from underwriting.domain.report import format_quote

    q = _quote(sample, model, terms)
    with use_lang("ja"):
        report = format_quote(q)
    parts = _sections(report)
    assert {"理由", "出所", "前提", "適合度"} <= set(parts), sorted(parts)
    if model == "frequency":
        assert "頻度の係数" in parts
    if q.fx:
        assert "使用した為替レート" in parts
    left = {k: _prose_words(_without_row_ids(v, _factor_ids(q, k)), _names(q)) for k, v in parts.items()}
    assert not any(left.values()), left


def test_the_japanese_report_names_its_parts_in_japanese():
    from underwriting.domain.report import format_quote

    q = _quote("jp_small_exchange.json")
    with use_lang("ja"):
        out = format_quote(q)
    for word in ("（割引）", "（割増）", "ポアソン・ガンマ信頼度", "2025年の年間平均", "パラメトリック・ブートストラップ",
                 "標準の態勢評価スケジュール 第1版@", "保険料算出原理 wang:0.25", "累積損失", "無限大"):
        assert word in out, word


def test_every_message_formats_the_english_text_it_sits_beside():
    """No drift: each stored text is exactly its message's text (the English of the golden files)."""
    checked = 0
    for path in sorted((ROOT / "tests/golden/quotes").glob("*.json")):
        d = json.loads(path.read_text(encoding="utf-8"))
        assert len(d["assumption_messages"]) == len(d["assumptions"]), path.name
        pairs = list(zip(d["assumptions"], d["assumption_messages"], strict=True))
        pairs += [(d["methods"][k], m) for k, m in d["method_messages"].items()]
        pairs += [(d["versions"][k], m) for k, m in d["version_messages"].items()]
        pairs += [(r["detail"], r["detail_message"]) for r in d["reasons"]]
        pairs += [(f[t], f[t + "_message"]) for f in d["frequency"].get("factors") or [] for t in ("answer", "reason")]
        pairs += [(u[t], u[t + "_message"]) for u in d["fx"] for t in ("basis", "purpose") if t in u]
        pairs.append((d["severity"]["gof"]["p_value_method"], d["severity"]["gof"]["p_value_method_message"]))
        assert set(d["method_messages"]) == set(d["methods"]), path.name
        for text, m in pairs:
            assert parse(m).text() == text, (path.name, text)
            checked += 1
    assert checked > 500


def test_a_saved_quote_renders_in_japanese_from_its_json():
    from underwriting.domain.quote import Quote
    from underwriting.domain.report import format_quote
    from underwriting.quote.document import render_quote_html
    from underwriting.service.views import format_document

    q = _quote("hk_exchange_with_incident.json")
    saved = json.loads(q.to_json())
    again = Quote.model_validate(saved)
    with use_lang("ja"):
        direct = format_quote(q)
        assert format_quote(again) == direct
    assert format_document(saved, "ja") == direct
    assert format_document(saved, "en") == format_quote(q)
    with use_lang("ja"):
        page = render_quote_html(saved, figures={})
    assert "ポアソン・ガンマ信頼度" in page and "パラメトリック・ブートストラップ" in page
    assert "Poisson-gamma credibility" not in page and "parametric bootstrap" not in page


def test_an_older_saved_quote_without_messages_still_renders():
    """A quote saved before the messages existed: English as stored; Japanese translates what the catalogue
    knows (shipped schedule reasons) and keeps the rest."""
    from underwriting.domain.quote import Quote
    from underwriting.domain.report import format_quote

    q = _quote("jp_small_exchange.json")
    d = json.loads(q.to_json())
    for k in ("assumption_messages", "method_messages", "version_messages"):
        d.pop(k)
    for r in d["reasons"] + d["score"]["reasons"]:
        r.pop("detail_message")
    for f in d["frequency"]["factors"]:
        f.pop("answer_message"), f.pop("reason_message")
    old = Quote.model_validate(d)
    assert format_quote(old) == format_quote(q)
    with use_lang("ja"):
        out = format_quote(old)
    assert "仮定（合成データ生成器の効果 0.25 を半分にしたもの）" in out
    assert "premium principle wang:0.25" in out  # no message: the text as stored


def test_a_quote_saved_with_untyped_messages_loads_and_keeps_its_english():
    """Messages saved before they were typed parts (``{"id": "gof.bootstrap", "args": {...}}``) are not
    read: the quote loads, English is as stored, Japanese falls back to the catalogue's words for the text."""
    from underwriting.domain.quote import Quote
    from underwriting.domain.report import format_quote

    q = _quote("jp_small_exchange.json")
    d = json.loads(q.to_json())
    untyped = {"id": "frequency.cap.reason", "args": {"raw": "1.5", "capped": "1.4"}}
    d["assumption_messages"] = [untyped for _ in d["assumption_messages"]]
    d["method_messages"] = {k: untyped for k in d["method_messages"]}
    for r in d["reasons"] + d["score"]["reasons"]:
        r["detail_message"] = untyped
    d["severity"]["gof"]["p_value_method_message"] = untyped
    for f in d["frequency"]["factors"]:
        f["reason_message"] = untyped
    for c in d["reserve"]["checks"]:
        c.pop("reason_message")
        c.update(reason_id="value {x}", reason_args={"x": {"kind": "text", "value": "1"}})
    old = Quote.model_validate(d)
    assert old.method_messages == {} and old.assumption_messages == [] and old.severity.gof.p_value_method_message is None
    assert format_quote(old) == format_quote(q)
    with use_lang("ja"):
        out = format_quote(old)
    assert "frequency.cap" not in out and "1.4" not in out  # the untyped message is not rendered


def test_localise():
    m = msg("parametric bootstrap, {n} refitted samples, seed {seed}", n="200", seed="0")
    assert m.text() == "parametric bootstrap, 200 refitted samples, seed 0"
    assert localise(m.text(), m) == m.text()  # English: the text as stored
    with use_lang("ja"):
        assert localise(m.text(), m.as_json()) == "パラメトリック・ブートストラップ、再推定標本 200 個、乱数シード 0"
        assert localise("no", None) == "いいえ" and localise("a user's own reason", None) == "a user's own reason"
        assert localise("kept", {"id": "gof.bootstrap", "args": {}}) == "kept"  # not a typed message: the text
        missing = {"kind": "message", "id": "parametric bootstrap, {n} refitted samples, seed {seed}", "args": {}}
        assert localise("kept", missing) == "kept"  # a field missing: the text
        assert localise("kept", {"kind": "nonsense", "value": "x"}) == "kept"
        assert localise("", None) == ""
        assert data("multisig").render() == "マルチシグ"


def test_vocabulary_keys_and_lists():
    """Keys stay keys in English and read as their catalogue words in Japanese; lists join by the catalogue."""
    from underwriting.domain.message import answer, seq, term

    shares = seq([msg("{peril} {share}", peril=term(p), share=s) for p, s in (("hot_wallet_theft", "69%"),
                                                                            ("insider", "9%"))])
    assert shares.text() == "hot_wallet_theft 69%, insider 9%"
    assert term("mpc").text() == "mpc" and seq([]).text() == "" and seq(["a"]).text() == "a"
    assert isinstance(answer("hardware_key"), Term) and isinstance(answer("2026-06-01"), Data)
    assert isinstance(answer("0.12"), Data)
    with use_lang("ja"):
        assert shares.render() == "ホットウォレットからの盗難 69%、内部者による不正 9%"
        assert term("mpc").render() == "mpc"  # no catalogue words: the key
        assert answer("no").render() == "いいえ" and term("cloud").render() != "cloud"
    with use_lang("ja"):
        assert seq(["a", "b"], "; ").render() == "a；b"


def _templates(m):
    if m.get("kind") == "message":
        yield m["id"]
        for a in m["args"].values():
            yield from _templates(a)
    elif m.get("kind") == "list":
        for a in m["items"]:
            yield from _templates(a)


def test_every_template_of_the_golden_quotes_is_translated_and_bad_ones_are_refused():
    ids: set[str] = set()
    for path in sorted((ROOT / "tests/golden/quotes").glob("*.json")):
        d = json.loads(path.read_text(encoding="utf-8"))
        ms = [*d["assumption_messages"], *d["method_messages"].values(), *d["version_messages"].values(),
              *(r["detail_message"] for r in d["reasons"]), d["severity"]["gof"]["p_value_method_message"],
              *(f[t] for f in d["frequency"].get("factors") or [] for t in ("answer_message", "reason_message")),
              *(u[t] for u in d["fx"] for t in ("basis_message", "purpose_message") if t in u),
              *(c["reason_message"] for c in d["reserve"]["checks"])]
        for m in ms:
            ids.update(_templates(m))
    ja = translations("ja")
    untranslated = sorted(i for i in ids if re.search(r"[a-z]{2}", re.sub(r"\{\w+\}", "", i)) and ja.gettext(i) == i)
    assert len(ids) > 60 and not untranslated, untranslated
    with pytest.raises(KeyError):
        msg("parametric bootstrap, {n} refitted samples, seed {seed}", n="200")
    with pytest.raises(ValueError):
        msg("{peril", peril="x")
    assert isinstance(msg("{a}", a="1"), Template)


def test_the_shipped_schedule_texts_are_in_the_catalogue():
    """Every reason and the name of the shipped schedule are marked for the catalogue (so they are translated)."""
    from underwriting.domain.message import WORDS
    from underwriting.frequency.schedule import DEFAULT_SCHEDULE, SHIPPED_TEXTS

    table = tomllib.loads(DEFAULT_SCHEDULE.read_text(encoding="utf-8"))
    found: set[str] = set()

    def walk(x):
        if isinstance(x, dict):
            found.update(str(v) for k, v in x.items() if k == "source")
            for v in x.values():
                walk(v)

    walk(table)
    assert found and found <= set(SHIPPED_TEXTS), sorted(found - set(SHIPPED_TEXTS))
    assert table["table"]["name"] in WORDS
    with use_lang("ja"):
        assert all(localise(t) != t for t in found)


def test_reproduce_compares_typed_messages_and_skips_earlier_ones():
    """An older quote (messages absent or untyped) reproduces on its figures and English texts; a typed
    message edited in a saved quote is a difference."""
    from underwriting.lifecycle.reproduction import reproduce

    d = json.loads((ROOT / "tests/golden/quotes/jp_small_exchange__policy_jp_primary__frequency.json").read_text(
        encoding="utf-8"))
    same = reproduce(json.loads(json.dumps(d)))
    assert same.reproduced and same.messages_not_compared == 0
    older = json.loads(json.dumps(d))
    older.pop("method_messages")
    older["assumption_messages"] = [{"id": "assumption.basis", "args": {}} for _ in older["assumption_messages"]]
    for c in older["reserve"]["checks"]:
        c["reason_id"], c["reason_args"] = c.pop("reason_message")["id"], {}
    res = reproduce(older)
    assert res.reproduced, res.report()
    assert res.messages_not_compared == len(d["method_messages"]) + len(d["assumption_messages"]) + len(
        d["reserve"]["checks"])
    assert "not compared" in res.report()
    edited = json.loads(json.dumps(d))
    edited["reserve"]["checks"][1]["reason_message"]["args"]["amount"]["amount"] = 1.0
    bad = reproduce(edited)
    assert not bad.reproduced and any("reason_message" in k for k, *_ in bad.differences)
