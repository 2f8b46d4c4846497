"""incidents keep their answer as JSON text, made stale by triggers

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:00:00

``incidents.record_json`` holds the incident's answer as the API writes it, so that exports
and pages read it instead of building it from five tables. NULL means stale: triggers set it
to NULL whenever anything the answer shows changes, whichever path writes (but see links
added, below) — the incident
itself, its actors, answers and citations, the name or slug of an actor it names, the title
or url of a source it cites, the title or date of an incident it answers. Every writing
transaction of the app fills in the stale answers before it commits
(``app.incidents.service.refill``), and readers fall back to building an answer that is
stale, so a stale answer is never served. The partial index finds the stale ones.

A link added to an incident is not watched: the app writes links with their incident, which
is new (stale from the start) or gets a new version, and a trigger on every link inserted
would cost bulk imports more than the answers save them. Links removed or changed are
watched.

On PostgreSQL the trigger functions, these and those of 0009, plan their statements once.

The column starts NULL everywhere; ``demarche migrate`` fills it in after upgrading (a
migration cannot build answers with code that may need a later schema).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STALE = sa.text("record_json IS NULL")

# The link tables, by the column that names a row's incident: a row removed or changed stales
# the answer of the incident it belonged to (or now belongs to).
LINKS = {
    "involvements": "record_id",
    "citations": "record_id",
    "incident_responses": "incident_id",
}
# A change of these columns of a row stales the answers that show it: the incidents the query
# finds ({row} is the changed row).
NAMED = {
    "actors": (
        ("slug", "name"),
        "SELECT record_id FROM involvements WHERE actor_id = {row}.id AND resource = 'incident'",
    ),
    "sources": (
        ("title", "url"),
        "SELECT record_id FROM citations WHERE source_id = {row}.id AND resource = 'incident'",
    ),
    "incidents": (("title", "occurred_on"), "SELECT incident_id FROM incident_responses WHERE responds_to_id = {row}.id"),
}


def _stale(ids: str) -> str:
    return f"UPDATE incidents SET record_json = NULL WHERE id IN ({ids}) AND record_json IS NOT NULL;"


def _own(table: str, row: str) -> tuple[str, str]:
    """The condition and the id of the incident a link row belongs to."""
    if table == "incident_responses":
        return "true", f"{row}.incident_id"
    return f"{row}.resource = 'incident'", f"{row}.record_id"


def _sqlite_triggers() -> None:
    # an update that leaves record_json as it was changed something else: the answer is stale
    op.execute(
        "CREATE TRIGGER incident_records_own AFTER UPDATE ON incidents "
        "WHEN new.record_json IS old.record_json AND old.record_json IS NOT NULL "
        f"BEGIN {_stale('new.id')} END"
    )
    for table in LINKS:
        for event, rows in (("delete", ("old",)), ("update", ("old", "new"))):
            body = ""
            for row in rows:
                condition, record_id = _own(table, row)
                body += _stale(f"SELECT {record_id} WHERE {condition}")
            op.execute(f"CREATE TRIGGER {table}_stale_{event} AFTER {event.upper()} ON {table} BEGIN {body} END")
    for table, (columns, ids) in NAMED.items():
        op.execute(
            f"CREATE TRIGGER {table}_named_stale AFTER UPDATE OF {', '.join(columns)} ON {table} "
            f"BEGIN {_stale(ids.format(row='new'))} END"
        )


PLANNED_ONCE = "SET plan_cache_mode = auto"
"""Trigger functions run the same statements for every row: they keep the plan PostgreSQL
makes once, whatever the session's ``plan_cache_mode`` (the app forces custom plans, which
would plan each statement again for every row written)."""
COUNTS = ("incident_counts_insert", "incident_counts_update", "incident_counts_delete")  # migration 0009


def _postgresql_triggers() -> None:
    op.execute(
        f"CREATE FUNCTION incident_records_own() RETURNS trigger LANGUAGE plpgsql {PLANNED_ONCE} AS $$ "
        "BEGIN NEW.record_json := NULL; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER incident_records_own BEFORE UPDATE ON incidents FOR EACH ROW "
        "WHEN (old.record_json IS NOT NULL AND new.record_json IS NOT DISTINCT FROM old.record_json) "
        "EXECUTE FUNCTION incident_records_own()"
    )
    for table in LINKS:
        body = ""
        for row, events in (("NEW", "('UPDATE')"), ("OLD", "('DELETE', 'UPDATE')")):
            condition, record_id = _own(table, row)
            body += f"IF TG_OP IN {events} AND {condition} THEN {_stale(record_id)} END IF; "
        op.execute(
            f"CREATE FUNCTION {table}_stale() RETURNS trigger LANGUAGE plpgsql {PLANNED_ONCE} "
            f"AS $$ BEGIN {body}RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_stale AFTER UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_stale()"
        )
    for table, (columns, ids) in NAMED.items():
        changed = " OR ".join(f"old.{c} IS DISTINCT FROM new.{c}" for c in columns)
        op.execute(
            f"CREATE FUNCTION {table}_named_stale() RETURNS trigger LANGUAGE plpgsql {PLANNED_ONCE} AS $$ "
            f"BEGIN {_stale(ids.format(row='NEW'))} RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_named_stale AFTER UPDATE OF {', '.join(columns)} ON {table} FOR EACH ROW "
            f"WHEN ({changed}) EXECUTE FUNCTION {table}_named_stale()"
        )
    for function in COUNTS:
        op.execute(f"ALTER FUNCTION {function}() {PLANNED_ONCE}")


def _triggers() -> list[tuple[str, str]]:
    """Every trigger this migration makes, as (name, table)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    events = ("delete", "update") if sqlite else (None,)
    names = [("incident_records_own", "incidents")]
    names += [(f"{t}_stale_{e}" if e else f"{t}_stale", t) for t in LINKS for e in events]
    return names + [(f"{t}_named_stale", t) for t in NAMED]


def upgrade() -> None:
    op.add_column("incidents", sa.Column("record_json", sa.Text(), nullable=True))
    op.create_index("ix_incidents_stale", "incidents", ["id"], sqlite_where=STALE, postgresql_where=STALE)
    (_sqlite_triggers if op.get_bind().dialect.name == "sqlite" else _postgresql_triggers)()


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for function in () if sqlite else COUNTS:
        op.execute(f"ALTER FUNCTION {function}() RESET plan_cache_mode")
    for name, table in _triggers():
        op.execute(f"DROP TRIGGER {name}" + ("" if sqlite else f" ON {table}"))
        if not sqlite:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_incidents_stale", table_name="incidents")
    op.drop_column("incidents", "record_json")
