"""citations keep their provenance; sources without a url; incidents' announced and effective dates

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 17:00:00

- ``citations.provenance`` (JSON, nullable): what the system an incident was taken from says
  of it (the event's id there and its numbers), kept with the citation of the source that
  reported it;
- ``sources.url`` may be NULL: a source is a URL, or a publisher with an ``external_ref``
  (ICEWS stories have a publisher and a story id, no URL); the unique constraint stays (NULLs
  do not collide). On SQLite the column's NOT NULL is taken off in the stored schema itself
  (``PRAGMA writable_schema``, as SQLite documents for removing a NOT NULL constraint, which
  does not change what is on disk): rebuilding the table would drop its search and staleness
  triggers and renumber the rows its full-text index names;
- ``incidents.announced_on`` and ``incidents.effective_on`` (dates, nullable);
- every incident's kept answer is made stale: answers now show the two dates and each cited
  source's ``provenance``; ``demarche migrate`` writes them again after upgrading.

A date precision of ``week`` needs no change of schema (the column is text).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_NULL_URL = "url VARCHAR(2000) NOT NULL,"
NULLABLE_URL = "url VARCHAR(2000),"


def _sqlite_url(old: str, new: str) -> None:
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = replace(sql, :old, :new) WHERE type = 'table' AND name = 'sources'"),
        {"old": old, "new": new},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    written = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sources'").scalar()
    if new not in written:
        raise RuntimeError(f"sources.url could not be changed to {new!r}: the table reads {written!r}.")


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.add_column("citations", sa.Column("provenance", json_type, nullable=True))
    op.add_column("incidents", sa.Column("announced_on", sa.Date(), nullable=True))
    op.add_column("incidents", sa.Column("effective_on", sa.Date(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_url(NOT_NULL_URL, NULLABLE_URL)
    else:
        op.alter_column("sources", "url", existing_type=sa.String(2000), nullable=True)
    op.execute("UPDATE incidents SET record_json = NULL WHERE record_json IS NOT NULL")


def downgrade() -> None:
    # a source known by its publisher and external_ref alone gets an address that names it
    op.execute("UPDATE sources SET url = 'urn:demarche:source:' || id WHERE url IS NULL")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_url(NULLABLE_URL, NOT_NULL_URL)
    else:
        op.alter_column("sources", "url", existing_type=sa.String(2000), nullable=False)
    # a week is widened to its month, the narrowest precision the schema knew before
    op.execute("UPDATE incidents SET date_precision = 'month' WHERE date_precision = 'week'")
    op.execute("UPDATE exercises SET date_precision = 'month' WHERE date_precision = 'week'")
    op.drop_column("incidents", "effective_on")
    op.drop_column("incidents", "announced_on")
    op.drop_column("citations", "provenance")
    op.execute("UPDATE incidents SET record_json = NULL WHERE record_json IS NOT NULL")
