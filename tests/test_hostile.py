"""Hostile and heavy callers: every request has a bounded cost, and probes answer 4xx."""

from urllib.parse import urlencode

import pytest

from app.kit.schemas import MAX_REPEAT

REPEATED = [
    ("/v1/actors", "kind", "state"),
    ("/v1/actors", "country", "RUS"),
    ("/v1/actors", "affiliation", "a"),
    ("/v1/incidents", "kind", "expulsion"),
    ("/v1/incidents", "actor", "a"),
    ("/v1/incidents", "initiator", "a"),
    ("/v1/incidents", "target", "a"),
    ("/v1/incidents", "tag", "t"),
    ("/v1/incidents", "status", "published"),
    ("/v1/exercises", "actor", "a"),
    ("/v1/exercises", "domain", "sea"),
    ("/v1/exercises", "region", "r"),
    ("/v1/exercises", "status", "published"),
    ("/v1/channels", "party", "a"),
    ("/v1/channels", "kind", "council"),
    ("/v1/channels", "status", "active"),
    ("/v1/sources", "publisher", "p"),
    ("/v1/timeline", "actor", "a"),
    ("/v1/timeline", "type", "incident"),
    ("/v1/stats/incidents", "actor", "a"),
]


def values(name: str, value: str, n: int) -> str:
    # Distinct values where any text goes, so that no layer could fold repeats away.
    return urlencode(
        [(name, value if name in {"kind", "status", "domain", "type", "country"} else f"{value}{i}") for i in range(n)]
    )


@pytest.mark.parametrize(("path", "name", "value"), REPEATED)
def test_a_repeated_filter_takes_at_most_its_cap(client, path, name, value):
    assert client.get(f"{path}?{values(name, value, MAX_REPEAT)}").status_code == 200
    answer = client.get(f"{path}?{values(name, value, MAX_REPEAT + 1)}")
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["loc"] == ["query", name]


def test_the_caps_are_documented(client):
    spec = client.get("/openapi.json").json()
    for path, name, _ in REPEATED:
        parameter = next(p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == name)
        assert parameter["schema"]["maxItems"] == MAX_REPEAT, (path, name)
        assert f"At most {MAX_REPEAT} values." in parameter["description"]


def test_the_actor_filters_of_incidents_expand_to_a_bounded_number_of_terms(client):
    within = urlencode([("actor", f"a{i}") for i in range(10)] + [("initiator", f"i{i}") for i in range(20)])
    assert client.get(f"/v1/incidents?{within}").status_code == 200
    answer = client.get(f"/v1/incidents?{within}&target=t")
    assert answer.status_code == 422
    assert "41 terms" in answer.json()["detail"]
