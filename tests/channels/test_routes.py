from tests.conftest import make


def channel(client, **fields):
    return make(client, "channels", **({"name": "Council", "kind": "council", "parties": ["nato", "russia"]} | fields))


def change(client, channel_id, **fields):
    response = client.post(f"/v1/channels/{channel_id}/status-changes", json=fields)
    assert response.status_code == 201, response.text
    return response


def test_parties_and_host_are_references(client, nato_russia):
    created = channel(client, host="russia", established_on="2001-02-20")
    assert [p["slug"] for p in created["parties"]] == ["nato", "russia"]
    assert created["host"]["slug"] == "russia"
    assert created["status"] == "active" and created["status_history"] == []
    assert client.post("/v1/channels", json={"name": "C", "kind": "council", "parties": ["nato"]}).status_code == 422
    assert (
        client.post("/v1/channels", json={"name": "C", "kind": "tunnel", "parties": ["nato", "russia"]}).status_code
        == 422
    )


def test_status_history_is_ordered_by_effective_date_whatever_the_recording_order(client, nato_russia):
    created = channel(client, established_on="2001-01-01")
    response = change(client, created["id"], status="closed", effective_on="2021-11-01")
    assert response.headers["location"].startswith(f"/v1/channels/{created['id']}/status-changes/")
    assert client.get(response.headers["location"]).json()["status"] == "closed"
    change(client, created["id"], status="restricted", effective_on="2014-04-01")
    body = client.get(f"/v1/channels/{created['id']}").json()
    assert [c["effective_on"] for c in body["status_history"]] == ["2014-04-01", "2021-11-01"]
    assert body["status"] == "closed"
    assert body["version"] == 3
    on = lambda day: client.get(f"/v1/channels/{created['id']}?as_of={day}").json()["status"]  # noqa: E731
    assert on("2000-12-31") is None
    assert on("2001-01-01") == "active"
    assert on("2014-04-01") == "restricted"
    assert on("2021-10-31") == "restricted"
    assert on("2021-11-01") == "closed"


def test_future_changes_wait_for_their_day(client, nato_russia):
    created = channel(client, established_on="2000-01-01")
    change(client, created["id"], status="suspended", effective_on="2999-01-01")
    assert client.get(f"/v1/channels/{created['id']}").json()["status"] == "active"
    assert client.get(f"/v1/channels/{created['id']}?as_of=2999-01-01").json()["status"] == "suspended"
    # with no known start, the channel exists only from its first change
    undated = channel(client, name="Undated")
    change(client, undated["id"], status="active", effective_on="2999-01-01")
    assert client.get(f"/v1/channels/{undated['id']}").json()["status"] is None


def test_as_of_leaves_out_channels_that_did_not_exist(client, nato_russia):
    channel(client, name="Old", established_on="1998-01-01")
    unknown_start = channel(client, name="First change", kind="hotline")
    change(client, unknown_start["id"], status="active", effective_on="2010-06-01")
    channel(client, name="Timeless", kind="other")
    names = lambda q: [c["name"] for c in client.get(f"/v1/channels?{q}").json()["data"]]  # noqa: E731
    assert names("as_of=1999-01-01") == ["Old", "Timeless"]
    assert names("as_of=2010-06-01") == ["First change", "Old", "Timeless"]
    assert names("") == ["First change", "Old", "Timeless"]


def test_filters(client, nato_russia):
    council = channel(client, name="Council", established_on="2002-05-28")
    channel(client, name="Hotline", kind="hotline", parties=["russia", "china"])
    channel(client, name="Trilateral", kind="high_level_dialogue", parties=["nato", "russia", "china"])
    change(client, council["id"], status="suspended", effective_on="2021-11-01")
    names = lambda q: [c["name"] for c in client.get(f"/v1/channels?{q}").json()["data"]]  # noqa: E731
    assert names("party=nato&party=russia") == ["Council", "Trilateral"]
    assert names("party=china") == ["Hotline", "Trilateral"]
    assert names("party=nato&party=china") == ["Trilateral"]
    assert names("kind=hotline&kind=council") == ["Council", "Hotline"]
    assert names("status=suspended") == ["Council"]
    assert names("status=active&as_of=2021-10-31") == ["Council", "Hotline", "Trilateral"]
    assert names("status=suspended&as_of=2021-10-31") == []


def test_status_change_validation(client, nato_russia):
    created = channel(client)
    bad = client.post(
        f"/v1/channels/{created['id']}/status-changes",
        json={"status": "closed", "effective_on": "2021-11-01", "caused_by": "nothing"},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "caused_by", 0]
    assert (
        client.post(
            f"/v1/channels/{created['id']}/status-changes", json={"status": "gone", "effective_on": "2021-11-01"}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/v1/channels/nope/status-changes", json={"status": "closed", "effective_on": "2021-11-01"}
        ).status_code
        == 404
    )
    assert client.get(f"/v1/channels/{created['id']}").json()["status_history"] == []


def test_caused_by_and_sources(client, nato_russia):
    created = channel(client, external_ref="ch:1")
    source = make(client, "sources", url="https://example.org/s", title="S")
    cause = make(
        client,
        "incidents",
        kind="mission_suspension",
        title="Cause",
        occurred_on="2021-10-18",
        initiators=["russia"],
        targets=["nato"],
        external_ref="inc:1",
    )
    recorded = change(
        client,
        "ch:1",
        status="suspended",
        effective_on="2021-11-01",
        caused_by="inc:1",
        sources=["https://example.org/s"],
    ).json()
    assert recorded["caused_by"] == {"id": cause["id"], "title": "Cause", "occurred_on": "2021-10-18"}
    assert recorded["sources"] == [{"id": source["id"], "title": "S", "url": "https://example.org/s"}]
    assert client.get(f"/v1/channels/{created['id']}").json()["status_history"] == [recorded]


def test_patch_and_delete(client, nato_russia):
    created = channel(client)
    patched = client.patch(f"/v1/channels/{created['id']}", json={"parties": ["nato", "china"], "level": "political"})
    assert [p["slug"] for p in patched.json()["parties"]] == ["nato", "china"]
    assert patched.json()["version"] == 2
    assert client.patch(f"/v1/channels/{created['id']}", json={"status": "closed"}).status_code == 422
    assert client.delete(f"/v1/channels/{created['id']}").status_code == 204
    assert client.get(f"/v1/channels/{created['id']}").status_code == 404
    assert client.get("/v1/channels").json()["data"] == []
