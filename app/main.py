"""The application factory: routers, middleware and error handlers; nothing else."""

from fastapi import Depends, FastAPI
from starlette.middleware.cors import CORSMiddleware

from app import docs, vocab
from app.access.keycache import KeyCache
from app.access.ratelimit import RateLimiter
from app.access.routes import router as access_router
from app.actors.routes import router as actors_router
from app.changes.routes import router as changes_router
from app.channels.routes import router as channels_router
from app.db import head_revision, make_engine
from app.edge import Edge
from app.exercises.routes import router as exercises_router
from app.health import router as health_router
from app.idempotency import middleware as idempotency
from app.incidents.routes import router as incidents_router
from app.ingest.routes import router as ingest_router
from app.kit import openapi, problems, queries
from app.kit.guards import IMPORT_PATH, BodyGuard, reject_nul
from app.kit.keys import KeySegments
from app.kit.observe import configure_logging
from app.kit.responses import JSONResponse
from app.pages import routes as pages
from app.settings import Settings, get_settings
from app.sources.routes import router as sources_router
from app.views.routes import router as views_router

DESCRIPTION = """
The record of diplomatic incidents — expulsions, accreditation withdrawals, closures and
suspensions of missions and offices — with the actors involved, military exercises, and the
lines of communication between parties and their status over time.

**Conventions.** JSON in and out, UTF-8. Dates are `YYYY-MM-DD`; timestamps are UTC with `Z`.
Every record has an opaque `id`, `created_at`, `updated_at` and a `version` that grows by one
on every change. Write bodies reject unknown fields (422). Errors are RFC 9457 problem details
(`application/problem+json`); their `type` is a relative URI `/problems/{name}`.

**Choices where the contract is silent.**
- Queries are strict: a query parameter an operation does not take (a typo such as `knd`,
  another collection's filter such as `country` on incidents) is 400 `unknown-parameter`, on
  every route (the HTML pages and probes included), never ignored: `errors` names each unknown
  parameter and `accepted` lists those the operation takes, as its parameters below declare
  them.
- Lists: `limit` 1–500, keyset cursors signed by the server. A cursor replayed with other
  filters or another sort is 400 (`fields` and `count` may change along a walk). Unknown sort
  fields are 422.
- `fields=id,title` on the collections' lists (every `format`: a CSV's columns, a GeoJSON's
  properties), single reads and exports answers only those top-level fields of each record,
  in the record's order; a name the record lacks is 400 `unknown-field` (`accepted` lists
  the fields). Such an answer's `ETag` carries the selection (`"3.f1a2b3c4d5"`), so that it
  is never taken for the whole record's.
- `count=true` on the collections' lists adds `total` to a JSON page: the records matching
  the same filters that the caller may see, on all pages together. It costs one more
  statement (a `count` over the list), so it is off unless asked for, and `total` is absent.
- References on input: actors by id or slug; incidents by id or `external_ref`; sources by id,
  `url` or `external_ref`. References on output keep pointing at retracted records.
- Paths: every path that takes a record's id takes its natural key too, in a prefixed form
  no id or slug can take: `ref:{external_ref}` for every record type
  (`/v1/incidents/ref:acled:RUS1234/chain`), `url:{url}` for a source, and an actor's slug
  (bare or `slug:{slug}`). The key after the prefix is percent-decoded once: send it
  percent-encoded as one path segment when it holds `/`, `?`, `#` or `%` (a URL always
  does). An unknown key is 404; a key read costs the statements an id read costs.
- Statistics: with `month` among the keys, months without incidents are 0 within the asked
  `from`/`to`, or within the months of each series' own incidents. `format=csv` on stats, a
  dyad (its incident counts) and the timeline answers `text/csv` with a header row.
- Dates: an incident's `occurred_on` is never in the future, but for measures announced
  ahead of their effective date (see the field); exercises and channel status changes may be
  planned. Country codes are ISO 3166-1 alpha-3 (see `country_code`).
- A database not migrated to this version answers 503 on every route, saying to run
  `demarche migrate`.
- `PATCH` takes a JSON merge patch (`application/merge-patch+json` or `application/json`);
  a patch that changes nothing leaves `version` as it was. The patched record is validated as
  a whole, like a create.
- Exercises: an unknown `end_date` counts as the `start_date` for `from`/`to` overlap and
  `active_on`.
- Channels: a channel with neither `established_on` nor any status change exists on every date.
  Status changes on one day apply in the order they were recorded.
- `q` matches case-insensitively within the text fields the collection names.
- Conditional requests: a record's strong `ETag` is its version in quotes (`"3"`); a
  channel's also carries its status on the day asked for (`"3.suspended"`), since that
  changes with the date. `If-None-Match` on a read gives 304 with no body. `If-Match` on
  `PATCH` and `DELETE` compares the version alone (or `*`); a stale one is 412 and nothing
  is written. Without `If-Match` a write is unconditional (never 428), as before; either
  way concurrent writes to one record take turns, so none is lost.
- Change feed (`/v1/changes`): `resource` is the record type (`actor`, `source`,
  `incident`, `exercise`, `channel`; its collection is that plus `s`). Entries carry no
  content, so drafts appear to every reader; re-read a record to apply an entry (404:
  drop it). A transaction that writes a record more than once (an import creating a
  channel and its status changes) gives one entry, for the version it committed.
- History (`/v1/{collection}/{id}/history`): every committed version with `op`, `at`,
  `key_id` and the fields that changed (links as ids); a draft's or a retracted record's
  history needs `write`, like reading it.
- `Idempotency-Key` (any POST but `POST /v1/keys`, whose answer holds a secret that is
  never stored): the key is private to the API key that sent it and kept 24 hours. Answers
  kept for replay: every status below 500 except 401, 403, 408, 409 and 429, after which a
  retry runs anew. A request still running holds its key (409 to a retry); a server that
  dies mid-request releases it 10 seconds later (`DEMARCHE_IDEMPOTENCY_LEASE_SECONDS`),
  having committed nothing. A request committed but whose answer was never stored (the
  server died in between) stays 409, since running it again could write twice.
- Import: a natural key (`external_ref`, an actor's `slug`, a source's `url`) named by two
  lines of one import is a bad line; records refer to earlier lines, not later ones. A
  line whose natural key belongs to a retracted record changes nothing and is counted under
  `retracted`, unless it asks for `status: published` (incidents and exercises): that
  restores the record with the line's fields (counted under `updated`).
- Retraction and restore: a record's `status` and its retraction are one state (`status:
  retracted` exactly when it is retracted). `POST /v1/{collection}/{id}/restore` (`write`)
  makes a retracted record live again, published where it has a `status`, as a new version
  with op `restore` in the change feed and the history. Restoring a record that is not
  retracted is 409 `/problems/not-retracted` and writes nothing, so a blind retry learns
  that it is already live (with an `Idempotency-Key` the first answer is replayed instead).
  `PATCH` and `DELETE` answer 404 on a retracted record: restore it first.

**Access.** Send an API key as `Authorization: Bearer <key>`; keys are never accepted in the
query string (400). Scopes: `read`, `write` (implies read), `admin` (implies write); each
operation lists the scope it needs under `security`. Operations that need `read` also
serve callers without a key when the server allows anonymous reads (`DEMARCHE_PUBLIC_READ`,
on for the local demo, off in production). No key where one is needed, or an unknown or
revoked key on any request, is 401 with `WWW-Authenticate: Bearer`; a key without the
needed scope is 403.
- Keys read `dmk_<id>_<random>`: `dmk_` lets secret scanners spot a leaked key, `<id>` is
  the key's public id (the one in `/v1/keys`), `<random>` 256 random bits. Only a SHA-256
  of the secret is stored.
- Drafts and retracted records are seen only with a `write` key. Incidents and exercises
  in draft appear in lists, reads and views for `write` keys only (404 and absent for
  everyone else). A retracted record is absent from lists for everyone, as `DELETE`
  promises, and answers 404 to callers without `write`; a `write` key reads a retracted
  incident or exercise on its own path (with `status: retracted`, to check it before
  restoring it) and lists them by asking for `status=retracted`. Retracted actors, sources
  and channels, which have no `status` to show it, answer 404 and are not listed for
  anyone; their history (`write`) and `restore` still reach them.
- Rate limits count requests per key, or per client address without one, in fixed
  windows aligned to the clock (default 600 a minute). Every answer carries
  `RateLimit-Limit` (requests per window), `RateLimit-Remaining` (left in this window) and
  `RateLimit-Reset` (seconds until the window ends); past the limit the answer is 429 with
  `Retry-After`. The probes `/healthz`, `/readyz` and `/metrics` are not limited and carry
  none, nor do requests refused before they are counted (an untrusted `Host`, a key in the
  URL). When the shared count store cannot be reached, requests are served without a
  limit (and without these headers) rather than refused.
- Every answer carries `X-Content-Type-Options: nosniff` and denies framing
  (`X-Frame-Options: DENY`, `Content-Security-Policy: frame-ancestors 'none'`); answers to
  requests that send a key carry `Cache-Control: no-store`. Browsers may call the API only
  from the origins the server is configured with (`DEMARCHE_CORS_ORIGINS`, none by
  default), and the server answers only to its configured host names (others are 400).
"""

SECRET_PATHS = {access_router.prefix}
"""POSTs whose answers carry a secret, which is never stored for an ``Idempotency-Key``."""
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key", "X-Request-ID"]
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
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.check_secrets()
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
    )
    app.state.settings = settings
    app.state.engine = make_engine(
        settings.database_url,
        settings.database_pool_size,
        settings.statement_timeout_ms,
        timed=settings.request_timeout_seconds > 0,
    )
    app.state.head_revision = head_revision()
    problems.install(app)
    openapi.install(app)
    app.add_middleware(KeySegments)  # innermost: what routing sees, nothing else
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
