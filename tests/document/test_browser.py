"""Render the quote document in a real headless browser and check its figures are drawn, not blank.

Needs Debian's ``chromium`` (CI's ``.ci/run`` installs it); skipped with the reason when it is absent.
The page is screenshot once with everything but the figures hidden by an extra style sheet, so the
only long light-grey horizontal lines left are the borders of the figure images: they give each
figure's region, which must hold the chart's own colours (bars, layer band), as drawn by the browser.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from underwriting import figures as F
from underwriting.quote.document import FIGURES, render_quote_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")]

ONLY_FIGURES = ("<style>header, .headline, #warnings, section:not(#figures), footer, figcaption, h2 "
                "{ display: none !important; } figure { margin: 12px 0 !important; }</style></head>")


def _screenshot(html: str, tmp_path, height: int = 1754) -> np.ndarray:
    import matplotlib.image as mpimg

    page = tmp_path / "quote.html"
    page.write_text(html, encoding="utf-8")
    out = tmp_path / "shot.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={out}", f"--window-size=1240,{height}",
           page.as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    return (mpimg.imread(str(out))[..., :3] * 255).round().astype(int)


def _hex(c: str) -> np.ndarray:
    return np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)])


def _figure_regions(px: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(top, bottom, left, right) of each image, from its 1px #e5e8e8 border."""
    border = np.all(np.abs(px - _hex("#e5e8e8")) <= 2, axis=2)
    rows = [y for y in range(px.shape[0]) if border[y].sum() > 400]
    # consecutive border rows pair up as top and bottom edges
    edges = [y for i, y in enumerate(rows) if i == 0 or y != rows[i - 1] + 1]
    regions = []
    for top, bottom in zip(edges[::2], edges[1::2], strict=False):
        cols = np.flatnonzero(border[top])
        regions.append((top + 1, bottom, int(cols.min()) + 1, int(cols.max())))
    return regions


def _has_colour(region: np.ndarray, colour: str, tol: int = 12, min_px: int = 200) -> bool:
    return int(np.all(np.abs(region - _hex(colour)) <= tol, axis=2).sum()) >= min_px


def test_figures_render_in_a_headless_browser(full_quote, full_figures, tmp_path):
    html = render_quote_html(full_quote, figures=full_figures).replace("</head>", ONLY_FIGURES, 1)
    px = _screenshot(html, tmp_path, height=2600)
    regions = _figure_regions(px)
    assert len(regions) == len(FIGURES), regions
    expected = {"factors": [F.DEBIT, F.CREDIT], "loss_exceedance": [F.NEUTRAL, "#fcebcf"],
                "perils": [F.NEUTRAL], "reserve": [F.NEUTRAL, F.CREDIT, F.MUTED]}
    for key, (top, bottom, left, right) in zip(FIGURES, regions, strict=True):
        region = px[top:bottom, left:right]
        assert bottom - top > 200 and right - left > 400, (key, top, bottom, left, right)
        assert region.std() > 20, f"figure {key} is blank in the browser"
        assert (region.mean(axis=2) < 200).mean() > 0.02, f"figure {key} has almost nothing drawn"
        for colour in expected[key]:
            assert _has_colour(region, colour), f"figure {key}: no {colour} pixels"


def test_first_page_renders(full_quote, full_figures, tmp_path):
    px = _screenshot(render_quote_html(full_quote, figures=full_figures), tmp_path)
    assert px.shape[:2] == (1754, 1240)
    assert (px.mean(axis=2) < 128).mean() > 0.005  # text is drawn
    assert _has_colour(px, "#fdedec", tol=3, min_px=2000)  # the warnings box
