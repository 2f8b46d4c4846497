import operator
from collections import ChainMap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Date,
    Dialect,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app import vocab
from app.access.visibility import listable, readable
from app.actors import service as actors
from app.actors.models import Actor, Involvement
from app.incidents.models import Incident, IncidentCreate, IncidentFilters, Reply
from app.kit import etags, search, sqljson, states, writes
from app.kit.bulk import insert_rows
from app.kit.etags import Precondition
from app.kit.keys import path_key
from app.kit.links import delete_links, link_rows
from app.kit.pending import mark_changed, note_created
from app.kit.prepared import Statement
from app.kit.problems import Conflict, Merged, Moved, NotFound, Problem, ValidationFailed, invalid
from app.kit.records import new_id, utcnow
from app.kit.references import check_refs, get_live, lookup
from app.kit.schemas import validate_merged
from app.kit.sql import JSONHasAny
from app.kit.sqljson import Columns, RecordSQL
from app.kit.states import retract, state_values
from app.kit.writes import Written, written
from app.sources import service as sources
from app.sources.models import Citation, Source, citation_snapshot, cited
from app.vocab import DatePrecision, RecordStatus, span_end, span_start

RESOURCE = "incident"
ROLES = ("initiator", "target")
PUBLIC_COLUMNS = [c for c in Incident.__table__.c if c.key not in {"retracted_at", "record_json", "merged_into"}]
LIST_COLUMNS = [*PUBLIC_COLUMNS, Incident.__table__.c.record_json]
"""What a list selects: the answer's own fields, and the answer kept as JSON text."""
LINKS = {"initiators", "targets", "responds_to", "sources"}


def get(session: Session, incident_id: str, for_update: bool = False) -> Incident:
    """The live incident ``incident_id``; 409 (naming the survivor) when it was merged into
    another, 404 when there is none."""
    try:
        return get_live(session, Incident, incident_id, for_update=for_update)
    except NotFound:
        refuse_merged(session, incident_id)
        raise


def survivor_of(session: Session, ref: str, published: bool = False) -> str | None:
    """The id of the incident that the incident ``ref`` (its id, or ``ref:{external_ref}``)
    was merged into, if it was merged away (with ``published``, only if that one is live and
    published). One statement, by index."""
    names, value = path_key(ref, Incident.__table__.c.keys())
    stmt = select(Incident.merged_into).where(
        or_(*(getattr(Incident, c) == value for c in names)), Incident.merged_into.is_not(None)
    )
    if published:
        survivor = aliased(Incident)
        stmt = stmt.join(survivor, survivor.id == Incident.merged_into).where(*listable(survivor, [], False))
    return session.execute(stmt.limit(1)).scalar_one_or_none()


def redirect_merged(session: Session, ref: str, unpublished: bool) -> None:
    """308 to the survivor when ``ref`` names an incident merged into another, and the
    caller may read the survivor (else the 404 stands: a reader learns nothing of drafts)."""
    survivor = survivor_of(session, ref, published=not unpublished)
    if survivor is not None:
        raise Moved(f"The incident {ref!r} was merged into {survivor!r}.", ref, survivor)


def refuse_merged(session: Session, ref: str) -> None:
    """409 naming the survivor when ``ref`` names an incident merged into another: a write
    goes to the survivor."""
    survivor = survivor_of(session, ref)
    if survivor is not None:
        raise Merged(f"The incident {ref!r} was merged into {survivor!r}; write to that one.", survivor)


def with_survivors(session: Session, ids: dict[str, str], refs: Iterable[str]) -> dict[str, str]:
    """``ids`` (references to live incidents, from :func:`lookup`) with the references among
    ``refs`` that name merged-away incidents (by id or ``external_ref``) taken as their
    survivors. One statement when any reference is left unknown."""
    missing = {r for r in refs if r not in ids}
    if not missing:
        return ids
    rows = session.execute(
        select(Incident.id, Incident.external_ref, Incident.merged_into).where(
            or_(Incident.id.in_(missing), Incident.external_ref.in_(missing)), Incident.merged_into.is_not(None)
        )
    ).all()
    found = {key: row.merged_into for row in rows for key in (row.id, row.external_ref) if key in missing}
    return ids | found


def resolve(session: Session, refs: Sequence[str], loc: Sequence[Any], kept: Sequence[str] = ()) -> list[str]:
    """Incident ids for ids or external_refs of live incidents, in order; 422 naming each
    unknown one. The ids in ``kept`` (links an incident already has) are taken as they are,
    live or retracted."""
    asked = [r for r in refs if r not in kept]
    known = with_survivors(session, lookup(session, Incident, asked, "external_ref"), asked)
    ids, errors = check_refs(known | {r: r for r in refs if r in kept}, refs, loc, "incident")
    if errors:
        raise ValidationFailed(errors[0]["msg"], errors=errors)
    return ids


def embeddable(incident: Any) -> list[ColumnElement[bool]]:
    """Conditions for an incident (``incident``: the table or an alias) to be shown inside
    another record's answer. Answers are kept once for every caller (``record_json``) and
    whoever may read a record may read its answer, so a reference to a draft or a retracted
    incident is left out of every answer, for every caller; the link itself is kept (it
    shows in the record's history, as an id, and again once the incident is published)."""
    return listable(incident, [], unpublished=False)


@dataclass(slots=True)
class _Known:
    """What a write of many incidents looks up once for all its items: the ids of the actors,
    sources and incidents they name, the links of the stored ones, and which incident holds
    each ``external_ref`` they give. Kept up to date as items are written, so that a later
    item finds what an earlier one created, renamed or retracted as it would alone."""

    actors: dict[str, str]
    sources: dict[str, str]
    incidents: dict[str, str]
    links: dict[str, tuple[list, list, list]]
    owners: dict[str, str]

    @classmethod
    def of(cls, session: Session, items: Sequence[tuple[Incident | None, IncidentCreate]]) -> "_Known":
        """Six statements at the most, however many items."""
        answered = [r for _, d in items for r in d.responds_to]
        refs = [d.external_ref for _, d in items if d.external_ref]
        owned = select(Incident.external_ref, Incident.id).where(Incident.external_ref.in_(refs))
        return cls(
            actors.lookup(session, (r for _, d in items for r in (*d.initiators, *d.targets))),
            lookup(session, Source, (r for _, d in items for r, _ in cited(d.sources)), "url", "external_ref"),
            with_survivors(session, lookup(session, Incident, answered, "external_ref"), answered),
            links_of(session, [row.id for row, _ in items if row is not None]),
            dict(session.execute(owned).all()) if refs else {},
        )

    def resolve(self, incident_id: str, data: IncidentCreate) -> tuple[list[str], ...] | Problem:
        """The ids of ``data``'s initiators, targets, answered incidents and cited sources, or
        the problem that keeps it out: an ``external_ref`` another incident has, unknown or
        repeated references (each named), an answer to itself. A stored incident keeps its
        links to incidents retracted since."""
        if self.owners.get(data.external_ref, incident_id) != incident_id:
            return Conflict(f"Another incident already has external_ref {data.external_ref!r}.")
        had = self.links.get(incident_id, ([], [], []))[1]
        kept = {r: r for r in data.responds_to if r in had}
        answerable = ChainMap(kept, self.incidents) if kept else self.incidents
        checked = [
            check_refs(known, refs, ["body", field], noun)
            for field, refs, known, noun in (
                ("initiators", data.initiators, self.actors, "actor"),
                ("targets", data.targets, self.actors, "actor"),
                ("responds_to", data.responds_to, answerable, "incident"),
                ("sources", [ref for ref, _ in cited(data.sources)], self.sources, "source"),
            )
        ]
        errors = [error for _, found in checked for error in found]
        if errors:
            return ValidationFailed(errors[0]["msg"], errors=errors)
        if incident_id in checked[2][0]:
            return invalid(["body", "responds_to"], "An incident cannot respond to itself.")
        return tuple(ids for ids, _ in checked)

    def keyed(self, incident_id: str, external_ref: str | None, live: bool, before: str | None = None) -> None:
        """The incident ``incident_id`` now holds ``external_ref`` (no longer ``before``), and
        is ``live`` or not: a later item names it so, or not at all."""
        for names in (self.owners, self.incidents):
            for key in (incident_id, before):
                if key is not None and names.get(key) == incident_id:
                    del names[key]
        if external_ref:
            self.owners[external_ref] = incident_id
        if live:
            self.incidents |= {key: incident_id for key in (incident_id, external_ref) if key}


def write(session: Session, items: Sequence[tuple[Incident | None, IncidentCreate]]) -> list[Written | Problem]:
    """Write each ``(stored incident or None, data)``: the one write path of incidents, for a
    create, a patch, an import's line or run of lines.

    Every reference of every item is looked up first, whatever their count (:class:`_Known`);
    an item that names an unknown one, or an ``external_ref`` another incident has, answers
    its problem and writes nothing. Then new incidents and the links of changed ones are
    inserted together (:func:`app.kit.bulk.insert_rows`), and the stored ones are written
    over (a new version) only where their fields or links differ. A new item may answer
    (``responds_to``) an earlier one by its ``external_ref``."""
    known = _Known.of(session, items)
    rows: dict[type, list[dict[str, Any]]] = {Incident: [], Involvement: [], Reply: [], Citation: []}
    rewritten: dict[type, list[str]] = {Involvement: [], Reply: [], Citation: []}
    snapshots: dict[str, dict[str, Any]] = {}
    outcomes: list[Written | Problem] = []
    now = utcnow()
    for row, data in items:
        incident_id = row.id if row is not None else new_id()
        resolved = known.resolve(incident_id, data)
        if isinstance(resolved, Problem):
            outcomes.append(resolved)
            continue
        initiators, targets, answered, cited_ids = resolved
        values = data.model_dump(exclude=LINKS)
        parties = [(a, "initiator") for a in initiators] + [(a, "target") for a in targets]
        provenance = [p for _, p in cited(data.sources)]
        links = {
            Involvement: actors.involvement_rows(RESOURCE, incident_id, parties, data.occurred_on),
            Reply: link_rows({"incident_id": incident_id}, [{"responds_to_id": a} for a in answered]),
            Citation: link_rows(
                {"resource": RESOURCE, "record_id": incident_id}, sources.citation_links(cited_ids, provenance)
            ),
        }
        if row is None:
            retracted = now if data.status == RecordStatus.retracted else None
            meta = {"id": incident_id, "created_at": now, "updated_at": now, "version": 1, "retracted_at": retracted}
            rows[Incident].append(values | meta)
            for table, table_rows in links.items():
                rows[table] += table_rows
            snapshots[incident_id] = values | {
                "initiators": initiators,
                "targets": targets,
                "responds_to": answered,
                "sources": citation_snapshot(cited_ids, provenance),
            }
            known.keyed(incident_id, data.external_ref, live=retracted is None)
            outcomes.append(Written(incident_id, True))
            continue
        wanted = (
            [(actor, role, data.occurred_on) for actor, role in parties],
            answered,
            list(zip(cited_ids, provenance, strict=True)),
        )
        had = known.links.get(incident_id, ([], [], []))
        relinked = [table for table, old, new in zip(rewritten, had, wanted, strict=True) if old != new]
        restored = row.retracted_at is not None and data.status != RecordStatus.retracted
        fields = {k: v for k, v in (values | state_values(row, data.status)).items() if getattr(row, k) != v}
        if not fields and not relinked:
            outcomes.append(Written(incident_id, False))
            continue
        for table in relinked:
            rewritten[table].append(incident_id)
            rows[table] += links[table]
        before = row.external_ref
        for key, value in fields.items():
            setattr(row, key, value)
        known.keyed(incident_id, row.external_ref, row.retracted_at is None, before)
        mark_changed(session, row, restored=restored)
        outcomes.append(Written(incident_id, True))
    session.flush()
    delete_links(session, Involvement, "record_id", rewritten[Involvement], resource=RESOURCE)
    delete_links(session, Reply, "incident_id", rewritten[Reply])
    delete_links(session, Citation, "record_id", rewritten[Citation], resource=RESOURCE)
    insert_rows(session, rows)
    note_created(session, Incident, snapshots, now)
    return outcomes


def replace(session: Session, incident: Incident, data: IncidentCreate) -> bool:
    """Write ``data`` over the stored ``incident``; its version grows only when something
    differs (answered)."""
    (outcome,) = write(session, [(incident, data)])
    return written(outcome).changed


def create(session: Session, data: IncidentCreate) -> Incident:
    (outcome,) = write(session, [(None, data)])
    return session.get_one(Incident, written(outcome).id)


def links_of(session: Session, ids: Sequence[str]) -> dict[str, tuple[list, list, list]]:
    """Each incident's stored links, in order: ``(actor_id, role, occurred_on)`` of its
    involvements, the ids it answers, ``(source_id, provenance)`` of the sources it cites.
    Three statements."""
    out: dict[str, tuple[list, list, list]] = {}
    if not ids:
        return out
    connection = session.connection()  # Core rows: no ORM loading
    involved = select(Involvement.record_id, Involvement.actor_id, Involvement.role, Involvement.occurred_on).where(
        Involvement.resource == RESOURCE, Involvement.record_id.in_(ids)
    )
    for record_id, *link in connection.execute(involved.order_by(Involvement.record_id, Involvement.position)):
        out.setdefault(record_id, ([], [], []))[0].append(tuple(link))
    answered = select(Reply.incident_id, Reply.responds_to_id).where(Reply.incident_id.in_(ids))
    for record_id, target in connection.execute(answered.order_by(Reply.incident_id, Reply.position)):
        out.setdefault(record_id, ([], [], []))[1].append(target)
    citing = select(Citation.record_id, Citation.source_id, Citation.provenance).where(
        Citation.resource == RESOURCE, Citation.record_id.in_(ids)
    )
    for record_id, source_id, provenance in connection.execute(citing.order_by(Citation.record_id, Citation.position)):
        out.setdefault(record_id, ([], [], []))[2].append((source_id, provenance))
    return out


def name_answered(session: Session, records: list[dict[str, Any]]) -> None:
    """Adds to each incident the records answer (``responds_to``) its ``external_ref``, where
    it has one: the key a CSV export names it by. One statement."""
    answered = [ref for record in records for ref in record.get("responds_to") or []]
    ids = {ref["id"] for ref in answered}
    if not ids:
        return
    keys = dict(
        session.execute(
            select(Incident.id, Incident.external_ref).where(Incident.id.in_(ids), Incident.external_ref.is_not(None))
        ).all()
    )
    for ref in answered:
        if ref["id"] in keys:
            ref["external_ref"] = keys[ref["id"]]


def links(session: Session, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each incident's links as its input names them (by id), and the incidents merged into
    it: what its snapshots hold beside its fields, and :func:`as_input`."""
    parties = actors.involved_ids(session, RESOURCE, ids)
    cited = sources.cited_as_input(session, RESOURCE, ids)
    merged: dict[str, list[str]] = {}
    for merged_id, survivor in session.execute(
        select(Incident.id, Incident.merged_into).where(Incident.merged_into.in_(ids)).order_by(Incident.id)
    ):
        merged.setdefault(survivor, []).append(merged_id)
    answered: dict[str, list[str]] = {}
    for incident_id, responds_to_id in session.execute(
        select(Reply.incident_id, Reply.responds_to_id)
        .where(Reply.incident_id.in_(ids))
        .order_by(Reply.incident_id, Reply.position)
    ):
        answered.setdefault(incident_id, []).append(responds_to_id)
    return {
        i: {
            "initiators": [a for role, a in parties.get(i, []) if role == "initiator"],
            "targets": [a for role, a in parties.get(i, []) if role == "target"],
            "responds_to": answered.get(i, []),
            "sources": cited.get(i, []),
            **({"merged": merged[i]} if i in merged else {}),
        }
        for i in ids
    }


def as_input(session: Session, incident: Incident) -> dict[str, Any]:
    """The stored incident as the input that would write it: its fields and its links by id."""
    return writes.as_input(incident, IncidentCreate, links(session, [incident.id])[incident.id])


def update(
    session: Session, incident_id: str, patch: dict[str, Any], precondition: Precondition | None = None
) -> Incident:
    incident = get(session, incident_id, for_update=True)
    etags.check(precondition, incident.version)
    replace(session, incident, validate_merged(IncidentCreate, as_input(session, incident), patch))
    return incident


def delete(session: Session, incident_id: str, precondition: Precondition | None = None) -> None:
    incident = get(session, incident_id, for_update=True)
    etags.check(precondition, incident.version)
    retract(session, incident)
    session.flush()


def restore(session: Session, ref: str, precondition: Precondition | None = None) -> Incident:
    """Make the retracted incident ``ref`` live again (published); 409 when it is not
    retracted, or was merged into another (a merge is not undone by a restore)."""
    refuse_merged(session, ref)
    return states.restore(session, Incident, ref, precondition)


def query(filters: IncidentFilters, listing: Any = None, unpublished: bool = False) -> Any:
    """The incidents matching ``filters`` that the caller may list (published ones, or with
    ``unpublished`` drafts and asked-for retracted ones too); with a listing, ``from``/``to``
    become its bound on ``occurred_on``."""
    stmt = select(*LIST_COLUMNS).where(*listable(Incident, filters.status, unpublished))
    if filters.kind:
        stmt = stmt.where(Incident.kind.in_(filters.kind))
    if filters.cameo:
        stmt = stmt.where(Incident.kind.in_(sorted({k for c in filters.cameo for k in vocab.kinds_with_cameo(c)})))
    if filters.plover:
        stmt = stmt.where(Incident.kind.in_(sorted({k for e in filters.plover for k in vocab.kinds_with_plover(e)})))
    if filters.status:
        stmt = stmt.where(Incident.status.in_(filters.status))
    if unpublished and RecordStatus.retracted in filters.status:  # merged-away ones are retracted, never listed
        stmt = stmt.where(Incident.merged_into.is_(None))
    if filters.tag:
        stmt = stmt.where(JSONHasAny(Incident.tags, filters.tag))
    lo, hi, spanned = overlapping(filters.from_, filters.to)
    stmt = stmt.where(*spanned)
    if listing is not None:
        stmt = stmt.where(*listing.range(Incident.occurred_on, lo, hi))
    else:
        if lo:
            stmt = stmt.where(Incident.occurred_on >= lo)
        if hi:
            stmt = stmt.where(Incident.occurred_on <= hi)
    by_actor = [
        (refs_, roles)
        for refs_, roles in ((filters.actor, ROLES), (filters.initiator, ["initiator"]), (filters.target, ["target"]))
        if refs_
    ]
    affiliated = filters.include_affiliated
    walk = bool(by_actor) and not affiliated and listing is not None and listing.sort.column is Incident.occurred_on
    for refs_, roles in [] if walk else by_actor:
        stmt = stmt.where(Incident.id.in_(actors.involved(RESOURCE, refs_, roles, affiliated)))
    if filters.q:  # last: sorted by relevance, a search answers a function building each page
        stmt = search.search(stmt, "incidents", filters.q, listing)
    if walk:
        bounds = (lo, hi)
        return lambda page, limit: walked(stmt, by_actor, page, bounds, limit)
    return stmt


def overlapping(start: date | None, end: date | None) -> tuple[date | None, date | None, list[ColumnElement[bool]]]:
    """The incidents whose date, taken as its whole span (its day, ISO week, month or year, by
    ``date_precision``), overlaps ``[start, end]``: the widest bounds on ``occurred_on`` (a
    year-precision date's, which the list's index answers) and the condition that narrows them
    to each row's precision. A date's span overlaps the range when ``occurred_on`` lies
    between the first day of the period that holds ``start`` and the last day of the period
    that holds ``end``, periods of the row's own precision."""
    if start is None and end is None:
        return None, None, []
    conditions = []
    for bound, edge, compare in ((start, span_start, operator.ge), (end, span_end, operator.le)):
        if bound is None:
            continue
        by_precision = {p.value: edge(bound, p) for p in DatePrecision if p != DatePrecision.day}
        widened = case(
            *((Incident.date_precision == p, literal(d, Date)) for p, d in by_precision.items()),
            else_=literal(bound, Date),
        )
        conditions.append(compare(Incident.occurred_on, widened))
    lo = span_start(start, DatePrecision.year) if start else None
    hi = span_end(end, DatePrecision.year) if end else None
    return lo, hi, conditions


ActorFilter = tuple[Sequence[str], Sequence[str]]  # actor ids or slugs, and the roles any of them may have


def walked(stmt: Select, by_actor: Sequence[ActorFilter], listing: Any, bounds: tuple[Any, Any], limit: int) -> Select:
    """``stmt`` (a query of incidents) kept to the incidents of a page that pass every actor
    filter of ``by_actor``.

    Each (actor, role) of one filter walks its own involvements in date order, from the index
    on ``(actor, resource, role, occurred_on, record_id)``, checking ``stmt``'s conditions and
    the other filters (by primary key) as it goes and stopping after a page; the page is then
    chosen among those few incidents. The filter walked is the one with the fewest
    involvements (counted up to ``PROBE``, in the query itself); the others' walks stop
    before their first row. So a page costs what it holds, however busy the actors, and a
    busy actor paired with a quiet one costs what the quiet one holds."""
    conditions = [] if stmt.whereclause is None else [stmt.whereclause]
    ids = [actors.ids_named(refs_) for refs_, _ in by_actor]
    sizes = [involvement_probe(actor_ids, roles) for actor_ids, (_, roles) in zip(ids, by_actor, strict=True)]
    arms = []
    for n, (refs_, roles) in enumerate(by_actor):
        others = [
            (actor_ids, other) for m, (actor_ids, (_, other)) in enumerate(zip(ids, by_actor, strict=True)) if m != n
        ]
        quietest = [sizes[n] <= size if n < m else sizes[n] < size for m, size in enumerate(sizes) if m != n]
        for ref in refs_:
            for role in roles:
                link = Involvement.__table__.alias().c
                arm = (
                    select(link.record_id)
                    .join(Incident, Incident.id == link.record_id)
                    .where(
                        link.actor_id == actor_id(ref),
                        link.resource == RESOURCE,
                        link.role == role,
                        *conditions,
                        *(involves(link.record_id, actor_ids, other) for actor_ids, other in others),
                    )
                )
                page = listing.apply(arm, link.record_id, limit=limit, column=link.occurred_on, bounds=bounds)
                if quietest:  # a limit is evaluated once, before any row: 0 skips a busier walk
                    page = select(page.subquery()).limit(case((and_(*quietest), limit + 1), else_=0))
                arms.append(select(page.subquery().c.record_id))
    return stmt.where(Incident.id.in_(union_all(*arms)))


PROBE = 1000


def involvement_probe(actor_ids: Any, roles: Sequence[str], to: Any = None) -> Any:
    """How many incidents (up to ``to``) have one of ``actor_ids`` in one of ``roles``,
    counted from the index and only up to ``PROBE``: enough to tell a quiet actor from a
    busy one before choosing which to walk."""
    rows = select(Involvement.record_id).where(
        Involvement.actor_id.in_(actor_ids), Involvement.resource == RESOURCE, Involvement.role.in_(roles)
    )
    if to is not None:
        rows = rows.where(Involvement.occurred_on <= to)
    return select(func.count()).select_from(rows.limit(PROBE).subquery()).scalar_subquery()


def actor_id(ref: str) -> Any:
    """The id of the actor ``ref`` names (an id wins; see :func:`app.actors.service.named_by`), as a subquery."""
    return select(Actor.id).where(actors.named_by([ref])).order_by((Actor.id == ref).desc()).limit(1).scalar_subquery()


def involves(record_id: Any, actor_ids: Any, roles: Sequence[str]) -> Any:
    """One of ``actor_ids`` has one of ``roles`` in the incident ``record_id``: a primary-key
    lookup for each incident walked. (Written as a scalar subquery, which PostgreSQL keeps
    as such, where an ``EXISTS`` may become a hash join over all the actors' incidents.)"""
    check = Involvement.__table__.alias().c
    return (
        select(check.record_id)
        .where(
            check.resource == RESOURCE,
            check.record_id == record_id,
            check.role.in_(roles),
            check.actor_id.in_(actor_ids),
        )
        .limit(1)
        .scalar_subquery()
        .is_not(None)
    )


def hydrate(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The answers for ``rows`` (any rows with an ``id``), in order: kept, or built in one query."""
    return [orjson.loads(text) for text in sqljson.kept_texts(session, Incident.__table__, record, rows)]


def read_text(session: Session, incident_id: str, unpublished: bool) -> tuple[bytes, int]:
    """The answer for the incident ``incident_id`` as JSON text, and its version, if the
    caller may read it (a draft or a retracted one only with ``unpublished``), else 404.
    With ``unpublished`` the answer is :func:`editors_answer`. An incident merged into
    another answers 308 to the survivor (:func:`redirect_merged`), looked for only when no
    incident answers."""
    try:
        return sqljson.read_text(
            session,
            Incident.__table__,
            editors_answer if unpublished else record,
            incident_id,
            "incident",
            published=not unpublished,
            retracted=unpublished,
            built=unpublished,
            gone="merged_into",
        )
    except NotFound:
        redirect_merged(session, incident_id, unpublished)
        raise


def driver_text(dialect: Dialect, incident_id: str) -> Statement[tuple[bytes, int] | None]:
    """:func:`read_text` for a caller who reads published incidents only, for a driver to
    run (:mod:`app.kit.lean`): the kept answer, or ``None`` where :func:`read_text` would
    answer otherwise."""
    return sqljson.driver_text(dialect, Incident.__table__, record, incident_id, published=True)


REF_KEYS = ("id", "title", "occurred_on")


def ref_json(sql: RecordSQL, incident: Any, keys: Sequence[str] = REF_KEYS) -> ColumnElement[str]:
    """An incident reference ``{id, title, occurred_on}`` (or ``keys``) as JSON text
    (``incident``: an alias)."""
    return sql.object([(key, sql.value(getattr(incident, key))) for key in keys])


def answer(sql: RecordSQL, row: Columns, editors: bool = False) -> ColumnElement[str]:
    """An incident's answer as JSON text, built from a row of its list and its links; with
    ``editors``, its ``responds_to`` also names the answered drafts and retracted incidents,
    each with its ``status``."""
    answered = aliased(Incident)
    # Each answered incident by primary key, in a scalar subquery: PostgreSQL keeps it so, where
    # a join may be driven from the status index, over every published incident for each row
    # (on tables not analysed yet, as after a large first import).
    shown = ref_json(sql, answered)
    if editors:  # a draft or a retracted incident says which it is
        hidden = ref_json(sql, answered, (*REF_KEYS, "status"))
        shown = case((and_(*embeddable(answered)), shown), else_=hidden)
    embedded = (
        select(shown)
        .where(answered.id == Reply.responds_to_id, *([] if editors else embeddable(answered)))
        .scalar_subquery()
    )
    responds_to = sql.array(
        embedded, Reply.__table__, [Reply.incident_id == row["id"], embedded.is_not(None)], [Reply.position]
    )
    return sql.object(
        [
            *((c.key, sql.value(row[c.key])) for c in PUBLIC_COLUMNS),
            (None, actors.involvements_by_role_json(sql, RESOURCE, row["id"], [(f"{r}s", r) for r in ROLES])),
            ("responds_to", responds_to),
            ("sources", sources.cited_json(sql, RESOURCE, row["id"], provenance=True)),
        ]
    )


def record(sql: RecordSQL, row: Columns) -> ColumnElement[str]:
    """An incident's answer as JSON text: the one it keeps, or where that is stale, built."""
    return sqljson.kept(row, answer(sql, row))


def editors_answer(sql: RecordSQL, row: Columns) -> ColumnElement[str]:
    """An incident's answer for a key that may read drafts and retracted incidents, on the
    incident's own path: built, not kept, since its ``responds_to`` also names the answered
    incidents that other callers are not shown, each with its ``status``."""
    return answer(sql, row, editors=True)


def public(session: Session, incident: Incident) -> dict[str, Any]:
    """The answer for one incident, whatever its state, to a write: the one its own path
    gives a key that writes (:func:`editors_answer`)."""
    session.flush()
    return orjson.loads(sqljson.answer_texts(session, Incident.__table__, editors_answer, [incident.id])[0])


def chain(session: Session, incident_id: str, unpublished: bool = False) -> list[dict[str, Any]]:
    """The whole retaliation chain ``incident_id`` belongs to, oldest first, with depths.

    One recursive query finds every incident reachable through ``responds_to`` in either
    direction (``UNION`` keeps each once, so cycles in bad data end the recursion); a
    second reads the edges among them. Depth is 0 for a first move (answering nothing in
    the chain) and one more than the deepest incident an answer responds to. Without
    ``unpublished`` only published incidents are answered.
    """
    try:
        incident_id = readable(session, Incident, incident_id, unpublished).id
    except NotFound:
        redirect_merged(session, incident_id, unpublished)
        raise
    members = select(literal(incident_id).label("id")).cte("members", recursive=True)
    members = members.union(*_chain_steps(members, session.get_bind().dialect.name))
    rows = session.execute(
        select(*PUBLIC_COLUMNS)
        .where(Incident.id.in_(select(members.c.id)), *listable(Incident, [], unpublished))
        .order_by(Incident.occurred_on, Incident.id)
    ).all()
    ids = [r.id for r in rows]
    answered: dict[str, set[str]] = {i: set() for i in ids}
    for reply in session.execute(select(Reply.incident_id, Reply.responds_to_id).where(Reply.incident_id.in_(ids))):
        if reply.responds_to_id in answered:
            answered[reply.incident_id].add(reply.responds_to_id)
    depth = _depths(answered)
    records = hydrate(session, [r._mapping for r in rows])
    for record in records:
        record["depth"] = depth[record["id"]]
    return sorted(records, key=lambda r: (r["occurred_on"], r["depth"], r["id"]))


def _chain_steps(members: Any, dialect: str) -> list[Any]:
    """The recursive step: from each member, by index, to the live incidents it answers or
    that answer it. SQLite takes the two directions as two recursive terms (one union of
    both would be materialised whole); PostgreSQL allows one term, over both directions."""
    live = Incident.retracted_at.is_(None)
    if dialect == "sqlite":
        # Each step's incident checked by primary key in a correlated EXISTS: as a join, SQLite
        # builds a Bloom filter over the whole table at each step (a second on a million rows).
        def step(to: Any, start: Any) -> Any:
            return (
                select(to)
                .join(members, start == members.c.id)
                .where(exists().where(Incident.id == to, live).correlate(Reply))
            )

        return [step(Reply.responds_to_id, Reply.incident_id), step(Reply.incident_id, Reply.responds_to_id)]
    edges = (
        select(Reply.incident_id.label("a"), Reply.responds_to_id.label("b"))
        .union_all(select(Reply.responds_to_id, Reply.incident_id))
        .subquery("edges")
    )
    return [
        select(edges.c.b).join(members, edges.c.a == members.c.id).join(Incident, and_(Incident.id == edges.c.b, live))
    ]


def _depths(answered: dict[str, set[str]]) -> dict[str, int]:
    """Longest distance from a first move, by Kahn's algorithm; incidents caught in a
    cycle take one more than the deepest incident they answer outside it."""
    waiting = {i: set(a) for i, a in answered.items()}
    answers: dict[str, list[str]] = {i: [] for i in answered}
    for incident, targets in answered.items():
        for target in targets:
            answers[target].append(incident)
    depth: dict[str, int] = {}
    ready = [i for i, a in waiting.items() if not a]
    while ready:
        current = ready.pop()
        depth[current] = max((depth[t] + 1 for t in answered[current]), default=0)
        for follower in answers[current]:
            waiting[follower].discard(current)
            if not waiting[follower]:
                ready.append(follower)
    for incident in answered:
        if incident not in depth:
            depth[incident] = max((depth[t] + 1 for t in answered[incident] if t in depth), default=0)
    return depth
