"""Quote the bundled sample exchange (a small Japanese exchange with a primary policy): the embedded default."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace) -> int:
    from underwriting.domain.policy import load_policy
    from underwriting.domain.report import format_quote
    from underwriting.domain.submission import load_submission
    from underwriting.quote.make import make_quote
    from underwriting.resources import DEMO_REGIME, DEMO_SUBMISSION, DEMO_TERMS, example_path

    sub = load_submission(str(example_path(DEMO_SUBMISSION)))
    terms = load_policy(str(example_path(DEMO_TERMS)))
    quote = make_quote(sub, terms, regime=DEMO_REGIME, seed=0)
    if args.json:
        print(quote.to_json(), end="")
    else:
        print(f"Demo: {DEMO_SUBMISSION} with {DEMO_TERMS} under {DEMO_REGIME} (bundled samples)\n")
        print(format_quote(quote))
    return 0
