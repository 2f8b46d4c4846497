"""POST /v1/import?from=gdelt|icews|acled|plover: the event data sets' own files, converted.

The fixtures in tests/fixtures/eventdata/ were written by hand from each format's codebook
(GDELT 2.0 Event Codebook, ICEWS's column names, ACLED's codebook, the PLOVER manual and
gold-standard records), with the awkward rows: no second actor, country centroids, duplicate
reports, unknown codes, bad dates, actors that are no country.
"""

import io
import zipfile
from typing import Any

import pytest

from tests import FIXTURES
from tests.conftest import make

EVENTDATA = FIXTURES / "eventdata"
TYPES = {
    "gdelt.export.CSV": "text/tab-separated-values",
    "gdelt-with-header.csv": "text/csv",
    "icews.tab": "text/tab-separated-values",
    "acled.csv": "text/csv",
    "plover.jsonl": "application/x-ndjson",
}


def convert(client: Any, format_: str, name: str, body: bytes | None = None, **params: Any) -> Any:
    content = body if body is not None else (EVENTDATA / name).read_bytes()
    headers = {"Content-Type": TYPES.get(name, "application/zip")}
    return client.post("/v1/import", params={"from": format_, **params}, content=content, headers=headers)


def imported(client: Any, format_: str, name: str, **params: Any) -> dict[str, Any]:
    response = convert(client, format_, name, **params)
    assert response.status_code == 200, response.text
    return response.json()


def incidents(client: Any, **filters: Any) -> dict[str, dict[str, Any]]:
    data = client.get("/v1/incidents", params={"limit": 100, **filters}).json()["data"]
    return {i["external_ref"]: i for i in data}


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


def test_gdelt_export_keeps_the_diplomatic_rows_and_counts_every_other(client):
    russia = make(client, "actors", slug="russia", name="Russia", kind="state", country_code="RUS")
    make(client, "actors", slug="united-kingdom", name="United Kingdom", kind="state", country_code="GBR")
    answer = imported(client, "gdelt", "gdelt.export.CSV")
    report = answer["conversion"]
    assert report["format"] == "gdelt"
    assert report["rows"] == 13 and report["kept"] == 4 and report["skipped_total"] == 9
    assert report["skipped"] == {
        "bad_date": {"166": 1},
        "bad_row": {"-": 1},
        "duplicate": {"166": 1},
        "military_not_converted": {"062": 1},
        "no_target": {"166": 1},
        "out_of_scope": {"042": 1, "999": 1},
        "same_country": {"166": 1},
        "unmapped_actor": {"166": 1},
    }
    assert report["unmapped_actors"] == {"IGOUNO": 1}
    assert report["actors_created"] == [  # a state's body (RUSGOV…) is made beside its state, affiliated to it
        "russia-government",
        "united-kingdom-government",
        "united-states",
        "united-states-government",
        "china",
        "china-government",
        "lithuania",
    ]
    dropped = report["dropped"]
    for field in ("NumMentions", "NumSources", "NumArticles", "AvgTone", "GoldsteinScale", "DATEADDED"):
        assert field not in dropped, field  # kept as the citation's provenance
    assert "Actor1Code (role)" not in dropped  # RUSGOV, USAGOV, CHNGOV are actors of their own
    assert dropped["ActionGeo_Lat/ActionGeo_Long (country centroid)"] == 1
    assert "MonthYear" not in dropped and "EventBaseCode" not in dropped  # they restate SQLDATE and EventCode
    # the second report of the same BBC story is merged into the first (tests/incidents/test_merges.py)
    assert nonzero(answer["created"]) == {"actor": 7, "source": 3, "incident": 3}
    assert nonzero(answer["merged"]) == {"incident": 1}

    found = incidents(client)
    assert set(found) == {"gdelt:737221001", "gdelt:737221003", "gdelt:737221009"}
    first = found["gdelt:737221001"]
    assert first["kind"] == "expulsion" and first["occurred_on"] == "2018-03-17"
    # the second row of the story (Russia → the UK's government) is merged in: Russia's government and Russia
    # are one side, as are the UK and its government (an actor's bodies count as the actor they belong to)
    assert [a["slug"] for a in first["initiators"]] == ["russia-government", "russia"]
    government = client.get("/v1/actors/cameo:RUSGOV").json()
    assert (government["kind"], government["affiliation"]["id"], government["country_code"]) == (
        "body",
        russia["id"],
        "RUS",
    )
    assert [a["slug"] for a in first["targets"]] == ["united-kingdom", "united-kingdom-government"]
    assert (first["latitude"], first["longitude"], first["location"]) == (55.7522, 37.6156, "Moscow, Moskva, Russia")
    assert first["title"] == "Government of Russia → United Kingdom: Expel or withdraw (CAMEO 166)"
    assert first["tags"] == ["gdelt", "cameo-166"]
    # the second report of the same BBC story cites the same source: one source record
    bbc = "https://www.bbc.co.uk/news/world-europe-43401311"
    assert [s["url"] for s in first["sources"]] == [bbc]
    sources = {s["url"]: s for s in client.get("/v1/sources").json()["data"]}
    source = sources[bbc]
    assert (source["title"], source["publisher"], source["kind"]) == ("www.bbc.co.uk", "www.bbc.co.uk", "news")
    centroid = found["gdelt:737221003"]
    assert centroid["kind"] == "relations_downgraded"
    assert (centroid["latitude"], centroid["longitude"], centroid["location"]) == (None, None, "United States")
    threat = found["gdelt:737221009"]
    assert threat["kind"] == "relations_threatened" and threat["targets"][0]["slug"] == "lithuania"
    lithuania = client.get("/v1/actors/lithuania").json()
    assert (lithuania["kind"], lithuania["country_code"], lithuania["external_ref"]) == ("state", "LTU", "iso3:LTU")

    again = imported(client, "gdelt", "gdelt.export.CSV")
    assert nonzero(again["created"]) == {} and nonzero(again["updated"]) == {}
    assert nonzero(again["unchanged"]) == {"incident": 4} and nonzero(again["merged"]) == {}
    assert again["conversion"]["actors_created"] == []


def test_gdelt_zipped_and_with_a_header_read_the_same_columns(client):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(EVENTDATA / "gdelt.export.CSV", "20180317120000.export.CSV")
    response = convert(client, "gdelt", "20180317120000.export.CSV.zip", archive.getvalue())
    assert response.status_code == 200, response.text
    assert response.json()["conversion"]["kept"] == 4

    header = imported(client, "gdelt", "gdelt-with-header.csv")["conversion"]
    assert (header["rows"], header["kept"], header["skipped"]) == (2, 1, {"out_of_scope": {"036": 1}})
    assert incidents(client)["gdelt:1100000001"]["kind"] == "expulsion"


def test_icews_events_map_country_names_and_restore_lost_leading_zeros(client):
    answer = imported(client, "icews", "icews.tab")
    report = answer["conversion"]
    assert (report["rows"], report["kept"]) == (8, 4)
    assert report["skipped"] == {
        "bad_date": {"166": 1},
        "no_target": {"161": 1},
        "out_of_scope": {"042": 1},
        "unmapped_actor": {"166": 1},
    }
    assert report["unmapped_actors"] == {"Atlantis": 1}
    # no URL: an ICEWS story is cited by its publisher and story id, its numbers kept with it
    for field in ("Publisher", "Story ID", "Sentence Number", "Intensity"):
        assert field not in report["dropped"], field
    assert "Source Sectors" not in report["dropped"]  # Government: the country's government, an actor
    assert report["dropped"]["Latitude/Longitude (country centroid)"] == 1
    found = incidents(client)
    # the same expulsion from two publishers a day apart is one incident (tests/incidents/test_merges.py)
    assert "icews:29811002" not in found and found["icews:29811001"]["kind"] == "expulsion"
    assert found["icews:29811001"]["location"] == "Prague, Hlavni mesto Praha, Czech Republic"
    assert found["icews:29811003"]["latitude"] is None
    restored = found["icews:29811004"]
    assert restored["kind"] == "relations_restored" and restored["tags"] == ["icews", "cameo-054"]
    assert [a["slug"] for a in restored["initiators"]] == ["cuba-government"]
    # the second publisher's row (Czechia, no sector) is merged into the first (Czechia's government): one side
    assert [a["slug"] for a in found["icews:29811001"]["initiators"]] == ["czechia-government", "czechia"]
    government = client.get("/v1/actors/cameo:CUBGOV").json()
    assert (government["kind"], government["affiliation"]["slug"]) == ("body", "cuba")


def test_acled_keeps_interstate_strategic_developments_as_other(client):
    answer = imported(client, "acled", "acled.csv")
    report = answer["conversion"]
    assert (report["rows"], report["kept"]) == (6, 2)
    assert report["skipped"] == {
        "bad_date": {"Strategic developments/Other": 1},
        "no_target": {"Strategic developments/Other": 1},
        "out_of_scope": {"Battles/Armed clash": 1},
        "unmapped_actor": {"Strategic developments/Other": 1},
    }
    assert report["unmapped_actors"] == {"Unidentified Armed Group (Ukraine)": 1}
    assert report["dropped"]["latitude/longitude (country centroid)"] == 1
    for field in ("source", "fatalities", "source_scale", "time_precision (week, widened to month)"):
        assert field not in report["dropped"], field
    found = incidents(client)
    kyiv = found["acled:UKR56001"]
    assert kyiv["kind"] == "other" and kyiv["summary"].startswith("On 24 February 2022")
    # no state actor of Russia was stored: one is made, named as ISO names it
    assert [a["slug"] for a in kyiv["initiators"]] == ["russian-federation"]
    assert kyiv["targets"][0]["slug"] == "ukraine"
    assert kyiv["title"] == "Russian Federation → Ukraine: Other (ACLED strategic development)"
    week = found["acled:POL2201"]
    assert (week["occurred_on"], week["date_precision"], week["latitude"]) == ("2022-03-18", "week", None)


def test_plover_records_map_event_and_mode(client):
    answer = imported(client, "plover", "plover.jsonl")
    report = answer["conversion"]
    assert (report["rows"], report["kept"]) == (11, 3)
    assert report["skipped"] == {
        "bad_date": {"SANCTION/expel": 1},
        "bad_row": {"-": 1},
        "duplicate": {"SANCTION/expel": 1},
        "no_mode": {"SANCTION": 1},
        "no_target": {"SANCTION/expel": 1},
        "out_of_scope": {"ASSAULT/aerial": 1, "COERCE/restrict": 1},
        "unmapped_actor": {"SANCTION/withdraw": 1},
    }
    assert report["unmapped_actors"] == {"IGO": 1}
    dropped = report["dropped"]
    assert "quad_code" not in dropped and "event_scale" not in dropped and dropped["event_text"] == 1
    assert dropped["actor.sector"] == 2 and dropped["recipient.sector"] == 1 and dropped["actor.entity_text"] == 1
    assert dropped["event_loc.geonameid"] == 1 and dropped["cite_info.language"] == 1
    assert dropped["lat/lon (country centroid)"] == 1
    found = incidents(client)
    france = found["plover:POLECAT-2022-0001"]
    assert france["kind"] == "expulsion" and france["summary"].startswith("France said")
    assert france["sources"][0]["title"] == "France expels 35 Russian diplomats"
    assert (france["latitude"], france["location"]) == (48.85341, "Paris")
    assert found["plover:POLECAT-2022-0002"]["kind"] == "relations_threatened"
    japan = found["plover:GSR-LIKE-0004"]  # CAMEO's JAP is Japan
    assert japan["kind"] == "relations_downgraded" and japan["initiators"][0]["slug"] == "japan"


def test_a_dry_run_writes_nothing_and_reports_the_same(client):
    answer = imported(client, "plover", "plover.jsonl", dry_run="true")
    assert answer["dry_run"] is True and answer["conversion"]["kept"] == 3
    assert nonzero(answer["created"])["incident"] == 3
    assert incidents(client) == {}


@pytest.mark.parametrize(
    ("format_", "body", "message"),
    [
        ("icews", b"no header\there\n", "header"),
        ("acled", b"a,b\n1,2\n", "header"),
        ("gdelt", b"PK\x03\x04garbage", "zip"),
        ("plover", b"", "empty"),
    ],
)
def test_a_file_that_is_not_of_the_format_is_refused(client, format_, body, message):
    response = convert(client, format_, "x", body)
    assert response.status_code == 422
    assert message in response.json()["errors"][0]["msg"]


def test_a_zip_member_that_breaks_off_is_refused_and_nothing_written(client):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("export.CSV", (EVENTDATA / "gdelt.export.CSV").read_bytes() * 50)
    broken = bytearray(archive.getvalue())
    middle = len(broken) // 2
    broken[middle : middle + 64] = bytes(64)  # the deflated stream, damaged
    response = convert(client, "gdelt", "x.zip", bytes(broken))
    assert response.status_code == 422, response.text
    assert "cannot be read" in response.json()["errors"][0]["msg"]
    assert incidents(client) == {}


def test_garbage_rows_are_counted_not_fatal(client):
    answer = imported(client, "gdelt", "x", body=b"\x00\x01\x02\nnot\ta\tgdelt\trow\n")
    assert answer["conversion"]["rows"] == 2 and answer["conversion"]["skipped"] == {"bad_row": {"-": 2}}


@pytest.mark.parametrize("media_type", ["application/x-ndjson", "application/json"])
def test_a_nul_in_a_body_sent_as_text_is_refused(client, media_type):
    """The API describes NDJSON and JSON bodies as text, which holds no NUL; sent as a file
    (TSV, CSV, zip, bytes), a row holding one is a bad row, counted (above)."""
    body = (EVENTDATA / "plover.jsonl").read_bytes() + b'{"id": "x\x00"}\n'
    answer = client.post("/v1/import", params={"from": "plover"}, content=body, headers={"Content-Type": media_type})
    assert answer.status_code == 422, answer.text
    assert "NUL" in answer.json()["errors"][0]["msg"]
    assert incidents(client) == {}


def test_converted_bodies_take_file_media_types_and_ignore_type(client):
    body = (EVENTDATA / "plover.jsonl").read_bytes()
    refused = client.post("/v1/import", params={"from": "plover"}, content=body, headers={"Content-Type": "image/png"})
    assert refused.status_code == 415
    both = client.post(
        "/v1/import",
        params={"from": "plover", "type": "incident"},
        content=body,
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert both.status_code == 200 and both.json()["conversion"]["kept"] == 3  # `type` is ignored with `from`
    unknown = client.post("/v1/import", params={"from": "cameo"}, content=body, headers={"Content-Type": "text/csv"})
    assert unknown.status_code == 422


def test_lists_filter_by_cameo_and_plover(client):
    imported(client, "gdelt", "gdelt.export.CSV")
    assert set(incidents(client, cameo="166")) == {"gdelt:737221001"}  # 737221002 merged into it
    assert set(incidents(client, cameo="16")) == {"gdelt:737221001", "gdelt:737221003"}
    assert set(incidents(client, cameo="1313")) == {"gdelt:737221009"}
    assert set(incidents(client, plover="THREATEN")) == {"gdelt:737221009"}
    assert len(incidents(client, plover="SANCTION")) == 2
    assert incidents(client, cameo="999") == {}
    assert client.get("/v1/incidents", params={"cameo": "1x"}).status_code == 422
    assert client.get("/v1/incidents", params={"plover": "sanction"}).status_code == 422


def test_the_command_converts_files_of_each_format(client, database_url):
    from tests.ingest.test_cli import demarche

    files = [str(EVENTDATA / name) for name in ("gdelt.export.CSV", "gdelt-with-header.csv")]
    out = demarche(database_url, "import", "--from", "gdelt", *files)
    assert out.returncode == 0, out.stderr
    assert "gdelt.export.CSV: read 13 rows, kept 4, skipped 9\n" in out.stdout
    assert "  skipped out_of_scope: 042 ×1, 999 ×1\n" in out.stdout
    assert "  actors naming no country: IGOUNO ×1\n" in out.stdout
    assert "gdelt-with-header.csv: read 2 rows, kept 1, skipped 1\n" in out.stdout
    # the reports of one event are merged: GDELT's two rows of one story, ICEWS's two publishers; the
    # states of the rows and the bodies of their CAMEO roles (RUSGOV…) are made
    assert "created 9 actor, 3 source, 3 incident; updated 0; unchanged 0; merged 1 incident\n" in out.stdout
    for format_, name, kept, created in (
        ("icews", "icews.tab", 4, 3),
        ("acled", "acled.csv", 2, 2),
        ("plover", "plover.jsonl", 3, 3),
    ):
        out = demarche(database_url, "import", "--from", format_, str(EVENTDATA / name))
        assert out.returncode == 0, out.stderr
        assert f"{name}: read " in out.stdout and f"kept {kept}," in out.stdout
        assert out.stdout.splitlines()[-1].startswith("created ") and f" {created} incident;" in out.stdout
        assert ("merged 1 incident" in out.stdout) == (kept != created)
    assert len(incidents(client)) == 3 + 1 + 3 + 2 + 3

    wrong = demarche(database_url, "import", "--from", "icews", str(EVENTDATA / "acled.csv"))
    assert wrong.returncode == 1 and "header" in wrong.stderr
