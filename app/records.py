"""The record types, each declared once in its domain's ``collection`` module: the one place
that lists them, in the order their records may refer to each other (actors and sources
before the records that name them)."""

from app.actors.collection import COLLECTION as ACTORS
from app.channels.collection import COLLECTION as CHANNELS
from app.exercises.collection import COLLECTION as EXERCISES
from app.incidents.collection import COLLECTION as INCIDENTS
from app.kit.collection import Collection
from app.sources.collection import COLLECTION as SOURCES

COLLECTIONS: tuple[Collection, ...] = (ACTORS, SOURCES, INCIDENTS, EXERCISES, CHANNELS)
BY_TABLE = {collection.table: collection for collection in COLLECTIONS}
BY_TYPE = {collection.type: collection for collection in COLLECTIONS}
BY_NAME = {collection.name: collection for collection in COLLECTIONS}
