"""The change feed's table and the shapes of ``/v1/changes`` and ``/v1/{collection}/{id}/history``."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, String
from sqlmodel import Field, SQLModel

from app.kit.records import JSONType


class Resource(StrEnum):
    actor = "actor"
    source = "source"
    incident = "incident"
    exercise = "exercise"
    channel = "channel"


class Op(StrEnum):
    create = "create"
    update = "update"
    delete = "delete"
    restore = "restore"
    merge = "merge"


class ChangeBase(SQLModel):
    resource: Resource = Field(sa_type=String(20), description="The record's type: its collection without the `s`.")
    op: Op = Field(
        sa_type=String(10),
        description="`delete` is a retraction: the record reads 404 from this version on (to keys without "
        "`write`). `restore` undoes one: the record is live (and published, where it has a `status`) again from "
        "this version on, by `POST /v1/{collection}/{id}/restore` or by an import line that asks for "
        "`status: published`. A record created retracted has a `create` and a `delete` entry, both at version 1. "
        "`merge` (incidents): two incidents were merged, by `POST /v1/incidents/{id}/merge` or by an import that "
        "found two reports of one event; both get an entry. The survivor's names the merged-away ids in `merged` "
        "and gained their links; the merged-away one's names the survivor in `merged_into`, and from this version "
        "on its id answers 308, redirecting to the survivor. An incident created and merged away by one import has "
        "a `create` and a `merge` entry.",
    )
    version: int = Field(description="The record's version after the change.")
    at: datetime = Field(description="When the change was made (the record's `updated_at` at this version).")


class Change(ChangeBase, table=True):
    """One committed version of a record, numbered in commit order, with the record's fields
    as they were then (its own columns and its links as ids)."""

    __tablename__ = "changes"
    __table_args__ = (
        Index("ix_changes_resource_record_id_seq", "resource", "record_id", "seq"),
        {"sqlite_autoincrement": True},
    )

    seq: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    )
    record_id: str = Field(max_length=36)
    key_id: str | None = Field(default=None, max_length=16)
    snapshot: dict[str, Any] = Field(sa_type=JSONType)


class ChangePublic(ChangeBase):
    seq: int = Field(description="Position in commit order; pass the last one seen as `after`.")
    id: str = Field(description="The record's id.")


class ChangePage(SQLModel):
    data: list[ChangePublic]
    next_cursor: int | None = Field(
        description="The `seq` to pass as `after` for the next page; null when there is nothing more yet."
    )


class Version(SQLModel):
    version: int
    op: Op
    at: datetime
    key_id: str | None = Field(
        description="The public id of the API key that wrote this version; null for the command line."
    )
    changes: dict[str, Any] = Field(
        description="The fields that differ from the previous version, with their new values (all of them for "
        "`create`). Links appear as ids: `initiators`, `targets`, `responds_to`, `sources`, `participants`, "
        "`parties`, `host`, `affiliation`, and a channel's `status_history`."
    )


class History(SQLModel):
    data: list[Version] = Field(description="Every committed version of the record, oldest first.")
