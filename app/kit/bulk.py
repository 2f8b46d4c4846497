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


VALUES_PER_STATEMENT = 10_000
"""The most values one multi-row ``INSERT`` on PostgreSQL carries (it takes up to 65,535):
3,000 new sources went in as fast in statements of 2,000 or 8,000 values as through
``executemany``, and slower in one statement of 24,000, which takes longer to parse."""
_NAMED = re.compile(r"%\((\w+)\)s")


def executemany(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (mappings with the same keys): on SQLite with one driver
    ``executemany``; on PostgreSQL with one multi-row ``INSERT`` for each
    :data:`VALUES_PER_STATEMENT` values, since psycopg's ``executemany`` runs a statement for
    each row, and with it each statement trigger of the table (an incident's counts, written
    once for all the rows of a statement from its transition table: 3,000 new incidents in
    0.43-0.51 s rather than 0.67-0.95 s, at 1,000,000 stored).

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
    head, one_row = _NAMED.sub("%s", statement.string).split(" VALUES ", 1)
    per_statement = VALUES_PER_STATEMENT // len(order)
    for start in range(0, len(params), per_statement):
        page = params[start : start + per_statement]
        rows_sql = ", ".join([one_row] * len(page))
        connection.exec_driver_sql(f"{head} VALUES {rows_sql}", tuple(v for row in page for v in row))


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
