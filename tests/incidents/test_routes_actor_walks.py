"""An actor's incidents are walked by date from their involvements: lists, the timeline,
dyads and stats follow every change of an incident's date, parties and status."""

from alembic import command
from sqlalchemy import select
from sqlmodel import Session

from app.actors.models import Involvement
from tests.conftest import demo_database, make


def incident(client, title, occurred_on, initiators=("nato",), targets=("russia",), **fields):
    body = {"kind": "expulsion", "initiators": list(initiators), "targets": list(targets)}
    return make(client, "incidents", title=title, occurred_on=occurred_on, **body | fields)


def every_page(client, url):
    titles, next_url = [], url
    while next_url:
        body = client.get(next_url).json()
        titles += [i["title"] for i in body["data"]]
        next_url = body["next_cursor"] and f"{url}&cursor={body['next_cursor']}"
    return titles


def test_a_new_date_moves_an_incident_in_its_actors_lists_timeline_and_dyads(client, nato_russia):
    for n in range(1, 4):
        incident(client, f"2021-0{n}", f"2021-0{n}-15")
    moved = incident(client, "moved", "2020-06-01", initiators=["russia"], targets=["nato"])
    assert every_page(client, "/v1/incidents?actor=nato&limit=2")[-1] == "moved"

    patched = client.patch(f"/v1/incidents/{moved['id']}", json={"occurred_on": "2021-12-01"})
    assert patched.status_code == 200 and patched.json()["version"] == 2
    for url in ("/v1/incidents?actor=nato&limit=2", "/v1/incidents?initiator=russia&limit=2"):
        assert every_page(client, url)[0] == "moved", url
    assert every_page(client, "/v1/incidents?target=nato&to=2021-11-30&limit=2") == []
    timeline = client.get("/v1/timeline?actor=russia&type=incident&limit=1").json()["data"]
    assert [(e["title"], e["date"]) for e in timeline] == [("moved", "2021-12-01")]
    dyad = client.get("/v1/dyads/nato/russia?as_of=2021-12-31").json()
    assert [i["title"] for i in dyad["latest_incidents"]] == ["moved", "2021-03", "2021-02", "2021-01"]
    assert dyad["incident_counts"] == {"a_to_b": {}, "b_to_a": {"expulsion": 1}}
    assert client.get("/v1/dyads/nato/russia?as_of=2021-11-30").json()["latest_incidents"][0]["title"] == "2021-03"

    client.patch(f"/v1/incidents/{moved['id']}", json={"initiators": ["china"]})
    assert "moved" not in every_page(client, "/v1/incidents?actor=russia&limit=2")
    assert every_page(client, "/v1/incidents?actor=china&limit=2") == ["moved"]


def test_actor_lists_page_through_every_role_once(client, nato_russia):
    incident(client, "both sides", "2021-05-01", initiators=["nato", "china"], targets=["russia"])
    incident(client, "nato alone", "2021-04-01", initiators=["nato"], targets=["china"])
    incident(client, "russia alone", "2021-03-01", initiators=["russia"], targets=["china"])
    incident(client, "tie", "2021-04-01", initiators=["china"], targets=["nato"])
    draft = incident(client, "draft", "2021-02-01", status="draft")
    client.delete(f"/v1/incidents/{incident(client, 'retracted', '2021-06-01')['id']}")

    expected = ["both sides", "nato alone", "tie", "draft"]
    by_date = every_page(client, "/v1/incidents?actor=nato&limit=1")
    assert by_date[:1] + sorted(by_date[1:3]) + by_date[3:] == expected
    assert len(every_page(client, "/v1/incidents?actor=nato&actor=russia&limit=2")) == 5
    assert every_page(client, "/v1/incidents?actor=nato&sort=occurred_on&limit=3")[0] == "draft"
    assert every_page(client, "/v1/incidents?actor=nato&from=2021-04-01&to=2021-04-30&limit=1") == sorted(
        ["nato alone", "tie"], reverse=by_date[1] > by_date[2]
    )
    assert every_page(client, "/v1/incidents?actor=nato&kind=expulsion&status=draft&limit=1") == ["draft"]
    assert every_page(client, "/v1/incidents?initiator=nato&target=russia&limit=1") == ["both sides", "draft"]
    assert every_page(client, "/v1/incidents?actor=china&target=nato&limit=1") == ["tie"]
    assert every_page(client, "/v1/incidents?target=nato&actor=china&actor=russia&limit=1") == ["tie"]
    exported = client.get("/v1/incidents?actor=nato&limit=1&format=ndjson").text.splitlines()
    assert len(exported) == 4
    assert draft["id"] in client.get("/v1/incidents?actor=nato&limit=1&format=csv").text


def test_stats_count_ranges_as_buckets_do(client, nato_russia):
    for day, kind in [("2021-01-31", "expulsion"), ("2021-02-01", "expulsion"), ("2021-02-28", "sanctions")]:
        incident(client, day, day, kind=kind)
    incident(client, "draft", "2021-02-10", status="draft")
    by_kind_month = client.get("/v1/stats/incidents?group_by=month,kind&from=2021-01-15").json()["data"]
    assert by_kind_month == [
        {"month": "2021-01", "kind": "expulsion", "count": 1},
        {"month": "2021-01", "kind": "sanctions", "count": 0},
        {"month": "2021-02", "kind": "expulsion", "count": 2},
        {"month": "2021-02", "kind": "sanctions", "count": 1},
    ]
    assert client.get("/v1/stats/incidents?group_by=kind&to=2021-01-31").json()["data"] == [
        {"kind": "expulsion", "count": 1}
    ]
    years = client.get("/v1/stats/incidents?group_by=year,kind").json()["data"]
    assert years == [
        {"year": "2021", "kind": "expulsion", "count": 3},
        {"year": "2021", "kind": "sanctions", "count": 1},
    ]
    assert client.get("/v1/stats/incidents?group_by=year&from=2022-01-01").json()["data"] == []


def test_the_migration_dates_the_involvements_already_recorded(base_url, tmp_path):
    with demo_database(base_url, tmp_path, "demarche_test_involvement_dates") as (_, config, engine):
        with engine.begin() as conn:
            conn.execute(Involvement.__table__.update().values(occurred_on=None))
        command.downgrade(config, "0003")
        command.upgrade(config, "head")
        with Session(engine) as session:
            rows = session.execute(select(Involvement.resource, Involvement.occurred_on)).all()
        assert {resource for resource, day in rows if day is not None} == {"incident", "exercise"}
        assert all(day is not None for resource, day in rows if resource in ("incident", "exercise"))
