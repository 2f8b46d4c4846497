"""NDJSON exports are written by the database (app.kit.sqljson): each line must be the very
record the JSON API answers, to the type of each number and the order of each key."""

from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import orjson
import pytest
from sqlalchemy import update

from app.actors.models import ActorPublic
from app.channels.models import ChannelPublic
from app.exercises.models import ExercisePublic
from app.incidents.models import Incident, IncidentPublic
from app.kit.responses import dumps
from app.sources.models import SourcePublic
from tests.conftest import keyed_client, make

NDJSON = {"Content-Type": "application/x-ndjson"}
ODD_TEXT = 'Quotes " and \\ backslash, 100% "%s" printf, tab\tnew\nline, \x01 control, é, 日本, 🙂'


def exact(value: Any) -> Any:
    """``value`` with each number tagged by its type and each object as its items in order,
    so that ``1`` differs from ``1.0`` and ``{"a", "b"}`` from ``{"b", "a"}``."""
    if isinstance(value, dict):
        return [(key, exact(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [exact(item) for item in value]
    if isinstance(value, float | int) and not isinstance(value, bool):
        return (type(value).__name__, value)
    return value


def exported(client: Any, collection: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/v1/{collection}", params={**params, "format": "ndjson"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.text == "" or response.text.endswith("\n")
    return [orjson.loads(line) for line in response.text.splitlines()]


def listed(client: Any, collection: str, **params: Any) -> list[dict[str, Any]]:
    """Every record of the JSON list, page by page."""
    records, cursor = [], None
    while True:
        page = client.get(f"/v1/{collection}", params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        records += page.json()["data"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return records


def assert_export_is_the_list(client: Any, collection: str, **params: Any) -> list[dict[str, Any]]:
    lines = exported(client, collection, **params)
    assert exact(lines) == exact(listed(client, collection, **params))
    return lines


@pytest.fixture
def records(client: Any) -> dict[str, dict[str, Any]]:
    """The demo data, and records with every optional field set and with none, odd text,
    several actors in an order that is not the order of their ids, and floats whose JSON
    form is easy to get wrong."""
    demo = files("app.seed").joinpath("demo.ndjson").read_bytes()
    assert client.post("/v1/import", content=demo, headers=NDJSON).status_code == 200
    made: dict[str, dict[str, Any]] = {}
    made["gamma"] = make(client, "actors", slug="gamma", name="Gamma", kind="state")
    made["alpha"] = make(
        client,
        "actors",
        slug="alpha",
        name=ODD_TEXT,
        kind="body",
        aliases=["A", ODD_TEXT],
        country_code="ALB",
        description=ODD_TEXT,
        external_ids={"wikidata": "Q1", "viaf": "2", "a": ODD_TEXT},
        external_ref="test:alpha",
        affiliation="gamma",
    )
    made["beta"] = make(client, "actors", slug="beta", name="Beta", kind="organization", affiliation="nato")
    made["full source"] = make(
        client,
        "sources",
        url="https://example.org/full?q=%22x%22",
        title=ODD_TEXT,
        publisher="Publisher",
        authors=["One", ODD_TEXT],
        published_on="2021-10-19",
        kind="news",
        external_ref="test:source",
    )
    made["bare source"] = make(client, "sources", url="https://example.org/bare", title="Bare")
    made["bare incident"] = make(
        client,
        "incidents",
        kind="other",
        title="Bare",
        occurred_on="2021-10-19",
        initiators=["gamma"],
        targets=["beta"],
    )
    made["full incident"] = make(
        client,
        "incidents",
        kind="expulsion",
        title=ODD_TEXT,
        summary=ODD_TEXT,
        occurred_on="2021-10-20",
        date_precision="month",
        persons_affected=8,
        location=ODD_TEXT,
        latitude=50.0,
        longitude=0.1 + 0.2,
        tags=["b", "a", ODD_TEXT],
        external_ref="test:full",
        initiators=["gamma", "alpha", "nato"],
        targets=["russia", "beta"],
        responds_to=[made["bare incident"]["id"], "eln:2021-10:nato-accreditation-withdrawal"],
        sources=[
            made["bare source"]["id"],
            {
                "source": made["full source"]["id"],
                "provenance": {"system": "gdelt", "id": ODD_TEXT[:200], "tone": -5.0, "goldstein": 0.1 + 0.2},
            },
        ],
    )
    made["odd floats"] = make(
        client,
        "incidents",
        kind="other",
        title="Floats",
        occurred_on="2021-10-20",
        latitude=-89.99999999999997,
        longitude=1e-05,
        initiators=["beta"],
        targets=["gamma"],
        status="draft",
    )
    made["full exercise"] = make(
        client,
        "exercises",
        name=ODD_TEXT,
        aliases=["X", ODD_TEXT],
        start_date="2021-10-01",
        end_date="2021-10-09",
        date_precision="day",
        domains=["sea", "air"],
        location="Sea",
        region=ODD_TEXT,
        latitude=-12.5,
        longitude=180.0,
        troops=1000,
        vessels=0,
        aircraft=12,
        summary=ODD_TEXT,
        tags=["t"],
        external_ref="test:exercise",
        participants=[{"actor": "gamma", "role": "observer"}, {"actor": "alpha", "role": "lead"}, {"actor": "beta"}],
        sources=[made["full source"]["id"]],
    )
    made["bare exercise"] = make(
        client, "exercises", name="Bare", start_date="2021-10-02", participants=[{"actor": "gamma"}]
    )
    made["full channel"] = make(
        client,
        "channels",
        name=ODD_TEXT,
        kind="embassy",
        location=ODD_TEXT,
        level="diplomatic",
        established_on="2001-02-20",
        description=ODD_TEXT,
        external_ref="test:channel",
        parties=["gamma", "alpha", "beta"],
        host="alpha",
        sources=[made["full source"]["id"], made["bare source"]["id"]],
    )
    for change in (
        {"status": "suspended", "effective_on": "2021-10-21", "note": ODD_TEXT, "caused_by": "test:full"},
        {"status": "active", "effective_on": "2021-10-25", "sources": [made["bare source"]["id"]]},
        {"status": "closed", "effective_on": "2021-10-23", "external_ref": "test:change"},
    ):
        response = client.post(f"/v1/channels/{made['full channel']['id']}/status-changes", json=change)
        assert response.status_code == 201, response.text
    made["bare channel"] = make(client, "channels", name="Bare", kind="hotline", parties=["gamma", "beta"])
    # a timestamp without microseconds is written without a fraction
    with client.app.state.engine.begin() as connection:
        on_the_second = datetime(2021, 10, 18, 9, 0, 0, tzinfo=UTC)
        connection.execute(
            update(Incident).where(Incident.id == made["bare incident"]["id"]).values(created_at=on_the_second)
        )
    return made


@pytest.mark.parametrize("collection", ["actors", "sources", "incidents", "exercises", "channels"])
def test_each_exported_line_is_the_record_the_api_answers(client, records, collection):
    lines = assert_export_is_the_list(client, collection)
    assert len(lines) >= 3
    for line in lines:
        answer = client.get(f"/v1/{collection}/{line['id']}")
        assert answer.status_code == 200, answer.text
        assert exact(line) == exact(answer.json())


PUBLIC_MODELS = {
    "actors": ActorPublic,
    "sources": SourcePublic,
    "incidents": IncidentPublic,
    "exercises": ExercisePublic,
    "channels": ChannelPublic,
}


def sorted_keys(text: bytes) -> Any:
    return exact(orjson.loads(orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS)))


@pytest.mark.parametrize("collection", PUBLIC_MODELS)
def test_each_line_holds_what_the_public_model_writes(client, records, collection):
    """Lines (and the pages and single answers of incidents and exercises) are written in
    SQL; the public model, serialised as every JSON answer is, must give the same values:
    every field, number types, date and timestamp forms. (Key order is checked against
    the list above.)"""
    lines = exported(client, collection)
    assert len(lines) >= 3
    for line in lines:
        model = PUBLIC_MODELS[collection].model_validate(line)
        assert sorted_keys(dumps(model.model_dump())) == sorted_keys(orjson.dumps(line))


def test_the_odd_values_come_out_as_the_api_writes_them(client, records):
    lines = {line["id"]: line for line in exported(client, "incidents")}
    full = lines[records["full incident"]["id"]]
    assert full["title"] == ODD_TEXT
    assert exact(full["latitude"]) == ("float", 50.0)
    assert full["longitude"] == 0.30000000000000004
    assert [a["slug"] for a in full["initiators"]] == ["gamma", "alpha", "nato"]
    assert [a["slug"] for a in full["targets"]] == ["russia", "beta"]
    assert [i["title"] for i in full["responds_to"]][0] == "Bare"
    assert [s["url"] for s in full["sources"]] == ["https://example.org/bare", "https://example.org/full?q=%22x%22"]
    provenance = full["sources"][1]["provenance"]
    assert provenance == {
        "system": "gdelt",
        "id": ODD_TEXT[:200].strip(),
        "tone": -5.0,
        "goldstein": 0.30000000000000004,
    }
    assert exact(provenance["tone"]) == ("float", -5.0) and "provenance" not in full["sources"][0]
    assert lines[records["bare incident"]["id"]]["created_at"] == "2021-10-18T09:00:00Z"
    floats = lines[records["odd floats"]["id"]]
    assert (floats["latitude"], floats["longitude"]) == (-89.99999999999997, 1e-05)
    channel = next(c for c in exported(client, "channels") if c["id"] == records["full channel"]["id"])
    assert [c["status"] for c in channel["status_history"]] == ["suspended", "closed", "active"]
    assert channel["status_history"][0]["caused_by"]["id"] == records["full incident"]["id"]
    assert channel["host"]["slug"] == "alpha"


@pytest.mark.parametrize(
    ("collection", "params"),
    [
        ("incidents", {"kind": ["expulsion", "other"]}),
        ("incidents", {"actor": "gamma"}),
        ("incidents", {"initiator": "nato", "target": "russia"}),
        ("incidents", {"from": "2021-10-06", "to": "2021-10-19", "sort": "occurred_on"}),
        ("incidents", {"q": "NATO"}),
        ("incidents", {"q": "NATO", "sort": "-created_at"}),
        ("incidents", {"tag": ["a", "nato-russia"]}),
        ("incidents", {"status": ["draft"]}),
        ("actors", {"kind": "state", "sort": "-name"}),
        ("actors", {"affiliation": "nato"}),
        ("sources", {"q": "reflections"}),
        ("exercises", {"actor": "gamma", "sort": "name"}),
        ("exercises", {"active_on": "2021-10-05"}),
        ("channels", {"party": ["gamma", "beta"]}),
        ("channels", {"as_of": "2021-10-22"}),
        ("channels", {"status": "closed", "as_of": "2021-10-24"}),
    ],
)
def test_an_export_keeps_the_filters_and_the_order_of_the_list(client, records, collection, params):
    assert_export_is_the_list(client, collection, **params)


def test_an_export_shows_each_key_what_its_list_shows(app, client, records):
    with keyed_client(app, "read") as reader:
        shown = {line["id"] for line in assert_export_is_the_list(reader, "incidents")}
    assert records["full incident"]["id"] in shown
    assert records["odd floats"]["id"] not in shown  # a draft
    client.delete(f"/v1/incidents/{records['bare incident']['id']}")
    retracted = assert_export_is_the_list(client, "incidents", status="retracted")
    assert [line["id"] for line in retracted] == [records["bare incident"]["id"]]
    assert records["bare incident"]["id"] not in {line["id"] for line in exported(client, "incidents")}
