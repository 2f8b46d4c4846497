"""Bulk import: many records of mixed types in one transaction, bad lines reported (the
first hundred, and how many more).

Lines are written in order as they arrive, so a line may refer to the records of earlier
lines. Lines are taken as a create body, or as a record as the API answers and exports it
(read-only fields, an ``id`` naming the stored record, nested references: see
:mod:`app.ingest.exported`). New incidents that follow each other are created together, a few
statements for the lot; stored incidents that follow each other are compared with what is
stored together, and only those that differ are written; other records are written one by
one, each in a savepoint, so that a bad line leaves no trace while the lines after it are
still checked. The caller commits only when no line was bad and the import is not a dry run.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.ingest.exported import IDENTIFIED, as_line
from app.ingest.names import TYPES
from app.ingest.upsert import (
    OUTCOMES,
    STATUS_KEYS,
    Outcome,
    existing_by_key,
    upsert,
    validate,
    write_over,
)
from app.kit.guards import has_escaped_nul
from app.kit.problems import Conflict, Problem, ValidationFailed, error_entry
from app.records import BY_TYPE

REPORTED_LINES = 100
"""Bad lines an answer lists, in order; the rest are counted. A body of a hundred megabytes
of bad lines would otherwise be answered with several times its size, built in memory."""
REPORTED_ERRORS = 20
"""Errors listed for one bad line (a line of thousands of bad values has as many errors)."""


MERGED_TOGETHER = 20_000
"""New records an import gathers (of the types that merge new ones) before it merges those
that repeat others, and merges the rest as it ends: a merge reads the stored records near
the new ones, the new ones of earlier merges among them, so that fewer merges read them
fewer times (a GDELT import of 3,139 incidents in two batches read the first batch's
2,260 again for the second)."""

GROWTH_BEFORE_ANALYZE = 500
"""Records an import writes, and at least as many as its tables held, before it brings
PostgreSQL's statistics up to date in its own transaction (see :meth:`Importer.feed`)."""
RECORDS_HELD = text(
    "SELECT coalesce(sum(greatest(reltuples, 0)), 0) FROM pg_class WHERE relname IN "
    "('actors', 'sources', 'incidents', 'exercises', 'channels', 'channel_status_changes')"
)


class ImportRejected(ValidationFailed):
    slug, title = "import-rejected", "Import rejected"


@dataclass
class Importer:
    session: Session
    dry_run: bool = False
    default_type: str | None = None
    """The type of lines that do not name one."""
    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {outcome: dict.fromkeys(TYPES, 0) for outcome in OUTCOMES}
    )
    errors: list[dict[str, Any]] = field(default_factory=list)
    """The first :data:`REPORTED_LINES` bad lines."""
    bad: int = 0
    lines: int = 0
    _keys: set[tuple[str, str, str]] = field(default_factory=set)
    _held: float | None = None
    """Records the tables held when their statistics were last brought up to date."""
    _written: int = 0
    """Records written since."""
    _created: dict[str, list[str]] = field(default_factory=dict)
    """The ids of the records of each type that merges new ones created since the last merge, in order."""

    def feed(self, lines: Iterable[tuple[int, bytes | Any]]) -> None:
        """Write each ``(line number, raw JSON text or parsed value)``."""
        records = []
        for number, item in lines:
            self.lines += 1
            record, errors = self._parse(item)
            if errors:
                self._report(number, errors)
            else:
                records.append((number, record))
        self._write(records)
        if sum(map(len, self._created.values())) >= MERGED_TOGETHER:
            self._merge_new()
        self.session.flush()
        self.session.expunge_all()
        self._keep_statistics(len(records))

    def _merge_new(self) -> None:
        """Merge the records created since the last merge into those they repeat (incidents:
        reports of one event, docs/event-data.md): each merged away counts as ``merged``,
        not ``created``."""
        for type_, ids in self._created.items():
            merged = BY_TYPE[type_].merge_new(self.session, ids)
            self.counts["created"][type_] -= merged
            self.counts["merged"][type_] += merged
        self._created.clear()

    def _keep_statistics(self, written: int) -> None:
        """On PostgreSQL, analyze the tables in the import's own transaction (ANALYZE counts
        its rows) each time the import has written as many records as they held: the
        triggers that keep counts, and the look-ups of natural keys, run for every batch on
        plans made from those statistics, and planned on tables still empty they scan them
        whole for every row (an import of 20,000 incidents into a new database took 510 s,
        one of 5,000 took 54 s). An import small beside what the tables hold analyzes
        nothing; after a large one, :func:`app.db._analyze_stale` runs as it commits."""
        connection = self.session.connection()
        if connection.dialect.name != "postgresql":
            return
        if self._held is None:
            self._held = connection.execute(RECORDS_HELD).scalar_one()
        self._written += written
        if self._written < max(self._held, GROWTH_BEFORE_ANALYZE):
            return
        connection.execute(text("ANALYZE"))  # every table of the database: the kept counts' too
        self._held += self._written
        self._written = 0

    def result(self) -> dict[str, Any]:
        """The counts; raises :class:`ImportRejected` (and the caller must not commit) when
        any line was bad. The records created since the last merge are merged first. A dry
        run's writes are rolled back here."""
        if not self.bad:
            self._merge_new()
            self.session.flush()
        if self.bad:
            self.session.rollback()
            bad = self.bad
            more = bad - len(self.errors)
            raise ImportRejected(
                f"{bad} of {self.lines} lines {'is' if bad == 1 else 'are'} invalid; nothing was written."
                + (f" The first {len(self.errors)} are listed; {more} more are not." if more else ""),
                errors=self.errors,
            )
        if self.dry_run:
            self.session.rollback()
        return {**self.counts, "dry_run": self.dry_run}

    def _parse(self, item: bytes | Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if isinstance(item, bytes):
            if has_escaped_nul(item):
                return {}, [error_entry([], "The line contains a NUL character.", "nul_character")]
            try:
                item = orjson.loads(item)
            except orjson.JSONDecodeError as exc:
                return {}, [error_entry([], f"Invalid JSON: {exc}", "json_invalid")]
        if not isinstance(item, dict):
            return {}, [error_entry([], "A line must be a JSON object.", "object_type")]
        if self.default_type and "type" not in item:
            item = {"type": self.default_type, **item}
        type_ = item.get("type")
        if type_ is None:
            return {}, [
                error_entry(
                    ["type"],
                    "The line names no type: add `type`, or give the import's `type` parameter "
                    "(`--type` on the command line).",
                    "missing",
                )
            ]
        if type_ not in TYPES:
            allowed = ", ".join(TYPES)
            return {}, [
                error_entry(["type"], f"Unknown record type {type_!r}; expected one of {allowed}.", "unknown_type")
            ]
        item, row_id = as_line(type_, item)
        if row_id is not None:
            if not isinstance(row_id, str) or not row_id:
                return {}, [error_entry(["id"], "An id is a text.", "string_type")]
            item["id"] = row_id
        return item, self._repeated_keys(type_, item)

    def _write(self, records: list[tuple[int, dict[str, Any]]]) -> None:
        """Write the records in order. New records of a type that is written in bulk
        (``write_many``) are gathered while they follow each other and created together;
        stored live ones likewise, and written over together (where anything differs)."""
        stored = {
            type_: {
                key: existing_by_key(self.session, kind, key, _values(records, type_, key)) for key in kind.import_keys
            }
            for type_, kind in BY_TYPE.items()
            if kind.write_many
        }
        by_id = {
            type_: existing_by_key(self.session, kind, "id", _values(records, type_, "id"))
            for type_, kind in BY_TYPE.items()
            if kind.write_many
        }
        run: list[tuple[int, str, Any]] = []
        compared: list[tuple[int, str, Any, Any]] = []
        for number, record in records:
            type_ = record["type"]
            kind = BY_TYPE.get(type_)
            if kind is None or kind.write_many is None:
                self._create_run(run)
                self._compare_run(compared)
                self._one(number, type_, partial(_upsert_outcome, self.session, record))
                continue
            try:
                data = validate(kind.create_model, {k: v for k, v in record.items() if k not in ("type", "id")})
            except Problem as exc:
                self._fail(number, exc)
                continue
            row = by_id[type_].get(record.get("id")) or next(
                (
                    stored[type_][key][value]
                    for key in kind.import_keys
                    if (value := getattr(data, key)) in stored[type_][key]
                ),
                None,
            )
            if row is None:
                self._compare_run(compared)
                if run and run[0][1] != type_:
                    self._create_run(run)
                run.append((number, type_, data))
            elif row.retracted_at is None:
                self._create_run(run)
                if compared and compared[0][1] != type_:
                    self._compare_run(compared)
                compared.append((number, type_, row, data))
            else:
                self._create_run(run)
                self._compare_run(compared)
                self._one(number, type_, partial(write_over, self.session, kind, row, data))
        self._create_run(run)
        self._compare_run(compared)

    def _create_run(self, run: list[tuple[int, str, Any]]) -> None:
        if not run:
            return
        kind = BY_TYPE[run[0][1]]
        outcomes = kind.write_many(self.session, [(None, data) for _, _, data in run])
        for (number, type_, _), outcome in zip(run, outcomes, strict=True):
            if isinstance(outcome, Problem):
                self._fail(number, outcome)
            else:
                self.counts["created"][type_] += 1
                if kind.merge_new is not None:
                    self._created.setdefault(type_, []).append(outcome.id)
        run.clear()

    def _compare_run(self, run: list[tuple[int, str, Any, Any]]) -> None:
        """Stored live records of one type and the data of their lines, written over together:
        those the data leaves as they are are counted unchanged, with nothing written. A line
        that names a record an earlier line of the run named is written after those before
        it, alone (the record may since be retracted, or hold another ``external_ref``)."""
        while run:
            end = _first_repeated([row.id for _, _, row, _ in run])
            kind = BY_TYPE[run[0][1]]
            lines = [(row, data) for _, _, row, data in run[:end]]
            onto = kind.onto(self.session, lines) if kind.onto else lines
            writes = [line for line in onto if not isinstance(line, Problem)]
            outcomes = iter(kind.write_many(self.session, writes))
            for (number, type_, _, _), line in zip(run[:end], onto, strict=True):
                outcome = line if isinstance(line, Problem) else next(outcomes)
                if isinstance(outcome, Problem):
                    self._fail(number, outcome)
                else:
                    self.counts["updated" if outcome.changed else "unchanged"][type_] += 1
            if end < len(run):
                number, type_, row, data = run[end]
                self._one(number, type_, partial(write_over, self.session, kind, row, data))
            run[:] = run[end + 1 :]

    def _one(self, number: int, type_: str, write: Callable[[], Outcome]) -> None:
        """One record, in a savepoint: a bad one leaves no trace."""
        try:
            with self.session.begin_nested():
                outcome = write()
        except Problem as exc:
            self._fail(number, exc)
        except IntegrityError:
            self._fail(number, Conflict("The record conflicts with an existing one."))
        else:
            self.counts[outcome][type_] += 1

    def _fail(self, number: int, problem: Problem) -> None:
        self._report(number, _entries(problem))

    def _report(self, number: int, errors: list[dict[str, Any]]) -> None:
        self.bad += 1
        if len(self.errors) < REPORTED_LINES:
            self.errors.append({"line": number, "errors": errors[:REPORTED_ERRORS]})

    def _repeated_keys(self, type_: str, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A natural key named by an earlier line of the same request is an error: the
        request would otherwise depend on the order in which it is applied."""
        keys = BY_TYPE[type_].import_keys if type_ in BY_TYPE else STATUS_KEYS
        if type_ in IDENTIFIED:
            keys = ("id", *keys)
        errors = []
        for key in keys:
            value = item.get(key)
            if not isinstance(value, str):
                continue
            if (type_, key, value) in self._keys:
                errors.append(error_entry([key], f"Another line of this import has {key} {value!r}.", "duplicate_key"))
            self._keys.add((type_, key, value))
        return errors


def _first_repeated(ids: list[str]) -> int:
    """The position of the first of ``ids`` named before it, or their count."""
    seen: set[str] = set()
    for position, id_ in enumerate(ids):
        if id_ in seen:
            return position
        seen.add(id_)
    return len(ids)


def _values(records: list[tuple[int, dict[str, Any]]], type_: str, key: str) -> list[str]:
    """The ``key`` (``external_ref``, ``id``, a source's ``url``) of each record of ``type_`` that has one, read
    before the records are validated: a value that is not a text is left for validation to
    refuse."""
    values = (record.get(key) for _, record in records if record["type"] == type_)
    return [value for value in values if isinstance(value, str) and value]


def _entries(problem: Problem) -> list[dict[str, Any]]:
    """The problem's errors, located within the line rather than the request body."""
    if problem.errors:
        return [{**e, "loc": e["loc"][1:] if e["loc"][:1] == ["body"] else e["loc"]} for e in problem.errors]
    return [error_entry([], problem.detail or problem.title, problem.slug.replace("-", "_"))]


def _upsert_outcome(session: Session, record: dict[str, Any]) -> Outcome:
    return upsert(session, record)[1]
