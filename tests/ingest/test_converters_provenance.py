"""Provenance kept: a citation carries what the system an incident came from says of it (its id
there and its numbers); a source is an absolute http(s) URL, or a publisher with an
external_ref. What the converters read is kept or counted, never lost."""

from typing import Any

import orjson
import pytest

from tests.conftest import make
from tests.ingest.test_converters import imported, incidents

NDJSON = {"Content-Type": "application/x-ndjson"}


def provenance(incident: dict[str, Any]) -> dict[str, Any]:
    (cited,) = incident["sources"]
    return cited["provenance"]


def test_gdelt_numbers_are_read_back_from_the_citation(client):
    imported(client, "gdelt", "gdelt.export.CSV")
    first = incidents(client)["gdelt:737221001"]
    assert first["sources"][0]["url"] == "https://www.bbc.co.uk/news/world-europe-43401311"
    assert provenance(first) == {
        "system": "gdelt",
        "id": "737221001",
        "root_event": True,
        "quad_class": 4,
        "goldstein": -7.0,
        "mentions": 10,
        "sources": 1,
        "articles": 10,
        "tone": -5.37,
        "reported_on": "2018-03-17",
    }
    # the incident's own path answers the same as the list
    assert client.get(f"/v1/incidents/{first['id']}").json()["sources"] == first["sources"]


def test_icews_stories_are_cited_by_publisher_and_story_id(client):
    imported(client, "icews", "icews.tab")
    found = incidents(client)
    czech = found["icews:29811001"]
    # the second report of the expulsion (AFP's, a day later) was merged into it: both stories cited
    cited, merged = czech["sources"]
    assert merged["title"] == "Agence France-Presse, story 33541777" and merged["provenance"]["id"] == "29811002"
    assert cited["url"] is None and cited["title"] == "Czech News Agency, story 33541001"
    assert cited["provenance"] == {
        "system": "icews",
        "id": "29811001",
        "story_id": "33541001",
        "sentence": 1,
        "intensity": -5.0,
        "reported_by": "Czech News Agency",
        "reported_on": "2018-03-26",
    }
    source = client.get(f"/v1/sources/{cited['id']}").json()
    assert (source["publisher"], source["external_ref"], source["url"]) == (
        "Czech News Agency",
        "icews-story:33541001",
        None,
    )
    assert provenance(found["icews:29811004"])["intensity"] == 7.4
    # a second import cites the stored stories and changes nothing
    again = imported(client, "icews", "icews.tab")
    assert again["created"]["source"] == 0 and again["unchanged"]["incident"] == 4


def test_acled_rows_cite_the_data_set_with_their_numbers_and_precisions(client):
    imported(client, "acled", "acled.csv")
    found = incidents(client)
    kyiv = found["acled:UKR56001"]
    (cited,) = kyiv["sources"]
    assert cited["url"] == "https://acleddata.com/"
    assert cited["provenance"] == {
        "system": "acled",
        "id": "UKR56001",
        "fatalities": 0,
        "time_precision": 1,
        "geo_precision": 1,
        "reported_by": "Ukrainska Pravda",
        "source_scale": "National",
    }
    week = found["acled:POL2201"]
    assert week["date_precision"] == "week"
    assert provenance(week) == {
        "system": "acled",
        "id": "POL2201",
        "fatalities": 0,
        "time_precision": 2,
        "geo_precision": 3,
        "reported_by": "PAP",
        "source_scale": "National",
    }
    assert client.get("/v1/sources", params={"publisher": "ACLED"}).json()["data"][0]["kind"] == "dataset"


def test_plover_id_and_numbers_are_kept(client):
    imported(client, "plover", "plover.jsonl")
    found = incidents(client)
    france = found["plover:POLECAT-2022-0001"]
    assert provenance(france) == {"system": "plover", "id": "POLECAT-2022-0001", "quad_class": 4, "intensity": -7.0}
    # a record without a URL of its own cites the data set
    japan = found["plover:GSR-LIKE-0004"]
    assert japan["sources"][0]["url"] == "https://github.com/openeventdata/PLOVER"
    assert provenance(japan) == {"system": "plover", "id": "GSR-LIKE-0004"}


def test_plover_placeholder_and_end_dates_give_a_precision(client):
    records = [
        {"id": "GSR-1", "date": "2000-01-01", "source": [{"code": "CHE"}], "target": [{"code": "RUS"}]},
        {"id": "GSR-2", "date": "2022-04-04", "enddate": "2022-04-08", "actor": [{"code": "CHE"}]},
        {"id": "GSR-3", "date": "2021-04-05", "enddate": "2021-04-28", "actor": [{"code": "CHE"}]},
        {"id": "GSR-4", "date": "2020-04-04", "enddate": "not a date", "actor": [{"code": "CHE"}]},
    ]  # years apart: four events, none a report of another's (tests/incidents/test_merges.py)
    body = b"\n".join(
        orjson.dumps(
            {"recipient": [{"code": "RUS"}], **r, "event": "SANCTION", "mode": "expel", "context": "diplomatic"}
        )
        for r in records
    )
    response = client.post("/v1/import", params={"from": "plover"}, content=body, headers=NDJSON)
    assert response.status_code == 200, response.text
    dropped = response.json()["conversion"]["dropped"]
    assert dropped == {"date (placeholder)": 1, "enddate (unreadable)": 1}
    found = incidents(client)
    assert [found[f"plover:GSR-{n}"]["date_precision"] for n in range(1, 5)] == ["year", "week", "month", "day"]


@pytest.mark.parametrize(
    "url",
    ["acled:CYP392", "www.example.org/story", "/news/1", "ftp://example.org/story", "https://", "http://a b.org/"],
)
def test_a_source_url_must_be_an_absolute_web_address(client, url):
    response = client.post("/v1/sources", json={"url": url, "title": "T"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "url"]
    stored = make(client, "sources", url="https://example.org/a", title="A")
    patched = client.patch(f"/v1/sources/{stored['id']}", json={"url": url})
    assert patched.status_code == 422


def test_a_source_is_a_url_or_a_publisher_with_an_external_ref(client):
    story = make(client, "sources", title="Story 33541001", publisher="Czech News Agency", external_ref="ctk:33541001")
    assert story["url"] is None
    assert client.get("/v1/sources/ref:ctk:33541001").json()["publisher"] == "Czech News Agency"
    for body in ({"title": "T"}, {"title": "T", "publisher": "P"}, {"title": "T", "external_ref": "p:1"}):
        assert client.post("/v1/sources", json=body).status_code == 422, body
    # taking the publisher away leaves a source with neither
    assert client.patch(f"/v1/sources/{story['id']}", json={"publisher": None}).status_code == 422


def test_a_citation_keeps_its_provenance_through_writes_history_and_exports(client, nato_russia):
    story = make(client, "sources", title="Story 1", publisher="Agency", external_ref="agency:1")
    page = make(client, "sources", url="https://example.org/b", title="B")
    given = {"system": "icews", "id": "29811001", "story_id": "1", "intensity": -5.0, "reported_on": "2018-03-26"}
    incident = make(
        client,
        "incidents",
        kind="expulsion",
        title="T",
        occurred_on="2018-03-26",
        initiators=["nato"],
        targets=["russia"],
        sources=[{"source": "agency:1", "provenance": given}, page["url"]],
        external_ref="test:cited",
    )
    assert incident["sources"] == [
        {"id": story["id"], "title": "Story 1", "url": None, "provenance": given},
        {"id": page["id"], "title": "B", "url": "https://example.org/b"},
    ]
    url = f"/v1/incidents/{incident['id']}"
    assert client.get(url).json()["sources"] == incident["sources"]

    unknown = client.patch(url, json={"sources": [{"source": "agency:1", "provenance": {"system": "x", "tones": 1}}]})
    assert unknown.status_code == 422
    assert {"loc": ["body", "sources", 0, "CitedSource", "provenance", "tones"], "type": "extra_forbidden"}.items() <= {
        k: v for e in unknown.json()["errors"] if e["loc"][-1] == "tones" for k, v in e.items()
    }.items()
    nameless = client.patch(url, json={"sources": [{"source": "agency:1", "provenance": {"id": "1"}}]})
    assert nameless.status_code == 422, "a provenance names its system"

    patched = client.patch(url, json={"sources": [{"source": story["id"], "provenance": {**given, "intensity": -6}}]})
    assert patched.status_code == 200, patched.text
    assert patched.json()["version"] == 2 and patched.json()["sources"][0]["provenance"]["intensity"] == -6.0
    history = client.get(f"{url}/history").json()["data"]
    assert history[0]["changes"]["sources"] == [{"source": story["id"], "provenance": given}, page["id"]]
    assert history[1]["changes"]["sources"][0]["provenance"]["intensity"] == -6.0
    feed = client.get("/v1/changes", params={"after": 0, "limit": 500}).json()["data"]
    assert [c["version"] for c in feed if c["id"] == incident["id"]] == [1, 2]

    exported = client.get("/v1/incidents", params={"format": "ndjson"}).text.splitlines()
    (line,) = [orjson.loads(text) for text in exported if "test:cited" in text]
    assert line["sources"][0]["provenance"]["intensity"] == -6.0
    again = client.post("/v1/import", content=orjson.dumps({"type": "incident", **line}), headers=NDJSON)
    assert again.status_code == 200, again.text
    assert again.json()["unchanged"]["incident"] == 1, "an export reads back onto itself, provenance and all"
    line["sources"][0]["provenance"]["intensity"] = -7
    changed = client.post("/v1/import", content=orjson.dumps({"type": "incident", **line}), headers=NDJSON)
    assert changed.json()["updated"]["incident"] == 1
    assert client.get(url).json()["sources"][0]["provenance"]["intensity"] == -7.0


def test_the_incident_page_names_a_source_without_a_url_without_a_link(client, anonymous):
    imported(client, "icews", "icews.tab")
    czech = incidents(client)["icews:29811001"]
    page = anonymous.get(f"/incidents/{czech['id']}")
    assert page.status_code == 200
    assert "Czech News Agency, story 33541001" in page.text and 'href="None"' not in page.text
