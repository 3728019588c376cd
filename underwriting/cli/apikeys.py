"""``underwriting keys create --role R``: create a service API key and print it once.

The key is stored only as an argon2 hash, with its role (underwriter, actuary, auditor, admin), and
its creation is recorded in the audit ledger. :func:`add_create_parser` and :func:`run_create` plug
into the ``keys`` command group.
"""

from __future__ import annotations

import argparse
import sys

ROLES = ("underwriter", "actuary", "auditor", "admin")  # as underwriting.service.db.ROLES


def add_create_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``create`` under a ``keys`` sub-command group; returns its parser."""
    from underwriting.cli.serve import add_database_arg

    p = subparsers.add_parser("create", help="create a service API key (printed once)",
                              description=__doc__.splitlines()[0])
    p.add_argument("--role", required=True, choices=ROLES, help="what the key may do")
    p.add_argument("--label", default="", help="a note for people (who holds the key)")
    add_database_arg(p)
    p.set_defaults(_keys_run=run_create)
    return p


def run_create(args: argparse.Namespace) -> int:
    """Create the key, print it on standard output (and its id and role on standard error)."""
    from underwriting.cli.serve import open_cli_database
    from underwriting.service.keys import create_key

    engine, sessions = open_cli_database(args.database)
    try:
        with sessions.begin() as s:
            key_id, key = create_key(s, args.role, label=args.label, actor="cli")
    finally:
        engine.dispose()
    print(key)
    print(f"created key {key_id} with role {args.role}; it is shown only now and stored hashed",
          file=sys.stderr)
    return 0


# Temporary top-level registration on the service branch (the lead hooks add_create_parser into `keys`).
def add_arguments(p: argparse.ArgumentParser) -> None:
    add_create_parser(p.add_subparsers(dest="keys_command", metavar="{create}", required=True))


def run(args: argparse.Namespace) -> int:
    return args._keys_run(args)
