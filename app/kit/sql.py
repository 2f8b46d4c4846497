"""SQL that the two engines spell differently, behind one name."""

import json
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement as _Column
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Boolean, Float


class JSONHasAny(_Column[bool]):
    """True when the JSON array in ``column`` holds any of ``values``."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], values: list[str]) -> None:
        self.column = column
        self.values = list(values)


@compiles(JSONHasAny, "sqlite")
def _sqlite(element: JSONHasAny, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    values = compiler.process(bindparam(None, json.dumps(element.values), type_=String()), **kw)
    return (
        f"EXISTS (SELECT 1 FROM json_each({column}) AS item "
        f"WHERE item.value IN (SELECT value FROM json_each({values})))"
    )


@compiles(JSONHasAny, "postgresql")
def _postgresql(element: JSONHasAny, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    values = compiler.process(bindparam(None, element.values, type_=ARRAY(String())), **kw)
    return f"({column} ?| {values})"


class DatePart(_Column[str]):
    """A date's month (``YYYY-MM``) or year (``YYYY``) as text."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement), ("part", InternalTraversal.dp_string)]
    type = String()

    def __init__(self, column: ColumnElement[Any], part: str) -> None:
        self.column = column
        self.part = part


@compiles(DatePart, "sqlite")
def _sqlite_part(element: DatePart, compiler: Any, **kw: Any) -> str:
    # dates are stored as YYYY-MM-DD text: a prefix is the month or the year
    length = {"month": 7, "year": 4}[element.part]
    return f"substr({compiler.process(element.column, **kw)}, 1, {length})"


@compiles(DatePart, "postgresql")
def _postgresql_part(element: DatePart, compiler: Any, **kw: Any) -> str:
    pattern = {"month": "YYYY-MM", "year": "YYYY"}[element.part]
    return f"to_char({compiler.process(element.column, **kw)}, '{pattern}')"


class SpanDays(_Column[float]):
    """Days from the date ``start`` to the date ``end``, spelled as the span index of exercises
    (migration 0009) spells it, so that its maximum is read from that index."""

    inherit_cache = True
    _traverse_internals = [("start", InternalTraversal.dp_clauseelement), ("end", InternalTraversal.dp_clauseelement)]
    type = Float()

    def __init__(self, start: ColumnElement[Any], end: ColumnElement[Any]) -> None:
        self.start = start
        self.end = end


@compiles(SpanDays, "sqlite")
def _sqlite_span(element: SpanDays, compiler: Any, **kw: Any) -> str:
    return f"julianday({compiler.process(element.end, **kw)}) - julianday({compiler.process(element.start, **kw)})"


@compiles(SpanDays, "postgresql")
def _postgresql_span(element: SpanDays, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.end, **kw)} - {compiler.process(element.start, **kw)})"


def contains_pattern(text: str) -> str:
    """A case-folded LIKE pattern (escape character ``\\``) for ``text`` anywhere."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class JSONAnyLike(_Column[bool]):
    """True when an element of the JSON string array in ``column``, case-folded, is LIKE
    ``pattern`` (escape ``\\``)."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], pattern: str) -> None:
        self.column = column
        self.pattern = pattern


@compiles(JSONAnyLike, "sqlite")
def _sqlite_like(element: JSONAnyLike, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    pattern = compiler.process(bindparam(None, element.pattern, type_=String()), **kw)
    return f"EXISTS (SELECT 1 FROM json_each({column}) AS item WHERE lower(item.value) LIKE {pattern} ESCAPE '\\')"


@compiles(JSONAnyLike, "postgresql")
def _postgresql_like(element: JSONAnyLike, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    pattern = compiler.process(bindparam(None, element.pattern, type_=String()), **kw)
    return (
        f"EXISTS (SELECT 1 FROM jsonb_array_elements_text({column}) AS item(value) "
        f"WHERE lower(item.value) LIKE {pattern} ESCAPE '\\')"
    )
