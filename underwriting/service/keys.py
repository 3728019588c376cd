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
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from underwriting.caches import register_cache
from underwriting.errors import InputError
from underwriting.service import ledger, ledger_key
from underwriting.service.db import ROLES, ApiKey, LedgerEntry, utcnow

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
    if ledger_key.check(_ledger_keys(), ledger_key.ENTRY_TAG, e.entry_hash, e.key_id, e.signature):
        return False
    try:
        import json

        d = json.loads(e.detail)
    except ValueError:
        return False
    return d.get("role") == k.role and d.get("secret_sha256") in (None, secret_digest(k.secret_hash))


def _ledger_keys() -> dict[str, bytes]:
    try:
        return ledger_key.public_key_ids()
    except InputError:
        return {}


def revoke_key(session: Session, key_id: str, *, actor: str) -> bool:
    """Revoke ``key_id`` (ledger entry ``key.revoke``); False if no such active key."""
    k = session.get(ApiKey, key_id)
    if k is None or k.revoked_at is not None:
        return False
    k.revoked_at = utcnow()
    ledger.append(session, actor=actor, action="key.revoke", subject=key_id, detail={"role": k.role})
    with _cache_lock:  # not needed for safety (every hit re-reads the row), only to free the memory
        for digest in [d for d, v in _cache.items() if v[0] == key_id]:
            del _cache[digest]
    return True


def authenticate(session: Session, presented: str | None) -> Principal | None:
    """The principal of a presented key, or ``None`` for a missing, malformed, unknown or revoked key."""
    if not presented or not presented.startswith("uwk_") or len(presented) > 200:
        return None
    parts = presented.split("_", 2)
    if len(parts) != 3:
        return None
    digest = hashlib.sha256(presented.encode()).hexdigest()
    now = time.monotonic()
    k = session.get(ApiKey, parts[1])
    if k is None or k.revoked_at is not None or not ledger_backed(session, k):
        _forget(digest)
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


def _forget(digest: str) -> None:
    with _cache_lock:
        _cache.pop(digest, None)


class RateLimiter:
    """Token bucket per key: ``per_minute`` requests a minute on average, bursts up to ``burst``."""

    def __init__(self, per_minute: float, burst: int | None = None):
        self.per_minute = float(per_minute)
        self.burst = int(burst if burst is not None else max(1, int(per_minute)))
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key_id: str) -> float:
        """Take one token; return 0 if allowed, else the seconds to wait before retrying."""
        if self.per_minute <= 0:
            return 0.0
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / rate
