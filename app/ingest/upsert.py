"""Create-or-update of one record by its natural key, through the domains' own services.

Records with an ``external_ref`` (or an actor's ``slug``, a source's ``url``) that exists are
written over when anything differs and left alone when nothing does.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy import or_, select
from sqlmodel import Session

from app.actors import service as actors
from app.actors.models import Actor, ActorCreate
from app.channels import service as channels
from app.channels.models import Channel, ChannelCreate, StatusChange, StatusChangeCreate
from app.exercises import service as exercises
from app.exercises.models import Exercise, ExerciseCreate
from app.incidents import service as incidents
from app.incidents.models import Incident, IncidentCreate
from app.kit.problems import from_pydantic
from app.sources import service as sources
from app.sources.models import Source, SourceCreate

Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class Kind:
    model: type[BaseModel]
    table: type
    keys: tuple[str, ...]
    create: Callable[[Session, Any], Any]
    replace: Callable[[Session, Any, Any], bool]


KINDS: dict[str, Kind] = {
    "actor": Kind(ActorCreate, Actor, ("external_ref", "slug"), actors.create, actors.replace),
    "source": Kind(SourceCreate, Source, ("external_ref", "url"), sources.create, sources.replace),
    "incident": Kind(IncidentCreate, Incident, ("external_ref",), incidents.create, incidents.replace),
    "exercise": Kind(ExerciseCreate, Exercise, ("external_ref",), exercises.create, exercises.replace),
    "channel": Kind(ChannelCreate, Channel, ("external_ref",), channels.create, channels.replace),
}


def _existing(session: Session, kind: Kind, data: BaseModel) -> Any:
    conditions = [getattr(kind.table, key) == getattr(data, key) for key in kind.keys if getattr(data, key)]
    if not conditions:
        return None
    return session.execute(select(kind.table).where(or_(*conditions)).limit(1)).scalar_one_or_none()


def upsert(session: Session, record: dict[str, Any]) -> tuple[str, Outcome]:
    """Write one ``{"type": ..., ...}`` record; answers its type and what happened."""
    record = dict(record)
    type_ = record.pop("type")
    if type_ == "channel_status":
        return type_, _upsert_status(session, record)
    kind = KINDS[type_]
    data = _validate(kind.model, record)
    row = _existing(session, kind, data)
    if row is None:
        kind.create(session, data)
        return type_, "created"
    return type_, "updated" if kind.replace(session, row, data) else "unchanged"


def _upsert_status(session: Session, record: dict[str, Any]) -> Outcome:
    channel = channels.resolve_one(session, str(record.pop("channel", "")))
    data = _validate(StatusChangeCreate, record)
    if (
        data.external_ref
        and session.execute(select(StatusChange.id).where(StatusChange.external_ref == data.external_ref)).first()
    ):
        return "unchanged"
    channels.record_change(session, channel, data)
    return "created"


def _validate(model: type[BaseModel], record: dict[str, Any]) -> Any:
    try:
        return model.model_validate(record)
    except ValidationError as exc:
        raise from_pydantic(exc) from None
