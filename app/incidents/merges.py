"""One event, many reports: merging incidents.

Two incidents are merged into one (the survivor) by hand (``POST /v1/incidents/{id}/merge``)
or by an import that finds a new incident reporting the same event as an earlier one
(:func:`merge_reports`). The survivor keeps its own fields and gains every source, actor (as
initiator or target), answered incident and tag of the other; the incidents that answered the
other now answer the survivor, and the channel status changes it caused were caused by the
survivor. The other is retracted and kept as a tombstone that names the
survivor (``merged_into``): its id and ``external_ref`` keep answering, a read with a 308 to
the survivor, a write with a 409 naming it; its own history and links stay as they were.
Retracted, it drops out of lists, views and the kept counts (migrations 0009, 0013) as any
retraction does. Both get a ``merge`` entry in the change feed.
"""

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlmodel import Session

from app.actors import service as actors
from app.actors.models import Involvement
from app.channels.models import Channel, StatusChange
from app.incidents import service
from app.incidents.models import Incident, IncidentCreate, Reply
from app.kit import etags
from app.kit.etags import Precondition
from app.kit.links import replace_links
from app.kit.pending import mark_changed
from app.kit.problems import Conflict, Merged, Problem, invalid
from app.kit.records import utcnow
from app.kit.sql import JSONHasAny
from app.sources import service as sources
from app.sources.models import Citation, citation_snapshot, cited
from app.vocab import DatePrecision, IncidentKind, RecordStatus, span_end, span_start

REPORT_SETS = frozenset({"gdelt", "icews", "plover"})
"""The event data sets whose rows are reports (one a story or an article), not events: two of
their rows may report one event with no source in common (ICEWS's two publishers). ACLED's
rows are events, already deduplicated by its coders."""
MARGIN = timedelta(days=1)
"""How far apart two rows of a report data set may lie (beyond their precision): a report
dated the day after the event, as a second publisher's often is."""
SPAN = timedelta(days=31)
"""The furthest a date of a month lies from a day in that month."""
NONE = timedelta(0)
"""How far apart two incidents that cite one source may lie (beyond their precision): not at
all. One source often tells of several moves, a day or more apart (an expulsion and the
answer to it, or a series of expulsions): the same kind between the same sides on another
day is another move."""


def merge(session: Session, survivor_ref: str, merged_ref: str, precondition: Precondition | None = None) -> Incident:
    """Merge the incident ``merged_ref`` (an id or ``external_ref``, as in bodies) into the
    incident ``survivor_ref`` (a path's reference); answers the survivor.

    404 when the survivor is unknown, 409 when it was itself merged away (naming its own
    survivor), 412 when ``precondition`` names another version of it. 422 when the other is
    unknown, retracted, or the survivor itself; 409 when it was merged into a third incident
    (naming it), or when it is published and the survivor a draft (readers would lose it).
    Merging an incident already merged into this survivor changes nothing."""
    survivor = service.get(session, survivor_ref, for_update=True)
    etags.check(precondition, survivor.version)
    loc = ["body", "merged"]
    other = session.execute(
        select(Incident)
        .where((Incident.id == merged_ref) | (Incident.external_ref == merged_ref))
        .order_by((Incident.id == merged_ref).desc())
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()
    if other is None:
        raise invalid(loc, f"Unknown incident {merged_ref!r}.", "unknown_reference")
    if other.merged_into == survivor.id:
        return survivor
    if other.merged_into is not None:
        raise Merged(f"The incident {merged_ref!r} was already merged into {other.merged_into!r}.", other.merged_into)
    if other.id == survivor.id:
        raise invalid(loc, "An incident cannot be merged with itself.", "self_reference")
    if other.retracted_at is not None:
        raise invalid(loc, f"The incident {merged_ref!r} is retracted: restore it first.", "retracted_reference")
    if survivor.status == RecordStatus.draft and other.status == RecordStatus.published:
        raise Conflict(
            "A published incident cannot be merged into a draft: readers would lose it. Publish the draft "
            "first, or merge the draft into the published incident."
        )
    absorb(session, survivor, other)
    return survivor


def union(*lists: Iterable[Any]) -> list[Any]:
    """The items of ``lists``, each once, in the order first met."""
    return list(dict.fromkeys(item for items in lists for item in items))


def cited_once(*lists: Iterable[tuple[str, dict[str, Any] | None]]) -> dict[str, dict[str, Any] | None]:
    """Citations, ``(source id, provenance)``, of ``lists``: each source once, in the order
    first met, with the first provenance kept for it (a citation holds one)."""
    kept: dict[str, dict[str, Any] | None] = {}
    for source_id, provenance in (pair for pairs in lists for pair in pairs):
        if kept.get(source_id) is None:
            kept[source_id] = provenance
    return kept


def absorb(session: Session, survivor: Incident, merged: Incident) -> None:
    """Merge the live incident ``merged`` into the live incident ``survivor`` (see the
    module's description). Both get a new version."""
    links = service.links_of(session, [survivor.id, merged.id])
    own, other = links.get(survivor.id, ([], [], [])), links.get(merged.id, ([], [], []))
    pairs = union(((a, role) for a, role, _ in own[0]), ((a, role) for a, role, _ in other[0]))
    # initiators first, as an incident's write orders them: a line written again over the
    # survivor then finds its links as they are, in the same positions
    parties = sorted(pairs, key=lambda pair: pair[1] != "initiator")
    actors.set_involvements(session, service.RESOURCE, survivor.id, parties, survivor.occurred_on)
    answered = [a for a in union(own[1], other[1]) if a not in (survivor.id, merged.id)]
    replace_links(session, Reply, {"incident_id": survivor.id}, [{"responds_to_id": a} for a in answered])
    citations = cited_once(own[2], other[2])
    sources.set_citations(session, service.RESOURCE, survivor.id, list(citations), list(citations.values()))
    tags = union(survivor.tags, merged.tags)
    if tags != survivor.tags:
        survivor.tags = tags
    session.flush()
    # The answers to the merged incident answer the survivor (an answer to both, once).
    replying = session.execute(select(Reply.incident_id).where(Reply.responds_to_id == merged.id)).scalars().all()
    both = set(
        session.execute(
            select(Reply.incident_id).where(Reply.responds_to_id == survivor.id, Reply.incident_id.in_(replying))
        ).scalars()
    )
    gone = Reply.responds_to_id == merged.id
    session.execute(delete(Reply).where(gone, Reply.incident_id.in_(both | {survivor.id})))
    session.execute(update(Reply).where(gone).values(responds_to_id=survivor.id))
    for incident_id in replying:
        if incident_id != survivor.id:
            mark_changed(session, session.get_one(Incident, incident_id))
    # Channel status changes it caused were caused by the survivor (each channel a new version).
    caused = session.execute(select(StatusChange.channel_id).where(StatusChange.caused_by_id == merged.id)).scalars()
    for channel_id in sorted(set(caused)):
        mark_changed(session, session.get_one(Channel, channel_id))
    session.execute(update(StatusChange).where(StatusChange.caused_by_id == merged.id).values(caused_by_id=survivor.id))
    # Earlier tombstones of the merged incident name the survivor: one redirect, never two.
    session.execute(update(Incident).where(Incident.merged_into == merged.id).values(merged_into=survivor.id))
    merged.merged_into = survivor.id
    merged.retracted_at = utcnow()
    merged.status = RecordStatus.retracted
    mark_changed(session, merged, merged=True)
    mark_changed(session, survivor, merged=True)
    session.flush()


def onto_survivors(
    session: Session, lines: Sequence[tuple[Incident, IncidentCreate]]
) -> list[tuple[Incident, IncidentCreate] | Problem]:
    """Where each import line written over a stored incident goes, and what it writes, so
    that re-importing merged reports changes nothing and loses nothing (or the problem of the
    line's references). A line over a merged-away incident goes to its survivor: the survivor
    keeps its fields and gains the line's links and tags (none, when it has them already). A
    line over an incident that others were merged into keeps what the merges brought: the
    line's links and tags come first, then those stored. Any other line is written as it is.
    One statement finds the incidents others were merged into, however many lines."""
    ids = [row.id for row, _ in lines if row.merged_into is None]
    merged = select(Incident.merged_into).where(Incident.merged_into.in_(ids)).distinct()
    survivors = set(session.execute(merged).scalars()) if ids else set()
    out: list[tuple[Incident, IncidentCreate] | Problem] = []
    for row, data in lines:
        try:
            if row.merged_into is not None:
                survivor = session.get_one(Incident, row.merged_into)
                out.append((survivor, _joined(session, survivor, service.as_input(session, survivor), data, False)))
            elif row.id in survivors:
                # only the fields the line gave: a status it did not give must not restore a retracted survivor
                out.append((row, _joined(session, row, data.model_dump(exclude_unset=True), data, first=True)))
            else:
                out.append((row, data))
        except Problem as problem:
            out.append(problem)
    return out


def _joined(
    session: Session, row: Incident, fields: dict[str, Any], line: IncidentCreate, first: bool
) -> IncidentCreate:
    """``fields`` (an incident's input) with the links and tags of ``line`` and those
    stored for ``row`` joined: the line's first when ``first``, else the stored ones."""
    stored = service.as_input(session, row)
    given = {
        "initiators": actors.resolve(session, line.initiators, ["body", "initiators"]),
        "targets": actors.resolve(session, line.targets, ["body", "targets"]),
        "responds_to": service.resolve(session, line.responds_to, ["body", "responds_to"], stored["responds_to"]),
        "tags": line.tags,
    }
    joined = {key: union(*((given[key], stored[key]) if first else (stored[key], given[key]))) for key in given}
    refs = cited(line.sources)
    ids = sources.resolve(session, [ref for ref, _ in refs], ["body", "sources"])
    lines = [(i, provenance) for i, (_, provenance) in zip(ids, refs, strict=True)]
    kept = [(s, None) if isinstance(s, str) else (s["source"], s["provenance"]) for s in stored["sources"]]
    citations = cited_once(*((lines, kept) if first else (kept, lines)))
    joined["sources"] = citation_snapshot(list(citations), list(citations.values()))
    joined["responds_to"] = [a for a in joined["responds_to"] if a != row.id]
    return IncidentCreate.model_validate(fields | joined)


# -- reports of one event, on import -------------------------------------------------------


@dataclass
class Report:
    """An incident as the matching of reports sees it."""

    id: str
    kind: str
    status: str
    first: date
    last: date
    initiators: frozenset[str]
    targets: frozenset[str]
    sources: set[str]
    sets: set[str]
    order: tuple[int, Any, str]
    sides: tuple[str, frozenset[str], frozenset[str]] = field(init=False)
    """What two reports of one event share: the kind, the initiators and the targets."""

    def __post_init__(self) -> None:
        self.sides = self.kind, self.initiators, self.targets

    def same_event(self, other: "Report") -> bool:
        """Whether ``other`` reports the event this reports (docs/event-data.md, "One event,
        many reports"): the same kind (not ``other``), initiators and targets (an actor's
        bodies and people counting as the actor they belong to), and either a
        source in common and dates within their precision (the same day, for two dates of a
        day), or both rows of one report data set and dates within their precision and a day."""
        if self.sides != other.sides or self.kind == IncidentKind.other:
            return False
        apart = max(self.first, other.first) - min(self.last, other.last)
        return bool(self.sources & other.sources) and apart <= NONE or bool(self.sets & other.sets) and apart <= MARGIN


def merge_reports(session: Session, ids: Sequence[str]) -> int:
    """Merge each incident of ``ids`` (new ones, in the order they were created) into the
    earliest live incident that reports the same event, stored before or earlier in ``ids``;
    answers how many were merged away. A new incident with no source and no report data set
    can match nothing: the rest are looked for near their dates (a few statements for each
    :func:`look <_looks>`), then a few statements for each merge."""
    if not ids:
        return 0
    # only these can match, or be matched by, another: the rest are not read
    reporting = select(*REPORTED).where(
        Incident.id.in_(ids),
        Incident.kind != IncidentKind.other,
        or_(_cited(), JSONHasAny(Incident.tags, sorted(REPORT_SETS))),
    )
    new = _reports(session, reporting, {i: n for n, i in enumerate(ids)})
    matchable = sorted((r for r in new.values() if r.initiators and (r.sources or r.sets)), key=lambda r: r.first)
    stored: dict[str, Report] = {}
    for look in _looks(matchable):
        stored |= _reports(session, _nearby(look), {}, read=new)
    # only reports of one kind between the same sides can match: matched within those groups
    groups: dict[tuple[str, frozenset[str], frozenset[str]], list[Report]] = {}
    for report in sorted([*stored.values(), *new.values()], key=lambda r: r.order):
        groups.setdefault(report.sides, []).append(report)
    merged = 0
    gone: set[str] = set()
    for report in sorted(matchable, key=lambda r: r.order):
        match = next(
            (
                c
                for c in groups[report.sides]
                if c.order < report.order
                and c.id not in gone
                and not (c.status == RecordStatus.draft and report.status == RecordStatus.published)
                and c.same_event(report)
            ),
            None,
        )
        if match is None:
            continue
        absorb(session, session.get_one(Incident, match.id), session.get_one(Incident, report.id))
        match.sources |= report.sources
        match.sets |= report.sets
        gone.add(report.id)
        merged += 1
    return merged


SPELL = timedelta(days=31)
"""The widest span of dates of new reports whose stored matches one condition on dates looks
for: a report is looked for near its own date, not near every date of its batch."""
WIDEST = timedelta(days=366)
"""A date of a month or a year lies anywhere in its span: looked for that much further."""
LOOK_SPELLS = 100
LOOK_SOURCES = 10_000
"""The most spells, and sources, one statement looks for the matches of: each spell adds its
dates to the statement, each source one parameter."""


def _looks(reports: list[Report]) -> Iterable[list[list[Report]]]:
    """``reports`` (sorted by their first day) in spells that span at most :data:`SPELL`,
    and the spells in looks, one statement each: spells whose searches of stored dates (a
    year either side) overlap share one, so that no stored date is read twice; those far
    apart (reports scattered over decades) have their own."""
    spells: list[list[Report]] = []
    for report in reports:
        if spells and report.last - spells[-1][0].first <= SPELL:
            spells[-1].append(report)
        else:
            spells.append([report])
    look: list[list[Report]] = []
    sources: set[str] = set()
    reach = date.min  # the last day of the look's reports
    for spell in spells:
        cited = set().union(*(r.sources for r in spell))
        apart = spell[0].first - reach > 2 * WIDEST
        if look and (apart or len(look) == LOOK_SPELLS or len(sources | cited) > LOOK_SOURCES):
            yield look
            look, sources, reach = [], set(), date.min
        look.append(spell)
        sources |= cited
        reach = max(reach, *(r.last for r in spell))
    if look:
        yield look


def _nearby(look: list[list[Report]]) -> Any:
    """The live incidents that may report the event of one of the reports of ``look``: of one
    of their kinds, initiated by (an actor affiliated to) one of their first initiators, dated
    near one of its spells (by the incident's precision), citing one of their sources or from
    one of their report data sets."""
    reports = [r for spell in look for r in spell]
    dated = []
    for spell in look:
        low = _shifted(min(r.first for r in spell), -MARGIN)
        high = _shifted(max(r.last for r in spell), MARGIN)
        dated.append(
            or_(
                and_(Incident.date_precision == DatePrecision.day, Incident.occurred_on.between(low, high)),
                and_(
                    Incident.date_precision == DatePrecision.month,
                    Incident.occurred_on.between(_shifted(low, -SPAN), _shifted(high, SPAN)),
                ),
                and_(
                    Incident.date_precision.not_in([DatePrecision.day, DatePrecision.month]),
                    Incident.occurred_on.between(_shifted(low, -WIDEST), _shifted(high, WIDEST)),
                ),
            )
        )
    shared = []
    if source_ids := sorted(set().union(*(r.sources for r in reports))):
        shared.append(_cited(source_ids))
    if sets := sorted(set().union(*(r.sets for r in reports))):
        shared.append(JSONHasAny(Incident.tags, sets))
    first, last = min(r.first for r in reports), max(r.last for r in reports)
    return select(*REPORTED).where(
        Incident.id.in_(
            select(Involvement.record_id).where(
                Involvement.resource == service.RESOURCE,
                Involvement.role == "initiator",
                Involvement.actor_id.in_(
                    actors.ids_named(sorted({min(r.initiators) for r in reports}), affiliated=True)
                ),
                Involvement.occurred_on.between(_shifted(first, -MARGIN - WIDEST), _shifted(last, MARGIN + WIDEST)),
            )
        ),
        Incident.kind.in_({r.kind for r in reports}),
        Incident.retracted_at.is_(None),
        or_(*dated),
        or_(*shared),
    )


def _cited(source_ids: list[str] | None = None) -> Any:
    """Whether an incident cites a source (one of ``source_ids``)."""
    citing = select(Citation.record_id).where(Citation.resource == service.RESOURCE, Citation.record_id == Incident.id)
    return (citing if source_ids is None else citing.where(Citation.source_id.in_(source_ids))).exists()


def _shifted(day: date, by: timedelta) -> date:
    """``day`` moved by ``by``, held within the calendar (years 1 to 9999)."""
    try:
        return day + by
    except OverflowError:
        return date.min if by < NONE else date.max


REPORTED = (
    Incident.id,
    Incident.kind,
    Incident.status,
    Incident.occurred_on,
    Incident.date_precision,
    Incident.tags,
    Incident.created_at,
)
"""The columns of an incident the matching of reports reads."""


def _reports(
    session: Session, stmt: Any, order: dict[str, int], read: Container[str] = frozenset()
) -> dict[str, Report]:
    """The live incidents ``stmt`` selects (:data:`REPORTED`), as reports, but those ``read``
    already (a look for stored incidents near new ones finds the new ones too: their links
    are not read twice); those in ``order`` (new ones) come after every stored one, in that
    order."""
    rows = {row.id: row for row in session.execute(stmt) if row.id not in read}
    links = service.links_of(session, list(rows))
    sides = actors.belonging(session, {a for parties, _, _ in links.values() for a, _, _ in parties})
    out = {}
    for incident_id, row in rows.items():
        parties, _, citations = links.get(incident_id, ([], [], []))
        first, last = span_start(row.occurred_on, row.date_precision), span_end(row.occurred_on, row.date_precision)
        out[incident_id] = Report(
            id=incident_id,
            kind=row.kind,
            status=row.status,
            first=first,
            last=last,
            initiators=frozenset(sides[a] for a, role, _ in parties if role == "initiator"),
            targets=frozenset(sides[a] for a, role, _ in parties if role == "target"),
            sources={source_id for source_id, _ in citations},
            sets=set(row.tags or ()) & REPORT_SETS,
            order=(1, order[incident_id], incident_id) if incident_id in order else (0, row.created_at, incident_id),
        )
    return out
