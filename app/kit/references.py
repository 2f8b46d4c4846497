"""Records found by reference: an id, a natural key (``slug``, ``external_ref``…) or a
prefixed one (``ref:…``), one at a time or many in one query; and the uniqueness of natural keys."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlmodel import Session

from app.kit.keys import path_key
from app.kit.problems import Conflict, NotFound, ValidationFailed, error_entry

T = TypeVar("T")


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
