"""Every route of the app, taken from its own route table, against no key, a read key, a
write key and an admin key: each answers exactly as the scope it declares says. A route
that declares no scope fails here."""

import re
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from app.access.deps import operator, public, require_admin, require_read, require_write
from app.access.models import KeyScope
from tests.conftest import keyed_client

DECLARATIONS = {
    public: "public",
    require_read: "read",
    require_write: "write",
    require_admin: "admin",
    operator: "operator",
}
CALLERS = ("anonymous", *KeyScope)
# What FastAPI, the docs and the pages (their stylesheet and icon) serve outside the route
# table's API routes: public by nature.
UNDECLARED_PUBLIC = {"/openapi.json", "/docs-assets", "/static"}


def declared_scope(route) -> str:
    found = [DECLARATIONS[d.call] for d in route.dependant.dependencies if d.call in DECLARATIONS]
    assert len(found) == 1, (
        f"{route.path} declares {found or 'no scope'}: give it Public, ReadScope, WriteScope or AdminScope"
    )
    return found[0]


def expected(scope: str, caller: str, public_read: bool) -> int | None:
    """401 or 403 when ``caller`` is refused, ``None`` when it is let through."""
    if scope == "public" or (scope == "operator" and public_read):
        return None
    if scope == "operator":
        return expected("admin", caller, public_read)
    if caller == "anonymous":
        return None if scope == "read" and public_read else 401
    return None if KeyScope(caller).allows(KeyScope(scope)) else 403


def operations(app) -> list[tuple[str, str, str, str]]:
    """``(name, method, path to call, declared scope)`` of every API route."""
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute):
            path = re.sub(r"\{[^}]+\}", "nonexistent", route.path)
            for method in sorted(route.methods - {"HEAD"}):
                found.append((f"{method} {route.path}", method, path, declared_scope(route)))
    return found


def call(client: TestClient, method: str, path: str) -> int:
    body = {"json": {}} if method in {"POST", "PATCH", "PUT"} else {}
    return client.request(method, path, **body).status_code


@pytest.fixture
def callers(app_with, request) -> Iterator[dict[str, TestClient]]:
    """A client for each caller of an app with ``DEMARCHE_PUBLIC_READ`` as parametrised."""
    app = app_with(public_read=request.param)
    with ExitStack() as stack:
        yield {c: stack.enter_context(keyed_client(app, None if c == "anonymous" else c)) for c in CALLERS}


@pytest.mark.parametrize("callers", [False, True], ids=["private", "public-read"], indirect=True)
def test_every_route_answers_each_scope_as_declared(callers):
    app = callers["anonymous"].app
    public_read = app.state.settings.public_read
    table = ["| operation | scope | " + " | ".join(CALLERS) + " |", "|---|---|" + "---|" * len(CALLERS)]
    wrong = []
    routes = operations(app)
    assert {"GET /v1/incidents", "POST /v1/keys", "GET /healthz"} <= {name for name, *_ in routes}
    for name, method, path, scope in routes:
        cells = []
        for caller, client in callers.items():
            status = call(client, method, path)
            refused = expected(scope, caller, public_read)
            ok = status == refused if refused else status not in (401, 403) and status < 500
            if not ok:
                wrong.append(f"{name} as {caller}: {status}")
            cells.append(str(status))
        table.append(f"| {name} | {scope} | " + " | ".join(cells) + " |")
    print(f"\nDEMARCHE_PUBLIC_READ={str(public_read).lower()}\n" + "\n".join(table))
    assert not wrong, wrong


def test_a_refusal_says_how_to_authenticate(app_with):
    app = app_with(public_read=False)
    with keyed_client(app, None) as anonymous, keyed_client(app, KeyScope.read) as reader:
        missing = anonymous.get("/v1/incidents")
        assert missing.status_code == 401
        assert missing.headers["WWW-Authenticate"].startswith("Bearer")
        assert missing.headers["Content-Type"] == "application/problem+json"
        forbidden = reader.post("/v1/actors", json={"slug": "nato", "name": "NATO", "kind": "organization"})
        assert forbidden.status_code == 403
        assert forbidden.json()["type"] == "/problems/forbidden"


def test_only_the_documented_routes_lie_outside_the_api_routes(app, anonymous):
    others = {r.path for r in iter_route_contexts(app.routes) if not isinstance(r.original_route, APIRoute)}
    assert others == UNDECLARED_PUBLIC
    assert anonymous.get("/openapi.json").status_code == 200


def test_the_spec_shows_the_bearer_scheme_and_each_operations_scope(client):
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "dmk_<id>_<secret>",
        "description": "An API key from `POST /v1/keys` or `demarche keys create`.",
    }
    assert spec["paths"]["/v1/incidents"]["get"]["security"] == [{"bearer": ["read"]}]
    assert spec["paths"]["/v1/incidents"]["post"]["security"] == [{"bearer": ["write"]}]
    assert spec["paths"]["/v1/keys"]["post"]["security"] == [{"bearer": ["admin"]}]
    assert "security" not in spec["paths"]["/healthz"]["get"]
