"""Strict queries: a query parameter a route does not take is refused (400), never ignored,
on every route; the parameters it takes still work, and so do the pages' own forms."""

import re
from html import unescape
from urllib.parse import urlencode

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from tests.ingest.test_cli import DEMO, demarche

INCIDENT_PARAMS = [
    "limit",
    "cursor",
    "format",
    "kind",
    "cameo",
    "plover",
    "actor",
    "initiator",
    "target",
    "include_affiliated",
    "from",
    "to",
    "q",
    "tag",
]


def refused(response, *unknown):
    assert response.status_code == 400, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["type"] == "/problems/unknown-parameter"
    assert [e["loc"] for e in problem["errors"]] == [["query", name] for name in unknown]
    for name in unknown:
        assert f"`{name}`" in problem["detail"]
    return problem


@pytest.mark.parametrize(
    ("path", "unknown"),
    [
        ("/v1/incidents?knd=expulsion", ["knd"]),
        ("/v1/incidents?country=RUS", ["country"]),
        ("/v1/incidents?bbox=19,40,30,50", ["bbox"]),
        ("/v1/incidents?external_ref=eln:2021-10:nato-staff-cap", ["external_ref"]),
        ("/v1/actors?country=RUS&bbox=1,2,3,4&kind=state", ["bbox"]),
        ("/v1/sources?external_ref=x", ["external_ref"]),
        ("/v1/exercises?bbox=19,40,30,50", ["bbox"]),
        ("/v1/channels?external_ref=x&bbox=1", ["external_ref", "bbox"]),
        ("/v1/changes?fields=seq", ["fields"]),
        ("/v1/timeline?actor=russia&fields=title", ["fields"]),
        ("/v1/stats/incidents?group_by=kind&fields=count", ["fields"]),
        ("/v1/incidents/{withdrawal}/chain?fields=title", ["fields"]),
        ("/v1/dyads/nato/russia?count=true", ["count"]),
        ("/v1/vocabularies?kind=x", ["kind"]),
        ("/v1/keys?limit=5", ["limit"]),
        ("/healthz?verbose=1", ["verbose"]),
        ("/readyz?verbose=1", ["verbose"]),
        ("/metrics?name=x", ["name"]),
    ],
)
def test_an_unknown_parameter_is_400_naming_it(client, october_2021, path, unknown):
    withdrawal = october_2021["eln:2021-10:nato-accreditation-withdrawal"]
    refused(client.get(path.format(withdrawal=withdrawal["id"])), *unknown)


def test_the_refusal_lists_what_the_route_takes_as_it_declares_them(reader, october_2021):
    problem = refused(reader.get("/v1/incidents?knd=expulsion&kind=expulsion&knd=x&country=RUS"), "knd", "country")
    accepted = problem["accepted"]
    assert accepted[:3] == ["limit", "cursor", "format"]
    assert set(INCIDENT_PARAMS + ["status", "sort", "fields", "count"]) == set(accepted)
    assert "from" in accepted and "from_" not in accepted  # as a client writes it
    assert "`kind`" in problem["detail"] and "`from`" in problem["detail"]
    assert refused(reader.get("/healthz?x=1"), "x")["accepted"] == []


def test_every_operation_documents_its_400_with_the_parameters_it_takes(client):
    document = client.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answer = operation["responses"]["400"]
            assert "`unknown-parameter`" in answer["description"], (method, path)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    assert f"`{parameter['name']}`" in answer["description"], (method, path)
    assert "`unknown-parameter`" in document["info"]["description"]


def test_the_accepted_names_are_read_from_every_route_at_start_up(app):
    """Each route's names are its declared query parameters, read once: a route's entry is
    there before any request reaches it."""
    accepted = app.state.strict_query.accepted
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            assert id(context.original_route) in accepted, context.path
    listed = [c for c in iter_route_contexts(app.routes) if getattr(c, "path", None) == "/v1/incidents"]
    names = {accepted[id(c.original_route)] for c in listed if "GET" in c.methods}
    assert names == {frozenset(INCIDENT_PARAMS + ["status", "sort", "fields", "count"])}


def test_known_parameters_still_work(reader, october_2021):
    kinds = ["mission_suspension", "office_closure"]
    listed = reader.get("/v1/incidents", params={"kind": kinds, "from": "2021-01-01", "limit": 1})
    assert listed.status_code == 200, listed.text
    cursor = listed.json()["next_cursor"]
    walked = reader.get("/v1/incidents", params={"kind": kinds, "from": "2021-01-01", "cursor": cursor})
    assert walked.status_code == 200, walked.text
    assert sorted(i["kind"] for i in listed.json()["data"] + walked.json()["data"]) == kinds
    assert "russia" in [a["slug"] for a in reader.get("/v1/actors", params={"country": "RUS"}).json()["data"]]
    assert reader.get("/v1/incidents", params={"format": "csv", "kind": "expulsion"}).status_code == 200
    assert reader.get("/v1/exercises", params={"from": "2021-01-01", "to": "2021-12-31"}).status_code == 200
    assert reader.get("/v1/dyads/nato/russia", params={"as_of": "2021-10-20", "window_days": 30}).status_code == 200
    assert reader.get("/v1/changes", params={"after": 0, "limit": 5}).status_code == 200
    assert reader.get("/healthz").status_code == 200


def test_a_post_with_an_unknown_parameter_writes_nothing(writer, nato_russia):
    response = writer.post("/v1/actors?dry_run=true", json={"slug": "x", "name": "X", "kind": "state"})
    refused(response, "dry_run")
    assert writer.get("/v1/actors/x").status_code == 404


def test_the_pages_refuse_unknown_parameters_as_pages(anonymous, october_2021):
    response = anonymous.get("/incidents?knd=expulsion")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "knd" in unescape(response.text)
    assert anonymous.get("/stats?group_by=kind&country=RUS").status_code == 400


def _get_forms(text):
    """Each GET form of a page: its action and what its controls send once filled in (a
    date, a select's first choice; a text left empty is left out)."""
    for attributes, body in re.findall(r"<form([^>]*)>(.*?)</form>", text, re.S):
        if 'method="get"' not in attributes:
            continue
        action = re.search(r'action="([^"]*)"', attributes)
        values = []
        for tag, options in re.findall(r"(<(?:input|select)[^>]*>)(?:(.*?)</select>)?", body, re.S):
            name = re.search(r'name="([^"]*)"', tag)
            value = re.search(r'value="([^"]*)"', tag)
            if tag.startswith("<select"):
                value = re.search(r'value="([^"]+)"', options)
            if not name:
                continue
            if 'type="date"' in tag:
                values.append((name.group(1), "2021-10-20"))
            elif value and value.group(1):
                values.append((name.group(1), unescape(value.group(1))))
        yield (unescape(action.group(1)) if action else None), values


@pytest.mark.parametrize(
    "page", ["/", "/incidents", "/exercises", "/stats", "/actors/nato", "/dyads/nato/russia?as_of=2021-10-20"]
)
def test_each_pages_own_forms_still_work(anonymous, october_2021, page):
    text = anonymous.get(page).text
    forms = list(_get_forms(text))
    assert forms, page
    for action, values in forms:
        target = action or page.split("?")[0]
        response = anonymous.get(f"{target}?{urlencode(values)}", follow_redirects=True)
        assert response.status_code == 200, (page, target, values, response.text[:500])


def test_export_with_an_unknown_filter_fails_in_the_commands_words(client, database_url, tmp_path):
    assert demarche(database_url, "import", str(DEMO)).returncode == 0
    output = tmp_path / "incidents.ndjson"
    out = demarche(database_url, "export", "incidents", "--filter", "country=RUS", "--output", str(output))
    assert out.returncode == 1
    assert out.stdout == "" and not output.exists()
    assert "--filter: incidents cannot be filtered by 'country'" in out.stderr
    assert "kind, cameo, plover, actor, initiator, target, include_affiliated, from, to, q, tag, status" in out.stderr
    assert "400" not in out.stderr and "query." not in out.stderr
    known = demarche(database_url, "export", "incidents", "--filter", "kind=expulsion")
    assert known.returncode == 0, known.stderr
