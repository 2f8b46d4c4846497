"""Who sees which records: published ones for everyone; drafts and retracted ones only for
callers whose key may write (see :attr:`Caller.sees_unpublished`).

Records with a ``status`` (incidents, exercises) follow these rules. A retracted record is
gone from lists for everyone, as ``DELETE`` promises, and from reads (404) for callers
without ``write``; a write key reads a retracted record on its own path (``status:
retracted``, so that it can be restored) and finds retracted ones by asking a list for
``status=retracted``. Actors, sources and channels have no status: a retracted one is gone
from their lists and reads for everyone (its history stays readable to write keys).
"""

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlmodel import Session

from app.kit.keys import path_key
from app.kit.problems import NotFound
from app.kit.references import noun
from app.vocab import RecordStatus

T = TypeVar("T")


def listable(table: Any, statuses: Sequence[RecordStatus], unpublished: bool) -> list[ColumnElement[bool]]:
    """Conditions on ``table`` for a list: published and live rows, or with ``unpublished``
    drafts too, and retracted rows when ``statuses`` names them."""
    if not unpublished:
        return [table.retracted_at.is_(None), table.status == RecordStatus.published]
    if RecordStatus.retracted in statuses:
        return []
    return [table.retracted_at.is_(None)]


def readable(session: Session, table: type[T], record_id: str, unpublished: bool) -> T:
    """The live record ``record_id`` of ``table`` (its id, or a prefixed natural key such as
    ``ref:{external_ref}``: :mod:`app.kit.keys`) if the caller may see it (a draft only with
    ``unpublished``), else 404."""
    names, value = path_key(record_id, table.__table__.c.keys())
    if names == ("id",):
        row = session.get(table, value)
    else:
        row = session.execute(select(table).where(getattr(table, names[0]) == value)).scalar_one_or_none()
    if row is None or row.retracted_at is not None or not (unpublished or row.status == RecordStatus.published):
        raise NotFound(f"No {noun(table)} {record_id!r}.")
    return row
