"""Shapes shared by every collection: pages, references, write-model configuration."""

from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError
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

DateQuery = Annotated[date | None, Query(description="Inclusive date, `YYYY-MM-DD`.")]


def validate_merged(model: type[M], current: dict[str, Any], patch: dict[str, Any]) -> M:
    """Apply a JSON merge patch to a record's current input form and validate the result."""
    try:
        return model.model_validate(merge_patch(current, patch))
    except ValidationError as exc:
        raise from_pydantic(exc) from None
