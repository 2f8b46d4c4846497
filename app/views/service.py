"""Read-only answers across domains: dyads, the timeline, incident statistics."""

import calendar
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Date,
    Engine,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
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
from app.channels.models import Channel, StatusChange
from app.exercises import service as exercises
from app.exercises.models import Exercise
from app.incidents import service as incidents
from app.incidents.models import Incident
from app.kit.pagination import page_rows
from app.kit.problems import NotFound, invalid
from app.kit.sql import DatePart, SpanDays
from app.vocab import IncidentKind, ParticipantRole, RecordStatus

LATEST_INCIDENTS = 10
MAX_MONTHS = 1200

COUNTS = table(
    "incident_counts",
    column("month", Date()),
    column("kind", String()),
    column("status", String()),
    column("n", Integer()),
)
"""Live incidents counted per (first day of the month, kind, status), kept exact by triggers
on ``incidents`` (migration 0009)."""
ACTOR_COUNTS = table(
    "actor_incident_counts",
    column("role", String()),
    column("status", String()),
    column("actor_id", String()),
    column("month", Date()),
    column("kind", String()),
    column("n", Integer()),
)
"""Live incidents counted per (role, status, actor, first day of the month, kind): those in
which the actor has the role, kept exact by triggers on ``incidents`` and ``involvements``
(migration 0013)."""
PAIR_COUNTS = table(
    "incident_pair_counts",
    column("initiator_id", String()),
    column("target_id", String()),
    column("status", String()),
    column("month", Date()),
    column("kind", String()),
    column("n", Integer()),
)
"""Live incidents counted per (initiator, target, status, first day of the month, kind),
kept like ``ACTOR_COUNTS`` (migration 0013)."""


def _statuses(unpublished: bool) -> list[str]:
    """The statuses of the incidents counted for a caller: drafts only with ``unpublished``."""
    return [RecordStatus.published, RecordStatus.draft] if unpublished else [RecordStatus.published]


A, B = bindparam("a", type_=String()), bindparam("b", type_=String())
"""The two actors' ids in a dyad's statements, which are built once (:func:`_dyad_statements`)."""
START, AS_OF = bindparam("start", type_=Date()), bindparam("as_of", type_=Date())
"""A dyad's window, ``(start, as_of]``, and its date."""
EARLIEST = bindparam("earliest", type_=Date())
"""The earliest start date of an exercise that can be active on a dyad's date."""
DIRECTIONS = {"a_to_b": ((A, "initiator"), (B, "target")), "b_to_a": ((B, "initiator"), (A, "target"))}
SIDES = [side for pair in DIRECTIONS.values() for side in pair]


def _in_window(side: tuple[Any, str]) -> Any:
    """The incidents in which ``side`` (an ``(actor id, role)``) has its role and which
    occurred in the window, read from the involvements' index."""
    actor_id, role = side
    return select(Involvement.record_id).where(
        Involvement.actor_id == actor_id,
        Involvement.resource == incidents.RESOURCE,
        Involvement.role == role,
        Involvement.occurred_on > START,
        Involvement.occurred_on <= AS_OF,
    )


def _latest(initiator: tuple[Any, str], target: tuple[Any, str], walk_target: bool, unpublished: bool) -> Any:
    """The newest incidents on or before the dyad's date between two sides (each an ``(actor
    id, role)``): one side's involvements are walked by date from the index and the other
    side is checked by primary key for each, so the walk should be the quieter side's."""
    (walk_id, walk_role), (check_id, check_role) = (target, initiator) if walk_target else (initiator, target)
    return select(
        select(*incidents.LIST_COLUMNS)
        .select_from(Involvement)
        .join(Incident, Incident.id == Involvement.record_id)
        .where(
            Involvement.actor_id == walk_id,
            Involvement.resource == incidents.RESOURCE,
            Involvement.role == walk_role,
            Involvement.occurred_on <= AS_OF,
            incidents.involves(Involvement.record_id, [check_id], [check_role]),
            *listable(Incident, [], unpublished),
        )
        .order_by(Involvement.occurred_on.desc(), Involvement.record_id.desc())
        .limit(LATEST_INCIDENTS)
        .subquery()
    )


@dataclass(frozen=True)
class DyadStatements:
    """What a dyad runs, with the actors and dates bound by name (``A``, ``B``, ``START``,
    ``AS_OF``, ``EARLIEST``)."""

    channels: Any
    """The ids of the live channels between the two that exist on the date, by name."""
    counts: Any
    """``(direction, kind, n)`` for each direction and kind with incidents in the window."""
    latest: Any
    """The newest incidents between the two, in either direction, on or before the date."""
    exercises: Any
    """The ids of the exercises active on the date in which either takes part, newest first."""


LONGEST_EXERCISE = select(func.max(SpanDays(Exercise.start_date, exercises.END))).select_from(Exercise)
WINDOW_SIZES = select(
    *(
        select(func.count()).select_from(_in_window(side).limit(incidents.PROBE).subquery()).scalar_subquery()
        for side in SIDES
    ),
    LONGEST_EXERCISE.scalar_subquery(),
)
"""How many incidents each side of ``SIDES`` has in the window, counted from the index up to
``incidents.PROBE``, and the longest span of any exercise in days, in one statement."""


@cache
def _dyad_statements(unpublished: bool, walk_targets: tuple[bool, bool]) -> DyadStatements:
    """A dyad's statements, built once for each visibility and choice of walks: building
    them takes longer than running them."""
    counted, latest = [], []
    for key, (initiator, target), walk_target in zip(DIRECTIONS, DIRECTIONS.values(), walk_targets, strict=True):
        both = _in_window(initiator).intersect(_in_window(target))
        counted.append(
            select(literal(key).label("direction"), Incident.kind, func.count().label("n"))
            .where(Incident.id.in_(both), *listable(Incident, [], unpublished))
            .group_by(Incident.kind)
        )
        latest.append(_latest(initiator, target, walk_target, unpublished))
    newest = union_all(*latest).subquery()
    part = Involvement.__table__.alias("part")
    takes_part = (
        select(part.c.record_id)
        .where(part.c.resource == exercises.RESOURCE, part.c.record_id == Exercise.id, part.c.actor_id.in_([A, B]))
        .limit(1)
        .scalar_subquery()
        .is_not(None)
    )
    return DyadStatements(
        channels=select(Channel.id)
        .where(
            Channel.retracted_at.is_(None),
            channels.exists_on(AS_OF),
            *(Channel.id.in_(actors.involved(channels.RESOURCE, [party], ["party"])) for party in (A, B)),
        )
        .order_by(Channel.name, Channel.id),
        counts=union_all(*counted),
        latest=select(newest).order_by(newest.c.occurred_on.desc(), newest.c.id.desc()).limit(LATEST_INCIDENTS),
        exercises=select(Exercise.id)
        .where(
            *listable(Exercise, [], unpublished),
            Exercise.start_date >= EARLIEST,
            exercises.active_on(AS_OF),
            takes_part,
        )
        .order_by(Exercise.start_date.desc(), Exercise.id.desc()),
    )


def _affiliated_dyad(
    session: Session, a_id: str, b_id: str, window: dict[str, Any], unpublished: bool
) -> tuple[dict[str, dict[str, int]], list[Any], list[str], list[dict[str, str]]]:
    """A dyad's counts, latest incidents, channel ids and active exercises where each side is
    the actor and the actors affiliated to it (``include_affiliated``): read from every
    involvement of each side, not walked."""
    sides = {"a": a_id, "b": b_id}

    def side(name: str, resource: str, roles: Sequence[str] | None) -> Any:
        return actors.involved(resource, [sides[name]], roles, affiliated=True)

    directions = {"a_to_b": ("a", "b"), "b_to_a": ("b", "a")}
    visible = listable(Incident, [], unpublished)
    between = {
        key: Incident.id.in_(side(i, incidents.RESOURCE, ["initiator"]))
        & Incident.id.in_(side(t, incidents.RESOURCE, ["target"]))
        for key, (i, t) in directions.items()
    }
    counts: dict[str, dict[str, int]] = {key: {} for key in DIRECTIONS}
    in_window = [Incident.occurred_on > window["start"], Incident.occurred_on <= window["as_of"]]
    for key, condition in between.items():
        stmt = select(Incident.kind, func.count()).where(condition, *in_window, *visible).group_by(Incident.kind)
        counts[key] = {kind: n for kind, n in session.execute(stmt)}
    latest = session.execute(
        select(*incidents.LIST_COLUMNS)
        .where(or_(*between.values()), Incident.occurred_on <= window["as_of"], *visible)
        .order_by(Incident.occurred_on.desc(), Incident.id.desc())
        .limit(LATEST_INCIDENTS)
    ).all()
    channel_ids = list(
        session.execute(
            select(Channel.id)
            .where(
                Channel.retracted_at.is_(None),
                channels.exists_on(window["as_of"]),
                *(Channel.id.in_(side(name, channels.RESOURCE, ["party"])) for name in sides),
            )
            .order_by(Channel.name, Channel.id)
        ).scalars()
    )
    active = [
        {"id": i}
        for i in session.execute(
            select(Exercise.id)
            .where(
                *listable(Exercise, [], unpublished),
                exercises.active_on(window["as_of"]),
                or_(*(Exercise.id.in_(side(name, exercises.RESOURCE, None)) for name in sides)),
            )
            .order_by(Exercise.start_date.desc(), Exercise.id.desc())
        ).scalars()
    ]
    return counts, latest, channel_ids, active


def dyad(
    session: Session,
    a_ref: str,
    b_ref: str,
    as_of: date,
    window_days: int,
    unpublished: bool = False,
    affiliated: bool = False,
) -> dict[str, Any]:
    """Relations between two actors on ``as_of``; drafts count only with ``unpublished``.

    Each direction's counts intersect the two sides' involvements in the window; its latest
    incidents walk the side quieter in the window. Both directions' counts are one
    statement, and so are their latest incidents.

    No exercise active on ``as_of`` started before it less the longest span of any
    exercise: the exercises in between are read from the start-date index and each is
    checked by primary key for the actors."""
    found = actors.named(session, [a_ref, b_ref])
    for ref in (a_ref, b_ref):
        if ref not in found:
            raise NotFound(f"No actor {ref!r}.")
    a, b = found[a_ref], found[b_ref]
    if a["id"] == b["id"]:
        raise invalid(["path", "b"], "A dyad needs two different actors.")
    window = {"a": a["id"], "b": b["id"], "start": _days_before(as_of, window_days), "as_of": as_of}
    if affiliated:
        counts, latest, channel_ids, active = _affiliated_dyad(session, a["id"], b["id"], window, unpublished)
    else:
        counts, latest, channel_ids, active = _walked_dyad(session, window, unpublished)
    return {
        "a": a,
        "b": b,
        "as_of": as_of,
        "window_days": window_days,
        "channels": channels.answers_on(session, channel_ids, as_of),
        "incident_counts": {key: dict(sorted(by_kind.items())) for key, by_kind in counts.items()},
        "latest_incidents": incidents.hydrate(session, [r._mapping for r in latest]),
        "active_exercises": exercises.hydrate(session, active),
    }


def _walked_dyad(
    session: Session, window: dict[str, Any], unpublished: bool
) -> tuple[dict[str, dict[str, int]], list[Any], list[str], list[dict[str, str]]]:
    """A dyad's counts, latest incidents, channel ids and active exercises, walked as
    :func:`dyad` describes."""
    *sizes, longest = session.execute(WINDOW_SIZES, window).one()  # sizes in the order of SIDES
    walk_targets = (sizes[1] < sizes[0], sizes[3] < sizes[2])
    statements = _dyad_statements(unpublished, walk_targets)
    counts: dict[str, dict[str, int]] = {key: {} for key in DIRECTIONS}
    for direction, kind, n in session.execute(statements.counts, window):
        counts[direction][kind] = n
    latest = session.execute(statements.latest, window).all()
    channel_ids = list(session.execute(statements.channels, window).scalars())
    active = []
    if longest is not None:
        earliest = {"earliest": _days_before(window["as_of"], longest)}
        active = [{"id": i} for i in session.execute(statements.exercises, window | earliest).scalars()]
    return counts, latest, channel_ids, active


@cache
def dyad_months(
    session: Session, a_id: str, b_id: str, first: date, last: date, unpublished: bool = False
) -> dict[str, dict[str, dict[str, int]]]:
    """Incidents between the actors ``a_id`` and ``b_id`` in the whole months from ``first``'s
    to ``last``'s, counted by direction (``a_to_b``, ``b_to_a``), month (``YYYY-MM``) and
    kind: one statement over the counts kept per pair (``PAIR_COUNTS``)."""
    counts: dict[str, dict[str, dict[str, int]]] = {key: {} for key in DIRECTIONS}
    span = {"a": a_id, "b": b_id, "first": first.replace(day=1), "last": last.replace(day=1)}
    for direction, month, kind, n in session.execute(_dyad_months(unpublished), span):
        counts[direction].setdefault(month, {})[kind] = n
    return counts


@cache
def _dyad_months(unpublished: bool) -> Any:
    month = DatePart(PAIR_COUNTS.c.month, "month")
    total = func.sum(PAIR_COUNTS.c.n)
    return union_all(
        *(
            select(literal(key).label("direction"), month.label("month"), PAIR_COUNTS.c.kind, cast(total, Integer))
            .where(
                PAIR_COUNTS.c.initiator_id == initiator,
                PAIR_COUNTS.c.target_id == target,
                PAIR_COUNTS.c.status.in_(_statuses(unpublished)),
                PAIR_COUNTS.c.month >= bindparam("first", type_=Date()),
                PAIR_COUNTS.c.month <= bindparam("last", type_=Date()),
            )
            .group_by(month, PAIR_COUNTS.c.kind)
            .having(total > 0)
            for key, ((initiator, _), (target, _)) in DIRECTIONS.items()
        )
    )


def _days_before(day: date, days: int) -> date:
    """``days`` before ``day``, or the first day there is."""
    return day - timedelta(days=days) if day > date.min + timedelta(days=days) else date.min


TIMELINE_DATE = literal_column("date", Date())  # what timeline cursors carry


def _timeline_branches(
    actor_refs: Sequence[str], unpublished: bool, listing: Any, bounds: tuple[Any, Any], affiliated: bool = False
) -> dict[str, tuple[Any, Any, Any]]:
    """Each entry type as ``(select, date column, id column)``, its actor filter applied;
    drafts only with ``unpublished``. The actors' incidents and exercises are walked by date
    from their involvements, a page at most for each actor and role."""
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
    if actor_refs and affiliated:  # the actors and theirs: every involvement of each, no walk
        incident = incident.where(Incident.id.in_(actors.involved(incidents.RESOURCE, actor_refs, None, True)))
        exercise = exercise.where(Exercise.id.in_(actors.involved(exercises.RESOURCE, actor_refs, None, True)))
    elif actor_refs:
        incident = incidents.walked(incident, [(actor_refs, incidents.ROLES)], listing, bounds, listing.limit)
        exercise = _walked_exercises(exercise, actor_refs, listing, bounds)
    if actor_refs:
        change = change.where(
            StatusChange.channel_id.in_(actors.involved(channels.RESOURCE, actor_refs, ["party"], affiliated))
        )
    return {
        "incident": (incident, Incident.occurred_on, Incident.id),
        "exercise": (exercise, Exercise.start_date, Exercise.id),
        "channel_status": (change, StatusChange.effective_on, StatusChange.id),
    }


def _walked_exercises(stmt: Any, actor_refs: Sequence[str], listing: Any, bounds: tuple[Any, Any]) -> Any:
    """``stmt`` (a query of exercises) kept to the exercises of a page in which one of
    ``actor_refs`` takes part: each actor and role walks its involvements by start date from
    the index, checking ``stmt``'s conditions as it goes and stopping after a page."""
    conditions = [] if stmt.whereclause is None else [stmt.whereclause]
    arms = []
    for ref in actor_refs:
        for role in ParticipantRole:
            arm = (
                select(Involvement.record_id)
                .join(Exercise, Exercise.id == Involvement.record_id)
                .where(
                    Involvement.actor_id == incidents.actor_id(ref),
                    Involvement.resource == exercises.RESOURCE,
                    Involvement.role == role,
                    *conditions,
                )
            )
            page = listing.apply(arm, Involvement.record_id, column=Involvement.occurred_on, bounds=bounds)
            arms.append(select(page.subquery().c.record_id))
    return stmt.where(Exercise.id.in_(union_all(*arms)))


def timeline_query(
    actor_refs: Sequence[str],
    types: Sequence[str],
    from_: date | None,
    to: date | None,
    listing: Any,
    unpublished: bool = False,
    affiliated: bool = False,
) -> Any:
    """The page's candidates: each entry type walks its own date index to the cursor and
    yields at most a page, then the union of those few rows is ordered for the page. With
    ``affiliated``, the actors affiliated to ``actor_refs`` count as they do."""
    parts = [
        select(listing.apply(stmt, id_column, column=date_column, bounds=(from_, to)).subquery())
        for type_, (stmt, date_column, id_column) in _timeline_branches(
            actor_refs, unpublished, listing, (from_, to), affiliated
        ).items()
        if not types or type_ in types
    ]
    timeline = union_all(*parts).subquery("timeline")
    listing.sort = replace(listing.sort, column=timeline.c.date)
    return select(timeline), timeline.c.id


def timeline_walk(
    engine: Engine,
    actor_refs: Sequence[str],
    types: Sequence[str],
    from_: date | None,
    to: date | None,
    listing: Any,
    unpublished: bool,
    chunk: int,
    affiliated: bool = False,
) -> Iterator[list[dict[str, Any]]]:
    """Every matching entry of the timeline from its start (whatever cursor the listing
    read), ``chunk`` at a time, as pages are read: each chunk's query walks the indexes
    from the last entry of the one before. On a session of its own, for a streamed answer."""
    listing.after, listing.limit = None, chunk
    with Session(engine) as session:
        while True:
            stmt, id_column = timeline_query(actor_refs, types, from_, to, listing, unpublished, affiliated)
            rows, next_cursor = page_rows(listing, session, stmt, id_column)
            if rows:
                yield timeline_hydrate(session, rows)
            if next_cursor is None:
                return
            listing.after = (rows[-1]["date"], rows[-1]["id"])


def timeline_hydrate(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    actors_of: dict[str, list[dict]] = {}
    for record in incidents.hydrate(session, [r for r in rows if r["type"] == "incident"]):
        records[record["id"]] = record
        actors_of[record["id"]] = _unique(record["initiators"] + record["targets"])
    for record in exercises.hydrate(session, [r for r in rows if r["type"] == "exercise"]):
        records[record["id"]] = record
        actors_of[record["id"]] = _unique([p["actor"] for p in record["participants"]])
    changes = [r["id"] for r in rows if r["type"] == "channel_status"]
    for change_id, record in channels.changes_by_id(session, changes).items():
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
    one_span: bool = False,
) -> list[dict[str, Any]]:
    """Incident counts in buckets, computed in SQL; when ``month`` is asked, months with none
    appear with 0 within the asked bounds, and where a bound is not asked within the
    months of the bucket's own records (with two keys, each value of the other key is a
    series of its own: one whose records span three months answers three rows, not every
    month of every other series). With ``one_span`` every series spans the months of all
    the records instead (a chart's even axis). Drafts count only with ``unpublished``.

    Without actors, whole months are read from the counts kept per month (:func:`_kept`) and
    the days of a month cut by ``from`` or ``to`` are counted from the records; with actors,
    months and years are bucketed in two steps: counts per day first, then per month or
    year over those few rows."""
    if actor_refs:
        rows = _counts_by_day(session, group_by, from_, to, actor_refs, unpublished)
    else:
        rows = _counts_by_month(session, group_by, from_, to, unpublished)
    if "month" in group_by:
        rows = _fill_months(rows, group_by, from_, to, one_span)
    return rows


def _month(index: int) -> tuple[date, date]:
    """The first and last day of month number ``index`` (``year * 12 + month - 1``)."""
    year, month = divmod(index, 12)
    return date(year, month + 1, 1), date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def _labels(day: date) -> tuple[str, str]:
    """The month (``YYYY-MM``) and year (``YYYY``) that stats bucket ``day`` in."""
    return f"{day.year:04d}-{day.month:02d}", f"{day.year:04d}"


def _counts_by_month(
    session: Session, group_by: Sequence[str], from_: date | None, to: date | None, unpublished: bool
) -> list[dict[str, Any]]:
    """Counts of the months wholly between ``from_`` and ``to`` (None: unbounded) from the
    counts kept per month (:func:`_kept`), plus those of the days of the months the bounds
    cut: by range of the (kind, date) index, or by actor from the involvements."""
    first = None if from_ is None else from_.year * 12 + from_.month - 1
    last = None if to is None else to.year * 12 + to.month - 1
    cuts: list[tuple[str, str, date, date]] = []
    if from_ is not None and from_.day != 1:
        cuts.append((*_labels(from_), from_, min(_month(first)[1], to or date.max)))
        first += 1
    if to is not None and to != _month(last)[1] and (first is None or first <= last):
        cuts.append((*_labels(to), _month(last)[0], to))
        last -= 1
    if ROLES.isdisjoint(group_by):
        rows = _counts_by_range(session, group_by, cuts, unpublished)
    else:
        rows = [r for *_, start, end in cuts for r in _counts_by_day(session, group_by, start, end, [], unpublished)]
    lo = date.min.year * 12 if first is None else first
    hi = date.max.year * 12 + 11 if last is None else last
    if lo <= hi:
        months = (None if first is None else _month(lo)[0], None if last is None else _month(hi)[0])
        rows += [dict(r._mapping) for r in session.execute(_kept(tuple(group_by), unpublished, *months))]
    merged: dict[tuple, int] = {}
    for row in rows:
        key = tuple(row[k] for k in group_by)
        merged[key] = merged.get(key, 0) + row["count"]
    return [dict(zip(group_by, key, strict=True)) | {"count": n} for key, n in sorted(merged.items())]


ROLES = frozenset({"initiator", "target"})


def _kept(group_by: tuple[str, ...], unpublished: bool, first: date | None, last: date | None) -> Any:
    """Counts by ``group_by`` over the months from ``first`` to ``last`` (first days of
    months; None: unbounded) from the counts the triggers keep: per month (``COUNTS``), per
    actor in one role (``ACTOR_COUNTS``), or per initiator and target (``PAIR_COUNTS``).
    They are summed by actor id, in the kept table's order, and the ids named by slug after."""
    roles = [k for k in group_by if k in ROLES]
    if len(roles) == 2:
        source, ids, conditions = PAIR_COUNTS, {r: PAIR_COUNTS.c[f"{r}_id"] for r in roles}, []
    elif roles:
        source, ids = ACTOR_COUNTS, {roles[0]: ACTOR_COUNTS.c.actor_id}
        conditions = [ACTOR_COUNTS.c.role == roles[0]]
    else:
        source, ids, conditions = COUNTS, {}, []
    columns = {"kind": source.c.kind, **{k: DatePart(source.c.month, k) for k in ("month", "year")}} | ids
    keys = [columns[k].label(k) for k in group_by]
    total = func.sum(source.c.n)
    conditions.append(source.c.status.in_(_statuses(unpublished)))
    if first is not None:
        conditions.append(source.c.month >= first)
    if last is not None:
        conditions.append(source.c.month <= last)
    summed = select(*keys, cast(total, Integer).label("count")).where(*conditions).group_by(*keys).having(total > 0)
    if not ids:
        return summed
    summed = summed.subquery("summed")
    named = {k: summed.c[k] for k in group_by}
    stmt = select().select_from(summed)
    for role in ids:
        actor = Actor.__table__.alias(role)
        stmt = stmt.join(actor, actor.c.id == summed.c[role])
        named[role] = actor.c.slug
    return stmt.add_columns(*(named[k].label(k) for k in group_by), summed.c.count)


def _counts_by_range(
    session: Session, group_by: Sequence[str], periods: list[tuple[str, str, date, date]], unpublished: bool
) -> list[dict[str, Any]]:
    """One count for each kind and period (its month and year, first and last day), each
    walking its range of the (kind, date) index: no incident row is read, grouped or sorted."""
    if not periods:
        return []
    kinds = values(column("kind", String()), name="kinds").data([(k.value,) for k in IncidentKind]).cte()
    spans = (
        values(
            column("month", String()),
            column("year", String()),
            column("first", Date()),
            column("last", Date()),
            name="spans",
        )
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
    counts = (
        select(kinds.c.kind, spans.c.month, spans.c.year, n.label("n"))
        .join_from(kinds, spans, true())
        .subquery("counts")
    )
    keys = [counts.c[k].label(k) for k in group_by]
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


def _span(first: str, last: str) -> list[str]:
    """Every month (``YYYY-MM``) from ``first`` to ``last``; 422 past ``MAX_MONTHS``."""
    span = []
    year, month = int(first[:4]), int(first[5:])
    while f"{year:04d}-{month:02d}" <= last:
        if len(span) == MAX_MONTHS:
            raise invalid(
                ["query", "group_by"], f"Grouping by month covers at most {MAX_MONTHS} months: narrow `from` and `to`."
            )
        span.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return span


def _fill_months(
    rows: list[dict[str, Any]], group_by: Sequence[str], from_: date | None, to: date | None, one_span: bool = False
) -> list[dict[str, Any]]:
    """``rows`` with a 0 for each month without incidents of each series (the values of the
    other key), from ``from_``'s month, else the series' first, to ``to``'s, else its last
    (with ``one_span``, the first and last of all the rows)."""
    asked_first = f"{from_.year:04d}-{from_.month:02d}" if from_ else None
    asked_last = f"{to.year:04d}-{to.month:02d}" if to else None
    others = [k for k in group_by if k != "month"]
    months: dict[tuple, list[str]] = {}
    for r in rows:
        months.setdefault(() if one_span else tuple(r[k] for k in others), []).append(r["month"])
    if not others and not months and asked_first and asked_last:
        months[()] = []  # one series, asked for a range without records: its months are 0
    spans = {
        group: _span(asked_first or min(seen), asked_last or max(seen))
        for group, seen in months.items()
        if (asked_first or seen) and (asked_last or seen)
    }
    groups = sorted({tuple(r[k] for k in others) for r in rows}) or ([()] if not others and spans else [])
    counts = {(tuple(r[k] for k in others), r["month"]): r["count"] for r in rows}
    filled = []
    for group in groups:
        for m in spans[() if one_span else group]:
            cell = dict(zip(others, group, strict=True)) | {"month": m}
            filled.append({k: cell[k] for k in group_by} | {"count": counts.get((group, m), 0)})
    return sorted(filled, key=lambda r: tuple(r[k] for k in group_by))
