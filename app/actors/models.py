from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, StringConstraints, WithJsonSchema, field_validator
from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from app.kit.records import EXAMPLE_META, JSONType, RecordColumns, RecordMeta, by_external_ref
from app.kit.schemas import NON_BLANK, ActorRef, Ref, WriteModel, merge_patch_model, repeated
from app.vocab import COUNTRY_CODES, ActorKind, check_country_code

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
COUNTRY_CODE_DESCRIPTION = (
    "ISO 3166-1 alpha-3 (states and their bodies), checked against the ISO list (`XYZ` is 422); the alpha-3 "
    "codes of countries that no longer exist (ISO 3166-3: `SUN`, `YUG`, `DDR`, `CSK`) and `XKX` (Kosovo, which "
    "has no ISO code) are taken too. Null for organisations such as NATO or the EU, which have none."
)
CountryCodeInput = Annotated[
    str | None,
    WithJsonSchema({"anyOf": [{"type": "string", "enum": sorted(COUNTRY_CODES)}, {"type": "null"}]}),
]
"""A country code on input: its schema lists the codes taken, so that clients (and fuzzers) know."""
ANY_CASE_COUNTRY_PATTERN = (
    "^(?:" + "|".join("".join(f"[{c}{c.lower()}]" for c in code) for code in sorted(COUNTRY_CODES)) + ")$"
)
"""The codes taken, in upper or lower case letters, as a pattern (an enum of both cases would
name each code twice for the clients generated from the schema)."""


class ActorBase(SQLModel):
    slug: str = Field(
        max_length=100,
        unique=True,
        schema_extra={"pattern": SLUG_PATTERN},
        description="Unique, stable, lower-case words joined by `-`.",
    )
    name: str = Field(min_length=1, max_length=300, schema_extra={"pattern": NON_BLANK})
    kind: ActorKind = Field(sa_type=String(20))
    aliases: list[str] = Field(default_factory=list, sa_type=JSONType)
    country_code: str | None = Field(
        default=None,
        max_length=3,
        schema_extra={"pattern": r"^[A-Z]{3}$"},
        description=COUNTRY_CODE_DESCRIPTION,
    )
    description: str | None = Field(default=None, max_length=10_000)
    external_ids: dict[str, str] = Field(
        default_factory=dict, sa_type=JSONType, description='Identifiers elsewhere, e.g. `{"wikidata": "Q7184"}`.'
    )
    external_ref: str | None = Field(
        default=None, max_length=200, unique=True, description="Natural key for upserts from other systems."
    )


class Actor(ActorBase, RecordColumns, table=True):
    __tablename__ = "actors"
    __table_args__ = (
        Index("ix_actors_name_id", "name", "id"),
        Index("ix_actors_kind", "kind"),
        Index("ix_actors_affiliation_id", "affiliation_id"),
        by_external_ref("actors"),
    )

    affiliation_id: str | None = Field(default=None, foreign_key="actors.id", max_length=36)


_EXAMPLE: dict[str, Any] = {
    "slug": "sergey-lavrov",
    "name": "Sergey Lavrov",
    "kind": "person",
    "aliases": ["Sergei Lavrov"],
    "affiliation": "russia",
    "description": "Minister of Foreign Affairs of the Russian Federation.",
    "external_ids": {"wikidata": "Q4349"},
}


class ActorCreate(ActorBase, WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    affiliation: Ref | None = Field(default=None, description="The actor this one belongs to (id or slug).")
    country_code: CountryCodeInput = Field(default=None, description=COUNTRY_CODE_DESCRIPTION)

    @field_validator("country_code")
    @classmethod
    def _iso_country(cls, value: str | None) -> str | None:
        return None if value is None else check_country_code(value)


ActorUpdate = merge_patch_model(
    ActorCreate,
    "ActorUpdate",
    "A JSON merge patch: only the fields given change; `null` clears an optional field.",
    {"aliases": ["Sergei Lavrov"]},
)


class ActorPublic(RecordMeta, ActorBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE,
                    **EXAMPLE_META,
                    "country_code": None,
                    "external_ref": None,
                    "affiliation": {"id": "0192b1c4-8f8e-7c3a-9a51-3c9f1e2d0000", "slug": "russia", "name": "Russia"},
                }
            ]
        }
    )

    affiliation: ActorRef | None = None


class ActorFilters(SQLModel):
    kind: list[ActorKind] = repeated("Repeat for OR.")
    country: list[
        Annotated[
            str,
            StringConstraints(pattern=r"^[A-Za-z]{3}$"),
            AfterValidator(check_country_code),
            WithJsonSchema({"type": "string", "pattern": ANY_CASE_COUNTRY_PATTERN}),
        ]
    ] = repeated("ISO 3166-1 alpha-3, in any case (an unknown code is 422); repeat for OR.")
    q: str | None = Field(default=None, description="Case-insensitive match on name and aliases.")
    affiliation: list[str] = repeated("Affiliated to this actor (id or slug); repeat for OR.")


class Involvement(SQLModel, table=True):
    """An actor's part in a record: an incident's initiator or target, an exercise's
    participant, a channel's party or host.

    An incident's involvements carry its ``occurred_on`` too (an exercise's its
    ``start_date``), so that one actor's incidents (or exercises) in one role are read from
    the index in date order (the way lists, timelines and dyads walk them) without visiting
    the records they skip."""

    __tablename__ = "involvements"
    __table_args__ = (
        Index("ix_involvements_actor_occurred_on", "actor_id", "resource", "role", "occurred_on", "record_id"),
    )

    resource: str = Field(primary_key=True, max_length=20)
    record_id: str = Field(primary_key=True, max_length=36)
    role: str = Field(primary_key=True, max_length=20)
    actor_id: str = Field(primary_key=True, foreign_key="actors.id", max_length=36)
    position: int = 0
    occurred_on: date | None = None
