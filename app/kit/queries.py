"""Strict queries: every route refuses a query parameter it does not declare (400).

A typo in a filter (``?knd=expulsion``) would otherwise be ignored, and the answer would be
the whole, unfiltered list. The names a route accepts are read once, when the app starts,
from the query parameters its dependency tree declares (FastAPI's dependant: aliases such as
``from`` included, the fields of query models expanded), never from a list kept by hand. A
request then costs a lookup of its route and a look at its query's names: no statement.
"""

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute, iter_route_contexts

from app.kit.problems import UnknownParameter, error_entry

PAGING = ("limit", "cursor", "format")
"""Named first where a route takes them, as a list's answer names them first."""


def declared(dependant: Dependant) -> tuple[str, ...]:
    """The query parameter names ``dependant`` declares, with those of its dependencies, as
    a client writes them (the alias where there is one), the paging ones first."""
    found: list[Any] = []
    seen: set[int] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        found.extend(current.query_params)
        stack.extend(reversed(current.dependencies))
    # a Dependant of query parameters alone: FastAPI flattens query models into their fields
    names = dict.fromkeys(field.alias for field in get_flat_params(Dependant(query_params=found)))
    return (*(name for name in PAGING if name in names), *(name for name in names if name not in PAGING))


class StrictQuery:
    """A dependency of every route of an app: 400 (``unknown-parameter``) for a query
    parameter the route does not declare, naming it and those the route takes. The names
    are read by :meth:`install`, once the last route is added."""

    def __init__(self) -> None:
        self.accepted: dict[int, frozenset[str]] = {}
        self.order: dict[int, tuple[str, ...]] = {}

    def install(self, app: FastAPI) -> None:
        """Read the query parameters of every route of ``app``."""
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if isinstance(route, APIRoute):
                self._read(id(route), context.dependant or route.dependant)

    def _read(self, key: int, dependant: Dependant) -> frozenset[str]:
        names = declared(dependant)
        self.order[key] = names
        self.accepted[key] = frozenset(names)
        return self.accepted[key]

    async def __call__(self, request: Request) -> None:
        scope = request.scope
        if not scope["query_string"]:
            return
        key = id(scope["route"])
        accepted = self.accepted.get(key)
        if accepted is None:  # a route added after start-up: read it now, once
            accepted = self._read(key, scope["route"].dependant)
        # the query is parsed once per request: FastAPI reads its parameters from the same object
        unknown = [name for name in request.query_params if name not in accepted]
        if unknown:
            raise refusal(unknown, self.order[key])


def refusal(unknown: Iterable[str], accepted: Iterable[str]) -> UnknownParameter:
    unknown, accepted = list(unknown), list(accepted)
    takes = f"takes: {', '.join(f'`{name}`' for name in accepted)}" if accepted else "takes no query parameter"
    noun = "parameter" if len(unknown) == 1 else "parameters"
    detail = f"Unknown query {noun} {', '.join(f'`{name}`' for name in unknown)}; this operation {takes}."
    msg = "Not a query parameter of this operation."
    return UnknownParameter(
        detail,
        errors=[error_entry(["query", name], msg, "unknown_parameter") for name in unknown],
        extensions={"accepted": accepted},
    )
