"""incident dates carried in involvements, for walking an actor's incidents by date; the
(kind, date) index of live incidents covers their status, for stats counted by range

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 12:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = {"sqlite_where": sa.text("retracted_at IS NULL"), "postgresql_where": sa.text("retracted_at IS NULL")}
KIND_INDEX = ["kind", "occurred_on", "id"]


def upgrade() -> None:
    op.add_column("involvements", sa.Column("occurred_on", sa.Date(), nullable=True))
    op.execute(
        "UPDATE involvements SET occurred_on = incidents.occurred_on FROM incidents "
        "WHERE involvements.resource = 'incident' AND incidents.id = involvements.record_id"
    )
    op.drop_index("ix_involvements_actor", table_name="involvements")
    op.create_index(
        "ix_involvements_actor_occurred_on",
        "involvements",
        ["actor_id", "resource", "role", "occurred_on", "record_id"],
    )
    op.drop_index("ix_incidents_live_kind_occurred_on_id", table_name="incidents")
    op.create_index(
        "ix_incidents_live_kind_occurred_on_id_status", "incidents", [*KIND_INDEX, "status", "retracted_at"], **LIVE
    )


def downgrade() -> None:
    op.drop_index("ix_incidents_live_kind_occurred_on_id_status", table_name="incidents")
    op.create_index("ix_incidents_live_kind_occurred_on_id", "incidents", KIND_INDEX, **LIVE)
    op.drop_index("ix_involvements_actor_occurred_on", table_name="involvements")
    op.create_index("ix_involvements_actor", "involvements", ["actor_id", "resource", "role", "record_id"])
    with op.batch_alter_table("involvements") as batch:
        batch.drop_column("occurred_on")
