"""Every table, imported in one place so that Alembic sees the whole schema."""

from sqlmodel import SQLModel

from app.actors.models import Actor, Involvement
from app.channels.models import Channel, StatusChange
from app.exercises.models import Exercise
from app.incidents.models import Incident, Reply
from app.sources.models import Citation, Source

metadata = SQLModel.metadata

__all__ = [
    "Actor",
    "Channel",
    "Citation",
    "Exercise",
    "Incident",
    "Involvement",
    "Reply",
    "Source",
    "StatusChange",
    "metadata",
]
