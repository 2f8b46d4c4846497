from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, model_validator
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
    ActorRef,
    IsoDate,
    OptionalInteger,
    OptionalNumber,
    Ref,
    SourceRef,
    WriteModel,
    merge_patch_model,
    repeated,
)
from app.vocab import DatePrecision, ExerciseDomain, ParticipantRole, RecordStatus


class ExerciseBase(SQLModel):
    name: str = Field(min_length=1, max_length=300, schema_extra={"pattern": NON_BLANK})
    aliases: list[str] = Field(default_factory=list, sa_type=JSONType)
    start_date: IsoDate
    end_date: IsoDate | None = Field(default=None, description="Null while unknown.")
    date_precision: DatePrecision = Field(default=DatePrecision.day, sa_type=String(10))
    domains: list[ExerciseDomain] = Field(default_factory=list, sa_type=JSONType)
    location: str | None = Field(default=None, max_length=300)
    region: str | None = Field(default=None, max_length=200)
    latitude: OptionalNumber = Field(default=None, ge=-90, le=90, description="A representative point, WGS 84.")
    longitude: OptionalNumber = Field(default=None, ge=-180, le=180, description="A representative point, WGS 84.")
    troops: OptionalInteger = Field(default=None, ge=0, le=2_147_483_647)
    vessels: OptionalInteger = Field(default=None, ge=0, le=2_147_483_647)
    aircraft: OptionalInteger = Field(default=None, ge=0, le=2_147_483_647)
    summary: str | None = Field(default=None, max_length=20_000)
    tags: list[str] = Field(default_factory=list, sa_type=JSONType)
    status: RecordStatus = Field(default=RecordStatus.published, sa_type=String(20))
    external_ref: str | None = Field(
        default=None, max_length=200, unique=True, description="Natural key for upserts from other systems."
    )


class Exercise(ExerciseBase, RecordColumns, KeptAnswer, table=True):
    __tablename__ = "exercises"
    __table_args__ = (
        Index("ix_exercises_start_date_id", "start_date", "id"),
        Index("ix_exercises_name_id", "name", "id"),
        Index("ix_exercises_created_at_id", "created_at", "id"),
        Index("ix_exercises_updated_at_id", "updated_at", "id"),
        by_external_ref("exercises"),
        stale_answers("exercises"),
    )

    has_status: ClassVar[bool] = True


class ParticipantIn(WriteModel):
    actor: Ref = Field(description="Actor id, slug or `scheme:value` code (`iso3:RUS`).")
    role: ParticipantRole = ParticipantRole.participant


class Participant(BaseModel):
    actor: ActorRef
    role: ParticipantRole


_EXAMPLE: dict[str, Any] = {
    "name": "Joint Sea 2021",
    "start_date": "2021-10-14",
    "end_date": "2021-10-17",
    "participants": [{"actor": "russia", "role": "lead"}, {"actor": "china", "role": "lead"}],
    "domains": ["sea"],
    "region": "Sea of Japan",
}


class ExerciseCreate(ExerciseBase, WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    participants: list[ParticipantIn] = Field(min_length=1, description="At least one.")
    sources: list[Ref] = Field(default_factory=list, description="Source ids (or urls or external_refs).")

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


ExerciseUpdate = merge_patch_model(
    ExerciseCreate,
    "ExerciseUpdate",
    "A JSON merge patch: only the fields given change; `null` clears an optional field.",
    {"end_date": "2021-10-17"},
)


class ExercisePublic(RecordMeta, ExerciseBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE,
                    **EXAMPLE_META,
                    "status": "published",
                    "sources": [],
                    "participants": [
                        {
                            "actor": {"id": "0192b1c4-8f8e-7c3a-9a51-3c9f1e2d0001", "slug": "russia", "name": "Russia"},
                            "role": "lead",
                        }
                    ],
                }
            ]
        }
    )

    participants: list[Participant]
    sources: list[SourceRef]


class ExerciseFilters(SQLModel):
    actor: list[str] = repeated(
        "Any participant (id, slug or `scheme:value` code); repeat for OR. An unknown actor is 422."
    )
    include_affiliated: bool = Field(
        default=False,
        description="With `true`, an actor named by `actor` stands for the actors affiliated to it too, at any "
        "depth (Russia: its government and armed forces, and their people).",
    )
    domain: list[ExerciseDomain] = repeated("Repeat for OR.")
    from_: IsoDate | None = Field(
        default=None, alias="from", description="The exercise overlaps the window from this date."
    )
    to: IsoDate | None = Field(default=None, description="The exercise overlaps the window up to this date.")
    active_on: IsoDate | None = Field(default=None, description="A date inside the exercise.")
    region: list[str] = repeated("Exact region; repeat for OR.")
    q: str | None = Field(
        default=None,
        description="Full text over name, aliases and summary: every word must appear. "
        "Sorted by relevance unless `sort` is given.",
    )
    status: list[RecordStatus] = repeated(
        "Repeat for OR. Drafts and retracted records are listed only for keys with `write`; "
        "retracted ones only when `status=retracted` is asked for."
    )
