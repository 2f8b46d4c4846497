"""Records as the API answers and exports them, taken back as import lines.

What a list answers (and what ``format=ndjson`` exports) differs from a create body in two
ways, both undone here for every record type at once, from the types' own models:

- **read-only fields**, those of the answer that the create body lacks (``id``,
  ``created_at``, ``updated_at``, ``version``, and what the server works out, such as a
  channel's ``status`` and ``status_history``), are accepted and ignored; except ``id``,
  which names the stored record the line writes over when there is one (so that a record
  without a natural key reads back onto itself), and is ignored otherwise;
- **references** written as the objects an answer nests (``{"id", "slug", "name"}`` of an
  actor, ``{"id", "title", "url"}`` of a source (with a ``provenance``, taken as
  ``{source, provenance}``), ``{"id", "title", "occurred_on"}`` of an
  incident, ``{"actor": {...}, "role"}`` of a participant) are taken by their natural key
  (an actor's slug, a source's url) or else their id, as plain references are.
"""

import typing
from typing import Any

from pydantic import BaseModel

from app.channels.models import StatusChangeCreate, StatusChangePublic
from app.exercises.models import Participant
from app.kit.schemas import ActorRef, IncidentRef, SourceRef
from app.records import BY_TYPE

CREATE_MODELS: dict[str, type[BaseModel]] = {
    **{type_: collection.create_model for type_, collection in BY_TYPE.items()},
    "channel_status": StatusChangeCreate,
}
PUBLIC_MODELS: dict[str, type[BaseModel]] = {
    **{type_: collection.public_model for type_, collection in BY_TYPE.items()},
    "channel_status": StatusChangePublic,
}
READ_ONLY: dict[str, frozenset[str]] = {
    type_: frozenset(PUBLIC_MODELS[type_].model_fields) - set(model.model_fields)
    for type_, model in CREATE_MODELS.items()
}
"""Fields of each type's answer that its create body does not take."""

IDENTIFIED = frozenset(BY_TYPE)
"""Types whose line may name the stored record it writes over by ``id``."""

_REFERENCES = (ActorRef, SourceRef, IncidentRef, Participant)


def _holds_reference(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, _REFERENCES):
        return True
    return any(_holds_reference(arg) for arg in typing.get_args(annotation))


REFERENCE_FIELDS: dict[str, frozenset[str]] = {
    type_: frozenset(
        name
        for name, field in PUBLIC_MODELS[type_].model_fields.items()
        if name in model.model_fields and _holds_reference(field.annotation)
    )
    for type_, model in CREATE_MODELS.items()
}
"""Fields of each type whose answer nests reference objects where the create body takes text."""


def reference(value: Any) -> Any:
    """A nested reference object as the text a create body takes: an actor's slug, a
    source's url, else the id; a cited source with a provenance as ``{source, provenance}``.
    Anything else is left for validation to judge."""
    if isinstance(value, dict):
        if "actor" in value and isinstance(value["actor"], dict):  # a participant
            return {**value, "actor": reference(value["actor"])}
        if value.get("provenance") is not None and "id" in value:  # a citation that keeps a provenance
            return {
                "source": reference({k: v for k, v in value.items() if k != "provenance"}),
                "provenance": value["provenance"],
            }
        for key in ("slug", "url", "id"):
            if isinstance(value.get(key), str):
                return value[key]
    return value


def as_line(type_: str, record: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """``record`` (of ``type_``, which has its models) as an import line, and the ``id`` it
    named (None when it named none, or its type is not identified by id)."""
    line = {k: v for k, v in record.items() if k not in READ_ONLY[type_]}
    for name in REFERENCE_FIELDS[type_] & line.keys():
        value = line[name]
        line[name] = [reference(v) for v in value] if isinstance(value, list) else reference(value)
    return line, record.get("id") if type_ in IDENTIFIED else None
