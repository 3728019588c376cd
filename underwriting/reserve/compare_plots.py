"""Charts of the insurance-versus-cash comparison: NPV cost by programme and the reserve waterfall."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from underwriting.reserve.assessment import ReserveAssessment
from underwriting.reserve.compare_types import Comparison

# ---- plots ----------------------------------------------------------------------------------------

def short_amount(x: float, _pos: Any = None) -> str:
    """Axis label for an amount: ``1.5bn``, ``200M``, ``750k`` (never scientific notation)."""
    a = abs(x)
    for div, suf in ((1e12, "tn"), (1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{x / div:,.4g}{suf}"
    return f"{x:,.0f}"


def _title_inside(ax: Any, text: str) -> None:
    ax.text(0.01, 0.98, text, transform=ax.transAxes, ha="left", va="top", fontsize=10,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85})


def plot_costs(comp: Comparison, path: str | Path, top: int = 12) -> Path:
    """Horizontal bar chart of NPV cost by programme (cheapest first) saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    progs = [p for p in comp.programmes if p.compliant][:top]
    if comp.cash_only not in progs:
        progs.append(comp.cash_only)
    notes = caveat_lines(comp)
    foot = 0.14 * len(notes) + 0.2
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(progs) + 2.0 + foot))
    labels = [p.label for p in progs][::-1]
    vals = [p.npv for p in progs][::-1]
    colors = ["#999999" if not p.policies else ("#2a7f62" if p is comp.best else "#4c72b0") for p in progs][::-1]
    ax.barh(labels, vals, color=colors)
    ax.xaxis.set_major_formatter(FuncFormatter(short_amount))
    ax.set_xlabel(f"NPV cost over {comp.horizon_years} years ({comp.currency})")
    ax.axvline(0, color="black", lw=0.8)
    lo, hi = min(0.0, *vals), max(0.0, *vals)
    ax.set_xlim(lo - 0.05 * (hi - lo or 1.0), hi + 0.05 * (hi - lo or 1.0))
    ax.set_ylim(-0.6, len(progs) + 1.2)  # room for the title inside the axes
    prov = " (PROVISIONAL)" if comp.best_assessment.regime.provisional else ""
    _title_inside(ax, f"Insurance vs cash under {comp.regime}{prov}\nNPV cost through the term; cheapest compliant in green")
    fig.tight_layout(rect=(0.0, foot / fig.get_figheight(), 1.0, 1.0))
    fig.text(0.01, 0.01, "\n".join(notes), ha="left", va="bottom", fontsize=7, family="monospace")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def caveat_lines(comp: Comparison, width: int = 125) -> list[str]:
    """The comparison's caveats, renewal assumption and cap scenarios as short lines (for the chart)."""
    import re
    import textwrap

    out = []
    for c in comp.caveats:  # the chart's font has no CJK glyphs: romanise the one Japanese term, drop others
        c = re.sub(r"[\u3000-\u30ff\u4e00-\u9fff]+", "[JP]", c.replace("履行保証暗号資産", "riko hosho angoshisan"))
        out += textwrap.wrap("! " + c, width)
    out += textwrap.wrap(f"renewal [assumption]: {comp.renewal}", width)
    for name, sc in comp.cap_scenarios.items():
        out.append(f"cap {sc['cap_share']:.0%} ({name}): best {sc['best']}, NPV {short_amount(sc['npv'])}, saving vs cash "
                   f"{short_amount(sc['saving_vs_cash'])} {comp.currency}")
    return out


def plot_waterfall(a: ReserveAssessment, path: str | Path) -> Path:
    """Waterfall: requirement → each policy's incremental credit (tower order) → cap → residual cash,
    with the retention (losses below the lowest attachment, kept in cash) marked inside the residual."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    r = a.requirement.amount
    order = sorted(range(len(a.policies)), key=lambda i: a.policies[i].attachment)
    steps: list[tuple[str, float]] = []
    prev = 0.0
    chosen: list[int] = []
    for i in order:
        chosen.append(i)
        sub_credit = _partial_credit(a, chosen)
        steps.append((a.policies[i].policy_id, -(sub_credit - prev)))
        prev = sub_credit
    if a.credit < a.credit_before_cap:
        steps.append((f"cap {a.cap_share:.0%}", a.credit_before_cap - a.credit))
    fig, ax = plt.subplots(figsize=(8, 4.8))
    x, level = 0, r
    ax.bar(x, r, color="#4c72b0")
    names = ["requirement"]
    for name, delta in steps:
        x += 1
        lo, hi = sorted((level, level + delta))
        ax.bar(x, hi - lo, bottom=lo, color="#2a7f62" if delta < 0 else "#c44e52")
        names.append(name)
        level += delta
    x += 1
    retention = 0.0
    if a.layers:
        low = min(L.attachment for L in a.layers)
        retention = min(level, sum(min(low, k.amount) for k in a.components))
    ax.bar(x, level, color="#999999")
    if retention > 0:
        ax.bar(x, retention, color="#999999", hatch="//", edgecolor="black", lw=0.5,
               label=f"retention below the lowest attachment: {short_amount(retention)} {a.currency}")
        ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.9), fontsize=8)
    names.append("residual cash")
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right")
    ax.yaxis.set_major_formatter(FuncFormatter(short_amount))
    ax.set_ylabel(a.currency)
    ax.set_ylim(0, r * 1.3 if r > 0 else 1.0)  # room for the title and legend inside the axes
    _title_inside(ax, f"{a.regime.id}: requirement → credit → residual cash ({a.currency})")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _partial_credit(a: ReserveAssessment, idx: list[int]) -> float:
    """Tower credit (before cap) of a subset of the assessed policies."""
    from underwriting.reserve.allocation import tower_credit

    return tower_credit([a.layers[i] for i in idx], list(a.components))
