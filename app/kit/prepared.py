"""Statements compiled once and run on the driver's own connection.

SQLAlchemy spends, on every execution, more than a short read costs the database: the
statement's cache key, its parameters, a transaction's events and a result object whose rows
are built one by one (about 170 µs for a read by primary key on SQLite, where the driver
takes 17 µs). A :class:`Prepared` statement is compiled once for a dialect; it makes a
:class:`Statement`, its values bound through the type processors SQLAlchemy would use, for a
driver to run (:class:`app.db.DriverReads`), which answers the rows as the driver reads them.
:meth:`Prepared.mapping` makes one of them the row a SQLAlchemy result
would have held (its values through the columns' result processors), for the rows whose
values are needed as Python values: converting every row of a page had cost a third of the
list's time.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Dialect
from sqlalchemy.sql import Executable

T = TypeVar("T")


def _rows(rows: list[Any]) -> list[Any]:
    return rows


@dataclass(frozen=True, slots=True)
class Statement(Generic[T]):
    """One statement for a driver to run, with its parameters, and what its rows answer."""

    sql: str
    parameters: Any = ()
    answer: Callable[[list[Any]], T] = _rows  # type: ignore[assignment]
    planned_once: bool = False
    """Whether one plan serves all its values (a record read by its key), so that the
    database may keep the plan it made rather than plan each run anew."""


class Prepared:
    """``stmt`` compiled for ``dialect`` (expanding ``IN`` lists rendered as they stand);
    ``planned_once`` as :attr:`Statement.planned_once`."""

    __slots__ = ("sql", "planned_once", "keys", "_names", "_defaults", "_binds", "_results", "_fixed")

    def __init__(self, stmt: Executable, dialect: Dialect, planned_once: bool = False) -> None:
        compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.sql = compiled.string
        self.planned_once = planned_once
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

    def statement(self, answer: Callable[[list[Any]], T] = _rows, **values: Any) -> Statement[T]:
        """The statement given ``values``, whose rows, as the driver reads them, make
        ``answer(rows)`` (by default the rows: :meth:`mapping` makes one the row SQLAlchemy
        would have read)."""
        parameters = self._fixed if not values and self._fixed is not None else self.parameters(values)
        return Statement(self.sql, parameters, answer, self.planned_once)

    def mapping(self, row: Sequence[Any]) -> dict[str, Any]:
        """A driver's ``row`` as a mapping of the columns' names to their Python values."""
        return {
            key: value if process is None or value is None else process(value)
            for key, process, value in zip(self.keys, self._results, row, strict=True)
        }
