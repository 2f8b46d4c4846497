"""Keyset pagination with signed, opaque cursors.

A cursor carries the sort key of the last row served and a fingerprint of the query that
produced it, signed with ``DEMARCHE_CURSOR_SECRET``: a tampered cursor, or one replayed
with other filters or another sort, is refused with 400.

Pages are keyset queries (``WHERE (sort, id) beyond the cursor ORDER BY sort, id LIMIT n``),
so page 10,000 costs what page 1 costs and rows inserted during a walk neither repeat nor
vanish. On SQLite a row-value condition is not used as the index bound, so the cursor's
value is folded into the range bound of the sort column itself (``min(to, cursor)``).
"""

import base64
import binascii
import copy
import hashlib
import hmac
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import orjson
from fastapi import Depends, Query, Request
from sqlalchemy import ColumnElement, Date, DateTime, Float, Select, TypeDecorator, func, literal_column, or_, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session
from starlette.responses import Response

from app.kit.problems import InvalidCursor, invalid
from app.kit.responses import dumps
from app.kit.search import RANKED

UNPAGED_PARAMS = {"cursor", "limit", "format", "fields", "count"}
"""Parameters that do not change which rows a list holds: a cursor walks on whatever they are."""

EVERY_ROW = 2**62
"""A limit no list reaches: an export, or a count, is one statement over the whole list (and a
list whose query is built for a page, such as a walk by actor, is built for all of it)."""


@dataclass(frozen=True)
class Sort:
    name: str
    column: Any
    descending: bool

    @property
    def token(self) -> str:
        return f"-{self.name}" if self.descending else self.name


RELEVANCE = literal_column("relevance", Float())


def sort_parser(allowed: Iterable[Any], default: str, searchable: bool = False) -> Callable[..., Sort]:
    """A dependency parsing ``sort`` against the allowed columns of one collection. A
    searchable collection also sorts by ``relevance`` (best match first), its default
    when ``q`` is given."""
    columns = {c.key: c for c in allowed} | ({"relevance": RELEVANCE} if searchable else {})
    described = f"Sort field, `-` for descending. Default `{default}`" + (
        ", or `relevance` when `q` is given (`relevance` without `q` is 422). `relevance` ranks the "
        f"{RANKED:,} matches most recently added, best first (where the search's words occur most often), "
        "then lists the other matches, most recently added first; `-relevance` lists the reverse."
        if searchable
        else "."
    )
    tokens = Literal[tuple(token for name in columns for token in (name, f"-{name}"))]

    def of(token: str) -> Sort:
        name = token.removeprefix("-")
        return Sort(name, columns[name], token.startswith("-"))

    async def parse(request: Request, sort: Annotated[tokens | None, Query(description=described)] = None) -> Sort:
        token = sort or ("relevance" if searchable and request.query_params.get("q") else default)
        if token.removeprefix("-") == "relevance" and not request.query_params.get("q"):
            raise invalid(["query", "sort"], "Sorting by relevance needs a search text `q`.")
        return of(token)

    parse.default = of(default)  # type: ignore[attr-defined]  # a list's sort where it asks for none
    return parse


def _fingerprint(request: Request, sort: Sort, path: str | None = None) -> str:
    return fingerprint(request.query_params.multi_items(), sort, path or request.url.path)


def fingerprint(query: Iterable[tuple[str, str]], sort: Sort, path: str) -> str:
    """What a cursor is bound to: the list at ``path``, its filters (the ``query``'s
    parameters but the page's own) and its sort."""
    items = sorted((k, v) for k, v in query if k not in UNPAGED_PARAMS | {"sort"})
    items += [("sort", sort.token), ("path", path)]
    return hashlib.sha256(urlencode(items).encode()).hexdigest()[:16]


def _sign(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()[:32]


def _to_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _from_json(value: Any, column: Any) -> Any:
    """A cursor's sort value as the column's Python value. A signed cursor may still be
    forged where the secret is known (the development one is public), so every shape is
    checked here: whatever reaches a query is a value the column could hold."""
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, DateTime):
        moment = datetime.fromisoformat(_text(value))
        if moment.tzinfo is None:  # the columns hold UTC moments; a naive one is forged
            raise ValueError
        return moment
    if isinstance(kind, Date):
        return date.fromisoformat(_text(value))
    expected = kind.python_type
    if isinstance(value, bool) or not isinstance(value, expected):
        raise TypeError
    return _text(value) if expected is str else value


def _text(value: Any) -> str:
    """``value`` if it is text a database can hold (none can hold a NUL)."""
    if not isinstance(value, str) or "\x00" in value:
        raise TypeError
    return value


def _key(value: Any) -> Any:
    """A search's pin: a ``rowid`` (SQLite) or an id (PostgreSQL), or none yet."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return _text(value)


@dataclass
class Listing:
    """One list request: its sort, page size, position and the range on the sort column."""

    sort: Sort
    limit: int
    fingerprint: str
    secret: str
    dialect: str = "sqlite"
    after: tuple[Any, str] | None = None
    pin: Any = None
    """What a list's query fixed on its first page for the whole walk, carried by cursors
    (the rows answer it as ``pin``): a search's ranked set (see ``app.kit.search``)."""
    _lo: Any = field(default=None, init=False)
    _hi: Any = field(default=None, init=False)

    def rank_by(self, expression: ColumnElement[float]) -> ColumnElement[float]:
        """Put the search's relevance expression in place of the ``relevance`` placeholder
        (higher is better, so ``relevance`` lists it descending)."""
        self.sort = replace(self.sort, column=expression)
        return expression.label("relevance")

    @property
    def by_relevance(self) -> bool:
        return self.sort.name == "relevance"

    def range(self, column: InstrumentedAttribute, lo: Any, hi: Any) -> list[ColumnElement[bool]]:
        """Conditions for ``lo <= column <= hi``; on the sort column they become the page bound."""
        if column is self.sort.column:
            self._lo, self._hi = lo, hi
            return []
        conditions = []
        if lo is not None:
            conditions.append(column >= lo)
        if hi is not None:
            conditions.append(column <= hi)
        return conditions

    def apply(
        self,
        stmt: "PageQuery",
        id_column: Any,
        limit: int | None = None,
        column: Any = None,
        bounds: tuple[Any, Any] | None = None,
    ) -> Select:
        """Order ``stmt`` by the sort, bound it by the range and the cursor, limit it to a
        page (and one row more, to tell whether another page follows). ``column`` and
        ``bounds`` stand in for the sort column and its range in a query of another table.
        A callable ``stmt`` is first asked for the query of this page: ``stmt(listing, limit)``."""
        if callable(stmt):
            stmt = stmt(self, limit or self.limit)
        column = self.sort.column if column is None else column
        lo, hi = (self._lo, self._hi) if bounds is None else bounds
        descending = self.sort.descending != self.by_relevance
        if self.after is not None:
            value, last_id = self.after
            if descending:
                hi = value if hi is None else min(hi, value)
                stmt = stmt.where(or_(column < value, id_column < last_id))
            else:
                lo = value if lo is None else max(lo, value)
                stmt = stmt.where(or_(column > value, id_column > last_id))
        if lo is not None:
            stmt = stmt.where(column >= lo)
        if hi is not None:
            stmt = stmt.where(column <= hi)
        order = (column.desc(), id_column.desc()) if descending else (column.asc(), id_column.asc())
        return stmt.order_by(*order).limit((limit or self.limit) + 1)

    def cursor_after(self, row: Mapping[str, Any]) -> str:
        state = {"f": self.fingerprint, "v": [_to_json(row[self.sort.name]), row["id"]]}
        payload = orjson.dumps(state | ({"p": row["pin"]} if "pin" in row else {}))
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{_sign(self.secret, payload)}"

    def read_cursor(self, token: str) -> None:
        try:
            body, signature = token.split(".", 1)
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            if not hmac.compare_digest(signature, _sign(self.secret, payload)):
                raise ValueError
            data = orjson.loads(payload)
            if not isinstance(data["v"], list):
                raise TypeError
            value, last_id = data["v"]
            if data["f"] != self.fingerprint:
                raise InvalidCursor(
                    "The cursor belongs to another query: keep filters and sort unchanged while paging."
                )
            self.after = (_from_json(value, self.sort.column), _text(last_id))
            self.pin = _key(data.get("p"))
        except InvalidCursor:
            raise
        except (ValueError, TypeError, KeyError, OverflowError, binascii.Error, orjson.JSONDecodeError):
            raise InvalidCursor("The cursor is malformed or was altered.") from None


PageQuery = Select | Callable[[Listing, int], Select]
"""A list's query, or a function building it for one page (for queries whose inner parts
are bounded by the page, such as walks of several indexes)."""


PAGE_SIZE = 50
"""Rows of a page where the request does not say (``limit``)."""
MAX_PAGE_SIZE = 500


def listing_dependency(sort: Callable[..., Sort], path: str | None = None) -> Callable[..., Listing]:
    """A dependency building the :class:`Listing` of a request. With ``path``, its cursors are
    those of the list at ``path`` (an HTML page passes the API list it draws, so that one
    cursor walks both)."""

    async def build(
        request: Request,
        sort: Annotated[Sort, Depends(sort)],
        limit: Annotated[
            int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Rows per page, 1–{MAX_PAGE_SIZE}.")
        ] = PAGE_SIZE,
        cursor: Annotated[
            str | None, Query(min_length=1, description="Opaque cursor from a previous page's `next_cursor`.")
        ] = None,
    ) -> Listing:
        listing = Listing(
            sort,
            limit,
            _fingerprint(request, sort, path),
            request.app.state.settings.cursor_secret,
            request.app.state.engine.dialect.name,
        )
        if cursor is not None:
            listing.read_cursor(cursor)
        return listing

    return build


Texts = Callable[[Session, list[Mapping[str, Any]]], list[bytes]]
"""Writes the records of a page's rows, in order, each as JSON text."""


def hydrated(hydrate: Callable[[Session, list[Mapping[str, Any]]], list[dict]]) -> Texts:
    """The :data:`Texts` of records built in Python by ``hydrate``."""
    return lambda session, rows: [dumps(record) for record in hydrate(session, rows)]


def page_rows(
    listing: Listing,
    session: Session,
    stmt: PageQuery,
    id_column: InstrumentedAttribute,
    columns: frozenset[str] | None = None,
) -> tuple[list[Mapping[str, Any]], str | None]:
    """The rows of one page and the cursor of the next (``None`` after the last); with
    ``columns``, the statement selects only those (and what the cursor needs)."""
    rows = session.connection().execute(page_query(listing, stmt, id_column, columns)).mappings().all()
    has_more = len(rows) > listing.limit
    rows = rows[: listing.limit]
    return rows, listing.cursor_after(rows[-1]) if has_more else None


def page_query(
    listing: Listing, stmt: PageQuery, id_column: InstrumentedAttribute, columns: frozenset[str] | None = None
) -> Select:
    """The statement of one page (:func:`page_rows`)."""
    query = listing.apply(stmt, id_column)
    if columns is not None:
        kept = columns | {"id", listing.sort.name, "pin"}
        query = query.with_only_columns(*(c for c in query.selected_columns if c.key in kept))
    return query


def count_rows(listing: Listing, session: Session, stmt: PageQuery, id_column: InstrumentedAttribute) -> int:
    """How many rows the list holds, on every page: one ``count`` statement over its query,
    with its filters and its bounds on the sort column, without the cursor or the page size."""
    whole = copy.copy(listing)
    whole.after = None
    query = whole.apply(stmt, id_column, limit=EVERY_ROW).limit(None).order_by(None)
    return session.connection().execute(select(func.count()).select_from(query.subquery())).scalar_one()


def page_response(
    request: Request,
    listing: Listing,
    session: Session,
    stmt: PageQuery,
    id_column: InstrumentedAttribute,
    texts: Texts,
    columns: frozenset[str] | None = None,
    count: bool = False,
    known: Callable[[Session, bool], None] | None = None,
) -> Response:
    """One page of a list: ``{"data": [...], "next_cursor": ...}`` and a ``Link`` to the next;
    with ``count``, also the ``total`` of rows on every page (one statement more). The
    records' texts are spliced into the answer as they are, never parsed again. ``known``
    checks the records the filters name (refusing an unknown one), told whether the page
    came out empty: a page that holds rows need not cost the check."""
    total = count_rows(listing, session, stmt, id_column) if count else None
    rows, next_cursor = page_rows(listing, session, stmt, id_column, columns)
    if known is not None:
        known(session, not rows)
    return page_answer(request, texts(session, rows), next_cursor, total)


def page_answer(request: Request, texts: list[bytes], next_cursor: str | None, total: int | None = None) -> Response:
    """A page's answer: its records' ``texts`` spliced into the envelope, the ``Link`` to the next page."""
    headers = {}
    if next_cursor:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
        query.append(("cursor", next_cursor))
        headers["Link"] = f'<{request.url.replace(query=urlencode(query))}>; rel="next"'
    body = b'{"data":[' + b",".join(texts) + b'],"next_cursor":' + dumps(next_cursor)
    body += b"}" if total is None else b',"total":' + dumps(total) + b"}"
    return Response(body, media_type="application/json", headers=headers)


def walk(
    session: Session, listing: Listing, stmt: Select, id_column: InstrumentedAttribute, chunk: int = 1000
) -> Iterator[list[Mapping[str, Any]]]:
    """Every matching row, ``chunk`` at a time, by keyset: constant memory at any size."""
    while True:
        rows = [r._mapping for r in session.connection().execute(listing.apply(stmt, id_column, limit=chunk - 1))]
        if not rows:
            return
        yield rows
        if len(rows) < chunk:
            return
        listing.after = (rows[-1][listing.sort.name], rows[-1]["id"])
        listing.pin = rows[-1].get("pin")
