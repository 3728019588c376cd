"""Killing a registry writer at every write step (SIGKILL while it sleeps inside the write, via the
UNDERWRITING_TEST_PAUSE_AT hook) leaves a registry that verifies, with the old or the new state, and
the next writer completes cleanly. Each point of ``PAUSE_POINTS`` is killed once per run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import underwriting.lifecycle.loaders  # noqa: F401  the model kinds register on import
from tests.conftest import ROOT
from underwriting.models_build import SHIPPED as _SHIPPED
from underwriting.registry import PAUSE_POINTS, Registry
from underwriting.registry import Registry as _Registry

from .conftest import cli_argv

#: the shipped scorer's default version, its published versions and the targets of its history
CUR = _SHIPPED["risk_scorer"][0]
SHIPPED_VERSIONS = _Registry(ROOT / "models").versions("risk_scorer")
HISTORY_TO = [h["to"] for h in _Registry(ROOT / "models").history("risk_scorer")]


#: A small writer: publish a copy of the shipped default scorer's files as a new version, or promote, or make a key.
WRITER = r"""
import shutil, sys
from pathlib import Path
from underwriting.registry import Registry
from underwriting.registry import signing
root, action, arg = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
reg = Registry(root)
CUR = reg.default("risk_scorer")
if action == "publish":
    src = root / "risk_scorer" / CUR
    with reg.stage("risk_scorer", arg) as st:
        for f in ("scorer.json", "MODEL_CARD.md"):
            shutil.copy(src / f, st.dir / f)
        st.manifest.update(data={"description": f"copy of {CUR} (kill test)"})
elif action == "promote":
    reg.promote("risk_scorer", arg)
elif action == "key":
    signing.write_private_key(signing.SigningKey.generate(), Path(arg))
"""


def _writer(*args) -> list[str]:
    return [sys.executable, "-c", WRITER, *map(str, args)]


def _run_until_paused(argv, point, tmp_path, timeout=60.0):
    flag = tmp_path / f"paused-{point}"
    env = {**os.environ, "UNDERWRITING_TEST_PAUSE_AT": point, "UNDERWRITING_TEST_PAUSE_FILE": str(flag)}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    while not flag.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"process ended before pausing at {point}: {err.decode()[-2000:]}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            pytest.fail(f"never paused at {point}")
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return proc.returncode


def _ok(argv):
    out = subprocess.run(argv, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out


def _verifies(root) -> Registry:
    """Every version verifies, the default resolves and loads, and `models verify` exits 0."""
    reg = Registry(root)
    for v in reg.versions("risk_scorer"):
        reg.verify("risk_scorer", v)
    reg.load("risk_scorer")
    _ok(cli_argv("models", "verify", "--registry", root))
    return reg


def test_every_write_step_has_a_kill_test():
    assert set(PAUSE_POINTS) == {"stage", "publish", "history", "promote", "key"}


@pytest.mark.parametrize("point", ["stage", "publish"])
def test_kill_while_publishing_a_version(shipped_copy, tmp_path, point):
    _run_until_paused(_writer(shipped_copy, "publish", "0.2.0"), point, tmp_path)
    reg = _verifies(shipped_copy)
    assert reg.versions("risk_scorer") == SHIPPED_VERSIONS          # nothing half-published
    assert reg.default("risk_scorer") == CUR
    assert list((shipped_copy / "risk_scorer").glob(".staging-*"))  # the dead writer's leftovers...
    _ok(_writer(shipped_copy, "publish", "0.2.0"))
    assert not list((shipped_copy / "risk_scorer").glob(".staging-*"))  # ...are cleaned by the next writer
    assert reg.versions("risk_scorer") == [*SHIPPED_VERSIONS, "0.2.0"]
    _verifies(shipped_copy)


def test_kill_while_appending_the_history(shipped_copy, tmp_path):
    _ok(_writer(shipped_copy, "publish", "0.2.0"))
    _run_until_paused(_writer(shipped_copy, "promote", "0.2.0"), "history", tmp_path)
    hist = shipped_copy / "risk_scorer/history.jsonl"
    assert not hist.read_bytes().endswith(b"\n")               # a torn half line...
    reg = _verifies(shipped_copy)
    assert reg.default("risk_scorer") == CUR               # ...is not a promotion
    assert any("incomplete" in p for p in reg.chain("risk_scorer").problems)
    _ok(_writer(shipped_copy, "promote", "0.2.0"))
    assert reg.default("risk_scorer") == "0.2.0"
    assert [h["to"] for h in reg.history("risk_scorer")] == [*HISTORY_TO, "0.2.0"]
    assert reg.chain("risk_scorer").problems == []             # the torn line was cut off first
    assert all(json.loads(line) for line in hist.read_text(encoding="utf-8").splitlines())
    _verifies(shipped_copy)


def test_kill_between_the_history_entry_and_the_pointer(shipped_copy, tmp_path):
    _ok(_writer(shipped_copy, "publish", "0.2.0"))
    _run_until_paused(_writer(shipped_copy, "promote", "0.2.0"), "promote", tmp_path)
    assert (shipped_copy / "risk_scorer/DEFAULT").read_text(encoding="utf-8").strip() == CUR
    reg = _verifies(shipped_copy)
    assert reg.default("risk_scorer") == "0.2.0"   # the signed entry is the commit; DEFAULT lags one step
    assert reg.rollback("risk_scorer")["to"] == CUR
    assert (shipped_copy / "risk_scorer/DEFAULT").read_text(encoding="utf-8").strip() == CUR
    _verifies(shipped_copy)


def test_kill_while_writing_a_key(tmp_path):
    key = tmp_path / "keys" / "k.pem"
    _run_until_paused(_writer(tmp_path, "key", key), "key", tmp_path)
    assert not key.exists() and not key.with_suffix(".pub").exists()   # no half key under its name
    _ok(_writer(tmp_path, "key", key))
    from underwriting.registry.signing import SigningKey, load_public_key

    assert SigningKey.load(key).key_id == load_public_key(key.with_suffix(".pub")).key_id
    assert oct(key.stat().st_mode & 0o777) == "0o600"
