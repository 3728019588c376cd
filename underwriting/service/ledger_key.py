"""The service's ledger key and its signed checkpoints: what a database administrator cannot forge.

Key
    An Ed25519 private key kept **outside the database**, in the file named by
    ``UNDERWRITING_LEDGER_KEY`` (default ``ledger_key.pem`` in the user's underwriting folder,
    :func:`~underwriting.registry.signing.user_home`; mode 0600). It is made on first use when absent
    (the public half is written beside it as ``ledger_key.pub``). Every ledger entry's hash and every
    stored idempotent reply is signed with it; its public half checks them.
Checkpoints
    A checkpoint is a signed statement "the ledger's entry ``seq`` has hash ``entry_hash``", one JSON
    line appended (``O_APPEND``, fsync) to the file named by ``UNDERWRITING_LEDGER_CHECKPOINTS``
    (default ``ledger_checkpoints/<SHA-256 of the database URL, 16 digits>.jsonl`` beside the key, one log
    per database), a place the database's administrator
    should not be able to write (another host's mount, an append-only log shipper). The service
    writes one at start and after every ledger write; ``underwriting ledger checkpoint`` writes one on
    demand. ``ledger verify`` checks the chain against every checkpoint: a rewritten, re-hashed or
    truncated ledger no longer holds the checkpointed hashes.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from underwriting.errors import InputError
from underwriting.registry.signing import SigningKey, load_public_key, user_home, write_private_key

ENV_KEY = "UNDERWRITING_LEDGER_KEY"
ENV_CHECKPOINTS = "UNDERWRITING_LEDGER_CHECKPOINTS"
ENTRY_TAG = b"underwriting.service.ledger-entry.v1\x00"
REPLY_TAG = b"underwriting.service.idempotent-reply.v1\x00"
CHECKPOINT_TAG = b"underwriting.service.ledger-checkpoint.v1\x00"
#: What the new key signs in a ``ledger.key_rotate`` entry (the hand-over: position and both key ids).
ROTATE_TAG = b"underwriting.service.ledger-key-rotate.v1\x00"
CHECKPOINT_FORMAT = "underwriting-ledger-checkpoint-v1"
#: Longest checkpoint line read.
MAX_CHECKPOINT_LINE = 4096

_keys: dict[str, tuple[Any, SigningKey]] = {}
_lock = threading.Lock()


def key_path() -> Path:
    """The ledger key's file: ``$UNDERWRITING_LEDGER_KEY``, else ``ledger_key.pem`` in the user's folder."""
    env = os.environ.get(ENV_KEY)
    return Path(env) if env else user_home() / "ledger_key.pem"


def checkpoints_path(database_url: str | None = None) -> Path:
    """The checkpoint log of a database: ``$UNDERWRITING_LEDGER_CHECKPOINTS``, else
    ``ledger_checkpoints/<16 hex digits of the SHA-256 of the URL, password hidden>.jsonl`` beside the key."""
    env = os.environ.get(ENV_CHECKPOINTS)
    if env:
        return Path(env)
    digest = hashlib.sha256(_url_identity(database_url).encode("utf-8")).hexdigest()[:16]
    return key_path().with_name("ledger_checkpoints") / f"{digest}.jsonl"


def _url_identity(url: str | None) -> str:
    from sqlalchemy.engine import make_url

    if not url:
        return ""
    u = make_url(url)
    if u.drivername.startswith("sqlite") and u.database and u.database != ":memory:":
        u = u.set(database=str(Path(u.database).resolve()))
    return u.set(password=None).render_as_string(hide_password=True)


def _identity(p: Path) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(p)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size


def service_key(create: bool = True) -> SigningKey:
    """The ledger key (read once per process and path, and again when the file is replaced, as
    ``ledger rotate-key`` does: a running service signs with the new key from its next write on; made
    when absent and ``create``).

    Raises
    ------
    InputError
        The file is unreadable or not an Ed25519 key, or absent and ``create`` is false.
    """
    p = key_path()
    with _lock:
        ident = _identity(p)
        cached = _keys.get(str(p))
        if cached is not None and (ident is None or cached[0] == ident):
            return cached[1]  # unchanged (or deleted under a running service: it keeps the key it has)
        if ident is None and not p.is_symlink():
            if not create:
                raise InputError(f"no ledger key at {p} (the service makes it on first start; set {ENV_KEY} to "
                                 "the service's key file)", field=ENV_KEY)
            try:
                write_private_key(SigningKey.generate(), p)
            except InputError:  # another process made it meanwhile
                pass
            except OSError as exc:
                raise InputError(f"cannot make the ledger key {p}: {exc.strerror or exc} (set {ENV_KEY} to a "
                                 "writable path)", field=ENV_KEY) from None
            ident = _identity(p)
        k = SigningKey.load(p)
        _keys[str(p)] = (ident, k)
        return k


def forget_cached_key() -> None:
    """Drop the keys this process has read (the next signature reads the key file again)."""
    with _lock:
        _keys.clear()


def public_path() -> Path:
    """The current ledger key's public half, ``ledger_key.pub`` beside the key: what auditors are given."""
    return key_path().with_suffix(".pub")


def archived_path(key_id: str) -> Path:
    """Where ``ledger rotate-key`` archives the public half of the retired key ``key_id``:
    ``ledger_key.retired-<key id>.pub`` beside the key."""
    p = key_path()
    return p.with_name(f"{p.stem}.retired-{key_id}.pub")


def archived_keys() -> dict[str, tuple[bytes, Path]]:
    """``key id -> (raw public key, file)`` of every archived (retired) ledger public key beside the key.

    A file whose name does not match the key it holds is refused (:class:`InputError`), so a renamed
    file cannot pass one key off as another."""
    p = key_path()
    out: dict[str, tuple[bytes, Path]] = {}
    if not p.parent.is_dir():
        return out
    prefix = f"{p.stem}.retired-"
    for f in sorted(p.parent.glob(f"{prefix}*.pub")):
        k = load_public_key(f, "ledger")
        if f.name != f"{prefix}{k.key_id}.pub":
            raise InputError(f"{f} holds key {k.key_id}, not the key its name says", field=ENV_KEY)
        out[k.key_id] = (k.raw, f)
    return out


def public_key_ids() -> dict[str, bytes]:
    """``key id -> raw public key`` of the current ledger key (from the key file, or its ``.pub`` when the
    private half is not readable here, as on an auditor's machine given only the public key)."""
    p = key_path()
    if p.is_file() and os.access(p, os.R_OK):
        k = service_key(create=False)
        return {k.key_id: k.raw_public}
    pub = public_path()
    if pub.is_file():
        k = load_public_key(pub, "ledger")
        return {k.key_id: k.raw}
    raise InputError(f"no ledger key at {p} or {pub}: cannot check the ledger's signatures (set {ENV_KEY})",
                     field=ENV_KEY)


def known_keys() -> tuple[str | None, dict[str, bytes]]:
    """``(current key id, key id -> raw public key)`` of the current ledger key and every archived one
    (``ledger verify`` checks each entry with the key in force at its position)."""
    keys = {kid: raw for kid, (raw, _) in archived_keys().items()}
    current = public_key_ids()
    keys.update(current)
    return next(iter(current)), keys


def sign(tag: bytes, message: str, *, create: bool = True) -> tuple[str, str]:
    """``(key id, base64 signature)`` of ``tag + message`` with the ledger key (made when absent and ``create``)."""
    k = service_key(create=create)
    return k.key_id, k.sign(tag, message.encode("utf-8"))


def check(keys: dict[str, bytes], tag: bytes, message: str, key_id: Any, signature: Any) -> str | None:
    """``None`` when ``signature`` is the ledger key's signature of ``message``, else why not."""
    import base64

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if not key_id or not signature:
        return "unsigned"
    raw = keys.get(key_id)
    if raw is None:
        return f"signed by an unknown key id {str(key_id)[:16]} (not the ledger key nor an archived one: {', '.join(keys)})"
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(signature, validate=True),
                                                               tag + message.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return "signature does not match (forged or edited)"
    return None


def reply_message(key_id: str, idempotency_key: str, route: str, request_sha256: str, status: int, body: str) -> str:
    """What the signature of a stored idempotent reply covers (every column a replay returns or matches)."""
    return json.dumps([key_id, idempotency_key, route, request_sha256, status, body], ensure_ascii=False,
                      separators=(",", ":"))


def checkpoint(seq: int, entry_hash: str, at: str, *, create: bool = True) -> dict[str, Any]:
    """A signed checkpoint of entry ``seq`` with hash ``entry_hash``, made at ``at`` (ISO 8601 UTC)."""
    body = {"format": CHECKPOINT_FORMAT, "seq": int(seq), "entry_hash": entry_hash, "at": at}
    kid, sig = sign(CHECKPOINT_TAG, _canonical(body), create=create)
    return {**body, "key_id": kid, "signature": sig}


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def append_checkpoint(cp: dict[str, Any], path: Path | None = None, *, fsync: bool = True) -> Path:
    """Append ``cp`` as one line to the checkpoint log (created 0600 when absent; one ``O_APPEND`` write).

    ``fsync=False`` (the service after each ledger write) leaves the line in the page cache: it survives a
    killed process, and only a machine crash can lose the newest lines (about 0.05 ms a write instead of
    about 10 ms with the flush; the service flushes at start and ``ledger checkpoint`` always does).
    """
    p = Path(path) if path is not None else checkpoints_path()
    p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = (_canonical(cp) + "\n").encode("utf-8")
    fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    return p


def read_checkpoints(path: Path, keys: dict[str, bytes]) -> tuple[list[dict[str, Any]], list[str]]:
    """The checkpoints of a log whose signature checks, and one line per line that does not."""
    good, bad = [], []
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such checkpoint file", field="--checkpoints") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})", field="--checkpoints") from None
    for i, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            if len(raw) > MAX_CHECKPOINT_LINE:
                raise ValueError("too long")
            cp = json.loads(raw)
            body = {k: cp[k] for k in ("format", "seq", "entry_hash", "at")}
            if body["format"] != CHECKPOINT_FORMAT or not isinstance(body["seq"], int):
                raise ValueError("not a checkpoint")
        except (ValueError, KeyError, TypeError, RecursionError):
            bad.append(f"checkpoint line {i} of {path}: not a checkpoint: ignored")
            continue
        why = check(keys, CHECKPOINT_TAG, _canonical(body), cp.get("key_id"), cp.get("signature"))
        if why:
            bad.append(f"checkpoint line {i} of {path} (entry {body['seq']}): {why}")
            continue
        good.append(cp)
    return good, bad

