"""Drafts and retracted records are for keys with ``write``; everyone else sees published
records only. A retracted record is gone from lists for everyone (unless a write key asks
for it by status) and from reads for callers without ``write``."""

import pytest

from tests.conftest import make

INCIDENT = {"kind": "expulsion", "occurred_on": "2021-10-06", "initiators": ["nato"], "targets": ["russia"]}
EXERCISE = {"start_date": "2021-10-14", "participants": [{"actor": "russia", "role": "lead"}]}


def listed(client, collection: str, query: str = "") -> list[str]:
    answer = client.get(f"/v1/{collection}?{query}")
    assert answer.status_code == 200, answer.text
    return sorted(r.get("title") or r["name"] for r in answer.json()["data"])


@pytest.fixture
def records(writer, nato_russia):
    """A published, a draft and a retracted incident and exercise, made with a write key."""
    made = {}
    for status in ("published", "draft", "retracted"):
        made[f"incident {status}"] = make(writer, "incidents", title=status, status="published", **INCIDENT)
        made[f"exercise {status}"] = make(writer, "exercises", name=status, status="published", **EXERCISE)
    for collection in ("incident", "exercise"):
        plural = f"{collection}s"
        draft = made[f"{collection} draft"]["id"]
        assert writer.patch(f"/v1/{plural}/{draft}", json={"status": "draft"}).status_code == 200
        assert writer.delete(f"/v1/{plural}/{made[f'{collection} retracted']['id']}").status_code == 204
    return made


@pytest.mark.parametrize("collection", ["incidents", "exercises"])
def test_callers_without_write_see_published_records_only(records, anonymous, reader, collection):
    draft = records[f"{collection[:-1]} draft"]["id"]
    retracted = records[f"{collection[:-1]} retracted"]["id"]
    for caller in (anonymous, reader):
        assert listed(caller, collection) == ["published"]
        assert listed(caller, collection, "status=draft") == []
        assert listed(caller, collection, "status=retracted") == []
        assert caller.get(f"/v1/{collection}/{draft}").status_code == 404
        assert caller.get(f"/v1/{collection}/{retracted}").status_code == 404


@pytest.mark.parametrize("collection", ["incidents", "exercises"])
def test_write_keys_see_drafts_and_list_retracted_records_on_request(records, writer, collection):
    draft = records[f"{collection[:-1]} draft"]["id"]
    retracted = records[f"{collection[:-1]} retracted"]["id"]
    assert listed(writer, collection) == ["draft", "published"]
    assert listed(writer, collection, "status=draft") == ["draft"]
    assert writer.get(f"/v1/{collection}/{draft}").json()["status"] == "draft"
    answer = writer.get(f"/v1/{collection}?status=retracted").json()["data"]
    assert [(r["id"], r["status"]) for r in answer] == [(retracted, "retracted")]
    assert listed(writer, collection, "status=retracted&status=published") == ["published", "retracted"]
    assert writer.get(f"/v1/{collection}/{retracted}").json()["status"] == "retracted", "read back to restore it"


def test_a_chain_shows_drafts_to_write_keys_only(records, writer, reader):
    published, draft = records["incident published"], records["incident draft"]
    assert writer.patch(f"/v1/incidents/{draft['id']}", json={"responds_to": [published["id"]]}).status_code == 200
    mine = writer.get(f"/v1/incidents/{published['id']}/chain").json()["data"]
    assert [i["title"] for i in mine] == ["published", "draft"]
    theirs = reader.get(f"/v1/incidents/{published['id']}/chain").json()["data"]
    assert [i["title"] for i in theirs] == ["published"]
    assert reader.get(f"/v1/incidents/{draft['id']}/chain").status_code == 404


def test_views_count_and_show_drafts_for_write_keys_only(records, writer, reader):
    def timeline(client) -> list[str]:
        return sorted(e["title"] for e in client.get("/v1/timeline").json()["data"])

    def counted(client) -> int:
        return sum(b["count"] for b in client.get("/v1/stats/incidents?group_by=kind").json()["data"])

    def dyad(client) -> tuple[int, list[str], list[str]]:
        answer = client.get("/v1/dyads/nato/russia?as_of=2021-10-14&window_days=30").json()
        return (
            sum(answer["incident_counts"]["a_to_b"].values()),
            [i["title"] for i in answer["latest_incidents"]],
            [e["name"] for e in answer["active_exercises"]],
        )

    assert timeline(writer) == ["draft", "draft", "published", "published"]
    assert timeline(reader) == ["published", "published"]
    assert (counted(writer), counted(reader)) == (2, 1)
    mine, theirs = dyad(writer), dyad(reader)
    assert mine[0] == 2 and sorted(mine[1]) == ["draft", "published"] and sorted(mine[2]) == ["draft", "published"]
    assert theirs == (1, ["published"], ["published"])
