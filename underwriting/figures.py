"""One figure style for the whole project: A4-legible charts from plain data (matplotlib, Agg backend).

Every chart function takes plain numbers, lists and dicts (never internal objects), returns a
matplotlib ``Figure`` and leaves saving to the caller (:func:`to_png_bytes`, then an atomic write).
The style: titles inside the figure (constrained layout, titles wrapped to the figure width), money
axes formatted with a currency symbol and a unit ("¥5.0bn", "$250m", "€3k"; never scientific
notation or a "1e8" offset), value labels on bars, 9–10 pt text at a width of 17 cm (A4 with margins).
matplotlib is imported only when a chart is drawn, so importing this module costs nothing.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from underwriting.figure_style import (  # noqa: F401 - re-exported
    CREDIT,
    DEBIT,
    LAYER,
    MUTED,
    NEUTRAL,
    _figure,
    _log_money_formatter,
    _money_formatter,
    _pad_x,
    _prob_formatter,
    _styled,
    _title,
    close,
    money,
    percent,
    save_png,
    to_png_bytes,
)
from underwriting.i18n import _

__all__ = [
    "money", "percent", "factor_chart", "loss_exceedance_chart", "peril_split_chart",
    "reserve_waterfall", "calibration_chart", "cost_chart", "to_png_bytes", "save_png", "close",
]


def _wrap(text: str, width: int) -> str:
    """Wrap a tick label to ``width`` display columns (a Japanese character counts two; no break inside a word)."""
    from underwriting.i18n import display_width

    if display_width(text) == len(text):
        return textwrap.fill(text, width, break_on_hyphens=False, break_long_words=False)
    lines, cur = [], ""
    for ch in text:
        if display_width(cur + ch) > width:
            lines.append(cur)
            cur = ""
        cur += ch
    return "\n".join([*lines, cur])


# ---- charts ---------------------------------------------------------------------------------------

def _factor_rows(factors: Any) -> tuple[list[str], list[float], str]:
    """(names, log contributions, kind) from a mapping name → multiplier or a list of dicts."""
    if isinstance(factors, Mapping):
        items = [{"factor": k, "multiplier": v} for k, v in factors.items()]
    else:
        items = list(factors)
    names, vals, kind = [], [], "log-rate"
    for f in items:
        name = str(f.get("factor") or f.get("name") or "?")
        if f.get("answer") not in (None, ""):
            name = f"{name} = {f['answer']}"
        if "multiplier" in f and f["multiplier"] is not None:
            m = float(f["multiplier"])
            if not (m > 0 and math.isfinite(m)):
                raise ValueError(f"factor {name!r}: multiplier must be positive and finite, got {m}")
            vals.append(math.log(m))
        elif "log_rate" in f:
            vals.append(float(f["log_rate"]))
        elif "log_odds" in f:
            vals.append(float(f["log_odds"]))
            kind = "log-odds"
        else:
            raise ValueError(f"factor {name!r} has no multiplier, log_rate or log_odds")
        names.append(name if len(name) <= 48 else name[:47] + "…")
    return names, vals, kind


@_styled
def factor_chart(factors: Any, *, title: str | None = None) -> Any:
    """Horizontal bars of each rating factor's contribution to the log rate (debits red, credits green).

    Parameters
    ----------
    factors : mapping or sequence of dict
        ``{name: multiplier}`` or dicts with ``factor`` (or ``name``), an optional ``answer``, and one
        of ``multiplier`` (plotted as its natural log), ``log_rate`` or ``log_odds``.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    names, vals, kind = _factor_rows(factors)
    order = sorted(range(len(vals)), key=lambda i: abs(vals[i]))
    names = [names[i] for i in order]
    vals = [vals[i] for i in order]
    fig, ax = _figure(max(2.4, 0.32 * len(vals) + 1.5))
    _title(fig, ax, title or _("Rating factors: contribution to the log rate"),
           _("debits (raise the rate) in red, credits (lower it) in green; label = multiplier")
           if kind == "log-rate" else _("raises the odds in red, lowers them in green"))
    if not vals:
        ax.text(0.5, 0.5, _("no factor differs from the base rate"), ha="center", va="center",
                transform=ax.transAxes)
        ax.set_yticks([])
        return fig
    bars = ax.barh(range(len(vals)), vals, color=[DEBIT if v > 0 else CREDIT for v in vals], height=0.6)
    ax.set_yticks(range(len(vals)), names)  # positions, not categories: equal names never merge
    ax.axvline(0.0, color="black", linewidth=0.8)
    labels = [f"×{math.exp(v):.3g}" if kind == "log-rate" else f"{v:+.2f}" for v in vals]
    ax.bar_label(bars, labels=labels, padding=3, fontsize=8)
    _pad_x(ax, min(0.0, *vals), max(0.0, *vals), 0.22)
    ax.set_xlabel(_("log of the multiplier (0 = no effect)") if kind == "log-rate"
                  else _("contribution to the log-odds of a breach"))
    return fig


@_styled
def loss_exceedance_chart(amounts: Sequence[float], probabilities: Sequence[float], *,
                          attachment: float, limit: float, currency: str,
                          title: str | None = None, label: str = "modelled",
                          markers: Mapping[str, tuple[float, float]] | None = None) -> Any:
    """Loss exceedance curve (probability of a loss above x against x, both on log scales) with the layer band.

    Parameters
    ----------
    amounts : sequence of float
        Loss amounts x (``currency`` units), increasing.
    probabilities : sequence of float
        P(loss > x) for each amount, in (0, 1].
    attachment, limit : float
        The layer ``limit xs attachment`` (``currency`` units); shaded on the chart.
    currency : str
        ISO 4217 code for the axis labels.
    markers : mapping, optional
        Labelled points ``{label: (amount, probability)}`` drawn on the curve (e.g. P(attach)).

    Returns
    -------
    matplotlib.figure.Figure
    """
    pts = [(float(x), float(p)) for x, p in zip(amounts, probabilities, strict=True)
           if x > 0 and p > 0 and math.isfinite(x) and math.isfinite(p)]
    if not pts:
        raise ValueError("loss_exceedance_chart needs at least one positive (amount, probability) point")
    if any(not (0 < p <= 1) for _, p in pts):
        raise ValueError("exceedance probabilities must lie in (0, 1]")
    if not (limit > 0 and attachment >= 0):
        raise ValueError("the layer needs limit > 0 and attachment >= 0")
    pts.sort(key=lambda t: (t[0], -t[1]))  # points at one amount: a step of the curve (an atom of the loss)
    if any(b[1] > a[1] * (1 + 1e-9) for a, b in zip(pts, pts[1:], strict=False)):
        raise ValueError("exceedance probabilities must not increase with the amount")
    fig, ax = _figure(3.9)
    top = attachment + limit
    _title(fig, ax, title or _("Loss exceedance: {limit} xs {attachment}").format(
        limit=money(limit, currency), attachment=money(attachment, currency)),
           _("probability that a loss exceeds each amount during the policy term; the layer is shaded"))
    xs, ps = [x for x, _ in pts], [p for _, p in pts]
    lo_x = min([*xs, top, attachment if attachment > 0 else top]) / 2.0
    hi_x = max([*xs, top]) * 2.0
    ax.axvspan(attachment if attachment > 0 else lo_x, top, color=LAYER, alpha=0.25, lw=0,
               label=_("layer {limit} xs {attachment}").format(limit=money(limit, currency),
                                                               attachment=money(attachment, currency)))
    for x, name in ((attachment, _("attachment")), (top, _("exhaustion"))):
        if x > 0:
            ax.axvline(x, color="#b9770e", linewidth=1, linestyle="--")
            ax.annotate(f"{name}\n{money(x, currency)}", xy=(x, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(3, -3), textcoords="offset points", va="top", ha="left", fontsize=8,
                        color="#7e5109")
    ax.plot(xs, ps, marker="o", markersize=3.5, color=NEUTRAL, linewidth=1.6, label=label)
    for name, (x, p) in (markers or {}).items():
        if x > 0 and p > 0:
            ax.plot([x], [p], marker="D", color=DEBIT, markersize=5, zorder=5)
            ax.annotate(f"{name}: {percent(p)}", xy=(x, p), xytext=(6, 4), textcoords="offset points",
                        fontsize=8, color=DEBIT)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo_x, hi_x)
    ax.set_ylim(min(ps) / 3.0, min(1.0, max(ps) * 3.0))
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_major_formatter(_log_money_formatter(currency))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(_prob_formatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(_("loss ({currency})").format(currency=currency))
    ax.set_ylabel(_("probability of exceeding"))
    ax.grid(True, which="major", color="#e5e5e5", linewidth=0.6)
    ax.legend(loc="lower left")
    return fig


@_styled
def peril_split_chart(perils: Any, currency: str, *, title: str | None = None) -> Any:
    """Expected loss by peril, largest first, labelled with the amount and its share of the total.

    Parameters
    ----------
    perils : mapping or sequence of dict
        ``{name: expected_loss}`` or dicts with ``name`` and ``expected_loss`` (and optionally
        ``expected_count``, shown in the label).
    currency : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    rows = ([{"name": k, "expected_loss": v} for k, v in perils.items()] if isinstance(perils, Mapping)
            else [dict(p) for p in perils])
    for r in rows:
        v = float(r["expected_loss"])
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"peril {r.get('name')!r}: expected loss must be finite and >= 0, got {v}")
    rows.sort(key=lambda r: float(r["expected_loss"]))
    total = sum(float(r["expected_loss"]) for r in rows)
    fig, ax = _figure(max(2.4, 0.34 * len(rows) + 1.5))
    _title(fig, ax, title or _("Expected loss by peril (total {total})").format(total=money(total, currency)))
    if not rows:
        ax.text(0.5, 0.5, _("no peril"), ha="center", va="center", transform=ax.transAxes)
        return fig
    names = [_(str(r["name"]).replace("_", " ")) for r in rows]
    vals = [float(r["expected_loss"]) for r in rows]
    bars = ax.barh(range(len(vals)), vals, color=NEUTRAL, height=0.6)
    ax.set_yticks(range(len(vals)), names)
    labels = []
    for r, v in zip(rows, vals, strict=True):
        s = f"{money(v, currency)} ({percent(v / total, digits=2) if total > 0 else '0%'})"
        if r.get("expected_count") is not None:
            s += _(", {n} events").format(n=f"{float(r['expected_count']):.3g}")
        labels.append(s)
    ax.bar_label(bars, labels=labels, padding=3, fontsize=8)
    _pad_x(ax, 0.0, max(vals) if max(vals) > 0 else 1.0, 0.55)
    ax.xaxis.set_major_formatter(_money_formatter(currency))
    ax.set_xlabel(_("expected loss over the term ({currency})").format(currency=currency))
    return fig


@_styled
def reserve_waterfall(requirement: float, credits: Any, retention: float, residual: float,
                      currency: str, *, title: str | None = None) -> Any:
    """Waterfall from the reserve requirement, down by each policy's credit, to the residual cash.

    Parameters
    ----------
    requirement : float
        The regime's reserve requirement (``currency`` units).
    credits : mapping or sequence of (name, amount)
        Credit of each step in order; positive amounts lower the cash needed, negative ones raise
        it (e.g. a cap on the credit).
    retention : float
        The part of the residual below the lowest attachment (the insured's retention), shown hatched
        inside the residual bar.
    residual : float
        Cash still required; must equal ``requirement - sum(credits)``.
    currency : str

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the steps do not add up to the residual, or an amount is negative where it cannot be.
    """
    steps = list(credits.items()) if isinstance(credits, Mapping) else [tuple(c) for c in credits]
    if requirement < 0 or residual < 0 or retention < 0:
        raise ValueError("requirement, residual and retention must be >= 0")
    total = sum(float(v) for _, v in steps)
    if abs(requirement - total - residual) > 1e-6 * max(1.0, requirement):
        raise ValueError(f"requirement {requirement} - credits {total} != residual {residual}")
    fig, ax = _figure(4.2)
    _title(fig, ax, title or _("Reserve: requirement {requirement} to residual cash {residual}").format(
        requirement=money(requirement, currency), residual=money(residual, currency)),
           _("credits earned by the policy in green; the retention ({retention}) stays in cash").format(
               retention=money(retention, currency)))
    names = [_("requirement")]
    ax.bar(0, requirement, color=NEUTRAL, width=0.6)
    ax.text(0, requirement, money(requirement, currency), ha="center", va="bottom", fontsize=8)
    level = requirement
    for i, (name, v) in enumerate(steps, start=1):
        v = float(v)
        lo, hi = sorted((level - v, level))
        ax.bar(i, hi - lo, bottom=lo, color=CREDIT if v >= 0 else DEBIT, width=0.6)
        ax.text(i, hi, ("−" if v >= 0 else "+") + money(abs(v), currency), ha="center", va="bottom",
                fontsize=8)
        ax.plot([i - 1 - 0.3, i + 0.3], [level, level], color=MUTED, linewidth=0.8, linestyle=":")
        names.append(_wrap(str(name), 22))
        level -= v
    k = len(steps) + 1
    ret = min(retention, residual)
    ax.bar(k, residual - ret, bottom=ret, color=MUTED, width=0.6, label=_("other residual cash"))
    ax.bar(k, ret, color="white", edgecolor="#7e5109", hatch="///", width=0.6,
           label=_("retention below the lowest attachment: {retention}").format(retention=money(retention, currency)))
    ax.text(k, residual, money(residual, currency), ha="center", va="bottom", fontsize=8)
    names.append(_("residual cash"))
    if retention > 0:
        ax.axhline(retention, color="#7e5109", linewidth=0.9, linestyle="--")
    ax.set_xticks(range(len(names)), names)
    ax.set_ylim(0, requirement * 1.15 if requirement > 0 else 1.0)
    ax.yaxis.set_major_formatter(_money_formatter(currency))
    ax.set_ylabel(currency)
    fig.legend(loc="outside lower center", ncols=2)
    return fig


@_styled
def calibration_chart(predicted: Sequence[float], observed: Sequence[float], *,
                      point: float | None = None, title: str | None = None) -> Any:
    """Observed rate against mean predicted probability per bin, with the diagonal.

    Parameters
    ----------
    predicted, observed : sequence of float
        Mean predicted probability and observed event rate of each bin.
    point : float, optional
        This exchange's predicted probability, drawn as a vertical line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    pm, yr = [float(v) for v in predicted], [float(v) for v in observed]
    if len(pm) != len(yr):
        raise ValueError("predicted and observed must have the same length")
    fig, ax = _figure(4.2)
    _title(fig, ax, title or "Calibration of the risk score (held-out book)")
    hi = max([*pm, *yr, point or 0.0, 1e-3]) * 1.1
    ax.plot([0, hi], [0, hi], color=MUTED, linestyle="--", linewidth=1, label="perfect calibration")
    ax.plot(pm, yr, marker="o", color=NEUTRAL, label="bins")
    if point is not None:
        ax.axvline(point, color=DEBIT, linewidth=1, label=f"this exchange: {percent(point)}")
    ax.set_xlim(0, hi)
    ax.set_ylim(0, hi)
    ax.xaxis.set_major_formatter(_prob_formatter())
    ax.yaxis.set_major_formatter(_prob_formatter())
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed rate")
    ax.legend(loc="upper left")
    return fig


@_styled
def cost_chart(costs: Any, currency: str, *, best: str | None = None, title: str | None = None,
               xlabel: str | None = None) -> Any:
    """Horizontal bars of a cost per option (e.g. the NPV of each reserve programme), cheapest on top.

    Parameters
    ----------
    costs : mapping or sequence of (label, amount)
    currency : str
    best : str, optional
        Label to highlight.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rows = list(costs.items()) if isinstance(costs, Mapping) else [tuple(c) for c in costs]
    rows.sort(key=lambda r: -float(r[1]))
    lines = sum(1 + len(str(r[0])) // 36 for r in rows)
    fig, ax = _figure(max(2.4, 0.3 * lines + 0.1 * len(rows) + 1.5))
    _title(fig, ax, title or "Cost by option")
    if not rows:
        ax.text(0.5, 0.5, "no option", ha="center", va="center", transform=ax.transAxes)
        return fig
    names = [textwrap.fill(str(r[0]), 36, break_on_hyphens=False) for r in rows]
    vals = [float(r[1]) for r in rows]
    bars = ax.barh(range(len(vals)), vals, height=0.6,
                   color=[CREDIT if r[0] == best else NEUTRAL for r in rows])
    ax.set_yticks(range(len(vals)), names)
    ax.bar_label(bars, labels=[money(v, currency) for v in vals], padding=3, fontsize=8)
    _pad_x(ax, min(0.0, *vals), max(0.0, *vals), 0.2)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.xaxis.set_major_formatter(_money_formatter(currency))
    ax.set_xlabel(xlabel or currency)
    return fig
