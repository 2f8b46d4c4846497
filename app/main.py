"""The application factory: routers, middleware and error handlers; nothing else."""

from fastapi import Depends, FastAPI

from app import docs, vocab
from app.actors.routes import router as actors_router
from app.channels.routes import router as channels_router
from app.db import head_revision, make_engine
from app.exercises.routes import router as exercises_router
from app.health import router as health_router
from app.incidents.routes import router as incidents_router
from app.kit import problems
from app.kit.guards import BodyGuard, reject_nul
from app.kit.observe import RequestLog, configure_logging
from app.kit.responses import JSONResponse
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
- Lists: `limit` 1–500, keyset cursors signed by the server. A cursor replayed with other
  filters or another sort is 400. Unknown sort fields are 422.
- References on input: actors by id or slug; incidents by id or `external_ref`; sources by id,
  `url` or `external_ref`. References on output keep pointing at retracted records.
- `PATCH` takes a JSON merge patch (`application/merge-patch+json` or `application/json`);
  a patch that changes nothing leaves `version` as it was. The patched record is validated as
  a whole, like a create.
- Exercises: an unknown `end_date` counts as the `start_date` for `from`/`to` overlap and
  `active_on`.
- Channels: a channel with neither `established_on` nor any status change exists on every date.
  Status changes on one day apply in the order they were recorded.
- `q` matches case-insensitively within the text fields the collection names.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        title="Demarche",
        version="1.0.0",
        summary="An open REST API for diplomatic-incident data.",
        description=DESCRIPTION,
        default_response_class=JSONResponse,
        generate_unique_id_function=lambda route: f"{route.tags[0]}-{route.name}",
        dependencies=[Depends(reject_nul)],
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.state.head_revision = head_revision()
    problems.install(app)
    app.add_middleware(
        BodyGuard,
        max_body_bytes=settings.max_body_bytes,
        import_max_body_bytes=settings.import_max_body_bytes,
        import_path="/v1/import",
    )
    app.add_middleware(RequestLog)
    docs.install(app)
    for router in (
        health_router,
        vocab.router,
        actors_router,
        sources_router,
        incidents_router,
        exercises_router,
        channels_router,
        views_router,
    ):
        app.include_router(router)
    return app
