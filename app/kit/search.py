"""Full-text search behind one function, on each engine's own index.

SQLite: an FTS5 table per searchable table (``incidents_fts``…), its content read from the
table by ``rowid`` and kept in step by triggers. PostgreSQL: a generated ``search`` column
(``tsvector``, configuration ``simple``) with a GIN index. Both are created by migrations.
Neither stems words, so both engines find the same records. A migration that rebuilds a
searchable SQLite table (renumbering its rowids) must then rebuild its index:
``INSERT INTO incidents_fts(incidents_fts) VALUES ('rebuild')``.

Relevance is a number where lower is better: FTS5's bm25 rank on SQLite, ``-ts_rank`` on
PostgreSQL.
"""

import re
from typing import Any

from sqlalchemy import Boolean, Float, Integer, Select, bindparam, literal_column
from sqlalchemy import text as sql_text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

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


class Matches(ColumnElement[bool]):
    """True for rows of ``table`` whose indexed text contains every word of ``text``."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, table: str, text: str) -> None:
        self.table = table
        self.text = text


class Relevance(ColumnElement[float]):
    """How well a row of ``table`` matches ``text`` on PostgreSQL; lower is better. (SQLite
    ranks by joining the FTS5 query's own rank: see ``search``.)"""

    inherit_cache = False
    type = Float()

    def __init__(self, table: str, text: str) -> None:
        self.table = table
        self.text = text


def _param(compiler: Any, value: str, **kw: Any) -> str:
    return compiler.process(bindparam(None, value), **kw)


@compiles(Matches, "sqlite")
def _matches_sqlite(element: Matches, compiler: Any, **kw: Any) -> str:
    fts = f"{element.table}_fts"
    query = _param(compiler, fts5_query(element.text), **kw)
    return f"{element.table}.rowid IN (SELECT rowid FROM {fts} WHERE {fts} MATCH {query})"


@compiles(Matches, "postgresql")
def _matches_postgresql(element: Matches, compiler: Any, **kw: Any) -> str:
    query = _param(compiler, element.text, **kw)
    return f"{element.table}.search @@ plainto_tsquery('simple', {query})"


@compiles(Relevance, "postgresql")
def _relevance_postgresql(element: Relevance, compiler: Any, **kw: Any) -> str:
    query = _param(compiler, element.text, **kw)
    # float8: a real would reach Python rounded, and the cursor's tie test would miss rows
    return f"(-ts_rank({element.table}.search, plainto_tsquery('simple', {query}))::float8)"


def search(stmt: Select, table: str, text: str, listing: Any) -> Select:
    """Keep the rows of ``stmt`` (a query of ``table``) that match ``text``; when the listing
    sorts by relevance, add the relevance as its sort column.

    On SQLite the ranked form joins the FTS5 query's own ``rank`` (bm25), computed once per
    match; asking FTS5 again for each row would repeat the whole search per row."""
    if listing is None or not listing.by_relevance:
        return stmt.where(Matches(table, text))
    if listing.dialect == "sqlite":
        fts = f"{table}_fts"
        hits = (
            sql_text(f"SELECT rowid AS rid, rank AS relevance FROM {fts} WHERE {fts} MATCH :{fts}_query")
            .bindparams(**{f"{fts}_query": fts5_query(text)})
            .columns(rid=Integer(), relevance=Float())
            .subquery(f"{table}_hits")
        )
        stmt = stmt.join(hits, hits.c.rid == literal_column(f"{table}.rowid"))
        return stmt.add_columns(listing.rank_by(hits.c.relevance))
    return stmt.where(Matches(table, text)).add_columns(listing.rank_by(Relevance(table, text)))


def is_search_object(name: str | None, type_: str) -> bool:
    """The search index's own tables and columns, which the models leave out on purpose."""
    if name is None:
        return False
    if type_ == "table":
        return any(name == f"{t}_fts" or name.startswith(f"{t}_fts_") for t in SEARCHABLE)
    return (type_ == "column" and name == "search") or (type_ == "index" and name.endswith("_search"))
