"""Rows inserted many at a time, with one driver ``executemany`` a table."""

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect, Table, insert
from sqlalchemy.types import TypeEngine
from sqlmodel import Session


def insert_rows(session: Session, rows: Mapping[type, list[dict[str, Any]]]) -> None:
    """Insert many rows of each table with one statement a table, in the mapping's order
    (parents before the links that point at them)."""
    for model, table_rows in rows.items():
        executemany(session, model.__table__, table_rows)


def executemany(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (mappings with the same keys) with one driver ``executemany``.

    Each value goes through its column's bind processor, and nothing else: SQLAlchemy's
    per-row parameter handling costs more than SQLite's insert itself. A batch's rows share
    their timestamps, so a timestamp column converts each distinct value once."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=list(rows[0]))
    order = list(compiled.positiontup) if compiled.positional else list(rows[0])
    converters = [(i, c) for i, key in enumerate(order) if (c := _converter(table.c[key].type, dialect))]
    params = []
    for row in rows:
        values = [row[key] for key in order]
        for i, convert in converters:
            values[i] = convert(values[i])
        params.append(tuple(values) if compiled.positional else dict(zip(order, values, strict=True)))
    connection.exec_driver_sql(compiled.string, params)


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
