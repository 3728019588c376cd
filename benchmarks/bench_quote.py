"""Warm in-process quote of the bundled Japanese sample, next to one bare FFT of the engine's grid size.

Target (issue #15): a warm quote ≤ 25 ms median. The figure is reported with its ratio to one complex
FFT round trip of 2^16 points (the engine's default grid), so the number travels between machines.
Also splits the warm quote into its stages (frequency, loss model and pricing, reserve block) by
timing the public functions the quote calls. Writes benchmarks/results/quote.md.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
REPEATS = 25


def _median(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> str:
    import numpy as np

    import underwriting.api as uw
    from underwriting.domain.currency import FxTable
    from underwriting.fileio import atomic_write_text
    from underwriting.quoting import assess_reserve, build_loss_model, frequency_score

    sub = uw.load_submission(ROOT / "datasets/examples/jp_small_exchange.json")
    terms = uw.load_policy(ROOT / "datasets/examples/policy_jp_primary.toml")
    fx = FxTable.bundled()
    t0 = time.perf_counter()
    first = uw.quote(sub, terms)
    cold = time.perf_counter() - t0
    warm = _median(lambda: uw.quote(sub, terms))
    again = uw.quote(sub, terms)
    assert again.premium == first.premium, "a warm quote must equal the first one to the last digit"

    x = np.random.default_rng(0).standard_normal(2**16)
    fft = _median(lambda: np.fft.ifft(np.fft.fft(x)), repeats=200)
    t_freq = _median(lambda: frequency_score(sub, fx))
    t_loss = _median(lambda: build_loss_model(sub, terms, fx=fx))
    t_res = _median(lambda: assess_reserve(sub, [terms], "jp-fsa-2026", fx))
    target = 0.025
    lines = [
        "# Warm quote", "",
        f"The Japanese sample with its policy, in process (`underwriting.api.quote`), median of {REPEATS} warm "
        f"runs after one cold run. Target ≤ {target * 1000:.0f} ms.", "",
        "| what | median (ms) | × one 2^16 FFT round trip |", "|---|---:|---:|",
        f"| first quote in the process (loads data, fits severity, bootstrap GoF) | {cold * 1000:.1f} | {cold / fft:.0f} |",
        f"| warm quote | {warm * 1000:.1f} | {warm / fft:.0f} |",
        f"| of which: frequency (base × experience × schedule) | {t_freq * 1000:.1f} | {t_freq / fft:.0f} |",
        f"| of which: loss model (perils, severities) | {t_loss * 1000:.1f} | {t_loss / fft:.0f} |",
        f"| of which: reserve block with risk-based sizing | {t_res * 1000:.1f} | {t_res / fft:.0f} |",
        f"| one FFT + inverse FFT of 2^16 complex points (numpy) | {fft * 1000:.2f} | 1 |",
        "",
        f"Warm quote {'meets' if warm <= target else 'misses'} the {target * 1000:.0f} ms target "
        f"({warm * 1000:.1f} ms, {warm / fft:.0f} FFT round trips).",
    ]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    atomic_write_text(RESULTS / "quote.md", text)
    return text


if __name__ == "__main__":
    print(main())
