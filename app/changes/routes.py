from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.access.deps import ReadScope
from app.changes import service
from app.changes.models import ChangePage, History
from app.db import SessionDep
from app.kit.problems import responses
from app.kit.responses import JSONResponse
from app.records import COLLECTIONS

router = APIRouter(tags=["changes"])


Collection = StrEnum("Collection", {collection.name: collection.name for collection in COLLECTIONS})
"""The collections whose records have a history, as a path parameter takes them."""


@router.get(
    "/v1/changes",
    name="feed",
    summary="The change feed",
    response_model=ChangePage,
    responses=responses(401, 422, 429),
)
def changes(
    caller: ReadScope,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="The last `seq` seen; 0 starts at the beginning.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JSONResponse:
    """Every create, update, delete (retraction) and restore (the undoing of a retraction)
    of actors, sources, incidents, exercises and channels, in commit order; a channel's
    status change is an update of its channel. Each entry is written in the same
    transaction as the change, so a follower misses nothing and sees nothing that was
    rolled back.

    To keep a copy in step, pass the last `seq` you applied as `after` (`next_cursor`
    while it is not null; null means this page reached the end of the feed for now, so
    poll again later with the last `seq` of the page). Entries carry no record content:
    re-read the record by id to apply one, and drop it when that read is 404 (retracted,
    or a draft your key may not see); after a `restore`, read it again as after a
    `create`. Entries for drafts appear for every reader, without their content. Writes
    made in one transaction that change a record more than once give one entry, for the
    committed version."""
    return JSONResponse(service.feed(session, after, limit))


@router.get(
    "/v1/{collection}/{id}/history",
    name="history",
    summary="The versions of a record",
    response_model=History,
    responses=responses(401, 404, 422, 429),
)
def history(
    caller: ReadScope,
    session: SessionDep,
    collection: Collection,
    id: Annotated[
        str,
        Path(
            description="The record's id (an actor's slug too), or its natural key: `ref:{external_ref}`, "
            "and `url:{url}` for a source (percent-encoded as one path segment; see the record's own path)."
        ),
    ],
) -> JSONResponse:
    """Every committed version of a record, oldest first: `version`, `op`, `at`, the
    `key_id` of the API key that wrote it (null for the command line), and `changes`, the
    fields that differ from the previous version with their new values. The history of a
    draft or a retracted record is answered only to keys with `write` (404 to anyone
    else). Records written before the change feed existed start with one entry whose
    `changes` are empty."""
    return JSONResponse({"data": service.history(session, collection.value, id, caller)})
