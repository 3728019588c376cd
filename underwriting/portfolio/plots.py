"""Charts of a simulated book (matplotlib, Agg backend; files written atomically)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

__all__ = ["write_plots"]


def _save(fig: Any, path: Path) -> Path:
    from underwriting.fileio import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return atomic_write_bytes(path, buf.getvalue())


def write_plots(result: Any, out_dir: str | Path, *, level: float = 0.995) -> list[Path]:
    """Write ``ep_curves.png``, ``convergence.png``, ``by_vendor.png`` and ``allocation.png``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    out = Path(out_dir)
    written = []
    ep = result.ep_curves()
    fig, ax = plt.subplots(figsize=(7, 4))
    rp = [r["return_period"] for r in ep]
    ax.plot(rp, [r["aep"] / 1e6 for r in ep], "o-", label="AEP (annual book loss)")
    ax.plot(rp, [r["oep"] / 1e6 for r in ep], "s--", label="OEP (largest event)")
    ax.set_xscale("log")
    ax.set_xlabel("return period (years)")
    ax.set_ylabel("insured loss (USD m)")
    ax.set_title(f"{result.book.label}: {result.years:,} simulated years")
    ax.legend()
    written.append(_save(fig, out / "ep_curves.png"))
    plt.close(fig)

    conv = result.convergence()
    fig, ax = plt.subplots(figsize=(7, 4))
    n = np.array([c["years"] for c in conv])
    m = np.array([c["aal"] for c in conv]) / 1e6
    se = np.array([c["aal_se"] for c in conv]) / 1e6
    ax.errorbar(n, m, yerr=2 * se, fmt="o-", capsize=3)
    ax.set_xscale("log")
    ax.set_xlabel("simulated years")
    ax.set_ylabel("AAL (USD m) +/- 2 SE")
    ax.set_title("Convergence of the average annual loss")
    written.append(_save(fig, out / "convergence.png"))
    plt.close(fig)

    bv = [v for v in result.by_vendor(15) if v["book_loss_if_compromised"] is not None]
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.35 * len(bv) + 1)))
    ax.barh([v["vendor"][:35] for v in bv][::-1], [v["book_loss_if_compromised"] / 1e6 for v in bv][::-1])
    ax.axvline(result.aal / 1e6, color="k", ls="--", label="AAL")
    ax.set_xlabel("book loss in a year the vendor is compromised (USD m)")
    ax.legend()
    written.append(_save(fig, out / "by_vendor.png"))
    plt.close(fig)

    rows = sorted(result.allocation(level), key=lambda r: -r["co_tvar"])[:20]
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.35 * len(rows) + 1)))
    names = [r["exchange_id"][:30] for r in rows][::-1]
    ax.barh(names, [r["aal"] / 1e6 for r in rows][::-1], label="AAL")
    ax.barh(names, [r["capital"] / 1e6 for r in rows][::-1], left=[r["aal"] / 1e6 for r in rows][::-1],
            label=f"capital (co-TVaR {level} - AAL)")
    ax.set_xlabel("USD m")
    ax.legend()
    written.append(_save(fig, out / "allocation.png"))
    plt.close(fig)
    return written
