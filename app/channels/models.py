from datetime import datetime
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import Index, String, text
from sqlmodel import Field, SQLModel

from app.kit.records import EXAMPLE_META, KeptAnswer, RecordColumns, RecordMeta, by_external_ref, stale_answers
from app.kit.schemas import (
    NON_BLANK,
    ActorRef,
    IncidentRef,
    IsoDate,
    Ref,
    SourceRef,
    WriteModel,
    merge_patch_model,
    repeated,
)
from app.vocab import ChannelKind, ChannelLevel, ChannelStatus


class ChannelBase(SQLModel):
    name: str = Field(min_length=1, max_length=300, schema_extra={"pattern": NON_BLANK})
    kind: ChannelKind = Field(sa_type=String(30))
    location: str | None = Field(default=None, max_length=300)
    level: ChannelLevel | None = Field(default=None, sa_type=String(20))
    established_on: IsoDate | None = Field(default=None, description="The channel exists from this date.")
    description: str | None = Field(default=None, max_length=20_000)
    external_ref: str | None = Field(
        default=None, max_length=200, unique=True, description="Natural key for upserts from other systems."
    )


class Channel(ChannelBase, RecordColumns, KeptAnswer, table=True):
    __tablename__ = "channels"
    __table_args__ = (
        Index("ix_channels_name_id", "name", "id"),
        Index("ix_channels_created_at_id", "created_at", "id"),
        Index("ix_channels_updated_at_id", "updated_at", "id"),
        by_external_ref("channels"),
        stale_answers("channels"),
    )


class StatusChangeBase(SQLModel):
    status: ChannelStatus = Field(sa_type=String(20))
    effective_on: IsoDate
    note: str | None = Field(default=None, max_length=10_000)
    external_ref: str | None = Field(
        default=None, max_length=200, unique=True, description="Natural key for upserts from other systems."
    )


class StatusChange(StatusChangeBase, RecordColumns, table=True):
    __tablename__ = "channel_status_changes"
    __table_args__ = (
        Index("ix_channel_status_changes_channel", "channel_id", "effective_on", "created_at"),
        Index("ix_channel_status_changes_effective_on_id", "effective_on", "id"),
        by_external_ref("channel_status_changes"),
        # The channels whose answers show an incident (migration 0017).
        Index(
            "ix_channel_status_changes_caused_by",
            "caused_by_id",
            sqlite_where=text("caused_by_id IS NOT NULL"),
            postgresql_where=text("caused_by_id IS NOT NULL"),
        ),
    )

    channel_id: str = Field(foreign_key="channels.id", max_length=36)
    caused_by_id: str | None = Field(default=None, foreign_key="incidents.id", max_length=36)


class StatusChangeCreate(StatusChangeBase, WriteModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "suspended",
                    "effective_on": "2021-11-01",
                    "caused_by": "eln:2021-10-18:russia-suspends-mission",
                    "note": "Announced by Sergey Lavrov on 18 October 2021.",
                }
            ]
        },
    )

    caused_by: Ref | None = Field(default=None, description="The incident (id or external_ref) that caused it.")
    sources: list[Ref] = Field(default_factory=list, description="Source ids (or urls or external_refs).")


class StatusChangePublic(StatusChangeBase):
    id: str
    created_at: datetime
    caused_by: IncidentRef | None = Field(
        description="The incident that caused the change; `null` while that incident is a draft or retracted."
    )
    sources: list[SourceRef]


_EXAMPLE: dict[str, Any] = {
    "name": "NATO Information Office in Moscow",
    "kind": "information_office",
    "parties": ["nato", "russia"],
    "host": "russia",
    "location": "Moscow",
    "level": "diplomatic",
    "established_on": "2001-02-20",
}


class ChannelCreate(ChannelBase, WriteModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    parties: list[Ref] = Field(
        min_length=2, description="Actor ids, slugs or `scheme:value` codes (`iso3:RUS`); at least two."
    )
    host: Ref | None = Field(default=None, description="The hosting actor (id, slug or `scheme:value` code).")
    sources: list[Ref] = Field(default_factory=list, description="Source ids (or urls or external_refs).")


ChannelUpdate = merge_patch_model(
    ChannelCreate,
    "ChannelUpdate",
    "A JSON merge patch: only the fields given change; `null` clears an optional field.\n"
    "Status is changed by recording a status change, not here.",
    {"location": "Moscow"},
)


class ChannelPublic(RecordMeta, ChannelBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE,
                    **EXAMPLE_META,
                    "description": None,
                    "external_ref": None,
                    "parties": [
                        {"id": "0192b1c4-8f8e-7c3a-9a51-3c9f1e2d0001", "slug": "nato", "name": "NATO"},
                        {"id": "0192b1c4-8f8e-7c3a-9a51-3c9f1e2d0002", "slug": "russia", "name": "Russia"},
                    ],
                    "host": {"id": "0192b1c4-8f8e-7c3a-9a51-3c9f1e2d0002", "slug": "russia", "name": "Russia"},
                    "status": "closed",
                    "status_history": [],
                    "sources": [],
                }
            ]
        }
    )

    parties: list[ActorRef]
    host: ActorRef | None
    status: ChannelStatus | None = Field(
        description="The status in force on `as_of` (today by default); null before the channel exists."
    )
    status_history: list[StatusChangePublic] = Field(description="Oldest first, by `effective_on`.")
    sources: list[SourceRef]


class ChannelFilters(SQLModel):
    party: list[str] = repeated(
        "Channels including every given party (id, slug or `scheme:value` code). An unknown actor is 422."
    )
    kind: list[ChannelKind] = repeated("Repeat for OR.")
    status: list[ChannelStatus] = repeated("Status on `as_of`; repeat for OR.")
    as_of: IsoDate | None = Field(
        default=None, description="Evaluate `status` on this date and leave out channels that did not exist then."
    )
