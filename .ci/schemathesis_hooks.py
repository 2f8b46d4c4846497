"""Schemathesis hooks for .ci/schemathesis.

The fuzzer is made to send what a real client sends, where the spec cannot say it:

- ``POST /v1/import`` also takes NDJSON, which the spec documents as text (one JSON record a
  line): send it as such.
- ``Idempotency-Key``: a client sends a new key with every new request, and an old one only to
  retry the very same request. The fuzzer draws the header from its schema and reuses values
  with other requests, which the server rightly refuses (422, API.md). Each request gets a new
  key, unless the drawn one is malformed (a negative case, sent as drawn). The key is set on
  the request as it leaves, so the case itself (and how it was generated) is left as drawn.
- ``sort=relevance`` ranks by a search: a client asks for it with a search text ``q`` (without
  one it is 422, as the parameter says).

An import's body goes with its ``from``: a data set's file (TSV, CSV, zip, bytes) is sent with
``from`` only, and import lines (a JSON array, NDJSON) without it (see ``_file_against_from``).

Cases are also kept to what they claim to be. A query carries text: whatever is drawn for a
free-text parameter (``q``, ``publisher``, ``actor``...), a number, an array, ``false``,
reaches the server as valid text unless it holds a NUL, and an optional parameter drawn as
``null`` or empty is not sent at all. A case whose only violations are of these kinds is not
negative on the wire, and is not sent as one.

A check, ``refusal_by_design``, keeps the statuses that .ci/schemathesis.toml adds to
``positive_data_acceptance`` to their documented reasons: schema-valid input refused with 400
must be a cursor the server did not sign, and with 422 only for a rule the schema cannot state
(a reference to a record that does not exist or is named twice, a record referring to itself
or merged with itself or with a retracted one, dates in the wrong order or in the future, a
source with neither a url nor a publisher and an external_ref, a span too long to count by
month, actor filters past their terms).
Any other refusal still fails.
An import sent as NDJSON is text to the spec, which cannot describe its lines: its 422 is not
held to these reasons. Nor can it describe a data set's file (an import with ``from``): a body
that is no file of that format (no header row where one is due, a broken zip archive) is 422
``unreadable_file``.
"""

import re
import uuid

import requests
import schemathesis
from schemathesis.core.parameters import ParameterLocation

schemathesis.serializer.alias("application/x-ndjson", "text/plain")

IDEMPOTENCY_KEY = "Idempotency-Key"
WELL_FORMED_KEY = re.compile(r"[!-~]{1,255}")


class _NewIdempotencyKey(requests.auth.AuthBase):
    def __call__(self, request):
        request.headers[IDEMPOTENCY_KEY] = uuid.uuid4().hex
        return request


@schemathesis.hook
def before_call(context, case, kwargs):
    key = (case.headers or {}).get(IDEMPOTENCY_KEY)
    if isinstance(key, str) and WELL_FORMED_KEY.fullmatch(key):
        kwargs["auth"] = _NewIdempotencyKey()


NO_NUL = "^[^\\u0000]*$"
"""The pattern the spec gives free text (app/kit/openapi.py): any text without NUL."""
ANNOTATIONS = {"type", "pattern", "title", "description", "default", "examples"}


@schemathesis.hook
def filter_case(context, case):
    return (
        not _relevance_without_search(case)
        and not _negated_only_as_text(case)
        and not _file_against_from(case)
    )


IMPORT_LINE_TYPES = ("application/json", "application/x-ndjson")


def _file_against_from(case):
    """Whether an import's body does not go with its ``from``, as no client sends it: a data
    set's file (TSV, CSV, zip, bytes) without ``from`` (it is 415: its media type is taken with
    ``from`` only), or with ``from`` a JSON or NDJSON body drawn from the schema of import
    lines, which is what they are without ``from`` (with ``from=plover`` they hold PLOVER
    records, which the spec cannot tell apart, and a body the spec would call the wrong type is
    still text on the wire; the tests send them)."""
    if case.operation.label != "POST /v1/import":
        return False
    converted = bool((case.query or {}).get("from"))
    if not converted:
        return case.media_type is not None and case.media_type not in IMPORT_LINE_TYPES
    return case.media_type in IMPORT_LINE_TYPES


def _relevance_without_search(case):
    query = case.query or {}
    return query.get("sort") in ("relevance", "-relevance") and not query.get("q")


def _negated_only_as_text(case):
    """Whether the case's only violations are in query parameters that are free text (and
    get no NUL) or optional and not sent."""
    meta = case.meta
    mutations = getattr(meta.phase.data, "mutations", ()) if meta is not None else ()
    if not mutations or not meta.generation.mode.is_negative:
        return False
    if any(info.mode.is_negative for location, info in meta.components.items() if location != ParameterLocation.QUERY):
        return False
    return all(_void_on_the_wire(case, mutation) for mutation in mutations)


def _void_on_the_wire(case, mutation):
    parameter = case.operation.query.get(mutation.parameter or "")
    if mutation.parameter_location != ParameterLocation.QUERY or parameter is None:
        return False
    value = (case.query or {}).get(mutation.parameter)
    if _sends_nothing(value):
        return not parameter.is_required
    return _any_text(parameter.validation_schema) and not _holds_nul(value)


def _sends_nothing(value):
    """Whether a query value is left out of the URL: null, ``{}``, or a list of such."""
    return value is None or value == {} or (isinstance(value, list) and all(map(_sends_nothing, value)))


def _holds_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(map(_holds_nul, (*value, *value.values())))
    return isinstance(value, list) and any(map(_holds_nul, value))


def _any_text(schema):
    """Whether ``schema`` (or, for a repeated parameter, its items) takes any text."""
    if "anyOf" in schema:
        return any(_any_text(branch) for branch in schema["anyOf"])
    if schema.get("type") == "array":
        return _any_text(schema.get("items", {}))
    return schema.get("type") == "string" and schema.keys() <= ANNOTATIONS and schema.get("pattern", NO_NUL) == NO_NUL


REFERENCE_ERRORS = {"unknown_reference", "repeated_reference", "duplicate_key", "conflict"}
"""Error types of references to records that do not exist or are named twice, and of natural
keys named by two lines of one import (``duplicate_key``) or taken by another record (a 409
on its own; in an import, a bad line)."""
RULES = (
    (("path", "b"), "A dyad needs two different actors."),
    (("query",), "actor, initiator and target expand to"),
    (("query", "group_by"), "Grouping by month covers at most"),
    (("query", "fields"), "fields does not apply to format=plover"),
    (("body",), "end_date is before start_date"),
    (("body",), "announced_on is after effective_on"),
    (("body",), "A source needs a url, or a publisher and an external_ref"),
    (("body", "affiliation"), "An actor cannot be affiliated to itself."),
    (("body", "responds_to"), "An incident cannot respond to itself."),
    (("body", "merged"), "An incident cannot be merged with itself."),
    (("body", "merged"), "is retracted: restore it first"),
    (("body", "occurred_on"), "in the future"),
    (("body", "announced_on"), "in the future"),
    (("body", "announced_on"), "more than 366 days ahead"),
    (("body", "effective_on"), "more than 366 days ahead"),
)
"""Where a rule beyond the schema applies, and words of what it says."""


def _by_design(error, within=()):
    if "line" in error:  # an import's line, whose errors are located within the line's record
        return all(_by_design(e, ("body",)) for e in error["errors"])
    if error["type"] in REFERENCE_ERRORS or error["type"] == "unreadable_file":
        return True
    loc = (*within, *map(str, error["loc"]))
    return any(loc[: len(where)] == where and said in error["msg"] for where, said in RULES)


@schemathesis.check
def refusal_by_design(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    status = str(response.status_code)
    if status not in ctx.config.positive_data_acceptance.expected_statuses:
        return None
    if response.status_code == 400:
        problem = response.json()
        if problem["type"] != "/problems/invalid-cursor":
            raise AssertionError(f"Schema-valid input refused with 400, not for its cursor: {problem}")
    elif response.status_code == 422 and case.media_type != "application/x-ndjson":
        problem = response.json()
        errors = problem.get("errors")
        if not errors or not all(_by_design(error) for error in errors):
            raise AssertionError(f"Schema-valid input refused with 422 for no documented rule: {problem}")
    return None
