from typing import Any

from pydantic import ConfigDict
from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from app.kit.records import EXAMPLE_META, JSONType, RecordColumns, RecordMeta, by_external_ref
from app.kit.schemas import NON_BLANK, IsoDate, WriteModel, merge_patch_model, repeated
from app.vocab import SourceKind


class SourceBase(SQLModel):
    url: str = Field(
        min_length=1, max_length=2000, unique=True, schema_extra={"pattern": NON_BLANK}, description="Unique."
    )
    title: str = Field(min_length=1, max_length=500, schema_extra={"pattern": NON_BLANK})
    publisher: str | None = Field(default=None, max_length=300)
    authors: list[str] = Field(default_factory=list, sa_type=JSONType)
    published_on: IsoDate | None = None
    kind: SourceKind | None = Field(default=None, sa_type=String(20))
    external_ref: str | None = Field(
        default=None, max_length=200, unique=True, description="Natural key for upserts from other systems."
    )


class Source(SourceBase, RecordColumns, table=True):
    __tablename__ = "sources"
    __table_args__ = (
        Index("ix_sources_created_at_id", "created_at", "id"),
        Index("ix_sources_title_id", "title", "id"),
        Index("ix_sources_publisher", "publisher"),
        by_external_ref("sources"),
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


class Citation(SQLModel, table=True):
    """A source cited by an incident, exercise, channel or status change."""

    __tablename__ = "citations"
    __table_args__ = (Index("ix_citations_source_id", "source_id"),)

    resource: str = Field(primary_key=True, max_length=20)
    record_id: str = Field(primary_key=True, max_length=36)
    source_id: str = Field(primary_key=True, foreign_key="sources.id", max_length=36)
    position: int = 0
