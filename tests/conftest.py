"""Shared fixtures: paths of the bundled examples and an in-process CLI runner; the order in which
``make test``'s pytest-xdist workers are handed the test files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "datasets" / "examples"


@pytest.fixture(scope="session", autouse=True)
def throwaway_signing_key(tmp_path_factory):
    """Registry writes in tests sign with a throwaway key (never the release key), trusted in a temp home."""
    from tests.hardening.keys import throwaway_home

    with throwaway_home(tmp_path_factory.mktemp("uw-home")) as home:
        yield home


@pytest.fixture(scope="session")
def rebuilt_frequency(tmp_path_factory) -> Path:
    """A registry folder holding the ``frequency`` model as ``make models`` rebuilds it from the shipped data
    (built once per session; the rebuild tests of tests/frequency and tests/lifecycle compare it with models/)."""
    from underwriting.models_build import build

    root = tmp_path_factory.mktemp("rebuilt-frequency")
    build(root, names=["frequency"])
    return root


@pytest.fixture(autouse=True)
def english_unless_asked(monkeypatch):
    """The suite's expected texts are English: a developer's Japanese locale (LANG=ja_JP.UTF-8) or
    UNDERWRITING_LANG must not change them; the language tests set the language they test."""
    monkeypatch.setenv("UNDERWRITING_LANG", "en")


def pytest_collection_modifyitems(config, items):
    """On a pytest-xdist worker, put the files holding a test marked ``slow`` first (file order otherwise kept).

    ``make test`` runs ``-n auto --dist loadfile --no-loadscope-reorder``: each test file is one unit of work,
    run whole on one worker in file order (its module fixtures computed once; a test that reads what an
    earlier one in its file left, like the fuzz tally, still runs after it), and the units are handed out in
    collection order. Handing out the long files first keeps a worker from starting one when the other has
    nothing left to do. Without xdist nothing moves.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: the order inside each group stays


SUBMISSIONS = sorted(p.name for p in EXAMPLES.glob("*.json"))
POLICIES = sorted(p.name for p in EXAMPLES.glob("policy_*.toml"))


@pytest.fixture
def cli(capsys):
    """Run ``underwriting ARGS`` in-process; return ``(exit_code, stdout, stderr)``."""
    from underwriting.cli.main import main

    def run(*args: str) -> tuple[int, str, str]:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 2
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def example_submission() -> dict:
    """The small Japanese exchange example as a mutable dict."""
    return json.loads((EXAMPLES / "jp_small_exchange.json").read_text(encoding="utf-8"))
