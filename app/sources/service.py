from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import orjson
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app.kit import etags, search, sqljson, states
from app.kit.bulk import insert_rows
from app.kit.etags import Precondition
from app.kit.links import replace_links
from app.kit.pending import mark_changed, note_created
from app.kit.problems import Conflict, Problem
from app.kit.records import new_id, utcnow
from app.kit.references import get_live, resolve_refs
from app.kit.schemas import validate_merged
from app.kit.sqljson import Columns, RecordSQL
from app.kit.states import retract
from app.kit.writes import Written, written
from app.sources.models import Citation, Source, SourceCreate, SourceFilters, citation_snapshot

PUBLIC_COLUMNS = [c for c in Source.__table__.c if c.key not in {"retracted_at", "record_json"}]
LIST_COLUMNS = [*PUBLIC_COLUMNS, Source.__table__.c.record_json]


def get(session: Session, source_id: str, for_update: bool = False) -> Source:
    return get_live(session, Source, source_id, for_update=for_update)


def resolve(session: Session, refs: Sequence[str], loc: Sequence[Any]) -> list[str]:
    """Source ids for ids, urls or external_refs, in order; 422 naming each unknown one."""
    return resolve_refs(session, Source, refs, loc, "url", "external_ref")


KEYS = ("url", "external_ref")
"""A source's natural keys: no two sources share one, retracted ones included."""


def write(session: Session, items: Sequence[tuple[Source | None, SourceCreate]]) -> list[Written | Problem]:
    """Write each ``(stored source or None, data)``: the one write path of sources, for a
    create, a patch, an import's line or run of lines. One query for each natural key and one
    insert, whatever the count. An item answers its problem, with nothing written, when a
    natural key of its data is another source's; new sources are inserted together
    (:func:`app.kit.bulk.insert_rows`), and stored ones are written over (a new version) only
    where they differ."""
    owners: dict[str, dict[str, str]] = {}
    for key in KEYS:
        column, values = getattr(Source, key), [v for _, d in items if (v := getattr(d, key)) is not None]
        owners[key] = dict(session.execute(select(column, Source.id).where(column.in_(values))).all()) if values else {}
    rows: list[dict[str, Any]] = []
    snapshots: dict[str, dict[str, Any]] = {}
    outcomes: list[Written | Problem] = []
    now = utcnow()
    for row, data in items:
        source_id = row.id if row is not None else new_id()
        values = data.model_dump()
        clash = next((key for key in KEYS if owners[key].get(values[key], source_id) != source_id), None)
        if clash:
            outcomes.append(Conflict(f"Another source already has {clash} {values[clash]!r}."))
            continue
        if row is None:
            meta = {"id": source_id, "created_at": now, "updated_at": now, "version": 1, "retracted_at": None}
            rows.append(values | meta)
            snapshots[source_id] = values
        else:
            fields = {k: v for k, v in values.items() if getattr(row, k) != v}
            if not fields:
                outcomes.append(Written(source_id, False))
                continue
            for key in KEYS:
                if key in fields and owners[key].get(getattr(row, key)) == source_id:
                    del owners[key][getattr(row, key)]  # the old key is free for a later item
            for key, value in fields.items():
                setattr(row, key, value)
            mark_changed(session, row)
        for key in KEYS:
            if values[key] is not None:
                owners[key][values[key]] = source_id
        outcomes.append(Written(source_id, True))
    session.flush()
    insert_rows(session, {Source: rows})
    note_created(session, Source, snapshots, now)
    return outcomes


def replace(session: Session, source: Source, data: SourceCreate) -> bool:
    """Write ``data`` over the stored ``source``; its version grows only when something
    differs (answered)."""
    (outcome,) = write(session, [(source, data)])
    return written(outcome).changed


def create(session: Session, data: SourceCreate) -> Source:
    (outcome,) = write(session, [(None, data)])
    return session.get_one(Source, written(outcome).id)


def update(session: Session, source_id: str, patch: dict[str, Any], precondition: Precondition | None = None) -> Source:
    source = get(session, source_id, for_update=True)
    etags.check(precondition, source.version)
    current = source.model_dump(include=set(SourceCreate.model_fields), warnings=False)
    replace(session, source, validate_merged(SourceCreate, current, patch))
    return source


def delete(session: Session, source_id: str, precondition: Precondition | None = None) -> None:
    source = get(session, source_id, for_update=True)
    etags.check(precondition, source.version)
    retract(session, source)
    session.flush()


def restore(session: Session, ref: str, precondition: Precondition | None = None) -> Source:
    """Make the retracted source ``ref`` live again; 409 when it is not retracted."""
    return states.restore(session, Source, ref, precondition)


def query(filters: SourceFilters, listing: Any = None) -> Any:
    stmt = select(*LIST_COLUMNS).where(Source.retracted_at.is_(None))
    if filters.publisher:
        stmt = stmt.where(Source.publisher.in_(filters.publisher))
    if filters.q:  # last: sorted by relevance, a search answers a function building each page
        stmt = search.search(stmt, "sources", filters.q, listing)
    return stmt


def hydrate(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The answers for ``rows`` (any rows with an ``id``), in order: kept, or built in one query."""
    return [orjson.loads(text) for text in sqljson.kept_texts(session, Source.__table__, record, rows)]


def ref_json(sql: RecordSQL, source: Any) -> ColumnElement[str]:
    """A source reference ``{id, title, url}`` as JSON text (``source``: the table or an alias)."""
    return sql.object([(key, sql.value(getattr(source, key))) for key in ("id", "title", "url")])


def record(sql: RecordSQL, row: Columns) -> ColumnElement[str]:
    """A source's answer as JSON text: the one it keeps, or where that is stale, built."""
    return sqljson.kept(row, answer(sql, row))


def answer(sql: RecordSQL, row: Columns) -> ColumnElement[str]:
    """A source's answer as JSON text, built from its row."""
    return sql.object([(c.key, sql.value(row[c.key])) for c in PUBLIC_COLUMNS])


def public(session: Session, source: Source) -> dict[str, Any]:
    """The answer for one source, whatever its state."""
    session.flush()
    return hydrate(session, [{"id": source.id}])[0]


def set_citations(
    session: Session,
    resource: str,
    record_id: str,
    source_ids: Sequence[str],
    provenance: Sequence[dict[str, Any] | None] | None = None,
) -> bool:
    """Make ``source_ids`` the sources the record cites, in order, each with its
    ``provenance`` where given; True when they changed."""
    return replace_links(
        session,
        Citation,
        {"resource": resource, "record_id": record_id},
        citation_links(source_ids, provenance),
    )


def citation_links(
    source_ids: Sequence[str], provenance: Sequence[dict[str, Any] | None] | None = None
) -> list[dict[str, Any]]:
    """The citation rows' own values for ``source_ids``, in order (``provenance`` beside them)."""
    if provenance is None:
        return [{"source_id": source_id} for source_id in source_ids]
    return [{"source_id": s, "provenance": p} for s, p in zip(source_ids, provenance, strict=True)]


def cited_ids(session: Session, resource: str, ids: Sequence[str]) -> dict[str, list[str]]:
    """Each record's cited source ids, in order: its citations as its input names them."""
    rows = session.execute(
        select(Citation.record_id, Citation.source_id)
        .where(Citation.resource == resource, Citation.record_id.in_(ids))
        .order_by(Citation.record_id, Citation.position)
    )
    out: dict[str, list[str]] = {}
    for record_id, source_id in rows:
        out.setdefault(record_id, []).append(source_id)
    return out


def cited_as_input(session: Session, resource: str, ids: Sequence[str]) -> dict[str, list[Any]]:
    """Each record's citations as its input names them: a source id, or ``{source,
    provenance}`` where the citation keeps a provenance."""
    rows = session.execute(
        select(Citation.record_id, Citation.source_id, Citation.provenance)
        .where(Citation.resource == resource, Citation.record_id.in_(ids))
        .order_by(Citation.record_id, Citation.position)
    )
    links: dict[str, tuple[list[str], list[Any]]] = {}
    for record_id, source_id, provenance in rows:
        ids, kept = links.setdefault(record_id, ([], []))
        ids.append(source_id)
        kept.append(provenance)
    return {record_id: citation_snapshot(*pair) for record_id, pair in links.items()}


def cited_json(sql: RecordSQL, resource: str, record_id: Any, provenance: bool = False) -> ColumnElement[str]:
    """The sources a record cites, as a JSON array of references, in order; with
    ``provenance``, each reference also holds its citation's ``provenance`` (or null)."""
    link = aliased(Citation)
    source, joined = sql.lookup(link, link.source_id, Source, partial(ref_json, sql))
    if provenance:  # where kept: the reference's object, its closing brace replaced by one more member
        kept = sql.value(link.provenance)
        spliced = func.substr(source, 1, func.length(source) - 1) + ',"provenance":' + kept + "}"
        source = case((kept == "null", source), else_=spliced)
    return sql.array(source, joined, [link.resource == resource, link.record_id == record_id], [link.position])


def read_text(session: Session, ref: str) -> tuple[bytes, int]:
    """The answer for the live source ``ref`` as JSON text, and its version, else 404."""
    return sqljson.read_text(session, Source.__table__, record, ref, "source")
