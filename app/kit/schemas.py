"""Shapes shared by every collection: pages, references, write-model configuration."""

import re
from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from sqlmodel import SQLModel

from app.kit.export import ExportFormat
from app.kit.problems import from_pydantic
from app.kit.records import merge_patch

WRITE_CONFIG = ConfigDict(extra="forbid", str_strip_whitespace=True)

Ref = Annotated[str, Field(min_length=1, max_length=200, description="A record's id (or its natural key where noted).")]


T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; `null` on the last page.")


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
    url: str


FormatQuery = Annotated[
    ExportFormat,
    Query(description="`json` (a page), or `csv`, `ndjson`, `geojson` to stream every matching row as a file."),
]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    if not isinstance(value, date) and not (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        raise ValueError("Expected a date, YYYY-MM-DD.")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A date written ``YYYY-MM-DD`` and nothing else: pydantic alone also reads ``0`` as 1970-01-01."""

DateQuery = Annotated[IsoDate | None, Query(description="Inclusive date, `YYYY-MM-DD`.")]


def validate_merged(model: type[M], current: dict[str, Any], patch: dict[str, Any]) -> M:
    """Apply a JSON merge patch to a record's current input form and validate the result."""
    try:
        return model.model_validate(merge_patch(current, patch))
    except ValidationError as exc:
        raise from_pydantic(exc) from None
