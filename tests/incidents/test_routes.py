import csv
import io
import json

import pytest

from tests.conftest import make

VALID = {"kind": "expulsion", "title": "T", "occurred_on": "2021-10-06", "initiators": ["nato"], "targets": ["russia"]}


def incident(client, **fields):
    return make(client, "incidents", **(VALID | fields))


def titles(client, query):
    response = client.get(f"/v1/incidents?{query}")
    assert response.status_code == 200, response.text
    return [i["title"] for i in response.json()["data"]]


def test_create_answers_references_as_small_objects(client, nato_russia):
    source = make(client, "sources", url="https://example.org/a", title="A")
    first = incident(client, title="First", sources=[source["id"]], external_ref="x:first")
    second = incident(
        client,
        title="Second",
        initiators=["russia"],
        targets=[nato_russia["nato"]["id"]],
        responds_to=["x:first"],
        occurred_on="2021-10-18",
    )
    assert first["date_precision"] == "day" and first["status"] == "published"
    assert first["initiators"] == [{"id": nato_russia["nato"]["id"], "slug": "nato", "name": "NATO"}]
    assert first["sources"] == [{"id": source["id"], "title": "A", "url": "https://example.org/a"}]
    assert second["responds_to"] == [{"id": first["id"], "title": "First", "occurred_on": "2021-10-06"}]
    assert second["targets"][0]["slug"] == "nato"


def test_required_fields(client, nato_russia):
    response = client.post("/v1/incidents", json={"kind": "expulsion", "title": "T"})
    assert response.status_code == 422
    missing = {tuple(e["loc"]) for e in response.json()["errors"]}
    assert {("body", "occurred_on"), ("body", "initiators"), ("body", "targets")} <= missing
    empty = client.post(
        "/v1/incidents",
        json={"kind": "expulsion", "title": "T", "occurred_on": "2021-10-06", "initiators": [], "targets": ["russia"]},
    )
    assert empty.status_code == 422


@pytest.mark.parametrize(
    "field,value,loc",
    [
        ("targets", ["russia", "atlantis"], ["body", "targets", 1]),
        ("responds_to", ["no-such-incident"], ["body", "responds_to", 0]),
        ("sources", ["no-such-source"], ["body", "sources", 0]),
    ],
)
def test_unknown_reference_is_422_naming_the_field(client, nato_russia, field, value, loc):
    body = {
        "kind": "expulsion",
        "title": "T",
        "occurred_on": "2021-10-06",
        "initiators": ["nato"],
        "targets": ["russia"],
        field: value,
    }
    response = client.post("/v1/incidents", json=body)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": loc, "msg": response.json()["errors"][0]["msg"], "type": "unknown_reference"}
    ]
    assert client.get("/v1/incidents").json()["data"] == []


def test_a_create_and_a_patch_name_every_unknown_reference_alike(client, nato_russia):
    """One write path: a PATCH refuses unknown references as a create does, naming each one
    (not only the first field's), and writes nothing."""
    unknown = {"targets": ["russia", "atlantis"], "sources": ["no-such-source"], "responds_to": ["no-such-incident"]}
    expected = [["body", "targets", 1], ["body", "responds_to", 0], ["body", "sources", 0]]
    created = client.post("/v1/incidents", json=VALID | unknown)
    assert created.status_code == 422
    assert [e["loc"] for e in created.json()["errors"]] == expected
    stored = client.post("/v1/incidents", json=VALID).json()
    patched = client.patch(f"/v1/incidents/{stored['id']}", json=unknown)
    assert patched.status_code == 422
    assert patched.json()["errors"] == created.json()["errors"]
    assert client.get(f"/v1/incidents/{stored['id']}").json() == stored


def test_invalid_values_are_422(client, nato_russia):
    for bad in (
        {"latitude": 91},
        {"persons_affected": -1},
        {"occurred_on": "2021-13-01"},
        {"date_precision": "fortnight"},
        {"kind": "war"},
        {"status": "hidden"},
    ):
        body = VALID | bad
        assert client.post("/v1/incidents", json=body).status_code == 422, bad


def test_filters(client, nato_russia):
    incident(client, title="A", kind="expulsion", occurred_on="2021-01-10", tags=["spies"])
    incident(
        client,
        title="B",
        kind="mission_closure",
        occurred_on="2021-02-10",
        initiators=["russia"],
        targets=["nato"],
        summary="The Kremlin closes the mission",
    )
    incident(client, title="C", kind="sanctions", occurred_on="2021-03-10", targets=["china"], status="draft")
    assert titles(client, "") == ["C", "B", "A"]
    assert titles(client, "kind=expulsion&kind=mission_closure") == ["B", "A"]
    assert titles(client, "actor=china") == ["C"]
    assert titles(client, "actor=china&actor=russia") == ["C", "B", "A"]
    assert titles(client, "initiator=russia") == ["B"]
    assert titles(client, "target=russia") == ["A"]
    assert titles(client, f"target={nato_russia['nato']['id']}") == ["B"]
    assert titles(client, "from=2021-02-10&to=2021-03-09") == ["B"]
    assert titles(client, "from=2021-01-10&to=2021-02-10") == ["B", "A"]
    assert titles(client, "q=kremlin") == ["B"]
    assert titles(client, "tag=spies") == ["A"]
    assert titles(client, "tag=spies&tag=none") == ["A"]
    assert titles(client, "status=draft") == ["C"]
    assert titles(client, "kind=expulsion&initiator=russia") == []
    assert titles(client, "sort=occurred_on") == ["A", "B", "C"]


def test_patch_replaces_references_and_bumps_version(client, nato_russia):
    created = incident(client)
    patched = client.patch(
        f"/v1/incidents/{created['id']}", json={"targets": ["china", "russia"], "persons_affected": 8}
    )
    assert patched.status_code == 200
    assert [t["slug"] for t in patched.json()["targets"]] == ["china", "russia"]
    assert patched.json()["version"] == 2
    unchanged = client.patch(f"/v1/incidents/{created['id']}", json={"persons_affected": 8})
    assert unchanged.json()["version"] == 2
    itself = client.patch(f"/v1/incidents/{created['id']}", json={"responds_to": [created["id"]]})
    assert itself.status_code == 422
    assert client.patch(f"/v1/incidents/{created['id']}", json={"initiators": []}).status_code == 422
    assert client.patch("/v1/incidents/nope", json={"title": "x"}).status_code == 404


def test_delete_retracts(client, reader, nato_russia):
    created = incident(client)
    assert client.delete(f"/v1/incidents/{created['id']}").status_code == 204
    assert reader.get(f"/v1/incidents/{created['id']}").status_code == 404
    # a write key still reads it on its own path, to restore it
    assert client.get(f"/v1/incidents/{created['id']}").json()["status"] == "retracted"
    assert client.get("/v1/incidents").json()["data"] == []
    # a retracted incident can no longer be answered
    response = client.post(
        "/v1/incidents",
        json=VALID | {"responds_to": [created["id"]]},
    )
    assert response.status_code == 422


def test_exports_stream_every_row(client, nato_russia):
    for n in range(3):
        incident(
            client,
            title=f"T{n}",
            occurred_on=f"2021-10-0{n + 1}",
            latitude=50.0 if n else None,
            longitude=4.0 if n else None,
            targets=["russia", "china"],
        )
    ndjson = client.get("/v1/incidents?format=ndjson&limit=1")
    assert ndjson.headers["content-type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in ndjson.text.splitlines()]
    assert [r["title"] for r in rows] == ["T2", "T1", "T0"]

    exported = client.get("/v1/incidents?format=csv&sort=occurred_on")
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["title"] for r in table] == ["T0", "T1", "T2"]
    assert table[0]["targets"] == "russia;china" and table[0]["initiators"] == "nato"

    geo = client.get("/v1/incidents?format=geojson").json()
    assert geo["type"] == "FeatureCollection"
    assert [f["properties"]["title"] for f in geo["features"]] == ["T2", "T1"]
    assert geo["features"][0]["geometry"] == {"type": "Point", "coordinates": [4.0, 50.0]}
    assert client.get("/v1/incidents?format=xml").status_code == 422


def test_a_reference_named_twice_is_422(client, nato_russia):
    for targets in (["russia", "russia"], ["russia", nato_russia["russia"]["id"]]):
        response = client.post(
            "/v1/incidents",
            json={
                "kind": "expulsion",
                "title": "T",
                "occurred_on": "2021-10-06",
                "initiators": ["nato"],
                "targets": targets,
            },
        )
        assert response.status_code == 422
        assert response.json()["errors"][0] == {
            "loc": ["body", "targets", 1],
            "msg": response.json()["errors"][0]["msg"],
            "type": "repeated_reference",
        }


def test_numbers_beyond_the_columns_are_422(client, nato_russia):
    for value in (2**31, 10**20):
        response = client.post(
            "/v1/incidents",
            json=VALID | {"persons_affected": value},
        )
        assert response.status_code == 422


def test_nul_characters_are_422_everywhere(client, nato_russia):
    body = {
        "kind": "expulsion",
        "title": "a\u0000b",
        "occurred_on": "2021-10-06",
        "initiators": ["nato"],
        "targets": ["russia"],
    }
    assert client.post("/v1/incidents", json=body).status_code == 422
    assert client.post("/v1/incidents", json=body | {"title": "a\\u0000b"}).status_code == 201  # backslash text
    assert client.get("/v1/incidents", params={"tag": "a\u0000b"}).status_code == 422
    assert client.get("/v1/actors/a%00b").status_code == 422
    assert client.get("/v1/incidents?tag=a%00b").status_code == 422
    assert client.get("/v1/incidents?tag%00=a").status_code == 422, "in a parameter's name too"
    assert client.get("/v1/incidents", params={"tag": "a%00b"}).status_code == 200, "the text %00 is no NUL"


def test_an_export_ignores_the_cursor_and_flattens_single_references(client, nato_russia):
    for n in range(2):
        incident(client, title=f"T{n}")
    cursor = client.get("/v1/incidents?limit=1").json()["next_cursor"]
    assert len(client.get(f"/v1/incidents?limit=1&format=ndjson&cursor={cursor}").text.splitlines()) == 2
    make(client, "channels", name="Office", kind="information_office", parties=["nato", "russia"], host="russia")
    rows = list(csv.DictReader(io.StringIO(client.get("/v1/channels?format=csv").text)))
    assert rows[0]["host"] == "russia" and rows[0]["parties"] == "nato;russia"
