"""The lean reads (``app/kit/lean.py``): the commonest reads answered past the framework,
with the very status, headers and bytes their routes answer, whatever the request."""

import asyncio
import contextlib
import time
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from starlette.responses import PlainTextResponse, Response

from app.access.models import KeyScope
from app.db import REQUEST_DEADLINE, Deadline
from app.kit import problems
from app.kit.lean import LeanReads, LeanRequest
from app.kit.prepared import Statement
from tests.conftest import make, new_key
from tests.test_hostile import COUNT_TO_A_BILLION

VARYING = {"x-request-id", "ratelimit-remaining", "ratelimit-reset"}
"""Headers that differ between any two answers."""

VALUES = {
    "kind": ["expulsion", "mission_suspension", "liaison_suspension", "summons", "EXPULSION", ""],
    "cameo": ["16", "161", "166", "1", "16x"],
    "plover": ["SANCTION", "COERCE", "sanction"],
    "tag": ["nato-russia", "intelligence", "none", ""],
    "from": ["2021-10-01", "2021-10-07", "2021-10", "2021-13-01", ""],
    "to": ["2021-10-06", "2021-12-31", "2021", "x"],
    "limit": ["1", "2", "50", "500", "501", "0", "05", "-1", "x"],
    "sort": ["occurred_on", "-occurred_on"],
    "q": ["mission"],
    "actor": ["russia"],
    "status": ["draft", "retracted"],
    "fields": ["title"],
    "count": ["true"],
    "format": ["json", "csv"],
    "cursor": ["x"],
    "bogus": ["1"],
    "api_key": ["x"],
}
QUERIES = st.lists(
    st.sampled_from(sorted(VALUES)).flatmap(lambda name: st.tuples(st.just(name), st.sampled_from(VALUES[name]))),
    max_size=4,
)


def answer(client: TestClient, url: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    got = client.request(method, url, headers=headers)
    return got.status_code, {k: v for k, v in got.headers.items() if k not in VARYING}, got.content


@pytest.fixture
def both(app_with, client):
    """A client of an app with lean reads and one of an app without, for each caller."""
    assert client.post(
        "/v1/import",
        content=files("app.seed").joinpath("demo.ndjson").read_bytes(),
        headers={"Content-Type": "application/x-ndjson"},
    ).is_success
    lean, routed = app_with(), app_with(lean_reads=False)
    keys = {scope: new_key(lean, scope) for scope in (KeyScope.read, KeyScope.write)}

    def clients(scope: KeyScope | None) -> tuple[TestClient, TestClient]:
        headers = {"Authorization": f"Bearer {keys[scope]}"} if scope else {}
        return TestClient(lean, headers=headers), TestClient(routed, headers=headers)

    return lean, clients


@pytest.fixture
def records(client, both) -> dict[str, str]:
    """Incidents in every state a read tells apart, beside the demo's."""
    base = {"kind": "expulsion", "initiators": ["nato"], "targets": ["russia"]}
    draft = make(client, "incidents", **base, title="A draft", occurred_on="2021-10-08", status="draft")
    retracted = make(client, "incidents", **base, title="Retracted", occurred_on="2021-10-09")
    assert client.delete(f"/v1/incidents/{retracted['id']}").status_code == 204
    survivor = make(client, "incidents", **base, title="Survivor", occurred_on="2021-10-10", external_ref="t:1")
    merged = make(client, "incidents", **base, title="Merged", occurred_on="2021-10-10")
    assert client.post(f"/v1/incidents/{survivor['id']}/merge", json={"merged": merged["id"]}).status_code == 200
    return {"draft": draft["id"], "retracted": retracted["id"], "survivor": survivor["id"], "merged": merged["id"]}


@pytest.mark.parametrize("scope", [None, KeyScope.read, KeyScope.write])
def test_records_are_answered_as_their_routes_answer_them(both, records, scope):
    _, clients = both
    lean, routed = clients(scope)
    russia = routed.get("/v1/actors/russia").json()["id"]
    urls = [f"/v1/incidents/{record_id}" for record_id in records.values()] + [
        "/v1/incidents/ref:t:1",
        "/v1/incidents/ref:t%3A1",
        "/v1/incidents/unknown",
        f"/v1/incidents/{records['survivor']}?fields=title",
        f"/v1/incidents/{records['survivor']}?bogus=1",
        "/v1/actors/russia",
        f"/v1/actors/{russia}",
        "/v1/actors/iso3:RUS",
        "/v1/actors/slug:nato",
        "/v1/actors/nobody",
        "/v1/actors/russia?fields=name",
    ]
    for url in urls:
        for method in ("GET", "HEAD"):
            assert answer(lean, url, method) == answer(routed, url, method), (method, url)
        tag = routed.get(url).headers.get("etag")
        for headers in [
            {"If-None-Match": tag or '"1"'},
            {"Demarche-Min-Sequence": "1"},
            {"Demarche-Min-Sequence": "x"},
        ]:
            assert answer(lean, url, **headers) == answer(routed, url, **headers), (url, headers)


@pytest.mark.parametrize("scope", [None, KeyScope.read, KeyScope.write])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=QUERIES)
def test_lists_are_answered_as_their_route_answers_them(both, records, scope, query):
    _, clients = both
    lean, routed = clients(scope)
    url = "/v1/incidents" + (f"?{urlencode(query)}" if query else "")
    expected = answer(routed, url)
    assert answer(lean, url) == expected, url
    assert answer(lean, url, **{"Demarche-Min-Sequence": "x"}) == answer(routed, url, **{"Demarche-Min-Sequence": "x"})
    if expected[0] == 200 and "link" in expected[1]:  # the next page, whose cursor the lean page signed
        following = expected[1]["link"].split(">")[0].removeprefix("<http://testserver")
        assert answer(lean, following) == answer(routed, following), following


@pytest.mark.parametrize(
    "url", ["/v1/incidents?kind=expulsion&from=2021-01-01", "/v1/incidents/{survivor}", "/v1/actors/russia"]
)
def test_a_lean_read_runs_no_statement_through_sqlalchemy(both, records, url):
    """Its one statement goes to the driver's own cursor (tests/test_statement_budgets.py
    counts it there); the route would have run it through SQLAlchemy."""
    app, clients = both
    lean, _ = clients(KeyScope.read)
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    url = url.format(**records)
    assert lean.get(url).status_code == 200  # the key verified: its look-up is not the read's
    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        got = lean.get(url)
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
    assert got.status_code == 200
    assert seen == []


def test_a_route_declared_before_the_lean_reads_route_keeps_its_paths():
    app = FastAPI()

    @app.get("/things/special")
    def special() -> Response:
        return PlainTextResponse("the special route")

    @app.get("/things/{thing}")
    def thing(thing: str) -> Response:
        return PlainTextResponse("the route")

    async def lean(request: LeanRequest) -> Response | None:
        return None if request.params["thing"] == "deferred" else PlainTextResponse("lean")

    class Caller:
        sees_unpublished = False

    async def with_caller(scope: Any, receive: Any, send: Any) -> None:
        scope.setdefault("state", {})["caller"] = Caller()
        await reads(scope, receive, send)

    reads = LeanReads(app, app.router.routes, [(thing, lean)], admits=lambda caller: True)
    client = TestClient(with_caller)
    assert client.get("/things/special").text == "the special route"
    assert client.get("/things/one").text == "lean"
    assert client.get("/things/deferred").text == "the route"


@pytest.mark.parametrize("on_loop", [True, False], ids=["on the loop", "without the app's lifespan"])
@pytest.mark.parametrize("limits", [{"statement_timeout_ms": 200}, {"request_timeout_seconds": 0.2}])
def test_a_driver_read_is_timed_as_a_sessions_read(app_with, limits, on_loop):
    """Past its statement budget, or its request's deadline, a statement run by the driver
    is cancelled, raised as SQLAlchemy raises it (answered 503 query-too-expensive), and its
    connection goes back to its pool, on PostgreSQL whether the app's lifespan gave the
    event loop connections of its own or not."""
    app = app_with(**{"statement_timeout_ms": 5000, "request_timeout_seconds": 0} | limits)
    deadline = Deadline(limits.get("request_timeout_seconds", 0))
    reads, engine = app.state.driver_reads, app.state.engine

    async def slow() -> None:
        REQUEST_DEADLINE.set(deadline)
        async with reads.on_loop(engine) if on_loop else contextlib.nullcontext():
            await reads.run(engine, Statement(str(COUNT_TO_A_BILLION)))

    started = time.monotonic()
    with pytest.raises(DBAPIError) as raised:
        asyncio.run(slow())
    assert time.monotonic() - started < 5
    assert problems._timed_out(raised.value)
    assert engine.pool.checkedout() == 0


def test_a_lean_read_on_postgresql_runs_on_the_loops_own_connections(app_with, engine_name):
    """With the app's lifespan (as a server runs it), no lean read takes a connection of the
    engine's pool, nor a thread."""
    if engine_name != "postgresql":
        pytest.skip("SQLite's lean reads run on the loop, on a connection of the engine's pool")
    app = app_with()
    taken: list[Any] = []
    event.listen(app.state.engine, "checkout", lambda *args: taken.append(args))
    with TestClient(app) as client:
        taken.clear()  # the app's start
        assert client.get("/v1/actors/nobody-at-all").status_code == 404  # the route's, through a session
        assert taken, "a route's read takes a connection of the engine's pool"
        taken.clear()
        for _ in range(3):
            assert client.get("/v1/incidents?kind=expulsion").status_code == 200
    assert taken == []
    assert app.state.driver_reads._executor is None
