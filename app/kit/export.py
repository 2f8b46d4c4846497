"""Streaming exports of a whole list: CSV, NDJSON and GeoJSON, in constant memory.

NDJSON lines are written by the database (each collection's ``record`` expression, see
:mod:`app.kit.sqljson`) and streamed as the driver hands them over: one statement, no record
built in Python. CSV and GeoJSON are built from hydrated records, a chunk at a time.

CSV flattens nested values: references become their natural keys (an actor's slug, a
source's url, an incident's ``external_ref``, looked up by the collection's ``csv_keys``; the
id where the record has no natural key), lists are joined with ``;``, participants are
``slug:role``, objects are JSON text. The header row is the record's field names in schema
order. So a CSV export imports back as it is (see app/ingest/files.py).
"""

import csv
import io
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import Engine, Select
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session
from starlette.responses import StreamingResponse

from app.kit import sqljson
from app.kit.collection import Collection, Hydrate, NaturalKeys
from app.kit.fields import Selection
from app.kit.pagination import EVERY_ROW, Listing, PageQuery, page_response, walk
from app.kit.reads import read, read_engine
from app.kit.responses import dumps

"""Adds to the references nested in records the natural key the answer leaves out (an
incident reference's ``external_ref``), for CSV."""


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"
    ndjson = "ndjson"
    geojson = "geojson"


MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.ndjson: "application/x-ndjson",
    ExportFormat.geojson: "application/geo+json",
}


def flatten(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(flatten_item(item) for item in value)
    if isinstance(value, dict):
        return flatten_item(value) if "id" in value else orjson.dumps(value).decode()
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return dumps(value).decode().strip('"')
    return str(value)


def flatten_item(item: Any) -> str:
    if isinstance(item, dict):
        if "actor" in item:
            return f"{item['actor']['slug']}:{item['role']}"
        return str(item.get("slug") or item.get("url") or item.get("external_ref") or item["id"])
    return flatten(item)


def _csv(columns: list[str], chunks: Iterator[list[dict]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for records in chunks:
        for record in records:
            writer.writerow([flatten(record.get(c)) for c in columns])
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def csv_response(columns: list[str], chunks: Iterator[list[dict]], name: str) -> StreamingResponse:
    """``chunks`` of records as a CSV file (header row ``columns``, values flattened as
    lists' are), streamed."""
    return StreamingResponse(
        _csv(columns, chunks),
        media_type=MEDIA_TYPES[ExportFormat.csv],
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


ROWS_PER_CHUNK = 2000
"""Lines fetched from the driver and sent at a time (about 2 MB of incidents)."""


def _ndjson(
    engine: Engine,
    listing: Listing,
    stmt: PageQuery,
    id_column: Any,
    record: sqljson.Record,
    selection: Selection | None = None,
) -> Iterator[bytes]:
    """Every row of the list as the record text the database writes: one statement on a
    connection of its own (one snapshot), streamed from the driver in chunks of lines, read
    ahead (:func:`_read_ahead`). With a ``selection``, each line is parsed and written again
    with its fields only."""

    def chunks() -> Iterator[list[str]]:
        with engine.connect() as connection:
            query = listing.apply(stmt, id_column, limit=EVERY_ROW).limit(None)
            query = query.with_only_columns(record(sqljson.RecordSQL(engine.dialect.name), query.selected_columns))
            sqljson.prepare(connection)
            result = connection.execution_options(yield_per=ROWS_PER_CHUNK).execute(query)
            yield from result.scalars().partitions()

    for lines in _read_ahead(chunks):
        if selection is not None:
            yield b"".join(selection.pick_text(line) + b"\n" for line in lines)
        else:
            yield ("\n".join(lines) + "\n").encode()


CHUNKS_AHEAD = 2
"""Chunks read from the database while the ones before are written and sent."""


def _read_ahead(produce: Callable[[], Iterator[Any]]) -> Iterator[Any]:
    """The items of ``produce()``, made in a thread of their own up to
    :data:`CHUNKS_AHEAD` ahead of the caller: the database writes the next chunk of an export
    while the process sends the last (PostgreSQL answers a server-side cursor's ``FETCH``
    only when asked, and waiting for it was 60% of an export's time in the process). Its
    exception is raised to the caller; a caller that stops early (a client gone) stops it,
    and its connection is closed in its thread."""
    items: queue.Queue[Any] = queue.Queue(CHUNKS_AHEAD)
    stopped = threading.Event()

    def put(item: Any) -> bool:
        while not stopped.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in produce():
                if not put((item, None)):
                    return
            put((_END, None))
        except Exception as exc:  # raised again where the items are taken
            put((None, exc))

    thread = threading.Thread(target=run, name="export-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, failure = items.get()
            if failure is not None:
                raise failure
            if item is _END:
                return
            yield item
    finally:
        stopped.set()
        thread.join()


_END = object()


def _geojson(chunks: Iterator[list[dict]], selection: Selection | None = None) -> Iterator[bytes]:
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for records in chunks:
        parts = []
        for record in records:
            lat, lon = record.get("latitude"), record.get("longitude")
            if lat is None or lon is None:
                continue
            feature = {
                "type": "Feature",
                "id": record["id"],
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": record if selection is None else selection.pick(record),
            }
            parts.append(dumps(feature))
        if parts:
            yield (b"" if first else b",") + b",".join(parts)
            first = False
    yield b"]}"


@dataclass(frozen=True)
class RecordFile:
    """A file format of one collection's own (incidents' PLOVER records), written from its
    records a chunk at a time: ``write`` turns one chunk into the file's bytes, with the
    session to look up what the records leave out."""

    media_type: str
    extension: str
    write: Callable[[Session, list[dict]], bytes]


def _chunks(
    engine: Engine,
    listing: Listing,
    stmt: Select,
    id_column: InstrumentedAttribute,
    hydrate: Hydrate,
    then: Callable[[Session, list[dict]], Any] | None = None,
) -> Iterator[Any]:
    """Every matching record, a chunk at a time, on a session of its own; with ``then``, what
    it makes of each chunk."""
    with Session(engine) as session:
        for rows in walk(session, listing, stmt, id_column):
            records = hydrate(session, rows)
            yield records if then is None else then(session, records)


def export_response(
    fmt: ExportFormat | RecordFile,
    engine: Engine,
    listing: Listing,
    stmt: Select,
    id_column: InstrumentedAttribute,
    hydrate: Hydrate,
    columns: list[str],
    name: str,
    record: sqljson.Record,
    selection: Selection | None = None,
    csv_keys: NaturalKeys | None = None,
    headers: Mapping[str, str] | None = None,
) -> StreamingResponse:
    """Stream every row matching ``stmt`` in ``fmt``, on a connection of its own; with a
    ``selection``, only its fields (CSV: its columns; GeoJSON: its properties)."""

    def keyed(session: Session, records: list[dict]) -> list[dict]:
        if csv_keys:
            csv_keys(session, records)
        return records

    if isinstance(fmt, RecordFile):
        body: Iterator[bytes] = _chunks(engine, listing, stmt, id_column, hydrate, fmt.write)
        media_type, extension = fmt.media_type, fmt.extension
    else:
        if fmt is ExportFormat.csv:
            wanted = [c for c in columns if selection is None or c in selection.wanted]
            body = _csv(wanted, _chunks(engine, listing, stmt, id_column, hydrate, keyed))
        elif fmt is ExportFormat.geojson:
            body = _geojson(_chunks(engine, listing, stmt, id_column, hydrate), selection)
        else:
            body = _ndjson(engine, listing, stmt, id_column, record, selection)
        media_type, extension = MEDIA_TYPES[fmt], fmt.value
    return StreamingResponse(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}.{extension}"', **(headers or {})},
    )


async def list_response(
    request: Any,
    session: Session,
    listing: Listing,
    fmt: ExportFormat | RecordFile,
    stmt: Select,
    collection: Collection,
    selection: Selection | None = None,
    count: bool = False,
    headers: Mapping[str, str] | None = None,
    known: Callable[[Session, bool], None] | None = None,
) -> Any:
    """A page of JSON (read as :func:`app.kit.reads.read` runs reads), or with ``format`` the
    whole list streamed as a file (``headers`` added to its answer); with a ``selection``, the
    records' fields it names only. With ``count``, a JSON page also holds the ``total`` (files
    hold every row anyway). ``known`` checks the records the filters name
    (:func:`app.kit.pagination.page_response`); a file checks them before its first row."""
    if fmt is ExportFormat.json:
        texts = collection.page_texts
        if selection is not None:
            texts = selection.texts(texts)
        return await read(
            session,
            page_response,
            request,
            listing,
            session,
            stmt,
            collection.id_column,
            texts,
            collection.page_columns,
            count,
            known,
        )
    if known is not None:
        await read(session, known, session, True)
    listing.after = None  # an export is every matching row, wherever a cursor pointed
    return export_response(
        fmt,
        await read(session, read_engine, session),  # the primary, or a replica that is up to date
        listing,
        stmt,
        collection.id_column,
        collection.hydrate,
        list(collection.public_model.model_fields),
        collection.name,
        collection.record,
        selection,
        collection.csv_keys,
        headers,
    )
