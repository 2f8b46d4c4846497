from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app.access.deps import ReadScope
from app.actors import codes
from app.actors import service as actors
from app.channels.service import today
from app.db import SessionDep
from app.kit.export import csv_response
from app.kit.pagination import Listing, hydrated, listing_dependency, page_response, sort_parser
from app.kit.problems import invalid
from app.kit.reads import read_engine
from app.kit.responses import JSONResponse
from app.kit.routing import LIST_ERRORS, READ_ERRORS, ActorPath
from app.kit.schemas import DateQuery, IsoDate, repeated_query
from app.views import service
from app.views.models import GROUP_BY, Dyad, EntryType, Stats, Timeline

router = APIRouter(prefix="/v1", tags=["views"])
TIMELINE_SORT = sort_parser([service.TIMELINE_DATE], default="-date")
TimelineListing = Annotated[Listing, Depends(listing_dependency(TIMELINE_SORT))]
ActorsQuery = Annotated[
    list[str],
    repeated_query(f"Actor: {codes.REFERENCE}; repeat for OR. An unknown actor is 422 naming the parameter."),
]
IncludeAffiliatedQuery = Annotated[bool, Query(description=codes.INCLUDE_AFFILIATED)]
FromQuery = Annotated[IsoDate | None, Query(alias="from", description="Inclusive date, `YYYY-MM-DD`.")]


class TableFormat(StrEnum):
    json = "json"
    csv = "csv"


def format_query(csv: str) -> Any:
    """The `format` parameter of a view: JSON, or ``csv`` (what its CSV holds)."""
    return Annotated[
        TableFormat, Query(description=f"`json` (default), or `csv`: a `text/csv` file with a header row; {csv}")
    ]


CSV_CSV = "text/csv; charset=utf-8"
DYAD_COLUMNS = ["direction", "initiator", "target", "kind", "count"]
TIMELINE_COLUMNS = ["type", "date", "id", "title", "actors"]
TIMELINE_CHUNK = 500
"""Entries read at a time when a timeline is streamed as CSV."""


@router.get(
    "/dyads/{a}/{b}",
    name="dyad",
    summary="The state of relations between two actors",
    response_model=Dyad,
    responses=READ_ERRORS | LIST_ERRORS | {200: {"content": {CSV_CSV: {}}}},
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
    include_affiliated: IncludeAffiliatedQuery = False,
    format: format_query(
        "the incident counts alone, one row per direction and kind with incidents in the window: "
        "`direction` (`a_to_b` or `b_to_a`), `initiator` and `target` (slugs), `kind`, `count`."
    ) = TableFormat.json,
) -> Response:
    """The channels between `a` and `b` with their status on `as_of`, incident counts by kind
    in each direction within the window, the latest ten incidents between them on or before
    `as_of`, and the exercises active on `as_of` in which either takes part. `a` equal to `b`
    is 422; an unknown actor is 404. `a` and `b` are ids or slugs, codes (`iso3:RUS`,
    `cameo:RUSGOV`) or natural keys (`ref:{external_ref}`). With `include_affiliated=true`
    each side is the actor and the actors affiliated to it. With `format=csv`, the incident
    counts as a CSV file."""
    dyad = service.dyad(session, a, b, as_of or today(), window_days, caller.sees_unpublished, include_affiliated)
    if format is TableFormat.csv:
        sides = {"a_to_b": (dyad["a"]["slug"], dyad["b"]["slug"]), "b_to_a": (dyad["b"]["slug"], dyad["a"]["slug"])}
        rows = [
            {"direction": direction, "initiator": sides[direction][0], "target": sides[direction][1]}
            | {"kind": kind, "count": n}
            for direction, by_kind in dyad["incident_counts"].items()
            for kind, n in by_kind.items()
        ]
        return csv_response(DYAD_COLUMNS, iter([rows]), "dyad")
    return JSONResponse(dyad)


@router.get(
    "/timeline",
    name="timeline",
    summary="Incidents, exercises and channel changes in one stream",
    response_model=Timeline,
    responses=LIST_ERRORS | {200: {"content": {CSV_CSV: {}}}},
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
    include_affiliated: IncludeAffiliatedQuery = False,
    format: format_query(
        "every matching entry (no pages, as a list's export), in the stream's order: `type`, `date`, "
        "`id`, `title`, `actors` (their slugs, joined by `;`)."
    ) = TableFormat.json,
) -> Response:
    """One chronological stream, newest first and cursor-paginated like the lists, of
    incidents (by `occurred_on`), exercises (by `start_date`) and channel status changes
    (by `effective_on`). Each entry is `{type, date, id, title, actors}` with the record's own
    fields under `record`; a status change's record names its `channel`. With `format=csv`,
    every matching entry as a CSV file, without the records' own fields."""
    known = actors.known({"actor": actor})
    if format is TableFormat.csv:
        if known is not None:
            known(session, True)
        entries = service.timeline_walk(
            read_engine(session),
            actor,
            type,
            from_,
            to,
            listing,
            caller.sees_unpublished,
            TIMELINE_CHUNK,
            include_affiliated,
        )
        return csv_response(TIMELINE_COLUMNS, entries, "timeline")
    stmt, id_column = service.timeline_query(
        actor, type, from_, to, listing, caller.sees_unpublished, include_affiliated
    )
    return page_response(request, listing, session, stmt, id_column, hydrated(service.timeline_hydrate), known=known)


@router.get(
    "/stats/incidents",
    name="incident-stats",
    summary="Incident counts in buckets",
    response_model=Stats,
    responses=LIST_ERRORS | {200: {"content": {CSV_CSV: {}}}},
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
    format: format_query(
        "one row per bucket, in the JSON answer's order: the `group_by` keys in the order asked, then `count`."
    ) = TableFormat.json,
) -> Response:
    """Counts of live incidents grouped by one or two keys, computed in the database. Months
    are `YYYY-MM`, years `YYYY`, actors their slugs.

    When `month` is asked, months without incidents appear with 0 only where they fit the
    question: from the month of `from` to the month of `to` when they are given, and where
    one is not, from (or to) the first (or last) month of the bucket's own incidents. With
    two keys each value of the other key is a series of its own: a kind whose incidents
    span three months answers three rows, not every month that any kind has. A series
    spans at most 1,200 months (more is 422)."""
    if group_by not in GROUP_BY:
        raise invalid(
            ["query", "group_by"],
            "group_by takes one or two different keys of kind, month, year, initiator, target, joined by a comma.",
        )
    keys = group_by.split(",")
    rows = service.incident_stats(session, keys, from_, to, actor, caller.sees_unpublished)
    if (known := actors.known({"actor": actor})) is not None:
        known(session, not rows)
    if format is TableFormat.csv:
        return csv_response([*keys, "count"], iter([rows]), "incident-stats")
    return JSONResponse({"group_by": keys, "data": rows})


KEPT = (read_dyad, read_timeline, incident_stats)
"""The views whose answers are kept while no write commits (:mod:`app.kit.kept`)."""
