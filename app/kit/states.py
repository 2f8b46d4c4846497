"""A record's state: live or retracted (with its ``status`` where it has one), and the moves
between them."""

from typing import Any, TypeVar

from sqlmodel import Session

from app.kit import etags
from app.kit.etags import Precondition
from app.kit.pending import mark_changed
from app.kit.problems import NotRetracted
from app.kit.records import RecordColumns, utcnow
from app.kit.references import get_any, noun

T = TypeVar("T")

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
