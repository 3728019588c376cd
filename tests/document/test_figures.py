"""The shared figure style: non-blank charts, money axes without scientific notation, titles inside."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from underwriting import figures as F


def _pixels(png: bytes) -> np.ndarray:
    import matplotlib.image as mpimg

    return mpimg.imread(io.BytesIO(png), format="png")


def _charts():
    return {
        "factors": lambda: F.factor_chart({"bug_bounty = no": 1.25, "multisig": 0.8, "iso27001": 0.9}),
        "reasons": lambda: F.factor_chart([{"factor": "customer_assets", "log_odds": 0.16},
                                           {"factor": "pam", "log_odds": -0.14}]),
        "exceedance": lambda: F.loss_exceedance_chart([1e8, 5e8, 1.3e9, 5.1e9], [0.012, 0.01, 0.005, 0.0009],
                                                      attachment=1e8, limit=5e9, currency="JPY"),
        "perils": lambda: F.peril_split_chart([{"name": "hot_wallet_theft", "expected_loss": 1.83e7},
                                               {"name": "insider", "expected_loss": 2.3e6}], "EUR"),
        "waterfall": lambda: F.reserve_waterfall(4e8, [("credit", 2.85e8), ("cap at 50%", -8.5e7)],
                                                 1e8, 2e8, "JPY"),
        "calibration": lambda: F.calibration_chart([0.01, 0.03, 0.08], [0.012, 0.027, 0.09], point=0.027),
        "costs": lambda: F.cost_chart({"cash only": 2.5e8, "primary": 1.9e8}, "USD", best="primary"),
    }


@pytest.mark.parametrize("name", list(_charts()))
def test_chart_renders_non_blank_png(name):
    png = F.to_png_bytes(_charts()[name]())
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    px = _pixels(png)[..., :3]
    assert px.shape[1] >= 900  # 6.7 in at 150 dpi: A4 text width at print resolution
    assert float(px.std()) > 0.05, "the chart is (nearly) a blank canvas"
    assert (px.mean(axis=2) < 0.9).mean() > 0.02  # a visible share of drawn (non-white) pixels


@pytest.mark.parametrize("name", list(_charts()))
def test_no_scientific_notation_and_title_inside(name):
    fig = _charts()[name]()
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                labels = [t.get_text() for t in axis.get_ticklabels(which="both")]
                assert not [s for s in labels if "e+" in s or "1e" in s or "e-" in s.replace("−", "-")], labels
                assert axis.get_offset_text().get_text() == ""
        title = fig._suptitle
        assert title is not None and title.get_text()
        box, page = title.get_window_extent(renderer), fig.bbox
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1
        for ax in fig.axes:  # subtitles too
            t = ax.title
            if t.get_text():
                b = t.get_window_extent(renderer)
                assert page.x0 <= b.x0 and b.x1 <= page.x1 and b.y1 <= page.y1
    finally:
        F.close(fig)


def test_long_title_is_wrapped_inside_the_figure():
    long = "Loss exceedance of a very long named exchange with an unusually long programme description " * 2
    fig = F.loss_exceedance_chart([1e6, 1e7], [0.1, 0.01], attachment=1e6, limit=9e6, currency="USD", title=long)
    fig.canvas.draw()
    box = fig._suptitle.get_window_extent(fig.canvas.get_renderer())
    assert "\n" in fig._suptitle.get_text()
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1
    F.close(fig)


def test_money_axis_labels_carry_currency_and_unit():
    fig = F.peril_split_chart({"hot": 4.0e9, "cold": 1.5e9}, "JPY")
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert all(s.startswith("¥") or s.startswith("-¥") for s in labels if s), labels
    assert any(s.endswith("bn") for s in labels), labels
    assert len(set(labels)) == len(labels)  # ticks stay distinct with the chosen decimals
    F.close(fig)


@pytest.mark.parametrize(("x", "cur", "kw", "expected"), [
    (5e9, "JPY", {"decimals": 1}, "¥5.0bn"),
    (5e9, "JPY", {}, "¥5bn"),
    (2.5e8, "USD", {}, "$250m"),
    (3000, "EUR", {}, "€3k"),
    (1_234_567, "USD", {}, "$1.23m"),
    (-1.5e6, "GBP", {}, "-£1.5m"),
    (999_600, "USD", {}, "$1m"),
    (0.0, "USD", {}, "$0"),
    (12.0, "KRW", {}, "₩12"),
    (2e12, "XYZ", {}, "XYZ 2tn"),
    (float("nan"), "USD", {}, "n/a"),
])
def test_money(x, cur, kw, expected):
    assert F.money(x, cur, **kw) == expected


@pytest.mark.parametrize(("p", "expected"), [(0.0123, "1.23%"), (1.2e-5, "0.0012%"), (1.0, "100%"), (0.0, "0%")])
def test_percent(p, expected):
    assert F.percent(p) == expected


def test_factor_bars_are_the_logs_of_the_multipliers():
    mult = {"a": 1.25, "b": 0.8, "c": 2.0}
    fig = F.factor_chart(mult)
    widths = sorted(round(p.get_width(), 12) for p in fig.axes[0].patches)
    assert widths == sorted(round(math.log(m), 12) for m in mult.values())
    colours = {round(p.get_width(), 6): p.get_facecolor()[:3] for p in fig.axes[0].patches}
    assert colours[round(math.log(0.8), 6)] != colours[round(math.log(1.25), 6)]
    F.close(fig)


def test_peril_bars_and_shares():
    fig = F.peril_split_chart([{"name": "a", "expected_loss": 3e6}, {"name": "b", "expected_loss": 1e6}], "USD")
    ax = fig.axes[0]
    assert sorted(p.get_width() for p in ax.patches) == [1e6, 3e6]
    texts = [t.get_text() for t in ax.texts]
    assert "$3m (75%)" in texts and "$1m (25%)" in texts
    F.close(fig)


def test_waterfall_shows_the_retention_and_refuses_sums_that_do_not_add_up():
    fig = F.reserve_waterfall(4e8, {"credit": 2e8}, 1e8, 2e8, "JPY")
    ax = fig.axes[0]
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 1 and hatched[0].get_height() == pytest.approx(1e8)
    assert any(line.get_ydata()[0] == 1e8 for line in ax.get_lines())  # the retention line
    F.close(fig)
    with pytest.raises(ValueError, match="residual"):
        F.reserve_waterfall(4e8, {"credit": 2e8}, 1e8, 1.5e8, "JPY")


def test_exceedance_refuses_a_rising_curve_and_bad_layers():
    with pytest.raises(ValueError, match="increase"):
        F.loss_exceedance_chart([1e6, 1e7], [0.01, 0.02], attachment=1e6, limit=1e7, currency="USD")
    with pytest.raises(ValueError, match="limit"):
        F.loss_exceedance_chart([1e6, 1e7], [0.02, 0.01], attachment=1e6, limit=0.0, currency="USD")


def test_png_is_reproducible():
    a = F.to_png_bytes(_charts()["waterfall"]())
    b = F.to_png_bytes(_charts()["waterfall"]())
    assert a == b


def test_importing_figures_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, underwriting.figures, underwriting.quote.document; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_save_png_writes_the_same_bytes(tmp_path):
    path = F.save_png(_charts()["costs"](), tmp_path / "sub" / "costs.png")
    assert path.read_bytes() == F.to_png_bytes(_charts()["costs"]())


def test_dollar_signs_are_text_not_mathtext():
    fig = F.reserve_waterfall(4.5e9, {"credit": 0.0}, 0.0, 4.5e9, "HKD")
    title = fig._suptitle
    assert "HK$4.5bn to residual cash HK$4.5bn" in title.get_text()
    texts = [title, *fig.axes[0].texts, *fig.axes[0].get_yticklabels()]
    fig.canvas.draw()
    assert all(not t._preprocess_math(t.get_text())[1] for t in texts)
    F.close(fig)


def test_equal_labels_keep_separate_bars():
    fig = F.cost_chart([("a + b", 1e6), ("a + b", 2e6), ("c", 3e6)], "USD")
    ys = sorted(p.get_y() for p in fig.axes[0].patches)
    assert len(set(ys)) == 3 and sorted(p.get_width() for p in fig.axes[0].patches) == [1e6, 2e6, 3e6]
    F.close(fig)
    fig = F.factor_chart([{"factor": "x", "multiplier": 1.2}, {"factor": "x", "multiplier": 0.7}])
    assert len({p.get_y() for p in fig.axes[0].patches}) == 2
    F.close(fig)
