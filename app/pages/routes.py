"""HTML pages over the record: home, incidents, an incident's chain, a dyad, an actor's
timeline, statistics, exercises with their map. Each page reads through the same service
functions as the API route it links to (its JSON and, where the API has it, CSV), with the
same visibility for the same key, and draws its charts as SVG on the server (see ``charts``).
A page asked again while no write commits is answered as it was built (:mod:`app.kit.kept`,
as the API's views are), for the same key only: it names the key.

Access is the API's: a key sent in ``Authorization`` counts as it does on the API; a
browser, which cannot send one, gives its read key once to ``POST /key`` and the key is
kept in an ``HttpOnly``, ``SameSite=Strict`` cookie that only these pages read (the edge,
which admits API requests, knows nothing of it). Without a key, pages are public when
anonymous reads are on; otherwise they answer the key form (401).
"""

from collections.abc import Callable, Collection, Hashable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlencode

import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlmodel import Session

from app.access import service as access
from app.access.deps import Public, ReadScope
from app.access.models import Caller
from app.actors import service as actors
from app.actors.models import ActorFilters
from app.changes.models import Change
from app.channels import service as channels
from app.channels.models import ChannelFilters
from app.channels.service import today
from app.db import SessionDep
from app.exercises import service as exercises
from app.exercises.models import Exercise, ExerciseFilters
from app.exercises.routes import SORT as EXERCISE_SORT
from app.incidents import service as incidents
from app.incidents.models import Incident, IncidentFilters
from app.incidents.routes import SORT as INCIDENT_SORT
from app.kit import sqljson
from app.kit.kept import UNKEPT
from app.kit.lean import LeanRequest
from app.kit.pagination import Listing, listing_dependency, page_rows
from app.kit.problems import Moved, Problem, Unauthorized, invalid
from app.kit.routing import ActorPath, IdPath
from app.kit.schemas import DateQuery, IsoDate
from app.pages import charts, world
from app.sources import service as sources
from app.sources.models import SourceFilters
from app.views import service as views
from app.views.models import GROUP_BY, EntryType
from app.views.routes import TIMELINE_SORT
from app.vocab import ExerciseDomain, IncidentKind

HERE = Path(__file__).parent
STATIC = "/static"
COOKIE = "demarche_page_key"
KEY_PATH = "/key"
FORGET_PATH = "/key/forget"
FORM_PATHS = frozenset({KEY_PATH, FORGET_PATH})
"""The only paths that take a form body (``application/x-www-form-urlencoded``)."""
POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""No script at all, styles and images from the app only, forms posted to the app only."""
LATEST = 10
FACETS = ("kind", "year", "initiator", "target")
FACET_ROWS = 10

templates = Jinja2Templates(directory=HERE / "templates")


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """``template`` rendered (Jinja2 escapes every value) under the pages' policy. Pages
    are never cached by browsers: they show what a key may see."""
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["Cache-Control"] = "no-store"
    return response


class PageRoute(APIRoute):
    """A route whose refusals are pages too: a missing key is the key form, other problems
    and invalid parameters the error page, each with its status."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Unauthorized:
                message = (
                    "The key kept by this browser is unknown or revoked: give another."
                    if COOKIE in request.cookies
                    else "This server shows its records to holders of a read key only."
                )
                return page(request, "key.html", 401, message=message, next=_local(str(request.url)))
            except Moved as exc:  # a merged incident's page: the survivor's
                return RedirectResponse(exc.location(request), exc.status)
            except Problem as exc:
                return page(request, "error.html", exc.status, title=exc.title, detail=exc.detail, errors=[])
            except RequestValidationError as exc:
                errors = [f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors()]
                return page(request, "error.html", 422, title="Invalid parameters", detail=None, errors=errors)

        return handle


async def _recognise(request: Request, secret: str) -> Caller | None:
    """The caller ``secret`` belongs to, its use recorded as the edge records the keys it is
    sent (``last_used_at``, at most once a minute)."""
    caller, stale = await access.recognise(request.app.state.engine, request.app.state.keys, secret)
    if stale:
        await anyio.to_thread.run_sync(access.touch, request.app.state.engine, caller.key_id)
    return caller


async def adopt_page_key(request: Request) -> None:
    """Read a request that sends no ``Authorization`` as the key kept in the pages' cookie,
    if it is a live key; the route's scope is then checked as on the API. (An unknown or
    revoked one is ignored: the page is then served as to anyone, or asks for a key.)"""
    secret = request.cookies.get(COOKIE)
    if request.state.caller.scope is None and secret:
        caller = await _recognise(request, secret)
        if caller is not None:
            request.state.caller, request.state.key_id = caller, caller.key_id


router = APIRouter(
    include_in_schema=False, route_class=PageRoute, tags=["pages"], dependencies=[Depends(adopt_page_key)]
)
IncidentListing = Annotated[Listing, Depends(listing_dependency(INCIDENT_SORT, path="/v1/incidents"))]
ExerciseListing = Annotated[Listing, Depends(listing_dependency(EXERCISE_SORT, path="/v1/exercises"))]
TimelineListing = Annotated[Listing, Depends(listing_dependency(TIMELINE_SORT))]


def _local(url: str) -> str:
    """``url`` as a path on this server (never another host: the key form redirects there)."""
    path = "/" + url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else url
    # "//host" and "/\host" are other hosts to a browser
    return path if path.startswith("/") and path[1:2] not in ("/", "\\") else "/"


def _query(request: Request, drop: Collection[str] = (), **add: Any) -> str:
    """The request's query string without the parameters named in ``drop`` (and the cursor),
    with ``add`` appended (a list value repeats the parameter)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in {*drop, "cursor"}]
    for key, value in add.items():
        items += [(key, v) for v in value] if isinstance(value, list) else [(key, value)]
    return urlencode(items)


templates.env.globals.update(
    query=_query,
    static=STATIC,
    count_rows=charts.count_rows,
    crossed_counts=charts.crossed_counts,
    exercise_rows=charts.exercise_rows,
    map_marks=charts.map_marks,
    timeline_marks=charts.timeline_marks,
    entry_rows=charts.entry_rows,
)


@router.post(KEY_PATH)
async def give_key(caller: Public, request: Request) -> Response:
    """Keep a read key for the pages, after checking it, then go back to the page asked."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    secret = form.get("key", [""])[0].strip()
    target = _local(form.get("next", ["/"])[0])
    if not secret:
        return page(request, "key.html", 422, message="Give a key.", next=target)
    if await _recognise(request, secret) is None:
        return page(request, "key.html", 401, message="That key is unknown or revoked.", next=target)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, secret, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/"
    )
    return response


@router.post(FORGET_PATH)
async def forget_key(caller: Public, request: Request) -> Response:
    """Drop the key this browser keeps, and offer the key form again."""
    response = page(request, "key.html", message="This browser keeps no key now.", next="/")
    response.delete_cookie(COOKIE, path="/")
    return response


def _counted(session: Session, stmt: Any, by: str | None = None) -> dict[str, int]:
    """Rows of a domain's list query counted in SQL, in all or by the column ``by``."""
    rows = stmt.subquery()
    if by is None:
        return {"all": session.execute(select(func.count()).select_from(rows)).scalar_one()}
    column = rows.c[by]
    return dict(session.execute(select(column, func.count()).group_by(column).order_by(column)).all())


Counted = list[tuple[str, dict[str, int]]]


def _collections(request: Request, session: Session, unpublished: bool) -> Counted:
    """Actors, exercises, channels and sources counted (by kind where they have kinds) over
    their list queries. Every write through the service adds an entry to the change feed in
    its transaction, so counts taken at the feed's latest entry hold until the next: the app
    keeps them until then (for each visibility), for the cost of reading the feed's position."""
    kept_by_visibility: dict[bool, tuple[int | None, Counted]] = request.app.state.page_counts
    position = session.execute(select(func.max(Change.seq))).scalar()
    kept = kept_by_visibility.get(unpublished)
    if kept is not None and kept[0] == position:
        return kept[1]
    counts = [
        ("actors", _counted(session, actors.query(ActorFilters()), "kind")),
        ("exercises", _counted(session, exercises.query(ExerciseFilters(), None, unpublished))),
        ("channels", _counted(session, channels.query(ChannelFilters()), "kind")),
        ("sources", _counted(session, sources.query(SourceFilters()), "kind")),
    ]
    kept_by_visibility[unpublished] = (position, counts)
    return counts


def _latest(session: Session, filters: IncidentFilters, unpublished: bool, limit: int = LATEST) -> list[dict]:
    stmt = incidents.query(filters, None, unpublished).order_by(Incident.occurred_on.desc(), Incident.id.desc())
    return incidents.hydrate(session, [r._mapping for r in session.execute(stmt.limit(limit))])


@router.get("/")
def home(request: Request, caller: ReadScope, session: SessionDep) -> HTMLResponse:
    unpublished = caller.sees_unpublished
    by_kind = {
        row["kind"]: row["count"] for row in views.incident_stats(session, ["kind"], None, None, [], unpublished)
    }
    collections = [("incidents", {k: n for k, n in by_kind.items() if n}), *_collections(request, session, unpublished)]
    return page(
        request,
        "home.html",
        caller=caller,
        collections=[(name, sum(counts.values()), counts) for name, counts in collections],
        latest=_latest(session, IncidentFilters(), unpublished),
    )


@router.get("/incidents")
def incident_list(
    request: Request,
    caller: ReadScope,
    session: SessionDep,
    listing: IncidentListing,
    filters: Annotated[IncidentFilters, Query()],
) -> HTMLResponse:
    """The incidents as the API lists them (same filters, order and cursors), with counts
    by kind, year, initiator and target over the date and actor filters (those the
    statistics take)."""
    unpublished = caller.sees_unpublished
    rows, next_cursor = page_rows(
        listing, session, incidents.query(filters, listing, unpublished), Incident.id, sqljson.KEPT_COLUMNS
    )
    facets = {}
    for key in FACETS:
        counted = views.incident_stats(session, [key], filters.from_, filters.to, filters.actor, unpublished)
        facets[key] = sorted((r for r in counted if r["count"]), key=lambda r: -r["count"])[:FACET_ROWS]
    return page(
        request,
        "incidents.html",
        caller=caller,
        incidents=incidents.hydrate(session, rows),
        next_cursor=next_cursor,
        filters=filters,
        facets=facets,
        kinds=list(IncidentKind),
    )


@router.get("/incidents/{incident}")
def incident_page(request: Request, caller: ReadScope, session: SessionDep, incident: IdPath) -> HTMLResponse:
    unpublished = caller.sees_unpublished
    record = orjson.loads(incidents.read_text(session, incident, unpublished)[0])
    chain = incidents.chain(session, record["id"], unpublished)
    return page(
        request,
        "incident.html",
        caller=caller,
        incident=record,
        chain=chain,
        graph=charts.chain_graph(chain, record["id"]),
    )


@router.get("/dyads")
def dyad_form(caller: ReadScope, a: str, b: str, as_of: str = "") -> Response:
    """Where the home page's dyad form goes (a form cannot fill a path): on to the dyad."""
    return RedirectResponse(
        f"/dyads/{quote(a, safe='')}/{quote(b, safe='')}?" + urlencode({"as_of": as_of} if as_of else {}), 303
    )


@router.get("/dyads/{a}/{b}")
def dyad_page(
    request: Request,
    caller: ReadScope,
    session: SessionDep,
    a: ActorPath,
    b: ActorPath,
    as_of: Annotated[IsoDate | None, Query()] = None,
    window_days: Annotated[int, Query(ge=1, le=36_500)] = 90,
) -> HTMLResponse:
    """The dyad on ``as_of`` as the API answers it, its channels drawn as status bands from
    a year before the date to half a year after, and the incidents each way in each whole
    month of that span."""
    unpublished = caller.sees_unpublished
    day = as_of or today()
    dyad = views.dyad(session, a, b, day, window_days, unpublished)
    axis = charts.TimeAxis(day - timedelta(days=max(window_days, 365)), day + timedelta(days=182))
    months = [first.strftime("%Y-%m") for first in charts.months(axis.start, axis.end)]
    by_month = views.dyad_months(session, dyad["a"]["id"], dyad["b"]["id"], axis.start, axis.end, unpublished)
    rows = []
    for initiator, target in (("a", "b"), ("b", "a")):
        counted = by_month[f"{initiator}_to_{target}"]
        label = f"{dyad[initiator]['name']} → {dyad[target]['name']}"
        rows += [
            {"direction": label, "month": m, "kind": kind, "count": n}
            for m in months
            for kind, n in (counted.get(m) or {"": 0}).items()  # a quiet month keeps its (empty) bar
        ]
    by_direction = {
        label: charts.stacked_bars(
            [r for r in rows if r["direction"] == label], "month", "kind", f"Incidents {label} by month"
        )
        for label in dict.fromkeys(r["direction"] for r in rows)
    }
    return page(
        request,
        "dyad.html",
        caller=caller,
        dyad=dyad,
        bands=charts.status_bands(dyad["channels"], axis, day),
        monthly=by_direction,
        monthly_rows=charts.count_rows([r for r in rows if r["count"]], ["direction", "month", "kind"]),
        open_channels=[c for c in dyad["channels"] if c["status"] in ("active", "restricted")],
    )


@router.get("/actors/{actor}")
def actor_page(
    request: Request,
    caller: ReadScope,
    session: SessionDep,
    listing: TimelineListing,
    actor: ActorPath,
    type: Annotated[list[EntryType], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    from_: Annotated[IsoDate | None, Query(alias="from")] = None,
    to: DateQuery = None,
) -> HTMLResponse:
    """An actor's record and its timeline page, as ``/v1/timeline?actor=`` answers it."""
    record = orjson.loads(actors.read_text(session, actor)[0])
    stmt, id_column = views.timeline_query([record["id"]], type, from_, to, listing, caller.sees_unpublished)
    rows, next_cursor = page_rows(listing, session, stmt, id_column)
    entries = views.timeline_hydrate(session, rows)
    return page(
        request,
        "actor.html",
        caller=caller,
        actor=record,
        entries=entries,
        lanes=charts.timeline_lanes(entries),
        next_cursor=next_cursor,
        api_query=urlencode([("actor", record["slug"]), *((k, v) for k, v in request.query_params.multi_items())]),
    )


@router.get("/stats")
def stats_page(
    request: Request,
    caller: ReadScope,
    session: SessionDep,
    group_by: str = "kind,month",
    from_: Annotated[IsoDate | None, Query(alias="from")] = None,
    to: DateQuery = None,
    actor: Annotated[list[str], Query()] = [],  # noqa: B006
) -> HTMLResponse:
    """Incident counts as ``/v1/stats/incidents`` answers them, drawn as bars along the
    time key in time order (or along the first key) stacked by the other."""
    if group_by not in GROUP_BY:
        raise invalid(["query", "group_by"], "group_by takes one or two different keys joined by a comma.")
    keys = group_by.split(",")
    rows = views.incident_stats(session, keys, from_, to, actor, caller.sees_unpublished, one_span=True)
    along = next((k for k in keys if k in ("month", "year")), keys[0])
    stacked = next((k for k in keys if k != along), None)
    # the API orders rows by the keys as given: by time only when time comes first
    in_time = sorted(rows, key=lambda r: str(r[along])) if along in ("month", "year") else rows
    caption = f"Incidents by {along}" + (f", stacked by {stacked}" if stacked else "")
    chart = charts.stacked_bars(in_time, along, stacked, caption)
    return page(
        request,
        "stats.html",
        caller=caller,
        keys=keys,
        along=along,
        stacked=stacked,
        chart=chart,
        rows=[r for r in (in_time if stacked else rows) if r["count"]],
        choices=GROUP_BY,
        group_by=group_by,
    )


@router.get("/exercises")
def exercise_list(
    request: Request,
    caller: ReadScope,
    session: SessionDep,
    listing: ExerciseListing,
    filters: Annotated[ExerciseFilters, Query()],
) -> HTMLResponse:
    """The exercises as the API lists them (same filters, order and cursors), and those of
    the page that have coordinates on a map."""
    query = exercises.query(filters, listing, caller.sees_unpublished)
    rows, next_cursor = page_rows(listing, session, query, Exercise.id)
    records = exercises.hydrate(session, rows)
    marks = [
        {"exercise": e, **dict(zip(("x", "y"), world.project(e["longitude"], e["latitude"]), strict=True))}
        for e in records
        if e["latitude"] is not None and e["longitude"] is not None
    ]
    return page(
        request,
        "exercises.html",
        caller=caller,
        exercises=records,
        next_cursor=next_cursor,
        filters=filters,
        domains=list(ExerciseDomain),
        marks=marks,
        map={"width": world.WIDTH, "height": world.HEIGHT},
    )


@router.get("/maps/land.svg")
def land(caller: Public) -> Response:
    """The land behind the exercises' map: the same for everyone, so kept a day by browsers."""
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {world.WIDTH} {world.HEIGHT}">'
        f'<path d="{world.land_path()}" fill="#e4e8ec" stroke="#a9b3bd" stroke-width="0.6"/></svg>'
    )
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


KEPT = (home, incident_list, incident_page, dyad_page, actor_page, stats_page, exercise_list)
"""The pages whose answers are kept as the API's are (:mod:`app.kit.kept`)."""


def shown(request: LeanRequest) -> Hashable:
    """What of a request a page shows besides the records: the key it is read with. A
    request that sends the pages' cookie is left to the route, which reads the key in it."""
    cookie = COOKIE.encode() + b"="
    if any(name == b"cookie" and cookie in value for name, value in request.scope["headers"]):
        return UNKEPT
    return request.caller.key_id, request.caller.scope


def install(app: FastAPI) -> None:
    app.state.page_counts = {}
    app.mount(STATIC, StaticFiles(directory=HERE / "static"), name="pages-static")
    app.include_router(router)
