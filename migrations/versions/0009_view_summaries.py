"""incident counts per month kept by triggers; exercise dates in involvements; an index of
exercise spans

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 16:00:00

Stats read ``incident_counts``: live incidents counted per (first day of the month, kind,
status). Triggers on ``incidents`` keep it exact under every insert, update and delete,
whichever path writes (the API, imports, the benchmark's generator): per row on SQLite, per
statement on PostgreSQL (its transition tables give one grouped change per statement).
Decrements only update existing counts, so a count is never created below zero. Neither the
table nor the span index has a model: they are the engines' own, like the full-text index.

An exercise's involvements carry its ``start_date`` (as an incident's carry its
``occurred_on``), so that an actor's exercises are walked by date from the index. The span
index (days from start to end) gives the longest exercise at once, which bounds the start
dates of the exercises active on a day.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "month, kind, status"
SQLITE_MONTH = "date({}.occurred_on, 'start of month')"
POSTGRESQL_MONTH = "date_trunc('month', {}.occurred_on)::date"
SQLITE_SPAN = "julianday(coalesce(end_date, start_date)) - julianday(start_date)"
POSTGRESQL_SPAN = "(coalesce(end_date, start_date) - start_date)"


def _sqlite_triggers() -> None:
    def add(row: str) -> str:
        return (
            f"INSERT INTO incident_counts ({KEY}, n) "
            f"SELECT {SQLITE_MONTH.format(row)}, {row}.kind, {row}.status, 1 WHERE {row}.retracted_at IS NULL "
            f"ON CONFLICT ({KEY}) DO UPDATE SET n = n + 1;"
        )

    def remove(row: str) -> str:
        return (
            f"UPDATE incident_counts SET n = n - 1 WHERE {row}.retracted_at IS NULL "
            f"AND month = {SQLITE_MONTH.format(row)} AND kind = {row}.kind AND status = {row}.status;"
        )

    op.execute(f"CREATE TRIGGER incident_counts_insert AFTER INSERT ON incidents BEGIN {add('new')} END")
    op.execute(f"CREATE TRIGGER incident_counts_delete AFTER DELETE ON incidents BEGIN {remove('old')} END")
    op.execute(
        "CREATE TRIGGER incident_counts_update AFTER UPDATE OF occurred_on, kind, status, retracted_at ON incidents "
        f"BEGIN {remove('old')} {add('new')} END"
    )


def _postgresql_triggers() -> None:
    def grouped(rows: str, sign: str = "") -> str:
        return (
            f"SELECT {POSTGRESQL_MONTH.format(rows)} AS month, kind, status, {sign}count(*) AS n "
            f"FROM {rows} WHERE retracted_at IS NULL GROUP BY 1, 2, 3"
        )

    def add(counts: str) -> str:
        return (
            f"INSERT INTO incident_counts AS c ({KEY}, n) SELECT {KEY}, n FROM {counts} AS added WHERE n > 0 "
            f"ORDER BY {KEY} ON CONFLICT ({KEY}) DO UPDATE SET n = c.n + excluded.n;"
        )

    def remove(counts: str) -> str:
        return (
            f"UPDATE incident_counts AS c SET n = c.n + d.n FROM {counts} AS d WHERE d.n < 0 "
            "AND c.month = d.month AND c.kind = d.kind AND c.status = d.status;"
        )

    changes = f"({grouped('new_rows')} UNION ALL {grouped('old_rows', '-')})"
    delta = f"(SELECT {KEY}, sum(n) AS n FROM {changes} AS changes GROUP BY {KEY})"
    bodies = {
        "insert": ("NEW TABLE AS new_rows", add(f"({grouped('new_rows')})")),
        "update": ("OLD TABLE AS old_rows NEW TABLE AS new_rows", remove(delta) + " " + add(delta)),
        "delete": ("OLD TABLE AS old_rows", remove(f"({grouped('old_rows', '-')})")),
    }
    for op_name, (referencing, body) in bodies.items():
        op.execute(
            f"CREATE FUNCTION incident_counts_{op_name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {body} RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER incident_counts_{op_name} AFTER {op_name.upper()} ON incidents "
            f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION incident_counts_{op_name}()"
        )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(
        "CREATE TABLE incident_counts (month DATE NOT NULL, kind VARCHAR(40) NOT NULL, "
        "status VARCHAR(20) NOT NULL, n BIGINT NOT NULL, "
        f"CONSTRAINT pk_incident_counts PRIMARY KEY ({KEY}))" + (" WITHOUT ROWID" if sqlite else "")
    )
    month = (SQLITE_MONTH if sqlite else POSTGRESQL_MONTH).format("incidents")
    op.execute(
        f"INSERT INTO incident_counts ({KEY}, n) SELECT {month}, kind, status, count(*) FROM incidents "
        "WHERE retracted_at IS NULL GROUP BY 1, 2, 3"
    )
    (_sqlite_triggers if sqlite else _postgresql_triggers)()
    op.execute(
        "UPDATE involvements SET occurred_on = exercises.start_date FROM exercises "
        "WHERE involvements.resource = 'exercise' AND exercises.id = involvements.record_id"
    )
    op.execute(f"CREATE INDEX ix_exercises_span ON exercises ({SQLITE_SPAN if sqlite else POSTGRESQL_SPAN})")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("DROP INDEX ix_exercises_span")
    op.execute("UPDATE involvements SET occurred_on = NULL WHERE resource = 'exercise'")
    for op_name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER incident_counts_{op_name}" + ("" if sqlite else " ON incidents"))
        if not sqlite:
            op.execute(f"DROP FUNCTION incident_counts_{op_name}()")
    op.execute("DROP TABLE incident_counts")
