"""The service database: SQLAlchemy 2 tables, engine set-up and Alembic migrations.

SQLite is the default (one file in a data folder, WAL mode, every transaction ``BEGIN IMMEDIATE`` so
ledger appends are serialised); PostgreSQL is used with ``postgresql+psycopg://...`` URLs (ledger
appends lock the ledger head row). The schema is created and upgraded only by the migrations shipped
in ``underwriting/service/migrations`` (:func:`migrate`), never by ``create_all``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

#: Environment variable naming the database URL when ``--database`` is not given.
DATABASE_ENV = "UNDERWRITING_DATABASE"
#: Folder of the default SQLite database (``$UNDERWRITING_DATA`` or ``./underwriting-data``).
DATA_ENV = "UNDERWRITING_DATA"
ROLES = ("underwriter", "actuary", "auditor", "admin")


class Base(DeclarativeBase):
    """Declarative base of the service tables."""


def utcnow() -> dt.datetime:
    """Current UTC time, to the microsecond, timezone-aware."""
    return dt.datetime.now(dt.UTC)


class ApiKey(Base):
    """An API key: its public id, argon2 hash of the secret, role, and whether it is revoked."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: the ``key.create`` ledger entry, whose signed detail fixes the role (checked on every request)
    ledger_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class QuoteRecord(Base):
    """A stored quote: the canonical JSON of the :class:`~underwriting.domain.quote.Quote` and its index fields."""

    __tablename__ = "quotes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    exchange: Mapped[str] = mapped_column(String(200), index=True)
    as_of: Mapped[str] = mapped_column(String(10))
    currency: Mapped[str] = mapped_column(String(3))
    premium: Mapped[float] = mapped_column(Float)
    input_hash: Mapped[str] = mapped_column(String(64))
    quote_sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(32), ForeignKey("api_keys.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    ledger_seq: Mapped[int] = mapped_column(BigInteger)


class LedgerEntry(Base):
    """One entry of the audit ledger; ``entry_hash`` covers every other column and ``prev_hash``;
    ``signature`` is the service key's Ed25519 signature of ``entry_hash`` (``key_id`` names the key)."""

    __tablename__ = "ledger"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(64))
    input_hash: Mapped[str] = mapped_column(String(64))
    versions: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    signature: Mapped[str | None] = mapped_column(String(100), nullable=True)


class LedgerHead(Base):
    """One row: the last sequence number and hash of the ledger (locked by each append)."""

    __tablename__ = "ledger_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))


class IdempotentResponse(Base):
    """The first response to a POST carrying an ``Idempotency-Key`` (per API key)."""

    __tablename__ = "idempotency"
    __table_args__ = (UniqueConstraint("key_id", "idempotency_key", name="uq_idempotency_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    route: Mapped[str] = mapped_column(String(200))
    request_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: the service key's signature of the reply (:func:`underwriting.service.ledger_key.reply_message`)
    key_sig: Mapped[str | None] = mapped_column(String(16), nullable=True)
    signature: Mapped[str | None] = mapped_column(String(100), nullable=True)


class WorkbenchSession(Base):
    """A signed-in workbench session, shared by every worker through the database.

    The browser holds a random token; only its SHA-256 is stored (``id``), so a copy of the table
    cannot be replayed as cookies. A session is valid while ``expires_at`` is in the future and its
    key is not revoked (revoking a key also deletes its sessions).
    """

    __tablename__ = "workbench_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), ForeignKey("api_keys.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class RateBucket(Base):
    """One token bucket of the rate limiter shared by every worker: ``tokens`` left at ``updated``
    (seconds since the epoch). ``name`` says what is limited (``key:<id>``, ``signin-ip:<address>``, ...)."""

    __tablename__ = "rate_buckets"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float)


def default_url(*, create: bool = True) -> str:
    """``$UNDERWRITING_DATABASE``, else a SQLite file in ``$UNDERWRITING_DATA`` (default ``./underwriting-data``),
    whose folder is made unless ``create`` is false (a command that only uses an existing database)."""
    if os.environ.get(DATABASE_ENV):
        return os.environ[DATABASE_ENV]
    folder = Path(os.environ.get(DATA_ENV) or "underwriting-data")
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / 'service.sqlite3').resolve()}"


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for ``url`` (default :func:`default_url`) with the service's connection settings.

    SQLite: WAL journal, a 30 s busy timeout, foreign keys on, and ``BEGIN IMMEDIATE`` for every
    transaction so concurrent writers queue instead of failing.
    """
    url = url or default_url()
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite test
            dbapi_conn.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # pragma: no cover - exercised by every SQLite test
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` with the Alembic migrations shipped in the package."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def open_database(url: str | None = None) -> tuple[Engine, sessionmaker]:
    """Engine (migrated to the latest schema) and session factory for ``url``."""
    engine = make_engine(url)
    migrate(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and logs)."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextlib.contextmanager
def scratch_postgres_database(server_url: str, prefix: str = "uw_scratch_") -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of ``server_url``, dropped on exit (connections
    forced closed): the URL of a throw-away database for a test or a benchmark run."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = prefix + uuid.uuid4().hex[:12]
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
