"""RFC 9457 problem details: error classes and the handlers that render them.

Every 4xx/5xx answer leaves through here, so no stack trace, SQL or path ever reaches a
client.
"""

import logging
import sqlite3
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Scope, Send

from app.kit.responses import JSONResponse

log = logging.getLogger("demarche")
PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """An error that becomes a problem-details answer."""

    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions
        """Members of the answer beside RFC 9457's own (documented on :class:`ProblemDetail`)."""

    @property
    def type(self) -> str:
        return f"/problems/{self.slug}"


class BadRequest(Problem):
    status, slug, title = 400, "bad-request", "Bad request"


class UnknownParameter(BadRequest):
    """A query parameter the operation does not take: the answer names it (``errors``) and
    lists those it takes (``accepted``)."""

    slug, title = "unknown-parameter", "Unknown query parameter"


class UnknownField(BadRequest):
    """A ``fields`` selection naming a field the record does not have: the answer names it
    and lists the record's fields (``accepted``)."""

    slug, title = "unknown-field", "Unknown field"


class MalformedJSON(Problem):
    status, slug, title = 400, "malformed-json", "Malformed JSON"


class InvalidCursor(Problem):
    status, slug, title = 400, "invalid-cursor", "Invalid cursor"


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Unauthorized"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class NotRetracted(Conflict):
    """A restore of a record that is not retracted: there is nothing to restore."""

    slug, title = "not-retracted", "Not retracted"


class Moved(Problem):
    """The record named in the path was merged into another: 308 to the same path naming
    the other (``Location``), whose answer the client reads instead."""

    status, slug, title = 308, "moved", "Permanent redirect"

    def __init__(self, detail: str, named: str, survivor: str) -> None:
        super().__init__(detail, extensions={"merged_into": survivor})
        self.named, self.survivor = named, survivor

    def location(self, request: Request) -> str:
        """The request's path and query, the segment that named the record naming ``survivor``."""
        segments = [self.survivor if segment == self.named else segment for segment in request.url.path.split("/")]
        query = request.url.query
        return quote("/".join(segments), safe="/:@") + (f"?{query}" if query else "")


class Merged(Conflict):
    """A write to a record merged into another (409), naming it in ``merged_into``."""

    slug, title = "merged", "Merged into another record"

    def __init__(self, detail: str, survivor: str) -> None:
        super().__init__(detail, extensions={"merged_into": survivor})


class PreconditionFailed(Problem):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class ValidationFailed(Problem):
    status, slug, title = 422, "validation-error", "Validation error"


class TooManyRequests(Problem):
    status, slug, title = 429, "rate-limited", "Too many requests"


class ServiceUnavailable(Problem):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


def schema_missing(exc: BaseException) -> bool:
    """Whether a database error says that a table or column is missing: the database was
    never migrated, or not to this version (SQLite's ``no such table``, PostgreSQL's
    SQLSTATE 42P01 and 42703)."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, sqlite3.OperationalError):
        return str(orig).startswith(("no such table", "no such column"))
    return getattr(orig, "sqlstate", None) in ("42P01", "42703")


def unmigrated() -> "ServiceUnavailable":
    """The answer while the database's schema is missing or behind the code."""
    return ServiceUnavailable(
        "The database has not been migrated to this version (its tables are missing or out of date): "
        "run `demarche migrate`. GET /readyz reports the schema's revision.",
        headers={"Retry-After": "30"},
    )


class QueryTooExpensive(Problem):
    """A statement ran past its time budget (``DEMARCHE_STATEMENT_TIMEOUT_MS``), or its
    request's reads past theirs (``DEMARCHE_REQUEST_TIMEOUT_SECONDS``), and was cancelled.
    No ``Retry-After``: the same request would cost the same again."""

    status, slug, title = 503, "query-too-expensive", "Query too expensive"


def error_entry(loc: Sequence[Any], msg: str, type_: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": type_}


def invalid(loc: Sequence[Any], msg: str, type_: str = "value_error") -> ValidationFailed:
    """A 422 naming one field, e.g. an unknown reference."""
    return ValidationFailed(msg, errors=[error_entry(loc, msg, type_)])


def from_pydantic(exc: ValidationError, prefix: Sequence[Any] = ("body",)) -> ValidationFailed:
    errors = [error_entry([*prefix, *e["loc"]], e["msg"], e["type"]) for e in exc.errors()]
    return ValidationFailed(_summary(errors), errors=errors)


def _summary(errors: list[dict[str, Any]]) -> str:
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


def problem_response(
    request: Request,
    status: int,
    *,
    type_: str = "about:blank",
    title: str | None = None,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or HTTPStatus(status).description,
        "instance": request.url.path,
    }
    if errors is not None:
        body["errors"] = errors
    if extensions:
        body |= extensions
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


async def refuse(scope: Scope, send: Send, problem: Problem) -> None:
    """Answer with ``problem`` from ASGI middleware, before any handler has run."""
    await render(Request(scope), problem)(scope, _disconnected, send)


async def _disconnected() -> Message:
    return {"type": "http.disconnect"}


async def _on_problem(request: Request, exc: Problem) -> JSONResponse:
    return render(request, exc)


def render(request: Request, exc: Problem) -> JSONResponse:
    """The problem-details answer for ``exc``."""
    headers = exc.headers | {"Location": exc.location(request)} if isinstance(exc, Moved) else exc.headers
    return problem_response(
        request,
        exc.status,
        type_=exc.type,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=headers,
        extensions=exc.extensions,
    )


async def _on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    raw = exc.errors()
    if any(e["type"] == "json_invalid" for e in raw):
        return await _on_problem(request, MalformedJSON("The request body is not valid JSON."))
    errors = [error_entry(e["loc"], e["msg"], e["type"]) for e in raw]
    return await _on_problem(request, ValidationFailed(_summary(errors), errors=errors))


async def _on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404:
        detail = f"No resource at {request.url.path}."
    if exc.status_code == PayloadTooLarge.status:
        return await _on_problem(request, PayloadTooLarge(detail))
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), **_allow(request)}
    return problem_response(request, exc.status_code, detail=detail, headers=headers)


def _allow(request: Request) -> dict[str, str]:
    """``Allow`` naming every method served at the request's path. Each method has a route
    of its own, and Starlette's ``Allow`` names only those of the first route that matched."""
    template = getattr(request.scope.get("route"), "path", None)
    operations = request.app.openapi()["paths"].get(template)
    if not operations:
        return {}
    methods = {method.upper() for method in operations} | ({"HEAD"} if "get" in operations else set())
    return {"Allow": ", ".join(sorted(methods))}


async def _on_integrity(request: Request, exc: IntegrityError) -> JSONResponse:
    # The services check uniqueness first; this catches the race between two writers.
    return await _on_problem(request, Conflict("The record conflicts with an existing one."))


def _timed_out(exc: DBAPIError) -> bool:
    """Whether the driver cancelled the statement past its budget: SQLite's progress handler
    interrupted it, or PostgreSQL's ``statement_timeout`` (SQLSTATE 57014) did."""
    if isinstance(exc.orig, sqlite3.OperationalError):
        return str(exc.orig) == "interrupted"
    return getattr(exc.orig, "sqlstate", None) == "57014"


def _locked(exc: DBAPIError) -> bool:
    """Whether SQLite's busy timeout ran out while another connection held the write lock."""
    return isinstance(exc.orig, sqlite3.OperationalError) and str(exc.orig) == "database is locked"


async def _on_database(request: Request, exc: DBAPIError) -> JSONResponse:
    if schema_missing(exc):
        log.warning("database schema missing or behind on %s %s", request.method, request.url.path)
        return await _on_problem(request, unmigrated())
    if _timed_out(exc):
        log.warning("statement cancelled past its time budget on %s %s", request.method, request.url.path)
        return await _on_problem(
            request,
            QueryTooExpensive(
                "The query ran past the server's time budget and was cancelled; "
                "narrow the filters or ask for fewer rows."
            ),
        )
    if _locked(exc):
        log.warning("the write lock was not free in time on %s %s", request.method, request.url.path)
        return await _on_problem(
            request,
            ServiceUnavailable(
                "Another write held the database's write lock (SQLite takes one writer at a time) "
                "past the time this one could wait for it; nothing was written: retry shortly.",
                headers={"Retry-After": "2"},
            ),
        )
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        log.warning("database unavailable: %s", type(exc.orig).__name__)
        return await _on_problem(
            request,
            ServiceUnavailable("The database is unavailable; retry shortly.", headers={"Retry-After": "5"}),
        )
    return await _on_unexpected(request, exc)


async def _on_pool_timeout(request: Request, exc: PoolTimeout) -> JSONResponse:
    log.warning("no database connection free on %s %s", request.method, request.url.path)
    return await _on_problem(
        request,
        ServiceUnavailable("Every database connection is busy; retry shortly.", headers={"Retry-After": "5"}),
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(request, 500, detail="An unexpected error occurred.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(IntegrityError, _on_integrity)
    app.add_exception_handler(DBAPIError, _on_database)
    app.add_exception_handler(PoolTimeout, _on_pool_timeout)
    app.add_exception_handler(Exception, _on_unexpected)


class FieldError(BaseModel):
    """One invalid input: where it is (`loc`, starting with `body`, `query` or `path`), what
    is wrong, and a machine-readable error type."""

    loc: list[str | int]
    msg: str
    type: str


class LineErrors(BaseModel):
    """The errors of one line of an import; lines count from 1."""

    line: int
    errors: list[FieldError]


class ProblemDetail(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError | LineErrors] | None = None
    accepted: list[str] | None = Field(
        default=None,
        description="With `unknown-parameter`: the query parameters the operation takes; with `unknown-field`: "
        "the fields a `fields` selection may name, in the record's order.",
    )
    merged_into: str | None = Field(
        default=None,
        description="With `moved` (308) and `merged` (409): the id of the incident the one named was merged into.",
    )


SCHEMA_REF = "#/components/schemas/{model}"
"""Where OpenAPI components live; ``app.kit.openapi`` puts ``ProblemDetail`` there."""


_DESCRIPTIONS = {
    308: "The incident named was merged into another (`merged_into`): `Location` is the same path naming it. "
    "Clients that follow redirects read the survivor's answer.",
    400: "Malformed JSON, a tampered or foreign cursor, a malformed `Idempotency-Key`, or a query parameter the "
    "operation does not take (`unknown-parameter`: `errors` names each, `accepted` lists those it takes).",
    401: "No API key where one is needed, or an unknown or revoked one.",
    403: "The API key's scope does not allow this operation.",
    404: "No such record (or it was retracted).",
    409: "A unique key (slug, url, external_ref) is already taken, or the first request with this "
    "`Idempotency-Key` is still running (retry after `Retry-After` seconds), or (`merged`) the incident named was "
    "merged into another, named in `merged_into`: write to that one.",
    412: "`If-Match` names a version other than the record's current one; nothing was written.",
    413: "The request body is larger than the configured limit.",
    415: "The request body is not JSON.",
    422: "The input failed validation, holds a NUL character or (in a write) refers to a record that does not "
    "exist, or an `Idempotency-Key` was reused with another request; `errors` lists each field.",
    429: "Rate limit reached; retry after `Retry-After` seconds.",
    503: "The database is unavailable or every connection to it is busy (retry after `Retry-After` seconds), "
    "or the query ran past the time budget for one statement (`query-too-expensive`, no `Retry-After`: "
    "narrow the filters), or the database has not been migrated to this version (the detail says to run "
    "`demarche migrate`).",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the problem answers an operation can give."""
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": SCHEMA_REF.format(model="ProblemDetail")}}},
        }
        for status in statuses
    }
