from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError

from app.access.deps import OperatorScope, Public
from app.db import current_revision
from app.kit import problems
from app.kit.observe import exposition
from app.kit.problems import ServiceUnavailable
from app.kit.responses import JSONResponse

router = APIRouter(tags=["operations"])


@router.get("/healthz", name="healthz", summary="The process is alive")
def healthz(caller: Public) -> JSONResponse:
    """Answers 200 as soon as the process serves; touches no database."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz", name="readyz", summary="Ready to serve", responses=problems.responses(503))
def readyz(caller: Public, request: Request) -> JSONResponse:
    """200 when the database answers and its schema is at the latest migration; otherwise
    503 with `Retry-After`. It recovers by itself when the database comes back."""
    head = request.app.state.head_revision
    try:
        revision = current_revision(request.app.state.engine)
    except SQLAlchemyError:
        raise ServiceUnavailable("The database is unreachable.", headers={"Retry-After": "5"}) from None
    if revision != head:
        raise ServiceUnavailable(
            f"The database schema is at {revision}, not {head}: run `demarche migrate`.", headers={"Retry-After": "30"}
        )
    return JSONResponse({"status": "ready", "revision": revision})


@router.get(
    "/metrics",
    name="metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}} | problems.responses(401, 403),
)
def metrics(caller: OperatorScope) -> Response:
    """Request counts and latency histograms by route template and status, and the
    database connection pool's use, in the Prometheus text format. Anyone may scrape them
    where anonymous reads are on; otherwise they need an `admin` key."""
    # Those of every worker process of the server (app.kit.observe.exposition).
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
