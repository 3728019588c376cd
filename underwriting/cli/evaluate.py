"""Evaluate a registry version on a book: AUC, Brier, ECE with bootstrap intervals and an
out-of-time backtest (the version's configuration refitted before a cut-off date, scored after it)."""

from __future__ import annotations

import argparse

from underwriting.cli._common import add_model_data_args, seed_arg


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("version", help="version to evaluate ('default' for the current default)")
    add_model_data_args(p)
    p.add_argument("--plot", metavar="DIR", help="write calibration.png, roc.png, backtest_calibration.png to DIR")
    p.add_argument("--backtest-date", "--cutoff", dest="backtest_date", metavar="YYYY-MM-DD",
                   help="cut-off of the out-of-time backtest (frequency: a 1 January; default 3 years before the data end)")
    p.add_argument("--seed", type=seed_arg, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from underwriting.lifecycle.cli_support import (
        fmt_interval,
        integrity_errors_as_input,
        print_json,
    )
    from underwriting.lifecycle.evaluation import evaluate

    version = None if args.version == "default" else args.version
    if args.name == "frequency":
        return _run_frequency(args, version)
    with integrity_errors_as_input():
        res = evaluate(version, args.data, name=args.name, registry=args.registry, config=args.config,
                       plot_dir=args.plot, backtest_date=args.backtest_date, n_boot=args.n_boot, seed=args.seed)
    if args.json:
        print_json(res)
        return 0
    m, bt = res["metrics"], res["backtest"]
    print(f"{res['name']} {res['version']} on {res['data']}: {res['rows']:,} rows, {res['events']:,} events")
    for label, k in (("ROC AUC", "auc"), ("Brier", "brier"), ("ECE", "ece")):
        extra = f"   (oracle {fmt_interval(m['oracle_' + k])})" if f"oracle_{k}" in m else ""
        print(f"  {label:8s} {fmt_interval(m[k])}{extra}")
    if "skipped" in bt:
        print(f"backtest: skipped ({bt['skipped']})")
    else:
        print(f"backtest: refit on {bt['train_rows']:,} rows known before {bt['cutoff']}, scored on "
              f"{bt['test_rows']:,} rows after: AUC {fmt_interval(bt['auc'])}, Brier {fmt_interval(bt['brier'])}, "
              f"ECE {fmt_interval(bt['ece'])}")
    if "survival" in res:
        _print_survival(res["survival"])
    for p in res.get("plots", []):
        print(f"plot: {p}")
    return 0


def _print_survival(block) -> None:
    """The survival block as an indented table (never a raw dict)."""
    if not isinstance(block, dict):
        print(f"survival: {block}")
        return
    print("survival model (the registry's default):")
    for k, v in block.items():
        if isinstance(v, dict) and {"estimate", "low", "high"} <= set(v):
            from underwriting.lifecycle.cli_support import fmt_interval

            print(f"  {k:24s} {fmt_interval(v)}")
        elif isinstance(v, float):
            print(f"  {k:24s} {v:.4f}")
        else:
            print(f"  {k:24s} {v}")


def _run_frequency(args: argparse.Namespace, version) -> int:
    from underwriting.lifecycle.cli_support import integrity_errors_as_input, print_json
    from underwriting.lifecycle.frequency import evaluate_frequency

    with integrity_errors_as_input():
        res = evaluate_frequency(version, args.data, registry=args.registry, cutoff=args.backtest_date,
                                 n_boot=args.n_boot, seed=args.seed, plot_dir=args.plot)
    if args.json:
        print_json(res)
        return 0
    oot = res["out_of_time"]
    tag = {True: "IN-SAMPLE", False: "held out", None: "training rows unknown"}[res["in_sample"]]
    print(f"frequency {res['version']} on {res['data']}: {res['rows']:,} rows, {res['events']} breaches")
    print(f"out of time: fitted on {oot['fit_rows']:,} rows ending by {oot['cutoff']} ({oot['fit_events']} breaches), "
          f"scored on {oot['scored_rows']:,} rows from {oot['cutoff']} to {oot['end']} ({oot['scored_events']} breaches)")
    for key, label in (("refit", "refit before the cut-off (out of time)"),
                       ("version", f"version {res['version']} as stored ({tag})")):
        b = oot[key]
        cal, c = b["calibration"], b["concordance"]
        print(f"  {label}:")
        print(f"    observed {cal['observed']}  expected {cal['expected']:.2f}  O/E {cal['oe']:.2f} "
              f"[{cal['interval'][0]:.2f}, {cal['interval'][1]:.2f}] ({cal['level']:.0%} exact Poisson)"
              f"{'' if cal['within'] else '  OUTSIDE'}")
        print(f"    concordance {c['estimate']:.3f} [{c['interval'][0]:.3f}, {c['interval'][1]:.3f}]   "
              f"deviance/yr {b['deviance_per_year']:.4f}")
    print(f"  by decile of predicted rate (version {res['version']}, {tag}):")
    print("    decile  exchanges  exp.years  predicted/yr  observed/yr  expected  observed  interval")
    for r in oot["version"]["deciles"]:
        lo, hi = r["observed_interval"]
        print(f"    {r['decile']:6d}  {r['exchanges']:9d}  {r['exposure_years']:9.1f}  {r['predicted_rate']:12.4f}  "
              f"{r['observed_rate']:11.4f}  {r['expected']:8.2f}  {r['observed']:8d}  [{lo:.1f}, {hi:.1f}]")
    if res["in_sample"]:
        print(f"in_sample: true - {res['note']}")
    else:
        print(f"in_sample: {str(res['in_sample']).lower()} - {res['note']}")
    for p in res.get("plots", []):
        print(f"plot: {p}")
    return 0
