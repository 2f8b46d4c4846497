"""How many SQL statements each read costs: the guard on the read path's speed.

A change that adds a statement to a read route fails here on both engines; raising a budget
is a decision to write down, not a test to loosen. Statements are counted on the driver's
cursors, however they were sent. Transaction control (``BEGIN``, ``COMMIT``,
``ROLLBACK``, savepoints) is not counted: the engines differ in who sends it.
"""

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import event, select
from sqlalchemy.pool.base import _ConnectionFairy

from app.access import service as access
from app.access.models import ApiKey, KeyScope
from tests.conftest import keyed_client, make, new_key

CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")

BUDGETS = {
    "/v1/incidents?kind=expulsion&from=2021-01-01": 1,
    "/v1/incidents?actor=russia": 1,
    "/v1/incidents?actor=iso3:RUS": 1,
    "/v1/incidents/{incident}": 1,
    "/v1/incidents/ref:eln:2021-10:nato-accreditation-withdrawal": 1,
    "/v1/incidents/ref:eln%3A2021-10%3Anato-accreditation-withdrawal": 1,
    "/v1/actors?kind=state": 1,
    "/v1/actors/russia": 1,
    "/v1/sources/{source}": 1,
    "/v1/sources/url:https%3A%2F%2Fwww.europeanleadershipnetwork.org%2Fcommentary%2F"
    "network-reflections-how-do-you-view-russias-response-to-nato-expulsions%2F": 1,
    "/v1/actors/slug:russia": 1,
    "/v1/actors/iso3:RUS": 1,
    "/v1/actors/wikidata:Q159": 1,
    "/v1/exercises/{exercise}": 1,
    "/v1/sources?publisher=European%20Leadership%20Network": 1,
    "/v1/exercises": 1,
    "/v1/channels?party=russia": 1,
    "/v1/channels/{channel}": 2,
    "/v1/dyads/nato/russia?as_of=2021-10-20": 7,
    "/v1/timeline?actor=russia": 4,
    "/v1/timeline?actor=cameo:RUS": 4,
    "/v1/stats/incidents?group_by=kind,month": 1,
}
"""Statements per request, after the caller's key was verified once."""
KEPT = {
    path
    for path in BUDGETS
    if path.startswith(("/v1/incidents?", "/v1/actors/", "/v1/dyads", "/v1/timeline", "/v1/stats"))
}
"""Reads whose answers are kept while no write commits (app/kit/kept.py): the route's
statements follow one that reads the data's version, and a request asked again at the same
version runs that one alone."""


class Counted:
    """A driver's cursor that notes each statement sent on it (a batch of rows for one
    statement, ``executemany``, is one)."""

    def __init__(self, cursor: Any, note: Callable[[str], None]) -> None:
        self._cursor, self._note = cursor, note

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self._note(str(statement))
        return self._cursor.execute(statement, *args, **kwargs)

    def executemany(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self._note(str(statement))
        return self._cursor.executemany(statement, *args, **kwargs)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


@contextmanager
def statements(engine) -> Iterator[list[str]]:
    """The statements sent meanwhile on the cursors of ``engine``'s pooled connections, those
    SQLAlchemy sends and those sent on the driver's own cursor (the lean reads,
    :mod:`app.kit.prepared`) alike, on connections checked out before or after it began; and
    those of the event loop's own PostgreSQL connections."""
    seen: list[str] = []

    def note(statement: str) -> None:
        if not statement.lstrip().upper().startswith(CONTROL):
            seen.append(statement)

    opened = _ConnectionFairy.cursor  # every cursor of a pooled connection is made here
    sent = psycopg.AsyncCursor.execute  # and here every statement on the event loop's own (app.db.DriverReads)

    def cursor(connection: _ConnectionFairy, *args: Any, **kwargs: Any) -> Any:
        made = opened(connection, *args, **kwargs)
        return Counted(made, note) if connection._pool is engine.pool else made

    async def execute(self: psycopg.AsyncCursor, statement: Any, *args: Any, **kwargs: Any) -> Any:
        note(str(statement))
        return await sent(self, statement, *args, **kwargs)

    _ConnectionFairy.cursor = cursor
    psycopg.AsyncCursor.execute = execute
    try:
        yield seen
    finally:
        _ConnectionFairy.cursor = opened
        psycopg.AsyncCursor.execute = sent


@pytest.fixture
def demo(client):
    answer = client.post(
        "/v1/import",
        content=files("app.seed").joinpath("demo.ndjson").read_bytes(),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 200, answer.text
    collections = ("incidents", "sources", "exercises", "channels")
    first = {c: client.get(f"/v1/{c}?limit=1").json()["data"][0]["id"] for c in collections}
    return {name.removesuffix("s"): record_id for name, record_id in first.items()}


def verified(app, reader, url: str) -> None:
    """Send a first request, which verifies the caller's key, and wait until the use of the
    key it records beside the request is written."""
    assert reader.get(url).status_code == 200
    key_id = access.key_id_of(reader.headers["Authorization"].removeprefix("Bearer "))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with app.state.engine.connect() as connection:
            if connection.execute(select(ApiKey.last_used_at).where(ApiKey.id == key_id)).scalar() is not None:
                return
        time.sleep(0.02)
    raise AssertionError("the key's use was not recorded")


@pytest.mark.parametrize("path", list(BUDGETS))
def test_each_read_runs_its_budget_of_statements(app, client, demo, path):
    with keyed_client(app, KeyScope.read) as reader:
        url = path.format(**demo)
        verified(app, reader, url)
        if path in KEPT:  # a write commits: the answer kept by the first request is not the next one's
            make(client, "actors", slug="written-meanwhile", name="Written meanwhile", kind="organization")
        with statements(app.state.engine) as seen:
            answer = reader.get(url)
        assert answer.status_code == 200, answer.text
        assert len(seen) == BUDGETS[path] + (path in KEPT), "\n\n".join(seen)
        if path in KEPT:
            with statements(app.state.engine) as again:
                assert reader.get(url).content == answer.content
            assert len(again) == 1, "\n\n".join(again)


def test_a_known_key_costs_no_statement(app, demo):
    with keyed_client(app, KeyScope.read) as reader:
        with statements(app.state.engine) as first:
            verified(app, reader, "/v1/vocabularies")
        with statements(app.state.engine) as again:
            assert reader.get("/v1/vocabularies").status_code == 200
    assert any("api_keys" in s for s in first), "a key is looked up once"
    assert again == [], "then served from the process's cache"


@pytest.mark.parametrize("collection", ["incidents", "exercises"])
def test_a_write_key_reads_a_retracted_record_in_one_statement(app, client, demo, collection):
    url = f"/v1/{collection}/{demo[collection.removesuffix('s')]}"
    assert client.delete(url).status_code == 204
    with keyed_client(app, KeyScope.write) as writer:
        verified(app, writer, url)
        with statements(app.state.engine) as seen:
            answer = writer.get(url)
    assert answer.json()["status"] == "retracted"
    assert len(seen) == 1, "\n\n".join(seen)


def test_a_burst_of_first_requests_looks_a_key_up_once(app, demo):
    """Requests that all miss the cache for one key (a client opening its connections at once,
    or every request in flight when the key's entry expires) share one look-up: each taking a
    worker thread and a connection of its own made the burst's last answers wait seconds."""
    secret = new_key(app, KeyScope.read)
    lookups: list[str] = []

    def slow_lookup(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "api_keys" in statement:
            lookups.append(statement)
            time.sleep(0.5)  # in the worker thread: the burst's other requests arrive meanwhile

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as http:
            answers = await asyncio.gather(*(http.get("/v1/vocabularies") for _ in range(16)))
        return [answer.status_code for answer in answers]

    event.listen(app.state.engine, "before_cursor_execute", slow_lookup)
    try:
        assert asyncio.run(burst()) == [200] * 16
    finally:
        event.remove(app.state.engine, "before_cursor_execute", slow_lookup)
    assert len(lookups) == 1, "\n\n".join(lookups)
