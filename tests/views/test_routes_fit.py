"""Views that fit the question: months filled only where they were asked or where a series
has incidents, and `format=csv` on stats, dyads' counts and timelines."""

import csv
import io

import pytest

from app.views import routes as views_routes
from tests.conftest import make


def incident(client, kind: str, day: str, initiators=("nato",), targets=("russia",)) -> dict:
    return make(
        client,
        "incidents",
        kind=kind,
        title=f"{kind} on {day}",
        occurred_on=day,
        initiators=list(initiators),
        targets=list(targets),
    )


@pytest.fixture
def spread(client, nato_russia):
    """Expulsions over three months of 2020, a closure in June 2021."""
    incident(client, "expulsion", "2020-01-15")
    incident(client, "expulsion", "2020-03-10")
    incident(client, "expulsion", "2020-03-11", initiators=("russia",), targets=("nato",))
    incident(client, "mission_closure", "2021-06-01", initiators=("russia",), targets=("nato",))


def cells(client, query: str) -> list[tuple]:
    answer = client.get(f"/v1/stats/incidents?{query}")
    assert answer.status_code == 200, answer.text
    return [tuple(row.values()) for row in answer.json()["data"]]


def months(first: str, last: str) -> list[str]:
    year, month, out = int(first[:4]), int(first[5:]), []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


@pytest.mark.parametrize("actor", ["", "&actor=russia"])  # the kept counts, and the counts by day
def test_each_series_is_filled_within_its_own_months_when_no_range_is_asked(client, spread, actor):
    assert cells(client, "group_by=kind,month" + actor) == [
        ("expulsion", "2020-01", 1),
        ("expulsion", "2020-02", 0),
        ("expulsion", "2020-03", 2),
        ("mission_closure", "2021-06", 1),
    ]
    assert cells(client, "group_by=month,kind" + actor) == [
        ("2020-01", "expulsion", 1),
        ("2020-02", "expulsion", 0),
        ("2020-03", "expulsion", 2),
        ("2021-06", "mission_closure", 1),
    ]
    # one series: every month between the first and the last incident
    by_month = cells(client, "group_by=month" + actor)
    assert [m for m, _ in by_month] == months("2020-01", "2021-06")
    assert sum(n for _, n in by_month) == 4


def test_an_asked_range_bounds_every_series(client, spread):
    assert cells(client, "group_by=kind,month&from=2020-02-01&to=2020-04-30") == [
        ("expulsion", "2020-02", 0),
        ("expulsion", "2020-03", 2),
        ("expulsion", "2020-04", 0),
    ]
    # one bound asked: the other end is the series' own
    assert cells(client, "group_by=kind,month&to=2020-05-31") == [
        ("expulsion", m, n) for m, n in zip(months("2020-01", "2020-05"), [1, 0, 2, 0, 0], strict=True)
    ]
    closure_on = cells(client, "group_by=kind,month&from=2021-05-01")
    assert closure_on == [("mission_closure", "2021-05", 0), ("mission_closure", "2021-06", 1)]
    by_initiator = cells(client, "group_by=initiator,month")
    assert by_initiator == [
        ("nato", "2020-01", 1),
        ("nato", "2020-02", 0),
        ("nato", "2020-03", 1),
        *(("russia", m, {"2020-03": 1, "2021-06": 1}.get(m, 0)) for m in months("2020-03", "2021-06")),
    ]


def test_the_stats_page_still_draws_an_even_axis(client, spread):
    page = client.get("/stats?group_by=kind,month")
    assert page.status_code == 200, page.text
    for label in ("2020-01", "2020-06", "2021-06"):
        assert label in page.text  # months of no series are bars of 0 on the page's axis
    assert "format=csv" in page.text  # the data behind the page, as a file too


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.text)))


def test_stats_as_csv(client, spread):
    query = "/v1/stats/incidents?group_by=kind,month&actor=russia"
    rows = read_csv(client.get(query + "&format=csv"))
    assert rows[0] == ["kind", "month", "count"]
    assert rows[1:] == [[k, m, str(n)] for k, m, n in cells(client, "group_by=kind,month&actor=russia")]
    assert read_csv(client.get("/v1/stats/incidents?group_by=year&format=csv")) == [
        ["year", "count"],
        ["2020", "3"],
        ["2021", "1"],
    ]
    assert client.get("/v1/stats/incidents?format=xlsx").status_code == 422


def test_dyad_counts_as_csv(client, spread):
    rows = read_csv(client.get("/v1/dyads/nato/russia?as_of=2020-03-31&window_days=365&format=csv"))
    assert rows == [
        ["direction", "initiator", "target", "kind", "count"],
        ["a_to_b", "nato", "russia", "expulsion", "2"],
        ["b_to_a", "russia", "nato", "expulsion", "1"],
    ]
    assert read_csv(client.get("/v1/dyads/china/russia?format=csv")) == [
        ["direction", "initiator", "target", "kind", "count"]
    ]
    json_answer = client.get("/v1/dyads/nato/russia?as_of=2020-03-31&window_days=365&format=json")
    assert json_answer.json()["incident_counts"] == {"a_to_b": {"expulsion": 2}, "b_to_a": {"expulsion": 1}}


def test_the_timeline_as_csv_holds_every_matching_entry(client, spread, monkeypatch):
    monkeypatch.setattr(views_routes, "TIMELINE_CHUNK", 2)  # several chunks, walked like pages
    make(
        client,
        "exercises",
        name="Zapad 2021",
        start_date="2021-09-10",
        participants=[{"actor": "russia", "role": "lead"}, {"actor": "china", "role": "observer"}],
    )
    rows = read_csv(client.get("/v1/timeline?actor=russia&format=csv&limit=1"))
    assert rows[0] == ["type", "date", "id", "title", "actors"]
    entries, url = [], "/v1/timeline?actor=russia&limit=2"
    while url:
        body = client.get(url).json()
        entries += body["data"]
        url = body["next_cursor"] and f"/v1/timeline?actor=russia&limit=2&cursor={body['next_cursor']}"
    assert len(entries) == 5
    assert rows[1:] == [
        [e["type"], e["date"], e["id"], e["title"], ";".join(a["slug"] for a in e["actors"])] for e in entries
    ]
    assert rows[1][4] == "russia;china"
    only = read_csv(client.get("/v1/timeline?type=exercise&from=2021-01-01&format=csv"))
    assert [r[3] for r in only[1:]] == ["Zapad 2021"]
