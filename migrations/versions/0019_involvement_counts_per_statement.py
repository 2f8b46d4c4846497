"""the counts per actor and per pair follow each statement of involvements on PostgreSQL

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 23:00:00

The counts of incidents per actor and per pair of actors (0013) were kept on PostgreSQL by a
trigger on each involvement row, before it was written or deleted: two upserts a row, which
made the involvements a quarter of an import's time in the database (1.5 s of 5.6 s for the
6,364 involvements of a GDELT import at a million incidents). They are now kept after each
statement, over its transition table, as the incidents' own counts are: an import of 3,000
incidents of four actors each, through the API, takes 3.5–4.5 s instead of 5.5–7.2 s.

After the statement the table holds all of its rows, or none of them, so the pairs it adds
or removes are counted from both sides without counting twice:

- written (``new_links``): pairs of a new initiator and any target, plus pairs of any
  initiator and a new target, less the pairs of a new initiator and a new target, which
  both sides counted;
- deleted (``old_links``): pairs of a deleted initiator and a remaining or deleted target,
  plus pairs of a remaining initiator and a deleted target.

A row skipped by ``ON CONFLICT DO NOTHING`` is not in the transition table, and is not
counted. The functions run their statements through ``EXECUTE``, planned for each statement:
a plan kept from an import's thousands of rows could scan every involvement for the single
row of a later PATCH in the session. SQLite's triggers are per row, unchanged.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _migration(name: str) -> ModuleType:
    """The module of an earlier migration of this folder, whose statements are reused."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


COUNTS = _migration("0013_actor_and_pair_counts")
"""Migration 0013, whose statements add to and take from the counts, and whose row triggers
the downgrade writes again."""
MONTH = COUNTS.MONTH["postgresql"].format("incidents")
LINK = COUNTS.LINK
EVENTS = {
    "involvement_counts_insert": ("INSERT", "NEW", "new_links"),
    "involvement_counts_delete": ("DELETE", "OLD", "old_links"),
}


def _rows(links: str) -> dict[str, str]:
    """The actor and pair rows (a key and a signed ``n``) of the links in the transition
    table ``links``, as the involvements stand after the statement.

    Each link finds its incident and the other role's involvements by key, in a ``LATERAL``
    subquery that ``OFFSET 0`` keeps from being flattened: the transition table has no
    statistics, and a freshly written table has stale ones, and the joins the planner chose
    on them scanned the involvements once per link. The pairs of two links of the statement
    are made within each incident, from its links grouped, not by joining the table to itself.
    """

    def incident(alias: str) -> str:
        return (
            f"CROSS JOIN LATERAL (SELECT status, kind, {MONTH} AS month FROM incidents "
            f"WHERE id = {alias}.record_id AND retracted_at IS NULL OFFSET 0) x"
        )

    def others(alias: str, role: str) -> str:
        return (
            "CROSS JOIN LATERAL (SELECT actor_id FROM involvements "
            f"WHERE {LINK} AND record_id = {alias}.record_id AND role = '{role}' OFFSET 0) o"
        )

    kept = "x.status AS status, x.month AS month, x.kind AS kind"
    both = -1 if links == "new_links" else 1  # a written pair of two new links was counted from each
    grouped = (
        "SELECT record_id, array_agg(actor_id) FILTER (WHERE role = 'initiator') AS initiators, "
        f"array_agg(actor_id) FILTER (WHERE role = 'target') AS targets FROM {links} WHERE {LINK} GROUP BY record_id"
    )
    paired = [
        f"SELECT n.actor_id AS initiator_id, o.actor_id AS target_id, {kept}, 1 AS n FROM {links} n "
        f"{incident('n')} {others('n', 'target')} WHERE n.{LINK} AND n.role = 'initiator'",
        f"SELECT o.actor_id AS initiator_id, n.actor_id AS target_id, {kept}, 1 AS n FROM {links} n "
        f"{incident('n')} {others('n', 'initiator')} WHERE n.{LINK} AND n.role = 'target'",
        f"SELECT i.actor_id AS initiator_id, t.actor_id AS target_id, {kept}, {both} AS n FROM ({grouped}) g "
        f"{incident('g')} CROSS JOIN unnest(g.initiators) AS i (actor_id) CROSS JOIN unnest(g.targets) AS t (actor_id)",
    ]
    return {
        "actor_incident_counts": (
            f"SELECT v.role AS role, v.actor_id AS actor_id, {kept}, 1 AS n FROM {links} v {incident('v')} "
            f"WHERE v.{LINK}"
        ),
        "incident_pair_counts": " UNION ALL ".join(paired),
    }


def _quoted(statement: str) -> str:
    return "'" + statement.replace("'", "''") + "'"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (event, side, links) in EVENTS.items():
        counted = COUNTS.upsert if side == "NEW" else COUNTS.subtract
        body = " ".join(f"EXECUTE {_quoted(counted(t, rows))};" for t, rows in _rows(links).items())
        op.execute(f"DROP TRIGGER {name} ON involvements")
        op.execute(f"DROP FUNCTION {name}()")
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$")
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON involvements REFERENCING {side} TABLE AS {links} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )


def downgrade() -> None:
    """The row triggers of 0013, with the plans kept as 0018 has them."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (event, _, _) in EVENTS.items():
        row = "new" if event == "INSERT" else "old"
        body = (COUNTS.add if row == "new" else COUNTS.remove)(COUNTS.of_link(row, COUNTS.MONTH["postgresql"]))
        op.execute(f"DROP TRIGGER {name} ON involvements")
        op.execute(f"DROP FUNCTION {name}()")
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET plan_cache_mode = auto "
            f"AS $$ BEGIN {body} RETURN {row}; END $$"
        )
        op.execute(f"CREATE TRIGGER {name} BEFORE {event} ON involvements FOR EACH ROW EXECUTE FUNCTION {name}()")
