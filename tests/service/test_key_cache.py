"""The in-process cache of verified API keys: it saves the argon2 verification of a key already seen,
and never accepts a key that no longer verifies (revoked anywhere, re-hashed, or wrong)."""

from __future__ import annotations

import hashlib

import pytest
from argon2 import PasswordHasher
from sqlalchemy import update

from underwriting.service import keys
from underwriting.service.db import ApiKey, open_database, utcnow


class CountingHasher:
    """The real argon2 hasher, counting verifications."""

    def __init__(self):
        self.inner = PasswordHasher()
        self.verified = 0

    def hash(self, secret):
        return self.inner.hash(secret)

    def verify(self, stored, presented):
        self.verified += 1
        return self.inner.verify(stored, presented)


@pytest.fixture
def db(sqlite_url, monkeypatch):
    hasher = CountingHasher()
    monkeypatch.setattr(keys, "_HASHER", hasher)
    monkeypatch.setattr(keys, "_cache", {})
    engine, sessions = open_database(sqlite_url)
    with sessions.begin() as s:
        key_id, key = keys.create_key(s, "underwriter")
    yield sessions, hasher, key_id, key
    engine.dispose()


def auth(sessions, presented):
    with sessions() as s:
        return keys.authenticate(s, presented)


def test_a_verified_key_is_not_verified_again(db):
    sessions, hasher, key_id, key = db
    assert auth(sessions, key) == keys.Principal(key_id, "underwriter")
    assert auth(sessions, key) == keys.Principal(key_id, "underwriter")
    assert hasher.verified == 1
    assert hashlib.sha256(key.encode()).hexdigest() in keys._cache
    assert key not in str(keys._cache)  # only a digest of the key is held


def test_a_revoked_key_is_refused_at_once(db):
    sessions, hasher, key_id, key = db
    assert auth(sessions, key) is not None
    with sessions.begin() as s:
        assert keys.revoke_key(s, key_id, actor="test")
    assert auth(sessions, key) is None


def test_a_key_revoked_by_another_process_is_refused_at_once(db):
    # another worker (or the CLI) revokes the key: this process's cache is not told
    sessions, hasher, key_id, key = db
    assert auth(sessions, key) is not None
    with sessions.begin() as s:
        s.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=utcnow()))
    assert hashlib.sha256(key.encode()).hexdigest() in keys._cache
    assert auth(sessions, key) is None
    assert hashlib.sha256(key.encode()).hexdigest() not in keys._cache


def test_a_key_whose_hash_changed_must_verify_again(db):
    sessions, hasher, key_id, key = db
    assert auth(sessions, key) is not None
    with sessions.begin() as s:  # the row now holds the hash of another secret under the same id
        s.execute(update(ApiKey).where(ApiKey.id == key_id).values(secret_hash=hasher.hash(key + "x")))
    assert auth(sessions, key) is None
    # refused before argon2 runs: the row's hash no longer matches the one its signed key.create entry
    # records (issue #30), so the cache entry is not even consulted
    assert hasher.verified == 1


def test_a_wrong_key_is_never_cached(db):
    sessions, hasher, key_id, key = db
    wrong = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    for n in (1, 2):
        assert auth(sessions, wrong) is None
        assert hasher.verified == n  # verified (and refused) every time
    assert keys._cache == {}
    assert auth(sessions, key) is not None  # the right key still works after the wrong one


def test_an_expired_entry_is_verified_again(db, monkeypatch):
    sessions, hasher, key_id, key = db
    assert auth(sessions, key) is not None
    monkeypatch.setattr(keys, "CACHE_SECONDS", -1.0)
    keys._cache.clear()
    assert auth(sessions, key) is not None
    assert auth(sessions, key) is not None
    assert hasher.verified == 3
