from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, StringConstraints, WithJsonSchema, field_validator
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


def by_code(column: str) -> Index:
    """The unique index of the actors that have a code in one scheme: each code names one
    actor, and a look-up by ``scheme:value`` reads the index alone (partial, as
    :func:`app.kit.records.by_external_ref` explains)."""
    present = text(f"{column} IS NOT NULL")
    return Index(f"ix_actors_{column}", column, unique=True, sqlite_where=present, postgresql_where=present)


class Actor(ActorBase, RecordColumns, KeptAnswer, table=True):
    __tablename__ = "actors"
    __table_args__ = (
        Index("ix_actors_name_id", "name", "id"),
        Index("ix_actors_kind", "kind"),
        Index("ix_actors_affiliation_id", "affiliation_id"),
        by_external_ref("actors"),
        stale_answers("actors"),
        *(by_code(column) for column in codes.COLUMNS.values()),
    )

    affiliation_id: str | None = Field(default=None, foreign_key="actors.id", max_length=36)
    code_iso3: str | None = Field(default=None, max_length=3)
    code_iso2: str | None = Field(default=None, max_length=2)
    code_fips: str | None = Field(default=None, max_length=2)
    code_cameo: str | None = Field(default=None, max_length=15)
    code_cow: str | None = Field(default=None, max_length=4)
    code_gw: str | None = Field(default=None, max_length=4)
    code_wikidata: str | None = Field(default=None, max_length=13)


def _code(scheme: str) -> Any:
    def check(value: str | None) -> str | None:
        if value is None:
            return None
        value = codes.normal(scheme, value)
        if scheme == "iso3":
            check_country_code(value)
        if not codes.valid(scheme, value):
            raise ValueError(f"{value!r} is not a {scheme} code.")
        return value

    return AfterValidator(check)


class ActorCodes(SQLModel):
    """An actor's codes in the code systems of event data, each unique within its scheme
    (another actor's code is 409). Each names the actor wherever an actor is referred to, as
    `scheme:value` (`iso3:RUS`, `cameo:RUSGOV`, `wikidata:Q159`)."""

    model_config = ConfigDict(extra="forbid")

    iso3: Annotated[CountryCodeInput, _code("iso3")] = Field(
        default=None,
        description="ISO 3166-1 alpha-3 of the state itself (`RUS`); checked as `country_code` is. A body's "
        "country is its `country_code`, not this.",
    )
    iso2: Annotated[str | None, _code("iso2")] = Field(
        default=None, schema_extra={"pattern": r"^[A-Z]{2}$"}, description="ISO 3166-1 alpha-2 (`RU`)."
    )
    fips: Annotated[str | None, _code("fips")] = Field(
        default=None,
        schema_extra={"pattern": r"^[A-Z]{2}$"},
        description="FIPS 10-4, as GDELT's geography writes countries (`RS` is Russia).",
    )
    cameo: Annotated[str | None, _code("cameo")] = Field(
        default=None,
        schema_extra={"pattern": codes.PATTERNS["cameo"]},
        description="CAMEO actor code: a country (`RUS`), a country and a role (`RUSGOV`, `RUSMIL`) or an "
        "international body (`IGOUNO`). CAMEO's own country codes are kept as ISO writes them (`JAPGOV` is "
        "stored `JPNGOV`).",
    )
    cow: Annotated[int | None, Field(ge=1, le=9999)] = Field(
        default=None, description="Correlates of War country number (`365`)."
    )
    gw: Annotated[int | None, Field(ge=1, le=9999)] = Field(
        default=None, description="Gleditsch–Ward country number (`365`)."
    )
    wikidata: Annotated[str | None, _code("wikidata")] = Field(
        default=None, schema_extra={"pattern": codes.PATTERNS["wikidata"]}, description="Wikidata item id (`Q159`)."
    )

    def columns(self) -> dict[str, str | None]:
        """The codes as the actors' columns hold them (numbers as their digits)."""
        values = self.model_dump()
        return {
            column: None if values[scheme] is None else str(values[scheme]) for scheme, column in codes.COLUMNS.items()
        }

    @classmethod
    def of(cls, row: Any) -> dict[str, Any]:
        """The codes of an actor's row (a record or a mapping of its columns), as answered."""
        get = row.get if isinstance(row, dict) else lambda key: getattr(row, key)
        out: dict[str, Any] = {}
        for scheme, column in codes.COLUMNS.items():
            value = get(column)
            out[scheme] = int(value) if value is not None and scheme in codes.NUMBERED else value
        return out


_EXAMPLE: dict[str, Any] = {
    "slug": "sergey-lavrov",
    "name": "Sergey Lavrov",
    "kind": "person",
    "aliases": ["Sergei Lavrov"],
    "affiliation": "russia",
    "description": "Minister of Foreign Affairs of the Russian Federation.",
    "external_ids": {"wikidata": "Q4349"},
}
_EXAMPLE_CODES = {"iso3": None, "iso2": None, "fips": None, "cameo": None, "cow": None, "gw": None, "wikidata": "Q4349"}


class ActorCreate(ActorBase, WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    affiliation: Ref | None = Field(
        default=None, description="The actor this one belongs to (id, slug or `scheme:value` code)."
    )
    country_code: CountryCodeInput = Field(default=None, description=COUNTRY_CODE_DESCRIPTION)
    codes: ActorCodes = Field(
        default_factory=ActorCodes,
        description="The actor's codes, each unique within its scheme (another actor's is 409); leave out the "
        "schemes it has no code in.",
    )

    @field_validator("country_code")
    @classmethod
    def _iso_country(cls, value: str | None) -> str | None:
        return None if value is None else check_country_code(value)


def fold_codes(values: dict[str, Any]) -> dict[str, Any]:
    """An actor's columns with its code columns gathered as its ``codes``, as answered."""
    folded = {key: value for key, value in values.items() if key not in codes.COLUMNS.values()}
    return folded | {"codes": ActorCodes.of(values)}


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
                    "codes": _EXAMPLE_CODES,
                }
            ]
        }
    )

    affiliation: ActorRef | None = None
    codes: ActorCodes = Field(description="The actor's codes; a scheme it has no code in is `null`.")


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
    affiliation: list[str] = repeated(
        "Affiliated to this actor (id, slug or `scheme:value` code); repeat for OR. An unknown actor is 422."
    )


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
