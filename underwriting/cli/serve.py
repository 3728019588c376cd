"""Run the quote service: the ``/v1`` API, the workbench and the audit ledger (FastAPI on uvicorn).

The database is SQLite in ``./underwriting-data`` by default (or ``$UNDERWRITING_DATABASE``); give
``--database postgresql+psycopg://user@host/db`` for a team server. OpenAPI is served at ``/docs``.
"""

from __future__ import annotations

import argparse

from underwriting.errors import InputError


def _port(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 < v < 65536:
        raise argparse.ArgumentTypeError(f"must be from 1 to 65535, got {text!r}")
    return v


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return v


def _workers(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= v <= 64:
        raise argparse.ArgumentTypeError(f"must be from 1 to 64, got {text!r}")
    return v


def add_database_arg(p: argparse.ArgumentParser) -> None:
    """``--database URL`` (shared by serve, ledger and keys create)."""
    p.add_argument("--database", metavar="URL",
                   help="SQLAlchemy URL (default: $UNDERWRITING_DATABASE, else sqlite in ./underwriting-data; "
                        "PostgreSQL: postgresql+psycopg://user@host:port/db)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_database_arg(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    p.add_argument("--rate-limit", type=_positive, default=None, metavar="N",
                   help="requests a minute allowed per API key, counted in the database across all workers "
                        "(default $UNDERWRITING_RATE_LIMIT or 600; 0: no limit)")
    p.add_argument("--max-body", type=int, default=None, metavar="BYTES",
                   help="largest request body accepted, enforced while it streams in "
                        "(default $UNDERWRITING_MAX_BODY or 1000000)")
    p.add_argument("--workers", type=_workers, default=1, metavar="N",
                   help="server processes (default 1; use the number of cores). They share the database safely "
                        "(SQLite WAL with BEGIN IMMEDIATE, or PostgreSQL), including sessions and rate limits")
    p.add_argument("--no-workbench", action="store_true", help="serve the API only, not the browser workbench")
    p.add_argument("--no-warm", action="store_true",
                   help="accept requests at once instead of first loading the models in each worker (by quoting "
                        "the bundled sample once, ~2 s); the first quote of each worker then waits for them")


def open_cli_database(url: str | None):
    """Open (and migrate) the database for a command; a bad URL or an unreachable server is an input error."""
    from sqlalchemy.exc import SQLAlchemyError

    from underwriting.service.db import open_database, redact_url

    try:
        return open_database(url)
    except (SQLAlchemyError, ImportError, OSError) as exc:  # bad URL, server unreachable, driver missing
        shown = redact_url(url) if url else "(default)"
        raise InputError(f"cannot open database {shown}: {type(exc).__name__}: {str(exc).splitlines()[0]}",
                         field="--database") from None


_OPTION_OF = {"database_url": "--database", "max_body_bytes": "--max-body", "rate_limit_per_minute": "--rate-limit"}


def service_settings(config: dict):
    """The service's settings from the environment and ``config``; a bad value is an input error naming
    the option or the ``UNDERWRITING_*`` variable."""
    from pydantic import ValidationError

    from underwriting.service.settings import ServiceSettings

    try:
        return ServiceSettings.from_env(**config)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err.get("loc") else "settings"
        field = _OPTION_OF.get(name) if name in config else None
        if field is None:
            alias = ServiceSettings.model_fields[name].validation_alias if name in ServiceSettings.model_fields \
                else None
            envs = [c for c in getattr(alias, "choices", []) if str(c).startswith("UNDERWRITING_")]
            field = f"${envs[0]}" if envs else name
        raise InputError(err["msg"], field=field) from None
    except ValueError as exc:  # e.g. $UNDERWRITING_SERVE_CONFIG is not JSON
        raise InputError(str(exc), field="$UNDERWRITING_SERVE_CONFIG") from None


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from underwriting.service.app import create_app

    if args.max_body is not None and args.max_body <= 0:
        raise InputError("must be a positive number of bytes", field="--max-body")
    # the options given override the UNDERWRITING_* settings; the rate-limit buckets are rows of the
    # database, shared by every worker: each worker applies the whole limit, not a share
    given = {"database_url": args.database, "max_body_bytes": args.max_body, "rate_limit_per_minute": args.rate_limit,
             "workbench": False if args.no_workbench else None, "warm": not getattr(args, "no_warm", False)}
    config = {k: v for k, v in given.items() if v is not None}
    settings = service_settings(config)
    engine, _ = open_cli_database(settings.database_url)  # a bad URL is reported before the server starts
    engine.dispose()
    workers = getattr(args, "workers", 1)
    if workers == 1:
        uvicorn.run(create_app(settings=settings), host=args.host, port=args.port, log_level="info")
        return 0
    import json
    import os

    from underwriting.service.app import SERVE_CONFIG_ENV

    os.environ[SERVE_CONFIG_ENV] = json.dumps(config)
    uvicorn.run("underwriting.service.app:app_from_env", factory=True, workers=workers, host=args.host,
                port=args.port, log_level="info")
    return 0
