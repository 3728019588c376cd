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


def _footnote(fig: Any, text: str) -> None:
    """The assumptions and the cap scenario, wrapped under the chart."""
    from underwriting.figures import _wrap

    cols = int(fig.get_figwidth() * 72 / (7 * 0.62))  # 7 pt text: about 0.62 em a column
    fig.text(0.01, 0.005, "\n".join(_wrap(line, cols) for line in text.split("\n")), fontsize=7, color="#555555",
             ha="left", va="bottom")


def _assumptions_note(comp: Comparison | None, a: ReserveAssessment) -> str:
    from underwriting.i18n import _, percent

    cap = _("insurance may replace at most {cap} of the requirement under {regime} (a scenario: the share is a "
            "regime parameter)").format(cap=percent(a.cap_share), regime=a.regime.id)
    if comp is None:
        return cap
    ca = comp.assumptions
    return _("Assumptions: funding cost {funding}, reserve yield {yield_}, discount rate {discount}, LGD {lgd}, "
             "basis-risk load {basis}; {cap}.").format(
        funding=percent(ca.funding_cost), yield_=percent(ca.reserve_yield), discount=percent(ca.discount_rate),
        lgd=percent(ca.lgd), basis=percent(ca.basis_risk_load), cap=cap)


def _label(text: str, width: int = 26) -> str:
    """A programme or policy name wrapped to ``width`` columns (Japanese characters count two)."""
    from underwriting.figures import _wrap

    return _wrap(text.replace(" + ", " +\u00a0"), width)


def plot_costs(comp: Comparison, path: str | Path, top: int = 12) -> Path:
    """Horizontal bar chart of NPV cost by programme (cheapest first), values on the bars, the saving of the
    cheapest compliant programme against cash only in the title, the assumptions and cap scenario as a footnote;
    labels in the language of :func:`underwriting.i18n.use_lang`. Saved as PNG (atomically)."""
    from underwriting.figure_style import _RC, _plt, money, save_png
    from underwriting.i18n import _

    plt = _plt()
    from matplotlib.ticker import FuncFormatter

    with plt.rc_context(_RC):
        progs = [p for p in comp.programmes if p.compliant][:top]
        if comp.cash_only not in progs:
            progs.append(comp.cash_only)
        progs = progs[::-1]
        cur = comp.currency
        notes = caveat_lines(comp)
        foot = 0.14 * len(notes) + 0.45
        fig, ax = plt.subplots(figsize=(9, 0.5 * len(progs) + 2.6 + foot))
        names = [_label(_(p.label) if not p.policies else p.label) for p in progs]
        vals = [p.npv for p in progs]
        colors = ["#999999" if not p.policies else ("#2a7f62" if p is comp.best else "#4c72b0") for p in progs]
        bars = ax.barh(range(len(progs)), vals, color=colors, height=0.6)
        ax.set_yticks(range(len(progs)), names)
        ax.bar_label(bars, labels=[money(v, cur) for v in vals], padding=3, fontsize=8)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos=None: money(x, cur)))
        ax.set_xlabel(_("NPV cost over {years} years ({currency})").format(years=comp.horizon_years, currency=cur))
        ax.axvline(0, color="black", lw=0.8)
        lo, hi = min(0.0, *vals), max(0.0, *vals)
        ax.set_xlim(lo - 0.05 * (hi - lo or 1.0), hi + 0.25 * (hi - lo or 1.0))
        saving = comp.cash_only.npv - comp.best.npv
        prov = _(" (PROVISIONAL)") if comp.best_assessment.regime.provisional else ""
        ax.set_title(_("Insurance vs cash under {regime}: the cheapest compliant programme (green) saves {saving} "
                       "against cash only").format(regime=f"{comp.regime}{prov}", saving=money(saving, cur)),
                     loc="left", fontsize=10, fontweight="bold", wrap=True)
        fig.tight_layout(rect=(0, foot / fig.get_figheight(), 1, 1))
        _footnote(fig, _assumptions_note(comp, comp.best_assessment) + "\n" + "\n".join(notes))
        out = save_png(fig, Path(path))
    return Path(out)


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


def plot_waterfall(a: ReserveAssessment, path: str | Path, comp: Comparison | None = None) -> Path:
    """Waterfall: requirement → each policy's incremental credit (tower order) → cap → residual cash,
    with the retention (losses below the lowest attachment, kept in cash) marked inside the residual,
    values on the bars, wrapped names and the assumptions and cap scenario as a footnote."""
    from underwriting.figure_style import _RC, _plt, money, save_png
    from underwriting.i18n import _, percent

    r = a.requirement.amount
    cur = a.currency
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
        steps.append((_("cap {share}").format(share=percent(a.cap_share)), a.credit_before_cap - a.credit))
    plt = _plt()
    from matplotlib.ticker import FuncFormatter

    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(8, 5.2))
        x, level = 0, r
        ax.bar(x, r, color="#4c72b0")
        ax.text(x, r, money(r, cur), ha="center", va="bottom", fontsize=8)
        names = [_("requirement")]
        for name, delta in steps:
            x += 1
            lo, hi = sorted((level, level + delta))
            ax.bar(x, hi - lo, bottom=lo, color="#2a7f62" if delta < 0 else "#c44e52")
            ax.text(x, hi, ("−" if delta < 0 else "+") + money(abs(delta), cur), ha="center", va="bottom", fontsize=8)
            names.append(_label(name, 18))
            level += delta
        x += 1
        retention = 0.0
        if a.layers:
            low = min(L.attachment for L in a.layers)
            retention = min(level, sum(min(low, k.amount) for k in a.components))
        ax.bar(x, level, color="#999999")
        ax.text(x, level, money(level, cur), ha="center", va="bottom", fontsize=8)
        if retention > 0:
            ax.bar(x, retention, color="#999999", hatch="//", edgecolor="black", lw=0.5,
                   label=_("retention below the lowest attachment: {retention}").format(retention=money(retention, cur)))
            ax.legend(loc="upper right", fontsize=8)
        names.append(_("residual cash"))
        ax.set_xticks(range(len(names)), names)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos=None: money(v, cur)))
        ax.set_ylabel(cur)
        ax.set_ylim(0, r * 1.3 if r > 0 else 1.0)  # room for the values and the legend
        ax.set_title(_("{regime}: requirement → credit → residual cash").format(regime=a.regime.id), loc="left",
                     fontsize=10, fontweight="bold")
        fig.tight_layout(rect=(0, 0.08, 1, 1))
        _footnote(fig, _assumptions_note(comp, a))
        out = save_png(fig, Path(path))
    return Path(out)


def _partial_credit(a: ReserveAssessment, idx: list[int]) -> float:
    """Tower credit (before cap) of a subset of the assessed policies."""
    from underwriting.reserve.allocation import tower_credit

    return tower_credit([a.layers[i] for i in idx], list(a.components))
