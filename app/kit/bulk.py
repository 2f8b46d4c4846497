"""Rows inserted many at a time, a few statements a table."""

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Dialect, Table, insert
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
    ``executemany``; on PostgreSQL with one ``INSERT … SELECT … FROM unnest(…)`` of an array
    a column, since psycopg's ``executemany`` runs a statement for each row, and with it each
    statement trigger of the table (an incident's counts, written once for all the rows of a
    statement from its transition table). A multi-row ``VALUES`` list does that too, but
    psycopg parses a statement of that length in Python at every run, placeholder by
    placeholder (1.4 s of a GDELT import's 9.8 s in the server, at 10,000 values a
    statement); the arrays' statement is short, and psycopg keeps its parse.

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
    converters = [(i, c) for i, key in enumerate(order) if (c := _converter(table.c[key].type, dialect))]
    params = []
    for row in rows:
        values = [row[key] for key in order]
        for i, convert in converters:
            values[i] = convert(values[i])
        params.append(tuple(values))
    if dialect.name != "postgresql":
        connection.exec_driver_sql(statement.string, params)
        return
    arrays = ", ".join(f"%s::{table.c[key].type.compile(dialect=dialect)}[]" for key in order)
    head = statement.string.split(" VALUES ", 1)[0]
    connection.exec_driver_sql(f"{head} SELECT * FROM unnest({arrays})", tuple(map(list, zip(*params, strict=True))))


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
