"""The CLI's import-time collector pause (``cli._common.imports_frozen``): paused inside, restored after,
the imported objects frozen; a collector the caller disabled stays disabled. Run in a child process, so the
test process's own collector is never frozen."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import gc, json, sys
from underwriting.cli._common import imports_frozen
out = {}
if sys.argv[1] == "off":
    gc.disable()
before = gc.get_freeze_count()
with imports_frozen():
    out["inside"] = gc.isenabled()
    import fractions  # a module not imported yet: its objects are built inside
out["after"] = gc.isenabled()
out["frozen"] = gc.get_freeze_count() - before
print(json.dumps(out))
"""


def _child(mode: str) -> dict:
    r = subprocess.run([sys.executable, "-c", CHILD, mode], cwd=ROOT, capture_output=True, text=True, check=True,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return json.loads(r.stdout)


def test_the_collector_is_paused_inside_and_restored_after_with_the_imports_frozen():
    got = _child("on")
    assert got["inside"] is False and got["after"] is True
    assert got["frozen"] > 1000  # what the imports (and the interpreter before them) built, moved to permanent


def test_a_collector_the_caller_disabled_stays_disabled():
    got = _child("off")
    assert got["inside"] is False and got["after"] is False
