"""Languages: the Japanese catalogue covers every message, formats follow the locale, the language is chosen as documented."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from underwriting import i18n
from underwriting.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


def _extracted() -> set[str]:
    """Every message id of the package (Python and the workbench's templates), extracted with Babel as
    `make messages` does."""
    from babel.messages.extract import extract_from_dir

    ids = set()
    for _file, _line, msg, _comments, _ctx in extract_from_dir(
            str(ROOT / "underwriting"), method_map=[("**.py", "python"), ("service/templates/**.html", "jinja2")],
            keywords={"_": None, "N_": None}):
        ids.add(msg if isinstance(msg, str) else msg[0])
    return ids


def _literal_calls() -> set[str]:
    """Every literal ``_("...")`` in the package source, found by a regex (f-strings included)."""
    pat = re.compile(r"""\b_\((['"])((?:(?!\1).)+)\1\)""")
    return {m.group(2) for p in (ROOT / "underwriting").rglob("*.py") for m in pat.finditer(p.read_text(encoding="utf-8"))}


def test_every_literal_message_is_extracted():
    """Babel cannot see a ``_()`` inside an f-string: such messages must be listed in ``i18n.FSTRING_WORDS``."""
    missing = sorted(_literal_calls() - _extracted())
    assert not missing, f"add to underwriting.i18n.FSTRING_WORDS: {missing}"


def _fields(text: str) -> set[str]:
    return set(re.findall(r"\{(\w*)\}", text))


def test_every_message_has_a_japanese_translation_with_the_same_fields():
    from babel.messages.pofile import read_po

    with i18n.catalogue_path("ja").open("rb") as fh:
        cat = read_po(fh, locale="ja")
    tr = {m.id: m.string for m in cat if m.id}
    ids = _extracted()
    assert len(ids) > 150
    missing = sorted(i for i in ids if not tr.get(i))
    assert not missing, f"untranslated in ja (run make messages, then translate): {missing}"
    for mid in ids:
        assert _fields(tr[mid]) == _fields(mid), (mid, tr[mid])
    stale = sorted(set(tr) - ids)
    assert not stale, f"catalogue entries no code uses: {stale}"


def test_the_catalogue_compiles_and_translates():
    t = i18n.translations("ja")
    assert t.gettext("premium") == "保険料"
    assert t.gettext("deductible") == "免責金額"
    assert t.gettext("limit") == "てん補限度額"
    with i18n.use_lang("ja"):
        assert i18n._("Reserve") == "責任準備金"
        assert i18n._("a message with no translation") == "a message with no translation"
    assert i18n._("Reserve") == "Reserve"  # back to English outside the block


@pytest.mark.parametrize(("x", "cur", "exact", "short"), [
    (5e9, "JPY", "5,000,000,000円", "50億円"),
    (1.5e8, "JPY", "150,000,000円", "1.5億円"),
    (9_325_448.4, "JPY", "9,325,448円", "9.33百万円"),
    (400e6, "JPY", "400,000,000円", "4億円"),
    (999_999, "JPY", "999,999円", "999,999円"),
    (4_430_000, "EUR", "4,430,000 EUR", "443万 EUR"),
])
def test_japanese_money(x, cur, exact, short):
    assert i18n.money(x, cur, lang="ja") == exact
    assert i18n.money_short(x, cur, lang="ja") == short


def test_english_money_is_unchanged():
    assert i18n.money(5e9, "JPY", lang="en") == "5,000,000,000 JPY"
    assert i18n.money_short(5e9, "JPY", lang="en") == "¥5bn"
    assert i18n.money(None, "JPY", lang="en") == "n/a"
    assert i18n.money(float("inf"), "JPY", lang="ja") == "n/a"


def test_dates():
    d = dt.date(2026, 10, 1)
    assert i18n.date_long(d, lang="ja") == "2026年10月1日"
    assert i18n.date_long("2026-10-01", lang="en") == "1 October 2026"


def test_display_width_aligns_japanese():
    assert i18n.display_width("保険料") == 6 and i18n.display_width("premium") == 7
    assert i18n.ljust("保険料", 8) == "保険料  "


def test_language_resolution(monkeypatch):
    monkeypatch.delenv("UNDERWRITING_LANG", raising=False)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert i18n.resolve_lang() == "en"
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    assert i18n.resolve_lang() == "ja"
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")  # no catalogue: English
    assert i18n.resolve_lang() == "en"
    monkeypatch.setenv("UNDERWRITING_LANG", "ja")  # the variable wins over the locale
    assert i18n.resolve_lang() == "ja"
    assert i18n.resolve_lang("en") == "en"  # the option wins over both
    with pytest.raises(InputError) as exc:
        i18n.resolve_lang("xx")
    assert exc.value.field == "--lang"
    monkeypatch.setenv("UNDERWRITING_LANG", "klingon")
    with pytest.raises(InputError) as exc:
        i18n.resolve_lang()
    assert exc.value.field == "UNDERWRITING_LANG"


def test_bad_lang_is_exit_2_naming_the_option(cli):
    code, out, err = cli("quote", ROOT / "datasets/examples/jp_small_exchange.json", "--lang", "xx")
    assert code == 2 and "--lang" in err and "Traceback" not in err and out == ""


def test_quote_text_in_japanese(cli):
    from underwriting.i18n import display_width

    code, out, err = cli("quote", ROOT / "datasets/examples/jp_small_exchange.json", "--terms",
                         ROOT / "datasets/examples/policy_jp_primary.toml", "--lang", "ja")
    assert code == 0, err
    for word in ("保険料", "期待損失", "てん補限度額", "責任準備金", "2026年10月1日から2027年10月1日まで", "50億円"):
        assert word in out, word
    # yen is written 円 in the Japanese edition (the reserve checks' reasons are the regime engine's English text)
    assert not [ln for ln in out.splitlines() if re.search(r"\d JPY", ln) and not ln.startswith("  [")]
    # the two-column tables line up by display width: every value starts in the same column
    block = next(b for b in out.split("\n\n") if b.startswith("損失と保険料")).splitlines()[2:]
    starts = {display_width(re.match(r"^(\s+\S.*?\s{2,})", r).group(1)) for r in block if not r.startswith("    ")}
    assert len(starts) == 1, block


def test_language_from_the_environment(cli, monkeypatch):
    monkeypatch.setenv("UNDERWRITING_LANG", "ja")
    code, out, _err = cli("quote", ROOT / "datasets/examples/jp_small_exchange.json")
    assert code == 0 and "保険料" in out
    monkeypatch.setenv("UNDERWRITING_LANG", "en")
    code, out, _err = cli("quote", ROOT / "datasets/examples/jp_small_exchange.json")
    assert code == 0 and "premium" in out and "保険料" not in out


def test_api_lang():
    import io

    import underwriting.api as uw

    q = uw.quote(ROOT / "datasets/examples/jp_small_exchange.json", ROOT / "datasets/examples/policy_jp_primary.toml")
    ja = uw.summary_text(q, lang="ja")
    assert "保険料" in ja and uw.summary_text(q, lang="en").startswith("Quote\n")
    buf = io.StringIO()
    q.summary(file=buf, lang="ja")
    assert buf.getvalue() == ja + "\n"
    page = uw.quote_letter(q, terms=ROOT / "datasets/examples/policy_jp_primary.toml", lang="ja")
    assert '<html lang="ja">' in page and "てん補限度額" in page and "Example Marine &amp; Fire" in page
    q2 = uw.quote(ROOT / "datasets/examples/jp_small_exchange.json", ROOT / "datasets/examples/policy_jp_primary.toml",
                  pricing_basis={"expense": 0.2, "commission": 0.1})
    assert q2.premium > q.premium and q2.inputs["basis"]["expense"] == 0.2
    with pytest.raises(InputError):
        uw.summary_text(q, lang="xx")
    r = uw.reserve(ROOT / "datasets/examples/jp_small_exchange.json", ROOT / "datasets/examples/policy_jp_primary.toml",
                   regime="jp-fsa-2026", risk_sizing=False)
    assert "責任準備金の評価" in uw.reserve_text(r, lang="ja") and uw.reserve_text(r, lang="en") == r.to_table()
