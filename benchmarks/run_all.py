"""Run every benchmark (benchmarks/bench_*.py, then the studies in ``STUDIES``) and gather their tables into
benchmarks/results/README.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Studies that are not timings but run in under a minute, so ``make bench`` keeps their tables current:
#: grid_convergence.py (the quote on 2^16, 2^18 and 2^20 buckets, about 30-40 s on 2 cores).
STUDIES = ("grid_convergence.py",)


def main() -> int:
    from underwriting.fileio import atomic_write_text

    failed = []
    for script in [*sorted(HERE.glob("bench_*.py")), *(HERE / name for name in STUDIES)]:
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0:
            failed.append(script.name)
    parts = ["# Benchmark results", "", "Written by `make bench` (benchmarks/run_all.py); machine: "
             "2 cores, 24 GiB. Each section is one script's table.", ""]
    for md in sorted((HERE / "results").glob("*.md")):
        if md.name != "README.md":
            parts += [md.read_text(encoding="utf-8"), ""]
    atomic_write_text(HERE / "results" / "README.md", "\n".join(parts))
    if failed:
        print("failed:", ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
