"""API keys: creation (printed once), argon2-hashed storage, authentication, roles and permissions.

A key reads ``uwk_<id>_<secret>``: the 12-hex-digit ``id`` is public (it appears in the ledger as the
actor); only the argon2 hash of the whole key is stored. Verifying an argon2 hash is deliberately slow
(tens of milliseconds), so a successfully verified key is remembered in process memory by the SHA-256
of the presented key, with the argon2 hash it verified against, for :data:`CACHE_SECONDS`. A remembered
key is still looked up on every request (one primary-key read): it is accepted only while its row is
unrevoked and holds the same argon2 hash, so a key revoked or re-hashed by any process (another
uvicorn worker, the CLI) is refused at once. A key that fails verification is never remembered.

The role a request gets is the one the key's signed ``key.create`` ledger entry records: on every
request the row's ``ledger_seq`` entry is read (one primary-key read) and checked (its hash, the
ledger key's signature, subject, role and the SHA-256 of the argon2 hash); a row whose role or
secret hash was edited in the database, or whose entry was rewritten, authenticates nobody.

Failures take as long as a wrong secret for a real key: a malformed key, an unknown id, a revoked
key or one whose ledger entry does not back it is still checked against a dummy argon2 hash, so the
response time does not tell which key ids exist. (The per-source limit on failures,
:mod:`underwriting.service.ratelimit`, keeps that cost from becoming a way to exhaust the CPU.)
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete
from sqlalchemy.orm import Session

from underwriting.caches import register_cache
from underwriting.errors import InputError
from underwriting.service import ledger, ledger_key
from underwriting.service.db import ROLES, ApiKey, LedgerEntry, WorkbenchSession, utcnow

#: What each role may do.
PERMISSIONS: dict[str, frozenset[str]] = {
    "underwriter": frozenset({"quote:create", "quote:read", "price", "reserve", "schema"}),
    "actuary": frozenset({"quote:create", "quote:read", "price", "reserve", "schema", "models:read",
                          "models:promote"}),
    "auditor": frozenset({"quote:read", "ledger:read", "schema"}),
    "admin": frozenset({"keys:manage", "schema"}),
}
CACHE_SECONDS = 30.0
_HASHER = PasswordHasher()
_cache: dict[str, tuple[str, str, float]] = register_cache({}, "service.keys._cache")  # sha256(key) -> (key id, argon2 hash, expiry)
_cache_lock = threading.Lock()
#: ``(entry hash, key id, signature)`` of ``key.create`` entries found signed by a ledger key before the valid
#: rotation entry that retired it (the ledger is append-only: the answer never changes, so it is not
#: looked up again on every request: that look-up reads the archived key files and scans the ledger)
_signed_before_retirement: set[tuple[str, str, str]] = register_cache(set(), "service.keys._signed_before_retirement")
_dummy_hash: list[str] = []  # an argon2 hash of a key nobody holds, made on first use


@dataclass(frozen=True)
class Principal:
    """The caller: key id and role."""

    key_id: str
    role: str

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


def check_role(role: str) -> str:
    """Return ``role`` if it is one of :data:`~underwriting.service.db.ROLES`, else raise InputError."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}", field="role")
    return role


def create_key(session: Session, role: str, *, label: str = "", actor: str = "cli") -> tuple[str, str]:
    """Create a key in ``session``'s transaction and append a ``key.create`` ledger entry.

    Returns
    -------
    (key_id, key) : tuple of str
        The public id and the full key, which is not stored and cannot be shown again.
    """
    check_role(role)
    if len(label) > 200:
        raise InputError("at most 200 characters", field="label")
    key_id = secrets.token_hex(6)
    key = f"uwk_{key_id}_{secrets.token_urlsafe(32)}"
    secret_hash = _HASHER.hash(key)
    row = ApiKey(id=key_id, secret_hash=secret_hash, role=role, label=label)
    session.add(row)
    session.flush()
    entry = ledger.append(session, actor=actor, action="key.create", subject=key_id,
                          detail={"role": role, "label": label, "secret_sha256": secret_digest(secret_hash)})
    row.ledger_seq = entry.seq
    session.flush()
    return key_id, key


def secret_digest(secret_hash: str) -> str:
    """What the ``key.create`` entry records of a key's argon2 hash: its SHA-256 (the hash stays out)."""
    return hashlib.sha256(secret_hash.encode("utf-8")).hexdigest()


def ledger_backed(session: Session, k: ApiKey) -> bool:
    """Whether ``k``'s role and secret hash are the ones its signed ``key.create`` entry records.

    Keys made before the entry was linked (``ledger_seq`` empty) are accepted as stored; ``ledger verify``
    checks them against their entry.
    """
    if k.ledger_seq is None:
        return True
    e = session.get(LedgerEntry, k.ledger_seq)
    if e is None or e.action != "key.create" or e.subject != k.id:
        return False
    if ledger.entry_hash(e.seq, e.at, e.actor, e.action, e.subject, e.input_hash, e.versions, e.detail,
                         e.prev_hash) != e.entry_hash:
        return False
    if not _signed_in_force(session, e):
        return False
    try:
        import json

        d = json.loads(e.detail)
    except ValueError:
        return False
    return d.get("role") == k.role and d.get("secret_sha256") in (None, secret_digest(k.secret_hash))


def _signed_in_force(session: Session, e: LedgerEntry) -> bool:
    """Whether ``e`` is signed by the current ledger key, or by a retired one before the valid rotation
    entry that retired it (a key created before ``ledger rotate-key`` keeps working; one whose entry a
    leaked old key signed after the rotation does not)."""
    current = _ledger_keys()
    if not ledger_key.check(current, ledger_key.ENTRY_TAG, e.entry_hash, e.key_id, e.signature):
        return True
    seen = (str(e.entry_hash), str(e.key_id), str(e.signature))
    if seen in _signed_before_retirement:
        return True
    try:
        archived = {kid: raw for kid, (raw, _) in ledger_key.archived_keys().items()}
    except InputError:
        return False
    if e.key_id not in archived or ledger_key.check(archived, ledger_key.ENTRY_TAG, e.entry_hash, e.key_id,
                                                     e.signature):
        return False
    if ledger.retirements(session, {**archived, **current}).get(e.key_id, 0) > e.seq:
        with _cache_lock:
            _signed_before_retirement.add(seen)
        return True
    return False


def _ledger_keys() -> dict[str, bytes]:
    try:
        return ledger_key.public_key_ids()
    except InputError:
        return {}


def revoke_key(session: Session, key_id: str, *, actor: str) -> bool:
    """Revoke ``key_id`` (ledger entry ``key.revoke``) and end its workbench sessions in the same
    transaction; False if no such active key."""
    k = session.get(ApiKey, key_id)
    if k is None or k.revoked_at is not None:
        return False
    k.revoked_at = utcnow()
    session.execute(delete(WorkbenchSession).where(WorkbenchSession.key_id == key_id))
    ledger.append(session, actor=actor, action="key.revoke", subject=key_id, detail={"role": k.role})
    with _cache_lock:  # not needed for safety (every hit re-reads the row), only to free the memory
        for digest in [d for d, v in _cache.items() if v[0] == key_id]:
            del _cache[digest]
    return True


def authenticate(session: Session, presented: str | None) -> Principal | None:
    """The principal of a presented key, or ``None`` for a missing, malformed, unknown or revoked key.

    Any presented key that is not a remembered valid one costs one argon2 verification, against the
    key's hash or, for a malformed, unknown or revoked key, against a dummy hash (constant-time failure).
    Only an absent key (``None`` or empty) returns at once.
    """
    if not presented:
        return None
    parts = presented.split("_", 2)
    well_formed = presented.startswith("uwk_") and len(presented) <= 200 and len(parts) == 3
    digest = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).hexdigest()
    now = time.monotonic()
    k = session.get(ApiKey, parts[1][:32]) if well_formed else None
    if k is None or k.revoked_at is not None or not ledger_backed(session, k):
        _forget(digest)
        _dummy_verify(presented)
        return None
    with _cache_lock:
        hit = _cache.get(digest)
    if hit is not None and hit[0] == k.id and hit[1] == k.secret_hash and hit[2] > now:
        return Principal(k.id, k.role)
    try:
        _HASHER.verify(k.secret_hash, presented)
    except (VerificationError, InvalidHashError):
        _forget(digest)
        return None
    with _cache_lock:
        _cache[digest] = (k.id, k.secret_hash, now + CACHE_SECONDS)
    return Principal(k.id, k.role)


def is_remembered(presented: str | None) -> bool:
    """Whether ``presented`` is a key verified in this process in the last :data:`CACHE_SECONDS` (its
    next check costs no argon2 verification; :func:`authenticate` still reads its row)."""
    if not presented:
        return False
    digest = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).hexdigest()
    with _cache_lock:
        hit = _cache.get(digest)
    return hit is not None and hit[2] > time.monotonic()


def _dummy_verify(presented: str) -> None:
    """Spend what a wrong secret for a real key costs (one argon2 verification), learning nothing."""
    if not _dummy_hash:
        with _cache_lock:
            if not _dummy_hash:
                _dummy_hash.append(_HASHER.hash(f"uwk_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"))
    try:
        _HASHER.verify(_dummy_hash[0], presented[:200])
    except (VerificationError, InvalidHashError):
        pass


def _forget(digest: str) -> None:
    with _cache_lock:
        _cache.pop(digest, None)
