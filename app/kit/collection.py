"""One record type, declared once: what the app derives the rest from.

Each domain declares its collection in its ``collection`` module (``app.actors.collection``
and so on), and :mod:`app.records` gathers the five. From a declaration come its lists and
exports (:func:`app.kit.export.list_response`), the answers its table keeps
(:func:`app.kit.sqljson.keep_answers`), the change feed's snapshots and histories
(:mod:`app.changes.service`) and imports (:mod:`app.ingest.upsert`).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from app.kit import sqljson
from app.kit.pagination import Texts, hydrated
from app.kit.sqljson import Record

Hydrate = Callable[[Session, list[Mapping[str, Any]]], list[dict]]
"""The answers of rows of a list (any rows with an ``id``), in order."""
NaturalKeys = Callable[[Session, list[dict]], None]
"""Adds to answers the natural keys of the records they name by id only, for CSV."""
Links = Callable[[Session, Sequence[str]], dict[str, dict[str, Any]]]
"""Each record's links as its input names them (by id), by record id, for snapshots."""


def no_links(_session: Session, _ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {}


@dataclass(frozen=True)
class Collection:
    type: str
    """One record's name: an import line's ``type``, the change feed's ``resource``."""
    name: str
    """The collection's: its path (``/v1/{name}``), its export's file name."""
    table: Any
    """Its table (the SQLModel class)."""
    create_model: type[BaseModel]
    """What a create, an import line or a whole replacement sends."""
    public_model: type[BaseModel]
    """What a read answers: the OpenAPI document's schema, the fields a selection names and
    the columns of a CSV export."""
    answer: Record
    """Its answer as JSON text, built from its row and links (what ``record_json`` keeps)."""
    record: Record
    """Its answer as JSON text from a row of its list: the kept one, or where stale, built."""
    hydrate: Hydrate
    create: Callable[[Session, Any], Any]
    """Creates one record from ``create_model`` data."""
    replace: Callable[[Session, Any, Any], bool]
    """Writes ``create_model`` data over a stored record; answers whether anything differs."""
    links: Links = no_links
    """Its links, by id, for the change feed's snapshots."""
    path_keys: tuple[str, ...] = ()
    """Natural keys that name a record in paths, beside its id (an actor's ``slug``)."""
    import_keys: tuple[str, ...] = ("external_ref",)
    """Natural keys by which an import finds the stored record a line writes over."""
    renamed: tuple[tuple[str, str], ...] = ()
    """Columns that appear in snapshots under another name."""
    fold: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """Gathers columns that snapshots hold as one object (an actor's ``codes``)."""
    pages_kept: bool = True
    """Whether a page serves the answers its rows keep (``record_json``) as they are; else
    it writes them from ``hydrate`` (a channel's kept answer lacks its status on the day
    asked)."""
    csv_keys: NaturalKeys | None = None
    """Where its answers nest references without their natural key: adds it, for CSV."""
    write_many: Callable[[Session, list[tuple[Any, Any]]], list[Any]] | None = None
    """Writes many ``(stored row or None, create_model data)`` at once, answering each a
    :class:`app.kit.writes.Written` or the problem that kept it out (nothing written), where
    it can: its ``create`` and ``replace`` are this path for one record."""
    onto: Callable[[Session, list[tuple[Any, Any]]], list[Any]] | None = None
    """For import lines written over stored records (``(row, data)`` each), the stored record
    each goes to and the data it writes, or the problem that keeps it out (incidents: a
    merged-away incident's line goes to its survivor)."""
    merge_new: Callable[[Session, list[str]], int] | None = None
    """Merges the records an import created (by id, in order) that repeat another; answers
    how many were merged away (incidents: reports of one event)."""

    @property
    def id_column(self) -> Any:
        return self.table.id

    @cached_property
    def page_texts(self) -> Texts:
        """The texts of a page's records, from its rows."""
        if self.pages_kept:
            return sqljson.page_texts(self.table.__table__, self.record)
        return hydrated(self.hydrate)

    @property
    def page_columns(self) -> frozenset[str] | None:
        """The columns of its list that a page reads (with the id and the sort key), or all."""
        return sqljson.KEPT_COLUMNS if self.pages_kept else None
