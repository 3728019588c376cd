"""Time the synthetic generator on 100,000 exchange-years (and the panel); write a Markdown table.

Usage::

    python benchmarks/bench_generator.py            # writes benchmarks/results/generator.md
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from underwriting.datasets import make_exchange_portfolio  # noqa: E402
from underwriting.datasets.panel import build_exchange_panel  # noqa: E402

CASES = [(10_000, 10, "Q"), (10_000, 10, "M"), (20_000, 5, "Q"), (1_000, 10, "Q")]


def main() -> None:
    rows = []
    make_exchange_portfolio(200, years=2, seed=0)  # warm up imports and the calibration cache
    for n, years, freq in CASES:
        times = []
        for rep in range(3):
            t0 = time.perf_counter()
            book = make_exchange_portfolio(n, years=years, seed=rep, freq=freq)
            times.append(time.perf_counter() - t0)
        lt = book.lifetimes
        roster = lt[["exchange_id", "launch_date", "closure_date", "entry_date"]]
        t0 = time.perf_counter()
        panel = build_exchange_panel(roster, book.incidents[["exchange_id", "date", "amount_usd"]], freq=freq,
                                     cutoff=book.truth.end, breach_types=None)
        t_panel = time.perf_counter() - t0
        rows.append((n, years, freq, book.exchange_years, len(book.incidents), len(panel), float(np.median(times)),
                     t_panel))
    cold = []
    from underwriting.datasets import synthetic

    synthetic._CAL_CACHE.clear()
    t0 = time.perf_counter()
    make_exchange_portfolio(10_000, years=10, seed=0)
    cold.append(time.perf_counter() - t0)
    lines = [
        "# Synthetic generator benchmark",
        "",
        f"Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()} ({platform.system()}).",
        "`make_exchange_portfolio` wall time is the median of 3 seeds with the calibration cached; the panel "
        "column is `build_exchange_panel` alone (it is included in the generator time).",
        "",
        "| exchanges | years | panel freq | exchange-years | breaches | panel rows | generator (s) | panel alone (s) |",
        "| ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, y, f, ey, ni, npan, tg, tp in rows:
        lines.append(f"| {n:,} | {y} | {f} | {ey:,.0f} | {ni:,} | {npan:,} | {tg:.2f} | {tp:.2f} |")
    lines += ["", f"First call with an empty calibration cache (10,000 x 10 years, Q): {cold[0]:.2f} s "
              "(includes the fixed pilot calibration).", ""]
    out = ROOT / "benchmarks" / "results" / "generator.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
