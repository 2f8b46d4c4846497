"""Create-or-update of one record by its natural key, through its collection's declaration
(:mod:`app.records`).

Records with an ``external_ref`` (or an actor's ``slug``, a source's ``url``) that exists are
written over when anything differs and left alone when nothing does (a merged incident keeps
what its merges brought). A retracted record is
left alone too (the outcome ``retracted``) unless the line asks for ``status: published``
(incidents and exercises), which restores it: an import never brings a retraction back by
accident, and never half-restores one.
"""

from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy import or_, select
from sqlmodel import Session

from app.channels import service as channels
from app.channels.models import Channel, StatusChange, StatusChangeCreate
from app.kit.collection import Collection
from app.kit.problems import NotFound, Problem, from_pydantic, invalid
from app.kit.states import PUBLISHED
from app.records import BY_TYPE

Outcome = Literal["created", "updated", "unchanged", "retracted", "merged"]
OUTCOMES: tuple[Outcome, ...] = ("created", "updated", "unchanged", "retracted", "merged")


STATUS_KEYS = ("external_ref",)


def _existing(session: Session, kind: Collection, data: BaseModel, row_id: Any = None) -> Any:
    """The stored record (retracted ones included) of the id the line named, if stored; else
    the one of its natural keys."""
    if isinstance(row_id, str) and (row := session.get(kind.table, row_id)) is not None:
        return row
    conditions = [getattr(kind.table, key) == getattr(data, key) for key in kind.import_keys if getattr(data, key)]
    if not conditions:
        return None
    return session.execute(select(kind.table).where(or_(*conditions)).limit(1)).scalar_one_or_none()


def upsert(session: Session, record: dict[str, Any]) -> tuple[str, Outcome]:
    """Write one ``{"type": ..., ...}`` record (with ``id``, the stored record of that id if
    any); answers its type and what happened."""
    record = dict(record)
    type_ = record.pop("type")
    if type_ == "channel_status":
        return type_, _upsert_status(session, record)
    kind = BY_TYPE[type_]
    row_id = record.pop("id", None)
    data = validate(kind.create_model, record)
    row = _existing(session, kind, data, row_id)
    if row is None:
        kind.create(session, data)
        return type_, "created"
    return type_, write_over(session, kind, row, data)


def write_over(session: Session, kind: Collection, row: Any, data: BaseModel) -> Outcome:
    """Write ``data`` over the stored ``row``. A retracted row is left as it is unless
    ``data`` asks for ``status: published`` in so many words: then it is restored (a new
    version, ``restore`` in the change feed) with the line's fields. A line over an incident
    merged into another is written onto the survivor (:func:`app.incidents.merges.onto_survivors`)."""
    if kind.onto is not None:
        (moved,) = kind.onto(session, [(row, data)])
        if isinstance(moved, Problem):
            raise moved
        row, data = moved
    if row.retracted_at is not None and not asks_to_publish(data):
        return "retracted"
    return "updated" if kind.replace(session, row, data) else "unchanged"


def asks_to_publish(data: BaseModel) -> bool:
    """Whether an import line names ``status: published`` itself (not by default)."""
    return "status" in data.model_fields_set and getattr(data, "status", None) == PUBLISHED


def existing_by_key(session: Session, kind: Collection, key: str, values: list[str]) -> dict[str, Any]:
    """The stored records (retracted ones included) whose ``key`` is one of ``values``."""
    column = getattr(kind.table, key)
    stmt = select(kind.table).where(column.in_(values)).with_for_update()  # written over next
    rows = session.execute(stmt).scalars() if values else []
    return {getattr(row, key): row for row in rows}


def _upsert_status(session: Session, record: dict[str, Any]) -> Outcome:
    channel = _channel(session, record.pop("channel", None))
    data = validate(StatusChangeCreate, record)
    change = _existing_status(session, data.external_ref)
    if change is None:
        channels.record_change(session, channel, data)
        return "created"
    return "updated" if channels.replace_change(session, change, channel, data) else "unchanged"


def _channel(session: Session, ref: Any) -> Channel:
    if not isinstance(ref, str) or not ref:
        raise invalid(["body", "channel"], "Name the channel by id or external_ref.", "missing")
    try:
        return channels.resolve_one(session, ref)
    except NotFound:
        raise invalid(["body", "channel"], f"Unknown channel {ref!r}.", "unknown_reference") from None


def _existing_status(session: Session, external_ref: str | None) -> StatusChange | None:
    if not external_ref:
        return None
    return session.execute(select(StatusChange).where(StatusChange.external_ref == external_ref)).scalar_one_or_none()


def validate(model: type[BaseModel], record: dict[str, Any]) -> Any:
    try:
        return model.model_validate(record)
    except ValidationError as exc:
        raise from_pydantic(exc) from None
