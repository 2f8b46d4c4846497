from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.access.deps import ReadScope, WriteScope
from app.db import SessionDep
from app.kit import etags
from app.kit.etags import IfMatch
from app.kit.export import ExportFormat, list_response
from app.kit.fields import Selection, fields_parameter
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
    SourcePath,
    merge_patch_body,
)
from app.kit.schemas import CountQuery, FormatQuery, Page
from app.sources import service
from app.sources.collection import COLLECTION
from app.sources.models import Source, SourceCreate, SourceFilters, SourcePublic, SourceUpdate

router = APIRouter(prefix="/v1/sources", tags=["sources"])
Fields = Annotated[Selection | None, Depends(fields_parameter(SourcePublic))]
SourceListing = Annotated[
    Listing,
    Depends(
        listing_dependency(
            sort_parser([Source.created_at, Source.title, Source.updated_at], default="-created_at", searchable=True)
        )
    ),
]


@router.get("", name="list", summary="List sources", response_model=Page[SourcePublic], responses=LIST_ERRORS)
async def list_sources(
    caller: ReadScope,
    request: Request,
    session: SessionDep,
    listing: SourceListing,
    filters: Annotated[SourceFilters, Query()],
    fields: Fields,
    format: FormatQuery = ExportFormat.json,
    count: CountQuery = False,
) -> Response:
    """Where facts come from, filtered and keyset-paginated.
    With `format=csv|ndjson` every matching source is streamed as a file."""
    return await list_response(
        request, session, listing, format, service.query(filters, listing), COLLECTION, fields, count
    )


@router.post(
    "", name="create", summary="Create a source", status_code=201, response_model=SourcePublic, responses=WRITE_ERRORS
)
def create_source(caller: WriteScope, request: Request, payload: SourceCreate, session: SessionDep) -> Response:
    """Create a source; answers 201 with the record, its `ETag` and its `Location`."""
    source = service.create(session, payload)
    return etags.answer(request, service.public(session, source), status_code=201, location=f"/v1/sources/{source.id}")


@router.get(
    "/{source}",
    name="read",
    summary="Read a source",
    response_model=SourcePublic,
    responses=READ_ERRORS | etags.NOT_MODIFIED,
)
async def read_source(
    caller: ReadScope, request: Request, source: SourcePath, session: SessionDep, fields: Fields
) -> Response:
    """One source, by id, with its `ETag`; 304 when `If-None-Match` names it."""
    return etags.answer_text(request, *await read(session, service.read_text, session, source), selection=fields)


@router.patch(
    "/{source}", name="update", summary="Update a source", response_model=SourcePublic, responses=UPDATE_ERRORS
)
def update_source(
    caller: WriteScope,
    request: Request,
    source: SourcePath,
    patch: merge_patch_body(SourceUpdate),
    if_match: IfMatch,
    session: SessionDep,
) -> Response:
    """Apply a JSON merge patch; `version` grows by one when anything changes. With
    `If-Match`, only if the source is still at that version (else 412, nothing written)."""
    row = service.update(session, source, patch.model_dump(exclude_unset=True), if_match)
    return etags.answer(request, service.public(session, row))


@router.delete("/{source}", name="delete", summary="Retract a source", status_code=204, responses=DELETE_ERRORS)
def delete_source(caller: WriteScope, source: SourcePath, if_match: IfMatch, session: SessionDep) -> Response:
    """Retract the source: it disappears from lists and reads but stays in the database;
    records that cite it keep their references. With `If-Match`, only if the source is
    still at that version (else 412)."""
    service.delete(session, source, if_match)
    return Response(status_code=204)


@router.post(
    "/{source}/restore",
    name="restore",
    summary="Restore a retracted source",
    response_model=SourcePublic,
    responses=RESTORE_ERRORS,
    description=RESTORE_DOC.format(noun="source", published=""),
)
def restore_source(
    caller: WriteScope, request: Request, source: SourcePath, if_match: IfMatch, session: SessionDep
) -> Response:
    row = service.restore(session, source, if_match)
    return etags.answer(request, service.public(session, row))
