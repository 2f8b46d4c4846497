"""The Python client: typed errors, pagination, retries, batched imports."""

import asyncio

import httpx
import pytest
from fastapi.testclient import TestClient

from app.client import AsyncClient, Client
from app.client.errors import Conflict, NotFound, RateLimited, Unavailable, ValidationError
from tests.conftest import IMPORT_ACTORS as ACTORS
from tests.conftest import import_incident as incident
from tests.conftest import make


@pytest.fixture
def demarche(client: TestClient):
    """The client, speaking to the test app through the test client's transport."""
    with Client(str(client.base_url), transport=client._transport) as api:
        api.http.headers.update(client.headers)
        yield api


def test_errors_are_typed_and_carry_the_problem(demarche):
    with pytest.raises(NotFound) as missing:
        demarche.get("/v1/actors/atlantis")
    assert missing.value.status == 404
    assert missing.value.type == "/problems/not-found"
    assert "atlantis" in missing.value.detail

    with pytest.raises(ValidationError) as invalid:
        demarche.create("actors", {"slug": "x"})
    assert {tuple(e["loc"]) for e in invalid.value.errors} >= {("body", "name"), ("body", "kind")}

    demarche.create("actors", {"slug": "nato", "name": "NATO", "kind": "organization"})
    with pytest.raises(Conflict):
        demarche.create("actors", {"slug": "nato", "name": "NATO", "kind": "organization"})


def test_iterate_follows_the_cursor_across_pages(demarche, nato_russia):
    for n in range(7):
        demarche.create("incidents", {k: v for k, v in incident(n).items() if k != "type"})
    titles = [i["title"] for i in demarche.iterate("incidents", limit=3, sort="occurred_on")]
    assert sorted(titles) == sorted(f"Expulsion {n}" for n in range(7))
    assert len(titles) == 7
    assert [i["title"] for i in demarche.iterate("incidents", kind="sanctions")] == []


def test_import_records_goes_in_batches_and_is_safe_to_run_twice(demarche, client):
    records = ACTORS + [incident(n, external_ref=f"t:{n}") for n in range(25)]
    done = []
    counts = demarche.import_records(records, batch_size=10, job="twice", progress=done.append)
    assert done == [10, 10, 7]
    assert counts["created"] == {
        "actor": 2,
        "incident": 25,
        "source": 0,
        "exercise": 0,
        "channel": 0,
        "channel_status": 0,
    }
    again = demarche.import_records(records, batch_size=10, job="twice")
    assert again == counts  # the same job's batches replay their first answers
    assert len(list(demarche.iterate("incidents", limit=500))) == 25
    other = demarche.import_records(records, batch_size=10, job="another run")
    assert other["unchanged"]["incident"] == 25


def test_an_import_with_a_bad_line_raises_with_the_line(demarche):
    with pytest.raises(ValidationError) as bad:
        demarche.import_records(ACTORS + [incident(1, targets=["atlantis"])])
    assert [e["line"] for e in bad.value.errors] == [3]


def _flaky(answers):
    """A transport answering from ``answers`` (status, headers) in turn, then 200."""
    seen = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= len(answers):
            status, headers = answers[len(seen) - 1]
            problem = {"type": "about:blank", "title": "busy", "status": status, "detail": "retry", "instance": "/"}
            return httpx.Response(status, headers=headers, json=problem)
        return httpx.Response(200, json={"data": [], "next_cursor": None})

    return seen, handle


def test_429_and_503_are_retried_honouring_retry_after(monkeypatch):
    slept = []
    monkeypatch.setattr("app.client.time.sleep", slept.append)
    seen, handle = _flaky([(503, {"Retry-After": "3"}), (429, {"Retry-After": "7"})])
    with Client("http://demarche.test", transport=httpx.MockTransport(handle), backoff=0.1) as api:
        assert api.get("/v1/incidents") == {"data": [], "next_cursor": None}
    assert len(seen) == 3
    assert slept == [3.0, 7.0]


def test_retries_end_with_the_typed_error(monkeypatch):
    monkeypatch.setattr("app.client.time.sleep", lambda _: None)
    seen, handle = _flaky([(503, {})] * 10)
    with Client("http://demarche.test", transport=httpx.MockTransport(handle), retries=2) as api:
        with pytest.raises(Unavailable):
            api.get("/v1/incidents")
    assert len(seen) == 3
    seen, handle = _flaky([(429, {"Retry-After": "1"})] * 10)
    with Client("http://demarche.test", transport=httpx.MockTransport(handle), retries=0) as api:
        with pytest.raises(RateLimited):
            api.get("/v1/incidents")


def test_a_conflict_is_not_retried(monkeypatch):
    seen, handle = _flaky([(409, {})])
    with Client("http://demarche.test", transport=httpx.MockTransport(handle)) as api:
        with pytest.raises(Conflict):
            api.create("actors", {"slug": "nato"})
    assert len(seen) == 1
    assert seen[0].headers["idempotency-key"]


def test_the_async_client_retries_and_pages(monkeypatch):
    async def no_sleep(_):
        return None

    monkeypatch.setattr("app.client.asyncio.sleep", no_sleep)
    seen, handle = _flaky([(503, {"Retry-After": "1"})])

    async def run():
        async with AsyncClient("http://demarche.test", transport=httpx.MockTransport(handle)) as api:
            return [record async for record in api.iterate("incidents")]

    assert asyncio.run(run()) == []
    assert len(seen) == 2


def test_the_async_client_against_the_app(client, nato_russia):
    make(client, "incidents", **{k: v for k, v in incident(1).items() if k != "type"})

    async def run():
        transport = httpx.ASGITransport(app=client.app)
        async with AsyncClient("http://testserver", transport=transport) as api:
            api.http.headers.update(client.headers)
            titles = [i["title"] async for i in api.iterate("incidents")]
            with pytest.raises(NotFound):
                await api.get("/v1/incidents/nothing")
            return titles

    assert asyncio.run(run()) == ["Expulsion 1"]
