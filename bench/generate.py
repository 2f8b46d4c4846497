"""A deterministic synthetic data set for benchmarks, loaded straight into a new database.

    .venv/bin/python -m bench.generate --url sqlite:////tmp/bench/full.db --incidents 1000000

Migrates the database to head, refuses one that already holds records, then writes 300 actors,
50 sources, N incidents (default 1,000,000), 20,000 exercises and 2,000 channels with their
status changes, involvements, citations and incident responses, with SQLAlchemy Core in
batches (one transaction per record type). Everything but the ids and the
``created_at``/``updated_at`` stamps (``new_id()`` and ``utcnow()``, as the app makes them)
follows from ``--seed``: the same seed gives the same records.

Skew, so that benchmarks meet realistic hot spots: actors are picked with Zipf-like weights
and ``state-000`` and ``organization-000`` are the two heaviest (a busy dyad); incident kinds
are uneven; incidents grow over the 25 years. Progress goes to stderr, a one-line JSON summary
to stdout.
"""

import argparse
import json
import math
import random
import sys
import time
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from itertools import accumulate
from typing import Any

from alembic import command
from sqlalchemy import Connection, select, text
from sqlalchemy.engine import make_url

from app.actors.service import involvement_rows
from app.db import KEPT_ANSWERS, alembic_config, make_engine
from app.kit import sqljson
from app.kit.bulk import executemany
from app.kit.records import new_id, utcnow
from app.models import Actor, Channel, Citation, Exercise, Incident, Involvement, Reply, Source, StatusChange
from app.vocab import (
    COUNTRY_CODES,
    ChannelKind,
    ChannelLevel,
    ChannelStatus,
    ExerciseDomain,
    IncidentKind,
    ParticipantRole,
)

START, END = date(2000, 1, 1), date(2024, 12, 31)
SPAN_DAYS = (END - START).days + 1
STATES, ORGANIZATIONS, PERSONS, BODIES = 150, 50, 80, 20
PROGRESS_SECONDS = 5.0

# --------------------------------------------------------------------------- word lists

STATE_HEADS = [
    "Al",
    "Bel",
    "Cor",
    "Dar",
    "El",
    "Fen",
    "Gal",
    "Hal",
    "Ist",
    "Jar",
    "Kor",
    "Lis",
    "Mor",
    "Nar",
    "Os",
    "Pel",
    "Quar",
    "Ros",
    "Sel",
    "Tor",
    "Ul",
    "Ver",
    "Wes",
    "Xal",
    "Yar",
    "Zem",
]
STATE_MIDDLES = ["", "a", "e", "i", "o", "u", "an", "en", "or"]
STATE_TAILS = ["nia", "ria", "land", "stan", "via", "dor", "mark", "onia", "aria", "esh", "gard", "istan", "ova", "ica"]
CITY_TAILS = ["burg", "grad", "polis", "ville", "ton", "abad", "port", "haven", "ford", "mir"]
ORG_ADJECTIVES = [
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Atlantic",
    "Pacific",
    "Arctic",
    "Continental",
    "Collective",
    "Mutual",
    "Regional",
    "Central",
]
ORG_NOUNS = [
    "Defence Alliance",
    "Security Council",
    "Economic Union",
    "Treaty Organization",
    "Cooperation Council",
    "Security Partnership",
    "Community",
    "Assembly",
    "Forum",
    "Commission",
]
FIRST_NAMES = [
    "Anna",
    "Boris",
    "Carla",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hassan",
    "Ines",
    "Jonas",
    "Kira",
    "Lars",
    "Maya",
    "Nikolai",
    "Olga",
    "Pavel",
    "Rania",
    "Stefan",
    "Tamara",
    "Umar",
    "Vera",
    "Walter",
    "Yusuf",
    "Zofia",
    "Adrian",
    "Beatriz",
    "Chen",
    "Daria",
    "Emil",
    "Fatima",
]
LAST_NAMES = [
    "Adler",
    "Borisov",
    "Castell",
    "Demir",
    "Eriksen",
    "Fontaine",
    "Grieg",
    "Haddad",
    "Ivanova",
    "Jansen",
    "Kovac",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rahimi",
    "Sato",
    "Tanaka",
    "Ulrich",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhou",
    "Arslan",
    "Brandt",
    "Costa",
    "Dubois",
]
PERSON_ROLES = [
    "Minister of Foreign Affairs",
    "Ambassador",
    "Minister of Defence",
    "Secretary General",
    "Special Envoy",
    "Spokesperson",
    "Deputy Foreign Minister",
    "Head of Mission",
]
BODY_TEMPLATES = [
    "Ministry of Foreign Affairs of {s}",
    "Ministry of Defence of {s}",
    "{s} Navy",
    "{s} Air Force",
    "{s} Security Service",
    "{s} Border Guard",
    "Armed Forces of {s}",
]
PUBLISHERS = [
    ("Global Affairs Wire", "news", "globalaffairswire.example"),
    ("The Diplomatic Review", "analysis", "diplomaticreview.example"),
    ("Continental Press Agency", "news", "cpa-news.example"),
    ("Institute for Strategic Studies", "analysis", "iss-institute.example"),
    ("Ministry of Foreign Affairs (press office)", "official", "mfa-press.example"),
    ("Security Dialogue Monitor", "dataset", "sdm-data.example"),
    ("Evening Herald", "news", "eveningherald.example"),
    ("Centre for Arms Control", "analysis", "arms-control-centre.example"),
    ("Open Incident Tracker", "dataset", "incident-tracker.example"),
    ("World Service Radio", "news", "worldservice.example"),
    ("Foreign Policy Quarterly", "analysis", "fpq.example"),
    ("Alliance Public Diplomacy Division", "official", "alliance-pdd.example"),
]
SOURCE_TOPICS = [
    "diplomatic expulsions",
    "embassy closures",
    "sanctions packages",
    "naval manoeuvres",
    "espionage cases",
    "arms control talks",
    "hotline diplomacy",
    "border tensions",
    "election interference",
    "retaliation cycles",
    "military exercises",
    "mission suspensions",
]
SOURCE_HEADS = [
    "Inside",
    "Understanding",
    "Tracking",
    "A timeline of",
    "What drives",
    "The cost of",
    "Lessons from",
    "Mapping",
]

INCIDENT_KIND_WEIGHTS = {
    IncidentKind.ambassador_summons: 30,
    IncidentKind.expulsion: 18,
    IncidentKind.sanctions: 14,
    IncidentKind.other: 8,
    IncidentKind.accreditation_withdrawal: 6,
    IncidentKind.ambassador_recall: 6,
    IncidentKind.staff_cap: 4,
    IncidentKind.dialogue_suspension: 4,
    IncidentKind.mission_suspension: 3,
    IncidentKind.mission_closure: 2,
    IncidentKind.office_closure: 2,
    IncidentKind.liaison_suspension: 1.5,
}
INCIDENT_TITLES = {
    IncidentKind.expulsion: "{i} expels {n} diplomat{s} of {t}",
    IncidentKind.accreditation_withdrawal: "{i} withdraws the accreditation of {n} member{s} of the {t} mission",
    IncidentKind.staff_cap: "{i} caps the staff of the {t} mission",
    IncidentKind.mission_suspension: "{i} suspends its mission to {t}",
    IncidentKind.mission_closure: "{i} closes the mission of {t}",
    IncidentKind.office_closure: "{i} closes the {t} information office",
    IncidentKind.liaison_suspension: "{i} suspends liaison with {t}",
    IncidentKind.ambassador_recall: "{i} recalls its ambassador from {t}",
    IncidentKind.ambassador_summons: "{i} summons the envoy of {t}",
    IncidentKind.dialogue_suspension: "{i} suspends dialogue with {t}",
    IncidentKind.sanctions: "{i} imposes sanctions on {t}",
    IncidentKind.other: "{i} lodges a formal protest with {t}",
}
AFFECTS_PERSONS = {IncidentKind.expulsion, IncidentKind.accreditation_withdrawal, IncidentKind.staff_cap}
ISSUES = [
    "espionage allegations",
    "a border dispute",
    "election interference",
    "a cyber attack",
    "an airspace violation",
    "a naval incident",
    "trade restrictions",
    "human rights criticism",
    "an arms transfer",
    "a detained journalist",
    "a poisoning case",
    "military deployments",
    "a disputed election",
    "energy supplies",
    "a hostile broadcast",
    "a missile test",
]
REACTIONS = ["unjustified", "provocative", "regrettable", "unfriendly", "disproportionate", "illegal"]
ANSWERS = ["a proportionate", "a firm", "a measured", "an appropriate", "a swift"]
TAGS = [
    "espionage",
    "cyber",
    "sanctions-regime",
    "arms-control",
    "election-interference",
    "border",
    "maritime",
    "human-rights",
    "energy",
    "nuclear",
]
TAG_WEIGHTS = [20, 14, 12, 10, 9, 8, 8, 7, 6, 6]

EXERCISE_HEADS = [
    "Steadfast",
    "Joint",
    "Northern",
    "Southern",
    "Iron",
    "Silver",
    "Golden",
    "Vigilant",
    "Resolute",
    "Eastern",
    "Western",
    "Swift",
    "Trident",
    "Cold",
    "Desert",
    "Ocean",
    "Baltic",
    "Arctic",
    "Thunder",
    "Peace",
]
EXERCISE_TAILS = [
    "Shield",
    "Sea",
    "Sword",
    "Eagle",
    "Response",
    "Dawn",
    "Defender",
    "Storm",
    "Guardian",
    "Lightning",
    "Arrow",
    "Falcon",
    "Horizon",
    "Spear",
    "Bear",
    "Dragon",
    "Anchor",
    "Sentinel",
]
REGIONS = [
    "Baltic Sea",
    "Black Sea",
    "South China Sea",
    "Sea of Japan",
    "Arctic",
    "Mediterranean",
    "Persian Gulf",
    "Central Asia",
    "Eastern Europe",
    "Korean Peninsula",
    "Horn of Africa",
    "Caribbean",
]
REGION_WEIGHTS = [16, 14, 12, 10, 8, 10, 6, 6, 9, 5, 2, 2]
DOMAIN_WEIGHTS = {
    ExerciseDomain.land: 30,
    ExerciseDomain.sea: 30,
    ExerciseDomain.air: 25,
    ExerciseDomain.cyber: 8,
    ExerciseDomain.space: 4,
    ExerciseDomain.nuclear: 3,
}
OTHER_ROLE_WEIGHTS = {
    ParticipantRole.participant: 70,
    ParticipantRole.observer: 15,
    ParticipantRole.host: 10,
    ParticipantRole.lead: 5,
}
EXERCISE_TAGS = ["live-fire", "amphibious", "command-post", "air-defence", "anti-submarine", "snap-drill"]
EXERCISE_PURPOSES = [
    "interoperability",
    "deterrence",
    "crisis response",
    "territorial defence",
    "maritime security",
    "air defence",
    "counter-terrorism",
]

CHANNEL_KIND_WEIGHTS = {
    ChannelKind.embassy: 30,
    ChannelKind.high_level_dialogue: 14,
    ChannelKind.military_contacts: 12,
    ChannelKind.permanent_mission: 10,
    ChannelKind.other: 10,
    ChannelKind.liaison_mission: 8,
    ChannelKind.information_office: 6,
    ChannelKind.council: 5,
    ChannelKind.hotline: 5,
}
CHANNEL_NAMES = {
    ChannelKind.council: "{p} Council",
    ChannelKind.hotline: "{p} hotline",
    ChannelKind.military_contacts: "{p} military contacts",
    ChannelKind.high_level_dialogue: "{p} high-level dialogue",
    ChannelKind.other: "{p} working group",
    ChannelKind.embassy: "Embassy of {a} in {b}",
    ChannelKind.permanent_mission: "Permanent Mission of {a} to {b}",
    ChannelKind.liaison_mission: "{a} Liaison Mission to {b}",
    ChannelKind.information_office: "{a} Information Office in {city}",
}
HOSTED = {
    ChannelKind.embassy,
    ChannelKind.permanent_mission,
    ChannelKind.liaison_mission,
    ChannelKind.information_office,
}
CHANNEL_LEVELS = {
    ChannelKind.council: ChannelLevel.political,
    ChannelKind.high_level_dialogue: ChannelLevel.political,
    ChannelKind.military_contacts: ChannelLevel.military,
    ChannelKind.hotline: ChannelLevel.military,
}
TRANSITIONS = {
    ChannelStatus.active: {ChannelStatus.restricted: 35, ChannelStatus.suspended: 45, ChannelStatus.closed: 20},
    ChannelStatus.restricted: {ChannelStatus.active: 40, ChannelStatus.suspended: 40, ChannelStatus.closed: 20},
    ChannelStatus.suspended: {ChannelStatus.active: 50, ChannelStatus.closed: 30, ChannelStatus.restricted: 20},
    ChannelStatus.closed: {ChannelStatus.active: 100},
}
STATUS_NOTES = [
    "Announced by the foreign ministry.",
    "Confirmed in a note verbale.",
    "Reported by both sides.",
    "Effective at midnight local time.",
    "Announced at a press briefing.",
]

# --------------------------------------------------------------------------- helpers


class Picker:
    """Weighted choice by bisection on cumulative weights; ``distinct`` rejects repeats."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]
        self.last = len(self.items) - 1

    def one(self, rng: random.Random) -> Any:
        return self.items[min(bisect_right(self.cum, rng.random() * self.total), self.last)]

    def distinct(self, rng: random.Random, k: int, exclude: Iterable[Any] = ()) -> list[Any]:
        out: list[Any] = []
        excluded = set(exclude)
        while len(out) < k:
            item = self.one(rng)
            if item not in excluded:
                out.append(item)
                excluded.add(item)
        return out


def weighted(mapping: dict[Any, float]) -> Picker:
    return Picker(list(mapping), list(mapping.values()))


def chronological(
    rng: random.Random,
    first: int,
    count: int,
    total: int,
    growth: float,
    start: date = START,
    span_days: int = SPAN_DAYS,
) -> list[date]:
    """Dates for items ``first..first+count`` of ``total``, in order: a stratified sample of
    a density rising linearly by ``growth`` over the span (0: uniform; 1: the end twice the start)."""
    out = []
    for q in sorted((first + rng.random() * count) / total for _ in range(count)):
        t = q if growth == 0 else (math.sqrt(1 + 2 * growth * q * (1 + growth / 2)) - 1) / growth
        out.append(start + timedelta(days=min(int(t * span_days), span_days - 1)))
    return out


def acronym(name: str) -> str:
    return "".join(w[0] for w in name.split() if w[0].isupper())


class Progress:
    """Rows per second for one phase, on stderr at most every few seconds."""

    def __init__(self, name: str, total: int) -> None:
        self.name, self.total = name, total
        self.started = self.last = time.perf_counter()

    def update(self, done: int, force: bool = False) -> None:
        now = time.perf_counter()
        if force or now - self.last >= PROGRESS_SECONDS:
            self.last = now
            elapsed = max(now - self.started, 1e-9)
            log(f"{self.name}: {done:,}/{self.total:,} ({done / elapsed:,.0f} rows/s, {elapsed:.1f}s)")


class Loader:
    """Inserts in batches on one connection, as the app writes new rows (multi-row on
    PostgreSQL, :func:`app.kit.bulk.executemany`), with rows and seconds per table."""

    def __init__(self, conn: Connection, batch_size: int) -> None:
        self.conn, self.batch_size = conn, batch_size
        self.counts: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()

    def insert(self, model: type, rows: list[dict[str, Any]]) -> None:
        table = model.__table__
        started = time.perf_counter()
        for i in range(0, len(rows), self.batch_size):
            executemany(self.conn, table, rows[i : i + self.batch_size])
        if self.conn.dialect.name == "postgresql":
            # The triggers that keep counts join the tables this transaction is filling, and
            # PostgreSQL plans those joins on the tables' statistics: left as they were (empty),
            # a plan scans a whole table for every row inserted, and the load slows as it grows
            # (64 incidents/s by 25,000). ANALYZE in the transaction counts its own rows.
            self.conn.exec_driver_sql(f"ANALYZE {table.name}")
        self.seconds[table.name] += time.perf_counter() - started
        self.counts[table.name] += len(rows)

    def report(self, tables: Iterable[str], phase_seconds: float) -> None:
        for name in tables:
            n, secs = self.counts[name], self.seconds[name]
            log(
                f"  {name}: {n:,} rows, {secs:.1f}s in INSERT ({n / max(secs, 1e-9):,.0f} rows/s); "
                f"{n / max(phase_seconds, 1e-9):,.0f} rows/s of the phase's {phase_seconds:.1f}s"
            )


def outside_transaction(conn: Connection, statement: str) -> None:
    """Run a statement that SQLite refuses inside a transaction (``journal_mode``) on the
    driver's connection, which is in autocommit while SQLAlchemy holds no transaction open."""
    conn.connection.driver_connection.execute(statement)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def record(**values: Any) -> dict[str, Any]:
    """The columns every record table shares, and ``values``."""
    now = utcnow()
    return {
        "id": new_id(),
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "retracted_at": None,
        "external_ref": None,
    } | values


def cites(resource: str, record_id: str, source_ids: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {"resource": resource, "record_id": record_id, "source_id": s, "position": n} for n, s in enumerate(source_ids)
    ]


# --------------------------------------------------------------------------- the world


class World:
    """Actors and sources, built first; what the later phases pick from."""

    def __init__(self, seed: int, sources: int) -> None:
        rng = random.Random(f"{seed}/actors")
        self.actors: list[dict[str, Any]] = []
        self.seats: list[tuple[str, float, float]] = []  # city, latitude, longitude of each actor
        self._states(rng)
        self._organizations(rng)
        self._persons_and_bodies(rng)
        self.ids = [a["id"] for a in self.actors]
        self.names = [a["name"] for a in self.actors]
        kinds = [a["kind"] for a in self.actors]

        # Zipf-like weights over a shuffled ranking that starts with state-000, organization-000.
        rest = list(range(len(self.actors)))
        rest.remove(0)
        rest.remove(STATES)
        rng.shuffle(rest)
        ranking = [0, STATES, *rest]

        def zipf(exponent: float, factor: dict[str, float]) -> Picker:
            items = [i for i in ranking if factor.get(kinds[i], 0) > 0]
            weights = [(1 if r < 2 else factor[kinds[i]]) / (r + 1) ** exponent for r, i in enumerate(items)]
            return Picker(items, weights)

        self.incident_actors = zipf(1.1, {"state": 1.0, "organization": 0.8, "body": 0.3, "person": 0.15})
        self.exercise_actors = zipf(1.0, {"state": 1.0, "organization": 0.6, "body": 0.4})
        self.channel_actors = zipf(0.7, {"state": 1.0, "organization": 0.8})
        top = sorted(
            range(len(self.incident_actors.items)),
            key=lambda n: self.incident_actors.cum[n] - (self.incident_actors.cum[n - 1] if n else 0),
        )
        assert [self.incident_actors.items[n] for n in top[-2:]] == [STATES, 0], "state-000 must be heaviest"

        srng = random.Random(f"{seed}/sources")
        self.sources = [self._source(srng, n) for n in range(sources)]
        order = list(range(sources))
        srng.shuffle(order)
        self.source_ids = Picker([self.sources[i]["id"] for i in order], [1 / (r + 1) ** 0.9 for r in range(sources)])

    def _states(self, rng: random.Random) -> None:
        names: set[str] = set()
        codes: set[str] = set()
        while len(names) < STATES:
            name = rng.choice(STATE_HEADS) + rng.choice(STATE_MIDDLES) + rng.choice(STATE_TAILS)
            if name in names:
                continue
            names.add(name)
            n = len(self.actors)
            letters = name.upper()
            candidates = [
                letters[0] + letters[i] + letters[j] for i in range(1, len(letters)) for j in range(i + 1, len(letters))
            ]
            # an ISO code (as the API takes), from the name's letters where one fits
            code = next((c for c in candidates if c not in codes and c in COUNTRY_CODES), None)
            if code is None:
                code = rng.choice(sorted(COUNTRY_CODES - codes))
            codes.add(code)
            aliases = [f"Republic of {name}"] if rng.random() < 0.6 else []
            if rng.random() < 0.2:
                aliases.append(f"Kingdom of {name}" if not aliases else name.upper())
            self.actors.append(
                record(
                    slug=f"state-{n:03d}",
                    name=name,
                    kind="state",
                    aliases=aliases,
                    country_code=code,
                    description=(f"A state of {rng.choice(REGIONS)}." if rng.random() < 0.3 else None),
                    external_ids={"wikidata": f"Q{rng.randint(10, 999_999)}"},
                    affiliation_id=None,
                )
            )
            city = name[:3] + rng.choice(CITY_TAILS)
            self.seats.append((city, round(rng.uniform(-45, 65), 4), round(rng.uniform(-170, 175), 4)))

    def _organizations(self, rng: random.Random) -> None:
        combos = [f"{a} {b}" for a in ORG_ADJECTIVES for b in ORG_NOUNS]
        for n, name in enumerate(rng.sample(combos, ORGANIZATIONS)):
            self.actors.append(
                record(
                    slug=f"organization-{n:03d}",
                    name=name,
                    kind="organization",
                    aliases=[acronym(name)],
                    country_code=None,
                    description=(f"An international {name.split()[-1].lower()}." if rng.random() < 0.5 else None),
                    external_ids=({"wikidata": f"Q{rng.randint(10, 999_999)}"} if rng.random() < 0.5 else {}),
                    affiliation_id=None,
                )
            )
            self.seats.append(self.seats[rng.randrange(STATES)])

    def _persons_and_bodies(self, rng: random.Random) -> None:
        # Lower numbers have more people and bodies, so that state-000 and organization-000 have some.
        states = Picker(range(STATES), [1 / (i + 1) ** 0.7 for i in range(STATES)])
        organizations = Picker(
            range(STATES, STATES + ORGANIZATIONS), [1 / (i + 1) ** 0.7 for i in range(ORGANIZATIONS)]
        )
        people = rng.sample([f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES], PERSONS)
        for n, name in enumerate(people):
            parent = states.one(rng) if rng.random() < 0.7 else organizations.one(rng)
            self.actors.append(
                record(
                    slug=f"person-{n:03d}",
                    name=name,
                    kind="person",
                    aliases=[],
                    country_code=None,
                    description=f"{rng.choice(PERSON_ROLES)} of {self.actors[parent]['name']}.",
                    external_ids={},
                    affiliation_id=self.actors[parent]["id"],
                )
            )
            self.seats.append(self.seats[parent])
        for n in range(BODIES):
            parent = states.one(rng)
            state = self.actors[parent]
            self.actors.append(
                record(
                    slug=f"body-{n:03d}",
                    name=rng.choice(BODY_TEMPLATES).format(s=state["name"]),
                    kind="body",
                    aliases=[],
                    country_code=state["country_code"],
                    description=None,
                    external_ids={},
                    affiliation_id=state["id"],
                )
            )
            self.seats.append(self.seats[parent])

    def _source(self, rng: random.Random, n: int) -> dict[str, Any]:
        publisher, kind, domain = PUBLISHERS[n % len(PUBLISHERS)] if n < len(PUBLISHERS) else rng.choice(PUBLISHERS)
        title = f"{rng.choice(SOURCE_HEADS)} {rng.choice(SOURCE_TOPICS)}"
        published = START + timedelta(days=rng.randrange(SPAN_DAYS))
        slug = title.lower().replace(" ", "-")
        authors = [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(rng.choice([0, 1, 1, 2, 3]))]
        return record(
            url=f"https://{domain}/{published:%Y/%m}/{slug}-{n:03d}",
            title=title,
            publisher=publisher,
            authors=authors,
            published_on=published,
            kind=kind,
        )

    def joined(self, indexes: Sequence[int]) -> str:
        names = [self.names[i] for i in indexes]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --------------------------------------------------------------------------- channels (planned first)


class ChannelPlan:
    """Channels and their status changes, drawn before the incidents so that a change can name
    as its cause an incident between the channel's first two parties (the latest one on or
    before the change, within 180 days), found while the incidents stream by in date order."""

    def __init__(self, world: World, seed: int, count: int) -> None:
        rng = random.Random(f"{seed}/channels")
        kinds = weighted(CHANNEL_KIND_WEIGHTS)
        self.channels: list[dict[str, Any]] = []
        self.involvements: list[dict[str, Any]] = []
        self.citations: list[dict[str, Any]] = []
        self.changes: list[dict[str, Any]] = []
        self.wanted: dict[tuple[int, int], list[Any]] = {}  # pair -> [changes by date, next index, last incident]
        first_day, last_established = date(1990, 1, 1), date(2023, 12, 31)
        for _ in range(count):
            kind = kinds.one(rng)
            parties = world.channel_actors.distinct(rng, 2 if rng.random() < 0.75 else 3)
            a, b = parties[0], parties[1]
            joined = "–".join(world.names[p] for p in parties)
            template = CHANNEL_NAMES[kind]
            if kind == ChannelKind.embassy and world.actors[a]["kind"] == "organization":
                template = "Delegation of {a} to {b}"
            name = template.format(p=joined, a=world.names[a], b=world.names[b], city=world.seats[b][0])
            host = b if kind in HOSTED else (rng.choice(parties) if rng.random() < 0.3 else None)
            established = first_day + timedelta(days=rng.randrange((last_established - first_day).days))
            channel = record(
                name=name,
                kind=kind.value,
                location=world.seats[host][0] if host is not None else None,
                level=(CHANNEL_LEVELS.get(kind, ChannelLevel.diplomatic).value if rng.random() < 0.9 else None),
                established_on=established,
                description=(f"Established in {established.year}." if rng.random() < 0.3 else None),
            )
            self.channels.append(channel)
            roles = [(world.ids[p], "party") for p in parties]
            if host is not None:
                roles.append((world.ids[host], "host"))
            self.involvements += involvement_rows("channel", channel["id"], roles)
            self.citations += cites("channel", channel["id"], world.source_ids.distinct(rng, rng.choice([0, 0, 1])))

            first_change = max(established, START) + timedelta(days=1)
            room = (END - first_change).days
            n_changes = min(rng.choices(range(6), weights=[25, 25, 20, 15, 10, 5])[0], max(room, 0))
            status = ChannelStatus.active
            key = (min(a, b), max(a, b))
            for day in sorted(rng.sample(range(room), n_changes)) if n_changes else []:
                status = weighted(TRANSITIONS[status]).one(rng)
                change = record(
                    status=status.value,
                    effective_on=first_change + timedelta(days=day),
                    note=(rng.choice(STATUS_NOTES) if rng.random() < 0.3 else None),
                    channel_id=channel["id"],
                    caused_by_id=None,
                )
                self.changes.append(change)
                if status != ChannelStatus.active and rng.random() < 0.6:
                    self.wanted.setdefault(key, [[], 0, None])[0].append(change)
                self.citations += cites(
                    "channel_status", change["id"], world.source_ids.distinct(rng, rng.choice([0, 1]))
                )
        for entry in self.wanted.values():
            entry[0].sort(key=lambda c: c["effective_on"])

    def saw(self, key: tuple[int, int], day: date, incident_id: str) -> None:
        entry = self.wanted.get(key)
        if entry is None:
            return
        changes, n, last = entry
        while n < len(changes) and changes[n]["effective_on"] < day:
            self._settle(changes[n], last)
            n += 1
        entry[1] = n
        if last is None or day >= last[0]:
            entry[2] = (day, incident_id)

    def finish(self) -> None:
        for changes, n, last in self.wanted.values():
            for change in changes[n:]:
                self._settle(change, last)

    @staticmethod
    def _settle(change: dict[str, Any], last: tuple[date, str] | None) -> None:
        if last is not None and (change["effective_on"] - last[0]).days <= 180:
            change["caused_by_id"] = last[1]


# --------------------------------------------------------------------------- phases


def load_incidents(loader: Loader, world: World, plan: ChannelPlan, seed: int, total: int) -> None:
    rng = random.Random(f"{seed}/incidents")
    kinds = weighted(INCIDENT_KIND_WEIGHTS)
    tags = Picker(TAGS, TAG_WEIGHTS)
    # (id, occurred_on, initiators, targets, kind) of the latest incidents an incident may answer
    recent: deque[tuple[str, date, tuple[int, ...], tuple[int, ...], IncidentKind]] = deque(maxlen=1000)
    today: list[tuple[str, date, tuple[int, ...], tuple[int, ...], IncidentKind]] = []  # answerable from tomorrow
    clock = START
    progress = Progress("incidents", total)
    for first in range(0, total, loader.batch_size):
        count = min(loader.batch_size, total - first)
        incidents, involvements, replies, citations = [], [], [], []
        for day in chronological(rng, first, count, total, growth=1.0):
            if day != clock:
                recent.extend(today)
                today.clear()
                clock = day
            answered = None
            if recent and rng.random() < 0.10:
                # Answer a recent incident between the same pair: mostly in kind, mostly in return.
                answered = recent[len(recent) - 1 - int(len(recent) * rng.random() ** 2)]
                initiators, targets = (answered[3], answered[2]) if rng.random() < 0.8 else (answered[2], answered[3])
                kind = answered[4] if rng.random() < 0.5 else kinds.one(rng)
            else:
                initiators = tuple(world.incident_actors.distinct(rng, 1 if rng.random() < 0.8 else 2))
                targets = tuple(world.incident_actors.distinct(rng, 1 if rng.random() < 0.8 else 2, initiators))
                kind = kinds.one(rng)
            precision = "day"
            occurred = day
            if answered is None:
                r = rng.random()
                if r < 0.02:
                    precision, occurred = "year", day.replace(month=1, day=1)
                elif r < 0.10:
                    precision, occurred = "month", day.replace(day=1)
            persons = min(int(rng.paretovariate(1.2)), 300) if kind in AFFECTS_PERSONS and rng.random() < 0.85 else None
            title = INCIDENT_TITLES[kind].format(
                i=world.joined(initiators),
                t=world.joined(targets),
                n=persons or "several",
                s="" if persons == 1 else "s",
            )
            if rng.random() < 0.6:
                title += f" over {rng.choice(ISSUES)}"
            summary = None
            if rng.random() < 0.5:
                summary = (
                    f"{world.names[targets[0]]} called the decision {rng.choice(REACTIONS)} and promised "
                    f"{rng.choice(ANSWERS)} response. "
                )
                if rng.random() < 0.5:
                    summary += f"Officials in {world.seats[initiators[0]][0]} cited {rng.choice(ISSUES)}. "
                if answered is not None:
                    summary += f"The move follows the events of {answered[1]:%d %B %Y}."
                summary = summary.strip()
            seat = world.seats[rng.choice(initiators + targets)]
            r = rng.random()
            incident = record(
                kind=kind.value,
                title=title,
                summary=summary,
                occurred_on=occurred,
                date_precision=precision,
                persons_affected=persons,
                location=seat[0] if r < 0.45 else None,
                latitude=round(seat[1] + rng.uniform(-0.2, 0.2), 4) if r < 0.30 else None,
                longitude=round(seat[2] + rng.uniform(-0.2, 0.2), 4) if r < 0.30 else None,
                tags=tags.distinct(rng, rng.choices((0, 1, 2), weights=(40, 40, 20))[0]),
                status="draft" if rng.random() < 0.02 else "published",
            )
            iid = incident["id"]
            incidents.append(incident)
            involvements += involvement_rows(
                "incident",
                iid,
                [(world.ids[a], "initiator") for a in initiators] + [(world.ids[a], "target") for a in targets],
                occurred,
            )
            if answered is not None:
                replies.append({"incident_id": iid, "responds_to_id": answered[0], "position": 0})
            citations += cites(
                "incident", iid, world.source_ids.distinct(rng, rng.choices((0, 1, 2), weights=(30, 50, 20))[0])
            )
            today.append((iid, occurred, initiators, targets, kind))
            for a in initiators:
                for b in targets:
                    plan.saw((a, b) if a < b else (b, a), occurred, iid)
        loader.insert(Incident, incidents)
        loader.insert(Involvement, involvements)
        loader.insert(Reply, replies)
        loader.insert(Citation, citations)
        progress.update(first + count, force=first + count == total)
    plan.finish()


def load_exercises(loader: Loader, world: World, seed: int, total: int) -> None:
    rng = random.Random(f"{seed}/exercises")
    series = [f"{h} {t}" for h in EXERCISE_HEADS for t in EXERCISE_TAILS]
    rng.shuffle(series)
    names = Picker(series, [1 / (r + 1) ** 0.8 for r in range(len(series))])
    domains = weighted(DOMAIN_WEIGHTS)
    regions = Picker(REGIONS, REGION_WEIGHTS)
    roles = weighted(OTHER_ROLE_WEIGHTS)
    progress = Progress("exercises", total)
    for first in range(0, total, loader.batch_size):
        count = min(loader.batch_size, total - first)
        exercises, involvements, citations = [], [], []
        for start in chronological(rng, first, count, total, growth=0.5):
            name = f"{names.one(rng)} {start.year}"
            parts = world.exercise_actors.distinct(rng, rng.choices((1, 2, 3, 4), weights=(25, 40, 20, 15))[0])
            chosen = domains.distinct(rng, rng.choices((1, 2, 3, 4), weights=(50, 30, 15, 5))[0])
            region = regions.one(rng) if rng.random() < 0.85 else None
            at_sea, in_air = ExerciseDomain.sea in chosen, ExerciseDomain.air in chosen
            seat = world.seats[parts[0]]
            located = rng.random() < 0.30
            summary = None
            if rng.random() < 0.5:
                summary = f"{world.joined(parts)} train for {rng.choice(EXERCISE_PURPOSES)}" + (
                    f" in the {region}." if region else "."
                )
            exercise = record(
                name=name,
                aliases=[acronym(name) + str(start.year)[2:]] if rng.random() < 0.1 else [],
                start_date=start,
                end_date=None
                if rng.random() < 0.05
                else start + timedelta(days=min(int(rng.expovariate(1 / 5)) + 1, 20)),
                date_precision="day",
                domains=[d.value for d in chosen],
                location=seat[0] if located or rng.random() < 0.2 else None,
                region=region,
                latitude=round(seat[1] + rng.uniform(-2, 2), 4) if located else None,
                longitude=round(seat[2] + rng.uniform(-2, 2), 4) if located else None,
                troops=(int(rng.lognormvariate(7.5, 1.2)) if rng.random() < 0.5 else None),
                vessels=(rng.randint(1, 60) if rng.random() < 0.7 else None) if at_sea else None,
                aircraft=(rng.randint(1, 120) if rng.random() < 0.7 else None) if in_air else None,
                summary=summary,
                tags=rng.sample(EXERCISE_TAGS, rng.choices((0, 1, 2), weights=(50, 35, 15))[0]),
                status="draft" if rng.random() < 0.02 else "published",
            )
            exercises.append(exercise)
            pairs = [(world.ids[parts[0]], ParticipantRole.lead.value)]
            pairs += [(world.ids[p], roles.one(rng).value) for p in parts[1:]]
            involvements += involvement_rows("exercise", exercise["id"], pairs, exercise["start_date"])
            citations += cites("exercise", exercise["id"], world.source_ids.distinct(rng, rng.choice([0, 1, 1, 2])))
        loader.insert(Exercise, exercises)
        loader.insert(Involvement, involvements)
        loader.insert(Citation, citations)
        progress.update(first + count, force=first + count == total)


# --------------------------------------------------------------------------- main

TABLES = [Source, Actor, Incident, Exercise, Channel, StatusChange, Involvement, Citation, Reply]


def generate(
    url: str, incidents: int, seed: int, exercises: int, channels: int, sources: int, batch_size: int
) -> dict[str, Any]:
    started = time.perf_counter()
    log("migrating to head")
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    sqlite = make_url(url).get_backend_name() == "sqlite"
    phases: dict[str, float] = {}
    try:
        with engine.connect() as conn:
            filled = [
                m.__tablename__
                for m in TABLES
                if conn.execute(select(text("1")).select_from(m.__table__).limit(1)).first() is not None
            ]
            if filled:
                raise SystemExit(
                    f"refusing: the database is not empty ({', '.join(filled)} hold rows); generate into a new database"
                )
            conn.commit()
            if sqlite:
                # A new file: a rollback journal only records pages that existed, so bulk
                # appends cost far less than in WAL. Back to WAL (what the app uses) at the end.
                outside_transaction(conn, "PRAGMA journal_mode=DELETE")
                outside_transaction(conn, "PRAGMA cache_size=-65536")
            loader = Loader(conn, batch_size)
            world = World(seed, sources)
            plan = ChannelPlan(world, seed, channels)

            def phase(name: str, tables: list[str], work: Callable[[], None]) -> None:
                t0 = time.perf_counter()
                with conn.begin():
                    work()
                phases[name] = round(time.perf_counter() - t0, 2)
                log(f"{name}: done in {phases[name]:.1f}s")
                loader.report(tables, phases[name])

            phase(
                "sources and actors",
                ["sources", "actors"],
                lambda: (loader.insert(Source, world.sources), loader.insert(Actor, world.actors)),
            )
            phase(
                "incidents",
                ["incidents", "involvements", "incident_responses", "citations"],
                lambda: load_incidents(loader, world, plan, seed, incidents),
            )
            phase("exercises", ["exercises"], lambda: load_exercises(loader, world, seed, exercises))

            def load_channels() -> None:
                loader.insert(Channel, plan.channels)
                loader.insert(StatusChange, plan.changes)
                loader.insert(Involvement, plan.involvements)
                loader.insert(Citation, plan.citations)

            phase("channels", ["channels", "channel_status_changes"], load_channels)
            phase("answers", [], lambda: sqljson.refill(conn, KEPT_ANSWERS))
            t0 = time.perf_counter()
            if sqlite:
                log("ANALYZE")
                with conn.begin():
                    conn.exec_driver_sql("ANALYZE")
                outside_transaction(conn, "PRAGMA journal_mode=WAL")
            else:  # writing the answers left a dead version of every incident
                log("VACUUM ANALYZE")
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
            phases["analyze"] = round(time.perf_counter() - t0, 2)
            counts = {m.__tablename__: loader.counts[m.__tablename__] for m in TABLES}
            counts["channel_status_changes_with_cause"] = sum(1 for c in plan.changes if c["caused_by_id"])
    finally:
        engine.dispose()
    return {
        "dialect": "sqlite" if sqlite else make_url(url).get_backend_name(),
        "seed": seed,
        "counts": counts,
        "phase_seconds": phases,
        "seconds": round(time.perf_counter() - started, 2),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of a new (empty) database.")
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--exercises", type=int, default=20_000)
    parser.add_argument("--channels", type=int, default=2_000)
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch-size", type=int, default=5_000)
    args = parser.parse_args(argv)
    if args.incidents < 1 or args.sources < 1 or args.exercises < 0 or args.channels < 0:
        parser.error("--incidents and --sources must be at least 1; --exercises and --channels not negative")
    try:
        summary = generate(
            args.url, args.incidents, args.seed, args.exercises, args.channels, args.sources, args.batch_size
        )
    except SystemExit as stop:
        if isinstance(stop.code, str):
            log(stop.code)
            sys.exit(1)
        raise
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
