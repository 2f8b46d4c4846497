"""Incidents keep their answer as JSON text (migration 0010): whatever changes what an answer
shows, through the API or behind its back, the answer served is the current one, and every
write through the API leaves the answers it touched kept, not stale."""

from importlib.resources import files
from typing import Any

import orjson
import pytest
from alembic import command
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from app.cli import cli
from app.incidents import service
from app.incidents.models import Incident
from app.kit.sqljson import RecordSQL
from app.settings import get_settings
from tests.conftest import demo_database, make
from tests.kit.test_sqljson import exact, exported

NDJSON = {"Content-Type": "application/x-ndjson"}


def kept_and_built(engine: Engine) -> dict[str, tuple[Any, Any]]:
    """Each incident's kept answer (None when stale) and the answer built from its tables."""
    table = Incident.__table__
    built = service.answer(RecordSQL(engine.dialect.name), table.c)
    with engine.connect() as connection:
        rows = connection.execute(select(table.c.id, table.c.record_json, built))
        return {i: (kept and orjson.loads(kept), orjson.loads(new)) for i, kept, new in rows}


def assert_all_kept(app: Any) -> None:
    answers = kept_and_built(app.state.engine)
    assert answers
    for record_id, (kept, built) in answers.items():
        assert kept is not None, f"incident {record_id} was left stale"
        assert exact(kept) == exact(built), record_id


def served(client: Any, incident_id: str) -> dict[str, Any]:
    """The incident as GET, the list and the export answer it (they must agree)."""
    one = client.get(f"/v1/incidents/{incident_id}")
    assert one.status_code == 200, one.text
    listed = [r for r in client.get("/v1/incidents", params={"limit": 500}).json()["data"] if r["id"] == incident_id]
    lines = [r for r in exported(client, "incidents") if r["id"] == incident_id]
    assert exact(listed) == exact(lines) == [exact(one.json())]
    return one.json()


@pytest.fixture
def demo(client: Any) -> dict[str, Any]:
    body = files("app.seed").joinpath("demo.ndjson").read_bytes()
    assert client.post("/v1/import", content=body, headers=NDJSON).status_code == 200
    nato_withdrawal = client.get("/v1/incidents", params={"q": "accreditation", "initiator": "nato"}).json()["data"][0]
    answers = client.get(f"/v1/incidents/{nato_withdrawal['id']}/chain").json()["data"]
    answer = next(a for a in answers if a["depth"] == 1)
    return {"withdrawal": nato_withdrawal, "answer": answer}


def test_an_import_leaves_every_answer_kept(app, demo):
    assert_all_kept(app)


def test_an_actor_renamed_is_renamed_in_every_incident_that_names_it(app, client, demo):
    russia = client.get("/v1/actors/russia")
    response = client.patch(
        "/v1/actors/russia",
        json={"name": "Russian Federation", "slug": "russian-federation"},
        headers={"If-Match": russia.headers["ETag"]},
    )
    assert response.status_code == 200, response.text
    answer = served(client, demo["withdrawal"]["id"])
    target = answer["targets"][0]
    assert (target["id"], target["slug"], target["name"]) == (
        russia.json()["id"],
        "russian-federation",
        "Russian Federation",
    )
    assert_all_kept(app)


def test_a_source_retitled_is_retitled_where_it_is_cited(app, client, demo):
    source = make(client, "sources", url="https://example.org/s", title="Before")
    incident_id = demo["withdrawal"]["id"]
    assert client.patch(f"/v1/incidents/{incident_id}", json={"sources": [source["id"]]}).status_code == 200
    assert client.patch(f"/v1/sources/{source['id']}", json={"title": "After"}).status_code == 200
    assert [s["title"] for s in served(client, incident_id)["sources"]] == ["After"]
    assert_all_kept(app)


def test_an_answered_incident_retitled_or_moved_shows_so_in_its_answers(app, client, demo):
    first, answer = demo["withdrawal"]["id"], demo["answer"]["id"]
    response = client.patch(f"/v1/incidents/{first}", json={"title": "Renamed", "occurred_on": "2021-10-05"})
    assert response.status_code == 200, response.text
    responds_to = served(client, answer)["responds_to"]
    assert {"id": first, "title": "Renamed", "occurred_on": "2021-10-05"} in responds_to
    assert_all_kept(app)


def test_links_replaced_and_a_retraction_show_at_once(app, client, demo):
    incident_id = demo["withdrawal"]["id"]
    patched = client.patch(f"/v1/incidents/{incident_id}", json={"initiators": ["russia"], "targets": ["nato"]})
    assert patched.status_code == 200, patched.text
    answer = served(client, incident_id)
    assert ([a["slug"] for a in answer["initiators"]], [a["slug"] for a in answer["targets"]]) == (["russia"], ["nato"])
    assert patched.json() == answer
    assert client.delete(f"/v1/incidents/{incident_id}").status_code == 204
    retracted = client.get("/v1/incidents", params={"status": "retracted"}).json()["data"]
    assert [(r["id"], r["status"]) for r in retracted] == [(incident_id, "retracted")]
    assert_all_kept(app)


def test_a_change_behind_the_api_is_served_at_once_and_kept_by_the_next_write(app, client, demo):
    incident_id = demo["withdrawal"]["id"]
    with app.state.engine.begin() as connection:
        connection.execute(text("UPDATE actors SET name = 'Behind' WHERE slug = 'nato'"))
        connection.execute(text("UPDATE incidents SET title = 'Edited in SQL' WHERE id = :id"), {"id": incident_id})
    stale = {i for i, (kept, _) in kept_and_built(app.state.engine).items() if kept is None}
    assert incident_id in stale and len(stale) > 1
    answer = served(client, incident_id)
    assert (answer["title"], answer["initiators"][0]["name"]) == ("Edited in SQL", "Behind")
    make(client, "actors", slug="other", name="Other", kind="state")  # any write
    assert_all_kept(app)


def test_a_failed_import_leaves_nothing_stale(app, client, demo):
    lines = [
        {"type": "actor", "slug": "nato", "name": "Renamed by a failed import", "kind": "organization"},
        {"type": "incident", "kind": "other", "title": "x", "occurred_on": "2021-10-01", "initiators": ["nobody"]},
    ]
    body = b"\n".join(orjson.dumps(line) for line in lines)
    assert client.post("/v1/import", content=body, headers=NDJSON).status_code == 422
    assert_all_kept(app)
    assert served(client, demo["withdrawal"]["id"])["initiators"][0]["name"] != "Renamed by a failed import"


def test_migrate_writes_the_answers_of_incidents_recorded_before_them(base_url, tmp_path, monkeypatch):
    with demo_database(base_url, tmp_path, "demarche_test_answers") as (url, config, engine):
        command.downgrade(config, "0009")
        monkeypatch.setenv("DEMARCHE_DATABASE_URL", url)
        get_settings.cache_clear()
        result = CliRunner().invoke(cli, ["migrate"])
        get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        answers = kept_and_built(engine)
        assert len(answers) == 6
        assert all(exact(kept) == exact(built) for kept, built in answers.values())
