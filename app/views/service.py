"""Read-only answers across domains: dyads, the timeline, incident statistics."""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, Integer, and_, cast, exists, func, literal, literal_column, select, union, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app.actors import service as actors
from app.actors.models import Actor, Involvement
from app.channels import service as channels
from app.channels.models import Channel, ChannelFilters, StatusChange
from app.exercises import service as exercises
from app.exercises.models import Exercise, ExerciseFilters
from app.incidents import service as incidents
from app.incidents.models import Incident, IncidentFilters
from app.kit.problems import invalid
from app.kit.sql import DatePart

LATEST_INCIDENTS = 10
MAX_MONTHS = 1200


def _takes_part(actor_id: str, role: str) -> Any:
    """The incident in the enclosing query has ``actor_id`` in ``role``: a primary-key
    lookup per incident, so a query bounded by dates costs what its date range holds,
    however busy the actor."""
    return exists().where(
        Involvement.resource == incidents.RESOURCE,
        Involvement.record_id == Incident.id,
        Involvement.role == role,
        Involvement.actor_id == actor_id,
    )


def _pair_ids(initiator_id: str, target_id: str) -> Any:
    """Ids of the incidents ``initiator_id`` initiated against ``target_id``, read from the
    actors' side: its cost follows the quieter actor's involvements, not the table."""
    ini, tgt = aliased(Involvement), aliased(Involvement)
    return (
        select(ini.record_id)
        .join(tgt, and_(tgt.resource == ini.resource, tgt.record_id == ini.record_id))
        .where(
            ini.resource == incidents.RESOURCE,
            ini.role == "initiator",
            ini.actor_id == initiator_id,
            tgt.role == "target",
            tgt.actor_id == target_id,
        )
    )


def _between(initiator_id: str, target_id: str) -> Any:
    """The incident in the enclosing query was initiated by ``initiator_id`` against ``target_id``."""
    return and_(_takes_part(initiator_id, "initiator"), _takes_part(target_id, "target"))


def dyad(session: Session, a_ref: str, b_ref: str, as_of: date, window_days: int) -> dict[str, Any]:
    a, b = actors.get(session, a_ref), actors.get(session, b_ref)
    if a.id == b.id:
        raise invalid(["path", "b"], "A dyad needs two different actors.")
    channel_rows = session.execute(
        channels.query(ChannelFilters(party=[a.id, b.id], as_of=as_of)).order_by(Channel.name, Channel.id)
    ).all()
    window_start = as_of - timedelta(days=window_days) if as_of > date.min + timedelta(days=window_days) else date.min
    counts = {}
    for key, (x, y) in {"a_to_b": (a, b), "b_to_a": (b, a)}.items():
        rows = session.execute(
            select(Incident.kind, func.count())
            .where(
                _between(x.id, y.id),
                Incident.retracted_at.is_(None),
                Incident.occurred_on > window_start,
                Incident.occurred_on <= as_of,
            )
            .group_by(Incident.kind)
            .order_by(Incident.kind)
        ).all()
        counts[key] = {kind: n for kind, n in rows}
    latest = _latest_between(session, a.id, b.id, window_start, as_of)
    active = session.execute(
        exercises.query(ExerciseFilters(actor=[a.id, b.id], active_on=as_of)).order_by(
            Exercise.start_date.desc(), Exercise.id.desc()
        )
    ).all()
    ref = lambda actor: {"id": actor.id, "slug": actor.slug, "name": actor.name}  # noqa: E731
    return {
        "a": ref(a),
        "b": ref(b),
        "as_of": as_of,
        "window_days": window_days,
        "channels": channels.hydrate(session, [r._mapping for r in channel_rows]),
        "incident_counts": counts,
        "latest_incidents": incidents.hydrate(session, [r._mapping for r in latest]),
        "active_exercises": exercises.hydrate(session, [r._mapping for r in active]),
    }


def _latest_between(session: Session, a_id: str, b_id: str, window_start: date, as_of: date) -> list[Any]:
    """The newest incidents between the pair on or before ``as_of``. Within the window,
    walk incidents by date and test the pair (cheap when the pair is busy); if that does not
    fill the list, read the rest through the pair's own involvements (cheap when it is quiet)."""
    ini, tgt = aliased(Involvement), aliased(Involvement)
    pair = exists().where(  # one side initiated against the other, either way round
        ini.resource == incidents.RESOURCE,
        ini.record_id == Incident.id,
        ini.role == "initiator",
        ini.actor_id.in_([a_id, b_id]),
        tgt.resource == incidents.RESOURCE,
        tgt.record_id == Incident.id,
        tgt.role == "target",
        tgt.actor_id.in_([a_id, b_id]),
        tgt.actor_id != ini.actor_id,
    )
    newest = (Incident.occurred_on.desc(), Incident.id.desc())
    rows = session.execute(
        incidents.query(IncidentFilters.model_validate({"from": window_start + timedelta(days=1), "to": as_of}))
        .where(pair)
        .order_by(*newest)
        .limit(LATEST_INCIDENTS)
    ).all()
    if len(rows) < LATEST_INCIDENTS:
        rows += session.execute(
            incidents.query(IncidentFilters(to=window_start))
            .where(Incident.id.in_(union(_pair_ids(a_id, b_id), _pair_ids(b_id, a_id))))
            .order_by(*newest)
            .limit(LATEST_INCIDENTS - len(rows))
        ).all()
    return rows


TIMELINE_DATE = literal_column("date", Date())  # what timeline cursors carry


def _timeline_branches(actor_refs: Sequence[str]) -> dict[str, tuple[Any, Any, Any]]:
    """Each entry type as ``(select, date column, id column)``, its actor filter applied."""
    incident = select(
        literal("incident").label("type"), Incident.occurred_on.label("date"), Incident.id, Incident.title
    ).where(Incident.retracted_at.is_(None))
    exercise = select(
        literal("exercise").label("type"), Exercise.start_date.label("date"), Exercise.id, Exercise.name.label("title")
    ).where(Exercise.retracted_at.is_(None))
    change = (
        select(
            literal("channel_status").label("type"),
            StatusChange.effective_on.label("date"),
            StatusChange.id,
            (Channel.name + literal(": ") + StatusChange.status).label("title"),
        )
        .join(Channel, Channel.id == StatusChange.channel_id)
        .where(StatusChange.retracted_at.is_(None), Channel.retracted_at.is_(None))
    )
    if actor_refs:
        incident = incident.where(Incident.id.in_(actors.involved(incidents.RESOURCE, actor_refs)))
        exercise = exercise.where(Exercise.id.in_(actors.involved(exercises.RESOURCE, actor_refs)))
        change = change.where(StatusChange.channel_id.in_(actors.involved(channels.RESOURCE, actor_refs, ["party"])))
    return {
        "incident": (incident, Incident.occurred_on, Incident.id),
        "exercise": (exercise, Exercise.start_date, Exercise.id),
        "channel_status": (change, StatusChange.effective_on, StatusChange.id),
    }


def timeline_query(
    actor_refs: Sequence[str], types: Sequence[str], from_: date | None, to: date | None, listing: Any
) -> Any:
    """The page's candidates: each entry type walks its own date index to the cursor and
    yields at most a page, then the union of those few rows is ordered for the page."""
    parts = [
        select(listing.apply(stmt, id_column, column=date_column, bounds=(from_, to)).subquery())
        for type_, (stmt, date_column, id_column) in _timeline_branches(actor_refs).items()
        if not types or type_ in types
    ]
    timeline = union_all(*parts).subquery("timeline")
    listing.sort = replace(listing.sort, column=timeline.c.date)
    return select(timeline), timeline.c.id


def timeline_hydrate(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    ids = {kind: [r["id"] for r in rows if r["type"] == kind] for kind in ("incident", "exercise", "channel_status")}
    records: dict[str, dict[str, Any]] = {}
    actors_of: dict[str, list[dict]] = {}
    if ids["incident"]:
        found = session.execute(select(*incidents.PUBLIC_COLUMNS).where(Incident.id.in_(ids["incident"]))).all()
        for record in incidents.hydrate(session, [r._mapping for r in found]):
            records[record["id"]] = record
            actors_of[record["id"]] = _unique(record["initiators"] + record["targets"])
    if ids["exercise"]:
        found = session.execute(select(*exercises.PUBLIC_COLUMNS).where(Exercise.id.in_(ids["exercise"]))).all()
        for record in exercises.hydrate(session, [r._mapping for r in found]):
            records[record["id"]] = record
            actors_of[record["id"]] = _unique([p["actor"] for p in record["participants"]])
    if ids["channel_status"]:
        for change_id, record in channels.changes_by_id(session, ids["channel_status"]).items():
            records[change_id] = record
            actors_of[change_id] = record["parties"]
    return [
        {
            "type": r["type"],
            "date": r["date"],
            "id": r["id"],
            "title": r["title"],
            "actors": actors_of.get(r["id"], []),
            "record": records.get(r["id"]),
        }
        for r in rows
    ]


def _unique(refs: list[dict]) -> list[dict]:
    seen: dict[str, dict] = {}
    for ref in refs:
        seen.setdefault(ref["id"], ref)
    return list(seen.values())


def incident_stats(
    session: Session, group_by: Sequence[str], from_: date | None, to: date | None, actor_refs: Sequence[str]
) -> list[dict[str, Any]]:
    """Incident counts in buckets, computed in SQL; months with none between the bounds
    appear with 0 when ``month`` is asked.

    Months and years are bucketed in two steps: counts per day first, in the order of the
    (kind, date) index and without a sort, then per month or year over those few rows."""
    keys: dict[str, Any] = {"kind": Incident.kind}
    stmt = select().select_from(Incident)
    for role in ("initiator", "target"):
        if role in group_by:
            link, actor = aliased(Involvement), aliased(Actor)
            stmt = stmt.join(
                link, and_(link.resource == incidents.RESOURCE, link.record_id == Incident.id, link.role == role)
            ).join(actor, actor.id == link.actor_id)
            keys[role] = actor.slug
    plain = [keys[k].label(k) for k in group_by if k in keys]
    by_day = [*plain, Incident.occurred_on.label("day")]
    stmt = stmt.add_columns(*by_day, func.count().label("n")).where(Incident.retracted_at.is_(None))
    if from_:
        stmt = stmt.where(Incident.occurred_on >= from_)
    if to:
        stmt = stmt.where(Incident.occurred_on <= to)
    if actor_refs:
        stmt = stmt.where(Incident.id.in_(actors.involved(incidents.RESOURCE, actor_refs)))
    days = stmt.group_by(*by_day).subquery("days")
    buckets = [DatePart(days.c.day, k).label(k) if k in ("month", "year") else days.c[k].label(k) for k in group_by]
    total = select(*buckets, cast(func.sum(days.c.n), Integer).label("count")).group_by(*buckets).order_by(*buckets)
    rows = [dict(r._mapping) for r in session.execute(total)]
    if "month" in group_by:
        rows = _fill_months(rows, group_by, from_, to)
    return rows


def _fill_months(
    rows: list[dict[str, Any]], group_by: Sequence[str], from_: date | None, to: date | None
) -> list[dict[str, Any]]:
    months = [r["month"] for r in rows]
    first = f"{from_.year:04d}-{from_.month:02d}" if from_ else min(months, default=None)
    last = f"{to.year:04d}-{to.month:02d}" if to else max(months, default=None)
    if first is None or last is None:
        return rows
    span = []
    year, month = int(first[:4]), int(first[5:])
    while f"{year:04d}-{month:02d}" <= last:
        if len(span) == MAX_MONTHS:
            raise invalid(
                ["query", "group_by"], f"Grouping by month covers at most {MAX_MONTHS} months: narrow `from` and `to`."
            )
        span.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    others = [k for k in group_by if k != "month"]
    groups = sorted({tuple(r[k] for k in others) for r in rows}) or ([()] if not others else [])
    counts = {(tuple(r[k] for k in others), r["month"]): r["count"] for r in rows}
    filled = [
        dict(zip(others, group, strict=True)) | {"month": m, "count": counts.get((group, m), 0)}
        for group in groups
        for m in span
    ]
    order = list(group_by)
    return sorted(filled, key=lambda r: tuple(r[k] for k in order))
