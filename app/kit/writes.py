"""One record written over: its stored form as an input, a JSON merge patch applied to it, its
fields set, and the write closed with a new version noted for the change feed."""

from collections.abc import Mapping
from typing import Any, NamedTuple

from sqlmodel import Session, SQLModel

from app.kit.pending import mark_changed, note_change
from app.kit.problems import Problem
from app.kit.records import RecordColumns


def as_input(row: SQLModel, model: type[SQLModel], links: Mapping[str, Any]) -> dict[str, Any]:
    """A stored record as the input of ``model`` that would write it: its own fields, and
    its ``links`` as its input names them (by id); what the input does not take is left out."""
    fields = model.model_fields
    return row.model_dump(include=set(fields), warnings=False) | {k: v for k, v in links.items() if k in fields}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def write_fields(session: Session, row: RecordColumns, values: dict[str, Any]) -> tuple[bool, bool]:
    """Set the fields of ``row`` (new or stored) that differ from ``values`` and flush it.
    Answers ``(changed, is_new)``."""
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    for key, value in changed.items():
        setattr(row, key, value)
    is_new = row not in session
    session.add(row)
    session.flush()
    return bool(changed), is_new


def settle(session: Session, row: RecordColumns, is_new: bool, changed: bool, restored: bool = False) -> bool:
    """Close a write: a stored record that changed gets a new version (``restored``: it was
    retracted and is live again); either is noted for the change feed."""
    if is_new:
        note_change(session, row, created=True)
    elif changed:
        mark_changed(session, row, restored=restored)
    session.flush()
    return changed


class Written(NamedTuple):
    """What a write of many records (``(stored row or None, data)`` each) did with one: the
    record's id, and whether anything was written (a new record always is; a stored one only
    when something differs)."""

    id: str
    changed: bool


def written(outcome: Written | Problem) -> Written:
    """The outcome of a write of one item, or its problem raised."""
    if isinstance(outcome, Problem):
        raise outcome
    return outcome
