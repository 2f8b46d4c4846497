"""The changes a transaction writes, noted for the change feed: written out just before the
commit (:mod:`app.changes.service`)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.kit.records import RecordColumns, utcnow

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
