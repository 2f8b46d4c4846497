"""Honest bulk tools: exports that import back unchanged (NDJSON, JSON, CSV), CSV that names
references by their natural keys, replays reported as replays, and an unchanged re-import
that writes nothing."""

import asyncio
import csv
import io
from importlib.resources import files
from pathlib import Path

import httpx
import pytest
from demarche_client import AsyncClient, Client
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import IMPORT_ACTORS, import_incident, make, ndjson, new_key
from tests.live import serve
from tests.test_statement_budgets import statements

DEMO = Path(str(files("app.seed").joinpath("demo.ndjson")))
COLLECTIONS = ["actors", "sources", "incidents", "exercises", "channels"]
UPKEEP = ("SET LOCAL", "ANALYZE", "SELECT relname FROM pg_stat_user_tables")
"""Statements of PostgreSQL's upkeep (a write's untimed transaction, the statistics of the
tables a commit left stale, app.db._analyze_stale), which grow with the tables, not the request."""
NONE = {"actor": 0, "source": 0, "incident": 0, "exercise": 0, "channel": 0, "channel_status": 0}


@pytest.fixture
def demo(client):
    """The demo data, and records without a natural key (an id is all that names them)."""
    response = client.post("/v1/import", content=DEMO.read_bytes(), headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    source = client.get("/v1/sources").json()["data"][0]
    make(
        client,
        "incidents",
        kind="expulsion",
        title="No natural key",
        occurred_on="2021-10-07",
        initiators=["nato"],
        targets=["russia", "belarus"],
        responds_to=["eln:2021-10-18:russia-suspends-mission"],
        sources=[source["url"]],
        tags=["a", "b"],
    )
    make(
        client,
        "exercises",
        name="Keyless",
        start_date="2021-09-01",
        participants=[{"actor": "russia", "role": "lead"}, {"actor": "belarus"}],
        sources=[source["id"]],
    )
    make(client, "channels", name="Keyless line", kind="hotline", parties=["nato", "russia"], host="russia")
    return {c: client.get(f"/v1/{c}", params={"limit": 500}).json()["data"] for c in COLLECTIONS}


def _everything(client):
    return {c: client.get(f"/v1/{c}", params={"limit": 500}).json()["data"] for c in COLLECTIONS}


def _unchanged(type_: str, n: int) -> dict:
    return {
        "created": NONE,
        "updated": NONE,
        "unchanged": {**NONE, type_: n},
        "retracted": NONE,
        "merged": NONE,
        "dry_run": False,
    }


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_an_ndjson_export_imports_back_unchanged(client, demo, collection):
    type_ = collection.removesuffix("s")
    exported = client.get(f"/v1/{collection}", params={"format": "ndjson"}).content
    answer = client.post(
        "/v1/import", params={"type": type_}, content=exported, headers={"Content-Type": "application/x-ndjson"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == _unchanged(type_, len(demo[collection]))
    assert _everything(client) == demo  # no version, no timestamp moved


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_the_records_of_a_json_page_import_back_unchanged(client, demo, collection):
    type_ = collection.removesuffix("s")
    lines = [{"type": type_, **record} for record in demo[collection]]
    answer = client.post("/v1/import", json=lines)
    assert answer.status_code == 200, answer.text
    assert answer.json() == _unchanged(type_, len(demo[collection]))
    assert _everything(client) == demo


def test_an_exported_line_edited_updates_the_record_its_id_names(client, demo):
    keyless = next(i for i in demo["incidents"] if i["external_ref"] is None)
    edited = {**keyless, "title": "Edited", "targets": [keyless["targets"][0]], "version": 99}
    answer = client.post("/v1/import", params={"type": "incident"}, json=[edited]).json()
    assert answer["updated"]["incident"] == 1
    stored = client.get(f"/v1/incidents/{keyless['id']}").json()
    assert (stored["title"], stored["version"], [t["slug"] for t in stored["targets"]]) == ("Edited", 2, ["russia"])
    assert len(client.get("/v1/incidents", params={"limit": 500}).json()["data"]) == len(demo["incidents"])

    # an id no record has is ignored: the line is matched by its natural key, or created
    unknown = {**keyless, "id": "0192b1c4-8f8e-7c3a-9a51-000000000000", "title": "Another"}
    assert client.post("/v1/import", params={"type": "incident"}, json=[unknown]).json()["created"]["incident"] == 1


def test_one_id_named_twice_in_an_import_is_a_bad_line(client, demo):
    incident = demo["incidents"][0]
    answer = client.post("/v1/import", params={"type": "incident"}, json=[incident, {**incident, "external_ref": None}])
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["line"] == 2
    assert answer.json()["errors"][0]["errors"][0]["loc"] == ["id"]


def test_csv_names_references_by_their_natural_keys(client, demo):
    def rows(collection):
        text = client.get(f"/v1/{collection}", params={"format": "csv"}).text
        return {row.get("external_ref") or row["id"]: row for row in csv.DictReader(io.StringIO(text))}

    url = demo["sources"][0]["url"]
    incidents = rows("incidents")
    closes = incidents["eln:2021-10-18:russia-closes-information-office"]
    assert closes["sources"] == url
    refs = {i["id"]: i["external_ref"] for i in demo["incidents"]}
    answered = next(i for i in demo["incidents"] if i["id"] == closes["id"])["responds_to"]
    assert answered and closes["responds_to"].split(";") == [refs[i["id"]] for i in answered]
    assert closes["initiators"] == "russia;sergey-lavrov"
    keyless = next(r for r in incidents.values() if r["title"] == "No natural key")
    assert keyless["responds_to"] == "eln:2021-10-18:russia-suspends-mission"
    assert keyless["sources"] == url
    assert keyless["targets"] == "russia;belarus"
    exercise = next(r for r in rows("exercises").values() if r["name"] == "Keyless")
    assert (exercise["sources"], exercise["participants"]) == (url, "russia:lead;belarus:participant")
    channel = next(r for r in rows("channels").values() if r["name"] == "Keyless line")
    assert (channel["parties"], channel["host"]) == ("nato;russia", "russia")
    for row in [*incidents.values(), *rows("exercises").values(), *rows("channels").values()]:
        for column in ("sources", "responds_to", "initiators", "targets", "parties", "host"):
            for value in filter(None, (row.get(column) or "").split(";")):
                assert value not in {r["id"] for c in COLLECTIONS for r in demo[c]}, (column, value)


def test_an_unchanged_import_writes_nothing_and_costs_a_bounded_number_of_statements(app, client, nato_russia):
    first = [import_incident(n, external_ref=f"b:{n}", tags=["x"]) for n in range(300)]
    body = ndjson(first)
    created = client.post("/v1/import", content=body, headers={"Content-Type": "application/x-ndjson"})
    assert created.json()["created"]["incident"] == 300
    before = client.get("/v1/incidents", params={"limit": 500}).json()["data"]
    with statements(app.state.engine) as seen:
        again = client.post("/v1/import", content=body, headers={"Content-Type": "application/x-ndjson"})
    assert again.json()["unchanged"]["incident"] == 300
    writes = [s for s in seen if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "SAVEPOINT"))]
    # the key's bookkeeping (idempotency, key use) only; nothing of the incidents
    assert not [s for s in writes if "incident" in s.lower() or "involvement" in s.lower()], writes
    assert len(seen) <= 10, seen  # a handful for the lot (a dozen each before)
    assert client.get("/v1/incidents", params={"limit": 500}).json()["data"] == before

    # one changed among them: that one is written, the rest still compared together
    first[150]["title"] = "Changed"
    with statements(app.state.engine) as seen:
        changed = client.post("/v1/import", content=ndjson(first), headers={"Content-Type": "application/x-ndjson"})
    assert (changed.json()["updated"]["incident"], changed.json()["unchanged"]["incident"]) == (1, 299)
    assert len(seen) <= 40, seen


@pytest.mark.parametrize("count", [30, 300])
def test_a_re_import_that_changes_every_incident_writes_them_together(app, client, nato_russia, count):
    """Changed lines are written as new ones are, together: the statements do not grow with
    their number (a dozen for each line before), and each record, its links and its answer
    come out as a create or a PATCH would leave them."""
    first = [import_incident(n, external_ref=f"w:{n}", tags=["x"]) for n in range(count)]
    assert client.post("/v1/import", json=first).json()["created"]["incident"] == count
    changed = [
        {**line, "title": f"Changed {n}", "targets": ["russia", "china"], "responds_to": [] if n == 0 else ["w:0"]}
        for n, line in enumerate(first)
    ]
    with statements(app.state.engine) as seen:
        answer = client.post("/v1/import", json=changed)
    assert (answer.json()["updated"]["incident"], answer.json()["unchanged"]["incident"]) == (count, 0)
    work = [s for s in seen if not s.startswith(UPKEEP)]
    assert len(work) <= 27, work  # 25 on SQLite, 27 on PostgreSQL, for 30 lines or 300
    records = client.get("/v1/incidents", params={"limit": 500, "q": "Changed"}).json()["data"]
    assert len(records) == count
    for record in records:
        assert (record["version"], [t["slug"] for t in record["targets"]]) == (2, ["russia", "china"])
        assert [r["title"] for r in record["responds_to"]] == ([] if record["title"] == "Changed 0" else ["Changed 0"])
    # the same lines again change nothing
    assert client.post("/v1/import", json=changed).json()["unchanged"]["incident"] == count


def test_an_incident_renamed_by_an_earlier_line_is_compared_under_its_new_key(client, nato_russia):
    lines = [import_incident(1, external_ref="r:1"), import_incident(2, external_ref="r:2", responds_to=["r:1"])]
    assert client.post("/v1/import", json=lines).json()["created"]["incident"] == 2
    one = client.get("/v1/incidents", params={"q": "Expulsion 1"}).json()["data"][0]
    renamed = [{**lines[0], "id": one["id"], "external_ref": "r:1b"}, lines[1]]
    answer = client.post("/v1/import", json=renamed)
    assert answer.status_code == 422  # r:1 is no longer a key: the second line names an unknown incident
    assert answer.json()["errors"][0]["line"] == 2
    fixed = [renamed[0], {**lines[1], "responds_to": ["r:1b"]}]
    assert client.post("/v1/import", json=fixed).json()["updated"]["incident"] == 1


# the command line, against a served app


@pytest.fixture
def served(app, client, database_url, tmp_path):
    with serve(database_url, tmp_path / "server.log", env={"DEMARCHE_RATE_LIMIT": "1000000/minute"}) as server:
        yield server.url, new_key(app, "write")


def run(served, *args: str):
    url, key = served
    result = CliRunner().invoke(cli, [*args, "--url", url, "--key", key])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_each_export_imports_back_unchanged_through_the_command(served, demo, client, tmp_path, fmt):
    for collection in COLLECTIONS:
        file = tmp_path / f"{collection}.{fmt}"
        run(served, "export", collection, "--format", fmt, "--output", str(file))
        out = run(served, "import", str(file), "--type", collection.removesuffix("s"))
        n = len(demo[collection])
        assert out.stdout.strip() == f"created 0; updated 0; unchanged {n} {collection.removesuffix('s')}"
    assert _everything(client) == demo


def test_a_json_page_imports_back_unchanged_through_the_command(served, demo, client, tmp_path):
    file = tmp_path / "page.json"
    file.write_bytes(client.get("/v1/exercises", params={"limit": 500}).content)
    out = run(served, "import", str(file), "--type", "exercise")
    assert out.stdout.strip() == f"created 0; updated 0; unchanged {len(demo['exercises'])} exercise"


def test_a_rerun_reports_its_replays_and_fresh_compares_again(served, client, tmp_path):
    file = tmp_path / "records.ndjson"
    file.write_bytes(ndjson(IMPORT_ACTORS + [import_incident(n, external_ref=f"f:{n}") for n in range(5)]))
    first = run(served, "import", str(file), "--batch-size", "3")
    assert first.stdout.strip() == "created 2 actor, 5 incident; updated 0; unchanged 0"
    assert "replayed" not in first.output

    incident = client.get("/v1/incidents", params={"q": "Expulsion 3"}).json()["data"][0]
    client.patch(
        f"/v1/incidents/{incident['id']}",
        json={"title": "Edited since"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    again = run(served, "import", str(file), "--batch-size", "3")
    assert again.stdout.splitlines() == [
        "created 0; updated 0; unchanged 0",
        "replayed 3 of 3 batches from an earlier run, nothing written (that run reported created 2 actor, "
        "5 incident; updated 0; unchanged 0); rerun with --fresh to compare them with what is stored",
    ]
    for n in (1, 2, 3):
        assert f"batch {n} of 3 replayed from an earlier run; nothing written" in again.stderr
    assert client.get(f"/v1/incidents/{incident['id']}").json()["title"] == "Edited since"

    fresh = run(served, "import", str(file), "--batch-size", "3", "--fresh")
    assert fresh.stdout.strip() == "created 0; updated 1 incident; unchanged 2 actor, 4 incident"
    assert "replayed" not in fresh.output
    assert client.get(f"/v1/incidents/{incident['id']}").json()["title"] == "Expulsion 3"


def test_the_client_says_which_batches_were_replayed(client, nato_russia):
    with Client(str(client.base_url), transport=client._transport) as api:
        api.http.headers.update(client.headers)
        records = [import_incident(n, external_ref=f"c:{n}") for n in range(5)]
        seen = []
        first = api.import_records(records, batch_size=2, job="job")
        assert (first.batches, first.replayed) == (3, [])
        again = api.import_records(records, batch_size=2, job="job", on_replay=seen.append)
        assert (again.batches, again.replayed, seen) == (3, [1, 2, 3], [1, 2, 3])
        assert again == first  # what the batches did when they ran
        assert again.replayed_counts["created"]["incident"] == 5
        assert again.written["created"]["incident"] == 0
        other = api.import_records(records, batch_size=2, job="another")
        assert other.replayed == [] and other.written["unchanged"]["incident"] == 5


def test_the_export_line_shapes_are_read_as_references(client, demo):
    """A reference object, a participant object and a plain reference mix in one line."""
    exercise = next(e for e in demo["exercises"] if e["name"] == "Keyless")
    line = {
        **exercise,
        "participants": [exercise["participants"][0], {"actor": "belarus", "role": "participant"}],
        "sources": [s["url"] for s in exercise["sources"]],
    }
    answer = client.post("/v1/import", params={"type": "exercise"}, json=[line])
    assert answer.json()["unchanged"]["exercise"] == 1


def test_a_dry_run_then_the_import_of_the_same_records(client, nato_russia):
    with Client(str(client.base_url), transport=client._transport) as api:
        api.http.headers.update(client.headers)
        records = [import_incident(n, external_ref=f"d:{n}") for n in range(3)]
        checked = api.import_records(records, dry_run=True, job="job")
        done = api.import_records(records, job="job")
        assert checked["created"]["incident"] == done["created"]["incident"] == 3
        assert done.replayed == []
        assert api.import_records(records, dry_run=True, job="job").replayed == [1]


def test_an_export_without_a_type_is_told_how_to_name_it(client, demo):
    exported = client.get("/v1/sources", params={"format": "ndjson"}).content
    answer = client.post("/v1/import", content=exported, headers={"Content-Type": "application/x-ndjson"})
    assert answer.status_code == 422
    assert "`type` parameter" in answer.json()["errors"][0]["errors"][0]["msg"]


def test_the_async_client_says_which_batches_were_replayed(client, nato_russia):
    async def run():
        async with AsyncClient("http://testserver", transport=httpx.ASGITransport(app=client.app)) as api:
            api.http.headers.update(client.headers)
            records = [import_incident(n, external_ref=f"a:{n}") for n in range(3)]
            await api.import_records(records, batch_size=2, job="async")
            seen = []
            again = await api.import_records(records, batch_size=2, job="async", on_replay=seen.append)
            return again.replayed, seen, again.written["created"]["incident"]

    assert asyncio.run(run()) == ([1, 2], [1, 2], 0)
