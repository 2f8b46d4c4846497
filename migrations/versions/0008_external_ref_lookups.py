"""indexes of the records that have an external_ref

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 15:00:00

Imports and references look records up by ``external_ref``. The unique constraint's own index
does not serve those lookups on SQLite once ANALYZE has seen a table where most records have
no ``external_ref``: it counts the NULLs as one value and the planner then scans the table.
A partial index of the records that have one is used whatever the statistics say.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("actors", "sources", "incidents", "exercises", "channels", "channel_status_changes")
PRESENT = sa.text("external_ref IS NOT NULL")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(
            f"ix_{table}_external_ref", table, ["external_ref"], sqlite_where=PRESENT, postgresql_where=PRESENT
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_external_ref", table_name=table)
