"""Conditional requests: ETag and If-None-Match on reads, If-Match on PATCH and DELETE."""

import asyncio
from typing import Any

import httpx
import pytest

from app.access.models import KeyScope
from tests.conftest import make, new_key
from tests.live import serve

RECORDS = {
    "actors": ({"slug": "nato", "name": "NATO", "kind": "organization"}, {"name": "North Atlantic Alliance"}),
    "sources": ({"url": "https://example.org/a", "title": "A"}, {"title": "A, revised"}),
    "incidents": (
        {
            "kind": "expulsion",
            "title": "Eight expelled",
            "occurred_on": "2021-10-06",
            "initiators": ["nato"],
            "targets": ["russia"],
        },
        {"persons_affected": 8},
    ),
    "exercises": (
        {"name": "Zapad-21", "start_date": "2021-09-10", "participants": [{"actor": "russia", "role": "lead"}]},
        {"troops": 200000},
    ),
    "channels": (
        {
            "name": "NATO-Russia Council",
            "kind": "council",
            "parties": ["nato", "russia"],
            "established_on": "2002-05-28",
        },
        {"level": "political"},
    ),
}

CLIENTS = 50
ATTEMPTS = 5


@pytest.fixture
def record_of(client, nato_russia):
    def create(collection: str) -> dict[str, Any]:
        body, _ = RECORDS[collection]
        if collection == "actors":
            body = {**body, "slug": "stoltenberg", "kind": "person"}
        return make(client, collection, **body)

    return create


def tag_of(record: dict[str, Any], collection: str) -> str:
    return f'"{record["version"]}.active"' if collection == "channels" else f'"{record["version"]}"'


@pytest.mark.parametrize("collection", RECORDS)
def test_reads_carry_the_version_as_etag_and_if_none_match_gives_304(client, record_of, collection):
    record = record_of(collection)
    url = f"/v1/{collection}/{record['id']}"
    read = client.get(url)
    assert read.status_code == 200
    assert read.headers["ETag"] == tag_of(record, collection)

    unchanged = client.get(url, headers={"If-None-Match": read.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["ETag"] == read.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": '"999", W/' + read.headers["ETag"]}).status_code == 304
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 304

    patched = client.patch(url, json=RECORDS[collection][1])
    assert patched.status_code == 200 and patched.json()["version"] == 2
    assert patched.headers["ETag"] == tag_of(patched.json(), collection)
    again = client.get(url, headers={"If-None-Match": read.headers["ETag"]})
    assert again.status_code == 200 and again.json()["version"] == 2


@pytest.mark.parametrize("collection", RECORDS)
def test_creates_answer_with_the_etag(client, nato_russia, collection):
    response = client.post(
        f"/v1/{collection}", json=RECORDS[collection][0] | ({"slug": "x"} if collection == "actors" else {})
    )
    assert response.status_code == 201
    assert response.headers["ETag"] == tag_of(response.json(), collection) == tag_of({"version": 1}, collection)


@pytest.mark.parametrize("collection", RECORDS)
def test_a_stale_if_match_is_412_and_nothing_changes(client, reader, record_of, collection):
    record = record_of(collection)
    url = f"/v1/{collection}/{record['id']}"
    stale = client.get(url).headers["ETag"]
    assert client.patch(url, json=RECORDS[collection][1], headers={"If-Match": stale}).status_code == 200
    feed_before = client.get("/v1/changes", params={"limit": 500}).json()["data"]

    refused = client.patch(url, json={"external_ref": "lost:update"}, headers={"If-Match": stale})
    assert refused.status_code == 412
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "/problems/precondition-failed"
    assert client.delete(url, headers={"If-Match": stale}).status_code == 412

    current = client.get(url)
    assert current.status_code == 200
    assert current.json()["version"] == 2 and current.json()["external_ref"] is None
    assert client.get("/v1/changes", params={"limit": 500}).json()["data"] == feed_before

    assert client.delete(url, headers={"If-Match": current.headers["ETag"]}).status_code == 204
    assert reader.get(url).status_code == 404


def test_if_match_names_a_version_a_list_of_them_or_any(client, record_of):
    record = record_of("incidents")
    url = f"/v1/incidents/{record['id']}"
    assert client.patch(url, json={"persons_affected": 1}, headers={"If-Match": '"7", "1"'}).status_code == 200
    assert client.patch(url, json={"persons_affected": 2}, headers={"If-Match": "*"}).status_code == 200
    assert client.patch(url, json={"persons_affected": 3}, headers={"If-Match": 'W/"3"'}).status_code == 412, (
        "If-Match compares strongly: a weak tag never matches"
    )
    assert client.patch(url, json={"persons_affected": 3}).status_code == 200, "without If-Match writes still go"
    assert client.get(url).json()["persons_affected"] == 3


def test_a_channel_tag_follows_the_status_of_the_day_asked_for(client, record_of):
    channel = record_of("channels")
    url = f"/v1/channels/{channel['id']}"
    client.post(f"{url}/status-changes", json={"status": "suspended", "effective_on": "2021-11-01"})
    today = client.get(url)
    assert today.headers["ETag"] == '"2.suspended"'
    before = client.get(url, params={"as_of": "2021-10-01"}, headers={"If-None-Match": today.headers["ETag"]})
    assert before.status_code == 200 and before.headers["ETag"] == '"2.active"'
    assert client.patch(url, json={"level": "military"}, headers={"If-Match": '"2.active"'}).status_code == 200, (
        "If-Match compares the version alone"
    )


def test_concurrent_read_then_write_loses_no_update(client, app, nato_russia, database_url, engine_name, tmp_path):
    """Each client reads the counter and writes it plus one with If-Match, and on 412 reads
    again, a few times; the counter must equal the number of writes that succeeded.

    SQLite queues writers on its one write lock; one that waits longer than its busy
    timeout is answered 503 with Retry-After, having written nothing (so may a read, on a
    machine too busy to hand it a connection in time). PostgreSQL queues writers on the
    record's row lock and answers every one."""
    incident = make(client, "incidents", **RECORDS["incidents"][0], persons_affected=0)
    url = f"/v1/incidents/{incident['id']}"
    headers = {"Authorization": f"Bearer {new_key(app, KeyScope.write)}"}

    async def read_then_write(http: httpx.AsyncClient) -> list[httpx.Response]:
        answers = []
        for _ in range(ATTEMPTS):
            read = await http.get(url)
            if read.status_code != 200:
                answers.append(read)
                continue
            count = read.json()["persons_affected"]
            written = await http.patch(
                url, json={"persons_affected": count + 1}, headers={"If-Match": read.headers["ETag"]}
            )
            answers.append(written)
            if written.status_code == 200:
                break
        return answers

    async def run(base_url: str) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=CLIENTS)
        async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=120) as http:
            answers = await asyncio.gather(*(read_then_write(http) for _ in range(CLIENTS)))
        return [answer for attempts in answers for answer in attempts]

    with serve(database_url, tmp_path / "server.log", env={"DEMARCHE_RATE_LIMIT": "100000/minute"}) as server:
        answers = asyncio.run(run(server.url))

    statuses = [answer.status_code for answer in answers]
    busy = [answer for answer in answers if answer.status_code == 503]
    written = statuses.count(200)
    assert written + statuses.count(412) + len(busy) == len(statuses), statuses
    assert all("Retry-After" in answer.headers for answer in busy)
    if engine_name == "postgresql":
        assert not busy
    assert written > 1, "several clients got through"
    final = client.get(url).json()
    assert final["persons_affected"] == written
    assert final["version"] == 1 + written
