"""The application factory: routers, middleware and error handlers; nothing else."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.middleware.cors import CORSMiddleware

from app import docs, vocab
from app.access.deps import admitted
from app.access.keycache import KeyCache
from app.access.ratelimit import RateLimiter
from app.access.routes import router as access_router
from app.access.scopes import KeyScope
from app.actors import routes as actors
from app.actors.routes import router as actors_router
from app.changes.routes import router as changes_router
from app.channels.routes import router as channels_router
from app.channels.service import today
from app.consistency import SequenceHeaders
from app.db import (
    MIN_SEQUENCE_HEADER,
    READ_SOURCE_HEADER,
    SEQUENCE_HEADER,
    DriverReads,
    Replica,
    head_revision,
    install_session_events,
    make_engine,
)
from app.edge import Edge
from app.exercises.routes import router as exercises_router
from app.health import router as health_router
from app.idempotency import middleware as idempotency
from app.incidents import routes as incidents
from app.incidents.routes import router as incidents_router
from app.ingest.routes import router as ingest_router
from app.kit import openapi, problems, queries
from app.kit.guards import IMPORT_PATH, BodyGuard, reject_nul
from app.kit.kept import KeptAnswers, kept_read
from app.kit.keys import KeySegments
from app.kit.lean import LeanReads
from app.kit.observe import configure_logging, observe_pool
from app.kit.responses import JSONResponse
from app.pages import routes as pages
from app.settings import Settings, get_settings
from app.sources.routes import router as sources_router
from app.views import routes as views
from app.views.routes import router as views_router

DESCRIPTION = """
The record of diplomatic incidents — expulsions, accreditation withdrawals, closures and
suspensions of missions and offices — with the actors involved, military exercises, and the
lines of communication between parties and their status over time.

**[The guide for callers](/guide)** (`docs/guide.md` in the source) says how to use it:
keys and scopes, rate limits, errors, lists and exports, records by natural key, writing
with `If-Match` and `Idempotency-Key`, the change feed, imports, limits, and each choice made
where the contract is silent. Each operation below documents its parameters and answers.

In short: JSON in and out, UTF-8; dates are `YYYY-MM-DD`, timestamps UTC with `Z`. Every
record has an opaque `id`, `created_at`, `updated_at` and a `version` that grows by one on
every change. Send an API key as `Authorization: Bearer <key>`; each operation lists the
scope it needs under `security`. Queries are strict: a query parameter an operation does not
take is 400 `unknown-parameter`, never ignored; write bodies reject unknown fields (422).
Errors are RFC 9457 problem details (`application/problem+json`) whose `type` is
`/problems/{name}`.

Read your own writes: a write that changes records answers `Demarche-Sequence`; send it back
on later reads as the `Demarche-Min-Sequence` header to be answered from a database that has
the write (reads may come from a lagging replica: `Demarche-Read-Source` says which).
"""

SECRET_PATHS = {access_router.prefix}
"""POSTs whose answers carry a secret, which is never stored for an ``Idempotency-Key``."""
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
    MIN_SEQUENCE_HEADER,
]
CORS_RESPONSE_HEADERS = [
    "ETag",
    "Location",
    "Link",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Idempotent-Replayed",
    "X-Request-ID",
    SEQUENCE_HEADER,
    READ_SOURCE_HEADER,
]
DRIVER_CONNECTIONS = 4
"""Connections (threads, without the app's lifespan; with it, each of the event loop's two
sets) of a process's driver reads on PostgreSQL, at most its pool's size
(app.db.DriverReads): one event loop keeps four busy, and a process is about one core's work."""
REPLICA_CONNECT_TIMEOUT_SECONDS = 2
"""Longest a read waits for a connection to the read replica before it goes to the primary."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the app serves on an event loop: the driver's reads' own connections on it."""
    async with app.state.driver_reads.on_loop(app.state.engine):
        yield


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.check_secrets()
    settings.check_replica()
    strict_query = queries.StrictQuery()
    configure_logging(settings.log_level)
    app = FastAPI(
        title="Demarche",
        version="1.0.0",
        summary="An open REST API for diplomatic-incident data.",
        description=DESCRIPTION,
        default_response_class=JSONResponse,
        generate_unique_id_function=lambda route: f"{route.tags[0]}-{route.name}",
        dependencies=[Depends(reject_nul), Depends(strict_query)],
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # The service's own access log and Prometheus metrics observe every request (app.edge);
        # FastAPI's OpenTelemetry would only look, on each request, for a provider to report to.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.engine = make_engine(
        settings.database_url,
        settings.database_pool_size,
        settings.statement_timeout_ms,
        timed=settings.request_timeout_seconds > 0,
    )
    observe_pool(app.state.engine)
    app.state.replica = (
        Replica(
            make_engine(
                settings.read_replica_url,
                settings.database_pool_size,
                settings.statement_timeout_ms,
                timed=settings.request_timeout_seconds > 0,
                connect_timeout=REPLICA_CONNECT_TIMEOUT_SECONDS,
            )
        )
        if settings.read_replica_url
        else None
    )
    app.state.head_revision = head_revision()
    problems.install(app)
    openapi.install(app)
    install_session_events()
    app.add_middleware(KeySegments)  # innermost: what routing sees, nothing else
    app.add_middleware(SequenceHeaders)  # inside Idempotency-Key's, which keeps the sequence of an answer
    app.add_middleware(
        idempotency.Idempotency,
        lease_seconds=settings.idempotency_lease_seconds,
        ttl_hours=settings.idempotency_ttl_hours,
        secret_paths=SECRET_PATHS,
    )
    app.add_middleware(
        BodyGuard,
        max_body_bytes=settings.max_body_bytes,
        import_max_body_bytes=settings.import_max_body_bytes,
        import_path=IMPORT_PATH,
        form_paths=pages.FORM_PATHS,
    )
    app.state.driver_reads = DriverReads(min(settings.database_pool_size, DRIVER_CONNECTIONS))
    if settings.lean_reads and app.state.replica is None:  # a replica's reads choose their database per request
        reads = []
        if settings.kept_answers_mb > 0:  # first: a kept answer costs less than a lean read that builds one
            answers = KeptAnswers(int(settings.kept_answers_mb * 2**20))
            kept, kept_pages = kept_read(answers, today), kept_read(answers, today, pages.shown)
            reads += [(route, kept) for route in (incidents.list_incidents, actors.read_actor, *views.KEPT)]
            reads += [(route, kept_pages) for route in pages.KEPT]
        reads += [
            (incidents.list_incidents, incidents.lean_list),
            (incidents.read_incident, incidents.lean_read),
            (actors.read_actor, actors.lean_read),
        ]
        app.add_middleware(
            LeanReads,
            routes=app.router.routes,
            reads=reads,
            admits=lambda caller: admitted(caller, KeyScope.read, settings.public_read),
            routed_headers=frozenset({"If-None-Match", MIN_SEQUENCE_HEADER}),
        )
    app.state.keys = KeyCache(settings.key_cache_seconds)
    app.add_middleware(
        Edge,
        engine=app.state.engine,
        keys=app.state.keys,
        limiter=RateLimiter(settings.rate_limit, settings.rate_limit_storage, settings.rate_limit_prefix),
        trusted_hosts=settings.trusted_hosts,
        request_timeout_seconds=settings.request_timeout_seconds,
    )
    if settings.cors_origins:  # outside the edge, so that its refusals carry CORS headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_RESPONSE_HEADERS,
            max_age=600,
        )
    docs.install(app)
    for router in (
        health_router,
        vocab.router,
        actors_router,
        sources_router,
        incidents_router,
        exercises_router,
        channels_router,
        changes_router,
        views_router,
        access_router,
        ingest_router,
    ):
        app.include_router(router)
    pages.install(app)  # last: the pages' paths sit beside the API's, outside /v1
    idempotency.document(app, SECRET_PATHS)
    strict_query.install(app)  # after the last route: reads the query parameters each one declares
    app.state.strict_query = strict_query
    return app
