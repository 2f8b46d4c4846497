"""incident counts per actor and per pair of actors, kept by triggers

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 10:00:00

Counts by initiator or target, and a dyad's incidents by month, were counted from every
involvement at each request: seconds at a million incidents. Two tables keep them, as
``incident_counts`` (0009) keeps the counts per month:

- ``actor_incident_counts``: per (role, status, actor, first day of the month, kind), the
  live incidents in which the actor has the role;
- ``incident_pair_counts``: per (initiator, target, status, first day of the month, kind),
  the live incidents the first initiates against the second.

An actor's count holds an incident and one of its involvements, a pair's an incident and two
(an initiator's and a target's): each is counted when the last of its rows is written, and
uncounted when the first goes, whichever order a writer takes, and moves when the incident's
date, kind, status or retraction changes. Triggers keep them exact: per row on SQLite; on
PostgreSQL per statement for incidents (their transition tables) and per row, before the row
is written or deleted, for involvements. An involvement's key columns are never
updated (links are replaced: deleted and written anew), and an update of them is refused, so
that no count could drift. Neither table has a model, like ``incident_counts``.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR_KEY = "role, status, actor_id, month, kind"
PAIR_KEY = "initiator_id, target_id, status, month, kind"
TABLES = {
    "actor_incident_counts": (ACTOR_KEY, "role VARCHAR(20) NOT NULL, actor_id VARCHAR(36) NOT NULL"),
    "incident_pair_counts": (PAIR_KEY, "initiator_id VARCHAR(36) NOT NULL, target_id VARCHAR(36) NOT NULL"),
}
MONTH = {"sqlite": "date({}.occurred_on, 'start of month')", "postgresql": "date_trunc('month', {}.occurred_on)::date"}
LINK = "resource = 'incident'"
REFUSAL = "the resource, record, role and actor of an involvement are never updated: delete it and insert another"
TRIGGERS = {
    "incident_counts_by_link_insert": "incidents",
    "incident_counts_by_link_delete": "incidents",
    "incident_counts_by_link_update": "incidents",
    "involvement_counts_insert": "involvements",
    "involvement_counts_delete": "involvements",
    "involvement_keys_fixed": "involvements",
}
"""Each trigger, the same on both engines, and its table."""


def actor_rows(incident: str, link: str, month: str) -> str:
    """The key of an actor's count, and 1, for the incident ``incident`` and its involvement
    ``link`` (aliases the caller joins)."""
    return (
        f"{link}.role AS role, {incident}.status AS status, {link}.actor_id AS actor_id, "
        f"{month.format(incident)} AS month, {incident}.kind AS kind, 1 AS n"
    )


def pair_rows(incident: str, initiator: str, target: str, month: str) -> str:
    """The key of a pair's count, and 1, for the incident ``incident`` and the actor ids
    ``initiator`` and ``target`` (expressions)."""
    return (
        f"{initiator} AS initiator_id, {target} AS target_id, {incident}.status AS status, "
        f"{month.format(incident)} AS month, {incident}.kind AS kind, 1 AS n"
    )


def upsert(table: str, rows: str) -> str:
    """Add ``rows`` (a SELECT of a key and ``n``) to ``table``'s counts. (``WHERE true``: an
    upsert's SELECT needs a WHERE on SQLite, lest its ON CONFLICT be read as a join's ON.)"""
    key = TABLES[table][0]
    return (
        f"INSERT INTO {table} ({key}, n) SELECT {key}, sum(n) FROM ({rows}) AS added WHERE true "
        f"GROUP BY {key} ORDER BY {key} ON CONFLICT ({key}) DO UPDATE SET n = {table}.n + excluded.n;"
    )


def subtract(table: str, rows: str) -> str:
    """Take ``rows`` (a SELECT of a key and ``n``) from ``table``'s counts; decrements only
    update existing counts, so that none is ever created below zero."""
    key = TABLES[table][0]
    matched = " AND ".join(f"{table}.{k} = d.{k}" for k in key.split(", "))
    grouped = f"SELECT {key}, sum(n) AS n FROM ({rows}) AS gone GROUP BY {key}"
    return f"UPDATE {table} SET n = {table}.n - d.n FROM ({grouped}) AS d WHERE {matched};"


def add(rows: tuple[str, str]) -> str:
    """Add ``rows`` (the actor rows, the pair rows) to both tables."""
    return upsert("actor_incident_counts", rows[0]) + " " + upsert("incident_pair_counts", rows[1])


def remove(rows: tuple[str, str]) -> str:
    return subtract("actor_incident_counts", rows[0]) + " " + subtract("incident_pair_counts", rows[1])


def of_link(row: str, month: str) -> tuple[str, str]:
    """The actor and pair rows that the involvement ``row`` (``old`` or ``new``) takes part
    in: with its incident, and with each involvement of the other role in it (``o``), as
    the table holds them when the trigger runs."""
    mine = f"{row}.actor_id"
    initiator = f"CASE {row}.role WHEN 'initiator' THEN {mine} ELSE o.actor_id END"
    target = f"CASE {row}.role WHEN 'initiator' THEN o.actor_id ELSE {mine} END"
    live = f"x.id = {row}.record_id AND x.retracted_at IS NULL AND {row}.{LINK}"
    actor = f"SELECT {actor_rows('x', row, month)} FROM incidents x WHERE {live}"
    pair = (
        f"SELECT {pair_rows('x', initiator, target, month)} FROM incidents x JOIN involvements o "
        f"ON o.{LINK} AND o.record_id = x.id "
        f"AND o.role = CASE {row}.role WHEN 'initiator' THEN 'target' ELSE 'initiator' END "
        f"WHERE {live} AND {row}.role IN ('initiator', 'target')"
    )
    return actor, pair


def _sqlite_triggers() -> None:
    month = MONTH["sqlite"]

    def of_incident(row: str) -> tuple[str, str]:
        """The actor and pair rows of the incident ``row`` (``old`` or ``new``), from its links."""
        actor = (
            f"SELECT {actor_rows(row, 'v', month)} FROM involvements v "
            f"WHERE v.{LINK} AND v.record_id = {row}.id AND {row}.retracted_at IS NULL"
        )
        pair = (
            f"SELECT {pair_rows(row, 'i.actor_id', 't.actor_id', month)} FROM involvements i JOIN involvements t "
            f"ON t.{LINK} AND t.record_id = i.record_id AND t.role = 'target' "
            f"WHERE i.{LINK} AND i.record_id = {row}.id AND i.role = 'initiator' AND {row}.retracted_at IS NULL"
        )
        return actor, pair

    bodies = {
        "incident_counts_by_link_insert": f"AFTER INSERT ON incidents BEGIN {add(of_incident('new'))} END",
        "incident_counts_by_link_delete": f"AFTER DELETE ON incidents BEGIN {remove(of_incident('old'))} END",
        "incident_counts_by_link_update": "AFTER UPDATE OF occurred_on, kind, status, retracted_at ON incidents "
        f"BEGIN {remove(of_incident('old'))} {add(of_incident('new'))} END",
        "involvement_counts_insert": f"AFTER INSERT ON involvements BEGIN {add(of_link('new', month))} END",
        "involvement_counts_delete": f"AFTER DELETE ON involvements BEGIN {remove(of_link('old', month))} END",
        "involvement_keys_fixed": "BEFORE UPDATE OF resource, record_id, role, actor_id ON involvements "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
    }
    for name, body in bodies.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def _postgresql_triggers() -> None:
    month = MONTH["postgresql"]

    def of_incidents(rows: str) -> tuple[str, str]:
        """The actor and pair rows of the incidents in the transition table ``rows``."""
        actor = (
            f"SELECT {actor_rows('x', 'v', month)} FROM {rows} x JOIN involvements v "
            f"ON v.{LINK} AND v.record_id = x.id WHERE x.retracted_at IS NULL"
        )
        pair = (
            f"SELECT {pair_rows('x', 'i.actor_id', 't.actor_id', month)} FROM {rows} x "
            f"JOIN involvements i ON i.{LINK} AND i.record_id = x.id AND i.role = 'initiator' "
            f"JOIN involvements t ON t.{LINK} AND t.record_id = x.id AND t.role = 'target' "
            "WHERE x.retracted_at IS NULL"
        )
        return actor, pair

    bodies = {
        "incident_counts_by_link_insert": (
            "INSERT ON incidents",
            "NEW TABLE AS new_rows",
            add(of_incidents("new_rows")),
        ),
        "incident_counts_by_link_delete": (
            "DELETE ON incidents",
            "OLD TABLE AS old_rows",
            remove(of_incidents("old_rows")),
        ),
        "incident_counts_by_link_update": (
            "UPDATE ON incidents",
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            remove(of_incidents("old_rows")) + " " + add(of_incidents("new_rows")),
        ),
    }
    for name, (event, referencing, body) in bodies.items():
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$")
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    # An involvement's counts go per row, before the row is written or deleted: its trigger
    # then sees the rows the same statement wrote or deleted before it, and not those after,
    # so that a pair of two involvements of one statement counts once, as on SQLite. (After
    # the statement, as the incidents' triggers run, both would be seen from each side.)
    for name, (event, row) in {
        "involvement_counts_insert": ("INSERT", "new"),
        "involvement_counts_delete": ("DELETE", "old"),
    }.items():
        body = (add if row == "new" else remove)(of_link(row, month))
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN {row}; END $$"
        )
        op.execute(f"CREATE TRIGGER {name} BEFORE {event} ON involvements FOR EACH ROW EXECUTE FUNCTION {name}()")
    op.execute(
        "CREATE FUNCTION involvement_keys_fixed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER involvement_keys_fixed BEFORE UPDATE OF resource, record_id, role, actor_id "
        "ON involvements FOR EACH ROW EXECUTE FUNCTION involvement_keys_fixed()"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    month = MONTH[dialect]
    for table, (key, ids) in TABLES.items():
        op.execute(
            f"CREATE TABLE {table} ({ids}, status VARCHAR(20) NOT NULL, month DATE NOT NULL, "
            f"kind VARCHAR(40) NOT NULL, n BIGINT NOT NULL, CONSTRAINT pk_{table} PRIMARY KEY ({key}))"
            + (" WITHOUT ROWID" if dialect == "sqlite" else "")
        )
    every_link = f"involvements v JOIN incidents x ON x.id = v.record_id WHERE v.{LINK} AND x.retracted_at IS NULL"
    op.execute(_counted("actor_incident_counts", actor_rows("x", "v", month), every_link))
    every_pair = (
        f"involvements i JOIN involvements t ON t.{LINK} AND t.record_id = i.record_id AND t.role = 'target' "
        f"JOIN incidents x ON x.id = i.record_id WHERE i.{LINK} AND i.role = 'initiator' AND x.retracted_at IS NULL"
    )
    op.execute(_counted("incident_pair_counts", pair_rows("x", "i.actor_id", "t.actor_id", month), every_pair))
    (_sqlite_triggers if dialect == "sqlite" else _postgresql_triggers)()


def _counted(table: str, rows: str, source: str) -> str:
    """Fill ``table`` with ``rows`` (a key and ``n``) over ``source`` (``FROM … WHERE …``)."""
    key = TABLES[table][0]
    return f"INSERT INTO {table} ({key}, n) SELECT {key}, sum(n) FROM (SELECT {rows} FROM {source}) AS r GROUP BY {key}"


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, table in TRIGGERS.items():
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER {name}")
        else:
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
    for table in TABLES:
        op.execute(f"DROP TABLE {table}")
