"""The project's figure style and formatting helpers (used by :mod:`underwriting.figures`, which re-exports them).

Figure width and colours, money and percent formatting ("¥5.0bn", "$250m"; never scientific
notation), the lazily imported matplotlib with the project's rc settings, axis formatters and
PNG output. matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import io
import math
import textwrap
from typing import Any

#: Width of every figure (inches): 17 cm, the text width of an A4 page with 2 cm margins.
FIG_WIDTH = 6.7
DPI = 150
DEBIT = "#b03a2e"     # raises the rate / the cost
CREDIT = "#1e8449"    # lowers the rate / the cost
NEUTRAL = "#2c3e50"
MUTED = "#95a5a6"
LAYER = "#f5b041"

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "KRW": "₩", "INR": "₹", "TRY": "₺",
            "CHF": "CHF ", "HKD": "HK$", "SGD": "S$", "AUD": "A$", "CAD": "C$", "CNY": "CN¥",
            "BRL": "R$", "TWD": "NT$"}
_UNITS = ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k"))


def _symbol(currency: str | None) -> str:
    if not currency:
        return ""
    return _SYMBOLS.get(currency.upper(), currency.upper() + " ")


def _unit(scale: float) -> tuple[float, str]:
    for size, suffix in _UNITS:
        if scale >= size:
            return size, suffix
    return 1.0, ""


def money(x: float, currency: str | None = None, *, decimals: int | None = None,
          unit: tuple[float, str] | None = None) -> str:
    """Format an amount with its currency symbol and a unit: ``money(5e9, "JPY") == "¥5bn"``.

    Parameters
    ----------
    x : float
        The amount, in ``currency`` units.
    currency : str, optional
        ISO 4217 code; unknown codes are written out ("XYZ 3k").
    decimals : int, optional
        Digits after the point. Default: three significant figures, trailing zeros dropped.
    unit : (float, str), optional
        Force a unit, e.g. ``(1e6, "m")`` (used so all ticks of an axis share one unit).
    """
    if x is None or not math.isfinite(x):
        return "n/a"
    from underwriting.i18n import current_lang

    if current_lang() == "ja":  # the Japanese edition: 億円 / 百万円 units (a forced axis unit is ignored)
        from underwriting.i18n import money_short

        return money_short(x, currency or "", lang="ja")
    sign = "-" if x < 0 else ""
    a = abs(x)
    if unit is None and decimals is None and a > 0:
        a = float(f"{a:.3g}")  # three significant figures first, so 999,600 reads "1m", not "1000k"
    size, suffix = unit if unit is not None else _unit(a)
    v = a / size
    if decimals is None:
        d = 0 if v == 0 else max(0, 2 - int(math.floor(math.log10(v))))
        text = f"{v:.{d}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    else:
        text = f"{v:.{decimals}f}"
    if text.strip("0.") == "":
        return f"{_symbol(currency)}0"
    return f"{sign}{_symbol(currency)}{text}{suffix}"


def percent(p: float, *, digits: int = 3) -> str:
    """A probability as a percentage with ``digits`` significant figures, never in scientific notation."""
    if p is None or not math.isfinite(p):
        return "n/a"
    v = 100.0 * p
    if v == 0:
        return "0%"
    d = max(0, digits - 1 - int(math.floor(math.log10(abs(v)))))
    text = f"{v:.{d}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


# ---- matplotlib plumbing (lazy) -------------------------------------------------------------------

def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    _register_japanese_font()
    return plt


_FONT_REGISTERED: list[str] = []


def _register_japanese_font() -> str | None:
    """Add IPAexGothic (from ``matplotlib-fontja``) to matplotlib's font list once; its family name, or None."""
    if _FONT_REGISTERED:
        return _FONT_REGISTERED[0]
    try:
        from matplotlib import font_manager
        from matplotlib_fontja import get_font_ttf_path
    except ImportError:  # pragma: no cover - a dependency of the package
        return None
    import logging

    # IPAexGothic has no bold face: matplotlib draws the regular one and would log that on every bold title
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    path = get_font_ttf_path()
    font_manager.fontManager.addfont(path)
    name = font_manager.FontProperties(fname=path).get_name()
    _FONT_REGISTERED.append(name)
    return name


_RC = {
    "font.size": 9, "axes.titlesize": 11, "axes.titleweight": "bold", "axes.labelsize": 9,
    "xtick.labelsize": 8.5, "ytick.labelsize": 8.5, "legend.fontsize": 8.5, "legend.frameon": False,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": False,
    "axes.formatter.useoffset": False, "axes.formatter.limits": (-99, 99),
    "svg.fonttype": "none", "figure.dpi": DPI,
    "text.parse_math": False,  # "$" is a currency symbol here (HK$, US$), never the start of mathtext
    # DejaVu Sans first (Latin text unchanged); glyphs it lacks fall back to IPAexGothic (Japanese),
    # shipped by the matplotlib-fontja package and registered in _plt()
    "font.family": ["DejaVu Sans", "IPAexGothic"],
}


def _figure(height: float):
    plt = _plt()
    with plt.rc_context(_RC):
        fig = plt.figure(figsize=(FIG_WIDTH, height), layout="constrained")
        ax = fig.add_subplot()
    return fig, ax


def _styled(fn):
    """Draw under the project's rc settings (they apply to artists created inside)."""
    def wrapper(*args, **kwargs):
        with _plt().rc_context(_RC):
            return fn(*args, **kwargs)
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper


def _title(fig, ax, title: str, subtitle: str | None = None) -> None:
    """Title (bold) and optional subtitle, wrapped to the figure width so they never run off the edge.

    The title is the figure's suptitle, left-aligned, and the subtitle the axes' left title: both
    take part in constrained layout, so they stay inside the figure.
    """
    fig.suptitle("\n".join(textwrap.wrap(title, int(FIG_WIDTH * 72 / (11 * 0.62)))), x=0.01, ha="left",
                 fontsize=11, fontweight="bold")
    if subtitle:
        ax.set_title("\n".join(textwrap.wrap(subtitle, int(FIG_WIDTH * 72 / (8.5 * 0.58)))), loc="left",
                     fontsize=8.5, fontweight="normal", color="#555555", pad=6)


def _money_formatter(currency: str | None):
    """Tick formatter: one unit for the whole axis, as few decimals as keep the ticks distinct."""
    from matplotlib.ticker import Formatter

    class _Money(Formatter):
        _ticks: list[float] = []

        def set_locs(self, locs):
            self._ticks = [float(v) for v in locs]

        def __call__(self, x, pos=None):
            locs = [v for v in (self._ticks or [x]) if math.isfinite(v)]
            top = max((abs(v) for v in locs), default=abs(x))
            unit = _unit(top)
            steps = sorted({abs(b - a) for a, b in zip(locs, locs[1:], strict=False) if b != a})
            d = 0
            if steps:
                step = steps[0] / unit[0]
                d = 0 if step >= 1 else min(3, int(math.ceil(-math.log10(step) - 1e-9)))
            if x == 0:
                return f"{_symbol(currency)}0"
            return money(x, currency, decimals=d, unit=unit)

    return _Money()


def _log_money_formatter(currency: str | None):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, pos=None: money(x, currency))


def _prob_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda p, pos=None: percent(p, digits=2))


def to_png_bytes(fig: Any, *, dpi: int = DPI) -> bytes:
    """Render ``fig`` to PNG bytes (no timestamp or software metadata, so output is reproducible) and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, facecolor="white")
    close(fig)
    return buf.getvalue()


def save_png(fig: Any, path: Any) -> Any:
    """Write ``fig`` as PNG to ``path`` atomically (an interrupted run leaves no half-written file); returns the path."""
    from underwriting.fileio import atomic_write_bytes

    return atomic_write_bytes(path, to_png_bytes(fig))


def close(fig: Any) -> None:
    """Release a figure's memory."""
    _plt().close(fig)


def _pad_x(ax, lo: float, hi: float, frac: float = 0.18) -> None:
    span = (hi - lo) or max(abs(hi), 1.0)
    ax.set_xlim(lo - (frac * span if lo < 0 else 0.0), hi + (frac * span if hi > 0 else 0.0))
