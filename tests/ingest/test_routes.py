"""POST /v1/import: mixed record types, one transaction, every bad line reported."""

from importlib.resources import files
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.conftest import IMPORT_ACTORS as ACTORS
from tests.conftest import import_incident, ndjson, new_key
from tests.test_statement_budgets import statements

NDJSON = {"Content-Type": "application/x-ndjson"}


def incident(n: int, **fields: Any) -> dict[str, Any]:
    return import_incident(n, external_ref=f"test:{n}", **fields)


def counts(answer: dict[str, Any], outcome: str) -> dict[str, int]:
    return {type_: n for type_, n in answer[outcome].items() if n}


def post_import(client: Any, records: list[Any], **params: Any) -> Any:
    return client.post("/v1/import", content=ndjson(records), headers=NDJSON, params=params)


def test_the_demo_file_imports_every_type_with_references_between_lines(client):
    demo = files("app.seed").joinpath("demo.ndjson").read_bytes()
    response = client.post("/v1/import", content=demo, headers=NDJSON)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert counts(answer, "created") == {
        "source": 1,
        "actor": 15,
        "incident": 6,
        "exercise": 6,
        "channel": 6,
        "channel_status": 7,
    }
    assert answer["dry_run"] is False
    # references made by slug and external_ref, to records of earlier lines, hold
    incidents = {i["external_ref"]: i for i in client.get("/v1/incidents?limit=500").json()["data"]}
    withdrawal = incidents["eln:2021-10:nato-accreditation-withdrawal"]
    chain = client.get(f"/v1/incidents/{withdrawal['id']}/chain").json()["data"]
    assert [i["depth"] for i in chain].count(1) == 3
    council = next(c for c in client.get("/v1/channels?limit=500").json()["data"] if c["name"] == "NATO-Russia Council")
    assert [c["status"] for c in client.get(f"/v1/channels/{council['id']}").json()["status_history"]]


def test_one_bad_line_among_a_thousand_writes_nothing_and_is_reported_alone(client):
    records = ACTORS + [incident(n) for n in range(998)]
    records[500] = {**records[500], "occurred_on": "2021-13-45"}
    response = post_import(client, records)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/import-rejected"
    assert problem["detail"] == "1 of 1000 lines is invalid; nothing was written."
    assert [e["line"] for e in problem["errors"]] == [501]
    assert problem["errors"][0]["errors"][0]["loc"] == ["occurred_on"]
    assert client.get("/v1/incidents").json()["data"] == []
    assert client.get("/v1/actors").json()["data"] == []


def test_every_bad_line_is_reported_with_its_reasons(client):
    body = ndjson(ACTORS + [incident(1)])
    body += b"{not json\n"  # line 4
    body += ndjson(
        [
            {"type": "treaty", "name": "New START"},  # 5
            incident(6, colour="red"),  # 6: unknown field
            incident(7, targets=["atlantis"]),  # 7: unknown reference
            incident(1),  # 8: the key of line 3 again
            incident(9, responds_to=["test:1"]),  # 9: fine, answers line 3
            ["a", "list"],  # 10
            {"type": "channel_status", "status": "suspended", "effective_on": "2021-11-01", "channel": "nowhere"},
        ]
    )
    response = client.post("/v1/import", content=body, headers=NDJSON)
    assert response.status_code == 422
    reasons = {e["line"]: [(tuple(x["loc"]), x["type"]) for x in e["errors"]] for e in response.json()["errors"]}
    assert reasons == {
        4: [((), "json_invalid")],
        5: [(("type",), "unknown_type")],
        6: [(("colour",), "extra_forbidden")],
        7: [(("targets", 0), "unknown_reference")],
        8: [(("external_ref",), "duplicate_key")],
        10: [((), "object_type")],
        11: [(("channel",), "unknown_reference")],
    }
    assert client.get("/v1/incidents").json()["data"] == []


def test_the_same_import_twice_is_unchanged_the_second_time_and_a_change_is_an_update(client):
    demo = files("app.seed").joinpath("demo.ndjson").read_bytes()
    assert client.post("/v1/import", content=demo, headers=NDJSON).status_code == 200
    again = client.post("/v1/import", content=demo, headers=NDJSON).json()
    assert counts(again, "created") == {} and counts(again, "updated") == {}
    assert sum(again["unchanged"].values()) == 41

    records = [orjson.loads(line) for line in demo.splitlines()]
    first = next(r for r in records if r["type"] == "incident")
    first["persons_affected"] = 80
    status = next(r for r in records if r["type"] == "channel_status" and r.get("external_ref"))
    status["note"] = "Corrected."
    changed = post_import(client, records).json()
    assert counts(changed, "updated") == {"incident": 1, "channel_status": 1}
    stored = client.get("/v1/incidents", params={"limit": 500}).json()["data"]
    record = next(i for i in stored if i["external_ref"] == first["external_ref"])
    assert (record["persons_affected"], record["version"]) == (80, 2)


def test_a_dry_run_counts_and_writes_nothing(client):
    response = post_import(client, ACTORS + [incident(1), incident(2)], dry_run="true")
    assert response.status_code == 200
    assert counts(response.json(), "created") == {"actor": 2, "incident": 2}
    assert response.json()["dry_run"] is True
    assert client.get("/v1/actors").json()["data"] == []


def test_a_json_array_counts_lines_from_one(client):
    response = client.post("/v1/import", json=ACTORS + [incident(1, targets=["atlantis"])])
    assert response.status_code == 422
    assert [e["line"] for e in response.json()["errors"]] == [3]
    ok = client.post("/v1/import", json=ACTORS + [incident(1)])
    assert counts(ok.json(), "created") == {"actor": 2, "incident": 1}


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"type": "actor"}', "application/json", 422),  # not an array
        (b"[1,", "application/json", 400),
        (b"type,slug\n", "text/csv", 415),
    ],
)
def test_a_body_that_is_not_an_import_is_refused(client, body, content_type, status):
    response = client.post("/v1/import", content=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


def test_imports_have_their_own_body_limit(app_with):
    app = app_with(max_body_bytes=1000, import_max_body_bytes=50_000)
    headers = {"Authorization": f"Bearer {new_key(app, 'write')}", **NDJSON}
    with TestClient(app, headers=headers) as client:
        body = ndjson(ACTORS + [incident(n) for n in range(20)])
        assert 1000 < len(body) < 50_000
        assert client.post("/v1/import", content=body).status_code == 200
        too_big = ndjson(ACTORS + [incident(n) for n in range(600)])
        assert client.post("/v1/import", content=too_big).status_code == 413
        assert client.post("/v1/actors", json={**ACTORS[0], "slug": "x" * 2000}).status_code == 413


def test_importing_needs_a_write_key(reader, client):
    assert post_import(reader, ACTORS).status_code == 403
    assert client.get("/v1/actors").json()["data"] == []


def test_lookups_by_external_ref_use_an_index_when_most_records_have_none(app, client):
    """Once the statistics have seen a table where most incidents have no external_ref, the
    lookups of a re-import still go through an index rather than reading every incident."""
    lines = [*ACTORS, *(import_incident(n) for n in range(2000)), import_incident(2000, external_ref="ref-1")]
    assert client.post("/v1/import", content=ndjson(lines), headers=NDJSON).status_code == 200
    lookup = "SELECT id FROM incidents WHERE external_ref IN ('ref-1', 'ref-2')"
    with app.state.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {lookup}"))
            assert "USING INDEX ix_incidents_external_ref" in plan, plan
        else:
            conn.exec_driver_sql("ANALYZE incidents")
            plan = " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {lookup}"))
            assert "Seq Scan" not in plan, plan
        assert conn.exec_driver_sql(lookup).scalars().all() != []


def test_a_large_import_keeps_postgresqls_statistics_as_it_grows_the_tables(app, client, engine_name):
    """An import that writes more records than the tables held analyzes them in its own
    transaction, so that the plans of its later batches (the count triggers' joins, the
    natural-key look-ups) are made for tables of their new size; a small one analyzes nothing."""
    if engine_name != "postgresql":
        pytest.skip("SQLite's plans for these statements do not depend on table statistics")
    with app.state.engine.connect() as conn:  # statistics that know the tables empty, as in a new database
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    with statements(app.state.engine) as large:
        answer = post_import(client, [*ACTORS, *(incident(n) for n in range(1200))])
    assert answer.status_code == 200, answer.text
    last_insert = max(n for n, s in enumerate(large) if s.startswith("INSERT INTO incidents"))
    assert "ANALYZE" in large[:last_insert], "between its batches, not only as it commits"
    with statements(app.state.engine) as small:
        assert post_import(client, [incident(n) for n in range(2000, 2010)]).status_code == 200
    assert not [s for s in small if s.startswith("ANALYZE")]
