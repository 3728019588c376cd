"""Workbench sessions kept in the service database, so a sign-in is seen by every worker process and
a sign-out or a key revocation ends the session everywhere at once.

The browser holds a random 256-bit token in an HttpOnly, SameSite=Strict cookie; the database holds
only its SHA-256 (:class:`~underwriting.service.db.WorkbenchSession`), the key id and the expiry. Every
page request reads the session row and its key's row: an expired session, a deleted one (signed
out), or one whose key is revoked is not a session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from underwriting.service.db import ApiKey, WorkbenchSession, utcnow
from underwriting.service.keys import Principal

#: Name of the session cookie.
COOKIE = "uw_session"
#: Default lifetime of a session (seconds).
SESSION_SECONDS = 8 * 3600


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC


def start(sessions: sessionmaker, p: Principal, seconds: float = SESSION_SECONDS) -> str:
    """Open a session for ``p`` lasting ``seconds``; returns the token for the cookie (shown only here).
    Expired sessions are purged in the same transaction."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with sessions.begin() as s:
        s.execute(delete(WorkbenchSession).where(WorkbenchSession.expires_at < now))
        s.add(WorkbenchSession(id=_digest(token), key_id=p.key_id, created_at=now,
                               expires_at=now + dt.timedelta(seconds=seconds)))
    return token


def principal(sessions: sessionmaker, token: str | None) -> Principal | None:
    """The principal of session ``token``, or ``None`` if it is unknown, expired, signed out or its key revoked."""
    if not token or len(token) > 200:
        return None
    with sessions() as s:
        row = s.execute(select(WorkbenchSession, ApiKey).join(ApiKey, ApiKey.id == WorkbenchSession.key_id)
                        .where(WorkbenchSession.id == _digest(token))).first()
    if row is None:
        return None
    sess, key = row
    if key.revoked_at is not None or _aware(sess.expires_at) <= utcnow():
        return None
    return Principal(key.id, key.role)


def end(sessions: sessionmaker, token: str | None, *, everywhere: bool = False) -> int:
    """Sign out: delete session ``token`` (with ``everywhere``, every session of its key). Returns the
    number of sessions ended."""
    if not token or len(token) > 200:
        return 0
    with sessions.begin() as s:
        if everywhere:
            key_id = s.execute(select(WorkbenchSession.key_id).where(WorkbenchSession.id == _digest(token))
                               ).scalar_one_or_none()
            if key_id is not None:
                return end_for_key(s, key_id)
        return s.execute(delete(WorkbenchSession).where(WorkbenchSession.id == _digest(token))).rowcount or 0


def end_for_key(session: Session, key_id: str) -> int:
    """Delete every session of ``key_id`` in ``session``'s transaction (sign-out everywhere, key revocation)."""
    return session.execute(delete(WorkbenchSession).where(WorkbenchSession.key_id == key_id)).rowcount or 0
