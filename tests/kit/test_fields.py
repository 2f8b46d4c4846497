"""``fields=`` on lists, single reads and exports, and ``count=true`` on lists."""

import csv
import io

import orjson
import pytest

from app.access.models import KeyScope
from tests.conftest import COLLECTIONS, keyed_client, make
from tests.ingest.test_cli import DEMO, demarche

PLURALS = list(COLLECTIONS.values())
WITHDRAWAL = "eln:2021-10:nato-accreditation-withdrawal"


def unknown_field(response, *names):
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["type"] == "/problems/unknown-field"
    for name in names:
        assert f"`{name}`" in problem["detail"] if name else "an empty name" in problem["detail"]
    assert "`title`" in problem["detail"] or "`name`" in problem["detail"] or "`url`" in problem["detail"]
    return problem


def test_a_list_answers_the_named_fields_in_the_records_order(reader, october_2021):
    whole = reader.get("/v1/incidents", params={"limit": 3}).json()["data"]
    picked = reader.get("/v1/incidents", params={"limit": 3, "fields": "title,id,occurred_on"})
    assert picked.status_code == 200, picked.text
    data = picked.json()["data"]
    # the keys come in the record's order (the answer's), not the order asked
    order = [key for key in whole[0] if key in ("id", "title", "occurred_on")]
    assert order == ["id", "title", "occurred_on"]
    assert [list(record) for record in data] == [order] * 3
    assert data == [{k: r[k] for k in order} for r in whole]


@pytest.mark.parametrize("collection", PLURALS)
def test_every_collection_selects_fields_on_its_list_and_its_reads(reader, october_2021, collection):
    whole = reader.get(f"/v1/{collection}", params={"limit": 2}).json()["data"]
    fields = ["id", "version"]
    listed = reader.get(f"/v1/{collection}", params={"limit": 2, "fields": "version,id"}).json()["data"]
    assert listed == [{k: r[k] for k in fields} for r in whole]
    one = reader.get(f"/v1/{collection}/{whole[0]['id']}", params={"fields": "id,version"})
    assert one.status_code == 200, one.text
    assert one.json() == {k: whole[0][k] for k in fields}
    unknown_field(reader.get(f"/v1/{collection}", params={"fields": "id,colour"}), "colour")
    unknown_field(reader.get(f"/v1/{collection}/{whole[0]['id']}", params={"fields": "colour"}), "colour")


def test_an_unknown_field_is_400_listing_the_valid_ones(reader, october_2021):
    problem = unknown_field(reader.get("/v1/incidents?fields=title,country,knd"), "country", "knd")
    assert problem["accepted"][:5] == ["id", "created_at", "updated_at", "version", "kind"]
    assert "initiators" in problem["accepted"] and "country" not in problem["accepted"]
    assert [e["loc"] for e in problem["errors"]] == [["query", "fields"], ["query", "fields"]]
    unknown_field(reader.get("/v1/incidents?fields="), "")
    unknown_field(reader.get("/v1/incidents?fields=title,"), "")


def test_fields_keep_to_cursor_paging(reader, october_2021):
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "fields": "title"} | ({"cursor": cursor} if cursor else {})
        answer = reader.get("/v1/incidents", params=params)
        assert answer.status_code == 200, answer.text
        seen += answer.json()["data"]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
        assert "fields=title" in answer.headers["Link"]
    everything = reader.get("/v1/incidents", params={"limit": 500}).json()["data"]
    assert seen == [{"title": i["title"]} for i in everything]
    # the fields do not change which rows a list holds: a cursor walks on without them
    first = reader.get("/v1/incidents", params={"limit": 2, "fields": "id"}).json()
    rest = reader.get("/v1/incidents", params={"limit": 500, "cursor": first["next_cursor"]})
    assert rest.status_code == 200
    assert [i["id"] for i in first["data"] + rest.json()["data"]] == [i["id"] for i in everything]


def test_a_selected_answer_has_an_etag_of_its_own(reader, october_2021):
    incident = october_2021[WITHDRAWAL]
    whole = reader.get(f"/v1/incidents/{incident['id']}")
    picked = reader.get(f"/v1/incidents/{incident['id']}", params={"fields": "title"})
    other = reader.get(f"/v1/incidents/{incident['id']}", params={"fields": "title,summary"})
    tags = {whole.headers["etag"], picked.headers["etag"], other.headers["etag"]}
    assert len(tags) == 3
    assert whole.headers["etag"] == f'"{incident["version"]}"'
    again = reader.get(
        f"/v1/incidents/{incident['id']}", params={"fields": "title"}, headers={"If-None-Match": picked.headers["etag"]}
    )
    assert again.status_code == 304
    # the whole record's tag does not stand for the selection, nor the selection's for the whole
    stale = reader.get(
        f"/v1/incidents/{incident['id']}", params={"fields": "title"}, headers={"If-None-Match": whole.headers["etag"]}
    )
    assert stale.status_code == 200 and stale.json() == {"title": incident["title"]}
    full = reader.get(f"/v1/incidents/{incident['id']}", headers={"If-None-Match": picked.headers["etag"]})
    assert full.status_code == 200 and full.json()["id"] == incident["id"]
    # a write's If-Match still takes the selection's tag: it names the same version
    channel = reader.get("/v1/channels", params={"limit": 1}).json()["data"][0]
    tagged = reader.get(f"/v1/channels/{channel['id']}", params={"fields": "name"})
    assert tagged.headers["etag"].startswith(f'"{channel["version"]}.') and tagged.json() == {"name": channel["name"]}
    assert tagged.headers["etag"] != reader.get(f"/v1/channels/{channel['id']}").headers["etag"]


def test_exports_select_fields_in_every_format(reader, october_2021):
    whole = reader.get("/v1/incidents", params={"limit": 500}).json()["data"]
    ndjson = reader.get("/v1/incidents", params={"format": "ndjson", "fields": "title,id"})
    assert ndjson.status_code == 200
    assert [orjson.loads(line) for line in ndjson.text.splitlines()] == [
        {"id": i["id"], "title": i["title"]} for i in whole
    ]
    text = reader.get("/v1/incidents", params={"format": "csv", "fields": "title,occurred_on,kind"}).text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["kind", "title", "occurred_on"]
    assert rows[1:] == [[i["kind"], i["title"], i["occurred_on"]] for i in whole]
    geojson = reader.get("/v1/incidents", params={"format": "geojson", "fields": "title"}).json()
    assert {tuple(f["properties"]) for f in geojson["features"]} <= {("title",)}
    unknown_field(reader.get("/v1/incidents", params={"format": "csv", "fields": "colour"}), "colour")


def test_the_command_line_exports_the_named_fields(client, database_url, tmp_path):
    assert demarche(database_url, "import", str(DEMO)).returncode == 0
    out = demarche(database_url, "export", "incidents", "--fields", "title,id", "--filter", "kind=office_closure")
    assert out.returncode == 0, out.stderr
    [line] = out.stdout.splitlines()
    assert list(orjson.loads(line)) == ["id", "title"]
    output = tmp_path / "out.csv"
    bad = demarche(database_url, "export", "incidents", "--fields", "title,colour", "--output", str(output))
    assert bad.returncode == 1 and not output.exists()
    assert "--fields: incidents have no field 'colour'" in bad.stderr and "initiators" in bad.stderr


def test_count_adds_the_total_of_the_filtered_list(reader, october_2021):
    plain = reader.get("/v1/incidents", params={"limit": 2}).json()
    assert "total" not in plain
    everything = reader.get("/v1/incidents", params={"limit": 500}).json()["data"]
    counted = reader.get("/v1/incidents", params={"limit": 2, "count": "true"}).json()
    assert counted["total"] == len(everything) and len(counted["data"]) == 2
    # the same on the next page, whatever the cursor
    following = reader.get("/v1/incidents", params={"limit": 2, "count": "true", "cursor": counted["next_cursor"]})
    assert following.status_code == 200 and following.json()["total"] == len(everything)
    # with filters, and with a bound on the sort column
    by_russia = reader.get("/v1/incidents", params={"initiator": "russia", "count": "true", "limit": 1}).json()
    initiated = [i for i in everything if "russia" in [a["slug"] for a in i["initiators"]]]
    assert by_russia["total"] == len(initiated) > 1
    dated = reader.get("/v1/incidents", params={"from": "2021-10-18", "to": "2021-10-18", "count": "true"}).json()
    on_the_day = [i for i in everything if i["occurred_on"] == "2021-10-18"]
    in_the_month = [i for i in everything if i["date_precision"] == "month" and i["occurred_on"][:7] == "2021-10"]
    assert dated["total"] == len(on_the_day) + len(in_the_month) == 3 + 2  # a month's date counts for its month
    searched = reader.get("/v1/incidents", params={"q": "mission", "count": "true", "limit": 1}).json()
    assert searched["total"] == len(reader.get("/v1/incidents", params={"q": "mission", "limit": 500}).json()["data"])
    nothing = reader.get("/v1/incidents", params={"kind": "expulsion", "count": "true"}).json()
    assert nothing == {"data": [], "next_cursor": None, "total": 0}
    assert reader.get("/v1/incidents", params={"count": "false"}).json().keys() == {"data", "next_cursor"}
    actors = reader.get("/v1/actors", params={"kind": "state", "count": "true", "limit": 1}).json()
    assert actors["total"] == len(reader.get("/v1/actors", params={"kind": "state", "limit": 500}).json()["data"])


@pytest.mark.parametrize("collection", ["incidents", "exercises"])
def test_count_counts_what_the_key_may_see(app, writer, october_2021, collection):
    fields = (
        {
            "kind": "expulsion",
            "title": "Draft",
            "occurred_on": "2021-10-07",
            "initiators": ["nato"],
            "targets": ["russia"],
        }
        if collection == "incidents"
        else {"name": "Draft", "start_date": "2021-10-07", "participants": [{"actor": "russia", "role": "lead"}]}
    )
    make(writer, collection, status="draft", **fields)
    with keyed_client(app, KeyScope.read) as reader:
        seen = reader.get(f"/v1/{collection}", params={"limit": 500, "count": "true"}).json()
        assert seen["total"] == len(seen["data"]) and "draft" not in {r["status"] for r in seen["data"]}
    everything = writer.get(f"/v1/{collection}", params={"limit": 500, "count": "true"}).json()
    assert everything["total"] == len(everything["data"]) == seen["total"] + 1


def test_the_page_model_documents_total_as_optional(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    page = schemas["Page_IncidentPublic_"]
    assert "total" in page["properties"] and "total" not in page["required"]
    assert "count" in page["properties"]["total"]["description"]
    parameters = client.get("/openapi.json").json()["paths"]["/v1/incidents"]["get"]["parameters"]
    described = {p["name"]: p for p in parameters}
    assert "one more statement" in described["count"]["description"]
    assert "title" in described["fields"]["schema"]["anyOf"][0]["pattern"]
