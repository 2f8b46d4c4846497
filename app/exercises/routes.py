from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.access.deps import ReadScope, WriteScope
from app.actors import service as actors
from app.db import SessionDep
from app.exercises import service
from app.exercises.collection import COLLECTION
from app.exercises.models import Exercise, ExerciseCreate, ExerciseFilters, ExercisePublic, ExerciseUpdate
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
    IdPath,
    merge_patch_body,
)
from app.kit.schemas import CountQuery, FormatQuery, Page

router = APIRouter(prefix="/v1/exercises", tags=["exercises"])
Fields = Annotated[Selection | None, Depends(fields_parameter(ExercisePublic))]
SORT = sort_parser(
    [Exercise.start_date, Exercise.name, Exercise.created_at, Exercise.updated_at],
    default="-start_date",
    searchable=True,
)
"""How exercises sort, here and on the page that lists them."""
ExerciseListing = Annotated[Listing, Depends(listing_dependency(SORT))]


@router.get("", name="list", summary="List exercises", response_model=Page[ExercisePublic], responses=LIST_ERRORS)
async def list_exercises(
    caller: ReadScope,
    request: Request,
    session: SessionDep,
    listing: ExerciseListing,
    filters: Annotated[ExerciseFilters, Query()],
    fields: Fields,
    format: FormatQuery = ExportFormat.json,
    count: CountQuery = False,
) -> Response:
    """Military exercises, filtered and keyset-paginated, latest start first by default.
    With `format=csv|ndjson|geojson` every matching exercise is streamed as a file
    (GeoJSON holds the exercises that have coordinates)."""
    return await list_response(
        request,
        session,
        listing,
        format,
        service.query(filters, listing, caller.sees_unpublished),
        COLLECTION,
        fields,
        count,
        known=actors.known({"actor": filters.actor}),
    )


@router.post(
    "",
    name="create",
    summary="Create an exercise",
    status_code=201,
    response_model=ExercisePublic,
    responses=WRITE_ERRORS,
)
def create_exercise(caller: WriteScope, request: Request, payload: ExerciseCreate, session: SessionDep) -> Response:
    """Create an exercise; answers 201 with the record, its `ETag` and its `Location`. An
    unknown actor or source reference is 422 naming the field."""
    exercise = service.create(session, payload)
    return etags.answer(
        request, service.public(session, exercise), status_code=201, location=f"/v1/exercises/{exercise.id}"
    )


@router.get(
    "/{exercise}",
    name="read",
    summary="Read an exercise",
    response_model=ExercisePublic,
    responses=READ_ERRORS | etags.NOT_MODIFIED,
)
async def read_exercise(
    caller: ReadScope, request: Request, exercise: IdPath, session: SessionDep, fields: Fields
) -> Response:
    """One exercise, by id, with its `ETag`; 304 when `If-None-Match` names it. A draft is
    answered only to keys with `write` (404 to anyone else), and so is a retracted exercise,
    with `status: retracted`, so that an editor may read it back and restore it
    (`POST .../restore`)."""
    return etags.answer_text(
        request,
        *await read(session, service.read_text, session, exercise, caller.sees_unpublished),
        selection=fields,
    )


@router.patch(
    "/{exercise}", name="update", summary="Update an exercise", response_model=ExercisePublic, responses=UPDATE_ERRORS
)
def update_exercise(
    caller: WriteScope,
    request: Request,
    exercise: IdPath,
    patch: merge_patch_body(ExerciseUpdate),
    if_match: IfMatch,
    session: SessionDep,
) -> Response:
    """Apply a JSON merge patch; `version` grows by one when anything changes. Setting
    `status` to `retracted` retracts the exercise, as `DELETE` does. With `If-Match`, only
    if the exercise is still at that version (else 412, nothing written)."""
    row = service.update(session, exercise, patch.model_dump(exclude_unset=True), if_match)
    return etags.answer(request, service.public(session, row))


@router.delete("/{exercise}", name="delete", summary="Retract an exercise", status_code=204, responses=DELETE_ERRORS)
def delete_exercise(caller: WriteScope, exercise: IdPath, if_match: IfMatch, session: SessionDep) -> Response:
    """Retract the exercise: it disappears from lists and reads but stays in the database.
    With `If-Match`, only if the exercise is still at that version (else 412)."""
    service.delete(session, exercise, if_match)
    return Response(status_code=204)


@router.post(
    "/{exercise}/restore",
    name="restore",
    summary="Restore a retracted exercise",
    response_model=ExercisePublic,
    responses=RESTORE_ERRORS,
    description=RESTORE_DOC.format(noun="exercise", published=" (and published)"),
)
def restore_exercise(
    caller: WriteScope, request: Request, exercise: IdPath, if_match: IfMatch, session: SessionDep
) -> Response:
    row = service.restore(session, exercise, if_match)
    return etags.answer(request, service.public(session, row))
