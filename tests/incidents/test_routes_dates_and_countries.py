"""An incident is not dated in the future unless it is a measure announced ahead; country
codes are ISO 3166."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import ndjson


def incident(kind: str, day: str, **fields) -> dict:
    return {
        "kind": kind,
        "title": f"{kind} on {day}",
        "occurred_on": day,
        "initiators": ["nato"],
        "targets": ["russia"],
        **fields,
    }


def ahead(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def assert_refused(response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert any(field in e["loc"] for e in response.json()["errors"]), response.text


@pytest.mark.parametrize("kind", ["expulsion", "ambassador_summons", "other"])
def test_an_incident_in_the_future_is_refused(client, nato_russia, kind):
    for day in ("2099-01-01", ahead(3)):
        assert_refused(client.post("/v1/incidents", json=incident(kind, day)), "occurred_on")
    assert client.post("/v1/incidents", json=incident(kind, ahead(0))).status_code == 201
    assert client.get("/v1/incidents").json()["data"][0]["occurred_on"] == ahead(0)


def test_a_measure_announced_ahead_may_carry_its_effective_date(client, nato_russia):
    closure = client.post("/v1/incidents", json=incident("mission_closure", ahead(30)))
    assert closure.status_code == 201, closure.text
    assert_refused(client.post("/v1/incidents", json=incident("mission_closure", "2099-01-01")), "occurred_on")
    # a patch is checked as a whole: the planned closure cannot become a future expulsion
    patch = client.patch(
        f"/v1/incidents/{closure.json()['id']}",
        json={"kind": "expulsion"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert_refused(patch, "occurred_on")


def test_an_import_line_in_the_future_is_refused(client, nato_russia):
    answer = client.post(
        "/v1/import",
        content=ndjson([{"type": "incident", **incident("expulsion", "2099-01-01")}]),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["errors"][0]["loc"][-1] == "occurred_on"


def test_the_field_says_which_kinds_may_be_planned(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]["IncidentCreate"]
    description = schema["properties"]["occurred_on"]["description"]
    assert "future" in description and "mission_closure" in description


def test_country_codes_are_iso_3166(client):
    for code in ("XYZ", "ABC", "EUR", "NAT"):
        answer = client.post(
            "/v1/actors", json={"slug": f"x-{code.lower()}", "name": code, "kind": "state"} | {"country_code": code}
        )
        assert_refused(answer, "country_code")
    for code in ("FRA", "RUS", "SUN", "XKX"):  # a current code, a withdrawn one, Kosovo's
        answer = client.post(
            "/v1/actors", json={"slug": f"x-{code.lower()}", "name": code, "kind": "state"} | {"country_code": code}
        )
        assert answer.status_code == 201, answer.text
    nato = client.post("/v1/actors", json={"slug": "nato", "name": "NATO", "kind": "organization"})
    assert nato.status_code == 201 and nato.json()["country_code"] is None
    patch = client.patch(
        "/v1/actors/x-fra", json={"country_code": "FRX"}, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert_refused(patch, "country_code")
    assert client.get("/v1/actors?country=sun").json()["data"][0]["slug"] == "x-sun"
    assert_refused(client.get("/v1/actors?country=XYZ"), "country")


def test_the_demo_data_loads(client):
    from importlib.resources import files

    answer = client.post(
        "/v1/import",
        content=files("app.seed").joinpath("demo.ndjson").read_bytes(),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 200, answer.text
