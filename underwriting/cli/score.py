"""score a submission: P(breach within one year), band A-E, risk score and reasons from the one risk model.

The numbers are those of `underwriting quote` for the same submission: the annual breach rate is the
base rate (Poisson regression on real exchange cohorts) x experience (credibility on the exchange's own
breaches) x the posture schedule (credits and debits, every factor an assumption, capped). The band
comes from documented thresholds on the annual rate; the reasons are the largest factors on the
log-rate scale (underwriting.frequency.model).
"""

from __future__ import annotations

import argparse
import json
import sys

from underwriting.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submission", help="submission file (.json or .toml)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--plot", metavar="DIR", help="write reason_codes.png (factors on the log-rate scale) to DIR")
    parser.add_argument("--schedule", metavar="FILE", help="posture schedule table (TOML; default: the shipped one)")
    parser.add_argument("--registry", metavar="DIR", help="model registry folder (default: $UNDERWRITING_REGISTRY "
                        "or models/)")
    parser.add_argument("--fx", metavar="CUR=RATE", action="append", default=[],
                        help="units of CUR per USD, e.g. --fx JPY=150 (repeatable; default: bundled table)")
    parser.add_argument("--reasons", metavar="N", type=int, default=5, help="number of reason codes (default 5)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from underwriting.cli._common import check_output_dir, parse_fx
    from underwriting.domain.currency import FxTable
    from underwriting.domain.submission import load_submission
    from underwriting.quote.frequency import frequency_score

    if args.reasons < 0:
        raise InputError("must not be negative", source="--reasons")
    check_output_dir(args.plot, "--plot")
    sub = load_submission(args.submission)
    fx = FxTable.bundled().with_user_rates(parse_fx(args.fx))
    from underwriting.cli._common import schedule_and_registry

    schedule, registry = schedule_and_registry(args)
    block, fe = frequency_score(sub, fx, registry=registry, schedule=schedule, n_reasons=args.reasons)
    d = block.model_dump(mode="json")
    detail = fe.detail or {}
    d["annual_rate"] = fe.annual_rate
    d["annual_rate_interval"] = detail.get("annual_rate_interval")
    d["p_breach_interval"] = detail.get("p_breach_interval")
    if args.plot:
        from underwriting.figures import factor_chart, save_png

        out = Path(args.plot)
        out.mkdir(parents=True, exist_ok=True)
        path = out / "reason_codes.png"
        save_png(factor_chart([{"factor": r["factor"], "log_rate": r["log_rate"]} for r in d["reasons"]],
                              title=f"{block.exchange}: band {block.band}, P = {block.p_breach:.3f}"), path)
        d["plots"] = [str(path)]
    if args.json:
        from underwriting.domain.canonical import canonicalise

        # the same canonical numbers as the quote's score block (docs/reproducibility.md)
        d = canonicalise(d, currency=sub.currency)
        json.dump(d, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    print(f"{block.exchange} (as of {block.as_of})")
    iv = d["p_breach_interval"] or [float("nan")] * 2
    print(f"  P(breach within 1 year): {block.p_breach:.2%} (90% {iv[0]:.2%}-{iv[1]:.2%})   band {block.band}   "
          f"risk score {block.risk_score:.1f}/100")
    print(f"  annual breach rate {fe.annual_rate:.5f} = base x experience x schedule")
    th = block.band_thresholds
    print("  bands on the annual rate: " + ", ".join(f"{b} < {t:.1%}" for b, t in zip("ABCD", th, strict=False))
          + f", E >= {th[-1]:.1%}")
    print("  reasons (factors on the log annual rate):")
    for r in d["reasons"]:
        print(f"    {r['direction']:>6} x{r['multiplier']:.3f} ({r['log_rate']:+.3f}; P {r['p_effect']:+.2%})  "
              f"{r['factor']}: {r['detail']}")
    if block.unknown_answers:
        print("  answered 'unknown' (schedule's unknown factor): " + ", ".join(block.unknown_answers))
    m = block.model
    print(f"  model: frequency {m.get('version', '?')}, prior strength {m.get('prior_strength')}, "
          f"schedule {m.get('schedule')} ({str(m.get('schedule_sha256', ''))[:12]})")
    for p in d.get("plots", []):
        print(f"  wrote {p}")
    return 0
