"""actors' codes: ISO 3166 alpha-3 and alpha-2, FIPS 10-4, CAMEO, COW, Gleditsch-Ward, Wikidata

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 17:00:00

Each scheme is a column of ``actors`` (``code_iso3``…), unique within the scheme through a
partial index of the actors that have a code in it, which also serves the look-ups of
``scheme:value`` references (see ``app/actors/codes.py``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "code_iso3": 3,
    "code_iso2": 2,
    "code_fips": 2,
    "code_cameo": 15,
    "code_cow": 4,
    "code_gw": 4,
    "code_wikidata": 13,
}


def upgrade() -> None:
    for column, length in COLUMNS.items():
        op.add_column("actors", sa.Column(column, sa.String(length=length), nullable=True))
        present = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"ix_actors_{column}", "actors", [column], unique=True, sqlite_where=present, postgresql_where=present
        )


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN on both engines (SQLite 3.35+): a batch copy of the table
    # would lose the triggers that other tables' answers keep on it (0010)
    for column in reversed(COLUMNS):
        op.drop_index(f"ix_actors_{column}", table_name="actors")
        op.drop_column("actors", column)
