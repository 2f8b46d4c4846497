"""an incident merged into another is kept, pointing at the one that survives

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 17:00:00

``incidents.merged_into`` names the incident that a merged-away incident was merged into (by
hand, ``POST /v1/incidents/{id}/merge``, or by an import that found two reports of one event).
The merged-away incident is retracted as it is merged (so lists, the kept counts of 0009 and
0013 and the views leave it out, with no trigger changed) and kept as a tombstone: its id and
``external_ref`` keep answering, with a redirect to the survivor. The column is written only
by the merge, which checks that the survivor exists; it carries no foreign key, which SQLite
could add to the table only by rebuilding it (and its triggers). The partial index finds an
incident's merged-away ones, and the tombstone a reference names.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MERGED = sa.text("merged_into IS NOT NULL")


def upgrade() -> None:
    op.add_column("incidents", sa.Column("merged_into", sa.String(length=36), nullable=True))
    op.create_index(
        "ix_incidents_merged_into", "incidents", ["merged_into"], sqlite_where=MERGED, postgresql_where=MERGED
    )


def downgrade() -> None:
    op.drop_index("ix_incidents_merged_into", table_name="incidents")
    op.drop_column("incidents", "merged_into")
