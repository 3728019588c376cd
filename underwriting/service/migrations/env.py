"""Alembic environment of the service database: runs the migrations on the connection given by
:func:`underwriting.service.db.migrate` (or on ``sqlalchemy.url`` when run by the ``alembic`` tool)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from underwriting.service.db import Base

target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # pragma: no cover - the alembic command line with a URL in alembic.ini
    with create_engine(context.config.get_main_option("sqlalchemy.url")).connect() as conn:
        _run(conn)
