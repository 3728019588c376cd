"""Make a registry version the default (atomically), or roll back to the previous default.
Every change is appended to <registry>/<name>/history.jsonl (timestamp, from, to)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("version", nargs="?", help="version to make the default")
    p.add_argument("--name", default="risk_scorer", help="model (default risk_scorer)")
    p.add_argument("--registry", metavar="DIR", help="registry folder (default: $UNDERWRITING_REGISTRY or models/)")
    p.add_argument("--rollback", action="store_true", help="go back to the default before the last promotion")
    p.add_argument("--note", help="free text recorded in the history")


def run(args: argparse.Namespace) -> int:
    from underwriting.errors import InputError
    from underwriting.lifecycle.cli_support import integrity_errors_as_input
    from underwriting.registry import Registry

    if bool(args.version) == bool(args.rollback):
        raise InputError("give a VERSION or --rollback (not both)", field="version")
    reg = Registry(args.registry)
    with integrity_errors_as_input():
        entry = reg.rollback(args.name) if args.rollback else reg.promote(args.name, args.version, note=args.note)
    print(f"{args.name}: default {entry['from'] or '(none)'} -> {entry['to']} ({entry['action']}, {entry['timestamp']})")
    return 0
