"""Rows inserted many at a time, a few statements a table."""

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Dialect, String, Table, insert
from sqlalchemy.types import TypeEngine
from sqlmodel import Session


def insert_rows(session: Session, rows: Mapping[type, list[dict[str, Any]]]) -> None:
    """Insert many rows of each table with one statement a table, in the mapping's order
    (parents before the links that point at them)."""
    for model, table_rows in rows.items():
        executemany(session.connection(), model.__table__, table_rows)


_NAMED = re.compile(r"%\((\w+)\)s")


def executemany(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (mappings with the same keys): on SQLite with one driver
    ``executemany``; on PostgreSQL with one ``INSERT … SELECT`` from the rows sent as one
    JSON array, since psycopg's ``executemany`` runs a statement for each row, and with it
    each statement trigger of the table (an incident's counts, written once for all the
    rows of a statement from its transition table). A multi-row ``VALUES`` list would be
    one statement too, but psycopg parses one that long in Python at every run, placeholder
    by placeholder (1.4 s of a GDELT import's 9.8 s in the server), and arrays a column it
    writes in Python, value by value (1.3 s): orjson writes the JSON, PostgreSQL reads it.
    A JSON column takes its value as it is in the array (None as JSON ``null``, as
    SQLAlchemy stores it); any other its text, cast to the column's type.

    Each value goes through its column's bind processor, and nothing else: SQLAlchemy's
    per-row parameter handling costs more than SQLite's insert itself. A batch's rows share
    their timestamps, so a timestamp column converts each distinct value once."""
    if not rows:
        return
    dialect = connection.dialect
    statement = insert(table).compile(dialect=dialect, column_keys=list(rows[0]), for_executemany=True)
    if statement.positional:
        order = list(statement.positiontup)
    else:
        order = _NAMED.findall(statement.string)
    in_json = dialect.name == "postgresql"
    types = [table.c[key].type for key in order]
    converters = [
        (i, c)
        for i, type_ in enumerate(types)
        if not (in_json and isinstance(type_, JSON)) and (c := _converter(type_, dialect))
    ]
    params = []
    for row in rows:
        values = [row[key] for key in order]
        for i, convert in converters:
            values[i] = convert(values[i])
        params.append(values if in_json else tuple(values))
    if not in_json:
        connection.exec_driver_sql(statement.string, params)
        return
    head = statement.string.split(" VALUES ", 1)[0]
    columns = ", ".join(_from_json(i, type_, dialect) for i, type_ in enumerate(types))
    connection.exec_driver_sql(
        f"{head} SELECT {columns} FROM jsonb_array_elements(%s::jsonb) AS r", (orjson.dumps(params).decode(),)
    )


def _from_json(i: int, type_: TypeEngine, dialect: Dialect) -> str:
    """The value of the ``i``-th column of a row ``r`` of JSON values, as the column takes it
    (a string's length is checked by the column, not cut by the cast)."""
    if isinstance(type_, JSON):
        return f"r->{i}"
    return f"(r->>{i})::{'VARCHAR' if isinstance(type_, String) else type_.compile(dialect=dialect)}"


def _converter(type_: TypeEngine, dialect: Dialect) -> Callable[[Any], Any] | None:
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    try:
        timestamp = process is not None and type_.python_type is datetime
    except NotImplementedError:
        timestamp = False
    if not timestamp:
        return process
    seen: dict[datetime, Any] = {}

    def once(value: Any) -> Any:
        if value is None:
            return process(value)
        if value not in seen:
            seen[value] = process(value)
        return seen[value]

    return once
