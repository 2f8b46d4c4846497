from collections.abc import Iterator
from email.message import Message
from tempfile import SpooledTemporaryFile
from typing import IO, Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool

from app.access.deps import WriteScope
from app.db import SessionDep
from app.ingest import converters
from app.ingest.models import IMPORT_LINES, ImportResult
from app.ingest.names import FORMATS, TYPES
from app.ingest.service import Importer
from app.kit.guards import IMPORT_PATH, NDJSON_TYPE, has_escaped_nul
from app.kit.problems import SCHEMA_REF, MalformedJSON, invalid, responses

router = APIRouter(tags=["import"])

BATCH_LINES = 1000
"""Lines handed to the database at a time."""
CONVERTED_BATCH_LINES = 5000
"""Lines of a converted file handed to the database at a time: small dicts, and each batch
looks up the stored records its lines name in a few statements, so fewer batches look up
fewer times."""
SPOOL_BYTES = 8 * 1024 * 1024
"""An NDJSON body is kept in memory up to this size while it arrives, then in a temporary file."""

_EXAMPLE_LINES = [
    {"type": "actor", "slug": "nato", "name": "NATO", "kind": "organization"},
    {"type": "actor", "slug": "russia", "name": "Russia", "kind": "state", "country_code": "RUS"},
    {
        "type": "incident",
        "kind": "mission_suspension",
        "title": "Russia suspends its permanent mission to NATO",
        "occurred_on": "2021-10-18",
        "initiators": ["russia"],
        "targets": ["nato"],
        "external_ref": "eln:2021-10-18:russia-suspends-mission",
    },
]
REQUEST_BODY = {
    "required": True,
    "content": {
        NDJSON_TYPE: {
            "schema": {"type": "string", "description": "One JSON record a line, each as an item of the JSON form."},
            "example": "\n".join(orjson.dumps(line).decode() for line in _EXAMPLE_LINES) + "\n",
        },
        "application/json": {
            "schema": {
                **IMPORT_LINES.json_schema(ref_template=SCHEMA_REF),
                "description": "Records of every type, each naming its `type`, with the fields of that type's "
                "create body (a `channel_status` line also names its `channel`).",
            },
            "example": _EXAMPLE_LINES,
        },
        "text/tab-separated-values": {
            "schema": {"type": "string", "format": "binary"},
            "description": "With `from=gdelt` or `from=icews`: the data set's own file.",
        },
        "text/csv": {
            "schema": {"type": "string", "format": "binary"},
            "description": "With `from=gdelt` (with a header) or `from=acled`.",
        },
        "application/zip": {
            "schema": {"type": "string", "format": "binary"},
            "description": "With `from`: a zip archive of files of that format (as GDELT publishes its exports).",
        },
        "application/octet-stream": {
            "schema": {"type": "string", "format": "binary"},
            "description": "With `from`: a file of that format, zipped or not.",
        },
    },
}
IMPORT_ERRORS = responses(400, 401, 403, 409, 413, 415, 422, 429)
IMPORT_ERRORS[422] = {
    **IMPORT_ERRORS[422],
    "description": "Some lines are bad and nothing was written: `errors` holds "
    '`{"line": n, "errors": [{"loc", "msg", "type"}]}` for the first 100 bad lines, in order (lines count '
    "from 1), each with at most 20 errors; `detail` says how many lines are bad in all.",
}


def _true_or_false(value: object) -> object:
    """``true`` or ``false`` (or ``1``, ``0``), as a query writes a boolean; pydantic alone
    also reads ``yes``, ``on``, ``t`` and others."""
    if isinstance(value, str) and value.lower() not in {"true", "false", "1", "0"}:
        raise ValueError("Expected true or false.")
    return value


@router.post(
    IMPORT_PATH,
    name="import",
    summary="Import records in bulk",
    response_model=ImportResult,
    responses=IMPORT_ERRORS,
    openapi_extra={"requestBody": REQUEST_BODY},
)
async def import_records(
    caller: WriteScope,
    request: Request,
    session: SessionDep,
    dry_run: Annotated[
        bool, BeforeValidator(_true_or_false), Query(description="Validate and count, but write nothing.")
    ] = False,
    type_: Annotated[
        Literal[TYPES] | None,
        Query(
            alias="type",
            description="The record type of lines that do not name one (as in an export). Ignored with `from`.",
        ),
    ] = None,
    from_: Annotated[
        Literal[FORMATS] | None,
        Query(
            alias="from",
            description="The body is a file of an event data set, converted here: `gdelt` (a GDELT 2.0 event export: "
            "61 tab-separated columns without a header, as published, or the same columns with a header row, "
            "tab- or comma-separated), `icews` (an ICEWS event file: tab-separated with its header row), `acled` "
            "(an ACLED export, CSV with its header row, as the API and the website give it) or `plover` "
            "(PLOVER/POLECAT records: JSON lines, or one JSON array). Any of them may be zipped (each member of "
            "the archive is read in turn). Only rows in the diplomatic space are kept (see `GET /v1/vocabularies`, "
            "`cameo`, and docs/event-data.md for each format's mapping); the answer's `conversion` counts every "
            "row read, kept or skipped (by reason and code), and every source field dropped. With `from`, `type` "
            "is ignored: the converter names each line's type.",
        ),
    ] = None,
) -> Any:
    """Create or update records of every type from NDJSON (`application/x-ndjson`, one record
    a line) or a JSON array. Lines name their `type` (or take the `type` parameter's) and
    refer to each other by slug or `external_ref`, earlier lines of the same import included.
    A record whose natural key (`external_ref`, an actor's `slug`, a source's `url`) exists is
    written over when anything differs and left alone otherwise; others are created. A
    retracted record's natural key is left alone and counted under `retracted`, unless the line
    asks for `status: published` (incidents, exercises): that restores it, with the line's
    fields, as a new version with op `restore` in the change feed (counted under `updated`).
    The whole import is one transaction: one bad line and nothing is written. A natural key
    named twice in one import is a bad line. Blank NDJSON lines are skipped but counted.
    Writing starts once the whole body has arrived, so a slow upload holds no lock that other
    writers wait for.

    A line may also be a record as the API answers it, so that an export (`format=ndjson`, or
    the `data` of JSON pages) imports back as it is, reporting every record `unchanged`:

    - read-only fields (`created_at`, `updated_at`, `version`, and what the server works out,
      such as a channel's `status` and `status_history`) are accepted and ignored: they are not
      compared, and a different value is no error. A channel's status changes are imported as
      `channel_status` lines, not through `status_history`;
    - `id`, when a stored record (retracted ones included) has it, names the record the line
      writes over, before any natural key (so that records without one read back onto
      themselves); an id that is not stored is ignored, and the line is matched by its natural
      key or creates a record with a new id;
    - references may be the objects an answer nests: an actor `{"id", "slug", "name"}` is
      taken by its slug, a source `{"id", "title", "url"}` by its url, an incident by its id,
      a participant `{"actor": {...}, "role"}` as `{"actor": slug, "role"}`.

    With `from`, the body is an event data set's own file (GDELT 2.0, ICEWS, ACLED, PLOVER;
    zipped or not), converted here, row by row, into incident lines and the source and state
    actor lines they need, then imported as above (one transaction; bad lines are named by the
    row of the file they come from). Only rows in the diplomatic space are kept: the CAMEO codes
    of the `cameo` vocabulary (each to the one kind it lists), the PLOVER events and modes that
    map to them, and ACLED's strategic developments between the state forces of two countries
    (as `other`); docs/event-data.md maps every field of every format. A side of an event is
    the `state` actor of its country (ISO alpha-3, a CAMEO actor code's first three letters, a
    FIPS 10-4 code, an English country name), created (slug from the ISO name, `external_ref`
    `iso3:XXX`) when none is stored. A source is made from an http(s) URL the row gives (never
    written over when its URL is stored). The answer's `conversion` counts every row read as
    kept or skipped (by reason, then by event code), every actor code naming no country, and
    every source field of a kept row that has no place in the record yet (dropped, by field). A
    file that is not of the format at all (empty, no header where one is due, a broken zip) is
    422 (`unreadable_file`)."""
    if from_ is not None:
        return await _convert(from_, request, session, dry_run)
    importer = Importer(session, dry_run=dry_run, default_type=type_)
    if _media_type(request) == NDJSON_TYPE:
        with SpooledTemporaryFile(SPOOL_BYTES) as body:
            async for chunk in request.stream():
                body.write(chunk)
            body.seek(0)
            return await run_in_threadpool(_import, importer, _ndjson_batches(body))
    return await run_in_threadpool(_import, importer, _array_batches(await request.body()))


TEXT_TYPES = (NDJSON_TYPE, "application/json")
"""The bodies the API describes as text, which holds no NUL; a data set's file (TSV, CSV, zip,
bytes) is a file, whose rows holding a NUL are bad rows, counted."""


async def _convert(format_: str, request: Request, session: SessionDep, dry_run: bool) -> dict[str, Any]:
    """A file of an event data set, converted (:mod:`app.ingest.converters`) and imported
    as one import: spooled to a temporary file as it arrives, then read row by row."""
    nul = False
    with SpooledTemporaryFile(SPOOL_BYTES) as body:
        async for chunk in request.stream():
            body.write(chunk)
            nul = nul or b"\x00" in chunk
        if not body.tell():
            raise invalid(["body"], f"The body is empty: send a {format_} file.", "unreadable_file")
        if nul and _media_type(request) in TEXT_TYPES:  # text, where a file's rows may hold a NUL
            raise invalid(["body"], "The body contains a NUL character.")
        body.seek(0)
        return await run_in_threadpool(_import_converted, format_, body, session, dry_run)


def _import_converted(format_: str, body: IO[bytes], session: SessionDep, dry_run: bool) -> dict[str, Any]:
    report = converters.Report(format_)
    importer = Importer(session, dry_run=dry_run)
    lines = converters.convert(format_, body, converters.Lookup(session, report))
    try:
        for batch in _batched(lines):
            importer.feed(batch)
    except converters.ConversionError as exc:
        session.rollback()
        raise invalid(["body"], str(exc), "unreadable_file") from None
    return {**importer.result(), "conversion": report.as_dict()}


def _batched(lines: Iterator[tuple[int, Any]]) -> Iterator[list[tuple[int, Any]]]:
    batch: list[tuple[int, Any]] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= CONVERTED_BATCH_LINES:
            yield batch
            batch = []
    if batch:
        yield batch


def _import(importer: Importer, batches: Iterator[list[tuple[int, Any]]]) -> dict[str, Any]:
    """Write every batch, then answer the counts. This starts once the whole body has
    arrived: a writer holds the database (on SQLite, its one write lock) for the time the
    writing takes, never for the time a slow client takes to send."""
    for batch in batches:
        importer.feed(batch)
    return importer.result()


def _media_type(request: Request) -> str:
    message = Message()
    message["content-type"] = request.headers.get("content-type", "")
    return message.get_content_type()


def _ndjson_batches(body: IO[bytes]) -> Iterator[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    for number, line in enumerate(body, start=1):
        if line.strip():
            batch.append((number, line))
        if len(batch) >= BATCH_LINES:
            yield batch
            batch = []
    if batch:
        yield batch


def _array_batches(body: bytes) -> Iterator[list[tuple[int, Any]]]:
    try:
        items = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedJSON("The request body is not valid JSON.") from None
    if not isinstance(items, list):
        raise invalid(["body"], "Send a JSON array of records, or NDJSON.", "list_type")
    if has_escaped_nul(body):
        raise invalid(["body"], "The body contains a NUL character.")
    for start in range(0, len(items), BATCH_LINES):
        yield list(enumerate(items[start : start + BATCH_LINES], start=start + 1))
