from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session

from app.access.visibility import listable
from app.actors import service as actors
from app.exercises.models import Exercise, ExerciseCreate, ExerciseFilters
from app.kit import etags, search, sqljson, states, writes
from app.kit.etags import Precondition
from app.kit.references import ensure_unique, get_live
from app.kit.schemas import validate_merged
from app.kit.sql import JSONHasAny
from app.kit.sqljson import Columns, RecordSQL
from app.kit.states import retract, state_values
from app.kit.writes import settle, write_fields
from app.sources import service as sources
from app.vocab import RecordStatus

RESOURCE = "exercise"
PUBLIC_COLUMNS = [c for c in Exercise.__table__.c if c.key not in {"retracted_at", "record_json"}]
LIST_COLUMNS = [*PUBLIC_COLUMNS, Exercise.__table__.c.record_json]
LINKS = {"participants", "sources"}
END = func.coalesce(Exercise.end_date, Exercise.start_date)


def get(session: Session, exercise_id: str, for_update: bool = False) -> Exercise:
    return get_live(session, Exercise, exercise_id, for_update=for_update)


def replace(session: Session, exercise: Exercise, data: ExerciseCreate) -> bool:
    """Write ``data`` over ``exercise`` (new or stored); a stored one's version grows only
    when something differs."""
    ensure_unique(session, Exercise, "external_ref", data.external_ref, exercise.id)
    ids = actors.resolve(session, [p.actor for p in data.participants], ["body", "participants"])
    cited = sources.resolve(session, data.sources, ["body", "sources"])
    values = data.model_dump(exclude=LINKS)
    values["domains"] = [d.value for d in data.domains]
    # the status names the state: writing one other than retracted over a retracted exercise
    # restores it (an import asks for that explicitly; see app.ingest.upsert.write_over)
    restored = exercise.retracted_at is not None and data.status != RecordStatus.retracted
    values |= state_values(exercise, data.status)
    changed, is_new = write_fields(session, exercise, values)
    links = [(actor_id, p.role.value) for actor_id, p in zip(ids, data.participants, strict=True)]
    changed |= actors.set_involvements(session, RESOURCE, exercise.id, links, exercise.start_date)
    changed |= sources.set_citations(session, RESOURCE, exercise.id, cited)
    return settle(session, exercise, is_new, changed, restored)


def create(session: Session, data: ExerciseCreate) -> Exercise:
    exercise = Exercise(name=data.name, start_date=data.start_date)
    replace(session, exercise, data)
    return exercise


def links(session: Session, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each exercise's links as its input names them (by id): what its snapshots hold beside
    its fields, and :func:`as_input`."""
    parties = actors.involved_ids(session, RESOURCE, ids)
    cited = sources.cited_ids(session, RESOURCE, ids)
    return {
        i: {
            "participants": [{"actor": a, "role": role} for role, a in parties.get(i, [])],
            "sources": cited.get(i, []),
        }
        for i in ids
    }


def as_input(session: Session, exercise: Exercise) -> dict[str, Any]:
    """The stored exercise as the input that would write it: its fields and its links by id."""
    return writes.as_input(exercise, ExerciseCreate, links(session, [exercise.id])[exercise.id])


def update(
    session: Session, exercise_id: str, patch: dict[str, Any], precondition: Precondition | None = None
) -> Exercise:
    exercise = get(session, exercise_id, for_update=True)
    etags.check(precondition, exercise.version)
    replace(session, exercise, validate_merged(ExerciseCreate, as_input(session, exercise), patch))
    return exercise


def delete(session: Session, exercise_id: str, precondition: Precondition | None = None) -> None:
    exercise = get(session, exercise_id, for_update=True)
    etags.check(precondition, exercise.version)
    retract(session, exercise)
    session.flush()


def restore(session: Session, ref: str, precondition: Precondition | None = None) -> Exercise:
    """Make the retracted exercise ``ref`` live again (published); 409 when it is not retracted."""
    return states.restore(session, Exercise, ref, precondition)


def active_on(day: date) -> Any:
    return (Exercise.start_date <= day) & (END >= day)


def query(filters: ExerciseFilters, listing: Any = None, unpublished: bool = False) -> Any:
    """The exercises matching ``filters`` that the caller may list: published ones, or with
    ``unpublished`` drafts and asked-for retracted ones too."""
    stmt = select(*LIST_COLUMNS).where(*listable(Exercise, filters.status, unpublished))
    if filters.actor:
        stmt = stmt.where(Exercise.id.in_(actors.involved(RESOURCE, filters.actor, None, filters.include_affiliated)))
    if filters.domain:
        stmt = stmt.where(JSONHasAny(Exercise.domains, [d.value for d in filters.domain]))
    if filters.region:
        stmt = stmt.where(Exercise.region.in_(filters.region))
    if filters.status:
        stmt = stmt.where(Exercise.status.in_(filters.status))
    if filters.active_on:
        stmt = stmt.where(active_on(filters.active_on))
    if filters.from_:
        stmt = stmt.where(END >= filters.from_)
    if filters.to:
        stmt = stmt.where(
            *(listing.range(Exercise.start_date, None, filters.to) if listing else [Exercise.start_date <= filters.to])
        )
    if filters.q:
        stmt = search.search(stmt, "exercises", filters.q, listing)
    return stmt


def hydrate(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The answers for ``rows`` (any rows with an ``id``), in order: kept, or built in one
    query (dyads and timelines hydrate a few of them among other records)."""
    return [orjson.loads(text) for text in sqljson.kept_texts(session, Exercise.__table__, record, rows)]


def record(sql: RecordSQL, row: Columns) -> ColumnElement[str]:
    """An exercise's answer as JSON text: the one it keeps, or where that is stale, built."""
    return sqljson.kept(row, answer(sql, row))


def answer(sql: RecordSQL, row: Columns) -> ColumnElement[str]:
    """An exercise's answer as JSON text, built from its row and its links."""
    return sql.object(
        [
            *((c.key, sql.value(row[c.key])) for c in PUBLIC_COLUMNS),
            ("participants", actors.involvements_json(sql, RESOURCE, row["id"], participant=True)),
            ("sources", sources.cited_json(sql, RESOURCE, row["id"])),
        ]
    )


def public(session: Session, exercise: Exercise) -> dict[str, Any]:
    """The answer for one exercise, whatever its state."""
    session.flush()
    return hydrate(session, [{"id": exercise.id}])[0]


def read_text(session: Session, ref: str, unpublished: bool) -> tuple[bytes, int]:
    """The answer for the exercise ``ref`` as JSON text, and its version, if the caller may
    read it (a draft or a retracted one only with ``unpublished``), else 404."""
    return sqljson.read_text(
        session, Exercise.__table__, record, ref, "exercise", published=not unpublished, retracted=unpublished
    )
