"""Fonts that exist everywhere: every character of the Japanese catalogue has a glyph (no tofu) in the
figures, drawn with IPAexGothic from the matplotlib-fontja package; the board figures render in Japanese."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from underwriting import i18n

ROOT = Path(__file__).resolve().parents[2]


def _japanese_texts() -> list[str]:
    from babel.messages.pofile import read_po

    with i18n.catalogue_path("ja").open("rb") as fh:
        return [m.string for m in read_po(fh, locale="ja") if m.id and m.string]


def test_every_catalogue_character_is_in_a_figure_font():
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager
    from matplotlib_fontja import get_font_ttf_path

    dejavu = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"), fallback_to_default=False)
    have = set(TTFont(dejavu).getBestCmap()) | set(TTFont(get_font_ttf_path()).getBestCmap())
    chars = {ch for t in _japanese_texts() for ch in t if not ch.isspace()} | set("円億百万")
    missing = sorted(ch for ch in chars if ord(ch) not in have)
    assert not missing, missing


def test_japanese_text_renders_without_missing_glyphs():
    """matplotlib warns "Glyph ... missing from font(s)" for every character it draws as an empty box."""
    from underwriting.figure_style import _figure, close, to_png_bytes

    texts = _japanese_texts()
    fig, ax = _figure(8.0)
    for i, t in enumerate(texts):
        ax.text(0.0, i / len(texts), t, fontsize=6)
        ax.text(0.5, i / len(texts), t, fontsize=6, fontweight="bold")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = to_png_bytes(fig)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert not missing, missing[:5]
    assert png[:4] == b"\x89PNG"
    close(fig)


def test_a_missing_glyph_is_detected():
    """The check above can fail: a character no project font has (a Linear B syllable) is reported."""
    from underwriting.figure_style import _figure, to_png_bytes

    fig, ax = _figure(2.0)
    ax.text(0.1, 0.5, "\U00010000")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        to_png_bytes(fig)
    assert any("missing from" in str(w.message) for w in caught)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_board_figures_in_each_language(tmp_path, lang):
    from underwriting.cli.reserve import fx_table
    from underwriting.domain.submission import load_submission
    from underwriting.reserve import load_regime
    from underwriting.reserve.compare import (
        CostAssumptions,
        load_quotes,
        optimise,
        plot_costs,
        plot_waterfall,
    )

    sub = load_submission(str(ROOT / "datasets/examples/jp_small_exchange.json"))
    ca = CostAssumptions.default()
    comp = optimise(sub, load_regime("jp-fsa-2026"), load_quotes(str(ROOT / "underwriting/reserve/examples/quotes_jp_small.toml"),
                                                                   expected_loss_ratio=ca.expected_loss_ratio),
                    fx_table([]), horizon_years=3, assumptions=ca)
    with i18n.use_lang(lang), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = plot_costs(comp, tmp_path / "c.png")
        b = plot_waterfall(comp.best_assessment, tmp_path / "w.png", comp)
    assert not [w for w in caught if "missing from" in str(w.message)]
    assert a.read_bytes()[:4] == b"\x89PNG" and b.read_bytes()[:4] == b"\x89PNG"
