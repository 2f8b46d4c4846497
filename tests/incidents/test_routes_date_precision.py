"""Dates with their uncertainty: a date keeps its precision (day, week, month, year), the
`from`/`to` filters take an uncertain date as its whole span, and an incident may carry the
day it was announced and the day it took effect."""

from typing import Any

import pytest

from tests.conftest import make


def incident(client: Any, title: str, occurred_on: str, precision: str = "day", **fields: Any) -> dict[str, Any]:
    return make(
        client,
        "incidents",
        kind="expulsion",
        title=title,
        occurred_on=occurred_on,
        date_precision=precision,
        initiators=["nato"],
        targets=["russia"],
        **fields,
    )


@pytest.fixture
def spans(client, nato_russia):
    incident(client, "day", "2021-10-06")
    incident(client, "week", "2021-10-13", "week")  # Wednesday: the week of 11 to 17 October
    incident(client, "month", "2021-10-20", "month")  # October
    incident(client, "year", "2021-06-30", "year")  # 2021
    incident(client, "later", "2022-01-03")


def titles(client: Any, export: bool = False, **filters: Any) -> list[str]:
    if export:
        rows = client.get("/v1/incidents", params={**filters, "format": "csv"}).text.splitlines()[1:]
        return sorted(row.split(",")[1] for row in rows)
    answer = client.get("/v1/incidents", params={**filters, "limit": 2})
    assert answer.status_code == 200, answer.text
    found = [i["title"] for i in answer.json()["data"]]
    while cursor := answer.json()["next_cursor"]:
        answer = client.get("/v1/incidents", params={**filters, "limit": 2, "cursor": cursor})
        found += [i["title"] for i in answer.json()["data"]]
    return sorted(found)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ({"from": "2021-10-06", "to": "2021-10-06"}, ["day", "month", "year"]),
        ({"from": "2021-10-11", "to": "2021-10-11"}, ["month", "week", "year"]),  # the week's Monday
        ({"from": "2021-10-17", "to": "2021-10-17"}, ["month", "week", "year"]),  # its Sunday
        ({"from": "2021-10-18", "to": "2021-10-31"}, ["month", "year"]),  # after the week, still October
        ({"from": "2021-10-01", "to": "2021-10-01"}, ["month", "year"]),  # before 20 October, in October
        ({"from": "2021-11-01"}, ["later", "year"]),  # the year runs to 31 December
        ({"to": "2021-01-01"}, ["year"]),  # and from 1 January
        ({"from": "2022-01-01", "to": "2022-12-31"}, ["later"]),
        ({"from": "2020-01-01", "to": "2020-12-31"}, []),
    ],
)
def test_from_and_to_take_an_uncertain_date_by_its_whole_span(client, spans, window, expected):
    assert titles(client, **window) == expected
    assert titles(client, **window, sort="occurred_on") == expected
    assert titles(client, **window, sort="-created_at") == expected
    assert titles(client, **window, actor="russia") == expected  # the walk of an actor's incidents
    assert titles(client, export=True, **window) == expected


def test_week_is_a_precision(client, nato_russia):
    week = incident(client, "week", "2021-10-13", "week")
    assert week["date_precision"] == "week"
    values = [v["value"] for v in client.get("/v1/vocabularies").json()["date_precision"]]
    assert values == ["day", "week", "month", "year"]


def test_announced_and_effective_days(client, nato_russia):
    closure = make(
        client,
        "incidents",
        kind="mission_closure",
        title="Russia suspends its mission to NATO",
        occurred_on="2021-11-01",
        announced_on="2021-10-18",
        effective_on="2021-11-01",
        initiators=["russia"],
        targets=["nato"],
    )
    assert (closure["announced_on"], closure["effective_on"]) == ("2021-10-18", "2021-11-01")
    url = f"/v1/incidents/{closure['id']}"
    assert client.get(url).json()["announced_on"] == "2021-10-18"
    listed = client.get("/v1/incidents", params={"from": "2021-11-01"}).json()["data"][0]
    assert listed["effective_on"] == "2021-11-01"
    assert client.patch(url, json={"effective_on": None}).json()["effective_on"] is None
    # the main date stays occurred_on: lists filter and sort by it alone
    assert client.get("/v1/incidents", params={"to": "2021-10-31"}).json()["data"] == []

    late = client.patch(url, json={"announced_on": "2021-11-02", "effective_on": "2021-11-01"})
    assert late.status_code == 422, "announced after it took effect"
    ahead = client.patch(url, json={"announced_on": "2999-01-01"})
    assert ahead.status_code == 422
    assert client.patch(url, json={"effective_on": "2999-01-01"}).status_code == 422
    plain = incident(client, "no dates", "2021-10-06")
    assert (plain["announced_on"], plain["effective_on"]) == (None, None)
