from datetime import date
from typing import Any, Literal

from sqlmodel import Field, SQLModel

from app.channels.models import ChannelPublic
from app.exercises.models import ExercisePublic
from app.incidents.models import IncidentPublic
from app.kit.schemas import ActorRef

EntryType = Literal["incident", "exercise", "channel_status"]
GroupKey = Literal["kind", "month", "year", "initiator", "target"]
GROUP_BY = [*GroupKey.__args__, *(f"{a},{b}" for a in GroupKey.__args__ for b in GroupKey.__args__ if a != b)]
"""What `group_by` takes: one key, or two different keys joined by a comma."""


class IncidentCounts(SQLModel):
    a_to_b: dict[str, int] = Field(description="Incidents initiated by `a` against `b`, by kind.")
    b_to_a: dict[str, int] = Field(description="Incidents initiated by `b` against `a`, by kind.")


class Dyad(SQLModel):
    a: ActorRef
    b: ActorRef
    as_of: date
    window_days: int
    channels: list[ChannelPublic]
    incident_counts: IncidentCounts
    latest_incidents: list[IncidentPublic]
    active_exercises: list[ExercisePublic]


class TimelineEntry(SQLModel):
    type: EntryType
    date: date
    id: str
    title: str
    actors: list[ActorRef]
    record: dict[str, Any] = Field(description="The record's own fields, as its collection answers them.")


class Timeline(SQLModel):
    data: list[TimelineEntry]
    next_cursor: str | None


class Stats(SQLModel):
    group_by: list[GroupKey]
    data: list[dict[str, Any]] = Field(
        description='Buckets such as `{"kind": "expulsion", "month": "2021-10", "count": 3}`.'
    )
