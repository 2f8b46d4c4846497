from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Date, and_, bindparam, case, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app.actors import service as actors
from app.channels.models import Channel, ChannelCreate, ChannelFilters, StatusChange, StatusChangeCreate
from app.incidents import service as incidents
from app.incidents.models import Incident
from app.kit import etags, sqljson, states, writes
from app.kit.etags import Precondition
from app.kit.keys import path_key
from app.kit.pending import mark_changed
from app.kit.problems import NotFound
from app.kit.references import ensure_unique, get_live
from app.kit.schemas import validate_merged
from app.kit.sqljson import Columns, RecordSQL
from app.kit.states import retract
from app.kit.writes import settle, write_fields
from app.sources import service as sources

RESOURCE = "channel"
CHANGE_RESOURCE = "channel_status"
PUBLIC_COLUMNS = [c for c in Channel.__table__.c if c.key not in {"retracted_at", "record_json"}]
LINKS = {"parties", "host", "sources"}
LIVE_CHANGE = StatusChange.retracted_at.is_(None)
CHANGE_FIELDS = ("id", "status", "effective_on", "note", "external_ref", "created_at")
"""A status change's own fields, in the order its answer gives them."""


def today() -> date:
    return datetime.now(UTC).date()


def exists_on(day: date) -> Any:
    """The channel exists on ``day``: from ``established_on``, or when that is unknown from
    its first status change (always, when it has neither)."""
    first_change = (
        select(func.min(StatusChange.effective_on))
        .where(StatusChange.channel_id == Channel.id, LIVE_CHANGE)
        .scalar_subquery()
    )
    return or_(
        Channel.established_on <= day,
        and_(Channel.established_on.is_(None), or_(first_change <= day, first_change.is_(None))),
    )


def status_on(day: date) -> Any:
    """The status in force on ``day``: the latest change on or before it, else ``active``;
    null while the channel does not exist."""
    latest = (
        select(StatusChange.status)
        .where(StatusChange.channel_id == Channel.id, StatusChange.effective_on <= day, LIVE_CHANGE)
        .order_by(StatusChange.effective_on.desc(), StatusChange.created_at.desc(), StatusChange.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return case((exists_on(day), func.coalesce(latest, literal("active"))), else_=None)


def get(session: Session, channel_id: str, for_update: bool = False) -> Channel:
    return get_live(session, Channel, channel_id, for_update=for_update)


def resolve_one(session: Session, ref: str, for_update: bool = False) -> Channel:
    """The live channel with this id or external_ref, or 404."""
    return get_live(session, Channel, ref, "external_ref", for_update=for_update)


def replace(session: Session, channel: Channel, data: ChannelCreate) -> bool:
    """Write ``data`` over ``channel`` (new or stored); a stored one's version grows only
    when something differs."""
    ensure_unique(session, Channel, "external_ref", data.external_ref, channel.id)
    parties = actors.resolve(session, data.parties, ["body", "parties"])
    host = actors.resolve(session, [data.host], ["body", "host"]) if data.host else []
    cited = sources.resolve(session, data.sources, ["body", "sources"])
    changed, is_new = write_fields(session, channel, data.model_dump(exclude=LINKS))
    links = [(a, "party") for a in parties] + [(a, "host") for a in host]
    changed |= actors.set_involvements(session, RESOURCE, channel.id, links)
    changed |= sources.set_citations(session, RESOURCE, channel.id, cited)
    return settle(session, channel, is_new, changed)


def create(session: Session, data: ChannelCreate) -> Channel:
    channel = Channel(name=data.name, kind=data.kind)
    replace(session, channel, data)
    return channel


def links(session: Session, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each channel's links as its input names them (by id), and its status history: what its
    snapshots hold beside its fields, and :func:`as_input`."""
    parties = actors.involved_ids(session, RESOURCE, ids)
    cited = sources.cited_ids(session, RESOURCE, ids)
    history: dict[str, list[dict[str, Any]]] = {}
    for change in session.execute(
        select(
            StatusChange.channel_id,
            StatusChange.id,
            StatusChange.status,
            StatusChange.effective_on,
            StatusChange.caused_by_id,
            StatusChange.note,
        )
        .where(StatusChange.channel_id.in_(ids), StatusChange.retracted_at.is_(None))
        .order_by(StatusChange.channel_id, StatusChange.effective_on, StatusChange.created_at, StatusChange.id)
    ):
        history.setdefault(change.channel_id, []).append(
            {
                "id": change.id,
                "status": change.status,
                "effective_on": change.effective_on,
                "caused_by": change.caused_by_id,
                "note": change.note,
            }
        )
    return {
        i: {
            "parties": [a for role, a in parties.get(i, []) if role == "party"],
            "host": next((a for role, a in parties.get(i, []) if role == "host"), None),
            "sources": cited.get(i, []),
            "status_history": history.get(i, []),
        }
        for i in ids
    }


def as_input(session: Session, channel: Channel) -> dict[str, Any]:
    """The stored channel as the input that would write it: its fields and its links by id."""
    return writes.as_input(channel, ChannelCreate, links(session, [channel.id])[channel.id])


def update(
    session: Session, channel_id: str, patch: dict[str, Any], precondition: Precondition | None = None
) -> Channel:
    channel = get(session, channel_id, for_update=True)
    etags.check(precondition, channel.version)
    replace(session, channel, validate_merged(ChannelCreate, as_input(session, channel), patch))
    return channel


def delete(session: Session, channel_id: str, precondition: Precondition | None = None) -> None:
    channel = get(session, channel_id, for_update=True)
    etags.check(precondition, channel.version)
    retract(session, channel)
    session.flush()


def restore(session: Session, ref: str, precondition: Precondition | None = None) -> Channel:
    """Make the retracted channel ``ref`` live again; 409 when it is not retracted."""
    return states.restore(session, Channel, ref, precondition)


def record_change(session: Session, channel: Channel, data: StatusChangeCreate) -> StatusChange:
    """Add a status change to the channel's history; the channel's version grows."""
    change = StatusChange(channel_id=channel.id, status=data.status, effective_on=data.effective_on)
    replace_change(session, change, channel, data)
    return change


def replace_change(session: Session, change: StatusChange, channel: Channel, data: StatusChangeCreate) -> bool:
    """Write ``data`` over ``change`` (new or stored) in ``channel``'s history. Answers whether
    anything differs; when it does, the change's version and the channel's grow."""
    ensure_unique(session, StatusChange, "external_ref", data.external_ref, change.id)
    caused_by = incidents.resolve(session, [data.caused_by], ["body", "caused_by"])[0] if data.caused_by else None
    cited = sources.resolve(session, data.sources, ["body", "sources"])
    moved_from = change.channel_id if change.channel_id != channel.id else None
    values = {
        "channel_id": channel.id,
        "caused_by_id": caused_by,
        **data.model_dump(exclude={"caused_by", "sources"}),
    }
    changed, is_new = write_fields(session, change, values)
    changed |= sources.set_citations(session, CHANGE_RESOURCE, change.id, cited)
    if changed or is_new:
        mark_changed(session, channel)
        if moved_from:
            mark_changed(session, session.get_one(Channel, moved_from))
    return settle(session, change, is_new, changed)


def answer_columns(day: date) -> list[Any]:
    """A channel's columns, its kept answer and its status on ``day``."""
    return [*PUBLIC_COLUMNS, Channel.record_json, status_on(day).label("status")]


def query(filters: ChannelFilters) -> Any:
    day = filters.as_of or today()
    status = status_on(day)
    stmt = select(*answer_columns(day)).where(Channel.retracted_at.is_(None))
    if filters.as_of:
        stmt = stmt.where(exists_on(day))
    for party in filters.party:
        stmt = stmt.where(Channel.id.in_(actors.involved(RESOURCE, [party], ["party"])))
    if filters.kind:
        stmt = stmt.where(Channel.kind.in_(filters.kind))
    if filters.status:
        stmt = stmt.where(status.in_(filters.status))
    return stmt


def change_public(session: Session, change: StatusChange) -> dict[str, Any]:
    """The answer for one status change, as its channel's ``status_history`` gives it."""
    session.flush()
    return sqljson.answers(session, StatusChange.__table__, change_answer, [change.id])[0]


def get_change(session: Session, channel: Channel, change_id: str) -> StatusChange:
    names, value = path_key(change_id, StatusChange.__table__.c.keys())
    change = session.execute(
        select(StatusChange).where(
            getattr(StatusChange, names[0]) == value, StatusChange.channel_id == channel.id, LIVE_CHANGE
        )
    ).scalar_one_or_none()
    if change is None:
        raise NotFound(f"No status change {change_id!r} on this channel.")
    return change


def hydrate(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The answers for rows of a list (which carry each channel's status), in order: the kept
    answers, or those built in one query, each with its status."""
    texts = sqljson.kept_texts(session, Channel.__table__, kept, rows)
    return [orjson.loads(text) | {"status": row["status"]} for row, text in zip(rows, texts, strict=True)]


def change_members(sql: RecordSQL, change: Columns) -> list[tuple[str, ColumnElement[str]]]:
    """The members of a status change's answer, as JSON text (``change``: its columns)."""
    cause = aliased(Incident)
    caused_by = sql.optional(
        select(incidents.ref_json(sql, cause)).where(cause.id == change["caused_by_id"], *incidents.embeddable(cause))
    )
    return [
        *((key, sql.value(change[key])) for key in CHANGE_FIELDS),
        ("caused_by", caused_by),
        ("sources", sources.cited_json(sql, CHANGE_RESOURCE, change["id"])),
    ]


def change_answer(sql: RecordSQL, change: Columns) -> ColumnElement[str]:
    """A status change's answer as JSON text (``change``: its columns)."""
    return sql.object(change_members(sql, change))


def record(sql: RecordSQL, row: Columns) -> ColumnElement[str]:
    """A channel's answer as JSON text, from a row of its list (which carries its status):
    the answer it keeps, or where that is stale, the one built, with its status."""
    text = kept(sql, row)
    return sql.object([(None, func.substr(text, 2, func.length(text) - 2)), ("status", sql.value(row["status"]))])


def kept(sql: RecordSQL, row: Columns) -> ColumnElement[str]:
    """A channel's answer without its status (which depends on the day asked about), as JSON
    text: the one it keeps, or where that is stale, built."""
    return sqljson.kept(row, answer(sql, row))


def answer(sql: RecordSQL, row: Columns) -> ColumnElement[str]:
    """A channel's answer without its status, as JSON text, built from its row and links."""
    change = StatusChange.__table__.alias()
    history = sql.array(
        change_answer(sql, change.c),
        change,
        [change.c.channel_id == row["id"], change.c.retracted_at.is_(None)],
        [change.c.effective_on, change.c.created_at, change.c.id],
    )
    return sql.object(
        [
            *((c.key, sql.value(row[c.key])) for c in PUBLIC_COLUMNS),
            ("parties", actors.involvements_json(sql, RESOURCE, row["id"], "party")),
            ("host", actors.first_involved_json(sql, RESOURCE, row["id"], "host")),
            ("status_history", history),
            ("sources", sources.cited_json(sql, RESOURCE, row["id"])),
        ]
    )


def _record_on_day(sql: RecordSQL, row: Columns) -> ColumnElement[str]:
    """A channel's answer from its table's columns, with its status on the date bound as ``day``."""
    return record(sql, {**{c.key: c for c in row}, "status": status_on(bindparam("day", type_=Date()))})


def answers_on(session: Session, channel_ids: Sequence[str], day: date) -> list[dict[str, Any]]:
    """The answers of these channels, in order, each with its status on ``day``: one query."""
    return sqljson.answers(session, Channel.__table__, _record_on_day, channel_ids, day=day)


def public(session: Session, channel: Channel, as_of: date | None = None) -> dict[str, Any]:
    """The answer for one channel, with its status on ``as_of`` (today by default)."""
    row = session.execute(select(*answer_columns(as_of or today())).where(Channel.id == channel.id)).one()
    return hydrate(session, [row._mapping])[0]


def timeline_entry(sql: RecordSQL, change: Columns) -> ColumnElement[str]:
    """A status change as the timeline gives it: its answer, its channel as ``{id, name}``
    and the channel's parties."""
    channel = aliased(Channel)
    named = select(sql.object([("id", sql.value(channel.id)), ("name", sql.value(channel.name))]))
    return sql.object(
        [
            *change_members(sql, change),
            ("channel", named.where(channel.id == change["channel_id"]).scalar_subquery()),
            ("parties", actors.involvements_json(sql, RESOURCE, change["channel_id"], "party")),
        ]
    )


def changes_by_id(session: Session, change_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Status changes by id, as the timeline gives them (:func:`timeline_entry`)."""
    return {c["id"]: c for c in sqljson.answers(session, StatusChange.__table__, timeline_entry, change_ids)}
