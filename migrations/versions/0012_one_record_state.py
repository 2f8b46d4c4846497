"""a record's status and its retraction agree

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 08:00:00

Incidents and exercises keep their state twice: ``status`` (draft, published, retracted)
and ``retracted_at``. Reads, lists and the change feed went by ``retracted_at``; an import
over a retracted record wrote ``status`` back to ``published`` and left ``retracted_at``
set, so the record answered 404 while it was stored as published. The writers now set both
together (``app.kit.states.state_values``); the rows written before are brought in line
here, the way their readers saw them: a row with ``retracted_at`` is retracted, and a row
marked retracted without it is retracted since its last update. An incident's kept answer
(``record_json``) goes stale with the update, and ``demarche migrate`` writes it again.

The downgrade leaves the rows as they are: the contradiction they held is not a state to
go back to.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("incidents", "exercises")


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"UPDATE {table} SET status = 'retracted' WHERE retracted_at IS NOT NULL AND status <> 'retracted'")
        op.execute(f"UPDATE {table} SET retracted_at = updated_at WHERE retracted_at IS NULL AND status = 'retracted'")


def downgrade() -> None:
    pass
