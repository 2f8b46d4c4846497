"""change feed and history

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 12:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_TABLES = {
    "actor": "actors",
    "source": "sources",
    "incident": "incidents",
    "exercise": "exercises",
    "channel": "channels",
}


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("resource", sa.String(length=20), nullable=False),
        sa.Column("op", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column(
            "snapshot", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_changes")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_changes_resource_record_id_seq", "changes", ["resource", "record_id", "seq"])
    # Records written before the feed existed enter it once, at their current version, with
    # their fields unknown: a follower starting from 0 still finds every one of them.
    for resource, table in RECORD_TABLES.items():
        op.execute(
            f"INSERT INTO changes (resource, record_id, op, version, at, snapshot) "
            f"SELECT '{resource}', id, CASE WHEN retracted_at IS NULL THEN 'create' ELSE 'delete' END, "
            f"version, updated_at, '{{}}' FROM {table} ORDER BY created_at, id"
        )


def downgrade() -> None:
    op.drop_index("ix_changes_resource_record_id_seq", table_name="changes")
    op.drop_table("changes")
