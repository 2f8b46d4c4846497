from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.access.deps import ReadScope, WriteScope
from app.actors import service
from app.actors.collection import COLLECTION
from app.actors.models import Actor, ActorCreate, ActorFilters, ActorPublic, ActorUpdate
from app.db import SessionDep
from app.kit import etags
from app.kit.etags import IfMatch
from app.kit.export import ExportFormat, list_response
from app.kit.fields import Selection, fields_parameter
from app.kit.lean import record_read
from app.kit.pagination import Listing, listing_dependency, sort_parser
from app.kit.reads import read
from app.kit.routing import (
    DELETE_ERRORS,
    LIST_ERRORS,
    READ_ERRORS,
    RESTORE_DOC,
    RESTORE_ERRORS,
    UPDATE_ERRORS,
    WRITE_ERRORS,
    ActorPath,
    merge_patch_body,
)
from app.kit.schemas import CountQuery, FormatQuery, Page

router = APIRouter(prefix="/v1/actors", tags=["actors"])
Fields = Annotated[Selection | None, Depends(fields_parameter(ActorPublic))]
ActorListing = Annotated[
    Listing,
    Depends(
        listing_dependency(sort_parser([Actor.name, Actor.slug, Actor.created_at, Actor.updated_at], default="name"))
    ),
]


@router.get("", name="list", summary="List actors", response_model=Page[ActorPublic], responses=LIST_ERRORS)
async def list_actors(
    caller: ReadScope,
    request: Request,
    session: SessionDep,
    listing: ActorListing,
    filters: Annotated[ActorFilters, Query()],
    fields: Fields,
    format: FormatQuery = ExportFormat.json,
    count: CountQuery = False,
) -> Response:
    """States, organisations, people and bodies, filtered and keyset-paginated.
    With `format=csv|ndjson` every matching actor is streamed as a file."""
    return await list_response(
        request,
        session,
        listing,
        format,
        service.query(filters),
        COLLECTION,
        fields,
        count,
        known=service.known({"affiliation": filters.affiliation}),
    )


@router.post(
    "", name="create", summary="Create an actor", status_code=201, response_model=ActorPublic, responses=WRITE_ERRORS
)
def create_actor(caller: WriteScope, request: Request, payload: ActorCreate, session: SessionDep) -> Response:
    """Create an actor; answers 201 with the record, its `ETag` and its `Location`."""
    actor = service.create(session, payload)
    return etags.answer(request, service.public(session, actor), status_code=201, location=f"/v1/actors/{actor.id}")


@router.get(
    "/{actor}",
    name="read",
    summary="Read an actor",
    response_model=ActorPublic,
    responses=READ_ERRORS | etags.NOT_MODIFIED,
)
async def read_actor(
    caller: ReadScope, request: Request, actor: ActorPath, session: SessionDep, fields: Fields
) -> Response:
    """One actor, by id, slug or code (`iso3:RUS`, `cameo:RUSGOV`), with its `ETag`; 304 when
    `If-None-Match` names it."""
    return etags.answer_text(request, *await read(session, service.read_text, session, actor), selection=fields)


lean_read = record_read("actor", service.driver_text, editors_too=True)


@router.patch("/{actor}", name="update", summary="Update an actor", response_model=ActorPublic, responses=UPDATE_ERRORS)
def update_actor(
    caller: WriteScope,
    request: Request,
    actor: ActorPath,
    patch: merge_patch_body(ActorUpdate),
    if_match: IfMatch,
    session: SessionDep,
) -> Response:
    """Apply a JSON merge patch; `version` grows by one when anything changes. With
    `If-Match`, only if the actor is still at that version (else 412, nothing written)."""
    row = service.update(session, actor, patch.model_dump(exclude_unset=True), if_match)
    return etags.answer(request, service.public(session, row))


@router.delete("/{actor}", name="delete", summary="Retract an actor", status_code=204, responses=DELETE_ERRORS)
def delete_actor(caller: WriteScope, actor: ActorPath, if_match: IfMatch, session: SessionDep) -> Response:
    """Retract the actor: it disappears from lists and reads but stays in the database;
    records that refer to it keep their references. With `If-Match`, only if the actor is
    still at that version (else 412)."""
    service.delete(session, actor, if_match)
    return Response(status_code=204)


@router.post(
    "/{actor}/restore",
    name="restore",
    summary="Restore a retracted actor",
    response_model=ActorPublic,
    responses=RESTORE_ERRORS,
    description=RESTORE_DOC.format(noun="actor", published=""),
)
def restore_actor(
    caller: WriteScope, request: Request, actor: ActorPath, if_match: IfMatch, session: SessionDep
) -> Response:
    row = service.restore(session, actor, if_match)
    return etags.answer(request, service.public(session, row))
