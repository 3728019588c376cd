"""Evaluate a registry version on a book: AUC, Brier, ECE with bootstrap intervals and an
out-of-time backtest (the version's configuration refitted before a cut-off date, scored after it)."""

from __future__ import annotations

import argparse

from underwriting.cli._common import add_model_data_args, seed_arg


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("version", help="version to evaluate ('default' for the current default)")
    add_model_data_args(p)
    p.add_argument("--plot", metavar="DIR", help="write calibration.png, roc.png, backtest_calibration.png to DIR")
    p.add_argument("--backtest-date", metavar="YYYY-MM-DD", help="cut-off of the out-of-time backtest")
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
        print(f"survival: {res['survival']}")
    for p in res.get("plots", []):
        print(f"plot: {p}")
    return 0
