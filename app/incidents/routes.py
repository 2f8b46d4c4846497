import re
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy import Dialect

from app.access.deps import ReadScope, WriteScope
from app.actors import service as actors
from app.db import SessionDep
from app.incidents import merges, service
from app.incidents.collection import COLLECTION
from app.incidents.models import (
    ChainPage,
    Incident,
    IncidentCreate,
    IncidentFilters,
    IncidentPublic,
    IncidentUpdate,
    MergeRequest,
)
from app.ingest import plover
from app.kit import etags, problems, sqljson
from app.kit.etags import IfMatch
from app.kit.export import ExportFormat, list_response
from app.kit.fields import Selection, fields_parameter
from app.kit.lean import LeanRequest, record_read
from app.kit.pagination import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    Listing,
    count_rows,
    fingerprint,
    listing_dependency,
    page_answer,
    page_query,
    sort_parser,
)
from app.kit.prepared import Prepared
from app.kit.problems import responses
from app.kit.reads import read
from app.kit.responses import JSONResponse
from app.kit.routing import (
    DELETE_ERRORS,
    LIST_ERRORS,
    MOVED,
    READ_ERRORS,
    RESTORE_DOC,
    RESTORE_ERRORS,
    UPDATE_ERRORS,
    WRITE_ERRORS,
    IdPath,
    merge_patch_body,
)
from app.kit.schemas import FORMAT_DESCRIPTION, CountQuery, Page

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])
Fields = Annotated[Selection | None, Depends(fields_parameter(IncidentPublic))]
SORT = sort_parser(
    [Incident.occurred_on, Incident.created_at, Incident.updated_at], default="-occurred_on", searchable=True
)
"""How incidents sort, here and on the pages that list them."""
IncidentListing = Annotated[Listing, Depends(listing_dependency(SORT))]
IncidentFormat = StrEnum("IncidentFormat", [*(f.value for f in ExportFormat), "plover"])
IncidentFormatQuery = Annotated[
    IncidentFormat,
    Query(
        description=FORMAT_DESCRIPTION
        + " `plover` streams PLOVER/POLECAT event records, one JSON record a line (`application/x-ndjson`, JSON "
        "lines as the PLOVER manual advises), for tools built for PLOVER data: `id`, `date`, `event`, `mode`, "
        "`context` (the kind's codes in the crosswalk of `GET /v1/vocabularies`), `actor` and `recipient` (entities: "
        "`code` the actor's ISO alpha-3 `country_code`, null where it has none, and `entity_text` its name), `text` "
        "(the summary), `event_loc`, `cite_info` (the first source) and `demarche` (the incident's `id`, `kind`, "
        "`title`, `date_precision`, `external_ref` and every `sources` item with its `provenance`, which PLOVER has "
        "no field for). Imported again with `POST /v1/import?from=plover`, the file gives back the same kinds, "
        "dates, actors (states, by their country code) and sources. Incidents of a kind with no PLOVER event "
        "(`other`) are not written; the answer's `Demarche-Plover-Skipped` header counts them. A PLOVER record has "
        "its own shape: `fields` with `plover` is refused (422 naming `fields`), not ignored."
    ),
]


def _plover_skipped(session: SessionDep, filters: IncidentFilters, listing: Listing, unpublished: bool) -> int:
    """How many incidents of the list are of a kind that a PLOVER export leaves out."""
    kinds = [k for k in filters.kind or plover.UNWRITTEN_KINDS if k in plover.UNWRITTEN_KINDS]
    if not kinds:
        return 0
    unwritten = filters.model_copy(update={"kind": kinds})
    return count_rows(listing, session, service.query(unwritten, listing, unpublished), Incident.id)


PLOVER_SKIPPED = {
    200: {
        "headers": {
            plover.SKIPPED_HEADER: {
                "description": "With `format=plover` only: how many incidents of the list are of a kind with no "
                "PLOVER event (`other`), and so not written.",
                "schema": {"type": "integer", "minimum": 0},
            }
        }
    }
}


@router.get(
    "",
    name="list",
    summary="List incidents",
    response_model=Page[IncidentPublic],
    responses=LIST_ERRORS | PLOVER_SKIPPED,
)
async def list_incidents(
    caller: ReadScope,
    request: Request,
    session: SessionDep,
    listing: IncidentListing,
    filters: Annotated[IncidentFilters, Query()],
    fields: Fields,
    format: IncidentFormatQuery = IncidentFormat.json,
    count: CountQuery = False,
) -> Response:
    """Diplomatic incidents, filtered and keyset-paginated, newest first by default.
    With `format=csv|ndjson|geojson|plover` every matching incident is streamed as a file
    (GeoJSON holds the incidents that have coordinates; `plover` writes PLOVER event records,
    leaving out the kinds without a PLOVER event, counted in `Demarche-Plover-Skipped`)."""
    headers = None
    if format == "plover":
        if fields is not None:
            raise problems.invalid(
                ["query", "fields"], "fields does not apply to format=plover: a PLOVER record has its own shape."
            )
        skipped = await read(session, _plover_skipped, session, filters, listing, caller.sees_unpublished)
        headers = {plover.SKIPPED_HEADER: str(skipped)}
    return await list_response(
        request,
        session,
        listing,
        plover.FILE if format == "plover" else ExportFormat(format.value),
        service.query(filters, listing, caller.sees_unpublished),
        COLLECTION,
        fields,
        count,
        headers,
        known=actors.known({"actor": filters.actor, "initiator": filters.initiator, "target": filters.target}),
    )


LEAN_FILTERS = frozenset({"kind", "cameo", "plover", "tag", "from", "to"})
"""The filters of the list's lean first pages: those whose statement is the same for every
caller who reads published incidents (no actor to look up, no search to rank)."""
_REPEATED = frozenset({"kind", "cameo", "plover", "tag"})
_PAGE_SIZE = re.compile(r"[1-9][0-9]{0,2}")


@lru_cache(maxsize=1024)
def _first_page(
    query: tuple[tuple[str, str], ...], path: str, dialect: Dialect, secret: str
) -> tuple[Prepared, Listing, int] | None:
    """The statement of :func:`list_incidents`' first JSON page for ``query`` (of
    :data:`LEAN_FILTERS` and ``limit`` only), for a caller who reads published incidents, its
    listing (which signs the next page's cursor) and where its rows hold their answers;
    ``None`` for a query the route answers otherwise (a parameter it takes more of, a value
    it refuses). Kept for the 1,024 queries asked last: dashboards ask the same ones again and again."""
    values: dict[str, Any] = {}
    for name, value in query:
        if name in _REPEATED:
            values.setdefault(name, []).append(value)
        elif name in values or (name not in LEAN_FILTERS and name != "limit"):
            return None
        else:
            values[name] = value
    limit = values.pop("limit", str(PAGE_SIZE))
    if not _PAGE_SIZE.fullmatch(limit) or int(limit) > MAX_PAGE_SIZE:
        return None
    try:
        filters = IncidentFilters.model_validate(values)
    except ValidationError:
        return None
    sort = SORT.default
    listing = Listing(sort, int(limit), fingerprint(query, sort, path), secret, dialect.name)
    stmt = page_query(listing, service.query(filters, listing), Incident.id, sqljson.KEPT_COLUMNS)
    prepared = Prepared(stmt, dialect)
    return prepared, listing, prepared.keys.index("record_json")


async def lean_list(request: LeanRequest) -> Response | None:
    """:func:`list_incidents`' first JSON page of published incidents, filtered by
    :data:`LEAN_FILTERS` (:mod:`app.kit.lean`)."""
    if request.caller.sees_unpublished:
        return None
    engine = request.state.engine
    http = Request(request.scope)
    page = _first_page(tuple(request.query), http.url.path, engine.dialect, request.state.settings.cursor_secret)
    if page is None:
        return None
    prepared, listing, answer = page
    rows = await request.state.driver_reads.run(engine, prepared.statement())
    texts = [row[answer] for row in rows[: listing.limit]]
    if None in texts:
        return None  # a stale answer, which the route builds
    next_cursor = listing.cursor_after(prepared.mapping(rows[listing.limit - 1])) if len(rows) > listing.limit else None
    return page_answer(http, [text.encode() for text in texts], next_cursor)


@router.post(
    "",
    name="create",
    summary="Create an incident",
    status_code=201,
    response_model=IncidentPublic,
    responses=WRITE_ERRORS,
)
def create_incident(caller: WriteScope, request: Request, payload: IncidentCreate, session: SessionDep) -> Response:
    """Create an incident; answers 201 with the record, its `ETag` and its `Location`. An
    unknown actor, incident or source reference is 422 naming the field."""
    incident = service.create(session, payload)
    return etags.answer(
        request, service.public(session, incident), status_code=201, location=f"/v1/incidents/{incident.id}"
    )


@router.get(
    "/{incident}",
    name="read",
    summary="Read an incident",
    response_model=IncidentPublic,
    responses=READ_ERRORS | MOVED | etags.NOT_MODIFIED,
)
async def read_incident(
    caller: ReadScope, request: Request, incident: IdPath, session: SessionDep, fields: Fields
) -> Response:
    """One incident, by id, with its `ETag`; 304 when `If-None-Match` names it. A draft is
    answered only to keys with `write` (404 to anyone else), and so is a retracted incident,
    with `status: retracted`, so that an editor may read it back and restore it
    (`POST .../restore`). An incident merged into another (`POST .../merge`) answers 308
    Permanent Redirect, its `Location` the survivor's path (and `merged_into` its id), to every
    caller that may read the survivor: a client that follows redirects reads the survivor."""
    return etags.answer_text(
        request,
        *await read(session, service.read_text, session, incident, caller.sees_unpublished),
        selection=fields,
    )


lean_read = record_read("incident", service.driver_text)


@router.get(
    "/{incident}/chain",
    name="chain",
    summary="The retaliation chain of an incident",
    response_model=ChainPage,
    responses=READ_ERRORS | MOVED,
)
def incident_chain(caller: ReadScope, incident: IdPath, session: SessionDep) -> JSONResponse:
    """Every incident reachable from this one through `responds_to`, in either direction,
    oldest first; each carries `depth`: 0 for the chain's first move, n+1 for an answer to an
    incident at depth n (the deepest, when it answers several). An incident alone is a chain
    of one. A chain passes through live incidents only: a retracted incident is in none, and
    its chain answers 404 to every key. An incident merged into another answers 308 to the
    survivor's chain."""
    return JSONResponse({"data": service.chain(session, incident, caller.sees_unpublished)})


@router.patch(
    "/{incident}", name="update", summary="Update an incident", response_model=IncidentPublic, responses=UPDATE_ERRORS
)
def update_incident(
    caller: WriteScope,
    request: Request,
    incident: IdPath,
    patch: merge_patch_body(IncidentUpdate),
    if_match: IfMatch,
    session: SessionDep,
) -> Response:
    """Apply a JSON merge patch; `version` grows by one when anything changes. Setting
    `status` to `retracted` retracts the incident, as `DELETE` does. With `If-Match`, only
    if the incident is still at that version (else 412, nothing written). An incident merged
    into another is 409 (`/problems/merged`, the survivor named in `merged_into`): write to
    the survivor."""
    row = service.update(session, incident, patch.model_dump(exclude_unset=True), if_match)
    return etags.answer(request, service.public(session, row))


@router.delete("/{incident}", name="delete", summary="Retract an incident", status_code=204, responses=DELETE_ERRORS)
def delete_incident(caller: WriteScope, incident: IdPath, if_match: IfMatch, session: SessionDep) -> Response:
    """Retract the incident: it disappears from lists and reads but stays in the database.
    With `If-Match`, only if the incident is still at that version (else 412). An incident
    merged into another is 409 (`/problems/merged`)."""
    service.delete(session, incident, if_match)
    return Response(status_code=204)


@router.post(
    "/{incident}/restore",
    name="restore",
    summary="Restore a retracted incident",
    response_model=IncidentPublic,
    responses=RESTORE_ERRORS,
    description=RESTORE_DOC.format(noun="incident", published=" (and published)")
    + " An incident merged into another is not restored: 409 (`/problems/merged`), naming the survivor.",
)
def restore_incident(
    caller: WriteScope, request: Request, incident: IdPath, if_match: IfMatch, session: SessionDep
) -> Response:
    row = service.restore(session, incident, if_match)
    return etags.answer(request, service.public(session, row))


@router.post(
    "/{incident}/merge",
    name="merge",
    summary="Merge another incident into this one",
    response_model=IncidentPublic,
    responses=responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 429),
)
def merge_incident(
    caller: WriteScope,
    request: Request,
    incident: IdPath,
    payload: MergeRequest,
    if_match: IfMatch,
    session: SessionDep,
) -> Response:
    """Merge the incident named in `merged` into this one (the survivor), when both report one
    event; answers 200 with the survivor and its `ETag`.

    The survivor keeps its own fields (title, dates, summary, place, status, `external_ref`…)
    and gains everything the other has that it lacks: its sources, its initiators and targets,
    the incidents it answers (`responds_to`) and its tags, in that order after its own. The
    incidents that answered the other now answer the survivor (each a new version). Nothing is
    lost: the other is kept as it was, retracted, pointing at the survivor; its id and
    `external_ref` keep answering: a read (`GET /v1/incidents/{id}`, its chain) with 308
    Permanent Redirect to the survivor, a write (`PATCH`, `DELETE`, `restore`, `merge`) with
    409 `/problems/merged` naming the survivor in `merged_into`; its history stays readable at
    its own path. It leaves every list, view and count. Both incidents get a new version and a
    `merge` entry in the change feed and in their history (the survivor's names the merged ids
    in `merged`, the other's the survivor in `merged_into`).

    Refused: merging an incident with itself, with an unknown or retracted one (422), with one
    already merged into a third (409 naming it), or a published incident into a draft (409:
    readers would lose it; merge the draft into the published one). A merge repeated once
    done changes nothing (200). With `If-Match`, only if the survivor is still at that version
    (else 412). Needs a `write` key."""
    row = merges.merge(session, incident, payload.merged, if_match)
    return etags.answer(request, service.public(session, row))
