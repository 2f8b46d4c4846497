"""What every record shares: ids, timestamps, versions, uniqueness checks, merge patch."""

import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, Session, SQLModel

from app.kit.problems import Conflict

JSONType = JSON().with_variant(JSONB(), "postgresql")

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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


class RecordMeta(SQLModel):
    """What every record answers with, beside its fields."""

    id: str
    created_at: datetime
    updated_at: datetime
    version: int


def ensure_unique(session: Session, table: type, field: str, value: Any, own_id: str | None = None) -> None:
    """409 when ``value`` of ``field`` is taken by another record, retracted ones included."""
    if value is None:
        return
    column = getattr(table, field)
    stmt = select(table.id).where(column == value)
    if own_id is not None:
        stmt = stmt.where(table.id != own_id)
    if session.execute(stmt.limit(1)).first() is not None:
        raise Conflict(f"Another {table.__tablename__[:-1]} already has {field} {value!r}.")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def mark_changed(row: RecordColumns) -> None:
    row.version += 1
    row.updated_at = utcnow()


def retract(row: RecordColumns) -> None:
    row.retracted_at = utcnow()
    mark_changed(row)
