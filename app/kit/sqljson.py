"""Records as JSON text written by the database: exports stream it untouched, views and
single answers read it back, and every collection keeps its records' answers (``record_json``,
migrations 0010 and 0017).

Each collection describes its record once, as one SQL expression over a row of its list
(``record`` of :class:`app.kit.export.Collection`), built with :class:`RecordSQL`. The text is
the JSON API's (orjson, :mod:`app.kit.responses`): keys in the same order, dates
``YYYY-MM-DD``, timestamps in UTC as ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` (microseconds only
when there are some), floats in their shortest round-trip form (``1.0``, never ``1``),
``null`` for nothing, lists in their stored order. JSON columns come as the database keeps
them: PostgreSQL writes ``jsonb`` with a space after each ``,`` and ``:``.

Objects are written by one ``printf`` (SQLite) or ``format`` (PostgreSQL) call each, from a
template of their keys, rather than by a chain of concatenations that would copy the growing
text once per field; lists are aggregated from correlated subqueries, in order.
"""

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Dialect,
    Float,
    FromClause,
    Integer,
    Select,
    Table,
    Text,
    TypeDecorator,
    Update,
    bindparam,
    case,
    cast,
    event,
    func,
    join,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.expression import ColumnElement
from sqlmodel import Session

from app.kit.keys import path_key
from app.kit.pending import PENDING_CHANGES
from app.kit.prepared import Prepared, Statement
from app.kit.problems import NotFound

Columns = ReadOnlyColumnCollection[str, Any]
"""The columns of a list's statement, by key: what a record expression is written from."""

JSON_FLOAT = "demarche_json_float"
"""SQLite function writing a float as orjson does (SQLite's own printing keeps 15 digits);
every SQLite connection has it (:func:`app.db.make_engine`)."""


def json_float(value: float) -> str:
    return orjson.dumps(value).decode()


def prepare(connection: Connection) -> None:
    """Make ``connection`` ready to run record expressions over many rows: PostgreSQL is kept
    from compiling them (JIT), which costs more than it saves on them."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL jit = off")


def _member(key: str | None, value: str = "%s") -> str:
    """A member of an object template: ``"key":value``; a key of None splices the value."""
    return value if key is None else orjson.dumps(key).decode().replace("%", "%%") + ":" + value


class RecordSQL:
    """Writes JSON text in SQL for one engine (``sqlite`` or ``postgresql``)."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def value(self, column: ColumnElement[Any]) -> ColumnElement[str]:
        """The JSON text of a column's value, by its type; ``null`` when it is NULL."""
        kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
        if isinstance(kind, JSON):
            return func.coalesce(cast(column, Text), "null")
        if isinstance(kind, DateTime):
            return self._timestamp(column)
        if isinstance(kind, Float):
            return self._float(column)
        if self.sqlite:
            return func.json_quote(column)
        if isinstance(kind, Integer):
            return func.coalesce(cast(column, Text), "null")
        return func.coalesce(cast(func.to_json(column), Text), "null")

    def _timestamp(self, column: ColumnElement[Any]) -> ColumnElement[str]:
        if self.sqlite:  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff', in UTC
            iso = func.replace(func.replace(column, " ", "T", type_=Text) + "Z", ".000000Z", "Z")
            return func.json_quote(iso)
        text = func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US')
        return func.coalesce('"' + func.replace(text, ".000000", "", type_=Text) + 'Z"', "null")

    def _float(self, column: ColumnElement[Any]) -> ColumnElement[str]:
        if self.sqlite:
            written = getattr(func, JSON_FLOAT)(column)
        else:
            # PostgreSQL writes the shortest round-trip digits, but integral values without ".0"
            # (and from 1e15 on, in exponent form, which stays as it is)
            text = cast(column, Text)
            integral = (column == func.trunc(column)) & (func.abs(column) < 1e15)
            written = case((integral, text + ".0"), else_=text)
        return case((column.is_(None), "null"), else_=written)

    def object(self, fields: Sequence[tuple[str | None, ColumnElement[str]]]) -> ColumnElement[str]:
        """A JSON object of ``(key, JSON text)`` pairs, in order; a key of None splices a run
        of members (from :meth:`arrays`)."""
        template = literal("{" + ",".join(_member(key) for key, _ in fields) + "}")
        values = [value for _, value in fields]
        return func.printf(template, *values) if self.sqlite else func.format(template, *values)

    def lookup(
        self, link: Any, key: ColumnElement[str], table: type, item: Callable[[Any], ColumnElement[str]]
    ) -> tuple[ColumnElement[str], FromClause]:
        """The JSON text ``item`` writes for the row of a small ``table`` (actors, sources)
        whose id is ``key``, a column of ``link``; and the FROM clause to read it from.

        Each row's text is written once per statement, not once per row of a list that names
        it: SQLite joins a materialized table of them (indexed on the fly), PostgreSQL looks
        the id up in a ``jsonb`` map of them (joining the table again for each row costs it
        several times more)."""
        target = aliased(table)
        if self.sqlite:
            written = select(target.id, item(target).label("item")).cte().prefix_with("MATERIALIZED")
            return written.c.item, join(link, written, written.c.id == key)
        every = select(func.jsonb_object_agg(target.id, item(target))).scalar_subquery()
        return every.op("->>")(key), link

    def optional(self, query: Select) -> ColumnElement[str]:
        """The JSON text ``query`` selects (one column, at most one row), or ``null``."""
        return func.coalesce(query.scalar_subquery(), "null")

    def array(
        self,
        item: ColumnElement[str],
        source: FromClause,
        where: Sequence[ColumnElement[bool]],
        order_by: Sequence[ColumnElement[Any]],
    ) -> ColumnElement[str]:
        """A JSON array of ``item`` (JSON text) over the rows of ``source`` that pass
        ``where`` (a correlated condition), in ``order_by`` order."""
        return self._aggregate("[%s]", item, source, where, order_by)

    def arrays(
        self,
        keys: Sequence[tuple[str, Any]],
        split: ColumnElement[Any],
        item: ColumnElement[str],
        source: FromClause,
        where: Sequence[ColumnElement[bool]],
        order_by: Sequence[ColumnElement[Any]],
    ) -> ColumnElement[str]:
        """For each ``(key, value)`` of ``keys``, the member ``"key":[...]`` holding the items
        of the rows whose ``split`` is ``value``, as :meth:`array` would; all from one pass
        over the rows, as a run of members for :meth:`object`."""
        template = ",".join(_member(key, "[%s]") for key, _ in keys)
        return self._aggregate(template, item, source, where, order_by, split, [value for _, value in keys])

    def _aggregate(
        self,
        template: str,
        item: ColumnElement[str],
        source: FromClause,
        where: Sequence[ColumnElement[bool]],
        order_by: Sequence[ColumnElement[Any]],
        split: ColumnElement[Any] | None = None,
        values: Sequence[Any] = (),
    ) -> ColumnElement[str]:
        """``template`` filled with the rows' items joined by commas, in order: all of them,
        or with ``split`` those whose ``split`` is each of ``values`` in turn."""
        if self.sqlite:
            # SQLite (before 3.44) cannot order within an aggregate: it keeps the order of an
            # ordered subquery
            columns = [item.label("item"), *([] if split is None else [split.label("split")])]
            rows = select(*columns).select_from(source).where(*where).order_by(*order_by)
            ordered = rows.correlate_except(source).subquery()
            picked = (
                [ordered.c.item] if split is None else [case((ordered.c.split == v, ordered.c.item)) for v in values]
            )
            return select(func.printf(template, *(func.group_concat(p, ",") for p in picked))).scalar_subquery()
        joined = func.string_agg(item, aggregate_order_by(literal(","), *order_by))
        picked = [joined] if split is None else [joined.filter(split == v) for v in values]
        return select(func.format(template, *picked)).select_from(source).where(*where).scalar_subquery()


Record = Callable[[RecordSQL, Columns], ColumnElement[str]]
"""A collection's record as JSON text, written from the columns of a row of its list."""


def kept(row: Columns, answer: ColumnElement[str]) -> ColumnElement[str]:
    """The answer ``row`` keeps (``record_json``), or where that is stale, ``answer`` built."""
    return func.coalesce(row["record_json"], answer)


KEPT_COLUMNS = frozenset({"record_json"})
"""What a page of a collection that keeps its answers reads of its rows, beside the id and
the sort key (``page_columns`` of :class:`app.kit.export.Collection`)."""


def page_texts(table: Table, record: Record) -> Callable[[Session, Sequence[Mapping[str, Any]]], list[bytes]]:
    """The texts of a page of ``table``'s records (``page_texts`` of
    :class:`app.kit.export.Collection`), as :func:`kept_texts` reads them."""
    return lambda session, rows: [text.encode() for text in kept_texts(session, table, record, rows)]


def kept_texts(session: Session, table: Table, record: Record, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The answers for ``rows`` (any rows with an ``id``), in order, as JSON text: the kept
    answers that rows of a list carry, the others written by ``record`` in one query."""
    texts = {r["id"]: r["record_json"] for r in rows if r.get("record_json") is not None}
    missing = [r["id"] for r in rows if r["id"] not in texts]
    texts |= zip(missing, answer_texts(session, table, record, missing), strict=True)
    return [texts[r["id"]] for r in rows]


def answers(session: Session, table: Table, record: Record, ids: Sequence[str], **params: Any) -> list[dict[str, Any]]:
    """The records of ``table`` with these ids, in their order, written by ``record`` (from
    the table's columns, and ``params`` bound by name) in one query and read back."""
    return [orjson.loads(text) for text in answer_texts(session, table, record, ids, **params)]


def answer_texts(session: Session, table: Table, record: Record, ids: Sequence[str], **params: Any) -> list[str]:
    """The JSON texts of :func:`answers`, as the database writes them."""
    if not ids:
        return []
    query = _by_ids(table, record, session.get_bind().dialect.name)
    found = {record_id: text for record_id, text in session.connection().execute(query, {"ids": ids, **params})}
    return [found[record_id] for record_id in ids]


def read_text(
    session: Session,
    table: Table,
    record: Record,
    ref: str,
    noun: str,
    keys: tuple[str, ...] = (),
    published: bool = False,
    retracted: bool = False,
    built: bool = False,
    gone: str | None = None,
) -> tuple[bytes, int]:
    """The answer of the live record of ``table`` whose id (or one of ``keys``, such as
    ``slug``; an id wins, and a prefixed natural key such as ``ref:{external_ref}`` names
    that key alone: :mod:`app.kit.keys`) is ``ref``, as JSON text written by ``record``, and
    its version; with ``published``, only a published one; with ``retracted``, a retracted
    one too. 404 (naming the record a ``noun``) when there is none. One statement; a table
    that keeps its answers (``record_json``) is read from them, unless ``built`` asks for
    the answer ``record`` builds, and only a stale one is written anew (a second statement).
    A row whose column ``gone`` is set is never answered (an incident merged into another)."""
    columns, value = path_key(ref, table.c.keys(), keys)
    query = _one(table, record, session.get_bind().dialect.name, columns, published, retracted, built, gone)
    row = session.connection().execute(query, {"ref": value}).first()
    if row is None:
        raise NotFound(f"No {noun} {ref!r}.")
    text = row.text if row.text is not None else answer_texts(session, table, record, [row.id])[0]
    return text.encode(), row.version


def driver_text(
    dialect: Dialect,
    table: Table,
    record: Record,
    ref: str,
    keys: tuple[str, ...] = (),
    published: bool = False,
) -> Statement[tuple[bytes, int] | None]:
    """:func:`read_text` of a live record (published, with ``published``) for a driver to run
    (:class:`app.kit.prepared.Statement`): the same statement, which answers the record's text
    and version, or ``None`` where :func:`read_text` would answer 404 or build a stale kept answer."""
    columns, value = path_key(ref, _columns(table), keys)
    return _prepared_one(table, record, dialect, columns, published).statement(_text_and_version, ref=value)


def _text_and_version(rows: list[Any]) -> tuple[bytes, int] | None:
    if not rows or rows[0][1] is None:
        return None
    _id, text, version = rows[0]
    return text.encode(), version


@cache
def _columns(table: Table) -> frozenset[str]:
    return frozenset(table.c.keys())


@cache
def _prepared_one(
    table: Table, record: Record, dialect: Dialect, columns: tuple[str, ...], published: bool
) -> Prepared:
    return Prepared(
        _one(table, record, dialect.name, columns, published, False, False, None), dialect, planned_once=True
    )


Answers = Sequence[tuple[Table, Record]]
"""The tables that keep their records' answers, each with its record's answer as built."""


def refill(connection: Connection, answers: Answers) -> None:
    """Write the stale (NULL) ``record_json`` of each table's rows with its answer: one
    statement a table, over the partial index of its stale rows."""
    prepare(connection)
    for table, answer in answers:
        connection.execute(_refill(table, answer, connection.dialect.name))


def keep_answers(session_class: type[Session], answers: Answers) -> None:
    """Make every session of ``session_class`` that wrote records write the answers its
    writes made stale (the triggers of migrations 0010 and 0017 set them to NULL) before it
    commits, so that readers find them kept. Installed before the change feed's own hook,
    which consumes the list of what was written."""

    def refill_written(session: Session) -> None:
        if session.in_nested_transaction() or not session.info.get(PENDING_CHANGES):
            return
        session.flush()
        refill(session.connection(), answers)

    event.listen(session_class, "before_commit", refill_written)


# A record expression takes milliseconds to build, its statement microseconds to run: the
# statements that run on every request are built once.


@cache
def _one(
    table: Table,
    record: Record,
    dialect: str,
    columns: tuple[str, ...],
    published: bool,
    retracted: bool,
    built: bool,
    gone: str | None,
) -> Select:
    ref = bindparam("ref")
    conditions = ([] if retracted else [table.c.retracted_at.is_(None)]) + (
        [table.c.status == "published"] if published else []
    )
    if gone is not None and retracted:  # a live row's is never set
        conditions.append(table.c[gone].is_(None))
    kept = "record_json" in table.c and not built
    text = table.c.record_json if kept else record(RecordSQL(dialect), table.c)
    return (
        select(table.c.id, text.label("text"), table.c.version)
        .where(or_(*(table.c[key] == ref for key in columns)), *conditions)
        .order_by((table.c.id == ref).desc())
        .limit(1)
    )


@cache
def _by_ids(table: Table, record: Record, dialect: str) -> Select:
    ids = bindparam("ids", expanding=True)
    return select(table.c.id, record(RecordSQL(dialect), table.c)).where(table.c.id.in_(ids))


@cache
def _refill(table: Table, record: Record, dialect: str) -> Update:
    stale = table.c.record_json.is_(None)
    return update(table).where(stale).values(record_json=record(RecordSQL(dialect), table.c))
