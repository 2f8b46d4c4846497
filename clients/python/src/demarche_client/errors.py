"""Typed errors, one class a status, built from the server's problem details (RFC 9457).

Every class is importable from :mod:`demarche_client` itself::

    from demarche_client import DemarcheError, NotFound, PreconditionFailed
"""

from typing import Any

import httpx

QUERY_TOO_EXPENSIVE = "/problems/query-too-expensive"


class DemarcheError(Exception):
    """An error answer; carries the problem details the server sent.

    - ``status``: the HTTP status;
    - ``type``, ``title``, ``detail``: the problem's fields (``type`` such as
      ``/problems/not-found``);
    - ``errors``: what was wrong, item by item: for a 422 each field (``loc``, ``msg``), for an
      import each bad line (``line``, ``errors``);
    - ``problem``: the whole problem details object (some carry more, such as ``accepted``);
    - ``response``: the ``httpx.Response``.
    """

    status: int = 0

    def __init__(self, response: httpx.Response, problem: dict[str, Any]) -> None:
        self.response = response
        self.problem = problem
        self.status = response.status_code
        self.type: str = problem.get("type", "about:blank")
        self.title: str = problem.get("title", response.reason_phrase)
        self.detail: str = problem.get("detail", "")
        self.errors: list[dict[str, Any]] = problem.get("errors") or []
        super().__init__(f"{self.status} {self.title}: {self.detail}")


class BadRequest(DemarcheError):
    """400: such as a query parameter the route does not take (``/problems/unknown-parameter``)
    or a cursor sent with other filters."""

    status = 400


class Unauthorized(DemarcheError):
    status = 401


class Forbidden(DemarcheError):
    status = 403


class NotFound(DemarcheError):
    status = 404


class Conflict(DemarcheError):
    """409: a natural key (slug, url, external_ref) taken, or an ``Idempotency-Key`` still in
    flight past the retries."""

    status = 409


class PreconditionFailed(DemarcheError):
    """412: the record changed since the ``If-Match`` tag was read; nothing was written."""

    status = 412


class PayloadTooLarge(DemarcheError):
    status = 413


class UnsupportedMediaType(DemarcheError):
    status = 415


class ValidationError(DemarcheError):
    """422: ``errors`` lists each field, or for an import each bad line."""

    status = 422


class RateLimited(DemarcheError):
    """429, once the retries are spent."""

    status = 429


class ServerError(DemarcheError):
    """5xx."""


class Unavailable(ServerError):
    """503, once the retries are spent."""

    status = 503


class QueryTooExpensive(Unavailable):
    """503 ``/problems/query-too-expensive``: the query ran past the server's time budget. Not
    retried, since it would cost the same again: narrow the filters or lower ``limit``."""


_BY_STATUS: dict[int, type[DemarcheError]] = {
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
    """The typed error of an error answer."""
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    if response.status_code == 503 and problem.get("type") == QUERY_TOO_EXPENSIVE:
        return QueryTooExpensive(response, problem)
    default = ServerError if response.status_code >= 500 else DemarcheError
    return _BY_STATUS.get(response.status_code, default)(response, problem)
