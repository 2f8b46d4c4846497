from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.access.deps import ReadScope, WriteScope
from app.actors import service as actors
from app.channels import service
from app.channels.collection import COLLECTION
from app.channels.models import (
    Channel,
    ChannelCreate,
    ChannelFilters,
    ChannelPublic,
    ChannelUpdate,
    StatusChangeCreate,
    StatusChangePublic,
)
from app.db import SessionDep
from app.kit import etags
from app.kit.etags import IfMatch
from app.kit.export import ExportFormat, list_response
from app.kit.fields import Selection, fields_parameter
from app.kit.pagination import Listing, listing_dependency, sort_parser
from app.kit.responses import JSONResponse, created
from app.kit.routing import (
    DELETE_ERRORS,
    KEY_FORMS,
    LIST_ERRORS,
    READ_ERRORS,
    RESTORE_DOC,
    RESTORE_ERRORS,
    UPDATE_ERRORS,
    WRITE_ERRORS,
    IdPath,
    merge_patch_body,
)
from app.kit.schemas import CountQuery, DateQuery, FormatQuery, Page

router = APIRouter(prefix="/v1/channels", tags=["channels"])
Fields = Annotated[Selection | None, Depends(fields_parameter(ChannelPublic))]
ChannelListing = Annotated[
    Listing,
    Depends(listing_dependency(sort_parser([Channel.name, Channel.created_at, Channel.updated_at], default="name"))),
]
ChannelPath = Annotated[str, Path(description="The channel's id or external_ref, or its natural key: " + KEY_FORMS)]


def answer(request: Request, record: dict, **options: Any) -> Response:
    """A channel with its ``ETag``, which carries its status on the day asked for."""
    return etags.answer(request, record, variant=record["status"] or "none", **options)


@router.get("", name="list", summary="List channels", response_model=Page[ChannelPublic], responses=LIST_ERRORS)
async def list_channels(
    caller: ReadScope,
    request: Request,
    session: SessionDep,
    listing: ChannelListing,
    filters: Annotated[ChannelFilters, Query()],
    fields: Fields,
    format: FormatQuery = ExportFormat.json,
    count: CountQuery = False,
) -> Response:
    """Lines of communication between parties, each with its status today or on `as_of`.
    With `as_of`, channels that did not exist on that date are left out."""
    return await list_response(
        request,
        session,
        listing,
        format,
        service.query(filters),
        COLLECTION,
        fields,
        count,
        known=actors.known({"party": filters.party}),
    )


@router.post(
    "", name="create", summary="Create a channel", status_code=201, response_model=ChannelPublic, responses=WRITE_ERRORS
)
def create_channel(caller: WriteScope, request: Request, payload: ChannelCreate, session: SessionDep) -> Response:
    """Create a channel between two or more parties; answers 201 with the record, its
    `ETag` and its `Location`."""
    channel = service.create(session, payload)
    return answer(request, service.public(session, channel), status_code=201, location=f"/v1/channels/{channel.id}")


@router.get(
    "/{channel}",
    name="read",
    summary="Read a channel",
    response_model=ChannelPublic,
    responses=READ_ERRORS | LIST_ERRORS | etags.NOT_MODIFIED,
)
def read_channel(
    caller: ReadScope,
    request: Request,
    channel: IdPath,
    session: SessionDep,
    fields: Fields,
    as_of: DateQuery = None,
) -> Response:
    """One channel with its status history and its status today, or on `as_of`. Its
    `ETag` carries that status beside the version (`"3.suspended"`), so that a cached copy
    is not taken for current once a dated change comes into force; 304 when
    `If-None-Match` names it."""
    return answer(request, service.public(session, service.get(session, channel), as_of), selection=fields)


@router.patch(
    "/{channel}", name="update", summary="Update a channel", response_model=ChannelPublic, responses=UPDATE_ERRORS
)
def update_channel(
    caller: WriteScope,
    request: Request,
    channel: IdPath,
    patch: merge_patch_body(ChannelUpdate),
    if_match: IfMatch,
    session: SessionDep,
) -> Response:
    """Apply a JSON merge patch; `version` grows by one when anything changes. With
    `If-Match`, only if the channel is still at that version (else 412, nothing written)."""
    row = service.update(session, channel, patch.model_dump(exclude_unset=True), if_match)
    return answer(request, service.public(session, row))


@router.delete("/{channel}", name="delete", summary="Retract a channel", status_code=204, responses=DELETE_ERRORS)
def delete_channel(caller: WriteScope, channel: IdPath, if_match: IfMatch, session: SessionDep) -> Response:
    """Retract the channel: it disappears from lists and reads but stays in the database.
    With `If-Match`, only if the channel is still at that version (else 412)."""
    service.delete(session, channel, if_match)
    return Response(status_code=204)


@router.post(
    "/{channel}/restore",
    name="restore",
    summary="Restore a retracted channel",
    response_model=ChannelPublic,
    responses=RESTORE_ERRORS,
    description=RESTORE_DOC.format(noun="channel", published=""),
)
def restore_channel(
    caller: WriteScope, request: Request, channel: IdPath, if_match: IfMatch, session: SessionDep
) -> Response:
    row = service.restore(session, channel, if_match)
    return answer(request, service.public(session, row))


@router.post(
    "/{channel}/status-changes",
    name="record-status-change",
    summary="Record a status change",
    status_code=201,
    response_model=StatusChangePublic,
    responses=WRITE_ERRORS | READ_ERRORS,
)
def record_status_change(
    caller: WriteScope, channel: ChannelPath, payload: StatusChangeCreate, session: SessionDep
) -> JSONResponse:
    """Record that the channel's status became `status` on `effective_on` (which may lie
    in the future: `status` ignores it until that day). Answers 201 with the change; the
    channel's `version` grows by one."""
    row = service.resolve_one(session, channel, for_update=True)
    change = service.record_change(session, row, payload)
    return created(service.change_public(session, change), f"/v1/channels/{row.id}/status-changes/{change.id}")


@router.get(
    "/{channel}/status-changes/{change}",
    name="read-status-change",
    summary="Read a status change",
    response_model=StatusChangePublic,
    responses=READ_ERRORS,
)
def read_status_change(caller: ReadScope, channel: ChannelPath, change: IdPath, session: SessionDep) -> JSONResponse:
    """One recorded status change of a channel."""
    row = service.resolve_one(session, channel)
    return JSONResponse(service.change_public(session, service.get_change(session, row, change)))
