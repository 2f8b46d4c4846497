"""Statements compiled once and run on the driver's own cursor.

SQLAlchemy spends, on every execution, more than a short read costs the database: the
statement's cache key, its parameters, a transaction's events and a result object whose rows
are built one by one (about 170 µs for a read by primary key on SQLite, where the driver
takes 17 µs). A :class:`Prepared` statement is compiled once for a dialect; running it binds
the values through the type processors SQLAlchemy would use and answers the rows as the
driver reads them. :meth:`Prepared.mapping` makes one of them the row a SQLAlchemy result
would have held (its values through the columns' result processors), for the rows whose
values are needed as Python values: converting every row of a page had cost a third of the
list's time.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.sql import Executable


class Prepared:
    """``stmt`` compiled for ``dialect`` (expanding ``IN`` lists rendered as they stand)."""

    __slots__ = ("sql", "keys", "_names", "_defaults", "_binds", "_results", "_fixed")

    def __init__(self, stmt: Executable, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.sql = compiled.string
        self.keys = [entry.keyname for entry in compiled._result_columns]
        self._names = compiled.positiontup  # None where the driver takes named parameters (psycopg)
        self._defaults = compiled.params  # the values the statement holds; None for those bound by name
        self._binds = compiled._bind_processors
        self._results = [entry.type._cached_result_processor(dialect, None) for entry in compiled._result_columns]
        self._fixed = None if None in self._defaults.values() else self.parameters({})  # nothing bound by name

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters: the statement's own values, with ``values`` by name."""
        merged = {**self._defaults, **values}
        for name, process in self._binds.items():
            if merged.get(name) is not None:
                merged[name] = process(merged[name])
        return tuple(merged[name] for name in self._names) if self._names is not None else merged

    def rows(self, cursor: Any, **values: Any) -> list[Any]:
        """Every row the statement answers on the DB-API ``cursor``, given ``values``, as the
        driver reads it (:meth:`mapping` makes one the row SQLAlchemy would have read)."""
        cursor.execute(self.sql, self._fixed if not values and self._fixed is not None else self.parameters(values))
        return cursor.fetchall()

    def mapping(self, row: Sequence[Any]) -> dict[str, Any]:
        """A driver's ``row`` as a mapping of the columns' names to their Python values."""
        return {
            key: value if process is None or value is None else process(value)
            for key, process, value in zip(self.keys, self._results, row, strict=True)
        }
