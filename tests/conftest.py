"""Shared fixtures: paths of the bundled examples and an in-process CLI runner."""

from __future__ import annotations

import json
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
