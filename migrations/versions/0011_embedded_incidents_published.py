"""an incident's kept answer shows only the published incidents it answers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 05:00:00

Kept answers (``incidents.record_json``, migration 0010) are served to every caller that may
read the incident, so ``responds_to`` leaves out drafts and retracted incidents. A change of
an answered incident's ``status`` or ``retracted_at`` now stales the answers that embed it,
as a change of its title or date did; the answers that embed such an incident today are
staled here, and ``demarche migrate`` writes them again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("title", "occurred_on")
AFTER = (*BEFORE, "status", "retracted_at")
ANSWERS = "SELECT incident_id FROM incident_responses WHERE responds_to_id = {row}.id"


def _watch(columns: Sequence[str]) -> None:
    stale = f"UPDATE incidents SET record_json = NULL WHERE id IN ({ANSWERS}) AND record_json IS NOT NULL;"
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER incidents_named_stale")
        op.execute(
            f"CREATE TRIGGER incidents_named_stale AFTER UPDATE OF {', '.join(columns)} ON incidents "
            f"BEGIN {stale.format(row='new')} END"
        )
        return
    changed = " OR ".join(f"old.{c} IS DISTINCT FROM new.{c}" for c in columns)
    op.execute("DROP TRIGGER incidents_named_stale ON incidents")
    op.execute(
        f"CREATE TRIGGER incidents_named_stale AFTER UPDATE OF {', '.join(columns)} ON incidents FOR EACH ROW "
        f"WHEN ({changed}) EXECUTE FUNCTION incidents_named_stale()"
    )


def _stale_answers_to_unpublished() -> None:
    op.execute(
        "UPDATE incidents SET record_json = NULL WHERE record_json IS NOT NULL AND id IN ("
        "SELECT r.incident_id FROM incident_responses r JOIN incidents answered ON answered.id = r.responds_to_id "
        "WHERE answered.status <> 'published' OR answered.retracted_at IS NOT NULL)"
    )


def upgrade() -> None:
    _watch(AFTER)
    _stale_answers_to_unpublished()


def downgrade() -> None:
    _watch(BEFORE)
    _stale_answers_to_unpublished()
