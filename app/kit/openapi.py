"""What the OpenAPI document says beyond what FastAPI derives from each route: the
problem-details schemas that every error answer refers to, the schemas of request bodies
written by hand, the files a list streams when asked for another ``format``, and that no text
holds a NUL character (422: PostgreSQL cannot store one)."""

import copy
from typing import Any

from fastapi import FastAPI

from app.kit.export import MEDIA_TYPES, ExportFormat
from app.kit.problems import SCHEMA_REF, ProblemDetail, responses

EXPORT_SCHEMAS = {
    ExportFormat.csv: {"type": "string", "description": "CSV with a header row; a list is joined with `;`."},
    ExportFormat.ndjson: {"type": "string", "description": "One JSON record a line."},
    ExportFormat.geojson: {
        "type": "object",
        "description": "A GeoJSON FeatureCollection of the rows with coordinates.",
    },
}


def install(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            # A copy: FastAPI puts the routes' own dicts (``openapi_extra``) in the document.
            document = copy.deepcopy(build())
            _add_problem_schemas(document)
            _add_body_schemas(document)
            _add_export_media_types(document)
            _add_unknown_parameter_answers(document)
            _admit_selected_fields(document)
            _forbid_nul(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi


def _add_problem_schemas(document: dict[str, Any]) -> None:
    schema = ProblemDetail.model_json_schema(ref_template=SCHEMA_REF)
    document.setdefault("components", {}).setdefault("schemas", {}).update(schema.pop("$defs"), ProblemDetail=schema)


def _add_body_schemas(document: dict[str, Any]) -> None:
    """A request body written by hand (``openapi_extra``) carries the schemas it refers to in
    ``$defs``; they join the components."""
    schemas = document["components"]["schemas"]
    for operation in (op for path in document["paths"].values() for op in path.values()):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            for name, schema in media["schema"].pop("$defs", {}).items():
                schemas.setdefault(name, schema)


def _add_export_media_types(document: dict[str, Any]) -> None:
    """Every operation with a ``format`` parameter documents the media types it streams."""
    for operation in (op for path in document["paths"].values() for op in path.values()):
        if any(p["name"] == "format" and p["in"] == "query" for p in operation.get("parameters", ())):
            content = operation["responses"]["200"]["content"]
            for fmt, media_type in MEDIA_TYPES.items():
                content[media_type.split(";")[0]] = {"schema": dict(EXPORT_SCHEMAS[fmt])}


def _add_unknown_parameter_answers(document: dict[str, Any]) -> None:
    """Every operation refuses a query parameter it does not take (400, ``unknown-parameter``,
    :mod:`app.kit.queries`): its 400 answer says so, and names the ones it takes."""
    for operation in (op for path in document["paths"].values() for op in path.values()):
        names = [p["name"] for p in operation.get("parameters", ()) if p["in"] == "query"]
        takes = (
            f"The query parameters it takes: {', '.join(f'`{name}`' for name in names)}."
            if names
            else "It takes no query parameter."
        )
        if "fields" in names:
            takes += " A `fields` naming a field the record lacks is 400 too (`unknown-field`)."
        given = operation["responses"].get("400")
        if given is None:
            given = responses(400)[400] | {
                "description": "A query parameter this operation does not take (`unknown-parameter`): `errors` "
                "names each, `accepted` lists those it takes."
            }
        # a new dict: operations share the ones they were declared with
        operation["responses"]["400"] = given | {"description": f"{given['description']} {takes}"}
    for path in document["paths"].values():
        for method, operation in path.items():
            path[method]["responses"] = dict(sorted(operation["responses"].items()))


def _admit_selected_fields(document: dict[str, Any]) -> None:
    """An operation that takes ``fields`` answers records of the named fields only: its
    records are the whole record or a selection of it (``{Model}Fields``: the same fields,
    none required)."""
    schemas = document["components"]["schemas"]
    for operation in (op for path in document["paths"].values() for op in path.values()):
        if not any(p["name"] == "fields" and p["in"] == "query" for p in operation.get("parameters", ())):
            continue
        media = operation["responses"]["200"]["content"]["application/json"]
        name = media["schema"]["$ref"].rsplit("/", 1)[-1]
        data = schemas[name]["properties"].get("data") if name.startswith("Page_") else None
        if data is None:
            media["schema"] = _whole_or_selected(schemas, name)
        elif "$ref" in data["items"]:
            data["items"] = _whole_or_selected(schemas, data["items"]["$ref"].rsplit("/", 1)[-1])


def _whole_or_selected(schemas: dict[str, Any], name: str) -> dict[str, Any]:
    selected = f"{name}Fields"
    if selected not in schemas:
        schema = copy.deepcopy(schemas[name])
        schema.pop("required", None)
        schema["title"] = selected
        schema["description"] = f"Some fields of a `{name}`, those `fields` names, in the same order."
        schemas[selected] = schema
    return {"anyOf": [{"$ref": SCHEMA_REF.format(model=name)}, {"$ref": SCHEMA_REF.format(model=selected)}]}


NO_NUL = "^[^\\u0000]*$"


def _forbid_nul(node: Any) -> None:
    """Give every free-text string schema (no format, enum or pattern of its own), and the
    member names of every free-form object, a pattern that excludes NUL, the rule the server
    applies to the path, the query and the body."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not node.keys() & {"format", "enum", "pattern", "const"}:
            node["pattern"] = NO_NUL
        if node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
            node.setdefault("propertyNames", {"pattern": NO_NUL})
        for value in node.values():
            _forbid_nul(value)
    elif isinstance(node, list):
        for value in node:
            _forbid_nul(value)
