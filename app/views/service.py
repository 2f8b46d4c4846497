"""Read-only answers across domains: dyads, the timeline, incident statistics."""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
    true,
    union_all,
    values,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app.access.visibility import listable
from app.actors import service as actors
from app.actors.models import Actor, Involvement
from app.channels import service as channels
from app.channels.models import Channel, ChannelFilters, StatusChange
from app.exercises import service as exercises
from app.exercises.models import Exercise, ExerciseFilters
from app.incidents import service as incidents
from app.incidents.models import Incident
from app.kit.problems import invalid
from app.kit.sql import DatePart
from app.vocab import IncidentKind

LATEST_INCIDENTS = 10
MAX_MONTHS = 1200


def _involvement_count(session: Session, actor_id: str, role: str, as_of: date) -> int:
    return session.execute(select(incidents.involvement_probe([actor_id], [role], as_of))).scalar_one()


def _directed(
    session: Session, initiator_id: str, target_id: str, as_of: date, unpublished: bool
) -> tuple[Any, list[Any]]:
    """The incidents ``initiator_id`` initiated against ``target_id`` on or before ``as_of``,
    as the involvement walked and its conditions (on it and on the joined incident). The
    quieter side's involvements are walked by date from the index and the other side is
    checked by primary key for each, so a busy actor paired with a quiet one costs what the
    quiet one holds."""
    sides = [(initiator_id, "initiator"), (target_id, "target")]
    if _involvement_count(session, target_id, "target", as_of) < _involvement_count(
        session, initiator_id, "initiator", as_of
    ):
        sides.reverse()
    (walk_id, walk_role), (check_id, check_role) = sides
    walk = aliased(Involvement)
    conditions = [
        walk.actor_id == walk_id,
        walk.resource == incidents.RESOURCE,
        walk.role == walk_role,
        walk.occurred_on <= as_of,
        incidents.involves(walk.record_id, [check_id], [check_role]),
        *listable(Incident, [], unpublished),
    ]
    return walk, conditions


def dyad(
    session: Session, a_ref: str, b_ref: str, as_of: date, window_days: int, unpublished: bool = False
) -> dict[str, Any]:
    """Relations between two actors on ``as_of``; drafts count only with ``unpublished``."""
    a, b = actors.get(session, a_ref), actors.get(session, b_ref)
    if a.id == b.id:
        raise invalid(["path", "b"], "A dyad needs two different actors.")
    channel_rows = session.execute(
        channels.query(ChannelFilters(party=[a.id, b.id], as_of=as_of)).order_by(Channel.name, Channel.id)
    ).all()
    window_start = as_of - timedelta(days=window_days) if as_of > date.min + timedelta(days=window_days) else date.min
    counts, latest = {}, []
    for key, (x, y) in {"a_to_b": (a, b), "b_to_a": (b, a)}.items():
        walk, conditions = _directed(session, x.id, y.id, as_of, unpublished)
        rows = session.execute(
            select(Incident.kind, func.count())
            .select_from(walk)
            .join(Incident, Incident.id == walk.record_id)
            .where(*conditions, walk.occurred_on > window_start)
            .group_by(Incident.kind)
            .order_by(Incident.kind)
        ).all()
        counts[key] = {kind: n for kind, n in rows}
        latest += session.execute(
            select(*incidents.PUBLIC_COLUMNS)
            .select_from(walk)
            .join(Incident, Incident.id == walk.record_id)
            .where(*conditions)
            .order_by(walk.occurred_on.desc(), walk.record_id.desc())
            .limit(LATEST_INCIDENTS)
        ).all()
    latest = sorted(latest, key=lambda r: (r.occurred_on, r.id), reverse=True)[:LATEST_INCIDENTS]
    active = session.execute(
        exercises.query(ExerciseFilters(actor=[a.id, b.id], active_on=as_of), unpublished=unpublished).order_by(
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


TIMELINE_DATE = literal_column("date", Date())  # what timeline cursors carry


def _timeline_branches(
    actor_refs: Sequence[str], unpublished: bool, listing: Any, bounds: tuple[Any, Any]
) -> dict[str, tuple[Any, Any, Any]]:
    """Each entry type as ``(select, date column, id column)``, its actor filter applied;
    drafts only with ``unpublished``. The actors' incidents are walked by date from their
    involvements, a page at most for each actor and role."""
    incident = select(
        literal("incident").label("type"), Incident.occurred_on.label("date"), Incident.id, Incident.title
    ).where(*listable(Incident, [], unpublished))
    exercise = select(
        literal("exercise").label("type"), Exercise.start_date.label("date"), Exercise.id, Exercise.name.label("title")
    ).where(*listable(Exercise, [], unpublished))
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
        incident = incidents.walked(incident, [(actor_refs, incidents.ROLES)], listing, bounds, listing.limit)
        exercise = exercise.where(Exercise.id.in_(actors.involved(exercises.RESOURCE, actor_refs)))
        change = change.where(StatusChange.channel_id.in_(actors.involved(channels.RESOURCE, actor_refs, ["party"])))
    return {
        "incident": (incident, Incident.occurred_on, Incident.id),
        "exercise": (exercise, Exercise.start_date, Exercise.id),
        "channel_status": (change, StatusChange.effective_on, StatusChange.id),
    }


def timeline_query(
    actor_refs: Sequence[str],
    types: Sequence[str],
    from_: date | None,
    to: date | None,
    listing: Any,
    unpublished: bool = False,
) -> Any:
    """The page's candidates: each entry type walks its own date index to the cursor and
    yields at most a page, then the union of those few rows is ordered for the page."""
    parts = [
        select(listing.apply(stmt, id_column, column=date_column, bounds=(from_, to)).subquery())
        for type_, (stmt, date_column, id_column) in _timeline_branches(
            actor_refs, unpublished, listing, (from_, to)
        ).items()
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
    session: Session,
    group_by: Sequence[str],
    from_: date | None,
    to: date | None,
    actor_refs: Sequence[str],
    unpublished: bool = False,
) -> list[dict[str, Any]]:
    """Incident counts in buckets, computed in SQL; months with none between the bounds
    appear with 0 when ``month`` is asked. Drafts count only with ``unpublished``.

    Without actors, each kind and period is counted by walking its own range of the
    (kind, date) index, which holds the status too; otherwise months and years are bucketed
    in two steps: counts per day first, then per month or year over those few rows."""
    periods = None if actor_refs else _periods(session, group_by, from_, to, unpublished)
    if periods is not None:
        rows = _counts_by_range(session, group_by, periods, unpublished)
    else:
        rows = _counts_by_day(session, group_by, from_, to, actor_refs, unpublished)
    if "month" in group_by:
        rows = _fill_months(rows, group_by, from_, to)
    return rows


def _periods(
    session: Session, group_by: Sequence[str], from_: date | None, to: date | None, unpublished: bool
) -> list[tuple[str, date, date]] | None:
    """The ``(label, first day, last day)`` of each month or year (or the one span) that
    stats counted by range would cover, within the bounds and the dates of the data; None
    when those stats do not apply (grouping by actor, or too many periods)."""
    if not set(group_by) <= {"kind", "month", "year"}:
        return None
    if from_ is None or to is None:
        dates = select(Incident.occurred_on).where(*listable(Incident, [], unpublished)).limit(1)
        first, last = session.execute(
            select(
                dates.order_by(Incident.occurred_on).scalar_subquery(),
                dates.order_by(Incident.occurred_on.desc()).scalar_subquery(),
            )
        ).one()
        from_, to = from_ or first, to or last
    if from_ is None or to is None or from_ > to:
        return []
    part = next((k for k in group_by if k in ("month", "year")), None)
    if part is None:
        return [("", from_, to)]
    periods: list[tuple[str, date, date]] = []
    start = from_
    while len(periods) <= MAX_MONTHS:
        if part == "year" or start.month == 12:
            end = date(start.year, 12, 31)
        else:
            end = date(start.year, start.month + 1, 1) - timedelta(days=1)
        label = f"{start.year:04d}-{start.month:02d}" if part == "month" else f"{start.year:04d}"
        periods.append((label, start, min(end, to)))
        if end >= to:
            return periods
        start = end + timedelta(days=1)
    return None


def _counts_by_range(
    session: Session, group_by: Sequence[str], periods: list[tuple[str, date, date]], unpublished: bool
) -> list[dict[str, Any]]:
    """One count for each kind and period, each walking its range of the (kind, date)
    index: no incident row is read, grouped or sorted."""
    if not periods:
        return []
    kinds = values(column("kind", String()), name="kinds").data([(k.value,) for k in IncidentKind]).cte()
    spans = (
        values(column("period", String()), column("first", Date()), column("last", Date()), name="spans")
        .data(periods)
        .cte()
    )
    n = (
        select(func.count())
        .select_from(Incident)
        .where(
            Incident.kind == kinds.c.kind,
            Incident.occurred_on >= spans.c.first,
            Incident.occurred_on <= spans.c.last,
            *listable(Incident, [], unpublished),
        )
        .scalar_subquery()
    )
    counts = select(kinds.c.kind, spans.c.period, n.label("n")).join_from(kinds, spans, true()).subquery("counts")
    keys = [(counts.c.kind if k == "kind" else counts.c.period).label(k) for k in group_by]
    total = select(*keys, cast(func.sum(counts.c.n), Integer).label("count")).group_by(*keys).order_by(*keys)
    return [dict(r._mapping) for r in session.execute(total) if r.count]


def _counts_by_day(
    session: Session,
    group_by: Sequence[str],
    from_: date | None,
    to: date | None,
    actor_refs: Sequence[str],
    unpublished: bool,
) -> list[dict[str, Any]]:
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
    stmt = stmt.add_columns(*by_day, func.count().label("n")).where(*listable(Incident, [], unpublished))
    if from_:
        stmt = stmt.where(Incident.occurred_on >= from_)
    if to:
        stmt = stmt.where(Incident.occurred_on <= to)
    if actor_refs:
        stmt = stmt.where(Incident.id.in_(actors.involved(incidents.RESOURCE, actor_refs)))
    days = stmt.group_by(*by_day).subquery("days")
    buckets = [DatePart(days.c.day, k).label(k) if k in ("month", "year") else days.c[k].label(k) for k in group_by]
    total = select(*buckets, cast(func.sum(days.c.n), Integer).label("count")).group_by(*buckets).order_by(*buckets)
    return [dict(r._mapping) for r in session.execute(total)]


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
