"""The dashboard views, on the October 2021 sequence replayed through the API."""

from collections import Counter
from datetime import date

import pytest
from alembic import command
from sqlalchemy import select, update
from sqlmodel import Session

from app.actors.models import Involvement
from app.incidents.models import Incident, Reply
from app.kit.records import new_id
from app.views.models import GROUP_BY
from app.views.service import COUNTS
from tests.conftest import IMPORT_ACTORS, demo_database, import_incident, make, ndjson


def test_chain_from_the_withdrawal_holds_russias_three_answers_at_depth_1(client, october_2021):
    withdrawal = october_2021["eln:2021-10:nato-accreditation-withdrawal"]
    chain = client.get(f"/v1/incidents/{withdrawal['id']}/chain").json()["data"]
    depth = {i["external_ref"]: i["depth"] for i in chain}
    assert depth == {
        "eln:2021-10:nato-accreditation-withdrawal": 0,
        "eln:2021-10:nato-staff-cap": 0,
        "eln:2021-10-18:russia-suspends-mission": 1,
        "eln:2021-10-18:russia-suspends-military-liaison-mission": 1,
        "eln:2021-10-18:russia-closes-information-office": 1,
    }
    assert [i["occurred_on"] for i in chain] == sorted(i["occurred_on"] for i in chain)
    answer = october_2021["eln:2021-10-18:russia-closes-information-office"]
    assert {i["id"] for i in client.get(f"/v1/incidents/{answer['id']}/chain").json()["data"]} == {
        i["id"] for i in chain
    }
    alone = october_2021["eln:2014-04-01:nato-suspends-cooperation"]
    assert [(i["id"], i["depth"]) for i in client.get(f"/v1/incidents/{alone['id']}/chain").json()["data"]] == [
        (alone["id"], 0)
    ]
    assert client.get("/v1/incidents/nope/chain").status_code == 404


def test_dyad_nato_russia_before_and_after_the_suspensions(client, october_2021):
    def open_channels(day):
        body = client.get(f"/v1/dyads/nato/russia?as_of={day}").json()
        return sorted(c["name"] for c in body["channels"] if c["status"] in ("active", "restricted")), body

    names, before = open_channels("2021-10-20")
    assert names == [
        "NATO Information Office in Moscow",
        "NATO Military Liaison Mission in Moscow",
        "NATO-Russia Council",
        "Russia's Mission to NATO",
    ]
    assert before["a"]["slug"] == "nato" and before["window_days"] == 90 and before["as_of"] == "2021-10-20"
    assert before["incident_counts"] == {
        "a_to_b": {"accreditation_withdrawal": 1, "staff_cap": 1},
        "b_to_a": {"mission_suspension": 1, "liaison_suspension": 1, "office_closure": 1},
    }
    assert [i["occurred_on"] for i in before["latest_incidents"]] == ["2021-10-18"] * 3 + ["2021-10-01"] * 2 + [
        "2014-04-01"
    ]
    assert {e["name"] for e in before["active_exercises"]} == set()  # Steadfast Noon was 18 October only
    names, after = open_channels("2021-11-15")
    assert names == ["NATO-Russia Council"]
    assert after["incident_counts"]["a_to_b"] == {"accreditation_withdrawal": 1, "staff_cap": 1}
    assert (
        client.get("/v1/dyads/nato/russia?as_of=2021-10-18").json()["active_exercises"][0]["name"]
        == "Steadfast Noon 2021"
    )
    assert (
        client.get("/v1/dyads/russia/china?as_of=2021-10-15").json()["active_exercises"][0]["name"] == "Joint Sea 2021"
    )
    short = client.get("/v1/dyads/nato/russia?as_of=2021-10-20&window_days=10").json()
    assert short["incident_counts"] == {
        "a_to_b": {},
        "b_to_a": {"mission_suspension": 1, "liaison_suspension": 1, "office_closure": 1},
    }


def test_dyad_errors(client, october_2021):
    assert client.get("/v1/dyads/nato/nato").status_code == 422
    assert client.get("/v1/dyads/nato/atlantis").status_code == 404
    assert client.get("/v1/dyads/nato/russia?window_days=0").status_code == 422


def test_timeline_for_russia_in_autumn_2021(client, october_2021):
    url = "/v1/timeline?actor=russia&from=2021-09-01&to=2021-11-30&limit=4"
    entries = []
    while url:
        body = client.get(url).json()
        entries += body["data"]
        url = (
            body["next_cursor"]
            and f"/v1/timeline?actor=russia&from=2021-09-01&to=2021-11-30&limit=4&cursor={body['next_cursor']}"
        )
    titles = [e["title"] for e in entries]
    assert "Zapad-21" in titles and "Joint Sea 2021" in titles and "Steadfast Noon 2021" not in titles
    assert len(titles) == len(set(e["id"] for e in entries))
    assert [e["date"] for e in entries] == sorted((e["date"] for e in entries), reverse=True)
    assert {e["type"] for e in entries} == {"incident", "exercise", "channel_status"}
    change = next(e for e in entries if e["type"] == "channel_status")
    assert change["record"]["channel"]["name"] in change["title"]
    assert any(a["slug"] == "russia" for a in change["actors"])
    zapad = next(e for e in entries if e["title"] == "Zapad-21")
    assert zapad["date"] == "2021-09-10" and zapad["record"]["end_date"] == "2021-09-16"
    only = client.get("/v1/timeline?type=exercise&type=channel_status&actor=nato").json()["data"]
    assert {e["type"] for e in only} == {"exercise", "channel_status"}
    assert "Steadfast Noon 2021" in [e["title"] for e in only]


def test_incident_stats(client, october_2021):
    body = client.get("/v1/stats/incidents?group_by=kind,month&from=2021-09-01&to=2021-11-30").json()
    assert body["group_by"] == ["kind", "month"]
    cells = {(d["kind"], d["month"]): d["count"] for d in body["data"]}
    assert cells[("accreditation_withdrawal", "2021-10")] == 1
    assert cells[("accreditation_withdrawal", "2021-09")] == 0 and cells[("office_closure", "2021-11")] == 0
    assert len(cells) == 5 * 3
    months = client.get("/v1/stats/incidents?group_by=month&from=2021-08-15&to=2021-11-30").json()["data"]
    assert months == [
        {"month": "2021-08", "count": 0},
        {"month": "2021-09", "count": 0},
        {"month": "2021-10", "count": 5},
        {"month": "2021-11", "count": 0},
    ]
    years = client.get("/v1/stats/incidents?group_by=year").json()["data"]
    assert years == [{"year": "2014", "count": 1}, {"year": "2021", "count": 5}]
    pairs = client.get("/v1/stats/incidents?group_by=initiator,target&actor=russia&from=2021-10-18").json()["data"]
    assert {(d["initiator"], d["target"]): d["count"] for d in pairs} == {
        ("russia", "nato"): 3,
        ("sergey-lavrov", "nato"): 3,
    }
    for bad in ("", "kind,kind", "kind,month,year", "country"):
        assert client.get(f"/v1/stats/incidents?group_by={bad}").status_code == 422, bad


def test_chain_of_a_thousand_and_a_cycle(client, app, nato_russia, engine_name):
    ids = [new_id() for _ in range(1000)]
    with Session(app.state.engine) as session:
        session.add_all(
            Incident(id=i, kind="other", title=f"move {n}", occurred_on=date(2020, 1, 1)) for n, i in enumerate(ids)
        )
        session.flush()
        session.add_all(Reply(incident_id=b, responds_to_id=a) for a, b in zip(ids, ids[1:], strict=False))
        session.commit()
    if engine_name == "postgresql":  # written past the app, whose writes keep the statistics (app.db)
        with app.state.engine.connect() as conn:
            autocommit = conn.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.exec_driver_sql("ANALYZE incidents, incident_responses")
    chain = client.get(f"/v1/incidents/{ids[500]}/chain").json()["data"]
    assert len(chain) == 1000
    assert {i["title"]: i["depth"] for i in chain}["move 999"] == 999
    first = make(
        client, "incidents", kind="other", title="a", occurred_on="2021-01-01", initiators=["nato"], targets=["russia"]
    )
    second = make(
        client,
        "incidents",
        kind="other",
        title="b",
        occurred_on="2021-01-02",
        initiators=["russia"],
        targets=["nato"],
        responds_to=[first["id"]],
    )
    assert client.patch(f"/v1/incidents/{first['id']}", json={"responds_to": [second["id"]]}).status_code == 200
    cycle = client.get(f"/v1/incidents/{first['id']}/chain").json()["data"]
    assert sorted(i["title"] for i in cycle) == ["a", "b"]


def test_views_take_extreme_dates(client, october_2021):
    assert client.get("/v1/dyads/nato/russia?as_of=0001-01-01").status_code == 200
    early = client.get("/v1/stats/incidents?group_by=month&from=0999-11-01&to=0999-12-31")
    assert early.json()["data"] == [{"month": "0999-11", "count": 0}, {"month": "0999-12", "count": 0}]
    assert client.get("/v1/stats/incidents?group_by=kind,month&from=1000-01-01&to=9999-12-31").status_code == 422


def test_a_chain_does_not_pass_through_retracted_incidents(client, nato_russia):
    base = {"kind": "other", "initiators": ["nato"], "targets": ["russia"]}
    first = make(client, "incidents", **base, title="first", occurred_on="2021-01-01")
    middle = make(client, "incidents", **base, title="middle", occurred_on="2021-01-02", responds_to=[first["id"]])
    last = make(client, "incidents", **base, title="last", occurred_on="2021-01-03", responds_to=[middle["id"]])
    assert [i["depth"] for i in client.get(f"/v1/incidents/{first['id']}/chain").json()["data"]] == [0, 1, 2]
    client.delete(f"/v1/incidents/{middle['id']}")
    assert [i["title"] for i in client.get(f"/v1/incidents/{first['id']}/chain").json()["data"]] == ["first"]
    assert [(i["title"], i["depth"]) for i in client.get(f"/v1/incidents/{last['id']}/chain").json()["data"]] == [
        ("last", 0)
    ]


def kept_counts(engine):
    """The counts the triggers keep, and the same counts taken from the live incidents."""
    with engine.connect() as conn:
        kept = {(m, k, s): n for m, k, s, n in conn.execute(select(COUNTS)) if n}
        live = Counter(
            (day.replace(day=1), kind, status)
            for day, kind, status in conn.execute(
                select(Incident.occurred_on, Incident.kind, Incident.status).where(Incident.retracted_at.is_(None))
            )
        )
    return kept, dict(live)


def test_the_counts_behind_stats_stay_exact_under_every_kind_of_write(client, reader, app, nato_russia):
    def stats(who):
        return {
            (d["kind"], d["month"]): d["count"]
            for d in who.get("/v1/stats/incidents?group_by=kind,month").json()["data"]
            if d["count"]
        }

    def exact():
        kept, live = kept_counts(app.state.engine)
        assert kept == live

    base = {"initiators": ["nato"], "targets": ["russia"]}
    first = make(client, "incidents", **base, kind="expulsion", title="a", occurred_on="2021-10-06")
    second = make(client, "incidents", **base, kind="expulsion", title="b", occurred_on="2021-10-31")
    draft = make(client, "incidents", **base, kind="sanctions", title="c", occurred_on="2021-11-01", status="draft")
    exact()
    assert stats(reader) == {("expulsion", "2021-10"): 2}
    assert stats(client) == {("expulsion", "2021-10"): 2, ("sanctions", "2021-11"): 1}

    client.patch(f"/v1/incidents/{first['id']}", json={"kind": "staff_cap"})
    client.patch(f"/v1/incidents/{second['id']}", json={"occurred_on": "2021-12-01"})
    client.patch(f"/v1/incidents/{draft['id']}", json={"status": "published"})
    client.patch(f"/v1/incidents/{first['id']}", json={"title": "a, renamed"})
    exact()
    assert stats(reader) == {("staff_cap", "2021-10"): 1, ("sanctions", "2021-11"): 1, ("expulsion", "2021-12"): 1}

    assert client.delete(f"/v1/incidents/{second['id']}").status_code == 204
    exact()
    assert stats(reader) == {("staff_cap", "2021-10"): 1, ("sanctions", "2021-11"): 1}

    lines = [*IMPORT_ACTORS, *(import_incident(n, external_ref=f"test:{n}") for n in range(5))]
    assert (
        client.post("/v1/import", content=ndjson(lines), headers={"Content-Type": "application/x-ndjson"}).json()[
            "created"
        ]["incident"]
        == 5
    )
    lines = [import_incident(0, external_ref="test:0", occurred_on="2020-01-15", kind="sanctions")]
    assert (
        client.post("/v1/import", content=ndjson(lines), headers={"Content-Type": "application/x-ndjson"}).json()[
            "updated"
        ]["incident"]
        == 1
    )
    exact()
    assert stats(reader)[("expulsion", "2021-10")] == 4 and stats(reader)[("sanctions", "2020-01")] == 1

    with app.state.engine.begin() as conn:  # writes that bypass the API, as bench/generate.py's do
        conn.execute(update(Incident).where(Incident.id == first["id"]).values(occurred_on=date(2019, 5, 5)))
        conn.execute(Incident.__table__.delete().where(Incident.id == draft["id"]))
    exact()
    assert stats(reader)[("staff_cap", "2019-05")] == 1 and ("sanctions", "2021-11") not in stats(reader)


@pytest.mark.parametrize(
    "bounds",
    [
        "",
        "&from=2021-10-15",
        "&to=2021-11-10",
        "&from=2021-10-15&to=2021-10-20",
        "&from=2021-10-01&to=2021-11-30",
        "&from=2021-09-30&to=2022-01-01",
        "&from=2020-12-31&to=2021-01-01",
        "&from=2021-11-01&to=2021-10-31",
    ],
)
def test_stats_from_kept_counts_equal_stats_counted_from_the_incidents(client, reader, nato_russia, bounds):
    days = ["2020-12-31", "2021-01-01", "2021-09-30", "2021-10-01", "2021-10-15", "2021-10-20", "2021-10-31"]
    days += ["2021-11-01", "2021-11-10", "2021-11-11", "2021-11-30", "2022-01-01"]
    sides = [(["nato"], ["russia"]), (["nato", "china"], ["russia"]), (["russia"], ["nato", "china"])]
    for n, day in enumerate(days):
        kind = ("expulsion", "sanctions", "staff_cap")[n % 3]
        initiators, targets = sides[n % len(sides)]
        status = "draft" if n % 5 == 4 else "published"
        make(
            client,
            "incidents",
            kind=kind,
            title=day,
            occurred_on=day,
            initiators=initiators,
            targets=targets,
            status=status,
        )
    for group_by in GROUP_BY:
        url = f"/v1/stats/incidents?group_by={group_by}{bounds}"
        for who in (client, reader):  # drafts counted for the one, not the other
            kept = who.get(url).json()["data"]
            counted = who.get(f"{url}&actor=nato").json()["data"]  # counted from the incidents: each one has nato
            assert kept == counted, url


def test_the_migration_counts_and_dates_what_is_already_recorded(base_url, tmp_path):
    with demo_database(base_url, tmp_path, "demarche_test_view_summaries") as (_, config, engine):
        kept, live = kept_counts(engine)
        command.downgrade(config, "0008")
        with Session(engine) as session:
            rows = session.execute(select(Involvement.resource, Involvement.occurred_on)).all()
        assert all(day is None for resource, day in rows if resource == "exercise")
        command.upgrade(config, "head")
        assert kept_counts(engine) == (kept, live)
        assert kept == live and sum(kept.values()) == 6
        with Session(engine) as session:
            rows = session.execute(select(Involvement.resource, Involvement.occurred_on)).all()
        assert all(day is not None for resource, day in rows if resource in ("incident", "exercise"))


def test_dyads_find_exercises_active_on_the_day_however_long(client, nato_russia):
    def active(day):
        return sorted(e["name"] for e in client.get(f"/v1/dyads/nato/russia?as_of={day}").json()["active_exercises"])

    def exercise(name, start, end=None):
        return make(client, "exercises", name=name, start_date=start, end_date=end, participants=[{"actor": "nato"}])

    year = exercise("a year long", "2021-01-01", "2021-12-31")
    exercise("a day, end unknown", "2021-10-20")
    exercise("yesterday, end unknown", "2021-10-19")
    exercise("a week", "2021-10-14", "2021-10-20")
    make(client, "exercises", name="china's", start_date="2021-10-20", participants=[{"actor": "china"}])
    assert active("2021-10-20") == ["a day, end unknown", "a week", "a year long"]
    assert active("2021-03-01") == ["a year long"]
    client.patch(f"/v1/exercises/{year['id']}", json={"end_date": "2021-06-30"})
    assert active("2021-10-20") == ["a day, end unknown", "a week"]
    assert active("2021-10-21") == []


def test_a_new_start_date_moves_an_exercise_in_its_actors_timeline(client, nato_russia):
    def timeline(query=""):
        entries = client.get(f"/v1/timeline?actor=russia&type=exercise{query}").json()["data"]
        return [(e["title"], e["date"]) for e in entries]

    make(client, "exercises", name="early", start_date="2021-01-01", participants=[{"actor": "russia"}])
    late = make(
        client, "exercises", name="late", start_date="2021-06-01", participants=[{"actor": "russia", "role": "host"}]
    )
    make(client, "exercises", name="draft", start_date="2021-07-01", participants=[{"actor": "russia"}], status="draft")
    make(client, "exercises", name="china's", start_date="2021-08-01", participants=[{"actor": "china"}])
    assert timeline() == [("draft", "2021-07-01"), ("late", "2021-06-01"), ("early", "2021-01-01")]
    client.patch(f"/v1/exercises/{late['id']}", json={"start_date": "2020-06-01"})
    assert timeline("&from=2021-01-01") == [("draft", "2021-07-01"), ("early", "2021-01-01")]
    paged, url = [], "/v1/timeline?actor=russia&type=exercise&limit=1"
    while url:
        body = client.get(url).json()
        paged += [e["title"] for e in body["data"]]
        url = body["next_cursor"] and f"/v1/timeline?actor=russia&type=exercise&limit=1&cursor={body['next_cursor']}"
    assert paged == ["draft", "early", "late"]
