"""The scale test: three ``demarche serve`` processes on one PostgreSQL (reading from its
streaming replica) and one Redis, driven for a bounded minute by concurrent clients that write
and read through the client package (``demarche_client``), one process killed with SIGKILL
mid-run and started again. Then the checks:

- every write a client saw acknowledged is in the database exactly once (each write carries an
  ``Idempotency-Key``; a write whose process died is sent again, same key, to another one);
- the change feed is gap-free and in commit order: a follower polling it through the processes
  during the run saw every entry of the final feed, in order (none appeared behind its cursor);
  each acknowledged write has one ``create`` entry; each client's writes, made one after the
  other, are in the feed in the order they were acknowledged;
- rate limits were shared: one key's count goes up by one with each request whichever process
  serves it, and a key at its limit is refused (429) by every process;
- every client read its own writes: each write is read back at once (by id, through another
  process, the client's ``Demarche-Min-Sequence`` carried over) and was never 404. The same
  read sent again without the sequence (a control, not a check) counts the reads the
  sequence saved from the lagging replica.

``make scale`` runs it (``.ci/run`` in its PostgreSQL phase): ``python -m tests.scale`` with
``DEMARCHE_TEST_DATABASE_URL`` naming the PostgreSQL (a new database is made beside it),
``DEMARCHE_TEST_REPLICA_URL`` its replica (``.ci/replica``), and ``DEMARCHE_TEST_REDIS_URL``
(``redis://127.0.0.1:6379/0`` by default). It prints its figures and exits 1 with the failed
checks, if any.
"""

import argparse
import asyncio
import itertools
import os
import random
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from demarche_client import Client, Conflict, DemarcheError, NotFound, RateLimited, ServerError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.access import service as access
from app.access.models import ApiKeyCreate, KeyScope
from app.access.ratelimit import RateLimiter
from app.db import make_engine
from tests import ROOT
from tests.conftest import drop_database, fresh_database
from tests.live import DEMARCHE, free_port, print_checks

PROCESSES = 3
CLIENTS = 6
RATE_LIMIT = "20000/hour"
"""Per key: far above what one client sends in the run (each has a key of its own); an hour's
window, so that no window ends mid-run but rarely."""
KILL_AT, DOWN_FOR = 0.35, 3.0
"""When (a fraction of the run) one process is killed, and for how long it stays down."""
WRITE_ATTEMPTS_SECONDS = 30.0
"""How long a client keeps sending one write again (same key, next process) before it gives up."""
SEQUENCE, SOURCE = "demarche-sequence", "demarche-read-source"


@dataclass
class Process:
    """One ``demarche serve`` process, started again on the same port after it is killed."""

    name: str
    port: int
    environ: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None
    incarnation: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [str(DEMARCHE), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(argv, cwd=ROOT, env=self.environ, stdout=sink, stderr=subprocess.STDOUT)
        self.incarnation += 1

    def wait_healthy(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"{self.name} did not become ready within {seconds} s:\n{self.log.read_text()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Tally:
    """Answers received, per process (and its incarnation) and per database that served a read."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.served: Counter[str] = Counter()
        self.sources: Counter[str] = Counter()

    def transport(self, process: Process) -> httpx.BaseTransport:
        tally = self

        class Counting(httpx.HTTPTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                incarnation = process.incarnation
                response = super().handle_request(request)
                with tally.lock:
                    name = process.name + (f" (started again {incarnation - 1}x)" if incarnation > 1 else "")
                    tally.served[name] += 1
                    if source := response.headers.get(SOURCE):
                        tally.sources[source] += 1
                return response

        return Counting()


@dataclass
class Written:
    client: int
    n: int
    id: str
    sequence: int
    replayed: bool


@dataclass
class Run:
    processes: list[Process]
    keys: list[str]
    actors: tuple[str, str]
    seconds: float
    tally: Tally = field(default_factory=Tally)
    stop: threading.Event = field(default_factory=threading.Event)
    written: threading.Event = field(default_factory=threading.Event)
    """Set once every client has ended: the follower then reads to the end of the feed and stops."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: list[Written] = field(default_factory=list)
    given_up: int = 0
    resent: int = 0
    reads_back: int = 0
    misses: list[str] = field(default_factory=list)
    stale_without: int = 0
    """Control reads (the same read, without the sequence) that missed the write: what the
    sequence spared."""
    read_sources: Counter[str] = field(default_factory=Counter)
    lists: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    followed: list[int] = field(default_factory=list)
    start_seq: int = 0

    def clients(self, key: str) -> list[Client]:
        """One client per process, for one caller; ``retries`` few, so that a dead process is
        left for another quickly."""
        return [
            Client(p.url, key, timeout=30, retries=2, backoff=0.1, max_delay=1.0, transport=self.tally.transport(p))
            for p in self.processes
        ]

    def client(self, number: int) -> None:
        """Write incidents one after the other, each read back at once through another process."""
        clients = self.clients(self.keys[number])
        alliance, state = self.actors
        try:
            for n in itertools.count():
                if self.stop.is_set():
                    return
                title = f"Scale {number}:{n}"
                body = {
                    "kind": "expulsion",
                    "title": title,
                    "occurred_on": f"2021-10-{n % 28 + 1:02d}",
                    "initiators": [alliance],
                    "targets": [state],
                    "status": "published",
                }
                written = self.write(number, n, clients, body)
                if written is None:
                    continue
                self.read_back(written, clients)
                if n % 5 == 4:
                    self.list(clients)
        finally:
            for c in clients:
                c.close()

    def write(self, number: int, n: int, clients: list[Client], body: dict[str, Any]) -> Written | None:
        key = f"scale-{number}-{n}-{uuid.uuid4().hex[:8]}"
        first = random.randrange(len(clients))
        deadline = time.monotonic() + WRITE_ATTEMPTS_SECONDS
        for attempt in itertools.count():
            api = clients[(first + attempt) % len(clients)]
            try:
                record = api.create("incidents", body, idempotency_key=key)
            except (httpx.TransportError, ServerError, Conflict, RateLimited) as exc:
                with self.lock:
                    self.errors[f"write {type(exc).__name__}"] += 1
                    self.resent += 1
                if time.monotonic() > deadline:
                    with self.lock:
                        self.given_up += 1
                    return None
                time.sleep(0.2)
                continue
            sequence = api.sequence or 0
            for other in clients:  # one caller: its sequence goes with it to every process
                other.sequence = max(other.sequence or 0, sequence)
            written = Written(number, n, record.id, sequence, record.replayed)
            with self.lock:
                self.acknowledged.append(written)
            return written
        raise AssertionError("unreachable")

    def read_back(self, written: Written, clients: list[Client]) -> None:
        """Read the write back through a process other than the one that wrote it (any that answers)."""
        for attempt in range(len(clients) * 3):
            api = clients[(written.n + 1 + attempt) % len(clients)]
            try:
                response = api.request("GET", f"/v1/incidents/{written.id}")
            except NotFound:
                with self.lock:
                    self.reads_back += 1
                    self.misses.append(written.id)
                return
            except (httpx.TransportError, ServerError, RateLimited) as exc:
                with self.lock:
                    self.errors[f"read {type(exc).__name__}"] += 1
                time.sleep(0.1)
                continue
            try:  # the control: the same read without the client's sequence (plain httpx)
                control = api.http.get(f"/v1/incidents/{written.id}").status_code
            except httpx.TransportError:
                control = None
            with self.lock:
                self.reads_back += 1
                self.read_sources[response.headers.get(SOURCE, "?")] += 1
                self.stale_without += control == 404
            return

    def list(self, clients: list[Client]) -> None:
        api = random.choice(clients)
        try:
            api.page("incidents", limit=20, sort="-created_at")
        except (httpx.TransportError, DemarcheError) as exc:
            with self.lock:
                self.errors[f"list {type(exc).__name__}"] += 1
            return
        with self.lock:
            self.lists += 1

    def follower(self) -> None:
        """Poll the feed through the processes in turn, as a copy keeping in step would."""
        clients = self.clients(self.keys[-1])
        try:
            for turn in itertools.count():
                finished = self.written.is_set()
                after = self.followed[-1] if self.followed else self.start_seq
                try:
                    page = clients[turn % len(clients)].changes(after=after, limit=500)
                except (httpx.TransportError, DemarcheError):
                    time.sleep(0.1)
                    continue
                self.followed += [entry.seq for entry in page.data]
                if finished and not page.data:
                    return
                if not page.data:
                    time.sleep(0.1)
        finally:
            for c in clients:
                c.close()

    def killer(self) -> None:
        if self.stop.wait(self.seconds * KILL_AT):
            return
        victim = self.processes[1]
        victim.kill()
        self.stop.wait(DOWN_FOR)
        victim.start()
        victim.wait_healthy()

    def run(self) -> None:
        threads = [threading.Thread(target=self.client, args=(n,)) for n in range(CLIENTS)]
        follower = threading.Thread(target=self.follower)
        killer = threading.Thread(target=self.killer)
        for thread in [*threads, follower, killer]:
            thread.start()
        self.stop.wait(self.seconds)
        self.stop.set()
        for thread in [*threads, killer]:
            thread.join()
        self.written.set()
        follower.join()


def shared_limits(processes: list[Process], environ: dict[str, str], secret: str) -> dict[str, Any]:
    """One key's requests sent round the processes: its count must go up by one with each
    (``RateLimit-Remaining``), whichever serves it. Then its count is brought to five below the
    limit (in Redis, as the app counts) and the processes are asked in turn: five requests are
    served, and every one after is 429, from each process."""
    headers = {"Authorization": f"Bearer {secret}"}
    remaining = []
    with httpx.Client(timeout=30, headers=headers) as http:
        for n in range(12):
            answer = http.get(f"{processes[n % len(processes)].url}/v1/actors", params={"limit": 1})
            remaining.append(int(answer.headers["ratelimit-remaining"]))
        limiter = RateLimiter(RATE_LIMIT, environ["DEMARCHE_RATE_LIMIT_STORAGE"], environ["DEMARCHE_RATE_LIMIT_PREFIX"])
        expiry = limiter.item.get_expiry()
        window = int(time.time() // expiry)
        identity = f"key:{access.key_id_of(secret)}"
        used = limiter.item.amount - remaining[-1]
        asyncio.run(
            limiter.storage.incr(limiter.item.key_for(identity, window), expiry, amount=limiter.item.amount - 5 - used)
        )
        statuses = [
            http.get(f"{processes[n % len(processes)].url}/v1/actors", params={"limit": 1}).status_code
            for n in range(11)
        ]
        same_window = int(time.time() // expiry) == window
    limit = limiter.item.amount
    return {
        "remaining": remaining,
        "counted as one": remaining == list(range(limit - 1, limit - 13, -1)),
        "statuses": statuses,
        "refused at the shared count": not same_window or statuses == [200] * 5 + [429] * 6,
    }


def command(environ: dict[str, str], *argv: str) -> str:
    done = subprocess.run([str(DEMARCHE), *argv], env=environ, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise SystemExit(f"demarche {' '.join(argv)} failed:\n{done.stderr}")
    return done.stdout


def write_keys(url: str, count: int) -> list[str]:
    """The secrets of ``count`` new keys with ``write``: one per client, the follower's, the limits'."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            secrets = [
                access.create(session, ApiKeyCreate(name=f"scale {n}", scope=KeyScope.write))[1] for n in range(count)
            ]
            session.commit()
    finally:
        engine.dispose()
    return secrets


def wait_for_replica(url: str, seconds: float = 60) -> None:
    engine = create_engine(url)
    deadline = time.monotonic() + seconds
    try:
        while True:
            try:
                with engine.connect() as connection:
                    if connection.execute(text("SELECT to_regclass('changes') IS NOT NULL")).scalar_one():
                        return
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the replica {url} has no migrated copy of the database after {seconds} s")
            time.sleep(0.2)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    base = os.environ.get("DEMARCHE_TEST_DATABASE_URL", "")
    replica_base = os.environ.get("DEMARCHE_TEST_REPLICA_URL", "")
    redis = os.environ.get("DEMARCHE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    if make_url(base or "sqlite://").get_backend_name() != "postgresql" or not replica_base:
        raise SystemExit(
            "the scale test needs PostgreSQL and its replica: set DEMARCHE_TEST_DATABASE_URL and "
            "DEMARCHE_TEST_REPLICA_URL (.ci/replica makes one on port 5433)"
        )
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        url = fresh_database(base, Path(folder), "demarche_scale")
        replica = make_url(replica_base).set(database=make_url(url).database).render_as_string(hide_password=False)
        processes: list[Process] = []
        try:
            environ = os.environ | {
                "DEMARCHE_DATABASE_URL": url,
                "DEMARCHE_READ_REPLICA_URL": replica,
                "DEMARCHE_CURSOR_SECRET": "scale-cursor-secret",
                "DEMARCHE_PUBLIC_READ": "false",
                "DEMARCHE_RATE_LIMIT": RATE_LIMIT,
                "DEMARCHE_RATE_LIMIT_STORAGE": redis,
                "DEMARCHE_RATE_LIMIT_PREFIX": f"demarche-scale-{uuid.uuid4().hex[:8]}",
                "DEMARCHE_DATABASE_POOL_SIZE": "8",
                "DEMARCHE_IDEMPOTENCY_LEASE_SECONDS": "3",
                "DEMARCHE_LOG_LEVEL": "WARNING",
            }
            command(environ, "migrate")
            keys = write_keys(url, CLIENTS + 2)
            wait_for_replica(replica)
            processes = [
                Process(f"process {n + 1}", free_port(), environ, Path(folder) / f"process-{n + 1}.log")
                for n in range(PROCESSES)
            ]
            for process in processes:
                process.start()
            for process in processes:
                process.wait_healthy()
            with Client(processes[0].url, keys[0]) as setup:
                alliance = setup.create("actors", {"slug": "nato", "name": "NATO", "kind": "organization"})
                state = setup.create("actors", {"slug": "russia", "name": "Russia", "kind": "state"})
                start_seq = setup.sequence or 0
            run = Run(processes, keys[:CLIENTS] + [keys[CLIENTS]], (alliance.slug, state.slug), args.seconds)
            run.start_seq = start_seq
            load_started = time.monotonic()
            run.run()
            load_seconds = time.monotonic() - load_started
            limits = shared_limits(processes, environ, keys[CLIENTS + 1])
            crashed = [p.name for p in processes if p.process is not None and p.process.poll() is not None]
            database = read_database(url, start_seq)
        finally:
            for process in processes:
                process.stop()
            drop_database(url)
    report(run, limits, database, crashed, load_seconds, time.monotonic() - started)


def read_database(url: str, start_seq: int) -> dict[str, Any]:
    """What the primary holds after the run: the scale incidents by title, and the feed."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            titles = Counter(
                connection.execute(text("SELECT title FROM incidents WHERE title LIKE 'Scale %'")).scalars().all()
            )
            ids = dict(connection.execute(text("SELECT id, title FROM incidents WHERE title LIKE 'Scale %'")).all())
            feed = connection.execute(
                text("SELECT seq, resource, record_id, op, version FROM changes WHERE seq > :after ORDER BY seq"),
                {"after": start_seq},
            ).all()
    finally:
        engine.dispose()
    return {"titles": titles, "ids": ids, "feed": feed}


def report(
    run: Run, limits: dict[str, Any], database: dict[str, Any], crashed: list[str], load: float, total: float
) -> None:
    titles, ids, feed = database["titles"], database["ids"], database["feed"]
    acknowledged = {w.id: w for w in run.acknowledged}
    found = [w for w in run.acknowledged if w.id in ids]
    duplicated = {title: n for title, n in titles.items() if n > 1}
    seqs = [row.seq for row in feed]
    creates = Counter(row.record_id for row in feed if row.op == "create")
    behind = sorted(set(seqs) - set(run.followed))
    followed_in_order = run.followed == seqs
    skipped = (seqs[-1] - seqs[0] + 1 - len(seqs)) if seqs else 0
    by_client: dict[int, list[int]] = defaultdict(list)
    seq_of = {row.record_id: row.seq for row in feed if row.op == "create"}
    for w in run.acknowledged:
        by_client[w.client].append(seq_of.get(w.id, -1))
    out_of_order = sum(1 for order in by_client.values() for a, b in itertools.pairwise(order) if not a < b)
    answered_sequence_matches = sum(1 for w in run.acknowledged if seq_of.get(w.id) == w.sequence)
    print(
        f"scale test: {PROCESSES} processes, {CLIENTS} clients and a feed follower for {load:.1f} s "
        f"({total:.1f} s in all); process 2 killed (SIGKILL) at {run.seconds * KILL_AT:.0f} s, "
        f"started again {DOWN_FOR:g} s later"
    )
    print(
        f"writes acknowledged: {len(run.acknowledged):,} (of which replays of a write whose answer was lost: "
        f"{sum(w.replayed for w in run.acknowledged)}; sent again after a failure: {run.resent:,}; "
        f"given up: {run.given_up})"
    )
    print(
        f"writes found: {len(found):,}; duplicates: {len(duplicated)}; scale incidents in the database: "
        f"{sum(titles.values()):,}; acknowledged with one create entry in the feed: "
        f"{sum(1 for w in acknowledged if creates.get(w) == 1):,}"
    )
    if behind:
        print(f"entries the follower never saw: {behind[:20]} (the feed ends at {seqs[-1]})")
    print(
        f"feed: {len(seqs):,} entries; gaps (entries the follower never saw): {len(behind)}; "
        f"followed in commit order: {'yes' if followed_in_order else 'no'}; seq numbers skipped "
        f"(transactions rolled back): {skipped}; clients' writes out of order in the feed: {out_of_order}; "
        f"Demarche-Sequence equal to the write's feed entry: {answered_sequence_matches:,} of {len(run.acknowledged):,}"
    )
    print("requests served per process: " + ", ".join(f"{name}: {n:,}" for name, n in sorted(run.tally.served.items())))
    print("reads served by: " + ", ".join(f"{source}: {n:,}" for source, n in sorted(run.tally.sources.items())))
    print(
        f"read-your-writes: {run.reads_back:,} writes read back at once through another process "
        f"({', '.join(f'{s}: {n:,}' for s, n in sorted(run.read_sources.items()))}); misses: {len(run.misses)}; "
        f"the same reads without the sequence that missed the write: {run.stale_without:,}"
    )
    print(f"lists read: {run.lists:,}; errors met (then retried): {dict(run.errors) or 'none'}")
    print(
        f"rate limits: remaining {limits['remaining'][0]:,}..{limits['remaining'][-1]:,} over 12 requests round "
        f"the processes; at the limit: {limits['statuses']}"
    )
    checks = {
        "every acknowledged write is present exactly once": len(found) == len(run.acknowledged)
        and not duplicated
        and all(creates.get(w) == 1 for w in acknowledged),
        "no write was given up": run.given_up == 0,
        "the feed is gap-free (the follower saw every entry, in commit order)": not behind and followed_in_order,
        "each client's writes are in the feed in the order they were acknowledged": out_of_order == 0,
        "every write answered its feed entry's sequence": answered_sequence_matches == len(run.acknowledged),
        "rate limits were shared (one count across processes)": limits["counted as one"],
        "a key at its limit was refused by every process": limits["refused at the shared count"],
        "every client read its own writes": not run.misses and run.reads_back == len(run.acknowledged),
        "the replica served reads": run.tally.sources.get("replica", 0) > 0,
        "the killed process served again after its restart": any("started again" in n for n in run.tally.served),
        "no process exited on its own": not crashed,
    }
    print_checks(checks)


if __name__ == "__main__":
    main()
