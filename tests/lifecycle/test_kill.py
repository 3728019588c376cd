"""Killing ``train`` or ``promote`` mid-write (SIGKILL while it sleeps inside the write, via the
UNDERWRITING_TEST_PAUSE_AT hook) leaves a registry that loads, with the old or the new default."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from underwriting.registry import Registry

from .conftest import cli_argv


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
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return proc.returncode


@pytest.mark.slow
@pytest.mark.parametrize("point", ["stage", "publish"])
def test_kill_during_train(shipped_copy, tmp_path, point):
    book = tmp_path / "book.toml"
    book.write_text("[data.synthetic]\nn_exchanges = 120\nyears = 5\nseed = 3\n[validation]\nn_boot = 20\n",
                    encoding="utf-8")
    cfg = tmp_path / "cfg.toml"
    cfg.write_text("[validation]\nn_boot = 20\n", encoding="utf-8")
    rc = _run_until_paused(cli_argv("train", "--data", book, "--config", cfg, "--registry", shipped_copy,
                                    "--promote"), point, tmp_path)
    assert rc == -signal.SIGKILL
    reg = Registry(shipped_copy)
    assert reg.versions("risk_scorer") == ["0.1.0"]          # nothing half-published
    assert reg.default("risk_scorer") == "0.1.0"
    assert reg.load("risk_scorer").registry_["version"] == "0.1.0"
    assert list((shipped_copy / "risk_scorer").glob(".staging-*"))  # the dead writer's leftovers...
    out = subprocess.run(cli_argv("train", "--data", book, "--config", cfg, "--registry", shipped_copy),
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert not list((shipped_copy / "risk_scorer").glob(".staging-*"))  # ...are cleaned by the next writer
    assert reg.versions("risk_scorer") == ["0.1.0", "0.2.0"]


@pytest.mark.slow
def test_kill_during_promote(small_registry, tmp_path):
    import shutil

    root = tmp_path / "reg"
    shutil.copytree(small_registry[0], root)
    rc = _run_until_paused(cli_argv("promote", "0.2.0", "--registry", root), "promote", tmp_path)
    assert rc == -signal.SIGKILL
    reg = Registry(root)
    assert reg.default("risk_scorer") in ("0.1.0", "0.2.0")
    assert reg.default("risk_scorer") == "0.1.0"   # killed before the os.replace: the old default stands
    reg.load("risk_scorer")
    out = subprocess.run(cli_argv("promote", "0.2.0", "--registry", root), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert reg.default("risk_scorer") == "0.2.0"
    assert reg.history("risk_scorer")[-1]["to"] == "0.2.0"
