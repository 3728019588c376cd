"""The promotion history of a model: an append-only hash chain of signed entries.

Each line of ``<root>/<name>/history.jsonl`` is one JSON entry ``{timestamp, name, action, from,
to, manifest_sha256, note?, prev, key_id, signature}``: ``prev`` is the SHA-256 of the previous
*verified* line's bytes (``null`` for the first), and ``signature`` signs the entry's canonical JSON
without ``signature`` (:data:`~underwriting.registry.signing.HISTORY_TAG`). A line counts only when
it parses, names the model, links to the last verified line and carries a valid signature by a
trusted key; any other line (a torn write, an edit, an insertion) is reported and ignored, and so
is every line that links to it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from underwriting.errors import ModelIntegrityError
from underwriting.fileio import atomic_write_bytes
from underwriting.registry.hooks import pause
from underwriting.registry.signing import HISTORY_TAG, Keyring, SigningKey

HISTORY_FILE = "history.jsonl"
#: Longest history line read (an entry is about 400 bytes).
MAX_LINE_BYTES = 64 * 1024


def _body(entry: dict[str, Any]) -> bytes:
    body = {k: v for k, v in entry.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, allow_nan=False).encode("utf-8")


def line_hash(raw: bytes) -> str:
    """SHA-256 of a history line's bytes (with its newline)."""
    return hashlib.sha256(raw).hexdigest()


@dataclass
class Chain:
    """The verified entries of a history file and the problems met reading it."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    last_hash: str | None = None
    hashes: list[str] = field(default_factory=list)  # line hash of each verified entry, oldest first
    torn_tail: int | None = None  # byte offset where a torn (unterminated) last line starts


def read_chain(path: Path, name: str, keyring: Keyring) -> Chain:
    """Walk ``path`` keeping only verified entries (see the module docstring)."""
    chain = Chain()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return chain
    except OSError as exc:
        chain.problems.append(f"{path}: unreadable ({exc})")
        return chain
    offset = 0
    for i, raw in enumerate(data.splitlines(keepends=True), start=1):
        start, offset = offset, offset + len(raw)
        if not raw.endswith(b"\n"):
            chain.torn_tail = start
            chain.problems.append(f"{path}: line {i} is incomplete (an interrupted write): ignored")
            break
        why = _check(raw, name, chain.last_hash, keyring)
        if why:
            chain.problems.append(f"{path}: line {i} {why}: ignored")
            continue
        chain.entries.append(json.loads(raw))
        chain.last_hash = line_hash(raw)
        chain.hashes.append(chain.last_hash)
    return chain


def _check(raw: bytes, name: str, prev: str | None, keyring: Keyring) -> str | None:
    if len(raw) > MAX_LINE_BYTES:
        return f"is over {MAX_LINE_BYTES} bytes"
    try:
        entry = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "is not JSON"
    if not isinstance(entry, dict):
        return "is not an entry"
    if entry.get("name") != name:
        return f"names model {str(entry.get('name'))[:40]!r}, not {name!r}"
    if "prev" not in entry:
        return "is not part of the signed chain (no prev)"
    if entry.get("prev") != prev:
        return "does not link to the previous verified entry (hash chain broken)"
    try:
        keyring.verify(HISTORY_TAG, _body(entry), entry.get("key_id"), entry.get("signature"), what="entry",
                       signed_at=entry.get("timestamp"))
    except ModelIntegrityError as exc:
        return str(exc).removeprefix("entry: ").removesuffix(": refused")
    return None


def sign_entry(entry: dict[str, Any], prev: str | None, key: SigningKey) -> dict[str, Any]:
    """``entry`` linked to ``prev`` and signed by ``key``."""
    out = {k: v for k, v in entry.items() if k not in ("signature", "key_id", "prev")}
    out["prev"] = prev
    out["key_id"] = key.key_id
    out["signature"] = key.sign(HISTORY_TAG, _body(out))
    return out


def append(path: Path, name: str, entry: dict[str, Any], key: SigningKey, keyring: Keyring) -> dict[str, Any]:
    """Append a signed entry linked to the last verified one (the caller holds the registry lock).

    A torn last line (a writer killed mid-append) is cut off first, so the new line starts clean.
    """
    chain = read_chain(path, name, keyring)
    signed = sign_entry(entry, chain.last_hash, key)
    line = (json.dumps(signed, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if chain.torn_tail is not None:
            os.ftruncate(fd, chain.torn_tail)
        os.lseek(fd, 0, os.SEEK_END)
        half = len(line) // 2
        os.write(fd, line[:half])
        pause("history")
        os.write(fd, line[half:])
        os.fsync(fd)
    finally:
        os.close(fd)
    return signed


def rewrite(path: Path, entries: list[dict[str, Any]], key: SigningKey) -> list[dict[str, Any]]:
    """Re-sign ``entries`` as a fresh chain and replace the file atomically (``models sign``)."""
    out, prev, lines = [], None, []
    for e in entries:
        signed = sign_entry(e, prev, key)
        raw = (json.dumps(signed, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
        lines.append(raw)
        prev = line_hash(raw)
        out.append(signed)
    atomic_write_bytes(path, b"".join(lines))
    return out
