"""PLOVER out: incidents as PLOVER/POLECAT event records (``format=plover``).

The inverse of the ``plover`` converter (:mod:`app.ingest.converters`): a file this writes,
imported with ``from=plover``, gives back incidents of the same kinds, dates, actors and
sources. One JSON record a line (JSON lines, as the PLOVER manual advises), each shaped as the
manual's records are:

- ``id``: the PLOVER id the incident was imported with (``external_ref`` ``plover:X`` → ``X``),
  else the incident's own id;
- ``date``: ``occurred_on``;
- ``event``, ``mode``, ``context``: the kind's PLOVER event, mode (``null`` where the
  CAMEO2PLOVER table gives none) and context (a list, as PLOVER contexts are several), from
  the crosswalk (:data:`app.vocab.INCIDENT_CODES`);
- ``actor``, ``recipient``: the initiators and the targets as PLOVER entities, ``code`` the
  actor's ISO 3166 alpha-3 ``country_code`` (``null`` for organisations and persons without
  one) and ``entity_text`` its name;
- ``text``: the summary;
- ``event_loc``: ``resolved_place`` the location, ``lat``/``lon`` the coordinates;
- ``cite_info``: the first source (``url``, ``title``, ``publication`` its publisher);
- ``demarche``: what PLOVER has no field for, so that the record reads back whole: the
  incident's ``id``, ``kind`` (PLOVER codes are coarser: nine kinds share ``SANCTION``/
  ``withdraw``), ``title``, ``date_precision``, ``external_ref`` and its further ``sources``.
  PLOVER tools ignore it; the converter reads ``kind``, ``title``, ``date_precision`` and
  ``sources`` back.

Incidents of a kind without a PLOVER event (``other``) are not written: the list's answer
counts them in its ``Demarche-Plover-Skipped`` header.
"""

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import select
from sqlmodel import Session

from app.actors.models import Actor
from app.kit.export import RecordFile
from app.sources.models import Source
from app.vocab import INCIDENT_CODES, IncidentKind

MEDIA_TYPE = "application/x-ndjson"
SKIPPED_HEADER = "Demarche-Plover-Skipped"
UNWRITTEN_KINDS = tuple(kind for kind, codes in INCIDENT_CODES.items() if codes.plover is None)
"""The kinds without a PLOVER event: their incidents are not written."""
ID_PREFIX = "plover:"
"""The ``external_ref`` prefix of incidents imported from PLOVER records (their id follows)."""


def _entity(actor: dict[str, Any], country_codes: dict[str, str | None]) -> dict[str, Any]:
    return {"code": country_codes.get(actor["id"]), "entity_text": actor["name"]}


def _citation(source: dict[str, Any], publishers: dict[str, str | None]) -> dict[str, Any]:
    return {"url": source["url"], "title": source["title"], "publication": publishers.get(source["id"])}


def record(incident: dict[str, Any], country_codes: dict[str, str | None], publishers: dict[str, str | None]) -> dict:
    """``incident`` (as the API answers it) as a PLOVER record; ``country_codes`` and
    ``publishers`` hold its actors' and sources' (by id)."""
    codes = INCIDENT_CODES[IncidentKind(incident["kind"])]
    ref = incident.get("external_ref") or ""
    sources = [_citation(s, publishers) for s in incident["sources"]]
    out: dict[str, Any] = {
        "id": ref.removeprefix(ID_PREFIX) if ref.startswith(ID_PREFIX) else incident["id"],
        "date": incident["occurred_on"],
        "event": codes.plover,
        "mode": codes.plover_mode,
        "context": [codes.plover_context] if codes.plover_context else [],
        "actor": [_entity(a, country_codes) for a in incident["initiators"]],
        "recipient": [_entity(a, country_codes) for a in incident["targets"]],
        "text": incident.get("summary"),
    }
    lat, lon, place = incident.get("latitude"), incident.get("longitude"), incident.get("location")
    if place or lat is not None or lon is not None:
        out["event_loc"] = {"resolved_place": place, "lat": lat, "lon": lon}
    if sources:
        out["cite_info"] = sources[0]
    out["demarche"] = {
        "id": incident["id"],
        "kind": incident["kind"],
        "title": incident["title"],
        "date_precision": incident["date_precision"],
        "external_ref": incident.get("external_ref"),
        "sources": sources[1:],
    }
    return out


def _column(session: Session, column: Any, id_column: Any, ids: Iterable[str]) -> dict[str, Any]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    return dict(session.execute(select(id_column, column).where(id_column.in_(ids))).all())


def write(session: Session, incidents: list[dict[str, Any]]) -> bytes:
    """A chunk of incidents as PLOVER records, one a line; those of a kind without a PLOVER
    event are left out."""
    kept = [i for i in incidents if i["kind"] not in UNWRITTEN_KINDS]
    actor_ids = (a["id"] for i in kept for a in (*i["initiators"], *i["targets"]))
    country_codes = _column(session, Actor.country_code, Actor.id, actor_ids)
    publishers = _column(session, Source.publisher, Source.id, (s["id"] for i in kept for s in i["sources"]))
    return b"".join(orjson.dumps(record(i, country_codes, publishers)) + b"\n" for i in kept)


FILE = RecordFile(MEDIA_TYPE, "plover.jsonl", write)
"""``format=plover``: the file of PLOVER records."""
