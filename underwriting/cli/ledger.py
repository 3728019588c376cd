"""The audit ledger of the service database: ``verify`` the hash chain (exit 1 naming every edited,
deleted or reordered entry) or ``export`` it as JSON lines for an auditor."""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    from underwriting.cli.serve import add_database_arg

    sub = p.add_subparsers(dest="ledger_command", metavar="{verify,export}", required=True)
    v = sub.add_parser("verify", help="check the hash chain and the quotes it records")
    add_database_arg(v)
    v.add_argument("--json", action="store_true", help="print one JSON object")
    e = sub.add_parser("export", help="write every entry as one JSON line")
    add_database_arg(e)
    e.add_argument("--out", help="write to this file (atomically) instead of standard output")


def run(args: argparse.Namespace) -> int:
    import json

    from underwriting.cli.serve import open_cli_database
    from underwriting.service import ledger

    engine, sessions = open_cli_database(args.database)
    try:
        with sessions() as s:
            if args.ledger_command == "verify":
                res = ledger.verify(s)
                if args.json:
                    print(json.dumps({"ok": res.ok, "entries": res.entries, "head": res.head,
                                      "problems": res.problems}, indent=2))
                else:
                    print(res.report())
                return 0 if res.ok else 1
            from underwriting.cli._common import check_output_file, write_output

            check_output_file(args.out, "--out")
            if args.out:
                parts: list[str] = []
                n = ledger.export(s, parts.append)
                write_output(args.out, "".join(parts), "--out")
                print(f"exported {n} entries to {args.out}", file=sys.stderr)
            else:
                ledger.export(s, sys.stdout.write)
            return 0
    finally:
        engine.dispose()
