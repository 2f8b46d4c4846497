from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.access import service
from app.access.deps import AdminScope
from app.access.models import ApiKeyCreate, ApiKeyCreated, ApiKeyPage
from app.db import PrimarySessionDep, SessionDep
from app.kit import problems
from app.kit.responses import JSONResponse, created

router = APIRouter(prefix="/v1/keys", tags=["keys"])
KeyPath = Annotated[str, Path(description="The key's public id.")]


@router.post(
    "",
    name="create",
    summary="Issue an API key",
    status_code=201,
    response_model=ApiKeyCreated,
    responses=problems.responses(400, 401, 403, 413, 415, 422, 429),
)
def create_key(payload: ApiKeyCreate, session: SessionDep, caller: AdminScope) -> JSONResponse:
    """Issue a key with the given scope. The answer carries the `secret` — the only time it
    is ever shown; only its SHA-256 is kept. Secrets read `dmk_<id>_<random>`: the `dmk_`
    prefix lets secret scanners recognise a leaked key."""
    key, secret = service.create(session, payload)
    return created(service.public(key) | {"secret": secret}, f"/v1/keys/{key.id}")


@router.get(
    "",
    name="list",
    summary="List API keys",
    response_model=ApiKeyPage,
    responses=problems.responses(401, 403, 429),
)
def list_keys(session: PrimarySessionDep, caller: AdminScope) -> JSONResponse:
    """Keys not revoked, oldest first, without their secrets. `last_used_at` is kept to
    within a minute."""
    return JSONResponse({"data": [service.public(key) for key in service.live(session)]})


@router.delete(
    "/{key}",
    name="revoke",
    summary="Revoke an API key",
    status_code=204,
    responses=problems.responses(401, 403, 404, 429),
)
def revoke_key(request: Request, key: KeyPath, session: SessionDep, caller: AdminScope) -> Response:
    """Revoke the key: the very next request that sends it to this server process is refused
    with 401, and every other process of the service refuses it within
    `DEMARCHE_KEY_CACHE_SECONDS` (5 s by default), for as long as it serves a verified key from
    memory. An unknown or already revoked key is 404."""
    service.revoke(session, key)
    request.app.state.keys.revoked(key)
    return Response(status_code=204)
