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

from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine

from underwriting.service.db import RateBucket, make_engine

_T = RateBucket.__table__


def limiter_engine(db_engine: Engine) -> Engine:
    """The engine the limiter writes through: for SQLite, a second engine on the same file whose
    connections commit with ``PRAGMA synchronous=NORMAL`` (in WAL mode: no fsync per commit; a power
    cut may lose the last moments of bucket counts, never the database's consistency, and the ledger's
    own connections keep ``FULL``); for PostgreSQL, ``db_engine`` itself (each take commits with
    ``synchronous_commit = off``, see :meth:`SharedRateLimiter.take`)."""
    if db_engine.dialect.name != "sqlite":
        return db_engine
    engine = make_engine(db_engine.url.render_as_string(hide_password=False))

    @event.listens_for(engine, "connect")
    def _normal_sync(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite test
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return engine


def _insert_missing(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(_T).on_conflict_do_nothing()


class SharedRateLimiter:
    """Token buckets in the database: ``per_minute`` requests a minute on average, bursts up to ``burst``.

    Parameters
    ----------
    engine : Engine
        The engine to write through (:func:`limiter_engine` of the service database's engine).
    per_minute : float
        Average requests a minute allowed per bucket; 0 disables the limit (no database access).
    burst : int, optional
        Largest burst (tokens of a full bucket); default ``per_minute`` (at least 1).
    prefix : str
        Prepended to every bucket name, so limiters of different purposes never share a bucket.
    """

    def __init__(self, engine: Engine, per_minute: float, burst: int | None = None, prefix: str = ""):
        self.engine = engine
        self.per_minute = float(per_minute)
        self.burst = int(burst if burst is not None else max(1, int(per_minute)))
        self.prefix = prefix
        self._insert = _insert_missing(engine.dialect.name)

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
        if not spend:  # a look only: read, write nothing
            with self.engine.connect() as c:
                row = c.execute(select(_T.c.tokens, _T.c.updated).where(_T.c.name == key)).one_or_none()
            if row is None:
                return 0.0
            tokens = min(float(self.burst), row[0] + max(0.0, time.time() - row[1]) * rate)
            return 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate
        with self.engine.begin() as c:  # SQLite: BEGIN IMMEDIATE (see db.make_engine)
            if c.dialect.name == "postgresql":
                c.exec_driver_sql("SET LOCAL synchronous_commit = off")
            now = time.time()
            c.execute(self._insert, {"name": key, "tokens": float(self.burst), "updated": now})
            held, then = c.execute(select(_T.c.tokens, _T.c.updated).where(_T.c.name == key).with_for_update()).one()
            tokens = min(float(self.burst), held + max(0.0, now - then) * rate)
            allowed = tokens >= 1.0
            c.execute(update(_T).where(_T.c.name == key).values(tokens=tokens - 1.0 if allowed else tokens,
                                                                 updated=now))
            return 0.0 if allowed else (1.0 - tokens) / rate
