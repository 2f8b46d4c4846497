"""actors, sources, exercises and channels keep their answer as JSON text, as incidents do

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 06:00:00

Each of the four tables gets ``record_json``, kept as migration 0010 keeps the incidents' own:
NULL means stale, triggers set it to NULL whenever anything the answer shows changes,
whichever path writes, and every writing transaction of the app writes the stale answers
again before it commits (``app.kit.sqljson.keep_answers``); readers build an answer that is
stale, so a stale answer is never served. What each answer shows, and so what stales it:

- an actor: its own row, and the slug and name of the actor it is affiliated to;
- a source: its own row;
- an exercise: its own row, its participants (their slug and name) and the sources it cites
  (their title and url);
- a channel: its own row, its parties and host, the sources it cites, its status changes
  (added, changed or removed), the sources they cite, and the title, date, status and
  retraction of the incident that caused each. A channel's status on a given date is not
  kept: it is added to the kept answer as it is read.

As in 0010, a link added to a record (an exercise's participant, a channel's citation) is not
watched, as the app writes links with their record, which is new or gets a new version; a
status change added is watched, as it belongs to a channel written apart. The partial index
on ``channel_status_changes.caused_by_id`` finds the channels an incident's change stales.

The column starts NULL everywhere; ``demarche migrate`` fills it in after upgrading.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEPT = ("actors", "sources", "exercises", "channels")
STALE = sa.text("record_json IS NULL")
CAUSED = sa.text("caused_by_id IS NOT NULL")

CHANNEL_OF_CHANGE = "SELECT channel_id FROM channel_status_changes WHERE id = {row}.record_id"


def _by_link(resource: str) -> str:
    return f"SELECT {{row}}.record_id WHERE {{row}}.resource = '{resource}'"


# The tables of links, by the answers a row removed or changed (or with ``insert``, added)
# stales: (kept table, the ids of its records to stale, from the row ``{row}``).
LINKS: dict[str, tuple[bool, list[tuple[str, str]]]] = {
    "involvements": (False, [("exercises", _by_link("exercise")), ("channels", _by_link("channel"))]),
    "citations": (
        False,
        [
            ("exercises", _by_link("exercise")),
            ("channels", _by_link("channel")),
            ("channels", CHANNEL_OF_CHANGE + " AND {row}.resource = 'channel_status'"),
        ],
    ),
    "channel_status_changes": (True, [("channels", "SELECT {row}.channel_id")]),
}
# The columns of a row that other answers show, and those answers: (kept table, ids).
NAMED: dict[str, tuple[tuple[str, ...], list[tuple[str, str]]]] = {
    "actors": (
        ("slug", "name"),
        [
            ("actors", "SELECT id FROM actors WHERE affiliation_id = {row}.id"),
            ("exercises", "SELECT record_id FROM involvements WHERE actor_id = {row}.id AND resource = 'exercise'"),
            ("channels", "SELECT record_id FROM involvements WHERE actor_id = {row}.id AND resource = 'channel'"),
        ],
    ),
    "sources": (
        ("title", "url"),
        [
            ("exercises", "SELECT record_id FROM citations WHERE source_id = {row}.id AND resource = 'exercise'"),
            ("channels", "SELECT record_id FROM citations WHERE source_id = {row}.id AND resource = 'channel'"),
            (
                "channels",
                "SELECT s.channel_id FROM citations c JOIN channel_status_changes s ON s.id = c.record_id "
                "WHERE c.source_id = {row}.id AND c.resource = 'channel_status'",
            ),
        ],
    ),
    "incidents": (
        ("title", "occurred_on", "status", "retracted_at"),
        [("channels", "SELECT channel_id FROM channel_status_changes WHERE caused_by_id = {row}.id")],
    ),
}

PLANNED_ONCE = "SET plan_cache_mode = auto"
"""As in 0010: trigger functions keep the plan PostgreSQL makes once for their statements."""


def _stale(answers: list[tuple[str, str]], row: str) -> str:
    return "".join(
        f"UPDATE {kept} SET record_json = NULL WHERE id IN ({ids.format(row=row)}) AND record_json IS NOT NULL; "
        for kept, ids in answers
    )


def _own(kept: str, sqlite: bool) -> None:
    # an update that leaves record_json as it was changed something else: the answer is stale
    if sqlite:
        op.execute(
            f"CREATE TRIGGER {kept}_answer_own AFTER UPDATE ON {kept} "
            "WHEN new.record_json IS old.record_json AND old.record_json IS NOT NULL "
            f"BEGIN UPDATE {kept} SET record_json = NULL WHERE id = new.id; END"
        )
        return
    op.execute(
        f"CREATE FUNCTION {kept}_answer_own() RETURNS trigger LANGUAGE plpgsql {PLANNED_ONCE} AS $$ "
        "BEGIN NEW.record_json := NULL; RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {kept}_answer_own BEFORE UPDATE ON {kept} FOR EACH ROW "
        "WHEN (old.record_json IS NOT NULL AND new.record_json IS NOT DISTINCT FROM old.record_json) "
        f"EXECUTE FUNCTION {kept}_answer_own()"
    )


def _links(table: str, inserted: bool, answers: list[tuple[str, str]], sqlite: bool) -> None:
    if sqlite:
        events = {"delete": ("old",), "update": ("old", "new")} | ({"insert": ("new",)} if inserted else {})
        for event, rows in events.items():
            body = "".join(_stale(answers, row) for row in rows)
            op.execute(f"CREATE TRIGGER {table}_answers_{event} AFTER {event.upper()} ON {table} BEGIN {body}END")
        return
    body = f"IF TG_OP <> 'DELETE' THEN {_stale(answers, 'NEW')}END IF; "
    body += f"IF TG_OP <> 'INSERT' THEN {_stale(answers, 'OLD')}END IF; "
    op.execute(
        f"CREATE FUNCTION {table}_answers() RETURNS trigger LANGUAGE plpgsql {PLANNED_ONCE} "
        f"AS $$ BEGIN {body}RETURN NULL; END $$"
    )
    events = "INSERT OR UPDATE OR DELETE" if inserted else "UPDATE OR DELETE"
    op.execute(
        f"CREATE TRIGGER {table}_answers AFTER {events} ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_answers()"
    )


def _named(table: str, columns: tuple[str, ...], answers: list[tuple[str, str]], sqlite: bool) -> None:
    of = ", ".join(columns)
    if sqlite:
        op.execute(
            f"CREATE TRIGGER {table}_answers_named AFTER UPDATE OF {of} ON {table} BEGIN {_stale(answers, 'new')}END"
        )
        return
    changed = " OR ".join(f"old.{c} IS DISTINCT FROM new.{c}" for c in columns)
    op.execute(
        f"CREATE FUNCTION {table}_answers_named() RETURNS trigger LANGUAGE plpgsql {PLANNED_ONCE} AS $$ "
        f"BEGIN {_stale(answers, 'NEW')}RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_answers_named AFTER UPDATE OF {of} ON {table} FOR EACH ROW "
        f"WHEN ({changed}) EXECUTE FUNCTION {table}_answers_named()"
    )


def _triggers(sqlite: bool) -> list[tuple[str, str]]:
    """Every trigger this migration makes, as (name, table)."""
    names = [(f"{kept}_answer_own", kept) for kept in KEPT]
    for table, (inserted, _answers) in LINKS.items():
        events = ("delete", "update", *(("insert",) if inserted else ())) if sqlite else (None,)
        names += [(f"{table}_answers_{event}" if event else f"{table}_answers", table) for event in events]
    return names + [(f"{table}_answers_named", table) for table in NAMED]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for kept in KEPT:
        op.add_column(kept, sa.Column("record_json", sa.Text(), nullable=True))
        op.create_index(f"ix_{kept}_stale", kept, ["id"], sqlite_where=STALE, postgresql_where=STALE)
        _own(kept, sqlite)
    op.create_index(
        "ix_channel_status_changes_caused_by",
        "channel_status_changes",
        ["caused_by_id"],
        sqlite_where=CAUSED,
        postgresql_where=CAUSED,
    )
    for table, (inserted, answers) in LINKS.items():
        _links(table, inserted, answers, sqlite)
    for table, (columns, answers) in NAMED.items():
        _named(table, columns, answers, sqlite)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, table in _triggers(sqlite):
        op.execute(f"DROP TRIGGER {name}" + ("" if sqlite else f" ON {table}"))
        if not sqlite:
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_index("ix_channel_status_changes_caused_by", table_name="channel_status_changes")
    for kept in KEPT:
        op.drop_index(f"ix_{kept}_stale", table_name=kept)
        op.drop_column(kept, "record_json")
