"""The change feed (GET /v1/changes) and record history (GET /v1/{collection}/{id}/history)."""

import asyncio
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from app.access.models import KeyScope
from app.actors import service as actors
from app.actors.models import ActorCreate
from tests.conftest import COLLECTIONS, IMPORT_ACTORS, import_incident, make, ndjson, new_key
from tests.live import serve

NDJSON = {"Content-Type": "application/x-ndjson"}


def feed(client: Any, after: int = 0, limit: int = 500) -> list[dict[str, Any]]:
    """Every entry after ``after``, following ``next_cursor``."""
    entries = []
    while True:
        page = client.get("/v1/changes", params={"after": after, "limit": limit})
        assert page.status_code == 200, page.text
        body = page.json()
        entries += body["data"]
        if body["next_cursor"] is None:
            return entries
        after = body["next_cursor"]


def last_seq(client: Any) -> int:
    entries = feed(client)
    return entries[-1]["seq"] if entries else 0


def key_id(client: Any) -> str:
    return client.headers["Authorization"].removeprefix("Bearer dmk_").split("_", 1)[0]


def ops(entries: list[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    return [(e["resource"], e["id"], e["op"], e["version"]) for e in entries]


def test_creates_updates_and_deletes_appear_in_commit_order(client, nato_russia):
    start = last_seq(client)
    incident = make(
        client, "incidents", kind="expulsion", title="Eight expelled", occurred_on="2021-10-06",
        initiators=["nato"], targets=["russia"],
    )  # fmt: skip
    client.patch(f"/v1/incidents/{incident['id']}", json={"persons_affected": 8})
    client.patch(f"/v1/incidents/{incident['id']}", json={"persons_affected": 8})
    client.delete(f"/v1/incidents/{incident['id']}")
    channel = make(client, "channels", name="NRC", kind="council", parties=["nato", "russia"])
    client.post(
        f"/v1/channels/{channel['id']}/status-changes", json={"status": "suspended", "effective_on": "2021-11-01"}
    )

    entries = feed(client, after=start)
    assert ops(entries) == [
        ("incident", incident["id"], "create", 1),
        ("incident", incident["id"], "update", 2),
        ("incident", incident["id"], "delete", 3),
        ("channel", channel["id"], "create", 1),
        ("channel", channel["id"], "update", 2),
    ], "a patch that changes nothing is no change; a status change updates its channel"
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert set(entries[0]) == {"seq", "resource", "id", "op", "version", "at"}
    assert entries[0]["at"].endswith("Z")


def test_pages_follow_next_cursor_and_end_with_null(client, nato_russia):
    start = last_seq(client)
    for n in range(5):
        make(client, "sources", url=f"https://example.org/{n}", title=f"Source {n}")
    first = client.get("/v1/changes", params={"after": start, "limit": 2}).json()
    assert len(first["data"]) == 2 and first["next_cursor"] == first["data"][-1]["seq"]
    second = client.get("/v1/changes", params={"after": first["next_cursor"], "limit": 2}).json()
    third = client.get("/v1/changes", params={"after": second["next_cursor"], "limit": 2}).json()
    assert len(third["data"]) == 1 and third["next_cursor"] is None
    assert [e["seq"] for e in first["data"] + second["data"] + third["data"]] == [e["seq"] for e in feed(client, start)]
    assert client.get("/v1/changes", params={"after": third["data"][0]["seq"]}).json() == {
        "data": [],
        "next_cursor": None,
    }
    for bad in ({"after": -1}, {"after": "x"}, {"limit": 0}, {"limit": 501}):
        assert client.get("/v1/changes", params=bad).status_code == 422


def test_rolled_back_writes_leave_no_entry(client, app, nato_russia):
    start = last_seq(client)
    bad_import = [*IMPORT_ACTORS, import_incident(1), {"type": "actor", "slug": "x"}]
    assert client.post("/v1/import", content=ndjson(bad_import), headers=NDJSON).status_code == 422
    dry_run = client.post("/v1/import", content=ndjson([import_incident(2)]), headers=NDJSON, params={"dry_run": True})
    assert dry_run.status_code == 200
    assert client.post("/v1/incidents", json={"kind": "expulsion", "title": "x"}).status_code == 422
    assert feed(client, start) == []

    with Session(app.state.engine, expire_on_commit=False) as session:
        with pytest.raises(RuntimeError), session.begin():
            actors.create(session, ActorCreate(slug="ghost", name="Ghost", kind="person"))
            raise RuntimeError("after the write")
        savepoint = session.begin_nested()
        actors.create(session, ActorCreate(slug="undone", name="Undone", kind="person"))
        savepoint.rollback()
        kept = actors.create(session, ActorCreate(slug="kept", name="Kept", kind="person"))
        session.commit()
    assert ops(feed(client, start)) == [("actor", kept.id, "create", 1)]


def test_a_follower_from_zero_rebuilds_the_live_records(client, nato_russia):
    source = make(client, "sources", url="https://example.org/eln", title="ELN")
    lines = [
        *IMPORT_ACTORS,
        *(import_incident(n, external_ref=f"test:{n}", sources=[source["url"]]) for n in range(6)),
        import_incident(6, external_ref="test:draft", status="draft"),
        {"type": "channel", "name": "NRC", "kind": "council", "parties": ["nato", "russia"], "external_ref": "c:nrc"},
        {"type": "channel_status", "channel": "c:nrc", "status": "suspended", "effective_on": "2021-11-01"},
        {"type": "exercise", "name": "Zapad-21", "start_date": "2021-09-10",
         "participants": [{"actor": "russia", "role": "lead"}], "external_ref": "e:zapad"},
    ]  # fmt: skip
    assert client.post("/v1/import", content=ndjson(lines), headers=NDJSON).status_code == 200
    incidents = client.get("/v1/incidents", params={"limit": 500}).json()["data"]
    client.patch(f"/v1/incidents/{incidents[0]['id']}", json={"title": "Renamed"})
    client.delete(f"/v1/incidents/{incidents[1]['id']}")
    client.delete(f"/v1/actors/{nato_russia['china']['id']}")
    exercise = client.get("/v1/exercises").json()["data"][0]
    client.patch(f"/v1/exercises/{exercise['id']}", json={"status": "retracted"})
    changed = [*IMPORT_ACTORS[:1], import_incident(2, external_ref="test:2", title="Updated by import")]
    assert client.post("/v1/import", content=ndjson(changed), headers=NDJSON).status_code == 200

    replica: dict[tuple[str, str], int] = {}
    after = 0
    while True:
        page = client.get("/v1/changes", params={"after": after, "limit": 3}).json()
        for entry in page["data"]:
            key = (entry["resource"], entry["id"])
            read = client.get(f"/v1/{COLLECTIONS[entry['resource']]}/{entry['id']}")
            if entry["op"] == "delete" or read.status_code == 404:
                replica.pop(key, None)
            else:
                assert read.status_code == 200
                assert read.json()["version"] >= entry["version"]
                replica[key] = read.json()["version"]
            after = entry["seq"]
        if page["next_cursor"] is None:
            break

    live = {
        (resource, record["id"]): record["version"]
        for resource, collection in COLLECTIONS.items()
        for record in client.get(f"/v1/{collection}", params={"limit": 500}).json()["data"]
    }
    assert replica == live
    assert len(live) == 2 + 1 + 6 + 1  # actors, source, incidents, channel: less what was retracted


def test_concurrent_writers_leave_no_gap_behind_a_follower(client, app, database_url, tmp_path):
    """Writers commit while a follower polls: every entry of the final feed must have been
    seen by the follower, i.e. no entry ever appeared behind its cursor."""
    headers = {"Authorization": f"Bearer {new_key(app, KeyScope.write)}"}
    writers, per_writer = 8, 25

    async def write(http: httpx.AsyncClient, writer: int) -> None:
        for n in range(per_writer):
            answer = await http.post("/v1/sources", json={"url": f"https://example.org/{writer}/{n}", "title": "t"})
            assert answer.status_code == 201

    async def follow(http: httpx.AsyncClient, done: asyncio.Event) -> list[int]:
        seen, after = [], last_seq(client)
        while True:
            finished = done.is_set()
            page = (await http.get("/v1/changes", params={"after": after, "limit": 500})).json()
            seen += [e["seq"] for e in page["data"]]
            after = seen[-1] if seen else after
            if finished and page["next_cursor"] is None:
                return seen

    async def run(url: str) -> list[int]:
        done = asyncio.Event()
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as http:
            follower = asyncio.create_task(follow(http, done))
            await asyncio.gather(*(write(http, w) for w in range(writers)))
            done.set()
            return await follower

    start = last_seq(client)
    with serve(database_url, tmp_path / "server.log", env={"DEMARCHE_RATE_LIMIT": "100000/minute"}) as server:
        seen = asyncio.run(run(server.url))
    final = [e["seq"] for e in feed(client, start)]
    assert len(final) == writers * per_writer
    assert seen == final


def test_history_lists_every_version_with_its_key_and_what_changed(client, nato_russia):
    incident = make(
        client, "incidents", kind="expulsion", title="Eight expelled", occurred_on="2021-10-06",
        initiators=["nato"], targets=["russia"],
    )  # fmt: skip
    url = f"/v1/incidents/{incident['id']}"
    client.patch(url, json={"title": "Eight members of the mission expelled"})
    client.patch(url, json={"targets": ["russia", "china"], "persons_affected": 8})
    client.delete(url)

    response = client.get(f"{url}/history")
    assert response.status_code == 200
    versions = response.json()["data"]
    assert [(v["version"], v["op"], v["key_id"]) for v in versions] == [
        (1, "create", key_id(client)),
        (2, "update", key_id(client)),
        (3, "update", key_id(client)),
        (4, "delete", key_id(client)),
    ]
    assert versions[0]["changes"]["title"] == "Eight expelled"
    assert versions[0]["changes"]["initiators"] == [nato_russia["nato"]["id"]]
    assert versions[0]["changes"]["occurred_on"] == "2021-10-06"
    assert versions[1]["changes"] == {"title": "Eight members of the mission expelled"}
    assert versions[2]["changes"] == {
        "targets": [nato_russia["russia"]["id"], nato_russia["china"]["id"]],
        "persons_affected": 8,
    }
    assert versions[3]["changes"] == {"status": "retracted"}
    assert all(v["at"].endswith("Z") for v in versions)


def test_history_of_bulk_imported_and_command_line_records(client, app, nato_russia):
    lines = [*IMPORT_ACTORS, import_incident(1, external_ref="test:1"), import_incident(2, external_ref="test:2")]
    assert client.post("/v1/import", content=ndjson(lines), headers=NDJSON).status_code == 200
    imported = client.get("/v1/incidents", params={"limit": 500}).json()["data"][0]
    client.patch(f"/v1/incidents/{imported['id']}", json={"summary": "Written later"})
    versions = client.get(f"/v1/incidents/{imported['id']}/history").json()["data"]
    assert [v["op"] for v in versions] == ["create", "update"]
    assert versions[0]["changes"]["targets"] == [nato_russia["russia"]["id"]]
    assert versions[1]["changes"] == {"summary": "Written later"}, "bulk and single writes record the same fields"

    with Session(app.state.engine, expire_on_commit=False) as session:
        actor = actors.create(session, ActorCreate(slug="lavrov", name="Sergey Lavrov", kind="person"))
        session.commit()
    client.patch("/v1/actors/lavrov", json={"affiliation": "russia"})
    versions = client.get("/v1/actors/lavrov/history").json()["data"]
    assert [(v["op"], v["key_id"]) for v in versions] == [("create", None), ("update", key_id(client))]
    assert versions[1]["changes"] == {"affiliation": nato_russia["russia"]["id"]}
    assert client.get(f"/v1/actors/{actor.id}/history").json()["data"] == versions


def test_a_channel_history_shows_its_status_changes(client, nato_russia):
    channel = make(client, "channels", name="NRC", kind="council", parties=["nato", "russia"])
    url = f"/v1/channels/{channel['id']}"
    change = client.post(f"{url}/status-changes", json={"status": "suspended", "effective_on": "2021-11-01"}).json()
    versions = client.get(f"{url}/history").json()["data"]
    assert versions[1]["changes"] == {
        "status_history": [
            {"id": change["id"], "status": "suspended", "effective_on": "2021-11-01", "caused_by": None, "note": None}
        ]
    }


def test_history_of_drafts_and_retracted_records_needs_write(client, reader, writer, nato_russia):
    body = {
        "kind": "expulsion",
        "title": "t",
        "occurred_on": "2021-10-06",
        "initiators": ["nato"],
        "targets": ["russia"],
    }
    draft = make(client, "incidents", **body, status="draft")
    published = make(client, "incidents", **body)
    source = make(client, "sources", url="https://example.org/gone", title="Gone")
    client.delete(f"/v1/sources/{source['id']}")

    for path in (f"/v1/incidents/{draft['id']}/history", f"/v1/sources/{source['id']}/history"):
        assert reader.get(path).status_code == 404
        assert writer.get(path).status_code == 200
    assert reader.get(f"/v1/incidents/{published['id']}/history").status_code == 200
    assert reader.get("/v1/incidents/unknown/history").status_code == 404
    assert reader.get(f"/v1/widgets/{published['id']}/history").status_code == 422
    assert reader.get("/v1/changes").status_code == 200
