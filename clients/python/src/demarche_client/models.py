"""The API's schemas as dataclasses, generated from openapi/openapi.json by
clients/python/generate.py (``make client``): do not edit by hand.

Every model is a :class:`demarche_client.records.Record`: ``Model.from_dict(data)`` reads one
from JSON, ``record.to_dict()`` writes it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as date_aliased
from datetime import datetime
from typing import Any, Literal, TypeAlias

from demarche_client.records import Record


@dataclass(kw_only=True)
class ActorCodes(Record):
    """
    An actor's codes in the code systems of event data, each unique within its scheme
    (another actor's code is 409). Each names the actor wherever an actor is referred to, as
    `scheme:value` (`iso3:RUS`, `cameo:RUSGOV`, `wikidata:Q159`).
    """

    iso3: (
        Literal[
            "ABW",
            "AFG",
            "AFI",
            "AGO",
            "AIA",
            "ALA",
            "ALB",
            "AND",
            "ANT",
            "ARE",
            "ARG",
            "ARM",
            "ASM",
            "ATA",
            "ATB",
            "ATF",
            "ATG",
            "ATN",
            "AUS",
            "AUT",
            "AZE",
            "BDI",
            "BEL",
            "BEN",
            "BES",
            "BFA",
            "BGD",
            "BGR",
            "BHR",
            "BHS",
            "BIH",
            "BLM",
            "BLR",
            "BLZ",
            "BMU",
            "BOL",
            "BRA",
            "BRB",
            "BRN",
            "BTN",
            "BUR",
            "BVT",
            "BWA",
            "BYS",
            "CAF",
            "CAN",
            "CCK",
            "CHE",
            "CHL",
            "CHN",
            "CIV",
            "CMR",
            "COD",
            "COG",
            "COK",
            "COL",
            "COM",
            "CPV",
            "CRI",
            "CSK",
            "CTE",
            "CUB",
            "CUW",
            "CXR",
            "CYM",
            "CYP",
            "CZE",
            "DDR",
            "DEU",
            "DHY",
            "DJI",
            "DMA",
            "DNK",
            "DOM",
            "DZA",
            "ECU",
            "EGY",
            "ERI",
            "ESH",
            "ESP",
            "EST",
            "ETH",
            "FIN",
            "FJI",
            "FLK",
            "FRA",
            "FRO",
            "FSM",
            "FXX",
            "GAB",
            "GBR",
            "GEL",
            "GEO",
            "GGY",
            "GHA",
            "GIB",
            "GIN",
            "GLP",
            "GMB",
            "GNB",
            "GNQ",
            "GRC",
            "GRD",
            "GRL",
            "GTM",
            "GUF",
            "GUM",
            "GUY",
            "HKG",
            "HMD",
            "HND",
            "HRV",
            "HTI",
            "HUN",
            "HVO",
            "IDN",
            "IMN",
            "IND",
            "IOT",
            "IRL",
            "IRN",
            "IRQ",
            "ISL",
            "ISR",
            "ITA",
            "JAM",
            "JEY",
            "JOR",
            "JPN",
            "JTN",
            "KAZ",
            "KEN",
            "KGZ",
            "KHM",
            "KIR",
            "KNA",
            "KOR",
            "KWT",
            "LAO",
            "LBN",
            "LBR",
            "LBY",
            "LCA",
            "LIE",
            "LKA",
            "LSO",
            "LTU",
            "LUX",
            "LVA",
            "MAC",
            "MAF",
            "MAR",
            "MCO",
            "MDA",
            "MDG",
            "MDV",
            "MEX",
            "MHL",
            "MID",
            "MKD",
            "MLI",
            "MLT",
            "MMR",
            "MNE",
            "MNG",
            "MNP",
            "MOZ",
            "MRT",
            "MSR",
            "MTQ",
            "MUS",
            "MWI",
            "MYS",
            "MYT",
            "NAM",
            "NCL",
            "NER",
            "NFK",
            "NGA",
            "NHB",
            "NIC",
            "NIU",
            "NLD",
            "NOR",
            "NPL",
            "NRU",
            "NTZ",
            "NZL",
            "OMN",
            "PAK",
            "PAN",
            "PCI",
            "PCN",
            "PCZ",
            "PER",
            "PHL",
            "PLW",
            "PNG",
            "POL",
            "PRI",
            "PRK",
            "PRT",
            "PRY",
            "PSE",
            "PUS",
            "PYF",
            "QAT",
            "REU",
            "RHO",
            "ROU",
            "RUS",
            "RWA",
            "SAU",
            "SCG",
            "SDN",
            "SEN",
            "SGP",
            "SGS",
            "SHN",
            "SJM",
            "SKM",
            "SLB",
            "SLE",
            "SLV",
            "SMR",
            "SOM",
            "SPM",
            "SRB",
            "SSD",
            "STP",
            "SUN",
            "SUR",
            "SVK",
            "SVN",
            "SWE",
            "SWZ",
            "SXM",
            "SYC",
            "SYR",
            "TCA",
            "TCD",
            "TGO",
            "THA",
            "TJK",
            "TKL",
            "TKM",
            "TLS",
            "TMP",
            "TON",
            "TTO",
            "TUN",
            "TUR",
            "TUV",
            "TWN",
            "TZA",
            "UGA",
            "UKR",
            "UMI",
            "URY",
            "USA",
            "UZB",
            "VAT",
            "VCT",
            "VDR",
            "VEN",
            "VGB",
            "VIR",
            "VNM",
            "VUT",
            "WAK",
            "WLF",
            "WSM",
            "XKX",
            "YEM",
            "YMD",
            "YUG",
            "ZAF",
            "ZAR",
            "ZMB",
            "ZWE",
        ]
        | None
    ) = None
    """
    ISO 3166-1 alpha-3 of the state itself (`RUS`); checked as `country_code` is. A body's country is its `country_code`, not this.
    """
    iso2: str | None = None
    """
    ISO 3166-1 alpha-2 (`RU`).
    """
    fips: str | None = None
    """
    FIPS 10-4, as GDELT's geography writes countries (`RS` is Russia).
    """
    cameo: str | None = None
    """
    CAMEO actor code: a country (`RUS`), a country and a role (`RUSGOV`, `RUSMIL`) or an international body (`IGOUNO`). CAMEO's own country codes are kept as ISO writes them (`JAPGOV` is stored `JPNGOV`).
    """
    cow: int | None = None
    """
    Correlates of War country number (`365`).
    """
    gw: int | None = None
    """
    Gleditsch–Ward country number (`365`).
    """
    wikidata: str | None = None
    """
    Wikidata item id (`Q159`).
    """


ActorKind: TypeAlias = Literal["state", "organization", "person", "body"]


@dataclass(kw_only=True)
class ActorRef(Record):
    id: str
    slug: str
    name: str


@dataclass(kw_only=True)
class ActorUpdate(Record):
    """
    A JSON merge patch: only the fields given change; `null` clears an optional field.
    """

    slug: str | None = None
    """
    Unique, stable, lower-case words joined by `-`.
    """
    name: str | None = None
    kind: ActorKind | None = None
    aliases: list[str] | None = None
    country_code: (
        Literal[
            "ABW",
            "AFG",
            "AFI",
            "AGO",
            "AIA",
            "ALA",
            "ALB",
            "AND",
            "ANT",
            "ARE",
            "ARG",
            "ARM",
            "ASM",
            "ATA",
            "ATB",
            "ATF",
            "ATG",
            "ATN",
            "AUS",
            "AUT",
            "AZE",
            "BDI",
            "BEL",
            "BEN",
            "BES",
            "BFA",
            "BGD",
            "BGR",
            "BHR",
            "BHS",
            "BIH",
            "BLM",
            "BLR",
            "BLZ",
            "BMU",
            "BOL",
            "BRA",
            "BRB",
            "BRN",
            "BTN",
            "BUR",
            "BVT",
            "BWA",
            "BYS",
            "CAF",
            "CAN",
            "CCK",
            "CHE",
            "CHL",
            "CHN",
            "CIV",
            "CMR",
            "COD",
            "COG",
            "COK",
            "COL",
            "COM",
            "CPV",
            "CRI",
            "CSK",
            "CTE",
            "CUB",
            "CUW",
            "CXR",
            "CYM",
            "CYP",
            "CZE",
            "DDR",
            "DEU",
            "DHY",
            "DJI",
            "DMA",
            "DNK",
            "DOM",
            "DZA",
            "ECU",
            "EGY",
            "ERI",
            "ESH",
            "ESP",
            "EST",
            "ETH",
            "FIN",
            "FJI",
            "FLK",
            "FRA",
            "FRO",
            "FSM",
            "FXX",
            "GAB",
            "GBR",
            "GEL",
            "GEO",
            "GGY",
            "GHA",
            "GIB",
            "GIN",
            "GLP",
            "GMB",
            "GNB",
            "GNQ",
            "GRC",
            "GRD",
            "GRL",
            "GTM",
            "GUF",
            "GUM",
            "GUY",
            "HKG",
            "HMD",
            "HND",
            "HRV",
            "HTI",
            "HUN",
            "HVO",
            "IDN",
            "IMN",
            "IND",
            "IOT",
            "IRL",
            "IRN",
            "IRQ",
            "ISL",
            "ISR",
            "ITA",
            "JAM",
            "JEY",
            "JOR",
            "JPN",
            "JTN",
            "KAZ",
            "KEN",
            "KGZ",
            "KHM",
            "KIR",
            "KNA",
            "KOR",
            "KWT",
            "LAO",
            "LBN",
            "LBR",
            "LBY",
            "LCA",
            "LIE",
            "LKA",
            "LSO",
            "LTU",
            "LUX",
            "LVA",
            "MAC",
            "MAF",
            "MAR",
            "MCO",
            "MDA",
            "MDG",
            "MDV",
            "MEX",
            "MHL",
            "MID",
            "MKD",
            "MLI",
            "MLT",
            "MMR",
            "MNE",
            "MNG",
            "MNP",
            "MOZ",
            "MRT",
            "MSR",
            "MTQ",
            "MUS",
            "MWI",
            "MYS",
            "MYT",
            "NAM",
            "NCL",
            "NER",
            "NFK",
            "NGA",
            "NHB",
            "NIC",
            "NIU",
            "NLD",
            "NOR",
            "NPL",
            "NRU",
            "NTZ",
            "NZL",
            "OMN",
            "PAK",
            "PAN",
            "PCI",
            "PCN",
            "PCZ",
            "PER",
            "PHL",
            "PLW",
            "PNG",
            "POL",
            "PRI",
            "PRK",
            "PRT",
            "PRY",
            "PSE",
            "PUS",
            "PYF",
            "QAT",
            "REU",
            "RHO",
            "ROU",
            "RUS",
            "RWA",
            "SAU",
            "SCG",
            "SDN",
            "SEN",
            "SGP",
            "SGS",
            "SHN",
            "SJM",
            "SKM",
            "SLB",
            "SLE",
            "SLV",
            "SMR",
            "SOM",
            "SPM",
            "SRB",
            "SSD",
            "STP",
            "SUN",
            "SUR",
            "SVK",
            "SVN",
            "SWE",
            "SWZ",
            "SXM",
            "SYC",
            "SYR",
            "TCA",
            "TCD",
            "TGO",
            "THA",
            "TJK",
            "TKL",
            "TKM",
            "TLS",
            "TMP",
            "TON",
            "TTO",
            "TUN",
            "TUR",
            "TUV",
            "TWN",
            "TZA",
            "UGA",
            "UKR",
            "UMI",
            "URY",
            "USA",
            "UZB",
            "VAT",
            "VCT",
            "VDR",
            "VEN",
            "VGB",
            "VIR",
            "VNM",
            "VUT",
            "WAK",
            "WLF",
            "WSM",
            "XKX",
            "YEM",
            "YMD",
            "YUG",
            "ZAF",
            "ZAR",
            "ZMB",
            "ZWE",
        ]
        | None
    ) = None
    """
    ISO 3166-1 alpha-3 (states and their bodies), checked against the ISO list (`XYZ` is 422); the alpha-3 codes of countries that no longer exist (ISO 3166-3: `SUN`, `YUG`, `DDR`, `CSK`) and `XKX` (Kosovo, which has no ISO code) are taken too. Null for organisations such as NATO or the EU, which have none.
    """
    description: str | None = None
    external_ids: dict[str, str | None] | None = None
    """
    Identifiers elsewhere, e.g. `{"wikidata": "Q7184"}`.
    """
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    affiliation: str | None = None
    """
    The actor this one belongs to (id, slug or `scheme:value` code).
    """
    codes: ActorCodes | None = None
    """
    The actor's codes, each unique within its scheme (another actor's is 409); leave out the schemes it has no code in.
    """


Party: TypeAlias = str
"""
A record's id (or its natural key where noted).
"""


ChannelKind: TypeAlias = Literal[
    "council",
    "permanent_mission",
    "liaison_mission",
    "information_office",
    "hotline",
    "military_contacts",
    "high_level_dialogue",
    "embassy",
    "other",
]


ChannelLevel: TypeAlias = Literal["political", "diplomatic", "military"]


ChannelStatus: TypeAlias = Literal["active", "restricted", "suspended", "closed"]


@dataclass(kw_only=True)
class ChannelUpdate(Record):
    """
    A JSON merge patch: only the fields given change; `null` clears an optional field.
    Status is changed by recording a status change, not here.
    """

    name: str | None = None
    kind: ChannelKind | None = None
    location: str | None = None
    level: ChannelLevel | None = None
    established_on: date_aliased | None = None
    """
    The channel exists from this date.
    """
    description: str | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    parties: list[Party] | None = None
    """
    Actor ids, slugs or `scheme:value` codes (`iso3:RUS`); at least two.
    """
    host: str | None = None
    """
    The hosting actor (id, slug or `scheme:value` code).
    """
    sources: list[str] | None = None
    """
    Source ids (or urls or external_refs).
    """


Collection: TypeAlias = Literal["actors", "sources", "incidents", "exercises", "channels"]


@dataclass(kw_only=True)
class ConversionReport(Record):
    """
    What a converter (`POST /v1/import?from=…`) read: every row is counted once, as kept or
    as skipped for a reason; every non-empty source field of a kept row that has no place in
    the record is counted as dropped.
    """

    format: Literal["gdelt", "icews", "acled", "plover"]
    rows: int
    """
    Rows (records) read, bad ones included; blank lines and header rows are not rows.
    """
    kept: int
    """
    Rows turned into an incident line (then written as `created`, `updated` or `unchanged` incidents, or counted `retracted`).
    """
    skipped_total: int
    """
    Rows skipped: `rows` − `kept`.
    """
    skipped: dict[str, dict[str, int]]
    """
    Rows skipped, by reason, then by the row's event code (CAMEO code; ACLED `event_type/sub_event_type`; PLOVER `event/mode`; `-` when it has none). Reasons: `out_of_scope` (a code outside the diplomatic codes mapped), `military_not_converted` (CAMEO 062, 150, 152, 154), `bad_row` (wrong number of columns, not JSON, unreadable), `bad_date` (not a date, in the future or before 1800), `no_id`, `no_initiator`, `no_target` (no actor on that side), `unmapped_actor` (no actor of that side names a country: see `unmapped_actors`), `same_country` (initiators and targets are the same countries), `duplicate` (an id met earlier in the file), `no_mode` (PLOVER: an event category that maps only with a mode, given none).
    """
    unmapped_actors: dict[str, int]
    """
    Actor codes or names that name no country, with how many times they were met (in rows that got that far).
    """
    dropped: dict[str, int]
    """
    Source fields of kept rows that have no place in Demarche's record yet, with the number of rows in which each was not empty (and was so dropped); also values refused: coordinates of a whole country (its centroid), out of range, a URL that is not http(s).
    """
    actors_created: list[str]
    """
    Slugs of the actors created: state actors for countries that had none, and a state's bodies (its government, armed forces…) for the CAMEO roles and ICEWS sectors that name one (in a dry run: that would be).
    """


DatePrecision: TypeAlias = Literal["day", "week", "month", "year"]


ExerciseDomain: TypeAlias = Literal["land", "sea", "air", "space", "cyber", "nuclear"]


ExportFormat: TypeAlias = Literal["json", "csv", "ndjson", "geojson"]


@dataclass(kw_only=True)
class ImportResult(Record):
    """
    What an import did (or, in a dry run, would do), per record type.
    """

    created: dict[str, int]
    """
    Records created, by type (every type, 0 included).
    """
    updated: dict[str, int]
    """
    Existing records that differed and were written over, by type (retracted ones restored by a line asking for `status: published` included).
    """
    unchanged: dict[str, int]
    """
    Existing records that already matched, by type.
    """
    retracted: dict[str, int]
    """
    Existing records that are retracted and were left so, by type: a line names a retracted record's natural key without asking for `status: published` (only that restores an incident or an exercise; other types are restored with `POST /v1/{collection}/{id}/restore`).
    """
    merged: dict[str, int]
    """
    Incidents the import created and then merged into an incident that reports the same event (stored before, or created earlier in the import), as docs/event-data.md defines it: same kind (not `other`), initiators and targets, dates within their precision and a day, and a source in common or both rows of one report data set (GDELT, ICEWS, PLOVER). The survivor gains the merged one's sources, actors, answers and tags; the merged one is kept as a tombstone (its `external_ref` answers 308 to the survivor). Counted here, not under `created`. A line naming a merged-away incident's `external_ref` again writes onto the survivor (so a re-import counts it `unchanged`). Other types: always 0.
    """
    dry_run: bool
    conversion: ConversionReport | None = None
    """
    Only with `from`: what the converter read, kept, skipped and dropped.
    """


@dataclass(kw_only=True)
class IncidentCounts(Record):
    a_to_b: dict[str, int]
    """
    Incidents initiated by `a` against `b`, by kind.
    """
    b_to_a: dict[str, int]
    """
    Incidents initiated by `b` against `a`, by kind.
    """


Initiator: TypeAlias = str
"""
A record's id (or its natural key where noted).
"""


Target: TypeAlias = str
"""
A record's id (or its natural key where noted).
"""


IncidentFormat: TypeAlias = Literal["json", "csv", "ndjson", "geojson", "plover"]


IncidentKind: TypeAlias = Literal[
    "expulsion",
    "accreditation_withdrawal",
    "staff_cap",
    "mission_suspension",
    "mission_closure",
    "office_closure",
    "liaison_suspension",
    "ambassador_recall",
    "ambassador_summons",
    "dialogue_suspension",
    "sanctions",
    "relations_severed",
    "relations_downgraded",
    "relations_restored",
    "visit_cancelled",
    "relations_threatened",
    "other",
]


@dataclass(kw_only=True)
class IncidentRef(Record):
    id: str
    title: str
    occurred_on: date_aliased


KeyScope: TypeAlias = Literal["read", "write", "admin"]
"""
What a key may do; each scope implies the ones before it.
"""


@dataclass(kw_only=True)
class MergeRequest(Record):
    merged: str
    """
    The incident merged into this one: its id or `external_ref`. It must be live (a draft may be merged into a published incident, not a published one into a draft) and not this incident.
    """


Op: TypeAlias = Literal["create", "update", "delete", "restore", "merge"]


ParticipantRole: TypeAlias = Literal["lead", "participant", "host", "observer"]


@dataclass(kw_only=True)
class Provenance(Record):
    """
    What the system an event was taken from says of it: the event's own id there and its
    numbers, kept with the citation of the source that reported it. Every field but
    ``system`` is optional; unknown fields are refused (422); fields not given are left out of
    answers.
    """

    system: str
    """
    The data set or system the event comes from, lower case: `gdelt`, `icews`, `acled`, `plover`, or another's own name.
    """
    id: str | None = None
    """
    The event's id in that system: GDELT's `GLOBALEVENTID`, ICEWS's `Event ID`, ACLED's `event_id_cnty`, PLOVER's `id`.
    """
    story_id: str | None = None
    """
    The story the event was coded from (ICEWS's `Story ID`).
    """
    sentence: int | None = None
    """
    The sentence of the story (ICEWS's `Sentence Number`).
    """
    mentions: int | None = None
    """
    Mentions of the event (GDELT's `NumMentions`).
    """
    sources: int | None = None
    """
    Sources that mention it (GDELT's `NumSources`).
    """
    articles: int | None = None
    """
    Articles that mention it (GDELT's `NumArticles`).
    """
    tone: float | None = None
    """
    Average tone of those articles, -100 to 100 (GDELT's `AvgTone`).
    """
    goldstein: float | None = None
    """
    Goldstein scale of the event code, -10 to 10 (GDELT's `GoldsteinScale`).
    """
    intensity: float | None = None
    """
    Intensity of the event, -10 to 10 (ICEWS's `Intensity`, PLOVER's `event_scale`).
    """
    quad_class: int | None = None
    """
    1 verbal cooperation, 2 material cooperation, 3 verbal conflict, 4 material conflict (GDELT's `QuadClass`, PLOVER's `quad_code`).
    """
    root_event: bool | None = None
    """
    Whether the event is in a lead sentence (GDELT's `IsRootEvent`).
    """
    fatalities: int | None = None
    """
    Reported fatalities (ACLED's `fatalities`).
    """
    time_precision: int | None = None
    """
    ACLED's `time_precision` as given: 1 the day, 2 the week, 3 the month (the incident's `date_precision` says the same in words).
    """
    geo_precision: int | None = None
    """
    ACLED's `geo_precision` as given: 1 the place, 2 near it, 3 the region.
    """
    reported_on: date_aliased | None = None
    """
    The day the system took the report in: GDELT's `DATEADDED`; ICEWS's `Event Date`, which is the day of the story, not always the day of the event.
    """
    reported_by: str | None = None
    """
    Who reported it, as the system names them: ACLED's `source`, ICEWS's `Publisher`.
    """
    source_scale: str | None = None
    """
    ACLED's `source_scale` (`National`, `Local partner`…).
    """


RecordStatus: TypeAlias = Literal["draft", "published", "retracted"]


Resource: TypeAlias = Literal["actor", "source", "incident", "exercise", "channel"]


SourceKind: TypeAlias = Literal["news", "official", "analysis", "dataset", "other"]


@dataclass(kw_only=True)
class SourcePublic(Record):
    title: str
    id: str
    created_at: datetime
    updated_at: datetime
    version: int
    url: str | None = None
    """
    Unique. An absolute `http` or `https` URL (else 422). Optional when the source has a `publisher` and an `external_ref` (a story of a news agency known by its id, with no address: an ICEWS story); a source needs one or the other.
    """
    publisher: str | None = None
    authors: list[str] | None = None
    published_on: date_aliased | None = None
    kind: SourceKind | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """


@dataclass(kw_only=True)
class SourceRef(Record):
    id: str
    title: str
    url: str | None
    """
    `null` for a source known by its publisher and `external_ref` alone.
    """


@dataclass(kw_only=True)
class SourceUpdate(Record):
    """
    A JSON merge patch: only the fields given change; `null` clears an optional field.
    """

    url: str | None = None
    """
    Unique. An absolute `http` or `https` URL (else 422). Optional when the source has a `publisher` and an `external_ref` (a story of a news agency known by its id, with no address: an ICEWS story); a source needs one or the other.
    """
    title: str | None = None
    publisher: str | None = None
    authors: list[str] | None = None
    published_on: date_aliased | None = None
    kind: SourceKind | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """


@dataclass(kw_only=True)
class Stats(Record):
    group_by: list[Literal["kind", "month", "year", "initiator", "target"]]
    data: list[dict[str, Any]]
    """
    Buckets such as `{"kind": "expulsion", "month": "2021-10", "count": 3}`.
    """


@dataclass(kw_only=True)
class StatusChangeCreate(Record):
    status: ChannelStatus
    effective_on: date_aliased
    note: str | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    caused_by: str | None = None
    """
    The incident (id or external_ref) that caused it.
    """
    sources: list[str] | None = None
    """
    Source ids (or urls or external_refs).
    """


@dataclass(kw_only=True)
class StatusChangePublic(Record):
    status: ChannelStatus
    effective_on: date_aliased
    id: str
    created_at: datetime
    caused_by: IncidentRef | None
    """
    The incident that caused the change; `null` while that incident is a draft or retracted.
    """
    sources: list[SourceRef]
    note: str | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """


TableFormat: TypeAlias = Literal["json", "csv"]


@dataclass(kw_only=True)
class TimelineEntry(Record):
    type: Literal["incident", "exercise", "channel_status"]
    date: date_aliased
    id: str
    title: str
    actors: list[ActorRef]
    record: dict[str, Any]
    """
    The record's own fields, as its collection answers them.
    """


@dataclass(kw_only=True)
class ValidationError(Record):
    loc: list[str | int]
    msg: str
    type: str
    input: Any | None = None
    ctx: dict[str, Any] | None = None


@dataclass(kw_only=True)
class Version(Record):
    version: int
    op: Op
    at: datetime
    key_id: str | None
    """
    The public id of the API key that wrote this version; null for the command line.
    """
    changes: dict[str, Any]
    """
    The fields that differ from the previous version, with their new values (all of them for `create`). Links appear as ids: `initiators`, `targets`, `responds_to`, `sources`, `participants`, `parties`, `host`, `affiliation`, and a channel's `status_history`.
    """


@dataclass(kw_only=True)
class FieldError(Record):
    """
    One invalid input: where it is (`loc`, starting with `body`, `query` or `path`), what
    is wrong, and a machine-readable error type.
    """

    loc: list[str | int]
    msg: str
    type: str


@dataclass(kw_only=True)
class LineErrors(Record):
    """
    The errors of one line of an import; lines count from 1.
    """

    line: int
    errors: list[FieldError]


@dataclass(kw_only=True)
class ProblemDetail(Record):
    """
    RFC 9457 problem details.
    """

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError | LineErrors] | None = None
    accepted: list[str] | None = None
    """
    With `unknown-parameter`: the query parameters the operation takes; with `unknown-field`: the fields a `fields` selection may name, in the record's order.
    """
    merged_into: str | None = None
    """
    With `moved` (308) and `merged` (409): the id of the incident the one named was merged into.
    """


@dataclass(kw_only=True)
class ActorLine(Record):
    """
    A line of an import: `type` `actor` and the fields of ActorCreate.
    """

    slug: str
    """
    Unique, stable, lower-case words joined by `-`.
    """
    name: str
    kind: ActorKind
    type: Literal["actor"]
    aliases: list[str] | None = None
    country_code: (
        Literal[
            "ABW",
            "AFG",
            "AFI",
            "AGO",
            "AIA",
            "ALA",
            "ALB",
            "AND",
            "ANT",
            "ARE",
            "ARG",
            "ARM",
            "ASM",
            "ATA",
            "ATB",
            "ATF",
            "ATG",
            "ATN",
            "AUS",
            "AUT",
            "AZE",
            "BDI",
            "BEL",
            "BEN",
            "BES",
            "BFA",
            "BGD",
            "BGR",
            "BHR",
            "BHS",
            "BIH",
            "BLM",
            "BLR",
            "BLZ",
            "BMU",
            "BOL",
            "BRA",
            "BRB",
            "BRN",
            "BTN",
            "BUR",
            "BVT",
            "BWA",
            "BYS",
            "CAF",
            "CAN",
            "CCK",
            "CHE",
            "CHL",
            "CHN",
            "CIV",
            "CMR",
            "COD",
            "COG",
            "COK",
            "COL",
            "COM",
            "CPV",
            "CRI",
            "CSK",
            "CTE",
            "CUB",
            "CUW",
            "CXR",
            "CYM",
            "CYP",
            "CZE",
            "DDR",
            "DEU",
            "DHY",
            "DJI",
            "DMA",
            "DNK",
            "DOM",
            "DZA",
            "ECU",
            "EGY",
            "ERI",
            "ESH",
            "ESP",
            "EST",
            "ETH",
            "FIN",
            "FJI",
            "FLK",
            "FRA",
            "FRO",
            "FSM",
            "FXX",
            "GAB",
            "GBR",
            "GEL",
            "GEO",
            "GGY",
            "GHA",
            "GIB",
            "GIN",
            "GLP",
            "GMB",
            "GNB",
            "GNQ",
            "GRC",
            "GRD",
            "GRL",
            "GTM",
            "GUF",
            "GUM",
            "GUY",
            "HKG",
            "HMD",
            "HND",
            "HRV",
            "HTI",
            "HUN",
            "HVO",
            "IDN",
            "IMN",
            "IND",
            "IOT",
            "IRL",
            "IRN",
            "IRQ",
            "ISL",
            "ISR",
            "ITA",
            "JAM",
            "JEY",
            "JOR",
            "JPN",
            "JTN",
            "KAZ",
            "KEN",
            "KGZ",
            "KHM",
            "KIR",
            "KNA",
            "KOR",
            "KWT",
            "LAO",
            "LBN",
            "LBR",
            "LBY",
            "LCA",
            "LIE",
            "LKA",
            "LSO",
            "LTU",
            "LUX",
            "LVA",
            "MAC",
            "MAF",
            "MAR",
            "MCO",
            "MDA",
            "MDG",
            "MDV",
            "MEX",
            "MHL",
            "MID",
            "MKD",
            "MLI",
            "MLT",
            "MMR",
            "MNE",
            "MNG",
            "MNP",
            "MOZ",
            "MRT",
            "MSR",
            "MTQ",
            "MUS",
            "MWI",
            "MYS",
            "MYT",
            "NAM",
            "NCL",
            "NER",
            "NFK",
            "NGA",
            "NHB",
            "NIC",
            "NIU",
            "NLD",
            "NOR",
            "NPL",
            "NRU",
            "NTZ",
            "NZL",
            "OMN",
            "PAK",
            "PAN",
            "PCI",
            "PCN",
            "PCZ",
            "PER",
            "PHL",
            "PLW",
            "PNG",
            "POL",
            "PRI",
            "PRK",
            "PRT",
            "PRY",
            "PSE",
            "PUS",
            "PYF",
            "QAT",
            "REU",
            "RHO",
            "ROU",
            "RUS",
            "RWA",
            "SAU",
            "SCG",
            "SDN",
            "SEN",
            "SGP",
            "SGS",
            "SHN",
            "SJM",
            "SKM",
            "SLB",
            "SLE",
            "SLV",
            "SMR",
            "SOM",
            "SPM",
            "SRB",
            "SSD",
            "STP",
            "SUN",
            "SUR",
            "SVK",
            "SVN",
            "SWE",
            "SWZ",
            "SXM",
            "SYC",
            "SYR",
            "TCA",
            "TCD",
            "TGO",
            "THA",
            "TJK",
            "TKL",
            "TKM",
            "TLS",
            "TMP",
            "TON",
            "TTO",
            "TUN",
            "TUR",
            "TUV",
            "TWN",
            "TZA",
            "UGA",
            "UKR",
            "UMI",
            "URY",
            "USA",
            "UZB",
            "VAT",
            "VCT",
            "VDR",
            "VEN",
            "VGB",
            "VIR",
            "VNM",
            "VUT",
            "WAK",
            "WLF",
            "WSM",
            "XKX",
            "YEM",
            "YMD",
            "YUG",
            "ZAF",
            "ZAR",
            "ZMB",
            "ZWE",
        ]
        | None
    ) = None
    """
    ISO 3166-1 alpha-3 (states and their bodies), checked against the ISO list (`XYZ` is 422); the alpha-3 codes of countries that no longer exist (ISO 3166-3: `SUN`, `YUG`, `DDR`, `CSK`) and `XKX` (Kosovo, which has no ISO code) are taken too. Null for organisations such as NATO or the EU, which have none.
    """
    description: str | None = None
    external_ids: dict[str, str] | None = None
    """
    Identifiers elsewhere, e.g. `{"wikidata": "Q7184"}`.
    """
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    affiliation: str | None = None
    """
    The actor this one belongs to (id, slug or `scheme:value` code).
    """
    codes: ActorCodes | None = None
    """
    The actor's codes, each unique within its scheme (another actor's is 409); leave out the schemes it has no code in.
    """


@dataclass(kw_only=True)
class ChannelLine(Record):
    """
    A line of an import: `type` `channel` and the fields of ChannelCreate.
    """

    name: str
    kind: ChannelKind
    parties: list[Party]
    """
    Actor ids, slugs or `scheme:value` codes (`iso3:RUS`); at least two.
    """
    type: Literal["channel"]
    location: str | None = None
    level: ChannelLevel | None = None
    established_on: date_aliased | None = None
    """
    The channel exists from this date.
    """
    description: str | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    host: str | None = None
    """
    The hosting actor (id, slug or `scheme:value` code).
    """
    sources: list[str] | None = None
    """
    Source ids (or urls or external_refs).
    """


@dataclass(kw_only=True)
class ChannelStatusLine(Record):
    """
    A line of an import: `type` `channel_status` and the fields of StatusChangeCreate.
    """

    status: ChannelStatus
    effective_on: date_aliased
    type: Literal["channel_status"]
    channel: str
    """
    The channel's id or external_ref (of an earlier line, or stored).
    """
    note: str | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    caused_by: str | None = None
    """
    The incident (id or external_ref) that caused it.
    """
    sources: list[str] | None = None
    """
    Source ids (or urls or external_refs).
    """


@dataclass(kw_only=True)
class SourceLine(Record):
    """
    A line of an import: `type` `source` and the fields of SourceCreate.
    """

    title: str
    type: Literal["source"]
    url: str | None = None
    """
    Unique. An absolute `http` or `https` URL (else 422). Optional when the source has a `publisher` and an `external_ref` (a story of a news agency known by its id, with no address: an ICEWS story); a source needs one or the other.
    """
    publisher: str | None = None
    authors: list[str] | None = None
    published_on: date_aliased | None = None
    kind: SourceKind | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """


@dataclass(kw_only=True)
class ActorPublicFields(Record):
    """
    Some fields of a `ActorPublic`, those `fields` names, in the same order.
    """

    slug: str | None = None
    """
    Unique, stable, lower-case words joined by `-`.
    """
    name: str | None = None
    kind: ActorKind | None = None
    aliases: list[str] | None = None
    country_code: str | None = None
    """
    ISO 3166-1 alpha-3 (states and their bodies), checked against the ISO list (`XYZ` is 422); the alpha-3 codes of countries that no longer exist (ISO 3166-3: `SUN`, `YUG`, `DDR`, `CSK`) and `XKX` (Kosovo, which has no ISO code) are taken too. Null for organisations such as NATO or the EU, which have none.
    """
    description: str | None = None
    external_ids: dict[str, str] | None = None
    """
    Identifiers elsewhere, e.g. `{"wikidata": "Q7184"}`.
    """
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None
    affiliation: ActorRef | None = None
    codes: ActorCodes | None = None
    """
    The actor's codes; a scheme it has no code in is `null`.
    """


@dataclass(kw_only=True)
class SourcePublicFields(Record):
    """
    Some fields of a `SourcePublic`, those `fields` names, in the same order.
    """

    url: str | None = None
    """
    Unique. An absolute `http` or `https` URL (else 422). Optional when the source has a `publisher` and an `external_ref` (a story of a news agency known by its id, with no address: an ICEWS story); a source needs one or the other.
    """
    title: str | None = None
    publisher: str | None = None
    authors: list[str] | None = None
    published_on: date_aliased | None = None
    kind: SourceKind | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


@dataclass(kw_only=True)
class ChannelPublicFields(Record):
    """
    Some fields of a `ChannelPublic`, those `fields` names, in the same order.
    """

    name: str | None = None
    kind: ChannelKind | None = None
    location: str | None = None
    level: ChannelLevel | None = None
    established_on: date_aliased | None = None
    """
    The channel exists from this date.
    """
    description: str | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None
    parties: list[ActorRef] | None = None
    host: ActorRef | None = None
    status: ChannelStatus | None = None
    """
    The status in force on `as_of` (today by default); null before the channel exists.
    """
    status_history: list[StatusChangePublic] | None = None
    """
    Oldest first, by `effective_on`.
    """
    sources: list[SourceRef] | None = None


@dataclass(kw_only=True)
class ActorCreate(Record):
    slug: str
    """
    Unique, stable, lower-case words joined by `-`.
    """
    name: str
    kind: ActorKind
    aliases: list[str] | None = None
    country_code: (
        Literal[
            "ABW",
            "AFG",
            "AFI",
            "AGO",
            "AIA",
            "ALA",
            "ALB",
            "AND",
            "ANT",
            "ARE",
            "ARG",
            "ARM",
            "ASM",
            "ATA",
            "ATB",
            "ATF",
            "ATG",
            "ATN",
            "AUS",
            "AUT",
            "AZE",
            "BDI",
            "BEL",
            "BEN",
            "BES",
            "BFA",
            "BGD",
            "BGR",
            "BHR",
            "BHS",
            "BIH",
            "BLM",
            "BLR",
            "BLZ",
            "BMU",
            "BOL",
            "BRA",
            "BRB",
            "BRN",
            "BTN",
            "BUR",
            "BVT",
            "BWA",
            "BYS",
            "CAF",
            "CAN",
            "CCK",
            "CHE",
            "CHL",
            "CHN",
            "CIV",
            "CMR",
            "COD",
            "COG",
            "COK",
            "COL",
            "COM",
            "CPV",
            "CRI",
            "CSK",
            "CTE",
            "CUB",
            "CUW",
            "CXR",
            "CYM",
            "CYP",
            "CZE",
            "DDR",
            "DEU",
            "DHY",
            "DJI",
            "DMA",
            "DNK",
            "DOM",
            "DZA",
            "ECU",
            "EGY",
            "ERI",
            "ESH",
            "ESP",
            "EST",
            "ETH",
            "FIN",
            "FJI",
            "FLK",
            "FRA",
            "FRO",
            "FSM",
            "FXX",
            "GAB",
            "GBR",
            "GEL",
            "GEO",
            "GGY",
            "GHA",
            "GIB",
            "GIN",
            "GLP",
            "GMB",
            "GNB",
            "GNQ",
            "GRC",
            "GRD",
            "GRL",
            "GTM",
            "GUF",
            "GUM",
            "GUY",
            "HKG",
            "HMD",
            "HND",
            "HRV",
            "HTI",
            "HUN",
            "HVO",
            "IDN",
            "IMN",
            "IND",
            "IOT",
            "IRL",
            "IRN",
            "IRQ",
            "ISL",
            "ISR",
            "ITA",
            "JAM",
            "JEY",
            "JOR",
            "JPN",
            "JTN",
            "KAZ",
            "KEN",
            "KGZ",
            "KHM",
            "KIR",
            "KNA",
            "KOR",
            "KWT",
            "LAO",
            "LBN",
            "LBR",
            "LBY",
            "LCA",
            "LIE",
            "LKA",
            "LSO",
            "LTU",
            "LUX",
            "LVA",
            "MAC",
            "MAF",
            "MAR",
            "MCO",
            "MDA",
            "MDG",
            "MDV",
            "MEX",
            "MHL",
            "MID",
            "MKD",
            "MLI",
            "MLT",
            "MMR",
            "MNE",
            "MNG",
            "MNP",
            "MOZ",
            "MRT",
            "MSR",
            "MTQ",
            "MUS",
            "MWI",
            "MYS",
            "MYT",
            "NAM",
            "NCL",
            "NER",
            "NFK",
            "NGA",
            "NHB",
            "NIC",
            "NIU",
            "NLD",
            "NOR",
            "NPL",
            "NRU",
            "NTZ",
            "NZL",
            "OMN",
            "PAK",
            "PAN",
            "PCI",
            "PCN",
            "PCZ",
            "PER",
            "PHL",
            "PLW",
            "PNG",
            "POL",
            "PRI",
            "PRK",
            "PRT",
            "PRY",
            "PSE",
            "PUS",
            "PYF",
            "QAT",
            "REU",
            "RHO",
            "ROU",
            "RUS",
            "RWA",
            "SAU",
            "SCG",
            "SDN",
            "SEN",
            "SGP",
            "SGS",
            "SHN",
            "SJM",
            "SKM",
            "SLB",
            "SLE",
            "SLV",
            "SMR",
            "SOM",
            "SPM",
            "SRB",
            "SSD",
            "STP",
            "SUN",
            "SUR",
            "SVK",
            "SVN",
            "SWE",
            "SWZ",
            "SXM",
            "SYC",
            "SYR",
            "TCA",
            "TCD",
            "TGO",
            "THA",
            "TJK",
            "TKL",
            "TKM",
            "TLS",
            "TMP",
            "TON",
            "TTO",
            "TUN",
            "TUR",
            "TUV",
            "TWN",
            "TZA",
            "UGA",
            "UKR",
            "UMI",
            "URY",
            "USA",
            "UZB",
            "VAT",
            "VCT",
            "VDR",
            "VEN",
            "VGB",
            "VIR",
            "VNM",
            "VUT",
            "WAK",
            "WLF",
            "WSM",
            "XKX",
            "YEM",
            "YMD",
            "YUG",
            "ZAF",
            "ZAR",
            "ZMB",
            "ZWE",
        ]
        | None
    ) = None
    """
    ISO 3166-1 alpha-3 (states and their bodies), checked against the ISO list (`XYZ` is 422); the alpha-3 codes of countries that no longer exist (ISO 3166-3: `SUN`, `YUG`, `DDR`, `CSK`) and `XKX` (Kosovo, which has no ISO code) are taken too. Null for organisations such as NATO or the EU, which have none.
    """
    description: str | None = None
    external_ids: dict[str, str] | None = None
    """
    Identifiers elsewhere, e.g. `{"wikidata": "Q7184"}`.
    """
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    affiliation: str | None = None
    """
    The actor this one belongs to (id, slug or `scheme:value` code).
    """
    codes: ActorCodes | None = None
    """
    The actor's codes, each unique within its scheme (another actor's is 409); leave out the schemes it has no code in.
    """


@dataclass(kw_only=True)
class ActorPublic(Record):
    slug: str
    """
    Unique, stable, lower-case words joined by `-`.
    """
    name: str
    kind: ActorKind
    id: str
    created_at: datetime
    updated_at: datetime
    version: int
    codes: ActorCodes
    """
    The actor's codes; a scheme it has no code in is `null`.
    """
    aliases: list[str] | None = None
    country_code: str | None = None
    """
    ISO 3166-1 alpha-3 (states and their bodies), checked against the ISO list (`XYZ` is 422); the alpha-3 codes of countries that no longer exist (ISO 3166-3: `SUN`, `YUG`, `DDR`, `CSK`) and `XKX` (Kosovo, which has no ISO code) are taken too. Null for organisations such as NATO or the EU, which have none.
    """
    description: str | None = None
    external_ids: dict[str, str] | None = None
    """
    Identifiers elsewhere, e.g. `{"wikidata": "Q7184"}`.
    """
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    affiliation: ActorRef | None = None


@dataclass(kw_only=True)
class AnsweredRef(Record):
    """
    An incident that another answers (``responds_to``); the answered drafts and retracted
    incidents shown to a key that writes say which they are.
    """

    id: str
    title: str
    occurred_on: date_aliased
    status: RecordStatus | None = None
    """
    Only on an incident's own path read with a `write` key, and only for a draft or a retracted incident: its status.
    """


@dataclass(kw_only=True)
class ApiKeyCreate(Record):
    name: str
    """
    What the key is for, e.g. the partner's name.
    """
    scope: KeyScope
    """
    `read`, `write` (implies read) or `admin` (implies write).
    """


@dataclass(kw_only=True)
class ApiKeyCreated(Record):
    name: str
    """
    What the key is for, e.g. the partner's name.
    """
    scope: KeyScope
    """
    `read`, `write` (implies read) or `admin` (implies write).
    """
    id: str
    """
    The key's public id; it appears in the secret, in logs and in `/v1/keys/{id}`.
    """
    prefix: str
    """
    The start of the secret (`dmk_` and the id), to recognise a key by.
    """
    created_at: datetime
    last_used_at: datetime | None
    """
    Within a minute of the key's latest use; null if never used.
    """
    secret: str
    """
    The whole key, shown only in this answer: send it as `Authorization: Bearer`.
    """


@dataclass(kw_only=True)
class ApiKeyPublic(Record):
    name: str
    """
    What the key is for, e.g. the partner's name.
    """
    scope: KeyScope
    """
    `read`, `write` (implies read) or `admin` (implies write).
    """
    id: str
    """
    The key's public id; it appears in the secret, in logs and in `/v1/keys/{id}`.
    """
    prefix: str
    """
    The start of the secret (`dmk_` and the id), to recognise a key by.
    """
    created_at: datetime
    last_used_at: datetime | None
    """
    Within a minute of the key's latest use; null if never used.
    """


@dataclass(kw_only=True)
class ChangePublic(Record):
    resource: Resource
    """
    The record's type: its collection without the `s`.
    """
    op: Op
    """
    `delete` is a retraction: the record reads 404 from this version on (to keys without `write`). `restore` undoes one: the record is live (and published, where it has a `status`) again from this version on, by `POST /v1/{collection}/{id}/restore` or by an import line that asks for `status: published`. A record created retracted has a `create` and a `delete` entry, both at version 1. `merge` (incidents): two incidents were merged, by `POST /v1/incidents/{id}/merge` or by an import that found two reports of one event; both get an entry. The survivor's names the merged-away ids in `merged` and gained their links; the merged-away one's names the survivor in `merged_into`, and from this version on its id answers 308, redirecting to the survivor. An incident created and merged away by one import has a `create` and a `merge` entry.
    """
    version: int
    """
    The record's version after the change.
    """
    at: datetime
    """
    When the change was made (the record's `updated_at` at this version).
    """
    seq: int
    """
    Position in commit order; pass the last one seen as `after`.
    """
    id: str
    """
    The record's id.
    """


@dataclass(kw_only=True)
class ChannelCreate(Record):
    name: str
    kind: ChannelKind
    parties: list[Party]
    """
    Actor ids, slugs or `scheme:value` codes (`iso3:RUS`); at least two.
    """
    location: str | None = None
    level: ChannelLevel | None = None
    established_on: date_aliased | None = None
    """
    The channel exists from this date.
    """
    description: str | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    host: str | None = None
    """
    The hosting actor (id, slug or `scheme:value` code).
    """
    sources: list[str] | None = None
    """
    Source ids (or urls or external_refs).
    """


@dataclass(kw_only=True)
class ChannelPublic(Record):
    name: str
    kind: ChannelKind
    id: str
    created_at: datetime
    updated_at: datetime
    version: int
    parties: list[ActorRef]
    host: ActorRef | None
    status: ChannelStatus | None
    """
    The status in force on `as_of` (today by default); null before the channel exists.
    """
    status_history: list[StatusChangePublic]
    """
    Oldest first, by `effective_on`.
    """
    sources: list[SourceRef]
    location: str | None = None
    level: ChannelLevel | None = None
    established_on: date_aliased | None = None
    """
    The channel exists from this date.
    """
    description: str | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """


@dataclass(kw_only=True)
class CitedSource(Record):
    """
    A source cited with what the system the record was taken from says of it.
    """

    source: str
    """
    The source's id, url or external_ref.
    """
    provenance: Provenance | None = None
    """
    Omitted or `null`: the source alone.
    """


@dataclass(kw_only=True)
class CitedSourceRef(Record):
    id: str
    title: str
    url: str | None
    """
    `null` for a source known by its publisher and `external_ref` alone.
    """
    provenance: Provenance | None = None
    """
    What the system the incident was taken from says of it, for this source (see the `sources` input); absent when the citation keeps none.
    """


@dataclass(kw_only=True)
class HTTPValidationError(Record):
    detail: list[ValidationError] | None = None


@dataclass(kw_only=True)
class History(Record):
    data: list[Version]
    """
    Every committed version of the record, oldest first.
    """


@dataclass(kw_only=True)
class IncidentCreate(Record):
    kind: IncidentKind
    title: str
    occurred_on: date_aliased
    """
    The day the incident happened; never in the future (422), except for measures announced ahead of the day they take effect: `staff_cap`, `mission_suspension`, `mission_closure`, `office_closure`, `liaison_suspension` and `sanctions` may be dated up to 366 days ahead (their effective date). Today is taken in any time zone (up to UTC+14).
    """
    initiators: list[Initiator]
    """
    Actor ids, slugs or `scheme:value` codes (`iso3:RUS`); at least one.
    """
    targets: list[Target]
    """
    Actor ids, slugs or `scheme:value` codes (`iso3:RUS`); at least one.
    """
    summary: str | None = None
    date_precision: DatePrecision | None = "day"
    """
    How precisely `occurred_on` is known: `day`; `week` (the ISO week, Monday to Sunday, that holds `occurred_on`); `month`; `year`. An uncertain date stands for its whole span: the `from`/`to` filters match an incident whose span overlaps the range.
    """
    announced_on: date_aliased | None = None
    """
    The day the measure was announced, where that differs from the day it happened or took effect (a closure announced on 18 October to take effect on 1 November). Optional, day precision.
    """
    effective_on: date_aliased | None = None
    """
    The day the measure took or takes effect, where that is known apart from `occurred_on` (which stays the incident's main date, that lists sort and filter by). Optional, day precision; may lie ahead for measures announced ahead (see `occurred_on`), by up to 366 days.
    """
    persons_affected: int | None = None
    location: str | None = None
    latitude: float | None = None
    """
    WGS 84.
    """
    longitude: float | None = None
    """
    WGS 84.
    """
    tags: list[str] | None = None
    status: RecordStatus | None = "published"
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    responds_to: list[str] | None = None
    """
    Incident ids (or external_refs) this answers.
    """
    sources: list[str | CitedSource] | None = None
    """
    The sources cited, in order: each a source id (or url or external_ref), or an object `{source, provenance}` that keeps with the citation what the system the incident was taken from says of it (its id for the event and its numbers: see `Provenance`). A source is cited once.
    """


@dataclass(kw_only=True)
class IncidentPublic(Record):
    kind: IncidentKind
    title: str
    occurred_on: date_aliased
    """
    The day the incident happened; never in the future (422), except for measures announced ahead of the day they take effect: `staff_cap`, `mission_suspension`, `mission_closure`, `office_closure`, `liaison_suspension` and `sanctions` may be dated up to 366 days ahead (their effective date). Today is taken in any time zone (up to UTC+14).
    """
    id: str
    created_at: datetime
    updated_at: datetime
    version: int
    initiators: list[ActorRef]
    targets: list[ActorRef]
    responds_to: list[AnsweredRef]
    """
    The published incidents this answers. A link to a draft or a retracted incident is kept; it is shown, with its `status`, only on the incident's own path read with a `write` key, which may read those incidents (lists, chains, views and exports show every caller the same answer, without it). It shows to everyone again once that incident is published, and the record's history names it by id.
    """
    sources: list[CitedSourceRef]
    summary: str | None = None
    date_precision: DatePrecision | None = "day"
    """
    How precisely `occurred_on` is known: `day`; `week` (the ISO week, Monday to Sunday, that holds `occurred_on`); `month`; `year`. An uncertain date stands for its whole span: the `from`/`to` filters match an incident whose span overlaps the range.
    """
    announced_on: date_aliased | None = None
    """
    The day the measure was announced, where that differs from the day it happened or took effect (a closure announced on 18 October to take effect on 1 November). Optional, day precision.
    """
    effective_on: date_aliased | None = None
    """
    The day the measure took or takes effect, where that is known apart from `occurred_on` (which stays the incident's main date, that lists sort and filter by). Optional, day precision; may lie ahead for measures announced ahead (see `occurred_on`), by up to 366 days.
    """
    persons_affected: int | None = None
    location: str | None = None
    latitude: float | None = None
    """
    WGS 84.
    """
    longitude: float | None = None
    """
    WGS 84.
    """
    tags: list[str] | None = None
    status: RecordStatus | None = "published"
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """


@dataclass(kw_only=True)
class IncidentUpdate(Record):
    """
    A JSON merge patch: only the fields given change; `null` clears an optional field.
    """

    kind: IncidentKind | None = None
    title: str | None = None
    summary: str | None = None
    occurred_on: date_aliased | None = None
    """
    The day the incident happened; never in the future (422), except for measures announced ahead of the day they take effect: `staff_cap`, `mission_suspension`, `mission_closure`, `office_closure`, `liaison_suspension` and `sanctions` may be dated up to 366 days ahead (their effective date). Today is taken in any time zone (up to UTC+14).
    """
    date_precision: DatePrecision | None = None
    """
    How precisely `occurred_on` is known: `day`; `week` (the ISO week, Monday to Sunday, that holds `occurred_on`); `month`; `year`. An uncertain date stands for its whole span: the `from`/`to` filters match an incident whose span overlaps the range.
    """
    announced_on: date_aliased | None = None
    """
    The day the measure was announced, where that differs from the day it happened or took effect (a closure announced on 18 October to take effect on 1 November). Optional, day precision.
    """
    effective_on: date_aliased | None = None
    """
    The day the measure took or takes effect, where that is known apart from `occurred_on` (which stays the incident's main date, that lists sort and filter by). Optional, day precision; may lie ahead for measures announced ahead (see `occurred_on`), by up to 366 days.
    """
    persons_affected: int | None = None
    location: str | None = None
    latitude: float | None = None
    """
    WGS 84.
    """
    longitude: float | None = None
    """
    WGS 84.
    """
    tags: list[str] | None = None
    status: RecordStatus | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    initiators: list[Initiator] | None = None
    """
    Actor ids, slugs or `scheme:value` codes (`iso3:RUS`); at least one.
    """
    targets: list[Target] | None = None
    """
    Actor ids, slugs or `scheme:value` codes (`iso3:RUS`); at least one.
    """
    responds_to: list[str] | None = None
    """
    Incident ids (or external_refs) this answers.
    """
    sources: list[str | CitedSource] | None = None
    """
    The sources cited, in order: each a source id (or url or external_ref), or an object `{source, provenance}` that keeps with the citation what the system the incident was taken from says of it (its id for the event and its numbers: see `Provenance`). A source is cited once.
    """


@dataclass(kw_only=True)
class PageActorPublic(Record):
    data: list[ActorPublic | ActorPublicFields]
    next_cursor: str | None
    """
    Pass as `cursor` for the next page; `null` on the last page.
    """
    total: int | None = None
    """
    Only with `count=true`: how many records match the list's filters for this caller, on every page together (the cursor and `limit` aside). Absent otherwise.
    """


@dataclass(kw_only=True)
class PageChannelPublic(Record):
    data: list[ChannelPublic | ChannelPublicFields]
    next_cursor: str | None
    """
    Pass as `cursor` for the next page; `null` on the last page.
    """
    total: int | None = None
    """
    Only with `count=true`: how many records match the list's filters for this caller, on every page together (the cursor and `limit` aside). Absent otherwise.
    """


@dataclass(kw_only=True)
class PageSourcePublic(Record):
    data: list[SourcePublic | SourcePublicFields]
    next_cursor: str | None
    """
    Pass as `cursor` for the next page; `null` on the last page.
    """
    total: int | None = None
    """
    Only with `count=true`: how many records match the list's filters for this caller, on every page together (the cursor and `limit` aside). Absent otherwise.
    """


@dataclass(kw_only=True)
class Participant(Record):
    actor: ActorRef
    role: ParticipantRole


@dataclass(kw_only=True)
class ParticipantIn(Record):
    actor: str
    """
    Actor id, slug or `scheme:value` code (`iso3:RUS`).
    """
    role: ParticipantRole | None = "participant"


@dataclass(kw_only=True)
class SourceCreate(Record):
    title: str
    url: str | None = None
    """
    Unique. An absolute `http` or `https` URL (else 422). Optional when the source has a `publisher` and an `external_ref` (a story of a news agency known by its id, with no address: an ICEWS story); a source needs one or the other.
    """
    publisher: str | None = None
    authors: list[str] | None = None
    published_on: date_aliased | None = None
    kind: SourceKind | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """


@dataclass(kw_only=True)
class Timeline(Record):
    data: list[TimelineEntry]
    next_cursor: str | None


@dataclass(kw_only=True)
class ExerciseLine(Record):
    """
    A line of an import: `type` `exercise` and the fields of ExerciseCreate.
    """

    name: str
    start_date: date_aliased
    participants: list[ParticipantIn]
    """
    At least one.
    """
    type: Literal["exercise"]
    aliases: list[str] | None = None
    end_date: date_aliased | None = None
    """
    Null while unknown.
    """
    date_precision: DatePrecision | None = "day"
    domains: list[ExerciseDomain] | None = None
    location: str | None = None
    region: str | None = None
    latitude: float | None = None
    """
    A representative point, WGS 84.
    """
    longitude: float | None = None
    """
    A representative point, WGS 84.
    """
    troops: int | None = None
    vessels: int | None = None
    aircraft: int | None = None
    summary: str | None = None
    tags: list[str] | None = None
    status: RecordStatus | None = "published"
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    sources: list[str] | None = None
    """
    Source ids (or urls or external_refs).
    """


@dataclass(kw_only=True)
class IncidentLine(Record):
    """
    A line of an import: `type` `incident` and the fields of IncidentCreate.
    """

    kind: IncidentKind
    title: str
    occurred_on: date_aliased
    """
    The day the incident happened; never in the future (422), except for measures announced ahead of the day they take effect: `staff_cap`, `mission_suspension`, `mission_closure`, `office_closure`, `liaison_suspension` and `sanctions` may be dated up to 366 days ahead (their effective date). Today is taken in any time zone (up to UTC+14).
    """
    initiators: list[Initiator]
    """
    Actor ids, slugs or `scheme:value` codes (`iso3:RUS`); at least one.
    """
    targets: list[Target]
    """
    Actor ids, slugs or `scheme:value` codes (`iso3:RUS`); at least one.
    """
    type: Literal["incident"]
    summary: str | None = None
    date_precision: DatePrecision | None = "day"
    """
    How precisely `occurred_on` is known: `day`; `week` (the ISO week, Monday to Sunday, that holds `occurred_on`); `month`; `year`. An uncertain date stands for its whole span: the `from`/`to` filters match an incident whose span overlaps the range.
    """
    announced_on: date_aliased | None = None
    """
    The day the measure was announced, where that differs from the day it happened or took effect (a closure announced on 18 October to take effect on 1 November). Optional, day precision.
    """
    effective_on: date_aliased | None = None
    """
    The day the measure took or takes effect, where that is known apart from `occurred_on` (which stays the incident's main date, that lists sort and filter by). Optional, day precision; may lie ahead for measures announced ahead (see `occurred_on`), by up to 366 days.
    """
    persons_affected: int | None = None
    location: str | None = None
    latitude: float | None = None
    """
    WGS 84.
    """
    longitude: float | None = None
    """
    WGS 84.
    """
    tags: list[str] | None = None
    status: RecordStatus | None = "published"
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    responds_to: list[str] | None = None
    """
    Incident ids (or external_refs) this answers.
    """
    sources: list[str | CitedSource] | None = None
    """
    The sources cited, in order: each a source id (or url or external_ref), or an object `{source, provenance}` that keeps with the citation what the system the incident was taken from says of it (its id for the event and its numbers: see `Provenance`). A source is cited once.
    """


@dataclass(kw_only=True)
class IncidentPublicFields(Record):
    """
    Some fields of a `IncidentPublic`, those `fields` names, in the same order.
    """

    kind: IncidentKind | None = None
    title: str | None = None
    summary: str | None = None
    occurred_on: date_aliased | None = None
    """
    The day the incident happened; never in the future (422), except for measures announced ahead of the day they take effect: `staff_cap`, `mission_suspension`, `mission_closure`, `office_closure`, `liaison_suspension` and `sanctions` may be dated up to 366 days ahead (their effective date). Today is taken in any time zone (up to UTC+14).
    """
    date_precision: DatePrecision | None = "day"
    """
    How precisely `occurred_on` is known: `day`; `week` (the ISO week, Monday to Sunday, that holds `occurred_on`); `month`; `year`. An uncertain date stands for its whole span: the `from`/`to` filters match an incident whose span overlaps the range.
    """
    announced_on: date_aliased | None = None
    """
    The day the measure was announced, where that differs from the day it happened or took effect (a closure announced on 18 October to take effect on 1 November). Optional, day precision.
    """
    effective_on: date_aliased | None = None
    """
    The day the measure took or takes effect, where that is known apart from `occurred_on` (which stays the incident's main date, that lists sort and filter by). Optional, day precision; may lie ahead for measures announced ahead (see `occurred_on`), by up to 366 days.
    """
    persons_affected: int | None = None
    location: str | None = None
    latitude: float | None = None
    """
    WGS 84.
    """
    longitude: float | None = None
    """
    WGS 84.
    """
    tags: list[str] | None = None
    status: RecordStatus | None = "published"
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None
    initiators: list[ActorRef] | None = None
    targets: list[ActorRef] | None = None
    responds_to: list[AnsweredRef] | None = None
    """
    The published incidents this answers. A link to a draft or a retracted incident is kept; it is shown, with its `status`, only on the incident's own path read with a `write` key, which may read those incidents (lists, chains, views and exports show every caller the same answer, without it). It shows to everyone again once that incident is published, and the record's history names it by id.
    """
    sources: list[CitedSourceRef] | None = None


@dataclass(kw_only=True)
class ExercisePublicFields(Record):
    """
    Some fields of a `ExercisePublic`, those `fields` names, in the same order.
    """

    name: str | None = None
    aliases: list[str] | None = None
    start_date: date_aliased | None = None
    end_date: date_aliased | None = None
    """
    Null while unknown.
    """
    date_precision: DatePrecision | None = "day"
    domains: list[ExerciseDomain] | None = None
    location: str | None = None
    region: str | None = None
    latitude: float | None = None
    """
    A representative point, WGS 84.
    """
    longitude: float | None = None
    """
    A representative point, WGS 84.
    """
    troops: int | None = None
    vessels: int | None = None
    aircraft: int | None = None
    summary: str | None = None
    tags: list[str] | None = None
    status: RecordStatus | None = "published"
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None
    participants: list[Participant] | None = None
    sources: list[SourceRef] | None = None


@dataclass(kw_only=True)
class ApiKeyPage(Record):
    data: list[ApiKeyPublic]


@dataclass(kw_only=True)
class ChainLink(Record):
    kind: IncidentKind
    title: str
    occurred_on: date_aliased
    """
    The day the incident happened; never in the future (422), except for measures announced ahead of the day they take effect: `staff_cap`, `mission_suspension`, `mission_closure`, `office_closure`, `liaison_suspension` and `sanctions` may be dated up to 366 days ahead (their effective date). Today is taken in any time zone (up to UTC+14).
    """
    id: str
    created_at: datetime
    updated_at: datetime
    version: int
    initiators: list[ActorRef]
    targets: list[ActorRef]
    responds_to: list[AnsweredRef]
    """
    The published incidents this answers. A link to a draft or a retracted incident is kept; it is shown, with its `status`, only on the incident's own path read with a `write` key, which may read those incidents (lists, chains, views and exports show every caller the same answer, without it). It shows to everyone again once that incident is published, and the record's history names it by id.
    """
    sources: list[CitedSourceRef]
    depth: int
    """
    0 for the chain's first move, n+1 for an answer to depth n.
    """
    summary: str | None = None
    date_precision: DatePrecision | None = "day"
    """
    How precisely `occurred_on` is known: `day`; `week` (the ISO week, Monday to Sunday, that holds `occurred_on`); `month`; `year`. An uncertain date stands for its whole span: the `from`/`to` filters match an incident whose span overlaps the range.
    """
    announced_on: date_aliased | None = None
    """
    The day the measure was announced, where that differs from the day it happened or took effect (a closure announced on 18 October to take effect on 1 November). Optional, day precision.
    """
    effective_on: date_aliased | None = None
    """
    The day the measure took or takes effect, where that is known apart from `occurred_on` (which stays the incident's main date, that lists sort and filter by). Optional, day precision; may lie ahead for measures announced ahead (see `occurred_on`), by up to 366 days.
    """
    persons_affected: int | None = None
    location: str | None = None
    latitude: float | None = None
    """
    WGS 84.
    """
    longitude: float | None = None
    """
    WGS 84.
    """
    tags: list[str] | None = None
    status: RecordStatus | None = "published"
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """


@dataclass(kw_only=True)
class ChainPage(Record):
    data: list[ChainLink]


@dataclass(kw_only=True)
class ChangePage(Record):
    data: list[ChangePublic]
    next_cursor: int | None
    """
    The `seq` to pass as `after` for the next page; null when there is nothing more yet.
    """


@dataclass(kw_only=True)
class ExerciseCreate(Record):
    name: str
    start_date: date_aliased
    participants: list[ParticipantIn]
    """
    At least one.
    """
    aliases: list[str] | None = None
    end_date: date_aliased | None = None
    """
    Null while unknown.
    """
    date_precision: DatePrecision | None = "day"
    domains: list[ExerciseDomain] | None = None
    location: str | None = None
    region: str | None = None
    latitude: float | None = None
    """
    A representative point, WGS 84.
    """
    longitude: float | None = None
    """
    A representative point, WGS 84.
    """
    troops: int | None = None
    vessels: int | None = None
    aircraft: int | None = None
    summary: str | None = None
    tags: list[str] | None = None
    status: RecordStatus | None = "published"
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    sources: list[str] | None = None
    """
    Source ids (or urls or external_refs).
    """


@dataclass(kw_only=True)
class ExercisePublic(Record):
    name: str
    start_date: date_aliased
    id: str
    created_at: datetime
    updated_at: datetime
    version: int
    participants: list[Participant]
    sources: list[SourceRef]
    aliases: list[str] | None = None
    end_date: date_aliased | None = None
    """
    Null while unknown.
    """
    date_precision: DatePrecision | None = "day"
    domains: list[ExerciseDomain] | None = None
    location: str | None = None
    region: str | None = None
    latitude: float | None = None
    """
    A representative point, WGS 84.
    """
    longitude: float | None = None
    """
    A representative point, WGS 84.
    """
    troops: int | None = None
    vessels: int | None = None
    aircraft: int | None = None
    summary: str | None = None
    tags: list[str] | None = None
    status: RecordStatus | None = "published"
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """


@dataclass(kw_only=True)
class ExerciseUpdate(Record):
    """
    A JSON merge patch: only the fields given change; `null` clears an optional field.
    """

    name: str | None = None
    aliases: list[str] | None = None
    start_date: date_aliased | None = None
    end_date: date_aliased | None = None
    """
    Null while unknown.
    """
    date_precision: DatePrecision | None = None
    domains: list[ExerciseDomain] | None = None
    location: str | None = None
    region: str | None = None
    latitude: float | None = None
    """
    A representative point, WGS 84.
    """
    longitude: float | None = None
    """
    A representative point, WGS 84.
    """
    troops: int | None = None
    vessels: int | None = None
    aircraft: int | None = None
    summary: str | None = None
    tags: list[str] | None = None
    status: RecordStatus | None = None
    external_ref: str | None = None
    """
    Natural key for upserts from other systems.
    """
    participants: list[ParticipantIn] | None = None
    """
    At least one.
    """
    sources: list[str] | None = None
    """
    Source ids (or urls or external_refs).
    """


@dataclass(kw_only=True)
class PageExercisePublic(Record):
    data: list[ExercisePublic | ExercisePublicFields]
    next_cursor: str | None
    """
    Pass as `cursor` for the next page; `null` on the last page.
    """
    total: int | None = None
    """
    Only with `count=true`: how many records match the list's filters for this caller, on every page together (the cursor and `limit` aside). Absent otherwise.
    """


@dataclass(kw_only=True)
class PageIncidentPublic(Record):
    data: list[IncidentPublic | IncidentPublicFields]
    next_cursor: str | None
    """
    Pass as `cursor` for the next page; `null` on the last page.
    """
    total: int | None = None
    """
    Only with `count=true`: how many records match the list's filters for this caller, on every page together (the cursor and `limit` aside). Absent otherwise.
    """


@dataclass(kw_only=True)
class Dyad(Record):
    a: ActorRef
    b: ActorRef
    as_of: date_aliased
    window_days: int
    channels: list[ChannelPublic]
    incident_counts: IncidentCounts
    latest_incidents: list[IncidentPublic]
    active_exercises: list[ExercisePublic]
