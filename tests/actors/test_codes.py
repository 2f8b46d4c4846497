"""Actors' codes (ISO 3166, FIPS 10-4, CAMEO, COW, Gleditsch–Ward, Wikidata): kept on the
actor, and taken as ``scheme:value`` wherever an actor is named (filters, paths, bodies)."""

import csv
import io
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect

from app.db import alembic_config, make_engine
from tests.conftest import drop_database, fresh_database, make
from tests.ingest.test_converters import imported

RUSSIA_CODES = {"iso3": "RUS", "iso2": "RU", "fips": "RS", "cameo": "RUS", "cow": 365, "gw": 365, "wikidata": "Q159"}
REFS = ["iso3:RUS", "iso2:ru", "fips:RS", "cameo:RUS", "cow:365", "gw:365", "wikidata:Q159"]
"""Russia named in each scheme (letters in any case)."""


@pytest.fixture
def world(client) -> dict[str, Any]:
    """Russia with every code, its government (RUSGOV) and its minister, the United Kingdom,
    and incidents: Russia → UK, the government → UK, the minister → UK."""
    russia = make(client, "actors", slug="russia", name="Russia", kind="state", country_code="RUS", codes=RUSSIA_CODES)
    uk = make(
        client,
        "actors",
        slug="united-kingdom",
        name="United Kingdom",
        kind="state",
        country_code="GBR",
        codes={"iso3": "GBR", "iso2": "GB", "fips": "UK"},
    )
    government = make(
        client,
        "actors",
        slug="russia-government",
        name="Government of Russia",
        kind="body",
        country_code="RUS",
        affiliation="iso3:RUS",
        codes={"cameo": "RUSGOV"},
    )
    minister = make(client, "actors", slug="lavrov", name="Sergey Lavrov", kind="person", affiliation="cameo:RUSGOV")
    incidents = [
        make(
            client,
            "incidents",
            kind="expulsion",
            title=title,
            occurred_on=day,
            initiators=[initiator],
            targets=["iso2:GB"],
        )
        for title, day, initiator in (
            ("Russia expels", "2021-03-01", "wikidata:Q159"),
            ("The government expels", "2021-03-02", "cameo:RUSGOV"),
            ("The minister summons", "2021-03-03", "lavrov"),
        )
    ]
    return {"russia": russia, "uk": uk, "government": government, "minister": minister, "incidents": incidents}


def test_codes_round_trip_through_create_patch_read_export_and_import(client, world):
    russia = world["russia"]
    assert russia["codes"] == RUSSIA_CODES
    assert world["minister"]["codes"] == dict.fromkeys(RUSSIA_CODES)
    assert world["government"]["affiliation"]["slug"] == "russia"
    assert world["minister"]["affiliation"]["slug"] == "russia-government"
    # a merge patch changes one code and clears another
    patched = client.patch("/v1/actors/russia", json={"codes": {"cow": 366, "fips": None}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["codes"] == RUSSIA_CODES | {"cow": 366, "fips": None}
    assert patched.json()["version"] == russia["version"] + 1
    history = client.get("/v1/actors/iso3:RUS/history").json()["data"]
    assert history[-1]["changes"] == {"codes": patched.json()["codes"]}  # the codes, as the actor answers them
    # every read says the same: the record, the list, the NDJSON export
    assert client.get("/v1/actors/cow:366").json()["codes"]["cow"] == 366
    listed = {a["slug"]: a for a in client.get("/v1/actors").json()["data"]}
    assert listed["russia"]["codes"] == patched.json()["codes"]
    lines = client.get("/v1/actors", params={"format": "ndjson"}).text.splitlines()
    assert any('"cow":366' in line and '"slug":"russia"' in line for line in lines)
    # CSV: the codes as JSON text, which an import reads back
    rows = {r["slug"]: r for r in csv.DictReader(io.StringIO(client.get("/v1/actors", params={"format": "csv"}).text))}
    assert '"iso3":"RUS"' in rows["russia"]["codes"]
    # an import line carries codes too, and names actors by code
    line = '{"type": "actor", "slug": "china", "name": "China", "kind": "state", "codes": {"iso3": "CHN", "gw": 710}}'
    answer = client.post("/v1/import", content=line, headers={"Content-Type": "application/x-ndjson"})
    assert answer.status_code == 200, answer.text
    assert client.get("/v1/actors/gw:710").json()["slug"] == "china"


def test_codes_are_checked_and_unique_per_scheme(client, world):
    taken = client.post("/v1/actors", json={"slug": "x", "name": "X", "kind": "state", "codes": {"iso3": "RUS"}})
    assert taken.status_code == 409
    for codes in ({"iso3": "XYZ"}, {"iso2": "RUS"}, {"wikidata": "159"}, {"cow": 0}, {"nope": "1"}):
        answer = client.post("/v1/actors", json={"slug": "x", "name": "X", "kind": "state", "codes": codes})
        assert answer.status_code == 422, codes
    # CAMEO's own country codes are kept as ISO writes them
    japan = make(
        client, "actors", slug="japan-government", name="Government of Japan", kind="body", codes={"cameo": "JAPGOV"}
    )
    assert japan["codes"]["cameo"] == "JPNGOV"
    assert client.get("/v1/actors/cameo:JAPGOV").json()["slug"] == "japan-government"


@pytest.mark.parametrize("ref", REFS)
def test_each_scheme_names_the_actor_in_a_path_a_filter_and_a_body(client, world, ref):
    assert client.get(f"/v1/actors/{ref}").json()["id"] == world["russia"]["id"]
    listed = client.get("/v1/incidents", params={"initiator": ref}).json()["data"]
    assert [i["title"] for i in listed] == ["Russia expels"]
    dyad = client.get(f"/v1/dyads/{ref}/iso3:GBR", params={"as_of": "2021-03-10"})
    assert dyad.status_code == 200, dyad.text
    assert dyad.json()["a"]["slug"] == "russia" and dyad.json()["incident_counts"]["a_to_b"] == {"expulsion": 1}
    timeline = client.get("/v1/timeline", params={"actor": ref}).json()["data"]
    assert [e["title"] for e in timeline] == ["Russia expels"]
    channel = client.post("/v1/channels", json={"name": "Hotline", "kind": "hotline", "parties": [ref, "fips:UK"]})
    assert channel.status_code == 201, channel.text
    assert {p["slug"] for p in channel.json()["parties"]} == {"russia", "united-kingdom"}
    exercise = client.post(
        "/v1/exercises",
        json={"name": "Zapad", "start_date": "2021-09-10", "participants": [{"actor": ref, "role": "lead"}]},
    )
    assert exercise.status_code == 201, exercise.text
    assert exercise.json()["participants"][0]["actor"]["slug"] == "russia"
    assert client.get("/v1/exercises", params={"actor": ref}).json()["data"][0]["name"] == "Zapad"
    assert client.get("/v1/channels", params={"party": ref}).json()["data"][0]["name"] == "Hotline"


def test_a_cameo_code_of_a_role_names_the_body_and_a_country_code_the_state(client, world):
    assert client.get("/v1/actors/cameo:RUSGOV").json()["slug"] == "russia-government"
    assert client.get("/v1/actors/cameo:rus").json()["slug"] == "russia"
    make(client, "actors", slug="britain", name="UK", kind="state", country_code="GBR")  # no codes of its own
    assert client.get("/v1/actors/cameo:GBR").json()["slug"] == "united-kingdom"  # by its ISO alpha-3 code


@pytest.mark.parametrize("ref", ["RUS", "iso3:FRA", "cameo:RUSMIL", "cow:9", "nope:RUS"])
def test_an_unknown_reference_is_404_in_a_path_and_422_in_a_filter_or_a_body(client, world, ref):
    assert client.get(f"/v1/actors/{ref}").status_code == 404
    assert client.get(f"/v1/dyads/{ref}/russia").status_code == 404
    for path, name in (("/v1/incidents", "actor"), ("/v1/incidents", "target"), ("/v1/exercises", "actor")):
        answer = client.get(path, params={name: ref})
        assert answer.status_code == 422, (path, name, answer.text)
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json()["errors"][0]["loc"] == ["query", name]
        assert answer.json()["detail"] == f"Unknown actor {ref!r} in {name}."
    assert client.get("/v1/timeline", params={"actor": ref}).status_code == 422
    assert client.get("/v1/channels", params={"party": ref}).status_code == 422
    assert client.get("/v1/actors", params={"affiliation": ref}).status_code == 422
    # one unknown among several is refused too, though the others match
    assert client.get("/v1/incidents", params={"actor": ["russia", ref]}).status_code == 422
    body = {"kind": "expulsion", "title": "T", "occurred_on": "2021-01-01", "initiators": [ref], "targets": ["russia"]}
    answer = client.post("/v1/incidents", json=body)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["body", "initiators", 0]


def test_a_known_actor_without_incidents_answers_an_empty_list(client, world):
    make(client, "actors", slug="france", name="France", kind="state", codes={"iso3": "FRA"})
    answer = client.get("/v1/incidents", params={"actor": "iso3:FRA"})
    assert answer.status_code == 200 and answer.json()["data"] == []


def test_include_affiliated_counts_bodies_and_persons_as_their_state(client, world):
    def titles(**params: Any) -> list[str]:
        return [i["title"] for i in client.get("/v1/incidents", params=params).json()["data"]]

    assert titles(initiator="russia") == ["Russia expels"]
    assert titles(initiator="russia", include_affiliated="true") == [
        "The minister summons",
        "The government expels",
        "Russia expels",
    ]
    assert len(titles(actor="iso3:RUS", include_affiliated="true")) == 3
    assert titles(initiator="cameo:RUSGOV", include_affiliated="true") == [
        "The minister summons",
        "The government expels",
    ]

    def counts(**params: Any) -> dict[str, int]:
        answer = client.get("/v1/dyads/russia/united-kingdom", params={"as_of": "2021-03-10", **params})
        assert answer.status_code == 200, answer.text
        return answer.json()["incident_counts"]["a_to_b"]

    assert counts() == {"expulsion": 1}
    assert counts(include_affiliated="true") == {"expulsion": 3}
    latest = client.get(
        "/v1/dyads/russia/united-kingdom", params={"as_of": "2021-03-10", "include_affiliated": "true"}
    ).json()["latest_incidents"]
    assert [i["title"] for i in latest] == ["The minister summons", "The government expels", "Russia expels"]

    lead = {"actor": "lavrov", "role": "lead"}
    make(client, "exercises", name="Zapad", start_date="2021-03-05", participants=[lead])
    for include, names in (("false", []), ("true", ["Zapad"])):
        listed = client.get("/v1/exercises", params={"actor": "russia", "include_affiliated": include}).json()
        assert [e["name"] for e in listed["data"]] == names

    def timeline(**params: Any) -> list[str]:
        return [e["title"] for e in client.get("/v1/timeline", params={"actor": "russia", **params}).json()["data"]]

    assert timeline() == ["Russia expels"]
    assert timeline(include_affiliated="true") == [
        "Zapad",
        "The minister summons",
        "The government expels",
        "Russia expels",
    ]


def test_a_gdelt_import_makes_the_body_of_a_cameo_role_once(client):
    russia = make(client, "actors", slug="russia", name="Russia", kind="state", country_code="RUS")
    make(client, "actors", slug="united-kingdom", name="United Kingdom", kind="state", country_code="GBR")
    report = imported(client, "gdelt", "gdelt.export.CSV")["conversion"]
    assert "russia-government" in report["actors_created"]
    government = client.get("/v1/actors/cameo:RUSGOV").json()
    assert (government["slug"], government["kind"], government["name"]) == (
        "russia-government",
        "body",
        "Government of Russia",
    )
    assert government["affiliation"]["id"] == russia["id"] and government["external_ref"] == "cameo:RUSGOV"
    initiated = client.get("/v1/incidents", params={"initiator": "cameo:RUSGOV"}).json()["data"]
    assert [i["external_ref"] for i in initiated] == ["gdelt:737221001"]
    # the state made on import carries its ISO codes
    assert client.get("/v1/actors/iso2:LT").json()["codes"]["iso3"] == "LTU"
    # counted as Russia's with include_affiliated
    russian = client.get("/v1/incidents", params={"initiator": "russia", "include_affiliated": "true"}).json()
    assert {"gdelt:737221001"} <= {i["external_ref"] for i in russian["data"]}
    assert imported(client, "gdelt", "gdelt.export.CSV")["conversion"]["actors_created"] == []


def test_migration_0014_adds_and_removes_the_code_columns(base_url, tmp_path):
    url = fresh_database(base_url, tmp_path, "demarche_test_actor_codes")
    try:
        config = alembic_config(url)
        engine = make_engine(url)
        command.upgrade(config, "0014")
        columns = {c["name"] for c in inspect(engine).get_columns("actors")}
        assert {"code_iso3", "code_cameo", "code_wikidata"} <= columns
        indexes = {i["name"]: i for i in inspect(engine).get_indexes("actors")}
        assert indexes["ix_actors_code_iso3"]["unique"]
        command.downgrade(config, "0013")
        engine.dispose()
        engine = make_engine(url)
        assert not any(c["name"].startswith("code_") for c in inspect(engine).get_columns("actors"))
        command.upgrade(config, "head")
        engine.dispose()
    finally:
        drop_database(url)
