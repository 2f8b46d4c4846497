from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from app.actors.models import ActorCreate
from app.channels.models import ChannelCreate, StatusChangeCreate
from app.exercises.models import ExerciseCreate
from app.incidents.models import IncidentCreate
from app.kit.schemas import Ref
from app.sources.models import SourceCreate

_COUNTS = {"actor": 0, "source": 0, "incident": 0, "exercise": 0, "channel": 0, "channel_status": 0}


class ImportResult(BaseModel):
    """What an import did (or, in a dry run, would do), per record type."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "created": {**_COUNTS, "incident": 3, "channel_status": 1},
                    "updated": {**_COUNTS, "actor": 1},
                    "unchanged": {**_COUNTS, "actor": 2},
                    "retracted": _COUNTS,
                    "dry_run": False,
                }
            ]
        }
    )

    created: dict[str, int] = Field(description="Records created, by type (every type, 0 included).")
    updated: dict[str, int] = Field(
        description="Existing records that differed and were written over, by type (retracted ones restored by "
        "a line asking for `status: published` included)."
    )
    unchanged: dict[str, int] = Field(description="Existing records that already matched, by type.")
    retracted: dict[str, int] = Field(
        description="Existing records that are retracted and were left so, by type: a line names a retracted "
        "record's natural key without asking for `status: published` (only that restores an incident or an "
        "exercise; other types are restored with `POST /v1/{collection}/{id}/restore`)."
    )
    dry_run: bool


def _line(
    type_: str, body: type[BaseModel], example: dict[str, Any] | None = None, **fields: tuple[Any, Any]
) -> type[BaseModel]:
    """An import line of ``type_``: the create body of its records (with ``fields`` more, and
    ``example`` for them), naming its type."""
    examples = [{"type": type_, **e, **(example or {})} for e in body.model_config["json_schema_extra"]["examples"]]
    namespace = {
        "__doc__": f"A line of an import: `type` `{type_}` and the fields of {body.__name__}.",
        "__module__": __name__,
        "__annotations__": {"type": Literal[type_], **{name: kind for name, (kind, _) in fields.items()}},
        "model_config": ConfigDict(json_schema_extra={"examples": examples}),
        **{name: field for name, (_, field) in fields.items()},
    }
    return type(f"{type_.title().replace('_', '')}Line", (body,), namespace)


ImportLine = Annotated[
    _line("actor", ActorCreate)
    | _line("source", SourceCreate)
    | _line("incident", IncidentCreate)
    | _line("exercise", ExerciseCreate)
    | _line("channel", ChannelCreate)
    | _line(
        "channel_status",
        StatusChangeCreate,
        {"channel": "eln:russian-mission-to-nato"},
        channel=(Ref, Field(description="The channel's id or external_ref (of an earlier line, or stored).")),
    ),
    Field(discriminator="type"),
]
IMPORT_LINES = TypeAdapter(list[ImportLine])
"""An import's records, one a line. References between them (by slug or external_ref, to
earlier lines or stored records) are checked as they are written, not by this shape."""
