"""Shapes shared by every collection: pages, references, write bodies and their merge patches."""

import re
from datetime import date
from typing import Annotated, Any, Generic, TypeVar, get_args, get_origin

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model, field_validator
from pydantic.fields import FieldInfo
from sqlmodel import SQLModel
from sqlmodel.main import FieldInfoMetadata

from app.kit.export import ExportFormat
from app.kit.problems import from_pydantic
from app.kit.writes import merge_patch

WHITESPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
"""What ``str.strip`` removes from text, the characters a blank text is made of."""


def _char_class(chars: str) -> str:
    """The inside of a regular-expression class of ``chars``, runs written as ranges."""
    runs: list[list[int]] = []
    for code in sorted(map(ord, chars)):
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "".join(f"\\u{a:04x}" + (f"-\\u{b:04x}" if b > a else "") for a, b in runs)


SPACES = _char_class(WHITESPACE)
"""The whitespace characters as the inside of a regular-expression class, written out so that
Python and a schema's (ECMAScript's) expressions agree on them (their ``\\s`` differ)."""
NON_BLANK = f"^[^\\u0000]*[^\\u0000{SPACES}][^\\u0000]*$"
"""Text with something other than whitespace in it (and no NUL, which no text may hold)."""


def _strip(value: Any) -> Any:
    if type(value) is str:
        return value.strip()
    if isinstance(value, list):
        return [_strip(v) for v in value]
    if isinstance(value, dict):
        return {_strip(k): _strip(v) for k, v in value.items()}
    return value


class WriteModel(BaseModel):
    """A write body. Unknown fields are refused (422), so that typos surface. Text is checked
    against its limits as sent (``maxLength`` counts every character the client sent), then
    kept without surrounding whitespace; a required text must hold more than whitespace."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _strip_text(cls, value: Any) -> Any:
        return _strip(value)


Ref = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=NON_BLANK,
        description="A record's id (or its natural key where noted).",
    ),
]


T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; `null` on the last page.")
    total: int = Field(
        default=None,
        ge=0,
        description="Only with `count=true`: how many records match the list's filters for this caller, on every "
        "page together (the cursor and `limit` aside). Absent otherwise.",
        json_schema_extra=lambda schema: schema.pop("default", None),
    )


class ActorRef(SQLModel):
    id: str
    slug: str
    name: str


class IncidentRef(SQLModel):
    id: str
    title: str
    occurred_on: date


class SourceRef(SQLModel):
    id: str
    title: str
    url: str | None = Field(description="`null` for a source known by its publisher and `external_ref` alone.")


FORMAT_DESCRIPTION = "`json` (a page), or `csv`, `ndjson`, `geojson` to stream every matching row as a file."
FormatQuery = Annotated[ExportFormat, Query(description=FORMAT_DESCRIPTION)]

CountQuery = Annotated[
    bool,
    Query(
        description="`true` adds `total` to a JSON page: the number of records matching the same filters (and "
        "visible to the caller) on every page together. It costs one more statement (a `count` over the list), "
        "so ask for it when the number is wanted, not on every page. Files (`format`) hold every row anyway."
    ),
]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: object) -> object:
    if not isinstance(value, date) and not (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        raise ValueError("Expected a date, YYYY-MM-DD.")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A date written ``YYYY-MM-DD`` and nothing else: pydantic alone also reads ``0`` as 1970-01-01."""

DateQuery = Annotated[IsoDate | None, Query(description="Inclusive date, `YYYY-MM-DD`.")]

MAX_REPEAT = 20
"""Most values one repeated filter takes. Each value is a term of the query (an index walk, a
subquery); without a bound, a 2 KB URL can ask the database for hours of work."""


def repeated(description: str) -> Any:
    """A repeatable filter of at most :data:`MAX_REPEAT` values (more is 422), documented so."""
    return Field(default_factory=list, max_length=MAX_REPEAT, description=f"{description} At most {MAX_REPEAT} values.")


def repeated_query(description: str) -> Any:
    """:func:`repeated` for a query parameter declared on its own."""
    return Query(max_length=MAX_REPEAT, description=f"{description} At most {MAX_REPEAT} values.")


def _json_number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float | None):
        raise ValueError("Expected a number.")
    return value


OptionalInteger = Annotated[int | None, BeforeValidator(_json_number)]
"""An integer written as a JSON number, or null: pydantic alone also reads ``true`` and ``"8"``
as integers. (The validator wraps the union: around ``int`` alone, pydantic would write the
field's bounds as ``ge``/``le`` in the JSON schema instead of ``minimum``/``maximum``.)"""

OptionalNumber = Annotated[float | None, BeforeValidator(_json_number)]
"""A number written as a JSON number, or null, like :data:`OptionalInteger`."""


def validate_merged(model: type[M], current: dict[str, Any], patch: dict[str, Any]) -> M:
    """Apply a JSON merge patch to a record's current input form and validate the result."""
    try:
        return model.model_validate(merge_patch(current, patch))
    except ValidationError as exc:
        raise from_pydantic(exc) from None


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def merge_patch_model(create: type[BaseModel], name: str, doc: str, example: dict[str, Any]) -> type[WriteModel]:
    """The body of a ``PATCH``: a JSON merge patch (RFC 7396) of a ``create`` body. Every field
    is optional and keeps its limits; ``null`` is allowed only where a create may leave the
    field out (it restores the default), and an object is patched member by member (``null``
    removes a member). The patched record is then validated as a whole, like a create."""
    fields: dict[str, Any] = {}
    for field, info in create.model_fields.items():
        annotation = info.annotation
        if get_origin(annotation) is dict:
            key, value = get_args(annotation)
            annotation = dict[key, value | None]
        if not info.is_required():
            annotation = annotation | None
        limits = [m for m in info.metadata if not isinstance(m, FieldInfoMetadata)]
        patched = Annotated[annotation, *limits] if limits else annotation
        fields[field] = (
            patched,
            FieldInfo(default=None, description=info.description, json_schema_extra=_without_default),
        )
    return create_model(
        name,
        __base__=WriteModel,
        __doc__=doc,
        __module__=create.__module__,
        __cls_kwargs__={"json_schema_extra": {"examples": [example]}},
        **fields,
    )
