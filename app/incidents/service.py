from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, literal, select
from sqlmodel import Session

from app.actors import service as actors
from app.incidents.models import Incident, IncidentCreate, IncidentFilters, Reply
from app.kit import search
from app.kit.problems import invalid
from app.kit.records import (
    ensure_unique,
    get_live,
    replace_links,
    resolve_refs,
    retract,
    settle,
    utcnow,
    write_fields,
)
from app.kit.schemas import validate_merged
from app.kit.sql import JSONHasAny
from app.sources import service as sources
from app.vocab import RecordStatus

RESOURCE = "incident"
ROLES = ("initiator", "target")
PUBLIC_COLUMNS = [c for c in Incident.__table__.c if c.key != "retracted_at"]
LINKS = {"initiators", "targets", "responds_to", "sources"}


def get(session: Session, incident_id: str) -> Incident:
    return get_live(session, Incident, incident_id)


def resolve(session: Session, refs: Sequence[str], loc: Sequence[Any]) -> list[str]:
    """Incident ids for ids or external_refs, in order; 422 naming each unknown one."""
    return resolve_refs(session, Incident, refs, loc, "external_ref")


def refs(session: Session, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = session.execute(
        select(Incident.id, Incident.title, Incident.occurred_on).where(Incident.id.in_(set(ids)))
    ).all()
    return {r.id: {"id": r.id, "title": r.title, "occurred_on": r.occurred_on} for r in rows}


def replace(session: Session, incident: Incident, data: IncidentCreate) -> bool:
    """Write ``data`` over ``incident`` (new or stored); a stored one's version grows only
    when something differs."""
    ensure_unique(session, Incident, "external_ref", data.external_ref, incident.id)
    initiators = actors.resolve(session, data.initiators, ["body", "initiators"])
    targets = actors.resolve(session, data.targets, ["body", "targets"])
    answered = resolve(session, data.responds_to, ["body", "responds_to"])
    if incident.id in answered:
        raise invalid(["body", "responds_to"], "An incident cannot respond to itself.")
    cited = sources.resolve(session, data.sources, ["body", "sources"])
    values = data.model_dump(exclude=LINKS)
    if data.status == RecordStatus.retracted and incident.retracted_at is None:
        values["retracted_at"] = utcnow()
    changed, is_new = write_fields(session, incident, values)
    links = [(a, "initiator") for a in initiators] + [(a, "target") for a in targets]
    changed |= actors.set_involvements(session, RESOURCE, incident.id, links)
    changed |= replace_links(session, Reply, {"incident_id": incident.id}, [{"responds_to_id": a} for a in answered])
    changed |= sources.set_citations(session, RESOURCE, incident.id, cited)
    return settle(session, incident, is_new, changed)


def create(session: Session, data: IncidentCreate) -> Incident:
    incident = Incident(kind=data.kind, title=data.title, occurred_on=data.occurred_on)
    replace(session, incident, data)
    return incident


def as_input(session: Session, incident: Incident) -> dict[str, Any]:
    data = incident.model_dump(include=set(IncidentCreate.model_fields) - LINKS, warnings=False)
    parties = actors.involvements_of(session, RESOURCE, [incident.id]).get(incident.id, [])
    data["initiators"] = [ref["id"] for role, ref in parties if role == "initiator"]
    data["targets"] = [ref["id"] for role, ref in parties if role == "target"]
    data["responds_to"] = list(
        session.execute(
            select(Reply.responds_to_id).where(Reply.incident_id == incident.id).order_by(Reply.position)
        ).scalars()
    )
    data["sources"] = [s["id"] for s in sources.citations_of(session, RESOURCE, [incident.id]).get(incident.id, [])]
    return data


def update(session: Session, incident_id: str, patch: dict[str, Any]) -> Incident:
    incident = get(session, incident_id)
    replace(session, incident, validate_merged(IncidentCreate, as_input(session, incident), patch))
    return incident


def delete(session: Session, incident_id: str) -> None:
    incident = get(session, incident_id)
    incident.status = RecordStatus.retracted
    retract(incident)
    session.flush()


def query(filters: IncidentFilters, listing: Any = None) -> Any:
    """The live incidents matching ``filters``; with a listing, ``from``/``to`` become its
    bound on ``occurred_on``."""
    stmt = select(*PUBLIC_COLUMNS).where(Incident.retracted_at.is_(None))
    if filters.kind:
        stmt = stmt.where(Incident.kind.in_(filters.kind))
    if filters.status:
        stmt = stmt.where(Incident.status.in_(filters.status))
    for refs_, roles in ((filters.actor, ROLES), (filters.initiator, ["initiator"]), (filters.target, ["target"])):
        if refs_:
            stmt = stmt.where(Incident.id.in_(actors.involved(RESOURCE, refs_, roles)))
    if filters.q:
        stmt = search.search(stmt, "incidents", filters.q, listing)
    if filters.tag:
        stmt = stmt.where(JSONHasAny(Incident.tags, filters.tag))
    if listing is not None:
        stmt = stmt.where(*listing.range(Incident.occurred_on, filters.from_, filters.to))
    else:
        if filters.from_:
            stmt = stmt.where(Incident.occurred_on >= filters.from_)
        if filters.to:
            stmt = stmt.where(Incident.occurred_on <= filters.to)
    return stmt


def hydrate(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    ids = [r["id"] for r in rows]
    parties = actors.involvements_of(session, RESOURCE, ids)
    cited = sources.citations_of(session, RESOURCE, ids)
    replies = session.execute(
        select(Reply.incident_id, Reply.responds_to_id).where(Reply.incident_id.in_(ids)).order_by(Reply.position)
    ).all()
    answered = refs(session, [r.responds_to_id for r in replies])
    out = []
    for row in rows:
        record = {c.key: row[c.key] for c in PUBLIC_COLUMNS}
        links = parties.get(row["id"], [])
        record["initiators"] = [ref for role, ref in links if role == "initiator"]
        record["targets"] = [ref for role, ref in links if role == "target"]
        record["responds_to"] = [answered[r.responds_to_id] for r in replies if r.incident_id == row["id"]]
        record["sources"] = cited.get(row["id"], [])
        out.append(record)
    return out


def public(session: Session, incident: Incident) -> dict[str, Any]:
    """The answer for one incident, whatever its state."""
    row = {c.key: getattr(incident, c.key) for c in PUBLIC_COLUMNS}
    return hydrate(session, [row])[0]


def chain(session: Session, incident_id: str) -> list[dict[str, Any]]:
    """The whole retaliation chain ``incident_id`` belongs to, oldest first, with depths.

    One recursive query finds every incident reachable through ``responds_to`` in either
    direction (``UNION`` keeps each once, so cycles in bad data end the recursion); a
    second reads the edges among them. Depth is 0 for a first move (answering nothing in
    the chain) and one more than the deepest incident an answer responds to.
    """
    get(session, incident_id)
    members = select(literal(incident_id).label("id")).cte("members", recursive=True)
    members = members.union(*_chain_steps(members, session.get_bind().dialect.name))
    rows = session.execute(
        select(*PUBLIC_COLUMNS)
        .where(Incident.id.in_(select(members.c.id)), Incident.retracted_at.is_(None))
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
        return [
            select(Reply.responds_to_id)
            .join(members, Reply.incident_id == members.c.id)
            .join(Incident, and_(Incident.id == Reply.responds_to_id, live)),
            select(Reply.incident_id)
            .join(members, Reply.responds_to_id == members.c.id)
            .join(Incident, and_(Incident.id == Reply.incident_id, live)),
        ]
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
