"""``demarche import`` and ``demarche export``: files in and out, through the API.

Both talk to a running server (``--url`` and ``--key``, or ``DEMARCHE_URL`` and
``DEMARCHE_KEY``). Without a URL they serve the configured database in this process, on a
free local port, with a write key made for the run and revoked after it, so that files go
through exactly the same checks either way.

What a command needs beyond the client is imported when it runs, not with the module (see
:mod:`app.cli`).
"""

import hashlib
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from demarche_client import Client, DemarcheError, ImportCounts

from app.ingest.names import FORMATS, TYPES

if TYPE_CHECKING:
    from app.ingest.files import Record

UrlOption = Annotated[
    str | None,
    typer.Option(envvar="DEMARCHE_URL", help="The server, e.g. http://127.0.0.1:8000; none: the configured database."),
]
KeyOption = Annotated[str | None, typer.Option(envvar="DEMARCHE_KEY", help="API key.", show_default=False)]
COLLECTIONS = ["actors", "sources", "incidents", "exercises", "channels"]
GEOJSON_COLLECTIONS = ["incidents", "exercises"]
"""The collections whose records have coordinates, and so a GeoJSON export."""

ExportCollection = StrEnum("ExportCollection", {name: name for name in COLLECTIONS})
ExportFormat = StrEnum("ExportFormat", {name: name for name in ("ndjson", "csv", "geojson", "plover")})
RecordType = StrEnum("RecordType", {name: name for name in TYPES})
SourceFormat = StrEnum("SourceFormat", {name: name for name in FORMATS})
CHUNK_BYTES = 1 << 20
"""A converted file is sent in chunks of this size, never read whole."""


def _import_converted(file: Path, format_: str, url: str | None, key: str | None, dry_run: bool) -> None:
    """One file of an event data set, converted and imported by the server; its report printed."""

    def chunks() -> Iterator[bytes]:
        with file.open("rb") as content:
            yield from iter(lambda: content.read(CHUNK_BYTES), b"")

    try:
        with _service(url, key, timeout=None) as client:
            response = client.request(
                "POST",
                "/v1/import",
                params={"from": format_, "dry_run": "true" if dry_run else "false"},
                content=chunks(),  # type: ignore[arg-type]  # httpx streams an iterator of bytes
                headers={"Content-Type": "application/octet-stream"},
            )
    except DemarcheError as exc:
        _fail(f"{file.name}: {_describe(exc, [], 1) if exc.status != 422 else exc.detail}" + _errors(exc))
    answer = response.json()
    typer.echo(f"{file.name}: {_conversion(answer['conversion'])}")
    typer.echo(("dry run: " if dry_run else "") + _outcomes({k: answer[k] for k in OUTCOME_KEYS}))


OUTCOME_KEYS = ("created", "updated", "unchanged", "retracted", "merged")


def _errors(exc: DemarcheError) -> str:
    """The bad lines of a refused conversion, by the row of the file they come from."""
    lines = []
    for entry in exc.errors[:20]:
        if "line" in entry:
            for error in entry["errors"]:
                lines.append(f"\n  row {entry['line']}: {'.'.join(map(str, error['loc'])) or '(row)'}: {error['msg']}")
        elif entry.get("msg"):
            lines.append(f"\n  {entry['msg']}")
    return "".join(lines)


def _conversion(report: dict[str, Any]) -> str:
    """A converter's report in a few lines."""

    def counts(by: dict[str, int]) -> str:
        return ", ".join(f"{name} ×{n}" for name, n in by.items()) or "none"

    parts = [f"read {report['rows']} rows, kept {report['kept']}, skipped {report['skipped_total']}"]
    for reason, by_code in report["skipped"].items():
        parts.append(f"  skipped {reason}: {counts(by_code)}")
    if report["unmapped_actors"]:
        parts.append(f"  actors naming no country: {counts(report['unmapped_actors'])}")
    if report["actors_created"]:
        parts.append(f"  actors created: {', '.join(report['actors_created'])}")
    parts.append(f"  source fields dropped (no place yet), by rows: {counts(report['dropped'])}")
    return "\n".join(parts)


def import_file(
    files: Annotated[
        list[Path],
        typer.Argument(
            exists=True,
            dir_okay=False,
            help=".ndjson, .jsonl, .json or .csv; with --from, files of that data set (zipped or not).",
        ),
    ],
    from_: Annotated[
        SourceFormat | None,
        typer.Option(
            "--from",
            help="The files are an event data set's own: GDELT 2.0 event exports, ICEWS event files, ACLED "
            "exports or PLOVER/POLECAT records, converted by the server (POST /v1/import?from=…), each file one "
            "import.",
        ),
    ] = None,
    type_: Annotated[
        RecordType | None, typer.Option("--type", help="Record type of lines that do not name one.")
    ] = None,
    url: UrlOption = None,
    key: KeyOption = None,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="Records a request.")] = 1000,
    dry_run: Annotated[bool, typer.Option(help="Check every record, write nothing.")] = False,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="New idempotency keys: compare every record with what is stored again, instead of replaying "
            "the answers of an earlier run of the same file.",
        ),
    ] = False,
) -> None:
    """Create or update the records of FILE, in batches; rerun it after a failure and the
    batches already done are not written twice.

    Each batch's idempotency key comes from the file's content and the batch's place in it, so
    a rerun of the same file replays the batches an earlier run finished (while the server
    keeps their keys, 24 hours by default): they are reported as replayed, and nothing of them
    is written or compared again, even if the stored records were edited since. --fresh makes
    new keys: every record is compared with what is stored and reported created, updated or
    unchanged.

    With --from, each FILE is sent whole to the server, which converts it and imports the rows in
    the diplomatic space as one transaction, then answers what it read, kept, skipped (by
    reason and event code) and dropped; that report is printed for each file."""
    if from_ is not None:
        if type_ is not None:
            _fail("--type names the type of NDJSON lines; --from files have none.")
        for file in files:
            _import_converted(file, from_.value, url, key, dry_run)
        return
    for file in files:
        _import_one(file, type_, url, key, batch_size, dry_run, fresh)


def _import_one(
    file: Path, type_: Any, url: str | None, key: str | None, batch_size: int, dry_run: bool, fresh: bool
) -> None:
    from app.ingest.files import FileError, read_records

    try:
        type_ = type_ and type_.value
        total = _count(file, type_)
        batches = -(-total // batch_size)
        numbers: list[int] = []
        with _service(url, key) as client, _progress(total) as advance:
            counts = client.import_records(
                _numbered(read_records(file, type_), numbers),
                batch_size=batch_size,
                dry_run=dry_run,
                job=_job(file, fresh),
                progress=advance,
                on_replay=lambda n: typer.echo(_replayed(n, batches), err=True),
            )
    except FileError as exc:
        _fail(str(exc))
    except DemarcheError as exc:
        _fail(_describe(exc, numbers, batch_size))
    typer.echo(_summary(counts, dry_run))


def export_collection(
    collection: Annotated[ExportCollection, typer.Argument(help="The collection to export.")],
    format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="The file's format; geojson for incidents and exercises only; plover (PLOVER event records, JSON "
            "lines) for incidents only.",
        ),
    ] = ExportFormat.ndjson,
    filter_: Annotated[
        list[str] | None,
        typer.Option("--filter", help="NAME=VALUE, as in the list's query; repeatable. An unknown NAME is an error."),
    ] = None,
    fields: Annotated[
        str | None,
        typer.Option(
            "--fields",
            help="Comma-separated top-level fields to write, e.g. id,title (CSV: the columns), in the "
            "record's order; all by default.",
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="File to write; standard output if omitted.")] = None,
    url: UrlOption = None,
    key: KeyOption = None,
) -> None:
    """Write every record of COLLECTION that matches the filters, streamed. A filter or a
    field the collection does not have is an error, and nothing is written."""
    collection, format = collection.value, format.value
    if format == "geojson" and collection not in GEOJSON_COLLECTIONS:
        _fail(
            f"--format geojson: {collection} have no coordinates; GeoJSON exports are for "
            f"{' and '.join(GEOJSON_COLLECTIONS)}. Use --format ndjson or --format csv."
        )
    if format == "plover" and collection != "incidents":
        _fail("--format plover: PLOVER records are events; only incidents export as them. Use --format ndjson or csv.")
    filters: dict[str, list[str]] = {}
    for item in filter_ or []:
        name, sep, value = item.partition("=")
        if not sep:
            _fail(f"--filter {item!r}: expected NAME=VALUE.")
        filters.setdefault(name, []).append(value)
    sink = None
    try:
        with _service(url, key) as client:
            # the file is opened with the first bytes: a refused export leaves none behind
            for chunk in client.export(collection, format, **filters, fields=fields):
                if sink is None:
                    sink = output.open("wb") if output else sys.stdout.buffer
                sink.write(chunk)
        if sink is None and output:
            output.write_bytes(b"")
    except DemarcheError as exc:
        _fail(_refused_export(exc, collection, fields, filters))
    finally:
        if sink is not None and output:
            sink.close()


NOT_FILTERS = {"limit", "cursor", "format", "fields", "count"}
"""Query parameters of a list that an export sets itself, or takes as options of its own."""


def _refused_export(exc: DemarcheError, collection: str, fields: str | None, filters: dict[str, list[str]]) -> str:
    """An export's refusal in the command's words: an unknown ``--filter`` or ``--fields``,
    or a value the server refused (:func:`_in_cli_words`)."""
    accepted = exc.problem.get("accepted") or []
    if exc.type == "/problems/unknown-parameter":
        names = [str(e["loc"][-1]) for e in exc.errors]
        filters = ", ".join(name for name in accepted if name not in NOT_FILTERS)
        return (
            f"--filter: {collection} cannot be filtered by {' or '.join(repr(n) for n in names)}; "
            f"their filters are: {filters}. Nothing was exported."
        )
    if exc.type == "/problems/unknown-field":
        names = [name for name in dict.fromkeys((fields or "").split(",")) if name not in accepted]
        return (
            f"--fields: {collection} have no field {' or '.join(repr(n) for n in names)}; "
            f"their fields are: {', '.join(accepted)}. Nothing was exported."
        )
    return _in_cli_words(exc, filters)


@contextmanager
def _service(url: str | None, key: str | None, timeout: float | None = 60.0) -> Iterator[Client]:
    if url:
        with Client(url, key, timeout=timeout) as client:  # type: ignore[arg-type]  # None: no timeout
            yield client
        return
    with (
        database_errors(),
        _local_service() as (local_url, secret),
        Client(local_url, secret, timeout=timeout) as client,  # type: ignore[arg-type]
    ):
        yield client


@contextmanager
def _local_service() -> Iterator[tuple[str, str]]:
    """The API on the configured database, in this process, with a key for this run."""
    import uvicorn
    from sqlmodel import Session

    from app.access import service as access
    from app.access.models import ApiKeyCreate, KeyScope
    from app.db import make_engine
    from app.main import create_app
    from app.settings import get_settings

    settings = get_settings().model_copy(update={"rate_limit": "1000000000/minute", "log_level": "WARNING"})
    engine = make_engine(settings.database_url)
    with Session(engine, expire_on_commit=False) as session:
        api_key, secret = access.create(session, ApiKeyCreate(name="demarche command line", scope=KeyScope.write))
        session.commit()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the local service did not start")
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}", secret
    finally:
        server.should_exit = True
        thread.join()
        with Session(engine) as session:
            access.revoke(session, api_key.id)
            session.commit()
        engine.dispose()


@contextmanager
def _progress(total: int) -> Iterator[Any]:
    """A progress bar (records, records/s, time left) on a terminal; plain lines otherwise."""
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = [
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} records/s"),
            TimeRemainingColumn(),
        ]
        with Progress(*columns, transient=False) as progress:
            task = progress.add_task("import", total=total, rate="-")
            started = time.monotonic()

            def advance(count: int) -> None:
                progress.advance(task, count)
                done = progress.tasks[0].completed
                progress.update(task, rate=f"{done / max(time.monotonic() - started, 1e-9):,.0f}")

            yield advance
        return
    done, started = 0, time.monotonic()

    def report(count: int) -> None:
        nonlocal done
        done += count
        elapsed = max(time.monotonic() - started, 1e-9)
        left = (total - done) / (done / elapsed) if done else 0
        typer.echo(f"{done}/{total} records, {done / elapsed:,.0f} records/s, {left:,.0f} s left", err=True)

    yield report


def _count(file: Path, type_: str | None) -> int:
    from app.ingest.files import read_records

    return sum(1 for _ in read_records(file, type_))


def _numbered(records: Iterator["Record"], numbers: list[int]) -> Iterator[dict[str, Any]]:
    """The records alone, noting the file line of each (to name lines in errors)."""
    for number, record in records:
        numbers.append(number)
        yield record


def _job(file: Path, fresh: bool = False) -> str:
    """Names this import for its batches' idempotency keys: the same file, the same job
    (unless ``fresh``: a job of its own)."""
    digest = hashlib.sha256()
    with file.open("rb") as content:
        for block in iter(lambda: content.read(1 << 20), b""):
            digest.update(block)
    return f"{file.name}:{digest.hexdigest()}" + (f":{uuid.uuid4().hex}" if fresh else "")


def _replayed(number: int, batches: int) -> str:
    return f"batch {number} of {batches} replayed from an earlier run; nothing written"


def _in_cli_words(exc: DemarcheError, filters: dict[str, list[str]] | None = None) -> str:
    """The server's refusal of a request the command made, told as the command's options:
    a query parameter is the ``--format`` or ``--filter NAME=VALUE`` it came from (with the
    value given, where ``filters`` holds it)."""
    entries = [e for e in exc.errors if isinstance(e.get("loc"), list) and e["loc"][:1] == ["query"]]
    if not entries:
        return str(exc)
    lines = []
    for entry in entries:
        name = str(entry["loc"][1]) if len(entry["loc"]) > 1 else ""
        given = (filters or {}).get(name, [])
        index = entry["loc"][2] if len(entry["loc"]) > 2 and isinstance(entry["loc"][2], int) else 0
        value = given[index] if index < len(given) else "VALUE"
        option = "--format" if name == "format" else f"--filter {name}={value}"
        lines.append(f"{option}: {entry['msg']}")
    return "\n".join(lines)


def _describe(exc: DemarcheError, numbers: list[int], batch_size: int) -> str:
    """The error, with the bad lines of an import named by their place in the file."""
    if not (exc.status == 422 and exc.errors and "line" in exc.errors[0]):
        return _in_cli_words(exc)
    first = (len(numbers) - 1) // batch_size * batch_size  # the failed batch's first record
    lines = [f"{exc.detail} Bad lines of the batch starting at file line {numbers[first]}:"]
    for entry in exc.errors:
        where = numbers[first + entry["line"] - 1]
        for error in entry["errors"]:
            field = ".".join(str(p) for p in error["loc"]) or "(line)"
            lines.append(f"  line {where}: {field}: {error['msg']}")
    return "\n".join(lines)


def _summary(counts: ImportCounts, dry_run: bool) -> str:
    """What this run wrote, and apart from it the batches it replayed (what they had done when
    they first ran)."""
    summary = ("dry run: " if dry_run else "") + _outcomes(counts.written)
    if counts.replayed:
        n, of = len(counts.replayed), counts.batches
        summary += (
            f"\nreplayed {n} of {of} batch{'es' if of != 1 else ''} from an earlier run, nothing written "
            f"(that run reported {_outcomes(counts.replayed_counts)}); rerun with --fresh to compare them "
            "with what is stored"
        )
    return summary


def _outcomes(counts: dict[str, dict[str, int]]) -> str:
    """Each outcome's counts by type; created, updated and unchanged always, others when any."""
    return "; ".join(
        f"{outcome} " + (", ".join(f"{n} {t}" for t, n in by_type.items() if n) or "0")
        for outcome, by_type in counts.items()
        if outcome in ("created", "updated", "unchanged") or any(by_type.values())
    )


@contextmanager
def database_errors() -> Iterator[None]:
    """A database without the tables of this version told as the command's error, with
    what to do about it, rather than as a traceback."""
    from sqlalchemy.exc import DBAPIError

    from app.kit.problems import schema_missing

    try:
        yield
    except DBAPIError as exc:
        if not schema_missing(exc):
            raise
        _fail("The database has not been migrated to this version (its tables are missing): run `demarche migrate`.")


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)
