"""A retracted record, re-imported and restored: its stored status, its reads, the lists,
the change feed and its history tell the same story."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import IMPORT_ACTORS, import_incident, make, ndjson
from tests.ingest.test_cli import demarche

NDJSON = {"Content-Type": "application/x-ndjson"}
REF = "acled:RUS1234"

BODIES: dict[str, dict[str, Any]] = {
    "incidents": import_incident(1, external_ref="test:incident"),
    "exercises": {
        "name": "Zapad-21",
        "start_date": "2021-09-10",
        "participants": [{"actor": "russia", "role": "lead"}],
        "external_ref": "test:exercise",
    },
    "actors": {"slug": "stoltenberg", "name": "Jens Stoltenberg", "kind": "person", "affiliation": "nato"},
    "sources": {"url": "https://example.org/nato-russia", "title": "NATO and Russia"},
    "channels": {"name": "NATO-Russia Council", "kind": "council", "parties": ["nato", "russia"]},
}


def body(collection: str) -> dict[str, Any]:
    return {k: v for k, v in BODIES[collection].items() if k != "type"}


def post_import(client: TestClient, records: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post("/v1/import", content=ndjson(records), headers=NDJSON)
    assert response.status_code == 200, response.text
    return response.json()


def nonzero(answer: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {
        outcome: {t: n for t, n in answer[outcome].items() if n}
        for outcome in ("created", "updated", "unchanged", "retracted")
        if any(answer[outcome].values())
    }


def latest_entry(client: TestClient, record_id: str) -> dict[str, Any]:
    entries = client.get("/v1/changes", params={"limit": 500}).json()["data"]
    return [e for e in entries if e["id"] == record_id][-1]


def ops(client: TestClient, collection: str, record_id: str) -> list[tuple[int, str]]:
    versions = client.get(f"/v1/{collection}/{record_id}/history").json()["data"]
    return [(v["version"], v["op"]) for v in versions]


@pytest.fixture
def retracted(client, nato_russia) -> dict[str, Any]:
    """An imported incident, then deleted."""
    post_import(client, [import_incident(1, external_ref=REF)])
    (incident,) = client.get("/v1/incidents").json()["data"]
    assert client.delete(f"/v1/incidents/{incident['id']}").status_code == 204
    return incident


def test_reimporting_a_retracted_record_reports_it_and_changes_nothing(client, reader, retracted):
    url = f"/v1/incidents/{retracted['id']}"
    feed = client.get("/v1/changes", params={"limit": 500}).json()["data"]
    answer = post_import(client, [import_incident(1, external_ref=REF, title="Edited on the way in")])
    assert nonzero(answer) == {"retracted": {"incident": 1}}
    assert reader.get(url).status_code == 404
    stored = client.get(url).json()
    assert (stored["status"], stored["version"], stored["title"]) == ("retracted", 2, "Expulsion 1")
    assert client.get("/v1/changes", params={"limit": 500}).json()["data"] == feed
    assert ops(client, "incidents", retracted["id"]) == [(1, "create"), (2, "delete")]
    assert client.get("/v1/incidents", params={"status": "published"}).json()["data"] == []
    # a line that names the status but not published leaves it retracted as well
    for status in ("retracted", "draft"):
        answer = post_import(client, [import_incident(1, external_ref=REF, status=status)])
        assert nonzero(answer) == {"retracted": {"incident": 1}}
    assert client.get(url).json()["version"] == 2


def test_reimporting_with_status_published_restores(client, reader, retracted):
    url = f"/v1/incidents/{retracted['id']}"
    answer = post_import(client, [import_incident(1, external_ref=REF, status="published", title="Back")])
    assert nonzero(answer) == {"updated": {"incident": 1}}
    read = reader.get(url)
    assert read.status_code == 200
    assert (read.json()["status"], read.json()["version"], read.json()["title"]) == ("published", 3, "Back")
    assert read.headers["ETag"] == '"3"'
    assert [i["id"] for i in reader.get("/v1/incidents").json()["data"]] == [retracted["id"]]
    assert latest_entry(client, retracted["id"])["op"] == "restore"
    assert latest_entry(client, retracted["id"])["version"] == 3
    versions = client.get(f"{url}/history").json()["data"]
    assert [(v["version"], v["op"]) for v in versions] == [(1, "create"), (2, "delete"), (3, "restore")]
    assert versions[-1]["changes"] == {"status": "published", "title": "Back"}
    # published and live from then on: the same line again is unchanged
    again = post_import(client, [import_incident(1, external_ref=REF, status="published", title="Back")])
    assert nonzero(again) == {"unchanged": {"incident": 1}}


def test_retracting_by_patch_then_reimporting_agrees_with_delete(client, reader, nato_russia):
    post_import(client, [import_incident(1, external_ref=REF)])
    (incident,) = client.get("/v1/incidents").json()["data"]
    url = f"/v1/incidents/{incident['id']}"
    assert client.patch(url, json={"status": "retracted"}).json()["status"] == "retracted"
    assert nonzero(post_import(client, [import_incident(1, external_ref=REF)])) == {"retracted": {"incident": 1}}
    assert reader.get(url).status_code == 404
    assert latest_entry(client, incident["id"])["op"] == "delete"
    assert client.get(url).json()["version"] == 2


def test_the_command_line_import_reports_retracted_records(client, database_url, retracted, tmp_path):
    lines = tmp_path / "incidents.ndjson"
    lines.write_bytes(ndjson([import_incident(1, external_ref=REF)]))
    run = demarche(database_url, "import", str(lines))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "created 0; updated 0; unchanged 0; retracted 1 incident"
    assert client.get(f"/v1/incidents/{retracted['id']}").json()["version"] == 2


def test_reimporting_a_retracted_actor_leaves_it_retracted(client, reader, nato_russia):
    assert client.delete("/v1/actors/nato").status_code == 204
    answer = post_import(client, [IMPORT_ACTORS[0] | {"name": "North Atlantic Treaty Organization"}])
    assert nonzero(answer) == {"retracted": {"actor": 1}}
    assert client.get("/v1/actors/nato").status_code == 404
    assert latest_entry(client, nato_russia["nato"]["id"])["op"] == "delete"


@pytest.mark.parametrize("collection", ["incidents", "exercises"])
def test_write_keys_read_retracted_records_on_their_paths(client, writer, reader, anonymous, nato_russia, collection):
    record = make(client, collection, **body(collection))
    url = f"/v1/{collection}/{record['id']}"
    assert client.delete(url).status_code == 204
    read = writer.get(url)
    assert read.status_code == 200
    assert (read.json()["status"], read.json()["version"], read.headers["ETag"]) == ("retracted", 2, '"2"')
    assert writer.get(url, headers={"If-None-Match": '"2"'}).status_code == 304
    for caller in (reader, anonymous):
        assert caller.get(url).status_code == 404
    # lists keep their rules: a write key lists retracted records only when it asks for them
    assert writer.get(f"/v1/{collection}").json()["data"] == []
    assert [r["id"] for r in writer.get(f"/v1/{collection}?status=retracted").json()["data"]] == [record["id"]]


@pytest.mark.parametrize("collection", list(BODIES))
def test_restore_brings_a_retracted_record_back(client, reader, nato_russia, collection):
    record = make(client, collection, **body(collection))
    url = f"/v1/{collection}/{record['id']}"
    assert client.delete(url).status_code == 204

    restored = client.post(f"{url}/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["version"] == 3 and restored.json()["id"] == record["id"]
    assert restored.headers["ETag"].startswith('"3')
    if "status" in restored.json() and collection != "channels":
        assert restored.json()["status"] == "published"
    assert reader.get(url).status_code == 200
    assert reader.get(url).json()["version"] == 3
    assert record["id"] in [r["id"] for r in reader.get(f"/v1/{collection}").json()["data"]]
    assert latest_entry(client, record["id"]) | {"at": None, "seq": None} == {
        "seq": None,
        "resource": collection.removesuffix("s"),
        "id": record["id"],
        "op": "restore",
        "version": 3,
        "at": None,
    }
    assert ops(client, collection, record["id"]) == [(1, "create"), (2, "delete"), (3, "restore")]


@pytest.mark.parametrize("collection", list(BODIES))
def test_restoring_a_live_record_is_409_and_writes_nothing(client, nato_russia, collection):
    record = make(client, collection, **body(collection))
    url = f"/v1/{collection}/{record['id']}"
    refused = client.post(f"{url}/restore")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "/problems/not-retracted"
    assert client.get(url).json()["version"] == 1
    assert ops(client, collection, record["id"]) == [(1, "create")]


def test_restore_of_an_unknown_record_is_404(client):
    for collection in BODIES:
        missing = client.post(f"/v1/{collection}/0192b1c4-8f8e-7c3a-9a51-3c9f1e2d4b5a/restore")
        assert missing.status_code == 404
        assert missing.json()["type"] == "/problems/not-found"


def test_restore_honours_if_match(client, nato_russia):
    record = make(client, "incidents", **body("incidents"))
    url = f"/v1/incidents/{record['id']}"
    assert client.delete(url).status_code == 204
    stale = client.post(f"{url}/restore", headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["type"] == "/problems/precondition-failed"
    assert client.get(url).json()["status"] == "retracted"
    assert latest_entry(client, record["id"])["op"] == "delete"
    assert client.post(f"{url}/restore", headers={"If-Match": '"2"'}).status_code == 200


def test_restore_needs_write(client, reader, nato_russia):
    record = make(client, "incidents", **body("incidents"))
    url = f"/v1/incidents/{record['id']}"
    assert client.delete(url).status_code == 204
    assert reader.post(f"{url}/restore").status_code == 403
    assert client.get(url).json()["status"] == "retracted"


def test_a_restore_retried_with_its_idempotency_key_is_replayed(client, nato_russia):
    record = make(client, "incidents", **body("incidents"))
    url = f"/v1/incidents/{record['id']}"
    assert client.delete(url).status_code == 204
    key = {"Idempotency-Key": "restore-once"}
    first = client.post(f"{url}/restore", headers=key)
    again = client.post(f"{url}/restore", headers=key)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert ops(client, "incidents", record["id"]) == [(1, "create"), (2, "delete"), (3, "restore")]
    # without the key, a second restore is told there is nothing to restore
    assert client.post(f"{url}/restore").status_code == 409


def test_an_actor_is_restored_by_slug(client, nato_russia):
    assert client.delete("/v1/actors/nato").status_code == 204
    restored = client.post("/v1/actors/nato/restore")
    assert restored.status_code == 200 and restored.json()["slug"] == "nato"
    assert client.get("/v1/actors/nato").json()["version"] == 3
