from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.db import SessionDep
from app.exercises import service
from app.exercises.models import Exercise, ExerciseCreate, ExerciseFilters, ExercisePublic, ExerciseUpdate
from app.kit.export import Collection, ExportFormat, list_response
from app.kit.pagination import Listing, listing_dependency, sort_parser
from app.kit.responses import JSONResponse, created
from app.kit.routing import LIST_ERRORS, READ_ERRORS, UPDATE_ERRORS, WRITE_ERRORS, IdPath, merge_patch_body
from app.kit.schemas import FormatQuery, Page

router = APIRouter(prefix="/v1/exercises", tags=["exercises"])
COLLECTION = Collection("exercises", Exercise.id, service.hydrate, ExercisePublic)
ExerciseListing = Annotated[
    Listing,
    Depends(
        listing_dependency(
            sort_parser(
                [Exercise.start_date, Exercise.name, Exercise.created_at, Exercise.updated_at],
                default="-start_date",
                searchable=True,
            )
        )
    ),
]


@router.get("", name="list", summary="List exercises", response_model=Page[ExercisePublic], responses=LIST_ERRORS)
def list_exercises(
    request: Request,
    session: SessionDep,
    listing: ExerciseListing,
    filters: Annotated[ExerciseFilters, Query()],
    format: FormatQuery = ExportFormat.json,
) -> Response:
    """Military exercises, filtered and keyset-paginated, latest start first by default.
    With `format=csv|ndjson|geojson` every matching exercise is streamed as a file
    (GeoJSON holds the exercises that have coordinates)."""
    return list_response(request, session, listing, format, service.query(filters, listing), COLLECTION)


@router.post(
    "",
    name="create",
    summary="Create an exercise",
    status_code=201,
    response_model=ExercisePublic,
    responses=WRITE_ERRORS,
)
def create_exercise(payload: ExerciseCreate, session: SessionDep) -> JSONResponse:
    """Create an exercise; answers 201 with the record and its `Location`. An unknown
    actor or source reference is 422 naming the field."""
    exercise = service.create(session, payload)
    return created(service.public(session, exercise), f"/v1/exercises/{exercise.id}")


@router.get(
    "/{exercise}", name="read", summary="Read an exercise", response_model=ExercisePublic, responses=READ_ERRORS
)
def read_exercise(exercise: IdPath, session: SessionDep) -> JSONResponse:
    """One exercise, by id."""
    return JSONResponse(service.public(session, service.get(session, exercise)))


@router.patch(
    "/{exercise}", name="update", summary="Update an exercise", response_model=ExercisePublic, responses=UPDATE_ERRORS
)
def update_exercise(exercise: IdPath, patch: merge_patch_body(ExerciseUpdate), session: SessionDep) -> JSONResponse:
    """Apply a JSON merge patch; `version` grows by one when anything changes. Setting
    `status` to `retracted` retracts the exercise, as `DELETE` does."""
    row = service.update(session, exercise, patch.model_dump(exclude_unset=True))
    return JSONResponse(service.public(session, row))


@router.delete("/{exercise}", name="delete", summary="Retract an exercise", status_code=204, responses=READ_ERRORS)
def delete_exercise(exercise: IdPath, session: SessionDep) -> Response:
    """Retract the exercise: it disappears from lists and reads but stays in the database."""
    service.delete(session, exercise)
    return Response(status_code=204)
