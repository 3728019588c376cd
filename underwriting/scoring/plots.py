"""PNG plots of a score: reason codes and the scorer's calibration curve (matplotlib, Agg backend).

Each figure is rendered in memory and written with :func:`underwriting.fileio.atomic_write_bytes`,
so an interrupted run never leaves a half-written image.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from underwriting.fileio import atomic_write_bytes


def _figure():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | os.PathLike[str]) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    _figure().close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def plot_reasons(reasons: Sequence[Mapping], path: str | os.PathLike[str], *, title: str = "") -> Path:
    """Horizontal bars of the reason codes' log-odds contributions (red raises, green lowers)."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(reasons), 1) + 1.4))
    names = [r["factor"] for r in reasons][::-1]
    vals = [r["log_odds"] for r in reasons][::-1]
    ax.barh(names, vals, color=["#c0392b" if v > 0 else "#27ae60" for v in vals])
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel("contribution to log-odds of a breach, vs the reference exchange")
    ax.set_title(title or "Reason codes")
    if not reasons:
        ax.text(0.5, 0.5, "no feature differs from the reference", ha="center", transform=ax.transAxes)
    return _save(fig, path)


def plot_calibration(calibration: Mapping, path: str | os.PathLike[str], *, p: float | None = None,
                     title: str = "") -> Path:
    """Observed breach rate against mean predicted probability per bin, with the diagonal.

    ``calibration`` has lists ``p_mean``, ``y_rate`` and ``n`` (a
    :func:`~underwriting.scoring.validation.calibration_curve` table as ``to_dict(orient="list")``);
    ``p`` marks this exchange's probability.
    """
    plt = _figure()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    pm, yr = list(calibration["p_mean"]), list(calibration["y_rate"])
    hi = max([*pm, *yr, p or 0.0, 1e-3]) * 1.1
    ax.plot([0, hi], [0, hi], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    ax.plot(pm, yr, marker="o", color="#2c3e50", label="held-out bins")
    if p is not None:
        ax.axvline(p, color="#c0392b", linewidth=1, label=f"this exchange: {p:.3f}")
    ax.set_xlim(0, hi)
    ax.set_ylim(0, hi)
    ax.set_xlabel("predicted P(breach within horizon)")
    ax.set_ylabel("observed breach rate")
    ax.set_title(title or "Calibration of the scorer (held-out synthetic book)")
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)
