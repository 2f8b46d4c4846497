"""Controlled vocabularies: the values accepted on input and served by ``/v1/vocabularies``.

Incident kinds carry their CAMEO (GDELT) code and PLOVER (POLECAT) category so that records
can be joined with those data sets.
"""

from datetime import date, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

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
    relations_severed = "relations_severed"
    relations_downgraded = "relations_downgraded"
    relations_restored = "relations_restored"
    visit_cancelled = "visit_cancelled"
    relations_threatened = "relations_threatened"
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
    week = "week"
    month = "month"
    year = "year"


def span_start(day: date, precision: str) -> date:
    """The first day of the period of ``precision`` that holds ``day`` (a week is ISO's,
    Monday to Sunday)."""
    if precision == DatePrecision.week:
        return day - timedelta(days=day.weekday())
    if precision == DatePrecision.month:
        return day.replace(day=1)
    if precision == DatePrecision.year:
        return day.replace(month=1, day=1)
    return day


def span_end(day: date, precision: str) -> date:
    """The last day of the period of ``precision`` that holds ``day``."""
    if precision == DatePrecision.week:
        return day + timedelta(days=6 - day.weekday())
    if precision == DatePrecision.month:
        following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        return following - timedelta(days=1)
    if precision == DatePrecision.year:
        return day.replace(month=12, day=31)
    return day


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


class Codes(NamedTuple):
    """A kind's counterparts in CAMEO and PLOVER (``None`` where it has none)."""

    cameo: str | None
    cameo_label: str | None
    plover: str | None
    plover_mode: str | None
    plover_context: str | None


_161 = Codes("161", "Reduce or break diplomatic relations", "SANCTION", "withdraw", "diplomatic")
_166 = Codes("166", "Expel or withdraw", "SANCTION", "expel", "diplomatic")
_NONE = Codes(None, None, None, None, None)
INCIDENT_CODES: dict[IncidentKind, Codes] = {
    IncidentKind.expulsion: _166,
    IncidentKind.accreditation_withdrawal: _166,
    IncidentKind.staff_cap: _161,
    IncidentKind.mission_suspension: _161,
    IncidentKind.mission_closure: _161,
    IncidentKind.office_closure: _161,
    IncidentKind.liaison_suspension: _161,
    IncidentKind.ambassador_recall: _161,
    IncidentKind.ambassador_summons: Codes("114", "Complain officially", "ACCUSE", "allege", "diplomatic"),
    IncidentKind.dialogue_suspension: Codes("164", "Halt negotiations", "SANCTION", "withdraw", "diplomatic"),
    IncidentKind.sanctions: Codes("163", "Impose embargo, boycott, or sanctions", "COERCE", "restrict", "diplomatic"),
    IncidentKind.relations_severed: _161,
    IncidentKind.relations_downgraded: _161,
    IncidentKind.relations_restored: Codes("054", "Grant diplomatic recognition", "SUPPORT", None, "diplomatic"),
    IncidentKind.visit_cancelled: _161,
    IncidentKind.relations_threatened: Codes(
        "1313", "Threaten to reduce or break relations", "THREATEN", "relations", "diplomatic"
    ),
    IncidentKind.other: _NONE,
}
"""Each kind's CAMEO code and PLOVER event, mode and context, as the PLOVER project's
``CAMEO2PLOVER-2021.txt`` (draft 0.8) maps that CAMEO code. Several kinds share a code
(CAMEO has one code, 161, for every way of reducing or breaking relations): kinds to codes is
many-to-one, and a code read back names the kind of :data:`CAMEO_KINDS`."""

CAMEO_KINDS: dict[str, IncidentKind] = {
    "054": IncidentKind.relations_restored,
    "161": IncidentKind.relations_downgraded,
    "163": IncidentKind.sanctions,
    "164": IncidentKind.dialogue_suspension,
    "165": IncidentKind.dialogue_suspension,
    "166": IncidentKind.expulsion,
    "1313": IncidentKind.relations_threatened,
}
"""The kind a CAMEO event code imports as: each code maps to at most one kind. 161 ("reduce or
break") imports as ``relations_downgraded``, the weaker claim: the code does not tell a
downgrade from a break, a recall, a closure or a cancelled visit. 165 (halt mediation) imports
as ``dialogue_suspension`` with 164. 114 (complain officially) is not imported: a summons is
usually coded 114, but most 114 events are no summons. 054 (grant diplomatic recognition)
covers establishing and restoring relations and imports as ``relations_restored``."""

PLOVER_KINDS: dict[tuple[str, str], IncidentKind] = {
    ("SANCTION", "expel"): IncidentKind.expulsion,
    ("SANCTION", "withdraw"): IncidentKind.relations_downgraded,
    ("COERCE", "restrict"): IncidentKind.sanctions,
    ("THREATEN", "relations"): IncidentKind.relations_threatened,
}
"""The kind a PLOVER record imports as, by (event, mode), when its context is ``diplomatic``
or not given (records of another context are not imported). PLOVER is coarser than CAMEO:
``SANCTION``/``withdraw`` covers CAMEO 161, 164 and 165 and imports as
``relations_downgraded``; ``THREATEN``/``relations`` covers 1313 and also 134, 135 and 139
(threats to halt talks or mediation, ultimatums) and imports as ``relations_threatened``.
``SUPPORT`` (CAMEO 050 to 057) is not imported: it cannot tell a restoration of relations
(054) from praise or an agreement."""

PLOVER_EVENTS = (
    "AGREE",
    "CONSULT",
    "SUPPORT",
    "CONCEDE",
    "COOPERATE",
    "AID",
    "RETREAT",
    "REQUEST",
    "ACCUSE",
    "REJECT",
    "THREATEN",
    "PROTEST",
    "SANCTION",
    "MOBILIZE",
    "COERCE",
    "ASSAULT",
)
"""PLOVER's sixteen event categories (manual draft 0.8)."""


CAMEO_LABELS = {"165": "Halt mediation"}
"""Labels of the imported CAMEO codes that no kind carries as its own."""


def kinds_with_cameo(code: str) -> list[IncidentKind]:
    """The kinds whose CAMEO code is ``code`` or lies under it (``16`` names every
    ``16x`` and ``16xx``)."""
    return [k for k, c in INCIDENT_CODES.items() if c.cameo and c.cameo.startswith(code)]


def kinds_with_plover(event: str) -> list[IncidentKind]:
    return [k for k, c in INCIDENT_CODES.items() if c.plover == event]


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
    "relations_severed": "Diplomatic relations severed",
    "relations_downgraded": "Diplomatic relations downgraded",
    "relations_restored": "Diplomatic relations restored",
    "visit_cancelled": "Visit cancelled",
    "relations_threatened": "Threat to reduce or break relations",
}


def label(value: str) -> str:
    return LABELS.get(value, value.replace("_", " ").capitalize())


def _entries(enum: type[StrEnum]) -> list[dict[str, Any]]:
    return [{"value": m.value, "label": label(m.value)} for m in enum]


def vocabularies() -> dict[str, list[dict[str, Any]]]:
    incident_kinds = [
        {
            "value": kind.value,
            "label": label(kind.value),
            **INCIDENT_CODES[kind]._asdict(),
            "imported_from_cameo": sorted(code for code, k in CAMEO_KINDS.items() if k is kind),
        }
        for kind in IncidentKind
    ]
    crosswalk = [
        {
            "value": code,
            "label": next(c.cameo_label for c in INCIDENT_CODES.values() if c.cameo == code)
            if any(c.cameo == code for c in INCIDENT_CODES.values())
            else CAMEO_LABELS[code],
            "kind": kind.value,
            "kinds": [k.value for k in IncidentKind if INCIDENT_CODES[k].cameo == code],
        }
        for code, kind in sorted(CAMEO_KINDS.items())
    ]
    return {
        "incident_kind": incident_kinds,
        "cameo": crosswalk,
        "plover_event": [{"value": e, "label": e.capitalize()} for e in PLOVER_EVENTS],
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
    """Every controlled value with a label.

    Incident kinds also carry their counterparts in the event-data code systems, as the PLOVER
    project's CAMEO2PLOVER table (draft 0.8, 2021) maps them: `cameo` (the CAMEO event code),
    `cameo_label`, and the PLOVER `plover` event, `plover_mode` and `plover_context` (`null`
    where the kind has none). Kinds to codes is many-to-one: CAMEO has one code, 161, for
    every way of reducing or breaking relations (a downgrade, a break, a recall, a closure, a
    cancelled visit), so nine kinds carry 161 and export as 161.

    The other way, each CAMEO code imports as at most one kind: `imported_from_cameo` lists
    the codes an import (`POST /v1/import?from=gdelt|icews`) turns into the kind, and the
    `cameo` vocabulary is that crosswalk, one entry per imported code with the `kind` it
    imports as and the `kinds` that export as it. 161 imports as `relations_downgraded`, the
    weaker claim; 165 (halt mediation) as `dialogue_suspension`; 114 (complain officially,
    where summonses are usually coded) is not imported, as most 114 events are no summons.
    `plover_event` lists PLOVER's sixteen event categories, the values of the `plover` filter."""
    return JSONResponse(_VOCABULARIES)
