"""``format=plover``: incidents as PLOVER/POLECAT event records, the inverse of ``from=plover``.

A file written so reads in tools built for PLOVER data (one JSON record a line, the manual's
field names and the crosswalk's codes), and imported back with ``POST /v1/import?from=plover``
gives the same incidents' kinds, dates, actors and sources.
"""

from typing import Any

import orjson
import pytest

from tests.conftest import make
from tests.ingest.test_cli import demarche
from tests.ingest.test_converters import imported


def plover(client: Any, **params: Any) -> tuple[list[dict[str, Any]], Any]:
    response = client.get("/v1/incidents", params={"format": "plover", **params})
    assert response.status_code == 200, response.text
    return [orjson.loads(line) for line in response.content.splitlines()], response


@pytest.fixture
def states(client):
    return {
        code: make(client, "actors", slug=slug, name=name, kind="state", country_code=code)
        for code, slug, name in (
            ("GBR", "united-kingdom", "United Kingdom"),
            ("RUS", "russia", "Russia"),
            ("USA", "united-states", "United States"),
        )
    }


def incident(client: Any, kind: str, occurred_on: str, initiators: list[str], targets: list[str], **fields: Any):
    title = f"{kind} on {occurred_on}"
    return make(client, "incidents", kind=kind, title=title, occurred_on=occurred_on, initiators=initiators,
                targets=targets, **fields)  # fmt: skip


def test_a_plover_record_has_the_manuals_shape(client, states):
    bbc = make(client, "sources", url="https://www.bbc.co.uk/news/uk-43419064", title="UK expels 23", publisher="BBC")
    gov = make(client, "sources", url="https://www.gov.uk/statement", title="PM statement", publisher="GOV.UK")
    nato = make(client, "actors", slug="nato", name="NATO", kind="organization")
    expulsion = incident(
        client,
        "expulsion",
        "2018-03-14",
        ["united-kingdom", "nato"],
        ["russia"],
        summary="The UK expels 23 Russian diplomats.",
        location="London",
        latitude=51.5,
        longitude=-0.12,
        sources=[bbc["id"], gov["id"]],
    )
    records, response = plover(client)
    assert response.headers["content-type"] == "application/x-ndjson"
    assert 'filename="incidents.plover.jsonl"' in response.headers["content-disposition"]
    assert response.headers["demarche-plover-skipped"] == "0"
    assert records == [
        {
            "id": expulsion["id"],
            "date": "2018-03-14",
            "event": "SANCTION",
            "mode": "expel",
            "context": ["diplomatic"],
            "actor": [
                {"code": "GBR", "entity_text": "United Kingdom"},
                {"code": None, "entity_text": nato["name"]},  # an organisation has no country code
            ],
            "recipient": [{"code": "RUS", "entity_text": "Russia"}],
            "text": "The UK expels 23 Russian diplomats.",
            "event_loc": {"resolved_place": "London", "lat": 51.5, "lon": -0.12},
            "cite_info": {"url": bbc["url"], "title": "UK expels 23", "publication": "BBC"},
            "demarche": {
                "id": expulsion["id"],
                "kind": "expulsion",
                "title": "expulsion on 2018-03-14",
                "date_precision": "day",
                "external_ref": None,
                "sources": [
                    {"url": bbc["url"], "title": "UK expels 23", "publication": "BBC"},
                    {"url": gov["url"], "title": "PM statement", "publication": "GOV.UK"},
                ],
            },
        }
    ]


def test_an_export_imports_back_with_its_kinds_dates_actors_and_sources(client, states):
    source = make(client, "sources", url="https://example.org/a", title="A report", publisher="Example")
    other = make(client, "sources", url="https://example.org/b", title="Another", publisher="Example")
    originals = [
        incident(client, "expulsion", "2018-03-14", ["united-kingdom"], ["russia"], sources=[source["id"]]),
        incident(client, "mission_closure", "2018-03-29", ["russia"], ["united-kingdom"]),  # SANCTION/withdraw
        incident(client, "ambassador_summons", "2018-03-15", ["russia"], ["united-kingdom"]),  # ACCUSE/allege
        incident(
            client,
            "relations_restored",
            "1992-01-01",
            ["russia", "united-states"],
            ["united-kingdom"],
            date_precision="month",
            sources=[source["id"], other["id"]],
        ),  # fmt: skip
        incident(client, "sanctions", "2018-04-06", ["united-states"], ["russia"], summary="Sanctions."),
    ]
    records, _ = plover(client)
    assert len(records) == len(originals)

    body = b"".join(orjson.dumps(r) + b"\n" for r in records)
    # into a record that no longer holds them live: a live one is the same event, and the
    # import would merge the copy that shares its source into it (tests/incidents/test_merges.py)
    for original in originals:
        assert client.delete(f"/v1/incidents/{original['id']}").status_code == 204
    answer = client.post("/v1/import", params={"from": "plover"}, content=body,
                         headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    report = answer.json()["conversion"]
    assert report["rows"] == report["kept"] == len(originals)
    # an entity is read by its country code: its name is the state actor's already
    assert set(report["dropped"]) == {"actor.entity_text", "recipient.entity_text"}
    assert answer.json()["created"]["incident"] == len(originals)
    assert answer.json()["created"]["actor"] == answer.json()["created"]["source"] == 0

    imported_ = client.get("/v1/incidents", params={"tag": "plover", "limit": 100}).json()["data"]
    back = {i["external_ref"].removeprefix("plover:"): i for i in imported_}
    assert set(back) == {o["id"] for o in originals}
    for original in originals:
        copy = back[original["id"]]
        for field in ("kind", "occurred_on", "date_precision", "title", "summary", "initiators", "targets", "sources"):
            assert copy[field] == original[field], (original["kind"], field)


def test_records_imported_from_plover_export_as_themselves(client):
    first = imported(client, "plover", "plover.jsonl")
    kept = first["conversion"]["kept"]
    records, _ = plover(client)
    assert len(records) == kept
    assert {r["id"] for r in records} >= {"POLECAT-2022-0001", "POLECAT-2022-0002"}  # the PLOVER ids, kept
    body = b"".join(orjson.dumps(r) + b"\n" for r in records)
    again = client.post("/v1/import", params={"from": "plover"}, content=body,
                        headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
    assert again.status_code == 200, again.text
    assert again.json()["unchanged"]["incident"] == kept
    assert again.json()["created"]["incident"] == again.json()["updated"]["incident"] == 0


def test_the_lists_filters_apply(client, states):
    incident(client, "expulsion", "2018-03-14", ["united-kingdom"], ["russia"])
    incident(client, "expulsion", "2021-10-06", ["united-states"], ["russia"])
    incident(client, "sanctions", "2021-10-07", ["united-states"], ["russia"])
    incident(client, "other", "2021-10-08", ["united-states"], ["russia"])

    records, response = plover(client, kind="expulsion")
    assert [r["date"] for r in records] == ["2021-10-06", "2018-03-14"]  # newest first, as the list
    assert response.headers["demarche-plover-skipped"] == "0"
    records, response = plover(client, initiator="united-states", **{"from": "2021-01-01"})
    assert [(r["date"], r["event"]) for r in records] == [("2021-10-07", "COERCE"), ("2021-10-06", "SANCTION")]
    assert response.headers["demarche-plover-skipped"] == "1"
    records, _ = plover(client, initiator="united-kingdom", sort="occurred_on")
    assert [r["date"] for r in records] == ["2018-03-14"]
    records, _ = plover(client, plover="COERCE")
    assert [r["mode"] for r in records] == ["restrict"]


def test_a_kind_without_a_plover_event_is_left_out_and_counted(client, states):
    kept = incident(client, "expulsion", "2021-10-06", ["united-states"], ["russia"])
    for day in ("2021-10-07", "2021-10-08"):
        incident(client, "other", day, ["united-states"], ["russia"])
    records, response = plover(client)
    assert [r["id"] for r in records] == [kept["id"]]
    assert response.headers["demarche-plover-skipped"] == "2"
    records, response = plover(client, kind="other")
    assert records == [] and response.headers["demarche-plover-skipped"] == "2"


def test_fields_are_refused_with_plover_records_not_ignored(client, states):
    incident(client, "expulsion", "2021-10-06", ["united-states"], ["russia"])
    refused = client.get("/v1/incidents", params={"format": "plover", "fields": "title"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["loc"] == ["query", "fields"]


def test_the_command_line_exports_incidents_as_plover_records_only(client, states, database_url, tmp_path):
    kept = incident(client, "expulsion", "2021-10-06", ["united-states"], ["russia"])
    out = tmp_path / "incidents.jsonl"
    result = demarche(database_url, "export", "incidents", "--format", "plover", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert [orjson.loads(line)["id"] for line in out.read_bytes().splitlines()] == [kept["id"]]
    refused = demarche(database_url, "export", "actors", "--format", "plover")
    assert refused.returncode == 1 and "only incidents export as them" in refused.stderr
