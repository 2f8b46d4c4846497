import re
from typing import Annotated, Any

import pydantic
from pydantic import AfterValidator, ConfigDict, model_validator
from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from app.kit.records import (
    EXAMPLE_META,
    JSONType,
    KeptAnswer,
    RecordColumns,
    RecordMeta,
    by_external_ref,
    stale_answers,
)
from app.kit.schemas import (
    NON_BLANK,
    SPACES,
    IsoDate,
    OptionalInteger,
    OptionalNumber,
    Ref,
    SourceRef,
    WriteModel,
    merge_patch_model,
    repeated,
)
from app.vocab import SourceKind

WEB_ADDRESS = (
    f"^[Hh][Tt][Tt][Pp][Ss]?://(?:[^{SPACES}\\u0000/?#@]*@)?[^{SPACES}\\u0000/?#@:\\[\\]]+(?::[0-9]*)?"
    f"(?:[/?#][^{SPACES}\\u0000]*)?$"
)
"""An absolute http(s) URL with a host name, without spaces: the schema's pattern for a
source's ``url``, and the whole of the server's check (``acled:CYP392`` is no URL)."""


def _web_address(value: str | None) -> str | None:
    """``value`` when it is an absolute http(s) URL (:data:`WEB_ADDRESS`), else a ValueError."""
    if value is not None and re.fullmatch(WEB_ADDRESS, value) is None:
        raise ValueError(
            "url must be an absolute http(s) URL, such as https://example.org/story; a record id of "
            "another system is an external_ref."
        )
    return value


WebAddress = Annotated[str | None, AfterValidator(_web_address)]


class SourceBase(SQLModel):
    url: WebAddress = Field(
        default=None,
        min_length=1,
        max_length=2000,
        unique=True,
        schema_extra={"pattern": WEB_ADDRESS},
        description="Unique. An absolute `http` or `https` URL (else 422). Optional when the source has a "
        "`publisher` and an `external_ref` (a story of a news agency known by its id, with no address: an "
        "ICEWS story); a source needs one or the other.",
    )
    title: str = Field(min_length=1, max_length=500, schema_extra={"pattern": NON_BLANK})
    publisher: str | None = Field(default=None, max_length=300)
    authors: list[str] = Field(default_factory=list, sa_type=JSONType)
    published_on: IsoDate | None = None
    kind: SourceKind | None = Field(default=None, sa_type=String(20))
    external_ref: str | None = Field(
        default=None, max_length=200, unique=True, description="Natural key for upserts from other systems."
    )


class Source(SourceBase, RecordColumns, KeptAnswer, table=True):
    __tablename__ = "sources"
    __table_args__ = (
        Index("ix_sources_created_at_id", "created_at", "id"),
        Index("ix_sources_title_id", "title", "id"),
        Index("ix_sources_publisher", "publisher"),
        by_external_ref("sources"),
        stale_answers("sources"),
    )


_EXAMPLE: dict[str, Any] = {
    "url": "https://www.europeanleadershipnetwork.org/commentary/network-reflections-how-do-you-view-russias-response-to-nato-expulsions/",
    "title": "Network reflections: How do you view Russia's response to NATO expulsions?",
    "publisher": "European Leadership Network",
    "authors": ["Stefanie Babst", "Andrey Kortunov"],
    "published_on": "2021-10-18",
    "kind": "analysis",
}


class SourceCreate(SourceBase, WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    @model_validator(mode="after")
    def _located(self) -> "SourceCreate":
        if self.url is None and not (self.publisher and self.external_ref):
            raise ValueError("A source needs a url, or a publisher and an external_ref (its id at the publisher).")
        return self


SourceUpdate = merge_patch_model(
    SourceCreate,
    "SourceUpdate",
    "A JSON merge patch: only the fields given change; `null` clears an optional field.",
    {"publisher": "ELN"},
)


class SourcePublic(RecordMeta, SourceBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE,
                    **EXAMPLE_META,
                    "external_ref": None,
                }
            ]
        }
    )


class SourceFilters(SQLModel):
    q: str | None = Field(
        default=None,
        description="Full text over title, publisher and authors: every word must appear. "
        "Sorted by relevance unless `sort` is given.",
    )
    publisher: list[str] = repeated("Exact publisher; repeat for OR.")


def _absent(value: Any) -> bool:
    return value is None


def given(description: str, **constraints: Any) -> Any:
    """An optional field of :class:`Provenance`: left out of answers when not given."""
    return pydantic.Field(default=None, exclude_if=_absent, description=description, **constraints)


COUNT = {"ge": 0, "le": 2_147_483_647}
"""The bounds of a count (a PostgreSQL integer)."""


class Provenance(WriteModel):
    """What the system an event was taken from says of it: the event's own id there and its
    numbers, kept with the citation of the source that reported it. Every field but
    ``system`` is optional; unknown fields are refused (422); fields not given are left out of
    answers."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "system": "gdelt",
                    "id": "1054436563",
                    "mentions": 10,
                    "sources": 1,
                    "articles": 10,
                    "tone": -5.6,
                    "goldstein": -4.0,
                    "quad_class": 4,
                    "root_event": True,
                    "reported_on": "2022-07-15",
                }
            ]
        }
    )

    system: str = pydantic.Field(
        min_length=1,
        max_length=40,
        pattern=r"^[a-z][a-z0-9_.-]*$",
        description="The data set or system the event comes from, lower case: `gdelt`, `icews`, `acled`, "
        "`plover`, or another's own name.",
    )
    id: str | None = given(
        "The event's id in that system: GDELT's `GLOBALEVENTID`, ICEWS's `Event ID`, ACLED's `event_id_cnty`, "
        "PLOVER's `id`.",
        max_length=200,
        pattern=NON_BLANK,
    )
    story_id: str | None = given(
        "The story the event was coded from (ICEWS's `Story ID`).", max_length=200, pattern=NON_BLANK
    )
    sentence: OptionalInteger = given("The sentence of the story (ICEWS's `Sentence Number`).", **COUNT)
    mentions: OptionalInteger = given("Mentions of the event (GDELT's `NumMentions`).", **COUNT)
    sources: OptionalInteger = given("Sources that mention it (GDELT's `NumSources`).", **COUNT)
    articles: OptionalInteger = given("Articles that mention it (GDELT's `NumArticles`).", **COUNT)
    tone: OptionalNumber = given("Average tone of those articles, -100 to 100 (GDELT's `AvgTone`).", ge=-100, le=100)
    goldstein: OptionalNumber = given(
        "Goldstein scale of the event code, -10 to 10 (GDELT's `GoldsteinScale`).", ge=-10, le=10
    )
    intensity: OptionalNumber = given(
        "Intensity of the event, -10 to 10 (ICEWS's `Intensity`, PLOVER's `event_scale`).", ge=-10, le=10
    )
    quad_class: OptionalInteger = given(
        "1 verbal cooperation, 2 material cooperation, 3 verbal conflict, 4 material conflict (GDELT's "
        "`QuadClass`, PLOVER's `quad_code`).",
        ge=1,
        le=4,
    )
    root_event: bool | None = given("Whether the event is in a lead sentence (GDELT's `IsRootEvent`).")
    fatalities: OptionalInteger = given("Reported fatalities (ACLED's `fatalities`).", **COUNT)
    time_precision: OptionalInteger = given(
        "ACLED's `time_precision` as given: 1 the day, 2 the week, 3 the month (the incident's "
        "`date_precision` says the same in words).",
        ge=1,
        le=3,
    )
    geo_precision: OptionalInteger = given(
        "ACLED's `geo_precision` as given: 1 the place, 2 near it, 3 the region.", ge=1, le=3
    )
    reported_on: IsoDate | None = given(
        "The day the system took the report in: GDELT's `DATEADDED`; ICEWS's `Event Date`, which is the day of "
        "the story, not always the day of the event."
    )
    reported_by: str | None = given(
        "Who reported it, as the system names them: ACLED's `source`, ICEWS's `Publisher`.",
        max_length=2000,
        pattern=NON_BLANK,
    )
    source_scale: str | None = given(
        "ACLED's `source_scale` (`National`, `Local partner`…).", max_length=200, pattern=NON_BLANK
    )

    def stored(self) -> dict[str, Any]:
        """As the citation keeps it: the fields given, in JSON form."""
        return self.model_dump(mode="json", exclude_none=True)


class CitedSource(WriteModel):
    """A source cited with what the system the record was taken from says of it."""

    source: Ref = pydantic.Field(description="The source's id, url or external_ref.")
    provenance: Provenance | None = pydantic.Field(default=None, description="Omitted or `null`: the source alone.")


class CitedSourceRef(SourceRef):
    provenance: Provenance = pydantic.Field(
        default=None,
        exclude_if=lambda provenance: provenance is None,  # absent, as the answer written in SQL leaves it
        description="What the system the incident was taken from says of it, for this source (see the "
        "`sources` input); absent when the citation keeps none.",
    )


def cited(items: list[Any]) -> list[tuple[str, dict[str, Any] | None]]:
    """A ``sources`` input (refs, or :class:`CitedSource`) as pairs of ref and stored provenance."""
    return [
        (item, None) if isinstance(item, str) else (item.source, item.provenance.stored() if item.provenance else None)
        for item in items
    ]


def citation_snapshot(source_ids: list[str], provenance: list[dict[str, Any] | None]) -> list[Any]:
    """Citations as an input names them (and a record's history keeps them): a source's id,
    or ``{source, provenance}`` where the citation keeps a provenance."""
    return [s if p is None else {"source": s, "provenance": p} for s, p in zip(source_ids, provenance, strict=True)]


class Citation(SQLModel, table=True):
    """A source cited by an incident, exercise, channel or status change; an incident's
    citation may keep the ``provenance`` of the event the source reported."""

    __tablename__ = "citations"
    __table_args__ = (Index("ix_citations_source_id", "source_id"),)

    resource: str = Field(primary_key=True, max_length=20)
    record_id: str = Field(primary_key=True, max_length=36)
    source_id: str = Field(primary_key=True, foreign_key="sources.id", max_length=36)
    position: int = 0
    provenance: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
