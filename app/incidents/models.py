from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

import pydantic
from pydantic import ConfigDict, StringConstraints, ValidationInfo, field_validator, model_validator
from sqlalchemy import Index, String, text
from sqlmodel import Field, SQLModel

from app.actors import codes
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
    ActorRef,
    IncidentRef,
    IsoDate,
    OptionalInteger,
    OptionalNumber,
    Ref,
    WriteModel,
    merge_patch_model,
    repeated,
)
from app.sources.models import CitedSource, CitedSourceRef
from app.vocab import PLOVER_EVENTS, DatePrecision, IncidentKind, RecordStatus

PLANNED_KINDS = frozenset(
    {
        IncidentKind.staff_cap,
        IncidentKind.mission_suspension,
        IncidentKind.mission_closure,
        IncidentKind.office_closure,
        IncidentKind.liaison_suspension,
        IncidentKind.sanctions,
    }
)
"""Kinds of measures announced ahead of the day they take effect (a closure "as of 1
November"): the only incidents whose ``occurred_on`` may lie in the future."""
PLANNED_HORIZON = timedelta(days=366)
"""How far ahead an announced measure may take effect."""


def latest_day(kind: str | None) -> date:
    """The latest ``occurred_on`` an incident of ``kind`` takes: today where today is
    furthest ahead (UTC+14, so that a date that is today anywhere is taken), or a year
    after that for a measure announced ahead (``PLANNED_KINDS``)."""
    today = (datetime.now(UTC) + timedelta(hours=14)).date()
    return today + PLANNED_HORIZON if kind in PLANNED_KINDS else today


LIVE = {"sqlite_where": text("retracted_at IS NULL"), "postgresql_where": text("retracted_at IS NULL")}


class IncidentBase(SQLModel):
    kind: IncidentKind = Field(sa_type=String(40))
    title: str = Field(min_length=1, max_length=500, schema_extra={"pattern": NON_BLANK})
    summary: str | None = Field(default=None, max_length=20_000)
    occurred_on: IsoDate = Field(
        description="The day the incident happened; never in the future (422), except for measures announced "
        "ahead of the day they take effect: `staff_cap`, `mission_suspension`, `mission_closure`, "
        "`office_closure`, `liaison_suspension` and `sanctions` may be dated up to 366 days ahead (their "
        "effective date). Today is taken in any time zone (up to UTC+14)."
    )
    date_precision: DatePrecision = Field(
        default=DatePrecision.day,
        sa_type=String(10),
        description="How precisely `occurred_on` is known: `day`; `week` (the ISO week, Monday to Sunday, that "
        "holds `occurred_on`); `month`; `year`. An uncertain date stands for its whole span: the `from`/`to` "
        "filters match an incident whose span overlaps the range.",
    )
    announced_on: IsoDate | None = Field(
        default=None,
        description="The day the measure was announced, where that differs from the day it happened or took "
        "effect (a closure announced on 18 October to take effect on 1 November). Optional, day precision.",
    )
    effective_on: IsoDate | None = Field(
        default=None,
        description="The day the measure took or takes effect, where that is known apart from `occurred_on` "
        "(which stays the incident's main date, that lists sort and filter by). Optional, day precision; may lie "
        "ahead for measures announced ahead (see `occurred_on`), by up to 366 days.",
    )
    persons_affected: OptionalInteger = Field(default=None, ge=0, le=2_147_483_647)
    location: str | None = Field(default=None, max_length=300)
    latitude: OptionalNumber = Field(default=None, ge=-90, le=90, description="WGS 84.")
    longitude: OptionalNumber = Field(default=None, ge=-180, le=180, description="WGS 84.")
    tags: list[str] = Field(default_factory=list, sa_type=JSONType)
    status: RecordStatus = Field(default=RecordStatus.published, sa_type=String(20))
    external_ref: str | None = Field(
        default=None, max_length=200, unique=True, description="Natural key for upserts from other systems."
    )


class Incident(IncidentBase, RecordColumns, KeptAnswer, table=True):
    __tablename__ = "incidents"
    __table_args__ = (
        # Partial: lists and aggregates read live incidents only, and so are answered from the
        # index alone (a stats scan over a million rows reads no table page).
        Index("ix_incidents_live_occurred_on_id", "occurred_on", "id", **LIVE),
        # Status and retracted_at too: stats count each kind's date ranges from this index alone.
        Index(
            "ix_incidents_live_kind_occurred_on_id_status",
            "kind",
            "occurred_on",
            "id",
            "status",
            "retracted_at",
            **LIVE,
        ),
        Index("ix_incidents_live_created_at_id", "created_at", "id", **LIVE),
        Index("ix_incidents_live_updated_at_id", "updated_at", "id", **LIVE),
        by_external_ref("incidents"),
        stale_answers("incidents"),
        # An incident's merged-away ones, and the survivor a merged-away reference names (migration 0016).
        Index(
            "ix_incidents_merged_into",
            "merged_into",
            sqlite_where=text("merged_into IS NOT NULL"),
            postgresql_where=text("merged_into IS NOT NULL"),
        ),
    )

    has_status: ClassVar[bool] = True

    merged_into: str | None = Field(
        default=None,
        max_length=36,
        description="The incident this one was merged into (it is then retracted, a tombstone); see "
        "app.incidents.service.merge.",
    )


class Reply(SQLModel, table=True):
    """``incident_id`` answers ``responds_to_id``: the edges of retaliation chains."""

    __tablename__ = "incident_responses"
    __table_args__ = (Index("ix_incident_responses_responds_to_id", "responds_to_id"),)

    incident_id: str = Field(primary_key=True, foreign_key="incidents.id", max_length=36)
    responds_to_id: str = Field(primary_key=True, foreign_key="incidents.id", max_length=36)
    position: int = 0


_EXAMPLE: dict[str, Any] = {
    "kind": "accreditation_withdrawal",
    "title": "NATO withdraws the accreditation of eight members of Russia's mission",
    "occurred_on": "2021-10-06",
    "date_precision": "day",
    "initiators": ["nato"],
    "targets": ["russia"],
    "persons_affected": 8,
    "location": "Brussels",
    "latitude": 50.8793,
    "longitude": 4.4258,
    "tags": ["nato-russia"],
    "external_ref": "eln:2021-10-06:nato-accreditation-withdrawal",
}


class IncidentCreate(IncidentBase, WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    initiators: list[Ref] = Field(
        min_length=1, description="Actor ids, slugs or `scheme:value` codes (`iso3:RUS`); at least one."
    )
    targets: list[Ref] = Field(
        min_length=1, description="Actor ids, slugs or `scheme:value` codes (`iso3:RUS`); at least one."
    )
    responds_to: list[Ref] = Field(default_factory=list, description="Incident ids (or external_refs) this answers.")
    sources: list[Ref | CitedSource] = Field(
        default_factory=list,
        description="The sources cited, in order: each a source id (or url or external_ref), or an object "
        "`{source, provenance}` that keeps with the citation what the system the incident was taken from says of "
        "it (its id for the event and its numbers: see `Provenance`). A source is cited once.",
    )

    @field_validator("occurred_on")
    @classmethod
    def _not_in_the_future(cls, value: date, info: ValidationInfo) -> date:
        kind = info.data.get("kind")
        if value > latest_day(kind):
            if kind in PLANNED_KINDS:
                raise ValueError(
                    "occurred_on lies too far in the future: an announced measure takes effect at most 366 days ahead."
                )
            raise ValueError(
                "occurred_on lies in the future: only measures announced ahead of the day they take effect ("
                + ", ".join(sorted(PLANNED_KINDS))
                + ") may be dated ahead."
            )
        return value

    @field_validator("announced_on", "effective_on")
    @classmethod
    def _within_horizon(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is not None and value > latest_day(IncidentKind.sanctions):
            raise ValueError(f"{info.field_name} lies more than 366 days ahead.")
        if info.field_name == "announced_on" and value is not None and value > latest_day(None):
            raise ValueError("announced_on lies in the future: a measure is announced by today.")
        return value

    @model_validator(mode="after")
    def _announced_before_effect(self) -> "IncidentCreate":
        if self.announced_on and self.effective_on and self.announced_on > self.effective_on:
            raise ValueError("announced_on is after effective_on: a measure takes effect once it is announced.")
        return self


IncidentUpdate = merge_patch_model(
    IncidentCreate,
    "IncidentUpdate",
    "A JSON merge patch: only the fields given change; `null` clears an optional field.",
    {"persons_affected": 8},
)


_REF = {"id": "0192b1c4-8f8e-7c3a-9a51-3c9f1e2d0001"}


class AnsweredRef(IncidentRef):
    """An incident that another answers (``responds_to``); the answered drafts and retracted
    incidents shown to a key that writes say which they are."""

    status: RecordStatus | None = pydantic.Field(
        default=None,
        exclude_if=lambda status: status is None,  # absent, as the answer written in SQL leaves it
        description="Only on an incident's own path read with a `write` key, and only for a draft or a retracted "
        "incident: its status.",
    )


class IncidentPublic(RecordMeta, IncidentBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE,
                    **EXAMPLE_META,
                    "summary": None,
                    "status": "published",
                    "initiators": [{**_REF, "slug": "nato", "name": "NATO"}],
                    "targets": [{**_REF, "slug": "russia", "name": "Russia"}],
                    "responds_to": [],
                    "sources": [],
                }
            ]
        }
    )

    initiators: list[ActorRef]
    targets: list[ActorRef]
    responds_to: list[AnsweredRef] = Field(
        description="The published incidents this answers. A link to a draft or a retracted incident is kept; "
        "it is shown, with its `status`, only on the incident's own path read with a `write` "
        "key, which may read those incidents (lists, chains, views and exports show every caller the same answer, "
        "without it). It shows to everyone again once that incident is published, and the record's history names "
        "it by id."
    )
    sources: list[CitedSourceRef]


class MergeRequest(WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"merged": "0192b1c4-8f8e-7c3a-9a51-3c9f1e2d0002"}]})

    merged: Ref = Field(
        description="The incident merged into this one: its id or `external_ref`. It must be live (a draft may be "
        "merged into a published incident, not a published one into a draft) and not this incident."
    )


class ChainLink(IncidentPublic):
    depth: int = Field(description="0 for the chain's first move, n+1 for an answer to depth n.")


class ChainPage(SQLModel):
    data: list[ChainLink]


MAX_ACTOR_TERMS = 40
"""Most actor terms one list of incidents expands to: each ``actor`` value counts twice (it
walks the actor's incidents as initiator and as target), each ``initiator`` or ``target``
value once. Every term is one arm of the query's compound select."""


CameoCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{2,4}$")]
PloverEvent = Literal[PLOVER_EVENTS]


SPAN_RULE = (
    "An uncertain date counts by its whole span, by `date_precision`: a `week` is the ISO week (Monday to Sunday) "
    "that holds `occurred_on`, a `month` its calendar month, a `year` its calendar year; an incident is listed when "
    "its span overlaps the range `[from, to]` (so `2021-10-20` with precision `month` is listed by "
    "`from=2021-10-01&to=2021-10-05` and by `to=2021-10-01`, but not by `from=2021-11-01`). A day-precision date "
    "counts as its day."
)


class IncidentFilters(SQLModel):
    kind: list[IncidentKind] = repeated("Repeat for OR.")
    cameo: list[CameoCode] = repeated(
        "Incidents of the kinds whose CAMEO event code is this code or lies under it (2 to 4 digits: `16` "
        "names every 16x and 16xx code, `161` the kinds coded 161), as `GET /v1/vocabularies` lists each "
        "kind's `cameo`; repeat for OR. Kinds to codes is many-to-one: `cameo=161` lists every kind that "
        "CAMEO codes 161 (downgrades, breaks, recalls, closures, cancelled visits…). A well-formed code that no "
        "kind carries lists nothing. Combined with `kind` and `plover`, all must hold."
    )
    plover: list[PloverEvent] = repeated(
        "Incidents of the kinds whose PLOVER event category is this one (upper case, as `GET /v1/vocabularies` "
        "lists each kind's `plover`); repeat for OR. A category that no kind carries lists nothing."
    )
    actor: list[str] = repeated(
        f"Initiator or target: {codes.REFERENCE}; repeat for OR. An unknown actor is 422 naming the parameter. "
        "`actor`, `initiator` and `target` together expand to at most 40 terms, each `actor` value counting 2 "
        "(more is 422)."
    )
    initiator: list[str] = repeated(
        "Like `actor` (an id, slug or `scheme:value` code); repeat for OR. Counts 1 term of the 40 (see `actor`)."
    )
    target: list[str] = repeated(
        "Like `actor` (an id, slug or `scheme:value` code); repeat for OR. Counts 1 term of the 40 (see `actor`)."
    )
    include_affiliated: bool = Field(default=False, description=codes.INCLUDE_AFFILIATED)
    from_: IsoDate | None = Field(
        default=None,
        alias="from",
        description="Incidents on or after this day, inclusive: whose date's span ends on or after it. " + SPAN_RULE,
    )
    to: IsoDate | None = Field(
        default=None,
        description="Incidents on or before this day, inclusive: whose date's span begins on or before it. "
        + SPAN_RULE,
    )
    q: str | None = Field(
        default=None,
        description="Full text over title and summary: every word must appear. "
        "Sorted by relevance unless `sort` is given.",
    )
    tag: list[str] = repeated("Repeat for OR.")
    status: list[RecordStatus] = repeated(
        "Repeat for OR. Drafts and retracted records are listed only for keys with `write`; "
        "retracted ones only when `status=retracted` is asked for."
    )

    @model_validator(mode="after")
    def _bounded_terms(self) -> "IncidentFilters":
        terms = 2 * len(self.actor) + len(self.initiator) + len(self.target)
        if terms > MAX_ACTOR_TERMS:
            raise ValueError(
                f"actor, initiator and target expand to {terms} terms, more than {MAX_ACTOR_TERMS} "
                "(each actor value counts 2, each initiator or target value 1)."
            )
        return self
