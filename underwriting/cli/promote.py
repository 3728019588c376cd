"""Make a registry version the default (atomically), or roll back to the previous default.
Every change is appended to <registry>/<name>/history.jsonl (timestamp, from, to) and, when the service
database and its ledger key are reachable from here, recorded in the service ledger (``model.promote``)
as the service's promote route does; otherwise a note says the service records it at its next start."""

from __future__ import annotations

import argparse
import sys


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
    p.add_argument("--database", metavar="URL",
                   help="service database whose ledger records the promotion (default: $UNDERWRITING_DATABASE, "
                        "else the default SQLite file in $UNDERWRITING_DATA or ./underwriting-data when it exists)")


def run(args: argparse.Namespace) -> int:
    from underwriting.errors import InputError
    from underwriting.lifecycle.cli_support import integrity_errors_as_input
    from underwriting.registry import Registry

    if bool(args.version) == bool(args.rollback):
        raise InputError("give a VERSION or --rollback (not both)", field="version")
    reg = Registry(args.registry)
    if args.accept_impact and (args.rollback or args.name != "frequency"):
        raise InputError("--accept-impact applies to promoting a frequency version", field="--accept-impact")
    url = _database_url(args.database)
    gate: dict = {}
    note = args.note
    if args.name == "frequency" and not args.rollback:
        from underwriting.lifecycle.gate import gate_promotion

        with integrity_errors_as_input():  # the gate's quotes run before any database lock is taken
            check, note = gate_promotion(reg, args.version, note=args.note, accept_impact=args.accept_impact,
                                         book=args.book)
        gate.update(check)

    def promote() -> dict:
        with integrity_errors_as_input():
            return reg.rollback(args.name) if args.rollback else reg.promote(args.name, args.version, note=note)

    entry, recorded, why, reconciled = _promote_recorded(promote, url, args.registry)
    print(f"{args.name}: default {entry['from'] or '(none)'} -> {entry['to']} ({entry['action']}, {entry['timestamp']})")
    if gate:
        print(("gate: passed" if gate["passed"] else "gate: REFUSED, impact accepted") + f" - {entry.get('note', '')}")
    if recorded is not None:
        print(f"ledger: recorded as entry {recorded} (model.promote) in {_shown(url)}")
        if reconciled:
            print(f"ledger: also recorded {len(reconciled)} earlier promotion(s) of the registry it lacked "
                  f"(model.reconcile, entries {', '.join(map(str, reconciled))})")
    else:
        print(f"note: not recorded in the service ledger yet ({why}); the promotion is in the registry's signed "
              "history, and the service records it (model.reconcile) at its next start; `underwriting ledger "
              "verify` names it as missing until then", file=sys.stderr)
    return 0


def _database_url(given: str | None) -> str:
    """The service database to record in: ``--database``, else the service's own default
    (:func:`underwriting.service.db.default_url`: ``$UNDERWRITING_DATABASE`` or the default SQLite file, whose
    folder is never made here; a missing file is said by :func:`_promote_recorded`). A malformed URL is an
    input error naming where it came from."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from underwriting.errors import InputError
    from underwriting.service.db import DATABASE_ENV, default_url

    url = given or default_url(create=False)
    try:
        make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise InputError(f"not a database URL ({exc})", field="--database" if given else f"${DATABASE_ENV}") \
            from None
    return url


def _shown(url: str) -> str:
    from underwriting.service.db import redact_url

    return redact_url(url)


def _promote_recorded(promote, url: str, registry: str | None) -> tuple[dict, int | None, str, list[int]]:
    """Promote; with its ledger entry when the database at ``url`` and the ledger key are reachable (as the
    service does: :meth:`underwriting.service.store.Store.promote_recorded`), else alone.
    Returns ``(history entry, ledger sequence number or None, why not recorded, reconciliation entries)``."""
    import os

    from underwriting.errors import InputError
    from underwriting.service import ledger_key

    if url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        db = make_url(url).database
        if db and db != ":memory:" and not os.path.isfile(db):  # never a database made here
            return promote(), None, f"no service database at {db}", []
    try:
        ledger_key.service_key(create=False)  # never a key made here: it would sign nothing verify accepts
        if not os.access(ledger_key.key_path(), os.R_OK):
            raise InputError(f"cannot read the ledger key {ledger_key.key_path()}", field=ledger_key.ENV_KEY)
    except InputError as exc:
        return promote(), None, f"the service's ledger key is not usable here: {exc.message}", []
    from sqlalchemy.exc import SQLAlchemyError

    from underwriting.cli.serve import open_cli_database
    from underwriting.service.store import Store

    try:
        engine, sessions = open_cli_database(url)
    except InputError as exc:
        return promote(), None, f"the service database is unreachable: {exc.message}", []
    done: list[dict] = []

    def run() -> dict:
        done.append(promote())
        return done[0]

    try:
        entry, seq, reconciled = Store(sessions, registry, start=False).promote_recorded(run, actor="cli")
        return entry, seq, "", reconciled
    except SQLAlchemyError as exc:
        reason = f"the service database failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        if done:
            return done[0], None, reason, []
        return promote(), None, reason, []
    finally:
        engine.dispose()
