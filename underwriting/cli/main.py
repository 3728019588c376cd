"""Entry point of the ``underwriting`` command.

Exit codes: 0 success; 2 invalid input (message names the field, no traceback); 1 internal error.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from underwriting._version import __version__
from underwriting.cli._common import EscapingStream, shorten_runs
from underwriting.errors import InputError, ModelIntegrityError

#: name -> (module, one-line help). Modules are imported only to register their arguments,
#: and each keeps heavy imports inside ``run``.
COMMANDS: dict[str, tuple[str, str]] = {
    "quote": ("underwriting.cli.quote", "quote a submission: risk, frequency, loss, premium, reserve credit"),
    "demo": ("underwriting.cli.demo", "quote the bundled sample exchange (the embedded default)"),
    "validate": ("underwriting.cli.validate", "validate a submission or policy file"),
    "schema": ("underwriting.cli.schema", "print the JSON Schema of a submission or policy"),
    "score": ("underwriting.cli.score", "risk score: P(breach within the horizon), band, reasons"),
    "frequency": ("underwriting.cli.frequency", "base breach frequency: cohort backtest and factor table"),
    "price": ("underwriting.cli.price", "price a layer from explicit frequency, severity and terms"),
    "portfolio": ("underwriting.cli.portfolio", "simulate an insurer's book: AAL, OEP/AEP, TVaR, vendor "
                  "accumulation, capital allocation"),
    "train": ("underwriting.cli.train", "train a model on your data and publish a new registry version"),
    "evaluate": ("underwriting.cli.evaluate", "metrics, bootstrap intervals and an out-of-time backtest of a model version"),
    "compare": ("underwriting.cli.compare", "champion vs challenger: paired metric differences and premium impact"),
    "promote": ("underwriting.cli.promote", "make a model version the default (or --rollback)"),
    "models": ("underwriting.cli.models", "list, verify and show the history of registry models"),
    "reproduce": ("underwriting.cli.reproduce", "recompute a quote with the model versions recorded in it"),
    "datasets": ("underwriting.cli.datasets", "inspect and validate the curated datasets"),
    "reserve": ("underwriting.cli.reserve", "the reserve requirement under a regime and the credit policies earn"),
    "compare-reserve": ("underwriting.cli.compare_reserve", "insurance versus cash: the cheapest compliant programme"),
    "keys": ("underwriting.cli.keys", "registry signing keys: generate, trust, list"),
    "serve": ("underwriting.cli.serve", "run the quote service: API, workbench and audit ledger"),
    "ledger": ("underwriting.cli.ledger", "verify or export the service's audit ledger"),
}


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors exit 2 with a one-line message (argparse's own code)."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {shorten_runs(message)} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered sub-command."""
    parser = _Parser(
        prog="underwriting",
        description="Price hack and theft insurance for crypto exchanges and compute how much of a "
        "statutory liability reserve each policy may replace.",
    )
    parser.add_argument("--version", action="version", version=f"underwriting {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module, help_text) in COMMANDS.items():
        mod = importlib.import_module(module)
        p = sub.add_parser(name, help=help_text or mod.__doc__.splitlines()[0], description=mod.__doc__)
        mod.add_arguments(p)
        p.set_defaults(_module=mod)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the process exit code."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = EscapingStream(out), EscapingStream(err)  # no raw control character reaches a terminal
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return _run(args)
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        sys.stdout, sys.stderr = out, err


def _user_paths(args: argparse.Namespace) -> list[str]:
    """Every string argument of the command (the paths a user named)."""
    out: list[str] = []
    for key, val in vars(args).items():
        if key.startswith("_"):
            continue
        for v in (val if isinstance(val, list | tuple) else [val]):
            if isinstance(v, str | os.PathLike) and str(v):
                out.append(os.fspath(v))
    return out


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args._module.run(args) or 0)
    except (InputError, ModelIntegrityError) as exc:
        print(f"error: {shorten_runs(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:
        # The OS refused a path the user named (too long, not there, not writable): an input error.
        name = os.fspath(exc.filename) if isinstance(exc.filename, str | bytes | os.PathLike) else None
        if name is not None and isinstance(name, str) and any(
                name == p or name.startswith(p.rstrip("/") + "/") for p in _user_paths(args)):
            print(f"error: {shorten_runs(name)}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        if os.environ.get("UNDERWRITING_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {shorten_runs(str(exc))} "
              "(set UNDERWRITING_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # internal error: say so, keep the traceback available on request
        if os.environ.get("UNDERWRITING_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {shorten_runs(str(exc))} (set UNDERWRITING_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 1
