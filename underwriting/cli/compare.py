"""Compare two registry versions (champion A, challenger B): metric differences B - A with paired
bootstrap intervals, and the premium impact on a reference book quoted with each version."""

from __future__ import annotations

import argparse

from underwriting.cli._common import add_model_data_args, seed_arg


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", metavar="A", help="champion version ('default' for the current default)")
    p.add_argument("b", metavar="B", help="challenger version")
    add_model_data_args(p)
    p.add_argument("--seed", type=seed_arg, default=0, help="bootstrap and quote seed (default 0)")
    p.add_argument("--n-synthetic", type=int, default=20, help="synthetic exchanges in the reference book (default 20)")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from underwriting.errors import InputError
    from underwriting.lifecycle.cli_support import (
        fmt_interval,
        integrity_errors_as_input,
        print_json,
    )
    from underwriting.lifecycle.evaluation import compare, reference_book

    if args.n_synthetic < 0:
        raise InputError(f"must not be negative, got {args.n_synthetic}", source="--n-synthetic")
    a = None if args.a == "default" else args.a
    with integrity_errors_as_input():
        res = compare(a, args.b, args.data, name=args.name, registry=args.registry, config=args.config,
                      n_boot=args.n_boot, seed=args.seed,
                      reference=reference_book(args.n_synthetic))
    if args.json:
        print_json(res)
        return 0
    print(f"{res['name']}: A = {res['A']} (champion), B = {res['B']} (challenger) on {res['data']} "
          f"({res['rows']:,} rows, {res['events']:,} events)")
    for label, k in (("ROC AUC", "auc"), ("Brier", "brier"), ("ECE", "ece")):
        m = res["metrics"][k]
        print(f"  {label:8s} A {fmt_interval(m['A'])}  B {fmt_interval(m['B'])}  B-A {fmt_interval(m['B_minus_A'])}"
              f"  -> {m['verdict']}")
    imp = res["premium_impact"]
    print("reference book (quoted with each version):")
    for r in imp["rows"]:
        print(f"  {r['entry'][:48]:48s} P(score) {r['p_score_A']:.4f} -> {r['p_score_B']:.4f}  band {r['band_A']}->"
              f"{r['band_B']}  premium {r['premium_A']:,.0f} -> {r['premium_B']:,.0f} {r['currency']} "
              f"({r['premium_change']:+.2%})")
    s = imp["summary"]
    print(f"  {s['entries']} entries: {s['band_changes']} band change(s), {s['premium_changed']} premium change(s) "
          f"(max {s['max_abs_premium_change']:.2%})")
    return 0
