"""Token-bucket rate limits kept in the service database, so every worker process (``serve --workers N``)
and every server on the same database draws from the same buckets.

A bucket is a row of ``rate_buckets`` (:class:`~underwriting.service.db.RateBucket`): the tokens left
and when they were counted. :meth:`SharedRateLimiter.take` refills the bucket for the time elapsed
(``per_minute / 60`` tokens a second, at most ``burst``) and takes one, in one transaction that locks
the row (SQLite: ``BEGIN IMMEDIATE``, the whole database; PostgreSQL: ``SELECT ... FOR UPDATE`` on the
row), so two workers never both spend the last token. Times are the server's wall clock
(``time.time()``); servers sharing a database should keep their clocks in sync (NTP), a skew of a few
seconds only shifts a refill by as much.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from underwriting.service.db import RateBucket


def _insert_missing(session, name: str, tokens: float, now: float) -> None:
    """Insert bucket ``name`` full unless it exists (``INSERT ... ON CONFLICT DO NOTHING``)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(RateBucket).values(name=name, tokens=tokens, updated=now).on_conflict_do_nothing())


class SharedRateLimiter:
    """Token buckets in the database: ``per_minute`` requests a minute on average, bursts up to ``burst``.

    Parameters
    ----------
    sessions : sessionmaker
        The service database's session factory.
    per_minute : float
        Average requests a minute allowed per bucket; 0 disables the limit (no database access).
    burst : int, optional
        Largest burst (tokens of a full bucket); default ``per_minute`` (at least 1).
    prefix : str
        Prepended to every bucket name, so limiters of different purposes never share a bucket.
    """

    def __init__(self, sessions: sessionmaker, per_minute: float, burst: int | None = None, prefix: str = ""):
        self.sessions = sessions
        self.per_minute = float(per_minute)
        self.burst = int(burst if burst is not None else max(1, int(per_minute)))
        self.prefix = prefix

    def take(self, name: str, *, spend: bool = True) -> float:
        """Take one token from bucket ``name`` (with ``spend=False`` only look whether one is left).

        Returns
        -------
        float
            0 if allowed (a token was available), else the seconds to wait before one is.
        """
        if self.per_minute <= 0:
            return 0.0
        key = (self.prefix + name)[:200]
        rate = self.per_minute / 60.0
        with self.sessions.begin() as s:
            now = time.time()
            _insert_missing(s, key, float(self.burst), now)
            row = s.execute(select(RateBucket).where(RateBucket.name == key).with_for_update()).scalar_one()
            tokens = min(float(self.burst), row.tokens + max(0.0, now - row.updated) * rate)
            if tokens >= 1.0:
                if spend:
                    row.tokens, row.updated = tokens - 1.0, now
                return 0.0
            row.tokens, row.updated = tokens, now
            return (1.0 - tokens) / rate
