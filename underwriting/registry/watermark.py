"""Rollback detection: the latest signed promotion history seen of each model, kept outside the registry.

A registry rolled back to an older *signed* state (an old ``history.jsonl`` and ``DEFAULT`` copied
back) verifies: every signature in it is genuine. What gives it away is memory. Each time a model's
verified history is read through :meth:`~underwriting.registry.store.Registry.default`, the number
of verified promotions and the hash of the last one are compared with ``registry_state.json`` in
the user's folder (:func:`~underwriting.registry.signing.user_home`, not the registry):

- fewer verified promotions than were seen: the registry was **rolled back**: refused;
- the promotion at the last seen position has another hash: the history was **rewritten**: refused;
- more promotions, the seen ones unchanged: the record moves forward (it never moves back).

``underwriting models verify --accept-rollback`` re-records the registry's current state after a
deliberate restore (and ``models sign``, which re-signs a history, does so itself). The record is a
monotonic watermark per registry folder (its resolved path) and model; the service's ledger keeps
one too (every ``model.promote`` entry records the history position, see ``docs/service.md``).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from underwriting.errors import ModelIntegrityError
from underwriting.fileio import atomic_write_text
from underwriting.registry.signing import user_home

STATE_FILE = "registry_state.json"
#: Largest state file read (one small entry per registry and model).
MAX_STATE_BYTES = 4 * 1024 * 1024
_lock = threading.Lock()


def state_path() -> Path:
    """``registry_state.json`` in the user's underwriting folder."""
    return user_home() / STATE_FILE


def _read() -> dict[str, Any]:
    p = state_path()
    try:
        if p.stat().st_size > MAX_STATE_BYTES:
            raise ModelIntegrityError(f"{p}: over {MAX_STATE_BYTES} bytes: refused (remove it to start afresh)")
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelIntegrityError(f"{p}: unreadable registry state ({exc}): refused; remove it to start "
                                  "afresh (rollback detection then restarts from the current state)") from None
    return doc if isinstance(doc, dict) else {}


def _write(doc: dict[str, Any]) -> None:
    p = state_path()
    try:
        p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write_text(p, json.dumps(doc, sort_keys=True, indent=1) + "\n")
    except OSError:
        import warnings

        warnings.warn(f"cannot record the registry state in {p}: rollback detection is off for this run",
                      RuntimeWarning, stacklevel=3)


def _key(root: Path) -> str:
    return str(Path(root).resolve())


def check(root: Path, name: str, hashes: list[str], last_to: str | None) -> None:
    """Compare a model's verified history (line hashes, oldest first) with the record; move it forward.

    Raises
    ------
    ModelIntegrityError
        The history is shorter than, or differs from, the one seen before (rolled back or rewritten).
    """
    with _lock:
        doc = _read()
        seen = (doc.get(_key(root)) or {}).get(name)
        if isinstance(seen, dict) and isinstance(seen.get("count"), int) and seen["count"] > 0:
            n, head = seen["count"], seen.get("head")
            where = Path(root) / name / "history.jsonl"
            if len(hashes) < n:
                raise ModelIntegrityError(
                    f"{where}: rolled back: it holds {len(hashes)} verified promotion(s), but {n} were seen "
                    f"(the last to {seen.get('to')}, recorded in {state_path()}): refused; if the restore was "
                    f"deliberate, run `underwriting models verify --accept-rollback --registry {root}`")
            if hashes[n - 1] != head:
                raise ModelIntegrityError(
                    f"{where}: rewritten: promotion {n} differs from the one seen before (recorded in "
                    f"{state_path()}): refused; if deliberate, run `underwriting models verify --accept-rollback "
                    f"--registry {root}`")
            if len(hashes) == n:
                return
        if not hashes:
            return
        with _file_lock():  # re-read under the lock: another process may have moved the record meanwhile
            doc = _read()
            seen = (doc.get(_key(root)) or {}).get(name)
            if isinstance(seen, dict) and isinstance(seen.get("count"), int) and seen["count"] >= len(hashes):
                return  # never move back (a newer history was seen meanwhile: the next check compares with it)
            doc.setdefault(_key(root), {})[name] = {"count": len(hashes), "head": hashes[-1], "to": last_to}
            _write(doc)


@contextlib.contextmanager
def _file_lock():
    """An exclusive ``flock`` on ``registry_state.json.lock`` (writers in other processes queue)."""
    import fcntl

    p = state_path().with_name(STATE_FILE + ".lock")
    try:
        p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield  # no lock possible: _write warns if the record cannot be written either
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def reset(root: Path, name: str, hashes: list[str], last_to: str | None) -> None:
    """Record the current history of ``name`` as the one seen (a deliberate restore or re-signing)."""
    with _lock:
        with _file_lock():
            try:
                doc = _read()
            except ModelIntegrityError:
                doc = {}  # an unreadable record is replaced
            if hashes:
                doc.setdefault(_key(root), {})[name] = {"count": len(hashes), "head": hashes[-1], "to": last_to}
            else:
                (doc.get(_key(root)) or {}).pop(name, None)
            _write(doc)
