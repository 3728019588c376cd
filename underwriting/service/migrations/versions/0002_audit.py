"""Audit: Ed25519 signatures on ledger entries and stored idempotent replies; the ledger entry of each API key.

Revision ID: 0002_audit
Revises: 0001
Create Date: 2026-12-07

Entries and replies stored before this revision stay unsigned; ``underwriting ledger verify`` names
them as such (see ``docs/service.md``, "What an attacker with database access can and cannot do").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_audit"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger") as b:
        b.add_column(sa.Column("key_id", sa.String(16), nullable=True))
        b.add_column(sa.Column("signature", sa.String(100), nullable=True))
    with op.batch_alter_table("idempotency") as b:
        b.add_column(sa.Column("key_sig", sa.String(16), nullable=True))
        b.add_column(sa.Column("signature", sa.String(100), nullable=True))
    with op.batch_alter_table("api_keys") as b:
        b.add_column(sa.Column("ledger_seq", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as b:
        b.drop_column("ledger_seq")
    with op.batch_alter_table("idempotency") as b:
        b.drop_column("signature")
        b.drop_column("key_sig")
    with op.batch_alter_table("ledger") as b:
        b.drop_column("signature")
        b.drop_column("key_id")
