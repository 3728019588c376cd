"""``underwriting quote --report FILE.html``: a self-contained page with the quote's own figures, drawn.

The figures are checked decoded (no browser needed) and, when Debian's ``chromium`` is present, in a
real headless browser with the helpers of ``test_browser.py``.
"""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest

from tests.conftest import EXAMPLES
from tests.document.test_browser import CHROMIUM, ONLY_FIGURES, _figure_regions, _screenshot
from underwriting.quote.document import FIGURES

SUB = EXAMPLES / "jp_small_exchange.json"
POLICY = EXAMPLES / "policy_jp_primary.toml"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from underwriting.cli.main import main

    d = tmp_path_factory.mktemp("report")
    page, js = d / "quote.html", d / "quote.json"
    assert main(["quote", str(SUB), "--terms", str(POLICY), "--regime", "jp-fsa-2026", "--report", str(page),
                 "--out", str(js)]) == 0
    return page.read_text(encoding="utf-8"), json.loads(js.read_text(encoding="utf-8"))


def _images(html: str) -> list[np.ndarray]:
    import matplotlib.image as mpimg

    return [mpimg.imread(io.BytesIO(base64.b64decode(s)), format="png")[..., :3]
            for s in re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)]


def test_report_is_self_contained_with_every_figure_drawn(report):
    html, q = report
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing loaded from the network
    imgs = _images(html)
    assert len(imgs) == len(FIGURES)
    for img in imgs:
        assert img.std() > 0.05 and (img.mean(axis=2) < 0.8).mean() > 0.01  # not blank
    assert f"{q['premium']:,.0f} {q['currency']}" in html and q["exchange"] in html
    for p in q["perils"]:
        assert p["name"] in html


def test_report_never_overwrites_an_input(cli, tmp_path):
    sub = tmp_path / "sub.json"
    sub.write_bytes(SUB.read_bytes())
    code, _, err = cli("quote", sub, "--report", sub)
    assert code == 2 and "--report" in err and sub.read_bytes() == SUB.read_bytes()
    code, _, err = cli("quote", sub, "--report", tmp_path / "a.html", "--out", tmp_path / "a.html")
    assert code == 2 and "--report" in err


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_figures_are_not_blank_in_a_headless_browser(report, tmp_path):
    html, _ = report
    px = _screenshot(html.replace("</head>", ONLY_FIGURES, 1), tmp_path, height=2600)
    regions = _figure_regions(px)
    assert len(regions) == len(FIGURES), regions
    for key, (top, bottom, left, right) in zip(FIGURES, regions, strict=True):
        region = px[top:bottom, left:right]
        assert bottom - top > 200 and right - left > 400, key
        assert region.std() > 20, f"figure {key} is blank in the browser"
        assert (region.mean(axis=2) < 200).mean() > 0.02, f"figure {key} has almost nothing drawn"
