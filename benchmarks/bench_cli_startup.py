"""Start-up time of the CLI (`underwriting --help`, target < 0.3 s) next to a bare `import pandas`.

Writes benchmarks/results/cli_startup.md. Wall-clock medians of repeated fresh processes.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
REPEATS = 7


def _time(cmd: list[str]) -> float:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> str:
    from underwriting.fileio import atomic_write_text

    rows = [
        ("python -c pass (interpreter floor)", _time([sys.executable, "-c", "pass"])),
        ("underwriting --help", _time([sys.executable, "-m", "underwriting", "--help"])),
        ("python -c 'import pandas' (what --help avoids)", _time([sys.executable, "-c", "import pandas"])),
        ("python -c 'import lifelines' (what --help avoids)", _time([sys.executable, "-c", "import lifelines"])),
    ]
    target = 0.3
    lines = ["# CLI start-up", "", f"Median of {REPEATS} fresh processes. Target: `underwriting --help` < {target} s.", "",
             "| command | median (s) |", "|---|---:|"]
    lines += [f"| {name} | {t:.3f} |" for name, t in rows]
    helpt = rows[1][1]
    lines += ["", f"`underwriting --help`: {helpt:.3f} s — {'meets' if helpt < target else 'MISSES'} the target."]
    text = "\n".join(lines) + "\n"
    atomic_write_text(RESULTS / "cli_startup.md", text)
    return text


if __name__ == "__main__":
    print(main())
