"""Every table, imported in one place so that Alembic sees the whole schema."""

from sqlmodel import SQLModel

from app.access.models import ApiKey
from app.actors.models import Actor, Involvement
from app.changes.models import Change
from app.channels.models import Channel, StatusChange
from app.exercises.models import Exercise
from app.idempotency.models import IdempotencyKey
from app.incidents.models import Incident, Reply
from app.sources.models import Citation, Source

metadata = SQLModel.metadata

__all__ = [
    "Actor",
    "ApiKey",
    "Change",
    "Channel",
    "Citation",
    "Exercise",
    "IdempotencyKey",
    "Incident",
    "Involvement",
    "Reply",
    "Source",
    "StatusChange",
    "metadata",
]
