"""score a submission: calibrated P(breach within the horizon), band A-E, risk score and reasons.

The scorer is the shipped plain-data model (models/risk_scorer/<version>/scorer.json) unless
--model names another file. Its posture effects were learnt from SYNTHETIC data whose effects are
assumptions: read its model card.
"""

from __future__ import annotations

import argparse
import json
import sys

from underwriting.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submission", help="submission file (.json or .toml)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--plot", metavar="DIR", help="write reason_codes.png and calibration.png to DIR")
    parser.add_argument("--model", metavar="PATH", help="scorer file (default: the shipped scorer)")
    parser.add_argument("--fx", metavar="CUR=RATE", action="append", default=[],
                        help="units of CUR per USD, e.g. --fx JPY=150 (repeatable; default: bundled table)")
    parser.add_argument("--reasons", metavar="N", type=int, default=5, help="number of reason codes (default 5)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from underwriting.cli._common import check_output_dir, parse_fx
    from underwriting.domain.currency import FxTable
    from underwriting.domain.submission import load_submission
    from underwriting.errors import ModelIntegrityError
    from underwriting.scoring import load_scorer, score_submission

    if args.reasons < 0:
        raise InputError("must not be negative", source="--reasons")
    check_output_dir(args.plot, "--plot")
    sub = load_submission(args.submission)
    fx = None
    if args.fx:
        base = FxTable.bundled() if _bundled_fx_exists() else FxTable()
        fx = base.with_user_rates(parse_fx(args.fx))
    try:
        scorer = load_scorer(args.model)
    except ModelIntegrityError as exc:
        if args.model is not None:
            raise InputError(str(exc), source="--model") from None
        raise
    except FileNotFoundError as exc:  # no shipped models/ folder
        raise InputError(str(exc), source="--model") from None
    result = score_submission(sub, fx, scorer=scorer, n_reasons=args.reasons)
    d = result.to_dict()
    if args.plot:
        # the quote document's figure style (titles inside the figure, no scientific notation)
        from underwriting import figures

        out = Path(args.plot)
        out.mkdir(parents=True, exist_ok=True)
        reasons = [{"factor": r["factor"], "log_odds": r["log_odds"]} for r in d["reasons"]]
        written = [figures.save_png(figures.factor_chart(
            reasons, title=f"{result.exchange}: band {result.band}, P(breach) = {result.p_breach:.3f}; "
            "reason codes (log-odds vs the reference exchange)"), out / "reason_codes.png")]
        cal = (getattr(scorer, "metadata_", {}) or {}).get("validation", {}).get("calibration")
        if cal:
            written.append(figures.save_png(figures.calibration_chart(cal["p_mean"], cal["y_rate"],
                                                                      point=result.p_breach), out / "calibration.png"))
        d["plots"] = [str(p) for p in written]
    if args.json:
        json.dump(d, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    print(f"{result.exchange} (as of {result.as_of})")
    print(f"  P(breach within {result.horizon_years:g} year{'s' if result.horizon_years != 1 else ''}): "
          f"{result.p_breach:.2%}   band {result.band}   risk score {result.risk_score:.1f}/100")
    th = result.band_thresholds
    print("  bands: " + ", ".join(f"{b} < {t:.0%}" for b, t in zip("ABCD", th, strict=False))
          + f", E >= {th[-1]:.0%}")
    print("  reasons (log-odds vs the reference exchange):")
    for r in d["reasons"]:
        detail = ", ".join(f"{f['feature']} = {f['value']:.4g} (ref {f['reference']:.3g})"
                           for f in r["features"] if f["log_odds"] != 0.0)
        print(f"    {r['direction']:>6} {r['log_odds']:+.3f} (P {r['p_effect']:+.2%})  {r['factor']}: {detail}")
    if result.unknown_answers:
        print("  answered 'unknown' (scored with their own indicators): " + ", ".join(result.unknown_answers))
    if result.model.get("trained_on"):
        print(f"  model: {result.model.get('version', '?')}, trained on {result.model['trained_on']}")
    for p in d.get("plots", []):
        print(f"  wrote {p}")
    return 0


def _bundled_fx_exists() -> bool:
    try:
        from underwriting.resources import dataset_path

        return dataset_path("fx_rates.csv").is_file()
    except FileNotFoundError:
        return False
