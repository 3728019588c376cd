"""Recompute a quote from its recorded inputs with the model versions recorded in it and compare
canonical values: exit 0 when identical or equal within the documented tolerance (a rounding tie
flipped by another CPU; the largest relative difference and its key are printed), 1 with each key
and both values when different beyond it, 2 when a recorded model is missing or altered.

The frequency model version (``versions.frequency``) is pinned; the schedule table is recorded in the
quote (``versions.schedule`` with its SHA-256, and the table itself in ``inputs.schedule`` when a
user table was given), so a quote made with ``--schedule FILE`` reproduces without the file."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("quote", metavar="QUOTE.json", help="a quote written by `underwriting quote --out`")
    p.add_argument("--registry", metavar="DIR", help="registry folder (default: $UNDERWRITING_REGISTRY or models/)")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    import underwriting.frequency  # noqa: F401  (registers the frequency kind, so its recorded version is pinned)
    from underwriting.lifecycle.cli_support import integrity_errors_as_input, print_json
    from underwriting.lifecycle.reproduction import reproduce

    with integrity_errors_as_input():
        res = reproduce(args.quote, registry=args.registry)
    if args.json:
        print_json(res.to_dict())
    else:
        print(res.report())
    return 0 if res.reproduced else 1
