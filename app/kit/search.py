"""Full-text search behind one function, on each engine's own index.

SQLite: an FTS5 table per searchable table (``incidents_fts``…), its content read from the
table by ``rowid`` and kept in step by triggers. PostgreSQL: a generated ``search`` column
(``tsvector``, configuration ``simple``) with a GIN index. Both are created by migrations.
Neither stems words, so both engines find the same records. A migration that rebuilds a
searchable SQLite table (renumbering its rowids) must then rebuild its index:
``INSERT INTO incidents_fts(incidents_fts) VALUES ('rebuild')``.

Relevance is a number where higher is better, and a function of the record alone, so that
cursors compare it across requests whatever was added meanwhile (bm25's depends on the whole
collection): how often the search's words occur in the record, counted from FTS5's
``highlight()`` on SQLite, ``ts_rank`` on PostgreSQL (which grows with that count).
"""

import re
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    Select,
    String,
    TypeDecorator,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy import table as sql_table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

# table -> the columns its index covers (migration 0002 holds its own frozen copy)
SEARCHABLE: dict[str, tuple[str, ...]] = {
    "incidents": ("title", "summary"),
    "exercises": ("name", "aliases", "summary"),
    "sources": ("title", "publisher", "authors"),
}


def fts5_query(text: str) -> str:
    """Words of ``text`` as an FTS5 query: every word must appear (quoted, so operators
    and punctuation in user input are plain text)."""
    words = re.findall(r"\w+", text)
    return " ".join(f'"{w}"' for w in words) or '""'


class SearchText(TypeDecorator[str]):
    """A search text as a bound value: on SQLite, its words as an FTS5 query."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return fts5_query(value) if value is not None and dialect.name == "sqlite" else value


class _Search(ColumnElement[Any]):
    """An expression on ``table``'s search index and a search text, bound as a parameter so
    that statements holding it are compiled once and cached."""

    inherit_cache = True
    _traverse_internals = [("table", InternalTraversal.dp_string), ("query", InternalTraversal.dp_clauseelement)]

    def __init__(self, table: str, text: str) -> None:
        self.table = table
        self.query = bindparam(None, text, type_=SearchText())


class Matches(_Search):
    """True for rows of ``table`` whose indexed text contains every word of ``text``."""

    inherit_cache = True
    type = Boolean()


class Relevance(_Search):
    """How well a row of ``table`` matches ``text`` on PostgreSQL; higher is better. (SQLite
    counts the words FTS5 marks in the rows it joins: see ``_hits``.)"""

    inherit_cache = True
    type = Float()


@compiles(Matches, "sqlite")
def _matches_sqlite(element: Matches, compiler: Any, **kw: Any) -> str:
    fts = f"{element.table}_fts"
    query = compiler.process(element.query, **kw)
    return f"{element.table}.rowid IN (SELECT rowid FROM {fts} WHERE {fts} MATCH {query})"


@compiles(Matches, "postgresql")
def _matches_postgresql(element: Matches, compiler: Any, **kw: Any) -> str:
    query = compiler.process(element.query, **kw)
    return f"{element.table}.search @@ plainto_tsquery('simple', {query})"


@compiles(Relevance, "postgresql")
def _relevance_postgresql(element: Relevance, compiler: Any, **kw: Any) -> str:
    query = compiler.process(element.query, **kw)
    # float8: a real would reach Python rounded, and the cursor's tie test would miss rows
    return f"(ts_rank({element.table}.search, plainto_tsquery('simple', {query}))::float8)"


RANKED = 1000
"""How many matches a search sorted by relevance ranks: the most recently added (see ``search``)."""
UNRANKED = 2.0**53
"""SQLite lists the matches it does not rank by ``rowid - UNRANKED``: below every rank, in
the order they were added, and exact as a float (rowids stay below 2**53)."""
MARK = "\x01"
"""What FTS5's ``highlight()`` puts before each word found: the words are counted by how
much longer the marked text is."""
LOWEST_KEY = {"sqlite": 0, "postgresql": ""}
"""Below every ``rowid`` or id: the pin of a search whose matches are all ranked."""


def search(stmt: Select, table: str, text: str, listing: Any) -> Any:
    """Keep the rows of ``stmt`` (a query of ``table``) that match ``text``. Sorted by
    relevance, the answer is a function building each page, so this is the query's last step.

    Ranking reads each match's term statistics, and a common word matches a third of a
    million records: too many to rank for every page. So a search ranks the ``RANKED``
    matches most recently added; they come first, best first, and the other matches follow,
    most recently added first (``-relevance`` lists the reverse). The first page fixes that
    set by its oldest member, the pin, which cursors carry: pages neither repeat nor skip a
    record while others are added. "Added" is insertion order, by ``rowid`` on SQLite and
    by id (a UUIDv7, in creation order) on PostgreSQL: each engine reads the matches in that
    order from its own index, and ranks only the few it keeps."""
    if listing is None or not listing.by_relevance:
        return stmt.where(Matches(table, text))
    return lambda page, limit: _ranked_page(stmt, table, text, page, limit)


def _hits(stmt: Select, table: str, text: str, dialect: str, ranked: bool) -> tuple[Select, Any]:
    """The matches of ``stmt`` as ``(key, id, relevance)`` rows, where ``key`` is the order in
    which records were added, and that key's column (to order and bound them by); unranked
    matches get a relevance below every rank (see ``UNRANKED``). SQLite joins the FTS5
    query, which reads matches by ``rowid`` and marks the words found only in the rows it
    yields."""
    if dialect == "sqlite":
        fts = sql_table(f"{table}_fts", column("rowid"), column(f"{table}_fts"))
        key = fts.c.rowid
        found = sum(
            func.coalesce(
                func.length(func.highlight(fts.c[f"{table}_fts"], n, MARK, ""))
                - func.length(literal_column(f"{table}.{name}")),
                0,
            )
            for n, name in enumerate(SEARCHABLE[table])
        )
        relevance = cast(found if ranked else key - UNRANKED, Float)
        hits = stmt.join(fts, key == literal_column(f"{table}.rowid")).where(
            fts.c[f"{table}_fts"].match(fts5_query(text))
        )
    else:
        key = literal_column(f"{table}.id")
        relevance = Relevance(table, text) if ranked else literal(-1.0, Float)
        hits = stmt.where(Matches(table, text))
    record_id = literal_column(f"{table}.id")
    return hits.with_only_columns(key.label("key"), record_id.label("id"), relevance.label("relevance")), key


def _ranked_page(stmt: Select, table: str, text: str, listing: Any, limit: int) -> Select:
    """One page of a search sorted by relevance, as the rows of ``stmt`` with their
    ``relevance`` and the ``pin`` the cursor carries on: the page is chosen among the ranked
    matches (all of them, unless the cursor is past them) and the next unranked ones before
    any other column is read."""
    dialect = listing.dialect
    best_first = not listing.sort.descending
    past_ranked = listing.after is not None and listing.after[0] < 0
    ranked, key = _hits(stmt, table, text, dialect, ranked=True)
    if listing.pin is None:
        candidates = ranked.order_by(key.desc()).limit(RANKED).cte("candidates")
        pin = (
            select(case((func.count() == RANKED, func.min(candidates.c.key)), else_=LOWEST_KEY[dialect]))
            .select_from(candidates)
            .scalar_subquery()
        )
        ranked = select(candidates)
    else:
        pin = literal(listing.pin)
        ranked = ranked.where(key >= pin)
    unranked, key = _hits(stmt, table, text, dialect, ranked=False)
    unranked = unranked.where(key < pin)
    if past_ranked:
        value, last_id = listing.after
        after = int(value + UNRANKED) if dialect == "sqlite" else last_id
        unranked = unranked.where(key < after if best_first else key > after)
    unranked = unranked.order_by(key.desc() if best_first else key.asc()).limit(limit + 1)
    parts = [] if best_first and past_ranked else [ranked]
    if best_first or listing.after is None or past_ranked:
        parts.append(unranked)
    picked = union_all(*(select(part.subquery()) for part in parts)).subquery("picked")
    page = listing.apply(select(picked), picked.c.id, limit, column=picked.c.relevance, bounds=(None, None)).subquery()
    return stmt.join(page, page.c.id == literal_column(f"{table}.id")).add_columns(
        listing.rank_by(page.c.relevance), pin.label("pin")
    )


VIEW_OBJECTS = {
    "table": {"incident_counts", "actor_incident_counts", "incident_pair_counts"},
    "index": {"ix_exercises_span"},
}
"""What migrations 0009 and 0013 keep for the views and the models leave out too: counts kept
by triggers, and an index whose expression each engine spells its own way."""


def modelled(name: str | None, type_: str, _parent: object = None) -> bool:
    """Alembic's ``include_name``: whether the models describe the object. They leave out the
    engines' own objects on purpose: the search index's tables, columns and indexes, and
    ``VIEW_OBJECTS``."""
    if name is None:
        return True
    if name in VIEW_OBJECTS.get(type_, ()):
        return False
    if type_ == "table":
        return not any(name == f"{t}_fts" or name.startswith(f"{t}_fts_") for t in SEARCHABLE)
    return not ((type_ == "column" and name == "search") or (type_ == "index" and name.endswith("_search")))
