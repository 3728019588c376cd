"""Risk scorer vs the oracle on the synthetic generator: AUC, Brier, ECE with bootstrap intervals.

Fits the scorer exactly as the shipped one is fitted (underwriting.scoring.shipped.fit_synthetic_scorer:
4,000 exchanges over 10 years, fixed seed, yearly landmarks, 1-year horizon) and validates it on an
independent book (seed + 1) against the oracle that knows the true hazard. Exchange-clustered
bootstrap, 500 resamples. Fails (exit 1) if the AUC gap exceeds 0.03 or the ECE reaches 0.02.
Writes benchmarks/results/scoring.md atomically.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AUC_TOLERANCE = 0.03
ECE_LIMIT = 0.02


def main() -> int:
    from underwriting.domain.currency import FxTable
    from underwriting.domain.submission import load_submission
    from underwriting.fileio import atomic_write_text
    from underwriting.scoring import load_scorer, score_submission
    from underwriting.scoring.shipped import DEFAULT_C, DEFAULT_TRAIN, fit_synthetic_scorer

    t0 = time.perf_counter()
    scorer, meta = fit_synthetic_scorer(n_boot=500)
    fit_s = time.perf_counter() - t0
    v = meta["validation"]

    def iv(d):
        return f"{d['estimate']:.4f} [{d['low']:.4f}, {d['high']:.4f}]"

    sub = load_submission(str(ROOT / "datasets" / "examples" / "jp_small_exchange.json"))
    fx = FxTable().with_user_rates({"JPY": 150.0})
    shipped = load_scorer()
    score_submission(sub, fx, scorer=shipped)
    t1 = time.perf_counter()
    n_calls = 50
    for _ in range(n_calls):
        score_submission(sub, fx, scorer=shipped)
    per_call_ms = (time.perf_counter() - t1) / n_calls * 1000

    gap = v["auc"]["estimate"] - v["oracle_auc"]["estimate"]
    ok = gap >= -AUC_TOLERANCE and v["ece"]["estimate"] < ECE_LIMIT
    tr = meta["training"]
    lines = [
        "## Risk scorer vs oracle (synthetic book)",
        "",
        f"Train: make_exchange_portfolio(n_exchanges={tr['n_exchanges']}, years={tr['years']}, "
        f"seed={tr['seed']}) -> {tr['rows']:,} landmark rows, {tr['events']:,} with a breach within "
        f"{tr['horizon_years']:g} year. Test: an independent book (seed {v['generator_seed']}), "
        f"{v['n']:,} rows, {v['events']:,} events. RiskScorer(C={DEFAULT_C}, calibration='platt'). "
        "95% intervals: exchange-clustered bootstrap, 500 resamples, seeded.",
        "",
        "| metric | scorer | oracle (true hazard) |",
        "| --- | --- | --- |",
        f"| ROC AUC | {iv(v['auc'])} | {iv(v['oracle_auc'])} |",
        f"| Brier score | {iv(v['brier'])} | {iv(v['oracle_brier'])} |",
        f"| ECE (10 equal-count bins) | {iv(v['ece'])} | {iv(v['oracle_ece'])} |",
        f"| AUC - oracle AUC (paired) | {iv(v['auc_gap'])} | |",
        "",
        f"Targets: AUC within {AUC_TOLERANCE} of the oracle, ECE < {ECE_LIMIT}: "
        f"{'met' if ok else 'NOT MET'}. Fit + validation {fit_s:.1f} s; scoring one submission "
        f"with the shipped model {per_call_ms:.1f} ms. Default train size: {DEFAULT_TRAIN}.",
        "",
    ]
    text = "\n".join(lines)
    atomic_write_text(ROOT / "benchmarks" / "results" / "scoring.md", text)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
