"""The audit ledger of the service database: ``verify`` the hash chain, its signatures and every record
the API shows against it (exit 1 naming each problem), ``checkpoint`` (append a signed checkpoint of
the head to a log kept outside the database), ``export`` it as JSON lines for an auditor, or
``rotate-key`` (move to a new ledger key; the chain records the hand-over)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    from underwriting.cli.serve import add_database_arg

    sub = p.add_subparsers(dest="ledger_command", metavar="{verify,checkpoint,export,rotate-key}", required=True)
    v = sub.add_parser("verify", help="check the chain, its signatures, the records and the registry against it")
    add_database_arg(v)
    v.add_argument("--json", action="store_true", help="print one JSON object")
    v.add_argument("--head", metavar="HASH",
                   help="an entry hash kept outside the database (as printed by verify): it must still be in the chain")
    v.add_argument("--checkpoints", metavar="FILE",
                   help="signed checkpoint log to check against (default: the service's log of this database, "
                        "when it exists; $UNDERWRITING_LEDGER_CHECKPOINTS)")
    v.add_argument("--registry", metavar="DIR",
                   help="model registry whose signed promotions the ledger must record (default: "
                        "$UNDERWRITING_REGISTRY or models/)")
    c = sub.add_parser("checkpoint", help="append a signed checkpoint of the ledger head to a log")
    add_database_arg(c)
    c.add_argument("--out", metavar="FILE",
                   help="append to this file (default: the service's checkpoint log of this database)")
    e = sub.add_parser("export", help="write every entry as one JSON line")
    add_database_arg(e)
    e.add_argument("--out", help="write to this file (atomically) instead of standard output")
    r = sub.add_parser("rotate-key", help="make a new ledger key; a ledger.key_rotate entry signed by the old and "
                                          "the new key hands over; the old public key is archived beside it")
    add_database_arg(r)


def run(args: argparse.Namespace) -> int:
    import json

    from underwriting.cli.serve import open_cli_database
    from underwriting.service import audit, ledger, ledger_key

    if args.ledger_command == "verify":
        audit.check_head(args.head)  # a malformed hash is an input error before the database is opened
    engine, sessions = open_cli_database(args.database)
    url = engine.url.render_as_string(hide_password=True)
    try:
        if args.ledger_command == "rotate-key":
            return _rotate(sessions, url)
        with sessions() as s:
            if args.ledger_command == "verify":
                res = audit.verify(s, head=args.head, checkpoints=args.checkpoints, registry=args.registry,
                                   database_url=url)
                if args.json:
                    print(json.dumps({"ok": res.ok, "entries": res.entries, "head": res.head,
                                      "problems": res.problems, "notes": res.notes,
                                      "keys": _keys_json(res)}, indent=2))
                else:
                    print(res.report())
                return 0 if res.ok else 1
            if args.ledger_command == "checkpoint":
                seq, h = ledger.head(s)
                # signed by the service's existing key only: a key made here would sign nothing verify accepts
                cp = ledger_key.checkpoint(seq, h, ledger.utcnow().isoformat(timespec="microseconds"), create=False)
                try:
                    path = ledger_key.append_checkpoint(cp, args.out or ledger_key.checkpoints_path(url))
                except OSError as exc:
                    from underwriting.errors import InputError

                    raise InputError(f"cannot append to {args.out}: {exc.strerror or exc}", field="--out") from None
                print(f"checkpoint of entry {seq} ({h}) signed by ledger key {cp['key_id']}, appended to {path}")
                return 0
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


def _keys_json(res) -> dict:
    """The ledger keys an auditor checks with: the current public key, the archived (retired) ones and
    which key was in force over which entries."""
    from underwriting.errors import InputError
    from underwriting.service import ledger_key

    out: dict = {"current": None, "public_key_file": str(ledger_key.public_path()), "archived": [],
                 "in_force": res.key_history}
    try:
        out["current"] = next(iter(ledger_key.public_key_ids()))
        out["archived"] = [{"key_id": kid, "file": str(f)} for kid, (_, f) in ledger_key.archived_keys().items()]
    except InputError as exc:
        out["error"] = exc.message
    return out


def _rotate(sessions, url: str) -> int:
    from underwriting.service import key_rotation

    done = key_rotation.rotate(sessions, url)
    if done["recovered"]:
        print(f"note: an interrupted rotation was {done['recovered']} first", file=sys.stderr)
    print(f"ledger key rotated: {done['old_key_id']} -> {done['new_key_id']} (entry {done['entry']}, "
          f"ledger.key_rotate, signed by both keys)")
    print(f"  new public key: {done['public']} (give it to auditors with the archived one)")
    print(f"  old public key archived: {done['archived']}; old private key removed")
    bad = done["replies_not_resigned"]
    print(f"  stored idempotent replies re-signed with the new key: {done['replies_resigned']}"
          + (f"; NOT re-signed (their signature already failed; `ledger verify` names them): {len(bad)}" if bad else ""))
    print(f"  checkpoint of entry {done['entry']} signed by the new key, appended to {done['checkpoint']}")
    return 0
