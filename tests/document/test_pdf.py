"""The quote letter as PDF (headless Chromium), in English and Japanese: at most 6 A4 pages, page numbers,
every glyph drawn by a font that has it (no tofu); and the HTML in Chromium: height, no cell narrower than a word.

Skipped with the reason where Debian's ``chromium`` is absent (``.ci/run`` installs it).
"""

from __future__ import annotations

import io
import json
import re
import subprocess

import pytest

from tests.conftest import EXAMPLES
from underwriting.quote.pdf import find_chromium

CHROMIUM = find_chromium()
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")]

SUB = EXAMPLES / "jp_small_exchange.json"
POLICY = EXAMPLES / "policy_jp_primary.toml"
A4_PT = (595.28, 841.89)


@pytest.fixture(scope="module")
def letters(tmp_path_factory):
    """The English and Japanese PDF letters of the JP sample, and its quote JSON."""
    from underwriting.cli.main import main

    d = tmp_path_factory.mktemp("pdf")
    out = {}
    for lang in ("en", "ja"):
        pdf = d / f"q_{lang}.pdf"
        assert main(["quote", str(SUB), "--terms", str(POLICY), "--lang", lang, "--report", str(pdf),
                     "--out", str(d / f"q_{lang}.json")]) == 0
        out[lang] = pdf.read_bytes()
    return out, json.loads((d / "q_en.json").read_text(encoding="utf-8"))


def _fonts(reader) -> set[str]:
    """Family of every font the PDF draws with (Chromium embeds synthetic-bold Japanese as Type3 fonts that
    name their family only in the font descriptor)."""
    names = set()
    for page in reader.pages:
        for f in (page["/Resources"].get("/Font") or {}).values():
            f = f.get_object()
            desc = f.get("/FontDescriptor")
            family = desc.get_object().get("/FontFamily") if desc is not None else None
            names.add(str(f.get("/BaseFont") or family or ""))
    return names


def _flat(text: str) -> str:
    """Text for comparison: NFKC (a PDF's ToUnicode may give Kangxi radicals for kanji) without whitespace."""
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _cmap(path) -> set[int]:
    from fontTools.ttLib import TTFont

    return set(TTFont(str(path), fontNumber=0).getBestCmap())


def _font_files() -> dict[str, set[int]]:
    """Characters of the two fonts the letter names: DejaVu Sans (as Chromium finds it) and IPAexGothic."""
    from matplotlib_fontja import get_font_ttf_path

    path = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True, text=True).stdout
    return {"DejaVuSans": _cmap(path), "IPAexGothic": _cmap(get_font_ttf_path())}


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_pdf_has_at_most_six_a4_pages_with_page_numbers(letters, lang):
    from pypdf import PdfReader

    pdfs, q = letters
    assert pdfs[lang].startswith(b"%PDF-")
    r = PdfReader(io.BytesIO(pdfs[lang]))
    n = len(r.pages)
    assert 1 <= n <= 6, n
    for i, page in enumerate(r.pages, start=1):
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(w - A4_PT[0]) < 2 and abs(h - A4_PT[1]) < 2, (w, h)
        assert f"{i} / {n}" in page.extract_text(), i  # the page number from the letter's own @page rule
    first = r.pages[0].extract_text()
    assert q["exchange"] in first
    money = f"{q['premium']:,.0f}" + ("JPY" if lang == "en" else "円")
    assert money in _flat(first)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_glyph_is_in_a_font_the_pdf_uses(letters, lang):
    """No tofu: the PDF uses only DejaVu Sans (Latin) and IPAexGothic (Japanese), and every character of its
    text is in the character map of one of them (a character in neither would print as an empty box)."""
    from pypdf import PdfReader

    r = PdfReader(io.BytesIO(letters[0][lang]))
    fonts = _fonts(r)
    assert fonts and all(re.search(r"DejaVu|IPAex", f) for f in fonts), fonts
    if lang == "ja":
        assert any("IPAex" in f for f in fonts), fonts
    cmaps = _font_files()
    text = "".join(p.extract_text() for p in r.pages)
    allowed = cmaps["DejaVuSans"] | cmaps["IPAexGothic"]
    missing = sorted({ch for ch in text if not ch.isspace() and ord(ch) not in allowed})
    assert not missing, missing
    if lang == "ja":
        for word in ("見積書", "保険料", "てん補限度額", "免責金額", "責任準備金", "2026年10月1日", "被保険者"):
            assert _flat(word) in _flat(text), word


_MEASURE = """<script>
window.addEventListener("load", () => {
  const c = document.createElement("canvas").getContext("2d");
  const bad = [];
  const seg = new Intl.Segmenter("ja", {granularity: "word"});
  let checked = 0;
  for (const cell of document.querySelectorAll("td, th")) {
    const cs = getComputedStyle(cell);
    const inner = cell.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      c.font = getComputedStyle(n.parentElement).font;  // each word in the font it is drawn with
      for (const tok of n.textContent.split(/\\s+/)) {
        if (!tok || /^https?:/.test(tok)) continue;  // a URL may break
        // a Latin token is one word; Japanese runs have no spaces: split them into words with ICU's
        // dictionary segmenter (Intl.Segmenter), so a Japanese cell squeezed below a word fails too
        const words = /^[\\x21-\\x7e]+$/.test(tok) ? [tok]
          : [...seg.segment(tok)].filter(s => s.isWordLike)
                                 .map(s => s.segment);
        for (const w of words) {
          const m = c.measureText(w).width;
          if (m > inner + 1) bad.push([w, Math.round(m), Math.round(inner)]);
        }
        checked += words.length;
      }
    }
  }
  const out = document.createElement("pre");
  out.id = "metrics";
  out.textContent = JSON.stringify({height: document.documentElement.scrollHeight, narrow: bad, checked});
  document.body.appendChild(out);
});
</script>"""


def _metrics(letters, lang, tmp_path, extra_style: str = "") -> dict:
    """Height and too-narrow cells of the letter in Chromium at the width of an A4 page (794 px)."""
    from underwriting.i18n import use_lang
    from underwriting.quote.document import build_quote_figures, render_quote_html

    q = letters[1]
    with use_lang(lang):
        figs = build_quote_figures(q)
    html = render_quote_html(q, figures=figs, lang=lang).replace("</body>", _MEASURE + "</body>")
    if extra_style:
        html = html.replace("</head>", f"<style>{extra_style}</style></head>", 1)
    page = tmp_path / "letter.html"
    page.write_text(html, encoding="utf-8")
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=794,1123",
                           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom",
                           page.as_uri()], capture_output=True, timeout=120, check=True)
    m = re.search(r'<pre id="metrics">(.*?)</pre>', proc.stdout.decode("utf-8"))
    assert m, proc.stderr[-500:]
    return json.loads(m.group(1))


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_html_height_and_no_cell_narrower_than_a_word(letters, lang, tmp_path):
    """At the width of an A4 page (794 px), the letter is at most about 7 screens tall (it was ~26,000 px
    with a factor table squeezed to one character a line) and no table cell is narrower than a word in it
    (Latin words split at spaces, Japanese ones by ICU's word segmenter)."""
    metrics = _metrics(letters, lang, tmp_path)
    assert 2000 < metrics["height"] < 8000, metrics["height"]
    assert metrics["checked"] > 300, metrics["checked"]  # the check saw the tables' words, Japanese ones too
    assert metrics["narrow"] == [], metrics["narrow"]


def test_a_squeezed_japanese_table_is_caught(letters, tmp_path):
    """The check can fail: squeeze every table to 40% of the page and Japanese words no longer fit."""
    metrics = _metrics(letters, "ja", tmp_path,
                       "table { table-layout: fixed !important; width: 40% !important; }")
    japanese = [w for w, _, _ in metrics["narrow"] if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", w)]
    assert japanese, metrics["narrow"][:10]
    assert metrics["height"] > 2000
