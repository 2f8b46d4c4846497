from fastapi import APIRouter

from app.kit.responses import JSONResponse

router = APIRouter(tags=["operations"])


@router.get("/healthz", name="healthz", summary="The process is alive")
def healthz() -> JSONResponse:
    """Answers 200 as soon as the process serves; touches no database."""
    return JSONResponse({"status": "ok"})
