from fastapi import APIRouter, Request
from sqlalchemy.exc import SQLAlchemyError

from app.db import current_revision
from app.kit import problems
from app.kit.problems import ServiceUnavailable
from app.kit.responses import JSONResponse

router = APIRouter(tags=["operations"])


@router.get("/healthz", name="healthz", summary="The process is alive")
def healthz() -> JSONResponse:
    """Answers 200 as soon as the process serves; touches no database."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz", name="readyz", summary="Ready to serve", responses=problems.responses(503))
def readyz(request: Request) -> JSONResponse:
    """200 when the database answers and its schema is at the latest migration; otherwise
    503 with `Retry-After`. It recovers by itself when the database comes back."""
    head = request.app.state.head_revision
    try:
        revision = current_revision(request.app.state.engine)
    except SQLAlchemyError:
        raise ServiceUnavailable("The database is unreachable.", headers={"Retry-After": "5"}) from None
    if revision != head:
        raise ServiceUnavailable(f"The database schema is at {revision}, not {head}: run `demarche migrate`.",
                                 headers={"Retry-After": "30"})
    return JSONResponse({"status": "ready", "revision": revision})
