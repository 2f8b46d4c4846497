"""Lean reads: a route's commonest requests answered right after the edge.

Between the edge and a route's handler a request crosses the middleware of writes
(``Idempotency-Key``, body limits, sequence headers), Starlette's routing over every route,
and FastAPI's dependencies and parameter models: for a read by id, several times what its
statement costs the database. A lean read is a plain async function that answers one
route's commonest requests itself, with the status, headers and bytes the route would
answer, and gives back ``None`` for any request it does not serve as the route would (a
query parameter it does not read, a conditional header, a record it did not find): that
request goes on to the route, which answers everything else. The routes stay the contract:
their parameters, models and errors are the OpenAPI document.

A lean read is tried only for a ``GET`` whose path the route's template matches and no
route declared before it does, and whose caller the route's scope admits; the edge has
already authenticated the request, counted it against its limit, and logs it under the
route's template (``scope["route"]``), as it does every request. A path sent
percent-encoded goes to the route, which decodes a natural key as :mod:`app.kit.keys` says.
"""

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi.routing import iter_route_contexts
from sqlalchemy import Dialect
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from app.kit import etags
from app.kit.prepared import Statement


@dataclass(slots=True)
class LeanRequest:
    scope: Scope
    params: dict[str, str]
    """The path's parameters, named as in the route's template."""
    query: list[tuple[str, str]]
    """The query string's parameters, in order, repeated ones repeated."""
    caller: Any

    @property
    def state(self) -> Any:
        return self.scope["app"].state


@dataclass(slots=True)
class Watch:
    """A lean read's word that it does not answer the request, and that the answer given
    instead (by a later lean read, or the route) is to be sent through ``watch(send)``."""

    watch: Callable[[Send], Send]


LeanRead = Callable[[LeanRequest], Awaitable[Response | Watch | None]]


class LeanReads:
    """Serves the requests that ``reads`` answer: each a route's handler and a lean read of
    it, a route's lean reads tried in their order until one answers (one that gives back a
    :class:`Watch` watches the answer). Every other request, and every one they give back,
    goes to ``app``: one the routes' scope does not let its caller in (``admits(caller)``),
    and one that sends any of the ``routed_headers``, which the routes answer (a conditional
    request, a sequence to read at). Made as the app's middleware is built, once every route
    of ``routes`` is there."""

    def __init__(
        self,
        app: ASGIApp,
        routes: list[BaseRoute],
        reads: list[tuple[Callable[..., Any], LeanRead]],
        admits: Callable[[Any], bool],
        routed_headers: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.admits = admits
        self.routed_headers = frozenset(name.lower().encode() for name in routed_headers)
        gets = [
            (context.original_route, context.path, compile_path(context.path)[0])
            for context in iter_route_contexts(routes)
            if context.path is not None and "GET" in (getattr(context.original_route, "methods", None) or ())
        ]
        by_endpoint: dict[Callable[..., Any], list[LeanRead]] = {}
        for endpoint, read in reads:
            by_endpoint.setdefault(endpoint, []).append(read)
        self.reads = []
        for endpoint, route_reads in by_endpoint.items():
            [at] = [i for i, (route, _, _) in enumerate(gets) if getattr(route, "endpoint", None) is endpoint]
            route, _, pattern = gets[at]
            # the routes declared before it whose paths it would match: routing chooses them first
            shadows = [other for _, path, other in gets[:at] if pattern.match(path) is not None]
            self.reads.append((route, pattern, route_reads, shadows))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            answer, watches = await self._answer(scope)
            for watch in watches:
                send = watch.watch(send)
            if answer is not None:
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope) -> tuple[Response | None, list[Watch]]:
        if b"%" in scope.get("raw_path", b""):
            return None, []  # a key sent percent-encoded: routing decodes it (app.kit.keys)
        path = scope["path"]
        for route, pattern, route_reads, shadows in self.reads:
            match = pattern.match(path)
            if match is None or any(shadow.match(path) for shadow in shadows):
                continue
            caller = scope["state"]["caller"]
            if not self.admits(caller) or any(name in self.routed_headers for name, _ in scope["headers"]):
                return None, []
            query = scope["query_string"]
            request = LeanRequest(
                scope,
                match.groupdict(),
                parse_qsl(query.decode("latin-1"), keep_blank_values=True) if query else [],
                caller,
            )
            watches = []
            for read in route_reads:
                try:
                    answer = await read(request)
                except Exception as exc:
                    answer = await _handled(scope, exc)
                if isinstance(answer, Watch):
                    watches.append(answer)
                elif answer is not None:
                    scope["route"] = route  # the access log's and the metrics' name for it
                    return answer, watches
            return None, watches
        return None, []


async def _handled(scope: Scope, exc: Exception) -> Response:
    """The answer of the app's handler of ``exc`` (a database that failed or ran out of time
    or connections), as a route's exception would have been answered."""
    handlers = scope["app"].exception_handlers
    handler = next((handlers[kind] for kind in type(exc).__mro__ if kind in handlers), None)
    if handler is None:
        raise exc
    answer = handler(Request(scope), exc)
    return await answer if inspect.isawaitable(answer) else answer


def record_read(
    param: str, text: Callable[[Dialect, str], Statement[tuple[bytes, int] | None]], editors_too: bool = False
) -> LeanRead:
    """The lean read of a route that answers one record, named by the path parameter
    ``param``, with its ``ETag``: ``text(dialect, ref)`` is the statement, run by a driver
    (``state.driver_reads``: :class:`app.db.DriverReads`), that answers the record's JSON
    text and version, or ``None`` where the route answers otherwise (no such record: 404,
    or a redirect). It serves a request with no query, from a caller who reads published
    records only, or from any caller with ``editors_too`` (the answer is the same for all)."""

    async def read(request: LeanRequest) -> Response | None:
        if request.query or (request.caller.sees_unpublished and not editors_too):
            return None
        engine = request.state.engine
        found = await request.state.driver_reads.run(engine, text(engine.dialect, request.params[param]))
        return None if found is None else etags.tagged(found[0], etags.entity_tag(found[1]))

    return read
