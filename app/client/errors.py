"""Typed errors, one class a status, built from the server's problem details."""

from typing import Any

import httpx


class DemarcheError(Exception):
    """An error answer; carries the problem details the server sent."""

    status: int = 0

    def __init__(self, response: httpx.Response, problem: dict[str, Any]) -> None:
        self.response = response
        self.status = response.status_code
        self.type: str = problem.get("type", "about:blank")
        self.title: str = problem.get("title", response.reason_phrase)
        self.detail: str = problem.get("detail", "")
        self.errors: list[dict[str, Any]] = problem.get("errors") or []
        super().__init__(f"{self.status} {self.title}: {self.detail}")


class BadRequest(DemarcheError):
    status = 400


class Unauthorized(DemarcheError):
    status = 401


class Forbidden(DemarcheError):
    status = 403


class NotFound(DemarcheError):
    status = 404


class Conflict(DemarcheError):
    status = 409


class PreconditionFailed(DemarcheError):
    status = 412


class PayloadTooLarge(DemarcheError):
    status = 413


class UnsupportedMediaType(DemarcheError):
    status = 415


class ValidationError(DemarcheError):
    """422: ``errors`` lists each field, or for an import each bad line."""

    status = 422


class RateLimited(DemarcheError):
    status = 429


class ServerError(DemarcheError):
    """5xx."""


class Unavailable(ServerError):
    status = 503


_BY_STATUS = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        ValidationError,
        RateLimited,
        Unavailable,
    )
}


def error_for(response: httpx.Response) -> DemarcheError:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    default = ServerError if response.status_code >= 500 else DemarcheError
    return _BY_STATUS.get(response.status_code, default)(response, problem)
