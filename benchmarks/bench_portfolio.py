"""Benchmark of the portfolio simulation (issues #9, #29); writes benchmarks/results/portfolio.md atomically.

Usage: python benchmarks/bench_portfolio.py [--exchanges 10000] [--years 100000] [--quick]

Measures, on a SYNTHETIC book (underwriting.portfolio.synthetic_book):
* the vectorised engine on one process, on 2 loky workers and on a 2-worker Dask LocalCluster
  (processes), with wall time, exchange-years per second and peak memory (sampled RSS of the driver
  and all its child processes, every 50 ms);
* that peak memory does not grow with the number of years (the same book at 1/10 of the years);
* the straightforward per-exchange Python loop (underwriting.portfolio.reference.simulate_naive),
  timed on a small sample and extrapolated linearly in exchange-years (stated as such);
* bitwise equality of the per-year totals across the three runs;
* issue #29's target 4: 10^9 exchange-years (10,000 exchanges x 100,000 years) in <= 5 s on 2 cores
  (the 2-worker run), and the Dask run within 1.5x of the local one. At a reduced size (a loaded
  machine) the time is also given scaled linearly to 10^9 exchange-years, and said to be so.

The engine samples by event counts (each year's number of candidate events, then only those events;
``underwriting.portfolio.engine``); its equality in distribution with the previous sampler and its
exact moments are tested in ``tests/portfolio/test_portfolio_sampler.py``, not here.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class PeakRSS:
    """Peak of the summed RSS of this process and its descendants (sampled), and the CPU seconds (user +
    system) they used meanwhile: each process's CPU time at its last sample minus that at the start (0
    for a process started meanwhile; a child that ends between two samples loses its last interval)."""

    def __init__(self, interval: float = 0.05):
        import psutil

        self.proc = psutil.Process()
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._cpu0: dict[int, float] = {}
        self._cpu1: dict[int, float] = {}

    def _sample(self) -> int:
        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
                c = p.cpu_times()
                self._cpu1[p.pid] = c.user + c.system
            except Exception:  # process gone
                pass
        return total

    @property
    def cpu(self) -> float:
        return sum(v - self._cpu0.get(pid, 0.0) for pid, v in self._cpu1.items())

    def __enter__(self):
        self.peak = self._sample()
        self._cpu0 = dict(self._cpu1)
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._sample())


LAST_CPU = [0.0]  #: CPU seconds of the latest timed() call


def timed(label, fn):
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
    LAST_CPU[0] = mem.cpu
    print(f"{label}: {dt:.2f} s, CPU {mem.cpu:.2f} s, peak RSS {mem.peak / 2**20:,.0f} MiB", flush=True)
    return out, dt, mem.peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exchanges", type=int, default=10_000)
    ap.add_argument("--years", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="1,000 exchanges x 10,000 years")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "portfolio.md"))
    args = ap.parse_args()
    if args.quick:
        args.exchanges, args.years = 1_000, 10_000

    from underwriting.fileio import atomic_write_text
    from underwriting.portfolio import simulate_book, synthetic_book
    from underwriting.portfolio.reference import simulate_naive

    n, Y = args.exchanges, args.years
    load_start = os.getloadavg()[0]
    book, t_build, _ = timed(f"build synthetic book of {n:,}", lambda: synthetic_book(n, seed=1))
    s = book.summary()
    rows = []

    def record(name, res, dt, peak, years):
        rows.append((name, years, dt, n * years / dt, peak, LAST_CPU[0]))

    small_years = max(Y // 10, 1000)
    r_small, dt, pk = timed(f"1 process, {small_years:,} years",
                            lambda: simulate_book(book, small_years, seed=7, progress=False))
    record("vectorised, 1 process", r_small, dt, pk, small_years)
    r1, dt, pk = timed(f"1 process, {Y:,} years", lambda: simulate_book(book, Y, seed=7, progress=False))
    record("vectorised, 1 process", r1, dt, pk, Y)
    r2, dt, pk = timed("2 loky workers", lambda: simulate_book(book, Y, seed=7, n_jobs=2, progress=False))
    record("vectorised, 2 loky workers (started inside the timing)", r2, dt, pk, Y)
    r2b, dt, pk = timed("2 loky workers again", lambda: simulate_book(book, Y, seed=7, n_jobs=2, progress=False))
    record("vectorised, 2 loky workers, already started (a second run in the same process)", r2b, dt, pk, Y)

    dask_note = ""
    try:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
                Client(cl) as client:
            r3, dt, pk = timed("2-worker Dask LocalCluster",
                               lambda: simulate_book(book, Y, seed=7, backend="dask", scheduler=client,
                                                     progress=False))
        record("vectorised, Dask LocalCluster (2 worker processes)", r3, dt, pk, Y)
        same_dask = np.array_equal(r1.totals, r3.totals)
    except ImportError:
        same_dask = None
        dask_note = "dask.distributed is not installed: Dask run skipped."

    # the straightforward loop on a small sample, extrapolated
    sample_n, sample_y = min(n, 200), 200
    sub = book.subset(range(sample_n))
    _, dt_naive, _ = timed(f"naive loop {sample_n} x {sample_y}", lambda: simulate_naive(sub, sample_y, seed=1))
    naive_rate = sample_n * sample_y / dt_naive
    same_loky = np.array_equal(r1.totals, r2.totals) and np.array_equal(r1.totals, r2b.totals)
    ex_years = n * Y
    t_loky, t_loky_warm = rows[2][2], rows[3][2]
    cpu_loky_warm = rows[3][5]
    t_dask = rows[4][2] if len(rows) > 4 else None
    full = 10**9
    scaled = "" if ex_years == full else (f" (this run: {ex_years:,} exchange-years; scaled linearly to 10^9: "
                                          f"{t_loky * full / ex_years:.1f} s)")
    t_full = t_loky * full / ex_years
    target_lines = [
        f"- Target (issue #29): 10^9 exchange-years in <= 5 s on 2 cores: 2 loky workers took {t_loky:.1f} s"
        f"{scaled}, worker start-up included: {'met' if t_full <= 5 else 'NOT met'}"
        + ("" if ex_years == full else " (at reduced size: a scaled figure, not a measurement at 10^9)")
        + f"; with the workers already started {t_loky_warm:.1f} s"
        + ("" if ex_years == full else f" (scaled: {t_loky_warm * full / ex_years:.1f} s)") + ".",
        f"- CPU time of that second run, driver and workers together: {cpu_loky_warm:.1f} s"
        + ("" if ex_years == full else f" (scaled to 10^9: {cpu_loky_warm * full / ex_years:.1f} s)")
        + f", i.e. {cpu_loky_warm * full / ex_years / 2:.1f} s of wall time if both cores were this run's alone: "
        "a projection for a quiet machine (waiting for a core is not CPU time), not a measurement.",
    ]
    if t_dask is not None:
        target_lines.append(f"- Target (issue #29): Dask within 1.5x of the local run: {t_dask:.1f} s / {t_loky:.1f} s = "
                            f"{t_dask / t_loky:.2f}x: {'met' if t_dask <= 1.5 * t_loky else 'NOT met'}.")

    lines = [
        "# Portfolio simulation benchmark (issues #9, #29)", "",
        f"Generated by `benchmarks/bench_portfolio.py` on {platform.machine()} with {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}. Book: SYNTHETIC "
        f"(`synthetic_book({n}, seed=1)`): {s['exchanges']:,} exchanges, {s['vendors']:,} vendors "
        f"({s['shared_vendors']:,} shared, up to {s['max_clients_of_a_vendor']:,} clients), "
        f"{s['expected_own_breaches'] + s['expected_vendor_losses']:,.0f} expected breaches a year; "
        f"market variance {s['dependence']['market_variance']}, vendor loss probability "
        f"{s['dependence']['vendor_loss_prob']}. Blocks of 1,000 years. Book built in {t_build:.1f} s.", "",
        "| run | years | wall time (s) | CPU time, driver + workers (s) | exchange-years / s | "
        "peak RSS, driver + workers (MiB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, years, dt, rate, peak, cpu in rows:
        lines.append(f"| {name} | {years:,} | {dt:.1f} | {cpu:.1f} | {rate:,.0f} | {peak / 2**20:,.0f} |")
    lines.append(f"| straightforward per-exchange Python loop (timed on {sample_n} exchanges x {sample_y} years, "
                 f"extrapolated) | {Y:,} | {n * Y / naive_rate:,.0f} (extrapolated) | - | {naive_rate:,.0f} | - |")
    lines += ["", *target_lines,
        f"- Speed-up of the vectorised engine (1 process) over the loop: {rows[1][3] / naive_rate:,.0f}x.",
        f"- Peak memory at {small_years:,} years: {rows[0][4] / 2**20:,.0f} MiB; at {Y:,} years: "
        f"{rows[1][4] / 2**20:,.0f} MiB (per-year totals are O(years) floats; a worker holds one block).",
        f"- Per-year totals bitwise identical: 1 process vs 2 loky workers: {same_loky}; vs Dask: {same_dask}.",
        f"- AAL {r1.aal / 1e6:,.1f}M USD (SE {r1.aal_se / 1e6:,.2f}M), TVaR 0.99 {r1.tvar(0.99) / 1e6:,.0f}M, "
        f"{r1.run['events']:,} simulated breaches.",
        "- The loop's figure is an extrapolation: its cost is linear in exchange-years (one set of scalar "
        "draws per exchange, peril and year).",
        "- Worker start-up (loky processes, Dask cluster) is inside the wall time; on 2 cores the parallel runs "
        "share the machine with the driver. Peak RSS sums the driver (which also holds the earlier runs' "
        "results) and every child process (loky workers; Dask scheduler, nannies and workers).",
        f"- 1-minute load average (as `uptime` shows it) {load_start:.1f} at the start and {os.getloadavg()[0]:.1f} "
        f"at the end of the benchmark on {os.cpu_count()} cores"
        + (": other jobs shared the machine, so times are upper bounds." if max(load_start, os.getloadavg()[0]) > 1.5
           else "."),
        "- Sampling: event counts (each year's number of candidate events, then only those events; "
        "`underwriting/portfolio/engine.py`); equality in distribution with the previous sampler and the exact "
        "mean and variance of the annual total are tested in `tests/portfolio/test_portfolio_sampler.py`.",
    ]
    if dask_note:
        lines.append(f"- {dask_note}")
    atomic_write_text(args.out, "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
