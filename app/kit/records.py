"""What every record shares: its id, timestamps and version columns, the column that keeps its
answer, and the indexes every record table has."""

import os
import time
import uuid
from datetime import UTC, datetime
from typing import ClassVar, TypeVar

from sqlalchemy import JSON, Index, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

T = TypeVar("T")


JSONType = JSON().with_variant(JSONB(), "postgresql")


SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def by_external_ref(table: str) -> Index:
    """An index of the records that have an ``external_ref``, for the lookups of imports and
    references. The unique constraint's own index does not serve them on SQLite once ANALYZE
    has seen a table where most records have none: it counts the NULLs as one value, and the
    planner then scans the table (migration 0008)."""
    present = text("external_ref IS NOT NULL")
    return Index(f"ix_{table}_external_ref", "external_ref", sqlite_where=present, postgresql_where=present)


def stale_answers(table: str) -> Index:
    """An index of the records whose kept answer is stale, for the write path to write them
    again (:func:`app.kit.sqljson.keep_answers`; migrations 0010 and 0017)."""
    stale = text("record_json IS NULL")
    return Index(f"ix_{table}_stale", "id", sqlite_where=stale, postgresql_where=stale)


class KeptAnswer(SQLModel):
    """The column of a record table that keeps the record's answer (:mod:`app.kit.sqljson`)."""

    record_json: str | None = Field(
        default=None,
        sa_type=Text,
        description="The answer as JSON text; NULL when stale (see app.kit.sqljson.keep_answers).",
    )


def new_id() -> str:
    """A UUIDv7: time-ordered, so new rows land at the end of the primary-key index."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def utcnow() -> datetime:
    return datetime.now(UTC)


class RecordColumns(SQLModel):
    """Columns of every record table, beside the domain's own fields."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1
    retracted_at: datetime | None = None

    has_status: ClassVar[bool] = False
    """Whether the record has a ``status`` (draft, published, retracted) beside
    ``retracted_at``; see :func:`state_values`."""


EXAMPLE_META = {
    "id": "0192b1c4-8f8e-7c3a-9a51-3c9f1e2d4b5a",
    "created_at": "2021-10-18T09:00:00Z",
    "updated_at": "2021-10-18T09:00:00Z",
    "version": 1,
}


class RecordMeta(SQLModel):
    """What every record answers with, beside its fields."""

    id: str
    created_at: datetime
    updated_at: datetime
    version: int
