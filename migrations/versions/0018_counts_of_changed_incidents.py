"""the counts of incidents pass over updated rows that change nothing counted

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 13:00:00

On PostgreSQL the triggers that keep the counts of incidents per actor and per pair of actors
(0013) run once per statement, over its transition tables. An update took every incident it
wrote out of the counts and put it back, each with its involvements, even an incident whose
date, kind, status and retraction were as before: the kept answers written again before a
writing transaction commits (0010) are such an update, of thousands of rows after an import,
and the trigger took two thirds of its time. Its function now counts only the incidents whose
counted columns changed. The counts per month (0009) read
no other table: recounting every row costs less than finding the changed ones. On SQLite the
triggers are per row and fire only on updates of those columns (``UPDATE OF``): unchanged.

The changed incidents are found by grouping both transition tables' rows, not by joining
them: the statements of a statement trigger's function name no variable, and PostgreSQL
plans them once a session whatever ``plan_cache_mode`` says, for the rows of the first
statement they ran for; a join planned for one row ran over thousands as a nested loop (7 s
of a GDELT import's refill), where a grouping costs the same whatever its plan expected.

The row triggers' functions of 0013 also keep the plans PostgreSQL makes once, as 0010 made
its own do: their statements name the row, the app's connections force custom plans, and
the trigger of each involvement written planned its statements again for every row, three
quarters of the time an import of new incidents spent in the database.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED = ("occurred_on", "kind", "status", "retracted_at")
MONTH = "date_trunc('month', x.occurred_on)::date"
LINK = "resource = 'incident'"
KEYS = {
    "actor_incident_counts": "role, status, actor_id, month, kind",
    "incident_pair_counts": "initiator_id, target_id, status, month, kind",
}
SIGNS = {"old_rows": -1, "new_rows": 1}
ROW_FUNCTIONS = ("involvement_counts_insert", "involvement_counts_delete", "involvement_keys_fixed")
"""The functions of the row triggers of migration 0013."""
PLANNED_ONCE = "SET plan_cache_mode = auto"
"""As migration 0010 has it: a trigger function keeps the plan PostgreSQL makes once, whatever
the session's ``plan_cache_mode``."""


def _changed(side: str) -> str:
    """The rows of the transition table ``side`` (``old_rows`` or ``new_rows``) whose counted
    columns differ in the other: each version of an incident counts -1 (old) or 1 (new), and
    the two versions of an unchanged one, grouped on their id and counted columns, sum to 0."""
    columns = ", ".join(("id", *COUNTED))
    versions = f"SELECT {columns}, -1 AS v FROM old_rows UNION ALL SELECT {columns}, 1 AS v FROM new_rows"
    return f"(SELECT {columns} FROM ({versions}) AS versions GROUP BY {columns} HAVING sum(v) = {SIGNS[side]})"


def _link_counts(old: str, new: str) -> str:
    """The body of ``incident_counts_by_link_update`` (0013) over the rows ``old`` and ``new``."""

    def rows(incidents: str) -> dict[str, str]:
        return {
            "actor_incident_counts": (
                f"SELECT v.role AS role, x.status AS status, v.actor_id AS actor_id, {MONTH} AS month, "
                f"x.kind AS kind, 1 AS n FROM {incidents} x JOIN involvements v ON v.{LINK} AND v.record_id = x.id "
                "WHERE x.retracted_at IS NULL"
            ),
            "incident_pair_counts": (
                "SELECT i.actor_id AS initiator_id, t.actor_id AS target_id, x.status AS status, "
                f"{MONTH} AS month, x.kind AS kind, 1 AS n FROM {incidents} x "
                f"JOIN involvements i ON i.{LINK} AND i.record_id = x.id AND i.role = 'initiator' "
                f"JOIN involvements t ON t.{LINK} AND t.record_id = x.id AND t.role = 'target' "
                "WHERE x.retracted_at IS NULL"
            ),
        }

    body = ""
    for table, gone in rows(old).items():
        key = KEYS[table]
        matched = " AND ".join(f"{table}.{k} = d.{k}" for k in key.split(", "))
        grouped = f"SELECT {key}, sum(n) AS n FROM ({gone}) AS gone GROUP BY {key}"
        body += f"UPDATE {table} SET n = {table}.n - d.n FROM ({grouped}) AS d WHERE {matched}; "
    for table, added in rows(new).items():
        key = KEYS[table]
        body += (
            f"INSERT INTO {table} ({key}, n) SELECT {key}, sum(n) FROM ({added}) AS added WHERE true "
            f"GROUP BY {key} ORDER BY {key} ON CONFLICT ({key}) DO UPDATE SET n = {table}.n + excluded.n; "
        )
    return body


def _function(old: str, new: str) -> None:
    op.execute(
        "CREATE OR REPLACE FUNCTION incident_counts_by_link_update() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {_link_counts(old, new)}RETURN NULL; END $$"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _function(_changed("old_rows"), _changed("new_rows"))
        for function in ROW_FUNCTIONS:
            op.execute(f"ALTER FUNCTION {function}() {PLANNED_ONCE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _function("old_rows", "new_rows")
        for function in ROW_FUNCTIONS:
            op.execute(f"ALTER FUNCTION {function}() RESET plan_cache_mode")
