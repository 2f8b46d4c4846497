"""Converters: the event data sets' own files, as import lines.

``POST /v1/import?from=gdelt|icews|acled|plover`` (and so ``demarche import --from``, which
sends the files there) reads a file of one of these formats and turns each row that lies in
the diplomatic space into an incident line (with the source and state actor lines it needs)
for :class:`app.ingest.service.Importer`, which writes them as any import. Rows are read one
at a time (a zipped file member by member, as it is inflated): memory holds the rows of one
batch, the ids seen so far in the file and the countries resolved, not the file.

Every row read is accounted for in a :class:`Report`: kept (and then written as created,
updated or unchanged), or skipped for a reason, counted per event code; and every non-empty
source field of a kept row that has no place in the record yet is counted as dropped, by
field. What the data set says of the event (its id there, its numbers) is kept as the
provenance of the row's citation: of its own source (a story's URL; ICEWS's publisher and
story id), else of the data set (``DATASETS``). The mapping per format is in docs/event-data.md.

Countries become actors thus: a country code (ISO alpha-3; CAMEO actor codes by their first
three letters; GDELT's FIPS 10-4 and ISO numeric and English names through
:mod:`app.ingest.codes`) names the live ``state`` actor of that ``country_code`` (the first
by slug if several); when there is none, an actor line creates one (slug from the country's
English name, ``-`` and the code added when that slug is taken; ``external_ref``
``iso3:XXX``). An actor code that names no country (``IGOUNO``, an ACLED militia) is counted
under ``unmapped_actors`` and its row skipped when its side then has no actor.
"""

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import or_, select
from sqlmodel import Session

from app.actors.codes import CAMEO_ROLES
from app.actors.models import Actor
from app.incidents.models import latest_day
from app.ingest import codes
from app.sources.models import Source
from app.vocab import (
    CAMEO_KINDS,
    INCIDENT_CODES,
    PLOVER_KINDS,
    ActorKind,
    DatePrecision,
    IncidentKind,
    label,
    span_end,
    span_start,
)

MILITARY_CAMEO = frozenset({"062", "150", "152", "154"})
"""CAMEO codes of military cooperation and shows of force (joint exercises are coded 062):
counted apart, as ``military_not_converted``, since they do not tell an exercise from an arms
deal or a mobilisation, and Demarche's exercises need what they do not say (name, domains,
participants' roles)."""

GDELT_COLUMNS = (
    "GLOBALEVENTID SQLDATE MonthYear Year FractionDate "
    "Actor1Code Actor1Name Actor1CountryCode Actor1KnownGroupCode Actor1EthnicCode Actor1Religion1Code "
    "Actor1Religion2Code Actor1Type1Code Actor1Type2Code Actor1Type3Code "
    "Actor2Code Actor2Name Actor2CountryCode Actor2KnownGroupCode Actor2EthnicCode Actor2Religion1Code "
    "Actor2Religion2Code Actor2Type1Code Actor2Type2Code Actor2Type3Code "
    "IsRootEvent EventCode EventBaseCode EventRootCode QuadClass GoldsteinScale NumMentions NumSources "
    "NumArticles AvgTone "
    "Actor1Geo_Type Actor1Geo_FullName Actor1Geo_CountryCode Actor1Geo_ADM1Code Actor1Geo_ADM2Code "
    "Actor1Geo_Lat Actor1Geo_Long Actor1Geo_FeatureID "
    "Actor2Geo_Type Actor2Geo_FullName Actor2Geo_CountryCode Actor2Geo_ADM1Code Actor2Geo_ADM2Code "
    "Actor2Geo_Lat Actor2Geo_Long Actor2Geo_FeatureID "
    "ActionGeo_Type ActionGeo_FullName ActionGeo_CountryCode ActionGeo_ADM1Code ActionGeo_ADM2Code "
    "ActionGeo_Lat ActionGeo_Long ActionGeo_FeatureID DATEADDED SOURCEURL"
).split()
"""The 61 columns of a GDELT 2.0 event export, in order (GDELT 2.0 Event Codebook)."""
GDELT_USED = {
    "GLOBALEVENTID",
    "SQLDATE",
    "Actor1Code",
    "Actor1CountryCode",
    "Actor2Code",
    "Actor2CountryCode",
    "EventCode",
    "ActionGeo_Type",
    "ActionGeo_FullName",
    "ActionGeo_CountryCode",
    "ActionGeo_Lat",
    "ActionGeo_Long",
    "SOURCEURL",
    "IsRootEvent",
    "QuadClass",
    "GoldsteinScale",
    "NumMentions",
    "NumSources",
    "NumArticles",
    "AvgTone",
    "DATEADDED",
}
GDELT_DERIVED = {"MonthYear", "Year", "FractionDate", "EventBaseCode", "EventRootCode"}
"""Columns that restate others (the date, the event code's prefixes): neither mapped nor dropped."""

ICEWS_COLUMNS = (
    "Event ID",
    "Event Date",
    "Source Name",
    "Source Sectors",
    "Source Country",
    "Event Text",
    "CAMEO Code",
    "Intensity",
    "Target Name",
    "Target Sectors",
    "Target Country",
    "Story ID",
    "Sentence Number",
    "Publisher",
    "City",
    "District",
    "Province",
    "Country",
    "Latitude",
    "Longitude",
)
ICEWS_USED = {
    "Event ID",
    "Event Date",
    "Source Country",
    "Source Sectors",
    "CAMEO Code",
    "Target Country",
    "Target Sectors",
    "City",
    "District",
    "Province",
    "Country",
    "Latitude",
    "Longitude",
    "Intensity",
    "Story ID",
    "Sentence Number",
    "Publisher",
}
ICEWS_SECTOR_ROLES = {
    "government": "GOV",
    "military": "MIL",
    "police": "COP",
    "intelligence": "SPY",
    "judicial": "JUD",
    "legislative / parliamentary": "LEG",
}
"""ICEWS's sectors of a state's own bodies, as the CAMEO roles they are
(:data:`app.actors.codes.CAMEO_ROLES`): a side whose first such sector is ``Government`` is
its country's government. Other sectors (``Business``, ``Media``, ``Opposition``…) leave the
country to stand for the side."""

ICEWS_DERIVED = {"Event Text"}
"""ICEWS's ``Event Text`` is the CAMEO code's label."""

ACLED_COLUMNS = (
    "event_id_cnty event_date year time_precision disorder_type event_type sub_event_type actor1 "
    "assoc_actor_1 inter1 actor2 assoc_actor_2 inter2 interaction civilian_targeting iso region country "
    "admin1 admin2 admin3 location latitude longitude geo_precision source source_scale notes fatalities "
    "tags timestamp"
).split()
ACLED_USED = {
    "event_id_cnty",
    "event_date",
    "time_precision",
    "event_type",
    "sub_event_type",
    "actor1",
    "actor2",
    "country",
    "admin1",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "notes",
    "fatalities",
    "source",
    "source_scale",
}
ACLED_DERIVED = {"year", "iso", "region", "disorder_type", "inter1", "inter2", "interaction"}
"""ACLED columns that restate others (the date's year, the event country's codes and region,
the event type's class, the actors' types, which their names carry, and their pair)."""
ACLED_KEPT_SUB_EVENTS = frozenset({"Other", "Change to group/activity", "Agreement"})
"""ACLED's codebook has no diplomatic event type: what comes nearest is a strategic
development between the state forces of two countries; those of these sub-event types are
kept, as kind ``other``, to be classified by hand."""
ACLED_STATE = re.compile(r"^(?:Military Forces|Police Forces|Government) of (.+?) \(\d{4}-\d{0,4}\)")
"""ACLED's naming of state forces: ``Military Forces of Russia (2000-)``,
``Government of Ukraine (2019-)`` (the years always given), optionally followed by a unit."""

PLOVER_USED = {
    "id",
    "date",
    "actor",
    "recipient",
    "source",
    "target",
    "event",
    "mode",
    "context",
    "text",
    "event_loc",
    "cite_info",
    "demarche",
    "quad_code",
    "event_scale",
    "enddate",
}
PLOVER_OWN_USED = {"kind", "title", "date_precision", "sources", "id", "external_ref"}
"""What the converter reads of the ``demarche`` object of the records Demarche writes
(``format=plover``, :mod:`app.ingest.plover`); its ``id`` and ``external_ref`` name the
record it was exported from, which the imported incident is not: neither is counted."""
"""PLOVER fields read (``source``/``target`` are the gold-standard records' 0.5 names for
``actor``/``recipient``)."""
PLOVER_PLACEHOLDER = date(2000, 1, 1)
"""The date the PLOVER gold-standard records carry when the story's is not known: taken as
its year, ``date_precision`` ``year``, and counted as dropped (``date (placeholder)``)."""

DATASETS: dict[str, dict[str, Any]] = {
    "gdelt": {
        "url": "https://www.gdeltproject.org/",
        "title": "GDELT 2.0 Event Database",
        "publisher": "The GDELT Project",
        "external_ref": "dataset:gdelt",
    },
    "icews": {
        "url": "https://dataverse.harvard.edu/dataverse/icews",
        "title": "Integrated Crisis Early Warning System (ICEWS) Coded Event Data",
        "publisher": "ICEWS",
        "external_ref": "dataset:icews",
    },
    "acled": {
        "url": "https://acleddata.com/",
        "title": "Armed Conflict Location & Event Data (ACLED)",
        "publisher": "ACLED",
        "external_ref": "dataset:acled",
    },
    "plover": {
        "url": "https://github.com/openeventdata/PLOVER",
        "title": "PLOVER-coded event data",
        "publisher": "Open Event Data Alliance",
        "external_ref": "dataset:plover",
    },
}
"""The data set itself, as the source a row cites when it names none of its own (ACLED's
rows, which name publishers but no story; a GDELT row whose URL is not one; an ICEWS row
without its story's id or publisher; a PLOVER record without ``cite_info.url``): the row's
provenance is kept with that citation."""

MAX_TITLE, MAX_LOCATION, MAX_SUMMARY, MAX_REF = 500, 300, 20_000, 200


class ConversionError(ValueError):
    """A file that cannot be read as the format at all (not a zip, no header…)."""


@dataclass
class Report:
    """What a conversion read: rows, kept, skipped by reason and code, fields dropped."""

    format: str
    rows: int = 0
    kept: int = 0
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    unmapped_actors: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    actors_created: list[str] = field(default_factory=list)

    def skip(self, reason: str, code: str | None) -> None:
        by_code = self.skipped.setdefault(reason, {})
        by_code[code or "-"] = by_code.get(code or "-", 0) + 1

    _row_drops: list[str] = field(default_factory=list)

    def drop(self, name: str) -> None:
        """Count ``name`` as dropped from the row being read, should it be kept."""
        self._row_drops.append(name)

    def keep(self) -> None:
        self.kept += 1
        for name in self._row_drops:
            self.dropped[name] = self.dropped.get(name, 0) + 1
        self._row_drops.clear()

    def unmapped(self, code: str) -> None:
        self.unmapped_actors[code] = self.unmapped_actors.get(code, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        skipped_total = sum(n for by_code in self.skipped.values() for n in by_code.values())
        return {
            "format": self.format,
            "rows": self.rows,
            "kept": self.kept,
            "skipped_total": skipped_total,
            "skipped": {reason: dict(sorted(c.items())) for reason, c in sorted(self.skipped.items())},
            "unmapped_actors": dict(sorted(self.unmapped_actors.items())),
            "dropped": dict(sorted(self.dropped.items())),
            "actors_created": self.actors_created,
        }


class Skip(Exception):  # noqa: N818 - a row's outcome, not an error
    def __init__(self, reason: str) -> None:
        self.reason = reason


class Lookup:
    """What a conversion needs from the database: the state actor of each country (made
    when missing, as an actor line) and whether a source's url is stored."""

    def __init__(self, session: Session, report: Report) -> None:
        self.session = session
        self.report = report
        self._countries: dict[str, str] = {}
        self.names: dict[str, str] = {}
        """Each country's actor's name, for titles."""
        self._sources: set[str] = set()
        self._unchecked: set[str] = set()
        """The keys of the source lines given since :meth:`drop_stored` last ran."""

    def country(self, code: str) -> tuple[str, dict[str, Any] | None]:
        """The slug of the state actor of ``code`` and, the first time it must be created,
        its actor line."""
        if code in self._countries:
            return self._countries[code], None
        stmt = (
            select(Actor.slug, Actor.name)
            .where(
                Actor.kind == ActorKind.state,
                or_(Actor.country_code == code, Actor.code_iso3 == code),
                Actor.retracted_at.is_(None),
            )
            .order_by(Actor.slug)
            .limit(1)
        )
        found = self.session.execute(stmt).first()
        slug, name = found if found else (None, codes.country_name(code))
        line = None
        if slug is None:
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:90] or code.lower()
            taken = self.session.execute(select(Actor.id).where(Actor.slug == slug)).first()
            if taken or slug in self._countries.values():
                slug = f"{slug}-{code.lower()}"
            line = {
                "type": "actor",
                "slug": slug,
                "name": name,
                "kind": "state",
                "country_code": code,
                "codes": codes.state_codes(code),
                "external_ref": f"iso3:{code}",
            }
            self.report.actors_created.append(slug)
        self._countries[code] = slug
        self.names[code] = name
        return slug, line

    def actor(self, code: str) -> tuple[str, list[dict[str, Any]]]:
        """The slug of the actor of ``code``, a country's ISO alpha-3 code or a CAMEO code of
        a country and one of a state's roles (``RUSGOV``), and the actor lines to write first
        when they must be created: the state, and the body of the role, affiliated to it
        (``russia-government``, "Government of Russia", CAMEO code ``RUSGOV``)."""
        country, role = code[:3], code[3:]
        slug, line = self.country(country)
        lines = [line] if line else []
        if not role:
            return slug, lines
        if code in self._countries:
            return self._countries[code], lines
        stmt = select(Actor.slug, Actor.name).where(Actor.code_cameo == code, Actor.retracted_at.is_(None))
        found = self.session.execute(stmt).first()
        if found:
            body, name = found
        else:
            word, label = CAMEO_ROLES[role]
            body, name = f"{slug}-{word}"[:90], label.format(self.names[country])
            if self.session.execute(select(Actor.id).where(Actor.slug == body)).first():
                body = f"{body}-{code.lower()}"
            lines.append(
                {
                    "type": "actor",
                    "slug": body,
                    "name": name,
                    "kind": "body",
                    "country_code": country,
                    "affiliation": slug,
                    "codes": {"cameo": code},
                    "external_ref": f"cameo:{code}",
                }
            )
            self.report.actors_created.append(body)
        self._countries[code] = body
        self.names[code] = name
        return body, lines

    def source_line(self, key: str, line: dict[str, Any]) -> dict[str, Any] | None:
        """``line``, the source line of the source named by ``key`` (its url, else its
        external_ref), the first time it is met; :meth:`drop_stored` drops it if the source
        is stored."""
        if key in self._sources:
            return None
        self._sources.add(key)
        self._unchecked.add(key)
        return {"type": "source", **line, "title": line["title"][:MAX_TITLE]}

    def drop_stored(self, lines: list["Line"]) -> None:
        """Drops from ``lines`` the source lines given since the last call whose source is
        stored (by its url or external_ref): a stored source is cited as it is, never written
        over with what a converter guesses. One Core statement (no ORM loading) for them all."""
        keys, self._unchecked = self._unchecked, set()
        if not keys:
            return
        named = list(keys)
        rows = self.session.connection().execute(
            select(Source.url, Source.external_ref).where(or_(Source.url.in_(named), Source.external_ref.in_(named)))
        )
        stored = {key for row in rows for key in row if key in keys}
        if stored:
            lines[:] = [(n, line) for n, line in lines if line["type"] != "source" or _key(line) not in stored]


Line = tuple[int, dict[str, Any]]
Reader = Callable[[IO[bytes], Report], Iterator[tuple[int, Any]]]
"""Reads a file's rows, numbered by their line; a reader may count rows it passes over
itself, in the report, rather than pass them on."""


@dataclass
class Event:
    """One row, read: what an incident line is made of."""

    ref: str
    kind: IncidentKind
    code: str
    occurred_on: date
    initiators: list[str]
    targets: list[str]
    title_action: str
    precision: str = "day"
    summary: str | None = None
    location: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    url: str | None = None
    url_title: str | None = None
    publisher: str | None = None
    title: str | None = None
    """The whole title, where the record gives one (a record Demarche wrote); else it is made
    of the sides and the action."""
    further_sources: list[tuple[str | None, str | None, str | None, dict[str, Any] | None]] = field(
        default_factory=list
    )
    """Sources cited beside ``url``: url, title, publisher and the citation's provenance."""
    story: tuple[str, str] | None = None
    """A story known by its publisher and its id, with no URL (ICEWS's)."""
    provenance: dict[str, Any] = field(default_factory=dict)
    """What the data set says of the event: its id there and its numbers (see
    :class:`app.sources.models.Provenance`), kept with the citation."""
    tags: list[str] = field(default_factory=list)
    own: bool = False
    """A record Demarche wrote (``format=plover``): it cites the sources it names as they are,
    with no provenance (its id is Demarche's, not a data set's) and no data set."""


def convert(format_: str, body: IO[bytes], lookup: Lookup) -> Iterator[Line]:
    """The import lines of ``body``, a file of ``format_``, numbered by the row they come from."""
    report = lookup.report
    reader: Reader = READERS[format_]
    read: Callable[[Any, Report], Event] = ROWS[format_]
    seen: set[str] = set()
    pending: list[Line] = []
    for number, row in _readable(reader(body, report)):
        report.rows += 1
        try:
            event = read(row, report)
            if event.ref in seen:
                raise Skip("duplicate")
            lines = list(_lines(format_, event, lookup))
        except Skip as skip:
            report._row_drops.clear()
            report.skip(skip.reason, _code(format_, row))
            continue
        seen.add(event.ref)
        report.keep()
        pending += ((number, line) for line in lines)
        if len(pending) >= GROUPED_LINES:
            yield from _grouped(pending, lookup)
    yield from _grouped(pending, lookup)


GROUPED_LINES = 900
"""Lines of consecutive rows passed on together, by type (:func:`_grouped`)."""
TYPE_ORDER = {"actor": 0, "source": 1, "incident": 2}


def _grouped(pending: list[Line], lookup: Lookup) -> Iterator[Line]:
    """The lines of a few hundred rows, their actors first, then their sources (those not
    stored), then their incidents (each type in row order; a line names only those before
    it), emptied: the import creates records of a type that follow each other together, so
    that one row's actor, source and incident in turn would make each a write of its own."""
    lookup.drop_stored(pending)
    pending.sort(key=lambda line: TYPE_ORDER[line[1]["type"]])
    yield from pending
    pending.clear()


def _readable(rows: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    """The rows, a zip member that breaks off while it is read (a bad CRC, a truncated
    stream) told as a :class:`ConversionError`."""
    try:
        yield from rows
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise ConversionError(f"The file cannot be read to its end: {exc}.") from None


def _code(format_: str, row: Any) -> str | None:
    """The event code a skipped row is counted under."""
    if not isinstance(row, dict):
        return None
    if format_ == "gdelt":
        return row.get("EventCode")
    if format_ == "icews":
        return _cameo(row.get("CAMEO Code"))
    if format_ == "acled":
        return "/".join(v for v in (row.get("event_type"), row.get("sub_event_type")) if v) or None
    events = _list(row.get("event"))
    modes = _list(row.get("mode"))
    return "/".join(str(v) for v in (events[:1] + modes[:1])) or None


def _clean(value: Any) -> Any:
    """Text without NUL characters (which no database column takes)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _lines(format_: str, event: Event, lookup: Lookup) -> Iterator[dict[str, Any]]:
    for line in _raw_lines(format_, event, lookup):
        yield {key: _clean(value) for key, value in line.items()}


def _raw_lines(format_: str, event: Event, lookup: Lookup) -> Iterator[dict[str, Any]]:
    if {c[:3] for c in event.initiators} == {c[:3] for c in event.targets}:
        raise Skip("same_country")
    initiators: list[str] = []
    targets: list[str] = []
    for codes_, slugs in ((event.initiators, initiators), (event.targets, targets)):
        for code in codes_:
            slug, actor_lines = lookup.actor(code)
            yield from actor_lines
            if slug not in slugs:
                slugs.append(slug)
    key, line = _source(format_, event)
    citations: list[Any] = []
    if key is not None:
        if source := lookup.source_line(key, line):
            yield source
        citations.append(key if event.own else {"source": key, "provenance": {"system": format_, **event.provenance}})
    cited = {key}
    for url, url_title, publisher, provenance in event.further_sources:
        if not url or url in cited:
            continue
        host = urlsplit(url).hostname or url
        further = {"url": url, "title": url_title or host, "publisher": (publisher or host)[:300], "kind": "news"}
        if source := lookup.source_line(url, further):
            yield source
        citations.append({"source": url, "provenance": provenance} if provenance else url)
        cited.add(url)
    names = " and ".join(lookup.names[c] for c in event.initiators)
    to = " and ".join(lookup.names[c] for c in event.targets)
    yield {
        "type": "incident",
        "kind": event.kind.value,
        "title": (event.title or f"{names} → {to}: {event.title_action}")[:MAX_TITLE],
        "summary": event.summary[:MAX_SUMMARY] if event.summary else None,
        "occurred_on": event.occurred_on.isoformat(),
        "date_precision": event.precision,
        "initiators": initiators,
        "targets": targets,
        "location": event.location[:MAX_LOCATION] if event.location else None,
        "latitude": event.latitude,
        "longitude": event.longitude,
        "sources": citations,
        "tags": event.tags,
        "external_ref": event.ref[:MAX_REF],
    }


def _key(source: dict[str, Any]) -> str:
    """The key a source line is named by: its url, else its external_ref (see :func:`_source`)."""
    return source.get("url") or source["external_ref"]


def _source(format_: str, event: Event) -> tuple[str | None, dict[str, Any]]:
    """The source a row cites, by the key an import line names it by (its url, else its
    external_ref), and its line: the story's own (a URL; ICEWS's publisher and story id), else
    the data set's; none for a record Demarche wrote (``format=plover``) that names none, as
    its incident cited none."""
    if event.url:
        host = urlsplit(event.url).hostname or event.url
        title, publisher = event.url_title or host, event.publisher or host
        return event.url, {"url": event.url, "title": title, "publisher": publisher[:300], "kind": "news"}
    if event.story:
        publisher, story_id = event.story
        ref = f"{format_}-story:{story_id}"[:MAX_REF]
        line = {"title": f"{publisher}, story {story_id}", "publisher": publisher[:300], "kind": "news"}
        return ref, {**line, "external_ref": ref}
    if event.own:
        return None, {}
    dataset = DATASETS[format_]
    return dataset["url"], {**dataset, "kind": "dataset"}


# -- reading files -----------------------------------------------------------------------


def _binary(body: IO[bytes]) -> Iterator[IO[bytes]]:
    """The file's bytes: each member of a zip archive in turn (inflated as it is read), or
    the file itself."""
    head = body.read(4)
    body.seek(0)
    if head == b"PK\x03\x04":
        try:
            archive = zipfile.ZipFile(body)
            members = [m for m in archive.infolist() if not m.is_dir()]
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ConversionError(f"The body looks like a zip archive but cannot be read: {exc}.") from None
        for member in members:
            try:
                with archive.open(member) as raw:
                    yield raw
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
                raise ConversionError(f"The zip member {member.filename!r} cannot be read: {exc}.") from None
        return
    yield body


def _text(body: IO[bytes]) -> Iterator[IO[str]]:
    """The file as text: each member of a zip archive in turn, or the file itself."""
    for raw in _binary(body):
        yield _decoded(raw)


def _decoded(raw: IO[bytes]) -> IO[str]:
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")


def _csv_rows(text: Iterable[str], delimiter: str, columns: list[str], offset: int = 1) -> Iterator[tuple[int, Any]]:
    """Rows as dicts of ``columns``. A row of the wrong number of cells, or one the csv
    module cannot read (a NUL byte), is passed on as ``None`` (skipped as ``bad_row``)."""
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    rows = csv.reader(text, delimiter=delimiter, quoting=quoting)
    while True:
        try:
            cells = next(rows)
        except StopIteration:
            return
        except csv.Error:
            yield rows.line_num + offset, None
            continue
        if not any(c.strip() for c in cells):
            continue
        yield rows.line_num + offset, dict(zip(columns, cells, strict=True)) if len(cells) == len(columns) else None


def _header(first: str, delimiter: str) -> list[str]:
    try:
        return [c.strip() for c in next(csv.reader([first], delimiter=delimiter))]
    except (csv.Error, StopIteration):
        return []


def _gdelt_files(body: IO[bytes], report: Report) -> Iterator[tuple[int, Any]]:
    """GDELT 2.0 exports: tab-separated without a header (the published files), or the same
    columns with a header row (tab- or comma-separated, as BigQuery writes CSV)."""
    for raw in _binary(body):
        first = raw.readline().removeprefix(codecs.BOM_UTF8)
        if first.upper().startswith(b"GLOBALEVENTID"):
            text = first.decode("utf-8", "replace")
            delimiter = "\t" if "\t" in text else ","
            header = _header(text, delimiter)
            missing = [c for c in GDELT_USED if c not in header]
            if missing:
                raise ConversionError(f"The GDELT header lacks the columns {', '.join(sorted(missing))}.")
            yield from _csv_rows(_decoded(raw), delimiter, header)
        else:
            yield from _gdelt_scan(_line_blocks(first, raw), report)


GDELT_TABS = len(GDELT_COLUMNS) - 1
GDELT_CODE = GDELT_COLUMNS.index("EventCode")


SCAN_BYTES = 1 << 20
"""Bytes of a published GDELT export read at a time: the lines of a block are split out
together, and those of a block without a NUL are not each looked through for one."""


def _line_blocks(first: bytes, raw: IO[bytes]) -> Iterator[tuple[list[bytes], bool]]:
    """The lines of ``first`` and of the rest of ``raw`` (without their ``\\n``), a block's
    worth at a time, each block with whether it holds a NUL."""
    rest = first
    for block in iter(lambda: raw.read(SCAN_BYTES), b""):
        data = rest + block
        lines = data.split(b"\n")
        rest = lines.pop()
        yield lines, b"\x00" in data
    if rest:  # the last line without its line end, or a file of one line (``first``, ended)
        yield rest.split(b"\n"), b"\x00" in rest


def _gdelt_scan(blocks: Iterable[tuple[list[bytes], bool]], report: Report) -> Iterator[tuple[int, Any]]:
    """The rows of a published GDELT export (61 tab-separated columns) that a conversion
    reads: a row is first looked at by its event code alone, undecoded, and one of a code
    that is not imported is counted here (``out_of_scope`` or ``military_not_converted``,
    by code) and goes no further, so that the many rows out of the diplomatic space cost
    almost nothing. The others are passed on as dicts of the columns; a row of another
    number of cells, or holding a NUL, as ``None`` (``bad_row``), as :func:`_csv_rows` does."""
    kinds: dict[bytes, bool] = {}
    """Whether each event code met (as written) is imported."""
    passed: dict[bytes, int] = {}
    """Rows not imported, by their code as written."""
    number = 0
    try:
        for lines, nul in blocks:
            for line in lines:
                number += 1
                if line.count(b"\t") != GDELT_TABS or nul and b"\x00" in line:
                    if line.strip():
                        yield number, None
                    continue
                code = line.split(b"\t", GDELT_CODE + 1)[GDELT_CODE]
                imported = kinds.get(code)
                if imported is None:
                    imported = kinds[code] = _cameo(code.decode("utf-8", "replace")) in CAMEO_KINDS
                if imported:
                    cells = line.decode("utf-8", "replace").rstrip("\r").split("\t")
                    yield number, dict(zip(GDELT_COLUMNS, cells, strict=True))
                elif code or line.strip():  # a line of tabs alone is blank, not a row
                    passed[code] = passed.get(code, 0) + 1
    finally:
        for code, n in passed.items():
            text = code.decode("utf-8", "replace")
            reason = "military_not_converted" if _cameo(text) in MILITARY_CAMEO else "out_of_scope"
            by_code = report.skipped.setdefault(reason, {})
            by_code[text or "-"] = by_code.get(text or "-", 0) + n
            report.rows += n


def _chain(first: Any, text: Iterable[Any]) -> Iterator[Any]:
    yield first
    yield from text


def _header_first(name: str, separator: str, used: set[str]) -> "Reader":
    """A reader of files (or zipped files) whose first row names the columns, ``used`` among them."""

    def files(body: IO[bytes], report: Report) -> Iterator[tuple[int, Any]]:
        for text in _text(body):
            header = _header(text.readline(), separator)
            missing = [c for c in used if c not in header]
            if missing:
                raise ConversionError(
                    f"{name} starts with its header row; it lacks the columns {', '.join(sorted(missing))}."
                )
            yield from _csv_rows(text, separator, header)

    return files


_icews_files = _header_first("An ICEWS file", "\t", ICEWS_USED)
_acled_files = _header_first("An ACLED export", ",", ACLED_USED)


def _plover_files(body: IO[bytes], report: Report) -> Iterator[tuple[int, Any]]:
    """PLOVER records: JSON lines (as the manual suggests), or one JSON array (read whole)."""
    for text in _text(body):
        first = text.readline()
        if first.lstrip().startswith("["):
            try:
                items = orjson.loads(first + text.read())
            except orjson.JSONDecodeError as exc:
                raise ConversionError(f"The body starts a JSON array but is not JSON: {exc}.") from None
            yield from enumerate(items if isinstance(items, list) else [items], start=1)
            continue
        for number, line in enumerate(_chain(first, text), start=1):
            if not line.strip():
                continue
            try:
                yield number, orjson.loads(line)
            except orjson.JSONDecodeError:
                yield number, None


READERS: dict[str, Reader] = {
    "gdelt": _gdelt_files,
    "icews": _icews_files,
    "acled": _acled_files,
    "plover": _plover_files,
}


# -- reading rows ------------------------------------------------------------------------


def _drop_unused(row: dict[str, Any], used: Iterable[str], derived: Iterable[str], report: Report) -> None:
    skip = {*used, *derived}
    for name, value in row.items():
        if name not in skip and value not in (None, "", [], {}):
            report.drop(name)


def _day(text: str, *formats: str) -> date:
    for format_ in formats:
        try:
            day = datetime.strptime(text.strip(), format_).date()
        except ValueError:
            continue
        if day > latest_day(None) or day.year < 1800:
            raise Skip("bad_date")
        return day
    raise Skip("bad_date")


def _cameo(code: Any) -> str:
    """A CAMEO event code as text, its leading zero restored where a spreadsheet took it
    (``54`` is 054, ``311`` is 0311: roots run from 01 to 20)."""
    code = str(code or "").strip()
    if code.isdigit() and int(code[:2]) > 20:
        code = "0" + code
    return code


def _kind(code: str) -> IncidentKind:
    kind = CAMEO_KINDS.get(code)
    if kind is None:
        raise Skip("military_not_converted" if code in MILITARY_CAMEO else "out_of_scope")
    return kind


def _cameo_action(code: str, kind: IncidentKind) -> str:
    codes_ = INCIDENT_CODES[kind]
    text = codes_.cameo_label if codes_.cameo == code else label(kind.value)
    return f"{text} (CAMEO {code})"


def _side(raw: list[str], resolve: Callable[[str], str | None], report: Report, missing: str) -> list[str]:
    raw = [r for r in raw if r and r.strip()]
    if not raw:
        raise Skip(missing)
    found = []
    for code in raw:
        country = resolve(code)
        if country is None:
            report.unmapped(code.strip())
        elif country not in found:
            found.append(country)
    if not found:
        raise Skip("unmapped_actor")
    return found


def _number(text: Any, low: float, high: float) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if low <= value <= high else None


def _coordinates(row: dict[str, Any], lat: str, lon: str, report: Report, centroid: bool) -> tuple[Any, Any]:
    """The row's coordinates, or none: those of a whole country (its centroid, not the place
    of the event) and those out of range are counted as dropped."""
    if not (row.get(lat) or row.get(lon)):
        return None, None
    latitude, longitude = _number(row.get(lat), -90, 90), _number(row.get(lon), -180, 180)
    if centroid:
        report.drop(f"{lat}/{lon} (country centroid)")
        return None, None
    if latitude is None or longitude is None:
        report.drop(f"{lat}/{lon} (out of range)")
        return None, None
    return latitude, longitude


MAX_COUNT = 2_147_483_647
Reading = tuple[str, Callable[[Any], Any]]
"""A provenance field and how a source field's text becomes its value (None when it cannot)."""


def _whole(low: int, high: int) -> Callable[[Any], int | None]:
    def read(text: Any) -> int | None:
        value = _number(text, low, high)
        return int(value) if value is not None and value == int(value) else None

    return read


def _real(low: float, high: float) -> Callable[[Any], float | None]:
    return lambda text: _number(text, low, high)


def _text_of(limit: int) -> Callable[[Any], str | None]:
    return lambda text: str(text).strip()[:limit] or None


def _provenance(row: dict[str, Any], readings: dict[str, Reading], report: Report) -> dict[str, Any]:
    """The provenance fields ``readings`` takes from ``row``; a value that is given but cannot
    be read (not a number, out of its range) is counted as dropped, ``FIELD (unreadable)``."""
    out: dict[str, Any] = {}
    for name, (key, read) in readings.items():
        text = row.get(name)
        if text in (None, ""):
            continue
        value = read(text)
        if value is None:
            report.drop(f"{name} (unreadable)")
        else:
            out[key] = value
    return out


def _url(text: Any, report: Report, name: str) -> str | None:
    text = str(text or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.hostname and len(text) <= 2000 and " " not in text:
        return text
    report.drop(f"{name} (not an http(s) URL)")
    return None


def _coded(
    row: dict[str, str] | None, code_column: str, date_column: str, id_column: str, *date_formats: str
) -> tuple[dict[str, str], str, IncidentKind, date, str]:
    """A CAMEO-coded row (GDELT's, ICEWS's) with its code, the kind it imports as, its day
    and its id; skipped when it is none of these."""
    if row is None:
        raise Skip("bad_row")
    code = _cameo(row.get(code_column))
    kind = _kind(code)
    day = _day(row.get(date_column, ""), *date_formats)
    event_id = (row.get(id_column) or "").strip()
    if not event_id:
        raise Skip("no_id")
    return row, code, kind, day, event_id


def _added(text: Any) -> str | None:
    """GDELT's ``DATEADDED`` (``YYYYMMDDHHMMSS``, or ``YYYYMMDD``) as the day, ``YYYY-MM-DD``."""
    try:
        return datetime.strptime(str(text).strip()[:8], "%Y%m%d").date().isoformat()
    except ValueError:
        return None


GDELT_NUMBERS: dict[str, Reading] = {
    "IsRootEvent": ("root_event", lambda text: {"1": True, "0": False}.get(str(text).strip())),
    "QuadClass": ("quad_class", _whole(1, 4)),
    "GoldsteinScale": ("goldstein", _real(-10, 10)),
    "NumMentions": ("mentions", _whole(0, MAX_COUNT)),
    "NumSources": ("sources", _whole(0, MAX_COUNT)),
    "NumArticles": ("articles", _whole(0, MAX_COUNT)),
    "AvgTone": ("tone", _real(-100, 100)),
    "DATEADDED": ("reported_on", _added),
}
"""GDELT's numbers, as provenance (:class:`app.sources.models.Provenance`)."""


def _gdelt_row(row: dict[str, str] | None, report: Report) -> Event:
    row, code, kind, day, event_id = _coded(row, "EventCode", "SQLDATE", "GLOBALEVENTID", "%Y%m%d", "%Y-%m-%d")

    def actor(n: int, missing: str) -> list[str]:
        code_ = row.get(f"Actor{n}CountryCode") or row.get(f"Actor{n}Code") or ""
        found = _side([code_], codes.from_cameo, report, missing)
        role = (row.get(f"Actor{n}Code") or "").strip().upper()[3:6]
        if role in CAMEO_ROLES and codes.from_cameo(row.get(f"Actor{n}Code")) == found[0]:
            return [found[0] + role]  # a state's own body: RUSGOV, Russia's government
        return found

    initiators, targets = actor(1, "no_initiator"), actor(2, "no_target")
    centroid = row.get("ActionGeo_Type", "").strip() == "1"
    latitude, longitude = _coordinates(row, "ActionGeo_Lat", "ActionGeo_Long", report, centroid)
    location = row.get("ActionGeo_FullName") or None
    if not location and (country := codes.from_fips(row.get("ActionGeo_CountryCode"))):
        location = codes.country_name(country)
    for n in (1, 2):  # a role that is no state body's (BUS, MED, OPP…): its country stands for it
        actor_code = (row.get(f"Actor{n}Code") or "").strip().upper()
        if len(actor_code) > 3 and actor_code[3:6] not in CAMEO_ROLES:
            report.drop(f"Actor{n}Code (role)")
    _drop_unused(row, GDELT_USED, GDELT_DERIVED, report)
    provenance = {"id": event_id, **_provenance(row, GDELT_NUMBERS, report)}
    return Event(
        ref=f"gdelt:{event_id}",
        kind=kind,
        code=code,
        occurred_on=day,
        initiators=initiators,
        targets=targets,
        title_action=_cameo_action(code, kind),
        location=location,
        latitude=latitude,
        longitude=longitude,
        url=_url(row.get("SOURCEURL"), report, "SOURCEURL"),
        provenance=provenance,
        tags=["gdelt", f"cameo-{code}"],
    )


def _icews_side(row: dict[str, str], side: str, report: Report, missing: str) -> list[str]:
    """A side of an ICEWS event: its country, or that country's body when one of the side's
    sectors is a state's own (:data:`ICEWS_SECTOR_ROLES`)."""
    found = _side([row.get(f"{side} Country", "")], codes.from_name, report, missing)
    sectors = [s.strip().lower() for s in (row.get(f"{side} Sectors") or "").split(",")]
    role = next((ICEWS_SECTOR_ROLES[s] for s in sectors if s in ICEWS_SECTOR_ROLES), None)
    if role is None:
        if any(sectors):
            report.drop(f"{side} Sectors")
        return found
    return [found[0] + role]


ICEWS_NUMBERS: dict[str, Reading] = {
    "Story ID": ("story_id", _text_of(200)),
    "Sentence Number": ("sentence", _whole(0, MAX_COUNT)),
    "Intensity": ("intensity", _real(-10, 10)),
    "Publisher": ("reported_by", _text_of(2000)),
}
"""ICEWS's story, sentence, intensity and publisher, as provenance; its ``Event Date``, the
day of the story, is kept too, as ``reported_on``."""


def _icews_row(row: dict[str, str] | None, report: Report) -> Event:
    row, code, kind, day, event_id = _coded(row, "CAMEO Code", "Event Date", "Event ID", "%Y-%m-%d", "%Y%m%d")
    initiators = _icews_side(row, "Source", report, "no_initiator")
    targets = _icews_side(row, "Target", report, "no_target")
    places = [row.get(c, "").strip() for c in ("City", "District", "Province", "Country")]
    centroid = not any(places[:3])  # geocoded to the country alone
    latitude, longitude = _coordinates(row, "Latitude", "Longitude", report, centroid)
    _drop_unused(row, ICEWS_USED, ICEWS_DERIVED, report)
    provenance = {"id": event_id, **_provenance(row, ICEWS_NUMBERS, report), "reported_on": day.isoformat()}
    publisher, story_id = provenance.get("reported_by"), provenance.get("story_id")
    return Event(
        ref=f"icews:{event_id}",
        kind=kind,
        code=code,
        occurred_on=day,
        initiators=initiators,
        targets=targets,
        title_action=_cameo_action(code, kind),
        location=", ".join(p for p in places if p) or None,
        latitude=latitude,
        longitude=longitude,
        story=(publisher, story_id) if publisher and story_id else None,
        provenance=provenance,
        tags=["icews", f"cameo-{code}"],
    )


ACLED_PRECISION = {"1": "day", "2": "week", "3": "month"}
"""ACLED's time precision (1 the day, 2 the week, 3 the month) as a date precision."""
ACLED_NUMBERS: dict[str, Reading] = {
    "fatalities": ("fatalities", _whole(0, MAX_COUNT)),
    "time_precision": ("time_precision", _whole(1, 3)),
    "geo_precision": ("geo_precision", _whole(1, 3)),
    "source": ("reported_by", _text_of(2000)),
    "source_scale": ("source_scale", _text_of(200)),
}
"""ACLED's numbers and its sources' names, as provenance."""


def _acled_state(actor: str) -> str | None:
    match = ACLED_STATE.match(actor.strip())
    return codes.from_name(match.group(1)) if match else None


def _acled_row(row: dict[str, str] | None, report: Report) -> Event:
    if row is None:
        raise Skip("bad_row")
    if row.get("event_type") != "Strategic developments" or row.get("sub_event_type") not in ACLED_KEPT_SUB_EVENTS:
        raise Skip("out_of_scope")
    event_id = (row.get("event_id_cnty") or "").strip()
    if not event_id:
        raise Skip("no_id")
    day = _day(row.get("event_date", ""), "%Y-%m-%d", "%d %B %Y", "%d-%B-%Y")
    initiators = _side([row.get("actor1", "")], _acled_state, report, "no_initiator")
    targets = _side([row.get("actor2", "")], _acled_state, report, "no_target")
    precision = ACLED_PRECISION.get((row.get("time_precision") or "1").strip(), "day")
    centroid = (row.get("geo_precision") or "").strip() == "3"
    latitude, longitude = _coordinates(row, "latitude", "longitude", report, centroid)
    place = ", ".join(p for p in (row.get("location"), row.get("admin1"), row.get("country")) if p)
    _drop_unused(row, ACLED_USED, ACLED_DERIVED, report)
    provenance = {"id": event_id, **_provenance(row, ACLED_NUMBERS, report)}
    return Event(
        ref=f"acled:{event_id}",
        kind=IncidentKind.other,
        code=f"{row['event_type']}/{row['sub_event_type']}",
        occurred_on=day,
        precision=precision,
        initiators=initiators,
        targets=targets,
        title_action=f"{row['sub_event_type']} (ACLED strategic development)",
        summary=row.get("notes") or None,
        location=place or None,
        latitude=latitude,
        longitude=longitude,
        provenance=provenance,
        tags=["acled"],
    )


def _list(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


def _entities(value: Any, report: Report, name: str) -> list[str]:
    codes_ = []
    for entity in _list(value):
        if not isinstance(entity, dict):
            continue
        codes_.append(str(entity.get("code") or ""))
        for key, item in entity.items():
            if key != "code" and item not in (None, ""):
                report.drop(f"{name}.{key}")
    return codes_


def _own_kind(record: dict[str, Any], events: list[str], modes: list[str]) -> IncidentKind | None:
    """The kind a record written by Demarche (``format=plover``) names in ``demarche.kind``,
    when the record's event and mode are that kind's (PLOVER codes are coarser than kinds:
    this tells a mission closure from a downgrade, both ``SANCTION``/``withdraw``)."""
    own = record.get("demarche")
    kind = own.get("kind") if isinstance(own, dict) else None
    if kind not in IncidentKind.__members__:
        return None
    codes_ = INCIDENT_CODES[IncidentKind(kind)]
    if codes_.plover in events and (codes_.plover_mode is None or codes_.plover_mode in modes):
        return IncidentKind(kind)
    return None


def _own_fields(record: dict[str, Any], report: Report) -> tuple[str | None, str | None, list[Any]] | None:
    """What a record written by Demarche keeps in ``demarche`` beyond PLOVER's fields: its
    title, date precision and sources (each as ``cite_info``, with its provenance); the rest
    of it is counted as dropped. ``None`` for a record Demarche did not write."""
    own = record.get("demarche")
    if not isinstance(own, dict):
        return None
    for key, value in own.items():
        if key not in PLOVER_OWN_USED and value not in (None, "", [], {}):
            report.drop(f"demarche.{key}")
    title = own.get("title") if isinstance(own.get("title"), str) else None
    precision = own.get("date_precision") if own.get("date_precision") in DatePrecision.__members__ else None
    return title, precision, [s for s in _list(own.get("sources")) if isinstance(s, dict)]


PLOVER_NUMBERS: dict[str, Reading] = {
    "quad_code": ("quad_class", _whole(1, 4)),
    "event_scale": ("intensity", _real(-10, 10)),
}
"""PLOVER's quad code and event scale, as provenance."""


def _plover_precision(day: date, enddate: Any, report: Report) -> str:
    """The precision of a PLOVER record's date: ``year`` for the gold-standard placeholder
    (counted as dropped); else the narrowest period (week, month, year) that holds both
    ``date`` and ``enddate`` when an end is given (an end that is not a later date of the
    same year is counted as dropped); else the day."""
    if day == PLOVER_PLACEHOLDER:
        report.drop("date (placeholder)")
        return "year"
    if enddate in (None, ""):
        return "day"
    try:
        end = date.fromisoformat(str(enddate).strip())
    except ValueError:
        end = None
    if end is None or end < day or end.year != day.year:
        report.drop("enddate (unreadable)")
        return "day"
    for precision in ("day", "week", "month"):
        if span_start(day, precision) <= end <= span_end(day, precision):
            return precision
    return "year"


def _plover_row(record: Any, report: Report) -> Event:
    if not isinstance(record, dict):
        raise Skip("bad_row")
    record_id = str(record.get("id") or "").strip()
    if not record_id:
        raise Skip("no_id")
    events = [str(e).upper() for e in _list(record.get("event"))]
    modes = [str(m) for m in _list(record.get("mode"))]
    contexts = [str(c) for c in _list(record.get("context"))]
    own = _own_kind(record, events, modes)
    kind = own or next((PLOVER_KINDS[(e, m)] for e in events for m in modes if (e, m) in PLOVER_KINDS), None)
    if kind is None:
        mapped = {event for event, _ in PLOVER_KINDS}
        raise Skip("no_mode" if not modes and mapped.intersection(events) else "out_of_scope")
    if contexts and "diplomatic" not in contexts:
        raise Skip("out_of_scope")
    day = _day(str(record.get("date") or ""), "%Y-%m-%d")
    precision = _plover_precision(day, record.get("enddate"), report)
    actor_key = "actor" if "actor" in record else "source"
    recipient_key = "recipient" if "recipient" in record else "target"
    initiators = _side(_entities(record.get(actor_key), report, "actor"), codes.from_cameo, report, "no_initiator")
    targets = _side(_entities(record.get(recipient_key), report, "recipient"), codes.from_cameo, report, "no_target")
    location = latitude = longitude = None
    if isinstance(loc := record.get("event_loc"), dict):
        location = loc.get("resolved_place") or loc.get("extracted_place") or None
        centroid = str(loc.get("resolution") or "") == "1"
        latitude, longitude = _coordinates(loc, "lat", "lon", report, centroid)
        for key in loc:
            if key not in {"resolved_place", "extracted_place", "lat", "lon", "resolution"}:
                report.drop(f"event_loc.{key}")
    url = title = publisher = None
    if isinstance(cite := record.get("cite_info"), dict):
        url, title, publisher = _citation(cite, report, "cite_info")
        for key in cite:
            if key not in {"url", "title", "publication"}:
                report.drop(f"cite_info.{key}")
    own_fields = _own_fields(record, report)
    own_title, own_precision, further = own_fields or (None, None, [])
    if own_fields is not None:  # a record Demarche wrote: cite_info repeats its first source
        url = title = publisher = None
    _drop_unused(record, PLOVER_USED, (), report)
    provenance = {"id": record_id, **_provenance(record, PLOVER_NUMBERS, report)}
    if own:
        codes_ = INCIDENT_CODES[own]
        code, mode = str(codes_.plover), codes_.plover_mode
    else:
        mode = next(m for e in events for m in modes if (e, m) in PLOVER_KINDS)
        code = next(e for e in events if (e, mode) in PLOVER_KINDS)
    return Event(
        ref=f"plover:{record_id}",
        kind=kind,
        code=f"{code}/{mode}" if mode else code,
        occurred_on=day,
        precision=own_precision or precision,
        initiators=initiators,
        targets=targets,
        title_action=f"{label(kind.value)} (PLOVER {code}{f', {mode}' if mode else ''})",
        title=own_title,
        own=own_fields is not None,
        summary=str(record["text"]) if record.get("text") else None,
        location=str(location) if location else None,
        latitude=latitude,
        longitude=longitude,
        url=url,
        url_title=title,
        publisher=publisher,
        provenance=provenance,
        further_sources=[
            (*cited, s["provenance"] if isinstance(s.get("provenance"), dict) else None)
            for s in further
            if (cited := _citation(s, report, "demarche.sources"))[0]
        ],
        tags=["plover", f"plover-{code.lower()}"],
    )


def _citation(cite: dict[str, Any], report: Report, name: str) -> tuple[str | None, str | None, str | None]:
    """A PLOVER citation's url, title and publication."""
    url = _url(cite.get("url"), report, f"{name}.url")
    title, publisher = cite.get("title") or None, cite.get("publication") or None
    return url, str(title) if title else None, str(publisher)[:300] if publisher else None


ROWS: dict[str, Callable[[Any, Report], Event]] = {
    "gdelt": _gdelt_row,
    "icews": _icews_row,
    "acled": _acled_row,
    "plover": _plover_row,
}
