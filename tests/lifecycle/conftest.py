"""Fixtures of the lifecycle tests: a copy of the shipped registry, a small trained registry, the CLI."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMALL = {"seed": 11, "data": {"synthetic": {"n_exchanges": 250, "years": 6, "seed": 11}},
         "validation": {"n_boot": 50}}
EVAL_BOOK = "[data.synthetic]\nn_exchanges = 250\nyears = 7\nseed = 99\n"
COMMANDS = ("train", "evaluate", "compare", "promote", "models", "reproduce")


@pytest.fixture
def shipped_copy(tmp_path) -> Path:
    """A writable copy of the shipped registry (models/)."""
    dst = tmp_path / "registry"
    shutil.copytree(ROOT / "models", dst)
    return dst


@pytest.fixture(scope="session")
def small_registry(tmp_path_factory):
    """Shipped registry copy + a small challenger risk_scorer 0.2.0 (trained once per session)."""
    from underwriting.lifecycle.training import train

    root = tmp_path_factory.mktemp("small") / "registry"
    shutil.copytree(ROOT / "models", root)
    train(None, SMALL, registry=root, version="0.2.0")
    book = root.parent / "eval_book.toml"
    book.write_text(EVAL_BOOK, encoding="utf-8")
    return root, book


@pytest.fixture
def lc_cli(capsys, monkeypatch):
    """Run the CLI in-process with the lifecycle commands registered (until cli/main.py has them)."""
    from underwriting.cli import main as m

    for c in COMMANDS:
        monkeypatch.setitem(m.COMMANDS, c, (f"underwriting.cli.{c}", ""))

    def run(*args):
        try:
            code = m.main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        out, err = capsys.readouterr()
        return code, out, err

    return run


CLI_SHIM = (
    "import sys\n"
    "from underwriting.cli import main as m\n"
    f"for c in {COMMANDS!r}:\n"
    "    m.COMMANDS.setdefault(c, ('underwriting.cli.' + c, ''))\n"
    "raise SystemExit(m.main(sys.argv[1:]))\n"
)


def cli_argv(*args) -> list[str]:
    """argv of a subprocess running the CLI (with the lifecycle commands registered)."""
    return [sys.executable, "-c", CLI_SHIM, *map(str, args)]
