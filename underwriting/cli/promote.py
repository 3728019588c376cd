"""Make a registry version the default (atomically), or roll back to the previous default.
Every change is appended to <registry>/<name>/history.jsonl (timestamp, from, to)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("version", nargs="?", help="version to make the default")
    p.add_argument("--name", default="risk_scorer", help="model (default risk_scorer)")
    p.add_argument("--registry", metavar="DIR", help="registry folder (default: $UNDERWRITING_REGISTRY or models/)")
    p.add_argument("--rollback", action="store_true", help="go back to the default before the last promotion")
    p.add_argument("--note", help="free text recorded in the history (required with --accept-impact)")
    p.add_argument("--accept-impact", action="store_true",
                   help="frequency: promote although the gate refuses (premium moves or calibration); needs --note")
    p.add_argument("--book", metavar="PATH", action="append",
                   help="frequency: submissions added to the gate's reference book (repeatable)")


def run(args: argparse.Namespace) -> int:
    from underwriting.errors import InputError
    from underwriting.lifecycle.cli_support import integrity_errors_as_input
    from underwriting.registry import Registry

    if bool(args.version) == bool(args.rollback):
        raise InputError("give a VERSION or --rollback (not both)", field="version")
    reg = Registry(args.registry)
    if args.accept_impact and (args.rollback or args.name != "frequency"):
        raise InputError("--accept-impact applies to promoting a frequency version", field="--accept-impact")
    if args.name == "frequency" and not args.rollback:
        from underwriting.lifecycle.gate import promote_frequency

        with integrity_errors_as_input():
            res = promote_frequency(reg, args.version, note=args.note, accept_impact=args.accept_impact,
                                    book=args.book)
        entry, check = res["entry"], res["gate"]
        print(f"{args.name}: default {entry['from'] or '(none)'} -> {entry['to']} ({entry['action']}, "
              f"{entry['timestamp']})")
        print(("gate: passed" if check["passed"] else "gate: REFUSED, impact accepted") + f" - {entry.get('note', '')}")
        return 0
    with integrity_errors_as_input():
        entry = reg.rollback(args.name) if args.rollback else reg.promote(args.name, args.version, note=args.note)
    print(f"{args.name}: default {entry['from'] or '(none)'} -> {entry['to']} ({entry['action']}, {entry['timestamp']})")
    return 0
