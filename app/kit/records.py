"""What every record shares: ids, timestamps, versions, uniqueness checks, merge patch."""

import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import JSON, Dialect, Index, Table, Text, insert, or_, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine
from sqlmodel import Field, Session, SQLModel

from app.kit import etags
from app.kit.etags import Precondition
from app.kit.keys import path_key
from app.kit.problems import Conflict, NotFound, NotRetracted, ValidationFailed, error_entry

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


def ensure_unique(session: Session, table: type, field: str, value: Any, own_id: str | None = None) -> None:
    """409 when ``value`` of ``field`` is taken by another record, retracted ones included."""
    if value is None:
        return
    column = getattr(table, field)
    stmt = select(table.id).where(column == value)
    if own_id is not None:
        stmt = stmt.where(table.id != own_id)
    if session.execute(stmt.limit(1)).first() is not None:
        raise Conflict(f"Another {noun(table)} already has {field} {value!r}.")


def as_input(row: SQLModel, model: type[SQLModel], links: Mapping[str, Any]) -> dict[str, Any]:
    """A stored record as the input of ``model`` that would write it: its own fields, and
    its ``links`` as its input names them (by id); what the input does not take is left out."""
    fields = model.model_fields
    return row.model_dump(include=set(fields), warnings=False) | {k: v for k, v in links.items() if k in fields}


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


PENDING_CHANGES = "demarche_pending_changes"
"""``session.info`` key of the changes written in the session's transaction, in order, for
the change feed (written out just before the commit; see :mod:`app.changes.service`)."""


@dataclass(frozen=True, slots=True)
class PendingChange:
    table: type
    record_id: str
    created: bool
    snapshot: dict[str, Any] | None = None
    """The record's fields as written, when the writer has them at hand (bulk creates);
    read back from the database otherwise."""
    at: datetime | None = None
    restored: bool = False
    """The record was retracted and is live again."""
    merged: bool = False
    """The record took part in a merge: it was merged into another, or another into it."""


def note_change(
    session: Session, row: RecordColumns, created: bool = False, restored: bool = False, merged: bool = False
) -> None:
    """Record for the change feed that ``row`` was created, changed, restored or merged in
    this transaction."""
    change = PendingChange(type(row), row.id, created, restored=restored, merged=merged)
    session.info.setdefault(PENDING_CHANGES, []).append(change)


def note_created(session: Session, table: type, snapshots: Mapping[str, dict[str, Any]], at: datetime) -> None:
    """Record for the change feed the records of ``table`` created in bulk at ``at``, by id,
    with their fields as written (links as ids)."""
    pending = session.info.setdefault(PENDING_CHANGES, [])
    pending.extend(PendingChange(table, record_id, True, fields, at) for record_id, fields in snapshots.items())


def mark_changed(session: Session, row: RecordColumns, restored: bool = False, merged: bool = False) -> None:
    row.version += 1
    row.updated_at = utcnow()
    note_change(session, row, restored=restored, merged=merged)


# A record's state is kept in ``retracted_at``, and in ``status`` where the record has one
# (incidents, exercises): ``retracted_at`` is set exactly when ``status`` is ``retracted``.
# Every write goes through :func:`state_values` (whole records) or :func:`retract` and
# :func:`restore_row` (the state alone), and bulk creates write both from the one status,
# so the two never disagree (migration 0012 brought older rows in line).
RETRACTED, PUBLISHED = "retracted", "published"


def state_values(row: RecordColumns, status: str) -> dict[str, Any]:
    """The state columns of ``row`` written with ``status``: retracted (since when it was
    retracted, or now) exactly when ``status`` is ``retracted``."""
    return {"status": status, "retracted_at": (row.retracted_at or utcnow()) if status == RETRACTED else None}


def retract(session: Session, row: RecordColumns) -> None:
    """Retract the live ``row``: a new version, a ``delete`` in the change feed."""
    row.retracted_at = utcnow()
    if row.has_status:
        row.status = RETRACTED
    mark_changed(session, row)


def restore_row(session: Session, row: RecordColumns) -> None:
    """Make the retracted ``row`` live again (published, where it has a status): a new
    version, a ``restore`` in the change feed. 409 when it is not retracted."""
    if row.retracted_at is None:
        raise NotRetracted(f"The {noun(type(row))} {row.id!r} is not retracted; there is nothing to restore.")
    row.retracted_at = None
    if row.has_status:
        row.status = PUBLISHED
    mark_changed(session, row, restored=True)


def restore(session: Session, table: type[T], ref: str, precondition: Precondition | None, *keys: str) -> T:
    """Restore the retracted record of ``table`` named by ``ref`` (its id or one of
    ``keys``): 404 when there is none, 412 when ``precondition`` names another version,
    409 when it is not retracted."""
    row = get_any(session, table, ref, *keys, for_update=True)
    etags.check(precondition, row.version)
    restore_row(session, row)
    session.flush()
    return row


def get_any(session: Session, table: type[T], ref: str, *keys: str, for_update: bool = False) -> T:
    """The record, live or retracted, whose id (or one of ``keys``) is ``ref``, or 404; as
    :func:`get_live` finds it."""
    return get_live(session, table, ref, *keys, for_update=for_update, retracted=True)


def get_live(
    session: Session, table: type[T], ref: str, *keys: str, for_update: bool = False, retracted: bool = False
) -> T:
    """The live record whose id (or one of ``keys``, such as ``slug``) is ``ref``, or 404;
    with ``retracted``, a retracted one too. An id match wins over a natural-key match;
    ``ref`` may also be a prefixed natural key (``ref:{external_ref}``, see
    :mod:`app.kit.keys`). With ``for_update`` the row stays locked until the transaction
    ends, so that what is checked on it still holds when it is written."""
    names, value = path_key(ref, table.__table__.c.keys(), keys)
    stmt = (
        select(table)
        .where(
            or_(*(getattr(table, c) == value for c in names)), *([] if retracted else [table.retracted_at.is_(None)])
        )
        .order_by((table.id == value).desc())
        .limit(1)
    )
    row = session.execute(stmt.with_for_update() if for_update else stmt).scalar_one_or_none()
    if row is None:
        raise NotFound(f"No {noun(table)} {ref!r}.")
    return row


def lookup(session: Session, table: type, refs: Iterable[str], *keys: str) -> dict[str, str]:
    """The id of each live record named in ``refs`` by id or by one of ``keys``; ids win
    over natural keys. One query, however many references."""
    refs = set(refs)
    if not refs:
        return {}
    columns = [table.id, *(getattr(table, k) for k in keys)]
    rows = session.execute(
        select(*columns).where(or_(*(c.in_(refs) for c in columns)), table.retracted_at.is_(None))
    ).all()
    ids: dict[str, str] = {}
    for position in reversed(range(len(columns))):
        ids |= {row[position]: row[0] for row in rows if row[position] in refs}
    return ids


def check_refs(
    ids: Mapping[str, str], refs: Sequence[str], loc: Sequence[Any], noun: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """``refs`` as ids, by ``ids`` (from :func:`lookup`), and an error entry for each one that
    is unknown or names a record already named."""
    errors, seen = [], set()
    for i, ref in enumerate(refs):
        if ref not in ids:
            errors.append(error_entry([*loc, i], f"Unknown {noun} {ref!r}.", "unknown_reference"))
        elif ids[ref] in seen:
            errors.append(error_entry([*loc, i], f"The {noun} {ref!r} is named twice.", "repeated_reference"))
        else:
            seen.add(ids[ref])
    return [ids.get(ref, "") for ref in refs], errors


def resolve_refs(session: Session, table: type, refs: Sequence[str], loc: Sequence[Any], *keys: str) -> list[str]:
    """Ids of live records for ``refs`` (ids or natural ``keys``), in order; one 422
    naming each unknown reference by its position."""
    if not refs:
        return []
    ids, errors = check_refs(lookup(session, table, refs, *keys), refs, loc, noun(table))
    if errors:
        raise ValidationFailed(errors[0]["msg"], errors=errors)
    return ids


def noun(table: type) -> str:
    return table.__tablename__.removesuffix("s").replace("_", " ")


def write_fields(session: Session, row: RecordColumns, values: dict[str, Any]) -> tuple[bool, bool]:
    """Set the fields of ``row`` (new or stored) that differ from ``values`` and flush it.
    Answers ``(changed, is_new)``."""
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    for key, value in changed.items():
        setattr(row, key, value)
    is_new = row not in session
    session.add(row)
    session.flush()
    return bool(changed), is_new


def settle(session: Session, row: RecordColumns, is_new: bool, changed: bool, restored: bool = False) -> bool:
    """Close a write: a stored record that changed gets a new version (``restored``: it was
    retracted and is live again); either is noted for the change feed."""
    if is_new:
        note_change(session, row, created=True)
    elif changed:
        mark_changed(session, row, restored=restored)
    session.flush()
    return changed


def link_rows(owner: dict[str, Any], links: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a link table that make ``links`` ``owner``'s, in order."""
    return [{**owner, **link, "position": n} for n, link in enumerate(links)]


def replace_links(session: Session, model: type, owner: dict[str, Any], links: Sequence[dict[str, Any]]) -> bool:
    """Make ``links`` the rows of the link table ``model`` that belong to ``owner``, kept in
    the given order by their ``position``. Answers whether anything changed."""
    current = session.execute(select(model).filter_by(**owner).order_by(model.position)).scalars().all()
    if len(current) == len(links) and all(
        all(getattr(row, key) == value for key, value in link.items()) for row, link in zip(current, links, strict=True)
    ):
        return False
    for row in current:
        session.delete(row)
    session.flush()
    session.add_all(model(**row) for row in link_rows(owner, links))
    return True


def insert_rows(session: Session, rows: Mapping[type, list[dict[str, Any]]]) -> None:
    """Insert many rows of each table with one statement a table, in the mapping's order
    (parents before the links that point at them)."""
    for model, table_rows in rows.items():
        executemany(session, model.__table__, table_rows)


def executemany(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (mappings with the same keys) with one driver ``executemany``.

    Each value goes through its column's bind processor, and nothing else: SQLAlchemy's
    per-row parameter handling costs more than SQLite's insert itself. A batch's rows share
    their timestamps, so a timestamp column converts each distinct value once."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=list(rows[0]))
    order = list(compiled.positiontup) if compiled.positional else list(rows[0])
    converters = [(i, c) for i, key in enumerate(order) if (c := _converter(table.c[key].type, dialect))]
    params = []
    for row in rows:
        values = [row[key] for key in order]
        for i, convert in converters:
            values[i] = convert(values[i])
        params.append(tuple(values) if compiled.positional else dict(zip(order, values, strict=True)))
    connection.exec_driver_sql(compiled.string, params)


def _converter(type_: TypeEngine, dialect: Dialect) -> Callable[[Any], Any] | None:
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    try:
        timestamp = process is not None and type_.python_type is datetime
    except NotImplementedError:
        timestamp = False
    if not timestamp:
        return process
    seen: dict[datetime, Any] = {}

    def once(value: Any) -> Any:
        if value is None:
            return process(value)
        if value not in seen:
            seen[value] = process(value)
        return seen[value]

    return once
