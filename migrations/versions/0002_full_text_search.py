"""full-text search: FTS5 tables on SQLite, tsvector columns with GIN indexes on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 11:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHABLE = {
    "incidents": ("title", "summary"),
    "exercises": ("name", "aliases", "summary"),
    "sources": ("title", "publisher", "authors"),
}


def _sqlite_upgrade(table: str, columns: tuple[str, ...]) -> None:
    fts = f"{table}_fts"
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', content_rowid='rowid')")
    op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
               f"INSERT INTO {fts}(rowid, {names}) VALUES (new.rowid, {new}); END")
    op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
               f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.rowid, {old}); END")
    op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {names} ON {table} BEGIN "
               f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.rowid, {old}); "
               f"INSERT INTO {fts}(rowid, {names}) VALUES (new.rowid, {new}); END")
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _postgresql_upgrade(table: str, columns: tuple[str, ...]) -> None:
    text = " || ' ' || ".join(f"coalesce({c}::text, '')" for c in columns)
    op.execute(f"ALTER TABLE {table} ADD COLUMN search tsvector "
               f"GENERATED ALWAYS AS (to_tsvector('simple', {text})) STORED")
    op.execute(f"CREATE INDEX ix_{table}_search ON {table} USING gin (search)")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, columns in SEARCHABLE.items():
        (_sqlite_upgrade if sqlite else _postgresql_upgrade)(table, columns)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in SEARCHABLE:
        if sqlite:
            for trigger in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {table}_fts_{trigger}")
            op.execute(f"DROP TABLE {table}_fts")
        else:
            op.execute(f"DROP INDEX ix_{table}_search")
            op.execute(f"ALTER TABLE {table} DROP COLUMN search")
