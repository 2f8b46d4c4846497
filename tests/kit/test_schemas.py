"""Input is held to the served OpenAPI document: what its schemas allow is accepted, and what
they refuse is 422. Schemathesis checks this in CI (.ci/schemathesis); here each rule on which
the server and its spec once disagreed is pinned down, asking both."""

from typing import Any

import jsonschema_rs
import pytest

from tests.conftest import import_incident, make

INCIDENT = {
    "kind": "expulsion",
    "title": "T",
    "occurred_on": "2021-10-06",
    "initiators": ["nato"],
    "targets": ["russia"],
}
MERGE_PATCH = {"content-type": "application/merge-patch+json"}


@pytest.fixture
def spec(client) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def allows(spec: dict[str, Any], schema: dict[str, Any], value: Any) -> bool:
    """Whether ``value`` is valid against ``schema``, a schema of ``spec`` (formats included)."""
    root = {**schema, "components": spec["components"]}
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True).is_valid(value)


def component(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def parameter(spec: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    return next(p["schema"] for p in spec["paths"][path]["get"]["parameters"] if p["name"] == name)


DATE_PARAMETERS = [
    ("/v1/incidents", "from"),
    ("/v1/exercises", "active_on"),
    ("/v1/channels", "as_of"),
    ("/v1/timeline", "from"),
    ("/v1/stats/incidents", "to"),
    ("/v1/dyads/{a}/{b}", "as_of"),
]


@pytest.mark.parametrize(("path", "name"), DATE_PARAMETERS)
@pytest.mark.parametrize("value", ["0", "20211006", "2021-10-06T00:00:00", "2021-10-6"])
def test_a_date_in_a_query_is_yyyy_mm_dd_and_nothing_else(client, spec, nato_russia, path, name, value):
    url = path.replace("{a}", "nato").replace("{b}", "russia")
    assert client.get(url, params={name: value}).status_code == 422
    assert not allows(spec, parameter(spec, path, name), value)
    assert client.get(url, params={name: "2021-10-06"}).status_code == 200
    assert allows(spec, parameter(spec, path, name), "2021-10-06")


@pytest.mark.parametrize(
    ("collection", "component_name", "body"),
    [
        ("incidents", "IncidentCreate", INCIDENT | {"occurred_on": 0}),
        ("incidents", "IncidentCreate", INCIDENT | {"occurred_on": "0"}),
        ("sources", "SourceCreate", {"url": "https://example.org", "title": "T", "published_on": 0}),
        ("exercises", "ExerciseCreate", {"name": "N", "start_date": 0, "participants": [{"actor": "nato"}]}),
        (
            "channels",
            "ChannelCreate",
            {"name": "N", "kind": "hotline", "parties": ["nato", "russia"], "established_on": 0},
        ),
    ],
)
def test_a_date_in_a_body_is_yyyy_mm_dd_and_nothing_else(client, spec, nato_russia, collection, component_name, body):
    assert client.post(f"/v1/{collection}", json=body).status_code == 422
    assert not allows(spec, component(component_name), body)


def test_the_change_feed_takes_a_64_bit_after(client, spec):
    assert client.get("/v1/changes", params={"after": 2**63 - 1}).json() == {"data": [], "next_cursor": None}
    assert client.get("/v1/changes", params={"after": 2**63}).status_code == 422
    assert not allows(spec, parameter(spec, "/v1/changes", "after"), 2**63)


def test_text_is_measured_as_sent_then_kept_without_surrounding_whitespace(client, spec, nato_russia):
    limit = spec["components"]["schemas"]["IncidentCreate"]["properties"]["title"]["maxLength"]
    padded = " " + "x" * (limit - 1) + " "
    assert client.post("/v1/incidents", json=INCIDENT | {"title": padded}).status_code == 422
    assert not allows(spec, component("IncidentCreate"), INCIDENT | {"title": padded})
    fits = " " + "x" * (limit - 2) + " "
    assert allows(spec, component("IncidentCreate"), INCIDENT | {"title": fits})
    assert make(client, "incidents", **(INCIDENT | {"title": fits}))["title"] == "x" * (limit - 2)


@pytest.mark.parametrize("blank", [" ", "\t\n", "\u3000"])
def test_a_required_text_is_more_than_whitespace(client, spec, nato_russia, blank):
    for collection, component_name, body in [
        ("incidents", "IncidentCreate", INCIDENT | {"title": blank}),
        ("actors", "ActorCreate", {"slug": "belgium", "name": blank, "kind": "state"}),
        ("incidents", "IncidentCreate", INCIDENT | {"initiators": [blank]}),
    ]:
        assert client.post(f"/v1/{collection}", json=body).status_code == 422
        assert not allows(spec, component(component_name), body)


def test_a_merge_patch_may_clear_optional_fields_but_not_required_ones(client, spec, nato_russia):
    created = make(client, "incidents", **(INCIDENT | {"summary": "S", "tags": ["a"]}))
    for field in ("title", "occurred_on", "initiators"):
        patch = {field: None}
        response = client.patch(f"/v1/incidents/{created['id']}", json=patch, headers=MERGE_PATCH)
        assert response.status_code == 422, field
        assert not allows(spec, component("IncidentUpdate"), patch)
    patch = {"summary": None, "tags": None}
    assert allows(spec, component("IncidentUpdate"), patch)
    cleared = client.patch(f"/v1/incidents/{created['id']}", json=patch, headers=MERGE_PATCH).json()
    assert (cleared["summary"], cleared["tags"], cleared["version"]) == (None, [], 2)


@pytest.mark.parametrize("collection", ["Actor", "Source", "Incident", "Exercise", "Channel"])
def test_a_patch_schema_is_its_create_schema_with_every_field_optional(spec, collection):
    schemas = spec["components"]["schemas"]
    create, update = schemas[f"{collection}Create"], schemas[f"{collection}Update"]
    assert update.keys() >= {"properties", "additionalProperties"} and "required" not in update
    assert update["properties"].keys() == create["properties"].keys()
    for name, field in update["properties"].items():
        nullable = allows(spec, field, None)
        assert nullable == (name not in create["required"]), name


def test_group_by_takes_the_listed_values_and_no_other(client, spec):
    listed = parameter(spec, "/v1/stats/incidents", "group_by")["enum"]
    assert {"kind", "kind,month", "month,kind", "initiator,target"} <= set(listed)
    for value in listed:
        assert client.get("/v1/stats/incidents", params={"group_by": value}).status_code == 200, value
    for value in ["kind,kind", "kind, month", "kind,", "kind,month,year", "serbia"]:
        assert value not in listed
        assert client.get("/v1/stats/incidents", params={"group_by": value}).status_code == 422, value


@pytest.mark.parametrize("value", ["false", "RU", "RUSS", "R1S"])
def test_the_country_filter_takes_alpha_3_codes(client, spec, nato_russia, value):
    schema = parameter(spec, "/v1/actors", "country")
    assert client.get("/v1/actors", params={"country": value}).status_code == 422
    assert not allows(spec, schema, [value])
    assert [a["slug"] for a in client.get("/v1/actors", params={"country": "rus"}).json()["data"]] == ["russia"]
    assert allows(spec, schema, ["rus"])


@pytest.mark.parametrize("value", [True, "8", 8.5])
def test_numbers_are_json_numbers(client, spec, nato_russia, value):
    body = INCIDENT | {"persons_affected": value}
    assert client.post("/v1/incidents", json=body).status_code == 422
    assert not allows(spec, component("IncidentCreate"), body)


def test_a_whole_number_written_with_a_fraction_is_an_integer(client, spec, nato_russia):
    body = INCIDENT | {"persons_affected": 8.0, "latitude": 50}
    assert allows(spec, component("IncidentCreate"), body)
    created = make(client, "incidents", **body)
    assert (created["persons_affected"], created["latitude"]) == (8, 50.0)


def test_dry_run_is_true_or_false(client):
    body = [import_incident(1)]
    assert client.post("/v1/import", params={"dry_run": "yes"}, json=body).status_code == 422
    answer = client.post("/v1/import", params={"dry_run": "true"}, json=[])
    assert answer.status_code == 200 and answer.json()["dry_run"] is True


def test_member_names_of_an_object_hold_no_nul(client, spec):
    body = {"slug": "belgium", "name": "Belgium", "kind": "state", "external_ids": {"wiki\u0000data": "Q31"}}
    assert client.post("/v1/actors", json=body).status_code == 422
    assert not allows(spec, component("ActorCreate"), body)


def test_every_operation_that_needs_a_key_documents_401(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                assert "401" in operation["responses"], f"{method.upper()} {path}"


def test_import_lines_are_the_create_bodies_naming_their_type(client, spec, nato_russia):
    body = spec["paths"]["/v1/import"]["post"]["requestBody"]["content"]["application/json"]
    schemas = spec["components"]["schemas"]
    for line, create in [("Actor", "Actor"), ("Incident", "Incident"), ("ChannelStatus", "StatusChange")]:
        fields = set(schemas[f"{line}Line"]["properties"]) - {"type", "channel"}
        assert fields == set(schemas[f"{create}Create"]["properties"]), line
    assert allows(spec, body["schema"], body["example"])
    typo = [import_incident(1, titel="T")]
    assert client.post("/v1/import", json=typo).status_code == 422
    assert not allows(spec, body["schema"], typo)
    status_without_channel = [{"type": "channel_status", "status": "active", "effective_on": "2021-10-06"}]
    assert client.post("/v1/import", json=status_without_channel).status_code == 422
    assert not allows(spec, body["schema"], status_without_channel)


def test_an_import_line_whose_external_ref_is_not_a_text_is_a_bad_line(client, nato_russia):
    response = client.post("/v1/import", json=[import_incident(1, external_ref=[None, None])])
    assert response.status_code == 422
    assert response.json()["errors"][0]["errors"][0]["loc"] == ["external_ref"]
