"""The one atomic write (``underwriting.fileio.atomic_write``) and the writers that use it."""

from __future__ import annotations

import os
import stat

import pytest

from underwriting.fileio import atomic_write, atomic_write_bytes, atomic_write_text


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_writes_and_replaces(tmp_path):
    target = tmp_path / "sub" / "a.json"
    assert atomic_write_text(target, "one") == target
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert _leftovers(target.parent) == []


def test_writer_raising_midway_leaves_old_content_and_no_temporary(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old", encoding="utf-8")

    def half_then_fail(fh):
        fh.write(b"new and half")
        fh.flush()
        assert _leftovers(tmp_path), "the temporary file exists while writing"
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        atomic_write(target, half_then_fail)
    assert target.read_text(encoding="utf-8") == "old"
    assert _leftovers(tmp_path) == []


def test_interrupt_cleans_up_too(tmp_path):
    target = tmp_path / "b.txt"

    def interrupted(fh):
        fh.write(b"x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted)
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_failing_rename_cleans_up(tmp_path):
    target = tmp_path / "dir_in_the_way"
    target.mkdir()
    (target / "keep").write_text("k", encoding="utf-8")
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"data")
    assert (target / "keep").exists()
    assert _leftovers(tmp_path) == []


def test_temporary_name_carries_the_process_id(tmp_path):
    seen = []
    atomic_write(tmp_path / "DEFAULT", lambda fh: seen.extend(_leftovers(tmp_path)))
    assert len(seen) == 1 and seen[0].split(".")[2] == str(os.getpid())


def test_mode_is_applied(tmp_path):
    p = atomic_write_bytes(tmp_path / "key.pem", b"secret", mode=0o600)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    umask = os.umask(0)
    os.umask(umask)
    q = atomic_write_bytes(tmp_path / "plain", b"x")
    assert stat.S_IMODE(q.stat().st_mode) == 0o666 & ~umask


def test_registry_writers_clean_up_on_failure(tmp_path, monkeypatch):
    """The registry's writers (pointer, manifest, history rewrite, keys) go through the same helper."""
    from underwriting.registry import history, signing, staging

    target = tmp_path / "manifest.json"
    target.write_text("{}\n", encoding="utf-8")

    def boom(*a, **k):
        raise OSError("no space left")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="no space"):
        staging.write_json_atomic(target, {"a": 1})
    with pytest.raises(OSError, match="no space"):
        signing._write_atomic(tmp_path / "k.pub", b"pem", 0o644)
    with pytest.raises(OSError, match="no space"):
        history.rewrite(tmp_path / "history.jsonl", [], None)
    assert target.read_text(encoding="utf-8") == "{}\n"
    assert _leftovers(tmp_path) == []


def test_fileio_holds_the_only_atomic_write():
    """No module writes a temporary file and renames it by hand: they call ``fileio.atomic_write``."""
    import ast
    from pathlib import Path

    pkg = Path(__file__).resolve().parents[1] / "underwriting"
    bad = []
    for path in sorted(pkg.rglob("*.py")):
        if path.name == "fileio.py" and path.parent == pkg:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                    "replace", "mkstemp") and getattr(node.func.value, "id", None) in ("os", "tempfile"):
                bad.append(f"{path.relative_to(pkg)}:{node.lineno}")
    assert not bad, f"hand-written atomic writes (use underwriting.fileio.atomic_write): {bad}"
