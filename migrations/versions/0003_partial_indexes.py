"""live-incident indexes as partial indexes; status changes by date

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 11:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = {"sqlite_where": sa.text("retracted_at IS NULL"), "postgresql_where": sa.text("retracted_at IS NULL")}
INCIDENT_INDEXES = {
    "occurred_on_id": ["occurred_on", "id"],
    "kind_occurred_on_id": ["kind", "occurred_on", "id"],
    "created_at_id": ["created_at", "id"],
    "updated_at_id": ["updated_at", "id"],
}


def upgrade() -> None:
    for name, columns in INCIDENT_INDEXES.items():
        op.drop_index(f"ix_incidents_{name}", table_name="incidents")
        op.create_index(f"ix_incidents_live_{name}", "incidents", columns, **LIVE)
    op.create_index("ix_channel_status_changes_effective_on_id", "channel_status_changes", ["effective_on", "id"])


def downgrade() -> None:
    op.drop_index("ix_channel_status_changes_effective_on_id", table_name="channel_status_changes")
    for name, columns in INCIDENT_INDEXES.items():
        op.drop_index(f"ix_incidents_live_{name}", table_name="incidents")
        op.create_index(f"ix_incidents_{name}", "incidents", columns)
