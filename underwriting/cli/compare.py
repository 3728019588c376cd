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
    p.add_argument("--book", metavar="PATH", action="append",
                   help="frequency: submissions (a file, or a folder with an optional policy.toml) added to the "
                        "bundled examples in the premium-impact reference book (repeatable)")
    p.add_argument("--cutoff", metavar="YYYY-MM-DD", help="frequency: score rows from this 1 January (default: 3 years "
                                                          "before the data end)")
    p.add_argument("--allow-in-sample", action="store_true",
                   help="frequency: name a winner even when the scored rows were used to fit a version")
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
    if args.name == "frequency":
        return _run_frequency(args, a)
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


def _run_frequency(args: argparse.Namespace, a) -> int:
    from underwriting.lifecycle.cli_support import integrity_errors_as_input, print_json
    from underwriting.lifecycle.frequency import compare_frequency

    b = None if args.b == "default" else args.b
    with integrity_errors_as_input():
        res = compare_frequency(a, b, args.data, registry=args.registry, cutoff=args.cutoff, n_boot=args.n_boot,
                                seed=args.seed, allow_in_sample=args.allow_in_sample, book=args.book)
    if args.json:
        print_json(res)
        return 0
    tag = {True: "IN-SAMPLE", False: "held out", None: "training rows unknown"}[res["in_sample"]]
    print(f"frequency: A = {res['A']} (champion), B = {res['B']} (challenger) on {res['data']}, rows from "
          f"{res['cutoff']} to {res['end']} ({res['rows']:,} rows, {res['exchanges']} exchanges, {res['events']} "
          f"breaches; {tag})")
    print(f"  {'metric':18s} {'A':>26s} {'B':>26s} {'B - A':>28s}  better")
    for k, m in res["metrics"].items():
        def f(d):
            return f"{d['estimate']:.4f} [{d['interval'][0]:.4f}, {d['interval'][1]:.4f}]"
        print(f"  {k:18s} {f(m['A']):>26s} {f(m['B']):>26s} {f(m['B_minus_A']):>28s}  {m['better'] or '-'}")
    print(f"verdict: {res['verdict']}")
    imp = res["premium_impact"]
    print("premium impact on the reference book (frequency pinned to A, then B):")
    for r in imp["rows"]:
        print(f"  {r['entry'][:44]:44s} {r['premium_A']:>16,.0f} -> {r['premium_B']:>16,.0f} {r['currency']}  "
              f"({r['change']:+.1%})")
    s = imp["summary"]
    print(f"  {s['entries']} entries: median {s['median_change']:+.1%}, p5 {s['p5_change']:+.1%}, "
          f"p95 {s['p95_change']:+.1%}, largest {s['largest_change']:+.1%} ({s['largest_entry']})")
    return 0
