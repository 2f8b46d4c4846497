from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from functools import partial
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Dialect, Integer, cast, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app.actors import codes
from app.actors.models import Actor, ActorCodes, ActorCreate, ActorFilters, Involvement
from app.kit import etags, references, sqljson, states
from app.kit.etags import Precondition
from app.kit.keys import path_key
from app.kit.links import link_rows, replace_links
from app.kit.prepared import Statement
from app.kit.problems import ValidationFailed, error_entry, invalid
from app.kit.references import ensure_unique, get_live
from app.kit.schemas import validate_merged
from app.kit.sql import JSONAnyLike, contains_pattern
from app.kit.sqljson import Columns, RecordSQL
from app.kit.states import retract
from app.kit.writes import settle, write_fields

CODE_COLUMNS = [Actor.__table__.c[column] for column in codes.COLUMNS.values()]
PUBLIC_COLUMNS = [
    c
    for c in Actor.__table__.c
    if c.key not in {"retracted_at", "affiliation_id", "record_json", *codes.COLUMNS.values()}
]
COLUMN_NAMES = Actor.__table__.c.keys()


def get(session: Session, ref: str, for_update: bool = False) -> Actor:
    """The live actor with this id or slug (or ``scheme:value`` code, see :func:`named_by`), or 404."""
    return get_live(session, Actor, ref, "slug", for_update=for_update)


def named_by(actor_refs: Sequence[str], actor: Any = Actor) -> ColumnElement[bool]:
    """The condition that ``actor`` (the table or an alias) is named by one of
    ``actor_refs``: the one place an actor reference is read. A reference is an id or a slug,
    or a prefixed key (:mod:`app.kit.keys`): ``slug:{slug}``, ``ref:{external_ref}``, or one
    of the actor's codes, ``scheme:value`` (``iso3:RUS``, ``cameo:RUSGOV``: see
    :mod:`app.actors.codes`). Bare references are matched as ``id IN (…) OR slug IN (…)``,
    the index look-ups they always were."""
    bare: list[str] = []
    keyed = []
    for ref in actor_refs:
        names, value = path_key(ref, COLUMN_NAMES, ("slug",)) if isinstance(ref, str) else (("id", "slug"), ref)
        if names == ("id", "slug"):  # (or a bound parameter, which names an actor by id or slug)
            bare.append(ref)
        else:
            keyed.extend(getattr(actor, column) == value for column in names)
    return or_(*([actor.id.in_(bare), actor.slug.in_(bare)] if bare else []), *keyed)


def _found(session: Session, actor_refs: Sequence[str], *columns: Any) -> dict[str, Any]:
    """The live actor row (``id``, its keys and ``columns``) each of ``actor_refs`` names,
    by reference: one query, and one dictionary look-up for each reference. An id wins over
    a natural key, as a CAMEO code wins over the ISO code it falls back to."""
    if not actor_refs:
        return {}
    keys = [Actor.id, Actor.slug, Actor.external_ref, *CODE_COLUMNS]
    rows = session.execute(select(*keys, *columns).where(named_by(actor_refs), Actor.retracted_at.is_(None))).all()
    by_key: dict[tuple[str, Any], Any] = {}
    for row in rows:
        for key in keys:
            if (value := getattr(row, key.key)) is not None:
                by_key.setdefault((key.key, value), row)
    answers = {}
    for ref in actor_refs:
        names, value = path_key(ref, COLUMN_NAMES, ("slug",))
        row = next((by_key[(name, value)] for name in names if (name, value) in by_key), None)
        if row is not None:
            answers[ref] = row
    return answers


def lookup(session: Session, refs: Iterable[str]) -> dict[str, str]:
    """The id of each live actor that one of ``refs`` names (see :func:`named_by`), by
    reference: one query, however many references."""
    return {ref: row.id for ref, row in _found(session, list(dict.fromkeys(refs))).items()}


def resolve(session: Session, refs: Sequence[str], loc: Sequence[Any]) -> list[str]:
    """Actor ids for ids, slugs or codes, in order; 422 naming each unknown one."""
    if not refs:
        return []
    ids, errors = references.check_refs(lookup(session, refs), refs, loc, "actor")
    if errors:
        raise ValidationFailed(errors[0]["msg"], errors=errors)
    return ids


def known(filters: Mapping[str, Sequence[str]]) -> Callable[[Session, bool], None] | None:
    """The check of a list's actor filters (``{parameter: references}``) that
    :func:`app.kit.export.list_response` runs: when the page came out empty, or a filter
    names several actors (one unknown among them would narrow the answer unseen), each
    reference is looked up, and an unknown one is 422 naming the parameter. A page of rows
    filtered on one actor each costs no statement more: its actors exist."""
    filters = {name: refs_ for name, refs_ in filters.items() if refs_}
    if not filters:
        return None

    def check(session: Session, empty: bool) -> None:
        if empty or any(len(refs_) > 1 for refs_ in filters.values()):
            check_known(session, filters)

    return check


def check_known(session: Session, filters: Mapping[str, Sequence[str]]) -> None:
    """422 naming each actor filter (``{parameter: references}``) that names an unknown
    actor: a filter on no actor answers no empty list."""
    wanted = [ref for refs_ in filters.values() for ref in refs_]
    found = _found(session, wanted)
    errors = [
        error_entry(["query", name], f"Unknown actor {ref!r} in {name}.", "unknown_reference")
        for name, refs_ in filters.items()
        for ref in refs_
        if ref not in found
    ]
    if errors:
        raise ValidationFailed(errors[0]["msg"], errors=errors)


def named(session: Session, actor_refs: Sequence[str]) -> dict[str, dict[str, str]]:
    """``{id, slug, name}`` of each live actor that ``actor_refs`` names (see
    :func:`named_by`), by reference: one query."""
    found = _found(session, actor_refs, Actor.name)
    return {ref: {"id": r.id, "slug": r.slug, "name": r.name} for ref, r in found.items()}


def replace(session: Session, actor: Actor, data: ActorCreate) -> bool:
    """Write ``data`` over ``actor`` (new or stored); a stored one's version grows only when
    something differs."""
    ensure_unique(session, Actor, "slug", data.slug, actor.id)
    ensure_unique(session, Actor, "external_ref", data.external_ref, actor.id)
    values = data.model_dump(exclude={"affiliation", "codes"}) | data.codes.columns()
    for column in codes.COLUMNS.values():
        ensure_unique(session, Actor, column, values[column], actor.id)
    values["affiliation_id"] = (
        resolve(session, [data.affiliation], ["body", "affiliation"])[0] if data.affiliation else None
    )
    if values["affiliation_id"] is not None and values["affiliation_id"] == actor.id:
        raise invalid(["body", "affiliation"], "An actor cannot be affiliated to itself.")
    changed, is_new = write_fields(session, actor, values)
    return settle(session, actor, is_new, changed)


def create(session: Session, data: ActorCreate) -> Actor:
    actor = Actor(slug=data.slug, name=data.name, kind=data.kind)
    replace(session, actor, data)
    return actor


def as_input(actor: Actor) -> dict[str, Any]:
    data = actor.model_dump(include=set(ActorCreate.model_fields) - {"affiliation", "codes"}, warnings=False)
    data["codes"] = {k: v for k, v in ActorCodes.of(actor).items() if v is not None}
    if actor.affiliation_id:
        data["affiliation"] = actor.affiliation_id
    return data


def update(session: Session, ref: str, patch: dict[str, Any], precondition: Precondition | None = None) -> Actor:
    actor = get(session, ref, for_update=True)
    etags.check(precondition, actor.version)
    replace(session, actor, validate_merged(ActorCreate, as_input(actor), patch))
    return actor


def delete(session: Session, ref: str, precondition: Precondition | None = None) -> None:
    actor = get(session, ref, for_update=True)
    etags.check(precondition, actor.version)
    retract(session, actor)
    session.flush()


def restore(session: Session, ref: str, precondition: Precondition | None = None) -> Actor:
    """Make the retracted actor ``ref`` live again; 409 when it is not retracted."""
    return states.restore(session, Actor, ref, precondition, "slug")


def query(filters: ActorFilters) -> Any:
    stmt = select(*PUBLIC_COLUMNS, *CODE_COLUMNS, Actor.affiliation_id, Actor.record_json).where(
        Actor.retracted_at.is_(None)
    )
    if filters.kind:
        stmt = stmt.where(Actor.kind.in_(filters.kind))
    if filters.country:
        stmt = stmt.where(Actor.country_code.in_([c.upper() for c in filters.country]))
    if filters.q:
        needle = contains_pattern(filters.q)
        stmt = stmt.where(or_(func.lower(Actor.name).like(needle, escape="\\"), JSONAnyLike(Actor.aliases, needle)))
    if filters.affiliation:
        stmt = stmt.where(Actor.affiliation_id.in_(ids_named(filters.affiliation)))
    return stmt


def hydrate(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The answers for ``rows`` (any rows with an ``id``), in order: kept, or built in one query."""
    return [orjson.loads(text) for text in sqljson.kept_texts(session, Actor.__table__, record, rows)]


def ref_json(sql: RecordSQL, actor: Any) -> ColumnElement[str]:
    """An actor reference ``{id, slug, name}`` as JSON text (``actor``: the table or an alias)."""
    return sql.object([(key, sql.value(getattr(actor, key))) for key in ("id", "slug", "name")])


def record(sql: RecordSQL, row: Columns) -> ColumnElement[str]:
    """An actor's answer as JSON text: the one it keeps, or where that is stale, built."""
    return sqljson.kept(row, answer(sql, row))


def answer(sql: RecordSQL, row: Columns) -> ColumnElement[str]:
    """An actor's answer as JSON text, built from its row."""
    parent = aliased(Actor)
    affiliation = select(ref_json(sql, parent)).where(parent.id == row["affiliation_id"])
    fields = [(c.key, sql.value(row[c.key])) for c in PUBLIC_COLUMNS]
    numbered = {codes.COLUMNS[scheme] for scheme in codes.NUMBERED}
    codes_ = sql.object(
        [
            (scheme, sql.value(cast(row[column], Integer) if column in numbered else row[column]))
            for scheme, column in codes.COLUMNS.items()
        ]
    )
    return sql.object([*fields, ("affiliation", sql.optional(affiliation)), ("codes", codes_)])


def public(session: Session, actor: Actor) -> dict[str, Any]:
    """The answer for one actor, whatever its state."""
    session.flush()
    return hydrate(session, [{"id": actor.id}])[0]


def ids_named(actor_refs: Sequence[str], affiliated: bool = False) -> Any:
    """The ids of the actors ``actor_refs`` names (see :func:`named_by`), as a subquery; with
    ``affiliated``, those of the actors affiliated to them too, at any depth (Russia's
    government, its ministry of foreign affairs, its minister)."""
    named_ = select(Actor.id).where(named_by(actor_refs))
    if not affiliated:
        return named_
    tree = named_.cte(recursive=True)
    member = aliased(Actor)
    tree = tree.union(select(member.id).join(tree, member.affiliation_id == tree.c.id))
    return select(tree.c.id)


def belonging(session: Session, actor_ids: Iterable[str]) -> dict[str, str]:
    """Each of ``actor_ids`` and the actor it belongs to at the top of its affiliations
    (Lavrov → Russia's ministry → Russia: Russia; an actor affiliated to none, itself), one
    query for each level walked: the sides that ``include_affiliated`` counts as one."""
    parents: dict[str, str] = {}
    frontier = set(actor_ids)
    while frontier:
        rows = session.execute(
            select(Actor.id, Actor.affiliation_id).where(Actor.id.in_(frontier), Actor.affiliation_id.is_not(None))
        ).all()
        found = {r.id: r.affiliation_id for r in rows}
        parents |= found
        frontier = set(found.values()) - set(parents)

    def top(actor_id: str) -> str:
        seen = {actor_id}
        while actor_id in parents and parents[actor_id] not in seen:
            actor_id = parents[actor_id]
            seen.add(actor_id)
        return actor_id

    return {actor_id: top(actor_id) for actor_id in set(actor_ids)}


def involved(
    resource: str, actor_refs: Sequence[str], roles: Sequence[str] | None = None, affiliated: bool = False
) -> Any:
    """Ids of the ``resource`` records in which any of these actors (see :func:`named_by`;
    with ``affiliated``, or an actor affiliated to one) has a role."""
    stmt = select(Involvement.record_id).where(
        Involvement.resource == resource, Involvement.actor_id.in_(ids_named(actor_refs, affiliated))
    )
    if roles:
        stmt = stmt.where(Involvement.role.in_(roles))
    return stmt


def _links(links: Sequence[tuple[str, str]], occurred_on: date | None) -> list[dict[str, Any]]:
    return [{"actor_id": actor_id, "role": role, "occurred_on": occurred_on} for actor_id, role in links]


def involvement_rows(
    resource: str, record_id: str, links: Sequence[tuple[str, str]], occurred_on: date | None = None
) -> list[dict[str, Any]]:
    """The ``involvements`` rows that make ``(actor_id, role)`` the record's parts, in order,
    for bulk inserts; an incident's rows carry its ``occurred_on``, an exercise's its
    ``start_date``."""
    return link_rows({"resource": resource, "record_id": record_id}, _links(links, occurred_on))


def set_involvements(
    session: Session,
    resource: str,
    record_id: str,
    links: Sequence[tuple[str, str]],
    occurred_on: date | None = None,
) -> bool:
    """Make ``(actor_id, role)`` the record's involvements, in order, each carrying the
    record's date (an incident's ``occurred_on``, an exercise's ``start_date``: a new date
    moves the record in its actors' walks by date); True when they changed."""
    return replace_links(
        session, Involvement, {"resource": resource, "record_id": record_id}, _links(links, occurred_on)
    )


def involved_ids(session: Session, resource: str, ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """Each record's ``(role, actor id)`` pairs, in order: its involvements as its input names them."""
    rows = session.execute(
        select(Involvement.record_id, Involvement.role, Involvement.actor_id)
        .where(Involvement.resource == resource, Involvement.record_id.in_(ids))
        .order_by(Involvement.record_id, Involvement.position)
    )
    out: dict[str, list[tuple[str, str]]] = {}
    for record_id, role, actor_id in rows:
        out.setdefault(record_id, []).append((role, actor_id))
    return out


def _involved(sql: RecordSQL, resource: str, record_id: Any, role: str | None) -> tuple[Any, Any, Any, list[Any]]:
    """A record's involvements (in ``role``, or all): the link, the JSON reference of its
    actor, the FROM clause reading both, and the conditions."""
    link = aliased(Involvement)
    actor, source = sql.lookup(link, link.actor_id, Actor, partial(ref_json, sql))
    where = [link.resource == resource, link.record_id == record_id]
    if role is not None:
        where.append(link.role == role)
    return link, actor, source, where


def involvements_json(
    sql: RecordSQL, resource: str, record_id: Any, role: str | None = None, participant: bool = False
) -> ColumnElement[str]:
    """The actors of a record (in ``role``, or all), as a JSON array in order: of references,
    or with ``participant`` of ``{actor, role}`` objects."""
    link, actor, source, where = _involved(sql, resource, record_id, role)
    item = sql.object([("actor", actor), ("role", sql.value(link.role))]) if participant else actor
    return sql.array(item, source, where, [link.position])


def involvements_by_role_json(
    sql: RecordSQL, resource: str, record_id: Any, keys: Sequence[tuple[str, str]]
) -> ColumnElement[str]:
    """For each ``(key, role)``, the member ``"key":[...]`` of the record's actors in that
    role, as references in order, read in one pass (a run of members for ``sql.object``)."""
    link, actor, source, where = _involved(sql, resource, record_id, None)
    return sql.arrays(keys, link.role, actor, source, where, [link.position])


def first_involved_json(sql: RecordSQL, resource: str, record_id: Any, role: str) -> ColumnElement[str]:
    """The first actor of a record in ``role`` as a JSON reference, or ``null``."""
    link, actor, source, where = _involved(sql, resource, record_id, role)
    return sql.optional(select(actor).select_from(source).where(*where).order_by(link.position).limit(1))


def read_text(session: Session, ref: str) -> tuple[bytes, int]:
    """The answer for the live actor ``ref`` as JSON text, and its version, else 404."""
    return sqljson.read_text(session, Actor.__table__, record, ref, "actor", ("slug",))


def driver_text(dialect: Dialect, ref: str) -> Statement[tuple[bytes, int] | None]:
    """:func:`read_text` for a driver to run (:mod:`app.kit.lean`), answering ``None`` for 404."""
    return sqljson.driver_text(dialect, Actor.__table__, record, ref, ("slug",))
