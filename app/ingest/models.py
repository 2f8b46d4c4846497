from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from app.actors.models import ActorCreate
from app.channels.models import ChannelCreate, StatusChangeCreate
from app.exercises.models import ExerciseCreate
from app.incidents.models import IncidentCreate
from app.ingest.names import TYPES
from app.kit.schemas import Ref
from app.sources.models import SourceCreate

_COUNTS = dict.fromkeys(TYPES, 0)


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
                    "merged": _COUNTS,
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
    merged: dict[str, int] = Field(
        description="Incidents the import created and then merged into an incident that reports the same event "
        "(stored before, or created earlier in the import), as docs/event-data.md defines it: same kind (not "
        "`other`), initiators and targets, dates within their precision and a day, and a source in common or "
        "both rows of one report data set (GDELT, ICEWS, PLOVER). The survivor gains the merged one's sources, "
        "actors, answers and tags; the merged one is kept as a tombstone (its `external_ref` answers 308 to the "
        "survivor). Counted here, not under `created`. A line naming a merged-away incident's `external_ref` "
        "again writes onto the survivor (so a re-import counts it `unchanged`). Other types: always 0."
    )
    dry_run: bool
    conversion: "ConversionReport | None" = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Only with `from`: what the converter read, kept, skipped and dropped.",
    )


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


class ConversionReport(BaseModel):
    """What a converter (`POST /v1/import?from=…`) read: every row is counted once, as kept or
    as skipped for a reason; every non-empty source field of a kept row that has no place in
    the record is counted as dropped."""

    format: Literal["gdelt", "icews", "acled", "plover"]
    rows: int = Field(description="Rows (records) read, bad ones included; blank lines and header rows are not rows.")
    kept: int = Field(
        description="Rows turned into an incident line (then written as `created`, `updated` or `unchanged` "
        "incidents, or counted `retracted`)."
    )
    skipped_total: int = Field(description="Rows skipped: `rows` − `kept`.")
    skipped: dict[str, dict[str, int]] = Field(
        description="Rows skipped, by reason, then by the row's event code (CAMEO code; ACLED `event_type/"
        "sub_event_type`; PLOVER `event/mode`; `-` when it has none). Reasons: `out_of_scope` (a code outside "
        "the diplomatic codes mapped), `military_not_converted` (CAMEO 062, 150, 152, 154), `bad_row` (wrong "
        "number of columns, not JSON, unreadable), `bad_date` (not a date, in the future or before 1800), "
        "`no_id`, `no_initiator`, `no_target` (no actor on that side), `unmapped_actor` (no actor of that side "
        "names a country: see `unmapped_actors`), `same_country` (initiators and targets are the same "
        "countries), `duplicate` (an id met earlier in the file), `no_mode` (PLOVER: an event category that "
        "maps only with a mode, given none)."
    )
    unmapped_actors: dict[str, int] = Field(
        description="Actor codes or names that name no country, with how many times they were met (in rows "
        "that got that far)."
    )
    dropped: dict[str, int] = Field(
        description="Source fields of kept rows that have no place in Demarche's record yet, with the number of "
        "rows in which each was not empty (and was so dropped); also values refused: coordinates of a whole "
        "country (its centroid), out of range, a URL that is not http(s)."
    )
    actors_created: list[str] = Field(
        description="Slugs of the actors created: state actors for countries that had none, and a state's bodies "
        "(its government, armed forces…) for the CAMEO roles and ICEWS sectors that name one (in a dry run: "
        "that would be)."
    )


ImportResult.model_rebuild()
