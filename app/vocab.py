"""Controlled vocabularies: the values accepted on input and served by ``/v1/vocabularies``.

Incident kinds carry their CAMEO (GDELT) code and PLOVER (POLECAT) category so that records
can be joined with those data sets.
"""

from enum import StrEnum
from typing import Any

import pycountry
from fastapi import APIRouter

from app.access.deps import ReadScope
from app.kit.problems import responses
from app.kit.responses import JSONResponse

COUNTRY_EXCEPTIONS = {"XKX": "Kosovo"}
"""Codes outside ISO 3166 taken as country codes: Kosovo has no ISO code, and ``XKX`` (from
the range ISO leaves to its users) is the one the European Commission, the IMF and the
World Bank use."""
COUNTRY_CODES = frozenset(
    {c.alpha_3 for c in pycountry.countries} | {c.alpha_3 for c in pycountry.historic_countries} | {*COUNTRY_EXCEPTIONS}
)
"""The country codes accepted: ISO 3166-1 alpha-3 as maintained by the ``pycountry`` package
(current countries), the alpha-3 codes that ISO 3166-3 records as withdrawn (``SUN``,
``YUG``, ``DDR``, ``CSK``: the record reaches back before they were), and
``COUNTRY_EXCEPTIONS``. Organisations (NATO, the EU) have none: their ``country_code`` is
null."""


def check_country_code(code: str) -> str:
    """``code`` (upper case) if it is one of ``COUNTRY_CODES``, else a ValueError naming it."""
    if code.upper() not in COUNTRY_CODES:
        raise ValueError(
            f"{code!r} is not an ISO 3166-1 alpha-3 country code (nor a withdrawn ISO 3166-3 one, nor XKX for Kosovo)."
        )
    return code


class IncidentKind(StrEnum):
    expulsion = "expulsion"
    accreditation_withdrawal = "accreditation_withdrawal"
    staff_cap = "staff_cap"
    mission_suspension = "mission_suspension"
    mission_closure = "mission_closure"
    office_closure = "office_closure"
    liaison_suspension = "liaison_suspension"
    ambassador_recall = "ambassador_recall"
    ambassador_summons = "ambassador_summons"
    dialogue_suspension = "dialogue_suspension"
    sanctions = "sanctions"
    other = "other"


class ActorKind(StrEnum):
    state = "state"
    organization = "organization"
    person = "person"
    body = "body"


class ChannelKind(StrEnum):
    council = "council"
    permanent_mission = "permanent_mission"
    liaison_mission = "liaison_mission"
    information_office = "information_office"
    hotline = "hotline"
    military_contacts = "military_contacts"
    high_level_dialogue = "high_level_dialogue"
    embassy = "embassy"
    other = "other"


class ChannelStatus(StrEnum):
    active = "active"
    restricted = "restricted"
    suspended = "suspended"
    closed = "closed"


class ChannelLevel(StrEnum):
    political = "political"
    diplomatic = "diplomatic"
    military = "military"


class ExerciseDomain(StrEnum):
    land = "land"
    sea = "sea"
    air = "air"
    space = "space"
    cyber = "cyber"
    nuclear = "nuclear"


class ParticipantRole(StrEnum):
    lead = "lead"
    participant = "participant"
    host = "host"
    observer = "observer"


class DatePrecision(StrEnum):
    day = "day"
    month = "month"
    year = "year"


class RecordStatus(StrEnum):
    draft = "draft"
    published = "published"
    retracted = "retracted"


class SourceKind(StrEnum):
    news = "news"
    official = "official"
    analysis = "analysis"
    dataset = "dataset"
    other = "other"


_REDUCE = ("161", "Reduce or break diplomatic relations", "SANCTION", "discontinue")
INCIDENT_CODES: dict[IncidentKind, tuple[str | None, str | None, str | None, str | None]] = {
    IncidentKind.expulsion: ("166", "Expel or withdraw", "SANCTION", "expel"),
    IncidentKind.accreditation_withdrawal: ("166", "Expel or withdraw", "SANCTION", "expel"),
    IncidentKind.staff_cap: _REDUCE,
    IncidentKind.mission_suspension: _REDUCE,
    IncidentKind.mission_closure: _REDUCE,
    IncidentKind.office_closure: _REDUCE,
    IncidentKind.liaison_suspension: _REDUCE,
    IncidentKind.ambassador_recall: ("161", "Reduce or break diplomatic relations", "SANCTION", "withdraw"),
    IncidentKind.ambassador_summons: (None, None, None, None),
    IncidentKind.dialogue_suspension: ("164", "Halt negotiations", "SANCTION", "withdraw"),
    IncidentKind.sanctions: ("163", "Impose embargo, boycott, or sanctions", "SANCTION", None),
    IncidentKind.other: (None, None, None, None),
}

LABELS: dict[str, str] = {
    "accreditation_withdrawal": "Accreditation withdrawal",
    "staff_cap": "Staff cap",
    "ambassador_recall": "Ambassador recall",
    "ambassador_summons": "Ambassador summons",
    "dialogue_suspension": "Dialogue suspension",
    "mission_suspension": "Mission suspension",
    "mission_closure": "Mission closure",
    "office_closure": "Office closure",
    "liaison_suspension": "Liaison suspension",
    "permanent_mission": "Permanent mission",
    "liaison_mission": "Liaison mission",
    "information_office": "Information office",
    "military_contacts": "Military-to-military contacts",
    "high_level_dialogue": "High-level dialogue",
    "body": "Government body, armed force or agency",
}


def label(value: str) -> str:
    return LABELS.get(value, value.replace("_", " ").capitalize())


def _entries(enum: type[StrEnum]) -> list[dict[str, Any]]:
    return [{"value": m.value, "label": label(m.value)} for m in enum]


def vocabularies() -> dict[str, list[dict[str, Any]]]:
    incident_kinds = []
    for kind in IncidentKind:
        cameo, cameo_label, plover, plover_mode = INCIDENT_CODES[kind]
        incident_kinds.append(
            {
                "value": kind.value,
                "label": label(kind.value),
                "cameo": cameo,
                "cameo_label": cameo_label,
                "plover": plover,
                "plover_mode": plover_mode,
            }
        )
    return {
        "incident_kind": incident_kinds,
        "actor_kind": _entries(ActorKind),
        "channel_kind": _entries(ChannelKind),
        "channel_status": _entries(ChannelStatus),
        "channel_level": _entries(ChannelLevel),
        "exercise_domain": _entries(ExerciseDomain),
        "participant_role": _entries(ParticipantRole),
        "date_precision": _entries(DatePrecision),
        "record_status": _entries(RecordStatus),
        "source_kind": _entries(SourceKind),
    }


router = APIRouter(prefix="/v1", tags=["vocabularies"])
_VOCABULARIES = vocabularies()


@router.get("/vocabularies", name="list", summary="Every controlled value", responses=responses(401, 429))
def list_vocabularies(caller: ReadScope) -> JSONResponse:
    """Every controlled value with a label; incident kinds also carry their CAMEO code and
    PLOVER category (`null` where the kind has no counterpart)."""
    return JSONResponse(_VOCABULARIES)
