"""The counts that triggers keep (migrations 0009 and 0013) equal the counts of the records,
whatever writes them: the API's creates, patches, retractions, restores and imports, and
rows written in any order or deleted outright."""

from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from tests.conftest import import_incident, make, ndjson

MONTH = {"sqlite": "date({}.occurred_on, 'start of month')", "postgresql": "date_trunc('month', {}.occurred_on)::date"}
LIVE = "x.retracted_at IS NULL"
RECOUNTS = {
    "incident_counts": (
        "SELECT {month}, x.kind, x.status, count(*) FROM incidents x WHERE " + LIVE + " GROUP BY 1, 2, 3",
        "SELECT month, kind, status, n FROM incident_counts",
    ),
    "actor_incident_counts": (
        "SELECT v.role, x.status, v.actor_id, {month}, x.kind, count(*) FROM involvements v "
        "JOIN incidents x ON x.id = v.record_id WHERE v.resource = 'incident' AND " + LIVE + " GROUP BY 1, 2, 3, 4, 5",
        "SELECT role, status, actor_id, month, kind, n FROM actor_incident_counts",
    ),
    "incident_pair_counts": (
        "SELECT i.actor_id, t.actor_id, x.status, {month}, x.kind, count(*) FROM involvements i "
        "JOIN involvements t ON t.resource = 'incident' AND t.record_id = i.record_id AND t.role = 'target' "
        "JOIN incidents x ON x.id = i.record_id WHERE i.resource = 'incident' AND i.role = 'initiator' AND "
        + LIVE
        + " GROUP BY 1, 2, 3, 4, 5",
        "SELECT initiator_id, target_id, status, month, kind, n FROM incident_pair_counts",
    ),
}


def counted(connection: Any, query: str) -> dict[tuple, int]:
    """Each key of ``query``'s rows (all columns but the last, dates as text) and its count,
    leaving out counts of 0 (the triggers only ever decrement a count to 0)."""
    return {tuple(str(v) for v in row[:-1]): row[-1] for row in connection.execute(text(query)).all() if row[-1] != 0}


def assert_kept(app: Any) -> None:
    engine = app.state.engine
    month = MONTH[engine.dialect.name].format("x")
    with engine.connect() as connection:
        for table, (recount, kept) in RECOUNTS.items():
            assert counted(connection, kept) == counted(connection, recount.format(month=month)), table


def patch(client: Any, incident_id: str, **fields: Any) -> dict[str, Any]:
    answer = client.patch(
        f"/v1/incidents/{incident_id}", json=fields, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_api_writes_keep_every_count_exact(app, client, nato_russia):
    assert_kept(app)
    one = make(client, "incidents", **{k: v for k, v in import_incident(1).items() if k != "type"})
    two = make(
        client,
        "incidents",
        **{
            k: v
            for k, v in import_incident(
                2, initiators=["nato", "china"], targets=["russia", "china"], status="draft"
            ).items()
            if k != "type"
        },
    )
    assert_kept(app)
    patch(client, one["id"], kind="mission_closure", occurred_on="2021-08-31")
    patch(client, two["id"], status="published", initiators=["russia"], targets=["nato", "china"])
    assert_kept(app)
    assert client.delete(f"/v1/incidents/{one['id']}").status_code == 204
    assert_kept(app)
    assert client.post(f"/v1/incidents/{one['id']}/restore").status_code == 200
    assert_kept(app)
    lines = [import_incident(n, external_ref=f"x:{n}", targets=["russia", "china"]) for n in range(3, 30)]
    imported = client.post("/v1/import", content=ndjson(lines), headers={"Content-Type": "application/x-ndjson"})
    assert imported.status_code == 200, imported.text
    again = [import_incident(n, external_ref=f"x:{n}", kind="staff_cap", targets=["nato"]) for n in range(3, 10)]
    imported = client.post("/v1/import", content=ndjson(again), headers={"Content-Type": "application/x-ndjson"})
    assert imported.status_code == 200, imported.text
    assert_kept(app)


def test_an_import_of_many_rows_a_statement_keeps_every_count(app, client, nato_russia):
    """Many rows of a table in one statement (on PostgreSQL from one JSON array,
    :func:`app.kit.bulk.executemany`): 700 incidents of four actors each, their 2,800
    involvements written together, and every row, every count, lands."""
    make(client, "actors", slug="belarus", name="Belarus", kind="state", country_code="BLR")
    lines = [
        import_incident(n, external_ref=f"paged:{n}", initiators=["nato", "china"], targets=["russia", "belarus"])
        for n in range(700)
    ]
    imported = client.post("/v1/import", content=ndjson(lines), headers={"Content-Type": "application/x-ndjson"})
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"]["incident"] == 700
    assert_kept(app)
    stats = client.get("/v1/stats/incidents", params={"group_by": "kind", "actor": "belarus"}).json()["data"]
    assert stats == [{"kind": "expulsion", "count": 700}]


def test_rows_written_in_any_order_or_deleted_outright_keep_the_counts(app, nato_russia):
    nato, russia = nato_russia["nato"]["id"], nato_russia["russia"]["id"]
    values = {"created_at": "2021-10-01 00:00:00", "updated_at": "2021-10-01 00:00:00", "day": date(2021, 10, 5)}
    link = (
        "INSERT INTO involvements (resource, record_id, role, actor_id, position, occurred_on) "
        "VALUES ('incident', :id, :role, :actor, 0, :day)"
    )
    with Session(app.state.engine) as session:
        # The links before their incident, then the incident.
        for role, actor in (("initiator", nato), ("target", russia)):
            session.execute(text(link), {"id": "raw-1", "role": role, "actor": actor, "day": values["day"]})
        session.execute(
            text(
                "INSERT INTO incidents (id, created_at, updated_at, version, kind, title, occurred_on, date_precision, "
                "tags, status) VALUES ('raw-1', :created_at, :updated_at, 1, 'expulsion', 'Raw', :day, 'day', '[]', "
                "'published')"
            ),
            values,
        )
        session.commit()
    assert_kept(app)
    with Session(app.state.engine) as session:
        session.execute(text("DELETE FROM incidents WHERE id = 'raw-1'"))  # the incident first, then its links
        session.commit()
    assert_kept(app)
    with Session(app.state.engine) as session:
        session.execute(text("DELETE FROM involvements WHERE record_id = 'raw-1'"))
        session.commit()
    assert_kept(app)


def pairs(client: Any) -> set[tuple[str, str]]:
    """The pairs that the stats count an incident for, each once."""
    answer = client.get("/v1/stats/incidents", params={"group_by": "initiator,target"})
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert {row["count"] for row in data} == {1}
    return {(row["initiator"], row["target"]) for row in data}


def test_links_added_and_deleted_together_beside_others_keep_the_counts(app, client, nato_russia):
    """One statement writes an initiator and a target beside the incident's own, and one
    deletes an initiator and a target, leaving others: each pair counts once, whether both
    of its links came or went in the statement or only one (on PostgreSQL the counts follow
    each statement, migration 0019)."""
    one = make(client, "incidents", **{k: v for k, v in import_incident(1).items() if k != "type"})
    nato_russia["belarus"] = make(client, "actors", slug="belarus", name="Belarus", kind="state", country_code="BLR")
    ids = {slug: nato_russia[slug]["id"] for slug in ("china", "belarus", "nato", "russia")}
    link = "('incident', :id, '{role}', :{slug}, 1, :day)"
    with Session(app.state.engine) as session:
        session.execute(
            text(
                "INSERT INTO involvements (resource, record_id, role, actor_id, position, occurred_on) VALUES "
                + ", ".join((link.format(role="initiator", slug="china"), link.format(role="target", slug="belarus")))
            ),
            {"id": one["id"], "day": date.fromisoformat(one["occurred_on"]), **ids},
        )
        session.commit()
    assert_kept(app)
    assert pairs(client) == {("china", "belarus"), ("china", "russia"), ("nato", "belarus"), ("nato", "russia")}
    with Session(app.state.engine) as session:
        session.execute(
            text(
                "DELETE FROM involvements WHERE record_id = :id AND ((role = 'initiator' AND actor_id = :nato) "
                "OR (role = 'target' AND actor_id = :belarus))"
            ),
            {"id": one["id"], **ids},
        )
        session.commit()
    assert_kept(app)
    assert pairs(client) == {("china", "russia")}


def test_an_involvement_is_never_updated_in_place(app, client, nato_russia):
    one = make(client, "incidents", **{k: v for k, v in import_incident(1).items() if k != "type"})
    with Session(app.state.engine) as session, pytest.raises(DBAPIError, match="never updated"):
        session.execute(
            text("UPDATE involvements SET actor_id = :china WHERE record_id = :id AND role = 'target'"),
            {"china": nato_russia["china"]["id"], "id": one["id"]},
        )
    assert_kept(app)


def test_an_update_that_changes_nothing_counted_leaves_the_counts_alone(app, client, nato_russia):
    """Writing the incidents' kept answers again, as a transaction does after every import,
    counts nothing again (migration 0018); one statement that changes the kind of some
    incidents and only the answers of others moves the changed ones alone."""
    lines = [import_incident(n, external_ref=f"x:{n}") for n in range(1, 9)]
    imported = client.post("/v1/import", content=ndjson(lines), headers={"Content-Type": "application/x-ndjson"})
    assert imported.status_code == 200, imported.text
    by_kind = {"group_by": "kind", "actor": "nato"}
    before = {row["kind"]: row["count"] for row in client.get("/v1/stats/incidents", params=by_kind).json()["data"]}
    postgresql = app.state.engine.dialect.name == "postgresql"
    # the count rows this transaction wrote (SQLite's triggers fire on updates of the counted columns alone)
    written = text(
        "SELECT (SELECT count(*) FROM actor_incident_counts WHERE xmin = pg_current_xact_id()::xid) "
        "+ (SELECT count(*) FROM incident_pair_counts WHERE xmin = pg_current_xact_id()::xid)"
    )
    with Session(app.state.engine) as session:
        session.execute(text("UPDATE incidents SET record_json = NULL"))
        if postgresql:
            assert session.execute(written).scalar_one() == 0
        session.execute(
            text(
                "UPDATE incidents SET record_json = NULL, "
                "kind = CASE WHEN external_ref IN ('x:2', 'x:5') THEN 'staff_cap' ELSE kind END"
            )
        )
        if postgresql:
            assert session.execute(written).scalar_one() > 0
        session.commit()
    assert_kept(app)
    after = {row["kind"]: row["count"] for row in client.get("/v1/stats/incidents", params=by_kind).json()["data"]}
    assert after["staff_cap"] == before.get("staff_cap", 0) + 2
    assert after["expulsion"] == before["expulsion"] - 2
