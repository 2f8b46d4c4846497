"""The demo data set: the NATO-Russia crisis of October 2021, from the founding case."""

import json
from importlib.resources import files

from sqlalchemy import exists, or_, select
from sqlmodel import Session

from app.ingest.upsert import upsert
from app.records import COLLECTIONS


def holds_records(session: Session) -> bool:
    """Whether the database holds any record of any type (retracted ones included)."""
    return bool(session.execute(select(or_(*(exists(collection.table.id) for collection in COLLECTIONS)))).scalar())


def load_demo(session: Session) -> dict[str, dict[str, int]]:
    """Upsert every demo record; a second run changes nothing. Answers the counts."""
    counts: dict[str, dict[str, int]] = {}
    text = files("app.seed").joinpath("demo.ndjson").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip():
            type_, outcome = upsert(session, json.loads(line))
            counts.setdefault(outcome, {}).setdefault(type_, 0)
            counts[outcome][type_] += 1
    return counts
