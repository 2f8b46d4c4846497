from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from app.access.deps import ReadScope
from app.channels.service import today
from app.db import SessionDep
from app.kit.pagination import Listing, hydrated, listing_dependency, page_response, sort_parser
from app.kit.problems import invalid
from app.kit.responses import JSONResponse
from app.kit.routing import LIST_ERRORS, READ_ERRORS, ActorPath
from app.kit.schemas import DateQuery, IsoDate, repeated_query
from app.views import service
from app.views.models import GROUP_BY, Dyad, EntryType, Stats, Timeline

router = APIRouter(prefix="/v1", tags=["views"])
TIMELINE_SORT = sort_parser([service.TIMELINE_DATE], default="-date")
TimelineListing = Annotated[Listing, Depends(listing_dependency(TIMELINE_SORT))]
ActorsQuery = Annotated[list[str], repeated_query("Actor id or slug; repeat for OR.")]
FromQuery = Annotated[IsoDate | None, Query(alias="from", description="Inclusive date, `YYYY-MM-DD`.")]


@router.get(
    "/dyads/{a}/{b}",
    name="dyad",
    summary="The state of relations between two actors",
    response_model=Dyad,
    responses=READ_ERRORS | LIST_ERRORS,
)
def read_dyad(
    caller: ReadScope,
    a: ActorPath,
    b: ActorPath,
    session: SessionDep,
    as_of: Annotated[IsoDate | None, Query(description="The date to describe; default today (UTC).")] = None,
    window_days: Annotated[
        int, Query(ge=1, le=36_500, description="Incidents counted in `(as_of - window_days, as_of]`.")
    ] = 90,
) -> JSONResponse:
    """The channels between `a` and `b` with their status on `as_of`, incident counts by kind
    in each direction within the window, the latest ten incidents between them on or before
    `as_of`, and the exercises active on `as_of` in which either takes part. `a` equal to `b`
    is 422; an unknown actor is 404."""
    return JSONResponse(service.dyad(session, a, b, as_of or today(), window_days, caller.sees_unpublished))


@router.get(
    "/timeline",
    name="timeline",
    summary="Incidents, exercises and channel changes in one stream",
    response_model=Timeline,
    responses=LIST_ERRORS,
)
def read_timeline(
    caller: ReadScope,
    request: Request,
    session: SessionDep,
    listing: TimelineListing,
    actor: ActorsQuery = [],  # noqa: B006 - FastAPI copies defaults
    type: Annotated[list[EntryType], repeated_query("Entry types to include; repeat for OR.")] = [],  # noqa: B006
    from_: FromQuery = None,
    to: DateQuery = None,
) -> JSONResponse:
    """One chronological stream, newest first and cursor-paginated like the lists, of
    incidents (by `occurred_on`), exercises (by `start_date`) and channel status changes
    (by `effective_on`). Each entry is `{type, date, id, title, actors}` with the record's own
    fields under `record`; a status change's record names its `channel`."""
    stmt, id_column = service.timeline_query(actor, type, from_, to, listing, caller.sees_unpublished)
    return page_response(request, listing, session, stmt, id_column, hydrated(service.timeline_hydrate))


@router.get(
    "/stats/incidents",
    name="incident-stats",
    summary="Incident counts in buckets",
    response_model=Stats,
    responses=LIST_ERRORS,
)
def incident_stats(
    caller: ReadScope,
    session: SessionDep,
    group_by: Annotated[
        str,
        Query(
            description="One or two different keys of `kind`, `month`, `year`, `initiator`, `target`, "
            "comma-separated, without spaces.",
            examples=["kind,month"],
            json_schema_extra={"enum": GROUP_BY},
        ),
    ] = "kind",
    from_: FromQuery = None,
    to: DateQuery = None,
    actor: ActorsQuery = [],  # noqa: B006
) -> JSONResponse:
    """Counts of live incidents grouped by one or two keys, computed in the database. Months
    are `YYYY-MM`, years `YYYY`, actors their slugs. When `month` is asked, every month
    between `from` and `to` (or the first and last month with data) appears, with 0 where
    nothing happened; that span is at most 1,200 months (more is 422)."""
    if group_by not in GROUP_BY:
        raise invalid(
            ["query", "group_by"],
            "group_by takes one or two different keys of kind, month, year, initiator, target, joined by a comma.",
        )
    keys = group_by.split(",")
    return JSONResponse(
        {"group_by": keys, "data": service.incident_stats(session, keys, from_, to, actor, caller.sees_unpublished)}
    )
