"""The probes of issue 15 ("Hostile and heavy callers"), asked of one server tree as the issue
asked them, each with its status codes, its wall time and the server's memory.

    .venv/bin/python -m bench.probes --server-root /work/wt-before \\
        --url sqlite:////tmp/probes/before.db --incidents 100000 --out /tmp/probes/before-sqlite.json
    .venv/bin/python -m bench.probes --compare before-sqlite.json after-sqlite.json

The server root is a checkout of the service (any commit) with its own ``.venv``. From it, the
script fills the database with that tree's ``bench/generate.py`` (unless the database already
holds the incidents), makes keys with that tree's ``demarche keys create``, and starts the
command of that tree's ``Dockerfile`` (the final stage's ``CMD`` and ``ENV``, run outside a
container as ``tests/deploy/test_container.py`` does: ``/opt/venv`` is the tree's ``.venv``, ``/srv``
the tree) with production settings (``DEMARCHE_PUBLIC_READ=false``, a private cursor secret)
and two changes: a rate limit of 100,000/minute, so that the probes are never counted out
(the probe of failed keys runs on a second server with 30/minute), and a free port.

Every probe tolerates any answer: a 5xx is recorded as such, a request without an answer
within ``TIMEOUT`` seconds as ``timeout``. Timings are repeated three times (the median is
given), except after a timeout. Memory is the server's process tree as /proc tells it: its
resident size before a probe, its peak during it (``VmHWM``, reset before the probe, and
sampled ``VmRSS``) and its size once the probe is over and the server idle again; on
PostgreSQL also the largest resident size of the database's backends, sampled. Between
probes the server is left to settle: the script waits until it is idle, and on PostgreSQL
cancels the statements the probe's abandoned requests left running (``cancelled`` in the
results).

Each run writes its results as JSON (``--out``); ``--compare BEFORE.json AFTER.json`` prints
them side by side as a markdown table, one row per probe.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import platform
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
import orjson

from tests.deploy.test_container import exec_form, final_stage, image_environment

TIMEOUT = 60.0
"""Seconds a probe waits for an answer before it records ``timeout``."""
REPEATS = 3
CURSOR_SECRET = "probes-private-cursor-secret"
RATE_LIMIT = "100000/minute"
FAILED_KEY_LIMIT = "30/minute"
"""The rate limit of the second server, on which guessed keys are counted."""
ORDINARY = "/v1/incidents?limit=10"
"""An ordinary request: the first page of the incidents, with a read key."""
SLOW_ADDRESSES = [f"127.0.0.{n}" for n in range(2, 6)]
"""Where the slow sockets come from (50 each of 200); ordinary requests come from 127.0.0.1."""
SLOW_SOCKETS, TRICKLE_SECONDS, SLOW_SECONDS = 200, 3.0, 24.0
IMPORT_BYTES = 50 * 1024 * 1024
MIB = 1024 * 1024


def log(message: str) -> None:
    print(f"[probes {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def repeated(path: str, name: str, count: int) -> str:
    """``path`` with ``name`` repeated ``count`` times, values ``a0``, ``a1``…, as the issue sent them."""
    return f"{path}?{urlencode([(name, f'a{n}') for n in range(count)])}"


# --------------------------------------------------------------------------- processes and memory


def _proc_status(pid: int) -> dict[str, int]:
    """The kB figures of /proc/PID/status (empty when the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    figures = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            figures[name] = int(parts[0]) * 1024
    return figures


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, stack = [], [root]
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack.extend(children.get(pid, []))
    return tree


def tree_figure(pids: list[int], name: str) -> int:
    return sum(_proc_status(pid).get(name, 0) for pid in pids)


def reset_peak(pids: list[int]) -> None:
    """Start each process's ``VmHWM`` again from its present size (``clear_refs`` 5)."""
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            pass


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Postgres:
    """The server's database as PostgreSQL sees it: its backends, their memory, and a way to
    cancel the statements a probe's abandoned requests left running."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.connection = psycopg.connect(self.conninfo, autocommit=True)
        self.lock = threading.Lock()

    def backends(self) -> list[tuple[int, str]]:
        """The client backends of the database other than this one: (pid, state)."""
        with self.lock:
            rows = self.connection.execute(
                "SELECT pid, coalesce(state, '') FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ).fetchall()
        return [(int(pid), state) for pid, state in rows]

    def active(self) -> list[int]:
        return [pid for pid, state in self.backends() if state == "active"]

    def cancel_active(self) -> int:
        pids = self.active()
        with self.lock:
            for pid in pids:
                self.connection.execute("SELECT pg_cancel_backend(%s)", [pid])
        return len(pids)

    def close(self) -> None:
        self.connection.close()


def available_memory() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


MEMORY_FLOOR = 3 * 1024**3
"""The machine is shared: below this much available memory the probe stops what it started
(PostgreSQL: cancels the database's statements; else it kills the server) and says so."""


class Sampler(threading.Thread):
    """Samples the server's resident size and, on PostgreSQL, its backends', every 0.2 s;
    ``arm`` starts a probe's maxima. Keeps the machine above :data:`MEMORY_FLOOR`."""

    def __init__(self, pid: int, postgres: Postgres | None) -> None:
        super().__init__(daemon=True)
        self.pid, self.postgres = pid, postgres
        self.stop = threading.Event()
        self.server_peak = 0
        self.backend_peak = 0
        self.backends_seen = 0
        self.valve: list[str] = []

    def arm(self) -> None:
        self.server_peak = self.backend_peak = self.backends_seen = 0
        self.valve = []

    def guard(self) -> None:
        if available_memory() >= MEMORY_FLOOR:
            return
        if self.postgres is not None and self.postgres.active():
            self.valve.append(f"cancelled {self.postgres.cancel_active()} statements: memory low")
        else:
            os.kill(self.pid, 9)
            self.valve.append("killed the server: memory low")

    def run(self) -> None:
        while not self.stop.wait(0.2):
            try:
                self.guard()
            except Exception as exc:  # the sampler must outlive any trouble of the database
                log(f"memory guard: {exc}")
            self.server_peak = max(self.server_peak, tree_figure(process_tree(self.pid), "VmRSS"))
            if self.postgres is not None:
                try:
                    backends = self.postgres.backends()
                except Exception:  # the sampler must outlive any trouble of the database
                    continue
                self.backends_seen = max(self.backends_seen, len(backends))
                for pid, _ in backends:
                    self.backend_peak = max(self.backend_peak, _proc_status(pid).get("VmRSS", 0))


# --------------------------------------------------------------------------- the tree and its server


@dataclass
class Tree:
    """A checkout of the service, run as its image would run it."""

    root: Path

    @property
    def venv(self) -> Path:
        return self.root / ".venv"

    def git(self, *argv: str) -> str:
        done = subprocess.run(["git", "-C", str(self.root), *argv], capture_output=True, text=True)
        return done.stdout.strip()

    def environment(self, database_url: str, **settings: str) -> dict[str, str]:
        """The environment of the image's processes (its ENV, /opt/venv and /srv mapped to this
        tree), with the database, a private cursor secret and ``settings`` (``DEMARCHE_`` names)."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DEMARCHE_", "VIRTUAL_ENV"))}
        paths = {"/opt/venv": str(self.venv), "/srv": str(self.root)}
        environ = image_environment(final_stage(self.root / "Dockerfile"), paths, base)
        environ["PYTHONPATH"] = str(self.root)  # the tree's own app, whatever the venv points at
        environ |= {
            "DEMARCHE_DATABASE_URL": database_url,
            "DEMARCHE_CURSOR_SECRET": CURSOR_SECRET,
            "DEMARCHE_PUBLIC_READ": "false",
            "DEMARCHE_RATE_LIMIT": RATE_LIMIT,
        }
        return environ | {f"DEMARCHE_{k.upper()}": v for k, v in settings.items()}

    def command(self) -> list[str]:
        return exec_form(final_stage(self.root / "Dockerfile"), "CMD")

    def run(self, environ: dict[str, str], *argv: str, timeout: float = 3600) -> str:
        done = subprocess.run(argv, cwd=self.root, env=environ, capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return done.stdout

    def generate(self, database_url: str, incidents: int) -> dict[str, Any]:
        environ = self.environment(database_url)
        python = str(self.venv / "bin" / "python")
        out = self.run(environ, python, "-m", "bench.generate", "--url", database_url, "--incidents", str(incidents))
        return json.loads(out.strip().splitlines()[-1])

    def create_key(self, database_url: str, scope: str, name: str) -> str:
        out = self.run(self.environment(database_url), "demarche", "keys", "create", "--scope", scope, "--name", name)
        return out.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tail(self, lines: int = 5) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def start(tree: Tree, environ: dict[str, str], log_path: Path, wait: float = 120) -> Server:
    """The Dockerfile's CMD on a free port; returned once /healthz answers (or the process ended)."""
    port = free_port()
    environ = environ | {"DEMARCHE_HOST": "127.0.0.1", "DEMARCHE_PORT": str(port)}
    with log_path.open("ab") as sink:
        process = subprocess.Popen(tree.command(), cwd=tree.root, env=environ, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(process, port, log_path)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    return server


# --------------------------------------------------------------------------- requests


def problem_of(head: bytes) -> dict[str, Any] | None:
    """The type, title and detail of a problem answer, from (the start of) its body."""
    try:
        data = orjson.loads(head)
    except orjson.JSONDecodeError:
        found = {k: re.search(rf'"{k}":\s*"((?:[^"\\]|\\.)*)"'.encode(), head) for k in ("type", "title", "detail")}
        data = {k: m.group(1).decode(errors="replace") for k, m in found.items() if m}
    if not isinstance(data, dict):
        return None
    kept = {k: str(data[k])[:240] for k in ("type", "title", "detail") if k in data}
    return kept or None


def call(
    method: str,
    url: str,
    *,
    headers: Any = None,
    content: Any = None,
    json_body: Any = None,
    timeout: float = TIMEOUT,
    keep: int = 4096,
) -> dict[str, Any]:
    """One request on a new connection: its status (or ``timeout``, ``error:…``), seconds, body
    size, the first ``keep`` bytes of its body and, for an error, its problem."""
    started = time.perf_counter()
    outcome: dict[str, Any] = {}
    head = b""
    size = 0
    try:
        with httpx.stream(method, url, headers=headers, content=content, json=json_body, timeout=timeout) as answer:
            for chunk in answer.iter_bytes():
                size += len(chunk)
                if len(head) < keep:
                    head += chunk[: keep - len(head)]
            outcome["status"] = answer.status_code
            outcome["headers"] = {
                k: v for k, v in answer.headers.items() if k in ("allow", "retry-after", "connection")
            }
    except httpx.TimeoutException:
        outcome["status"] = "timeout"
    except httpx.HTTPError as exc:
        outcome["status"] = f"error:{type(exc).__name__}"
    outcome |= {"seconds": round(time.perf_counter() - started, 3), "bytes": size}
    if isinstance(outcome["status"], int) and outcome["status"] >= 400:
        outcome["problem"] = problem_of(head)
    outcome["_head"] = head
    return outcome


def public(outcome: dict[str, Any]) -> dict[str, Any]:
    """An outcome as the results keep it (no body)."""
    return {k: v for k, v in outcome.items() if not k.startswith("_") and v not in (None, {})}


def statuses(outcomes: list[dict[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(str(o["status"]) for o in outcomes).items()))


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]


# --------------------------------------------------------------------------- the run


@dataclass
class Context:
    tree: Tree
    database_url: str
    engine: str
    workdir: Path
    run_id: str
    keys: dict[str, str] = field(default_factory=dict)
    server: Server | None = None
    postgres: Postgres | None = None
    sampler: Sampler | None = None
    made: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def auth(self, key: str = "read") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[key]}"}

    def get(self, path: str, key: str | None = "read", **kw: Any) -> dict[str, Any]:
        return call("GET", self.url + path, headers=self.auth(key) if key else None, **kw)

    def pids(self) -> list[int]:
        assert self.server is not None
        return process_tree(self.server.pid)

    def settle(self, grace: float = 3.0, limit: float = 300.0) -> dict[str, Any]:
        """Wait until the server (and its database) is idle again; on PostgreSQL cancel, after
        ``grace`` seconds, the statements still running for requests that were given up."""
        started, cancelled = time.monotonic(), 0
        while time.monotonic() - started < limit:
            pids = self.pids()
            before = cpu_seconds(pids)
            time.sleep(0.5)
            busy = cpu_seconds(pids) - before > 0.1
            active = self.postgres.active() if self.postgres else []
            if not busy and not active:
                break
            if active and time.monotonic() - started > grace:
                cancelled += self.postgres.cancel_active() if self.postgres else 0
        waited = round(time.monotonic() - started, 1)
        return ({"settle_seconds": waited} if waited > 1 else {}) | ({"cancelled": cancelled} if cancelled else {})

    @contextmanager
    def measured(self, record: dict[str, Any]) -> Iterator[None]:
        """The server's memory around a probe, then the probe's settling, into ``record``."""
        pids = self.pids()
        before = tree_figure(pids, "VmRSS")
        reset_peak(pids)
        assert self.sampler is not None
        self.sampler.arm()
        yield
        record |= self.settle()
        pids = self.pids()
        peak = max(tree_figure(pids, "VmHWM"), self.sampler.server_peak)
        record["rss"] = {"before": before, "peak": peak, "after": tree_figure(pids, "VmRSS")}
        if self.postgres is not None:
            record["pg_backend_peak"] = self.sampler.backend_peak
            record["pg_backends"] = self.sampler.backends_seen
        if self.sampler.valve:
            record["memory_valve"] = self.sampler.valve
        if self.server is not None and self.server.process.poll() is not None:
            record["server_exited"] = self.server.process.returncode

    def alive(self) -> bool:
        return self.server is not None and self.server.process.poll() is None

    def log_mark(self) -> int:
        assert self.server is not None
        return self.server.log.stat().st_size

    def served(self, mark: int, path: str) -> list[list[Any]]:
        """``[status, seconds]`` of each request to ``path``'s route that the server's JSON access
        log recorded since ``mark``: what it answered, and when, even to a client gone."""
        assert self.server is not None
        route = path.split("?", 1)[0]
        with self.server.log.open("rb") as log_file:
            log_file.seek(mark)
            lines = log_file.read().splitlines()
        found = []
        for line in lines:
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(entry, dict) and entry.get("route") == route and "duration_ms" in entry:
                found.append([entry.get("status"), round(entry["duration_ms"] / 1000, 3)])
        return found


@dataclass
class Probe:
    id: str
    finding: str
    description: str
    run: Callable[[Context], dict[str, Any]]
    kind: str


PROBES: list[Probe] = []


def probe(id: str, finding: str, description: str, kind: str) -> Callable:
    def register(function: Callable[[Context], dict[str, Any]]) -> Callable[[Context], dict[str, Any]]:
        PROBES.append(Probe(id, finding, description, function, kind))
        return function

    return register


# --------------------------------------------------------------------------- shared records


def actors(ctx: Context) -> tuple[str, str]:
    """Two actors of the probes' own, made once per run with the write key."""
    if "actors" not in ctx.made:
        slugs = (f"probe-{ctx.run_id}-north", f"probe-{ctx.run_id}-south")
        for slug in slugs:
            made = call(
                "POST",
                ctx.url + "/v1/actors",
                headers=ctx.auth("write"),
                json_body={"slug": slug, "name": slug.replace("-", " ").title(), "kind": "body"},
            )
            if made["status"] != 201:
                raise RuntimeError(f"could not make actor {slug}: {public(made)}")
        ctx.made["actors"] = slugs
    return ctx.made["actors"]


def incident(ctx: Context, title: str, **fields: Any) -> dict[str, Any]:
    north, south = actors(ctx)
    body = {"kind": "expulsion", "title": title, "occurred_on": "2021-10-05", "initiators": [north]}
    body |= {"targets": [south]} | fields
    made = call("POST", ctx.url + "/v1/incidents", headers=ctx.auth("write"), json_body=body, keep=MIB)
    if made["status"] != 201:
        raise RuntimeError(f"could not make incident {title!r}: {public(made)}")
    return orjson.loads(made["_head"])


# --------------------------------------------------------------------------- timing probes


def timed(ctx: Context, path: str, key: str = "read", repeats: int = REPEATS) -> dict[str, Any]:
    """``path`` asked ``repeats`` times (fewer after a timeout), the server settled between."""
    record: dict[str, Any] = {"path": path[:120] + ("…" if len(path) > 120 else ""), "url_bytes": len(path)}
    outcomes = []
    mark = ctx.log_mark()
    with ctx.measured(record):
        for n in range(repeats):
            outcome = ctx.get(path, key)
            outcomes.append(outcome)
            log(f"  {path[:60]}…: {outcome['status']} in {outcome['seconds']} s")
            if outcome["status"] == "timeout" or not ctx.alive():
                break
            if n < repeats - 1:
                ctx.settle()
    record["statuses"] = statuses(outcomes)
    record["times"] = [o["seconds"] for o in outcomes]
    record["time"] = statistics.median(record["times"])
    record["problems"] = sorted({json.dumps(o["problem"]) for o in outcomes if o.get("problem")})
    record["problems"] = [json.loads(p) for p in record["problems"]]
    record["served"] = ctx.served(mark, path)
    return record


F1 = "Repeated filter parameters have no bound"


@probe("channels_party_200", F1, "`GET /v1/channels?party=a0…a199` (read key), ×3", "timing")
def channels_party_200(ctx: Context) -> dict[str, Any]:
    return timed(ctx, repeated("/v1/channels", "party", 200))


@probe("channels_party_20", F1, "`party` ×20 (the cap after the fix), ×3", "timing")
def channels_party_20(ctx: Context) -> dict[str, Any]:
    return timed(ctx, repeated("/v1/channels", "party", 20))


@probe("incidents_actor_2000", F1, "`GET /v1/incidents?actor=a0…a1999`, ×3", "timing")
def incidents_actor_2000(ctx: Context) -> dict[str, Any]:
    return timed(ctx, repeated("/v1/incidents", "actor", 2000))


@probe("incidents_actor_300", F1, "`GET /v1/incidents?actor=a0…a299` (the issue's SQLite case), ×3", "timing")
def incidents_actor_300(ctx: Context) -> dict[str, Any]:
    return timed(ctx, repeated("/v1/incidents", "actor", 300))


@probe("incidents_actor_20", F1, "`actor` ×20 (the cap after the fix), ×3", "timing")
def incidents_actor_20(ctx: Context) -> dict[str, Any]:
    return timed(ctx, repeated("/v1/incidents", "actor", 20))


@probe("timeline_actor_3000", F1, "`GET /v1/timeline?actor=a0…a2999`, ×3: time and memory growth", "timing")
def timeline_actor_3000(ctx: Context) -> dict[str, Any]:
    return timed(ctx, repeated("/v1/timeline", "actor", 3000))


@probe("timeline_actor_20", F1, "`/v1/timeline?actor` ×20 (the cap after the fix), ×3", "timing")
def timeline_actor_20(ctx: Context) -> dict[str, Any]:
    return timed(ctx, repeated("/v1/timeline", "actor", 20))


@probe(
    "concurrent_21",
    F1,
    "21 × `party` ×200 at once, while two callers each loop `GET /v1/incidents?limit=10`",
    "concurrent",
)
def concurrent_21(ctx: Context) -> dict[str, Any]:
    hostile_path = repeated("/v1/channels", "party", 200)
    record: dict[str, Any] = {}
    hostile: list[dict[str, Any]] = []
    ordinary: list[dict[str, Any]] = []
    lock = threading.Lock()
    gate = threading.Barrier(21)
    done = threading.Event()

    def attack() -> None:
        gate.wait()
        outcome = ctx.get(hostile_path)
        with lock:
            hostile.append(outcome)

    def ordinary_loop() -> None:
        time.sleep(1.0)
        deadline = time.monotonic() + 75
        while True:
            outcome = ctx.get(ORDINARY)
            with lock:
                ordinary.append(outcome)
            if done.is_set() or time.monotonic() > deadline:
                return

    mark = ctx.log_mark()
    with ctx.measured(record):
        attackers = [threading.Thread(target=attack) for _ in range(21)]
        callers = [threading.Thread(target=ordinary_loop) for _ in range(2)]
        for thread in attackers + callers:
            thread.start()
        for thread in attackers:
            thread.join()
        done.set()
        for thread in callers:
            thread.join()
    record["hostile_statuses"] = statuses(hostile)
    record["hostile_max_seconds"] = max(o["seconds"] for o in hostile)
    record["hostile_problems"] = [json.loads(p) for p in sorted({json.dumps(o.get("problem")) for o in hostile})]
    record["hostile_served"] = ctx.served(mark, hostile_path)
    record["ordinary_statuses"] = statuses(ordinary)
    record["ordinary_times"] = [o["seconds"] for o in ordinary]
    record["ordinary_problems"] = [
        json.loads(p) for p in sorted({json.dumps(o["problem"]) for o in ordinary if o.get("problem")})
    ]
    return record


# --------------------------------------------------------------------------- slow clients

SLOW_HEAD = b"GET /v1/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"x" * 400


@probe(
    "slow_sockets",
    "Slow clients take the production configuration down",
    f"{SLOW_SOCKETS} sockets from 4 other addresses send a header byte every {TRICKLE_SECONDS:.0f} s for "
    f"{SLOW_SECONDS:.0f} s while one caller loops `GET /v1/incidents?limit=10` (new connection each, "
    "10 s timeout)",
    "slow",
)
def slow_sockets(ctx: Context) -> dict[str, Any]:
    record: dict[str, Any] = {}
    quiet = [ctx.get(ORDINARY, timeout=10) for _ in range(100)]
    loaded: list[dict[str, Any]] = []
    with ctx.measured(record):
        sockets = []
        refused = 0
        for n in range(SLOW_SOCKETS):
            sock = socket.socket()
            sock.bind((SLOW_ADDRESSES[n % len(SLOW_ADDRESSES)], 0))
            sock.settimeout(5)
            try:
                sock.connect(("127.0.0.1", ctx.server.port if ctx.server else 0))
            except OSError:
                refused += 1
                sock.close()
                continue
            sockets.append(sock)
        stop = threading.Event()

        def trickle() -> None:
            sent = 0
            while sent < len(SLOW_HEAD):
                for sock in sockets:
                    try:
                        sock.send(SLOW_HEAD[sent : sent + 1])
                    except OSError:
                        pass
                sent += 1
                if stop.wait(TRICKLE_SECONDS):
                    return

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        time.sleep(TRICKLE_SECONDS)
        deadline = time.monotonic() + SLOW_SECONDS - TRICKLE_SECONDS
        while time.monotonic() < deadline:
            loaded.append(ctx.get(ORDINARY, timeout=10))
        fates: Counter[str] = Counter()
        for sock in sockets:
            sock.settimeout(0.05)
            try:
                data = sock.recv(200)
                fates["closed, " + (data.split(b"\r\n")[0].decode(errors="replace")[9:12] or "no answer")] += 1
            except TimeoutError:
                fates["still open"] += 1
            except OSError:
                fates["reset"] += 1
        stop.set()
        thread.join()
        for sock in sockets:
            sock.close()
    ok = [o["seconds"] for o in quiet if o["status"] == 200]
    record["quiet_statuses"] = statuses(quiet)
    record["quiet_p99"] = percentile(ok, 0.99)
    record["loaded_statuses"] = statuses(loaded)
    record["loaded_p99"] = percentile([o["seconds"] for o in loaded], 0.99)
    record["loaded_p99_ok"] = percentile([o["seconds"] for o in loaded if o["status"] == 200], 0.99)
    record["slow_sockets"] = dict(sorted(fates.items())) | ({"connect refused": refused} if refused else {})
    return record


# --------------------------------------------------------------------------- import answers


INVALID_LINE = b'{"type":"incident","kind":1,"title":2,"occurred_on":3,"initiators":4,"targets":5}\n'
"""An incident line wrong in each of its five fields (five errors to report)."""


def invalid_lines(size: int) -> bytes:
    """At least ``size`` bytes of :data:`INVALID_LINE`."""
    return INVALID_LINE * (size // len(INVALID_LINE) + 1)


@probe(
    "import_50mib",
    "Import error answers amplify",
    "`POST /v1/import?dry_run=true`, 50 MiB of NDJSON, every line an incident wrong in each of its five fields "
    "(write key), ×3",
    "import",
)
def import_50mib(ctx: Context) -> dict[str, Any]:
    body = invalid_lines(IMPORT_BYTES)
    record: dict[str, Any] = {"body_bytes": len(body), "lines": body.count(b"\n")}
    outcomes = []
    headers = ctx.auth("write") | {"Content-Type": "application/x-ndjson"}
    with ctx.measured(record):
        for n in range(REPEATS):
            outcome = call("POST", ctx.url + "/v1/import?dry_run=true", headers=headers, content=body, keep=600)
            outcomes.append(outcome)
            log(f"  import: {outcome['status']} in {outcome['seconds']} s, {outcome['bytes']:,} bytes")
            if outcome["status"] == "timeout" or not ctx.alive():
                break
            if n < REPEATS - 1:
                ctx.settle()
    record["statuses"] = statuses(outcomes)
    record["times"] = [o["seconds"] for o in outcomes]
    record["time"] = statistics.median(record["times"])
    record["answer_bytes"] = max(o["bytes"] for o in outcomes)
    record["detail"] = next((o["problem"].get("detail") for o in outcomes if o.get("problem")), None)
    return record


# --------------------------------------------------------------------------- leaks

EMBARGOED = "EMBARGOED"


@probe(
    "embed_leaks",
    "Drafts and retracted records leak through embeds",
    "a published incident answering a draft and a retracted one (titles `EMBARGOED …`), a channel "
    "change caused by the draft; each route read with a read key: is `EMBARGOED` in the answer?",
    "leaks",
)
def embed_leaks(ctx: Context) -> dict[str, Any]:
    north, south = actors(ctx)
    draft = incident(ctx, f"{EMBARGOED} draft title {ctx.run_id}", status="draft")
    doomed = incident(ctx, f"{EMBARGOED} retracted title {ctx.run_id}")
    answer = incident(ctx, f"Probe answer {ctx.run_id}", responds_to=[draft["id"], doomed["id"]])
    retracted = call("DELETE", f"{ctx.url}/v1/incidents/{doomed['id']}", headers=ctx.auth("write"))
    channel = call(
        "POST",
        ctx.url + "/v1/channels",
        headers=ctx.auth("write"),
        json_body={"name": f"Probe council {ctx.run_id}", "kind": "council", "parties": [north, south]},
    )
    setup = {"retract": retracted["status"], "channel": channel["status"]}
    routes = {
        "read": f"/v1/incidents/{answer['id']}",
        "list": f"/v1/incidents?actor={north}",
        "chain": f"/v1/incidents/{answer['id']}/chain",
        "history": f"/v1/incidents/{answer['id']}/history",
        "timeline": f"/v1/timeline?actor={north}",
        "dyad": f"/v1/dyads/{north}/{south}?as_of=2021-12-31&window_days=365",
        "ndjson export": f"/v1/incidents?format=ndjson&actor={north}",
        "csv export": f"/v1/incidents?format=csv&actor={north}",
    }
    if channel["status"] == 201:
        channel_id = orjson.loads(channel["_head"])["id"]
        change = call(
            "POST",
            f"{ctx.url}/v1/channels/{channel_id}/status-changes",
            headers=ctx.auth("write"),
            json_body={"status": "suspended", "effective_on": "2021-10-20", "caused_by": draft["id"]},
        )
        setup["status_change"] = change["status"]
        routes["channel"] = f"/v1/channels/{channel_id}"
    seen = {}
    for name, path in routes.items():
        outcome = ctx.get(path, keep=10 * MIB)
        leaked = EMBARGOED.encode() in outcome["_head"]
        seen[name] = {"status": outcome["status"], "leaked": leaked}
    return {"setup": setup, "routes": seen, "leaked": [name for name, s in seen.items() if s["leaked"]]}


# --------------------------------------------------------------------------- writers on SQLite

F5 = "SQLite writers wait on a long import and then fail"


@probe(
    "slow_import",
    F5,
    "an NDJSON import of 1,300 incidents streamed over ~20 s (1,200 lines at once, then a line every "
    "0.5 s; write key) while another write key POSTs an actor 3 times",
    "slow_import",
)
def slow_import(ctx: Context) -> dict[str, Any]:
    north, south = actors(ctx)
    lines = [
        {"type": "incident", "kind": "expulsion", "title": f"Probe slow import {n}", "occurred_on": "2021-10-07"}
        | {"initiators": [north], "targets": [south], "external_ref": f"probe:{ctx.run_id}:slow:{n}"}
        for n in range(1300)
    ]
    arrived = threading.Event()

    def trickle() -> Iterator[bytes]:
        yield b"".join(orjson.dumps(line) + b"\n" for line in lines[:1200])
        arrived.set()
        for line in lines[1200:1240]:
            time.sleep(0.5)
            yield orjson.dumps(line) + b"\n"
        yield b"".join(orjson.dumps(line) + b"\n" for line in lines[1240:])

    answers: dict[str, Any] = {}

    def importing() -> None:
        headers = ctx.auth("write") | {"Content-Type": "application/x-ndjson"}
        answers["import"] = call("POST", ctx.url + "/v1/import", headers=headers, content=trickle())

    record: dict[str, Any] = {}
    posts = []
    with ctx.measured(record):
        thread = threading.Thread(target=importing)
        thread.start()
        arrived.wait(30)
        time.sleep(1.5)
        for n in range(3):
            slug = f"probe-{ctx.run_id}-writer-{n}"
            body = {"slug": slug, "name": f"Writer {n}", "kind": "body"}
            outcome = call("POST", ctx.url + "/v1/actors", headers=ctx.auth("write2"), json_body=body)
            outcome["import_running"] = thread.is_alive()
            posts.append(outcome)
            log(f"  actor POST: {outcome['status']} in {outcome['seconds']} s")
        thread.join()
    record["posts"] = [public(o) for o in posts]
    record["post_statuses"] = statuses(posts)
    record["post_times"] = [o["seconds"] for o in posts]
    record["import"] = public(answers["import"])
    return record


@probe(
    "writers_50",
    F5,
    "50 threads POST incidents for 15 s (write key) while 3 callers, each with a key not used before, loop "
    "`GET /v1/incidents?limit=10`",
    "writers",
)
def writers_50(ctx: Context) -> dict[str, Any]:
    north, south = actors(ctx)
    stop = threading.Event()
    lock = threading.Lock()
    writes: list[dict[str, Any]] = []
    reads: list[dict[str, Any]] = []

    def writer(n: int) -> None:
        with httpx.Client(base_url=ctx.url, headers=ctx.auth("write"), timeout=TIMEOUT) as client:
            i = 0
            while not stop.is_set():
                body = {"kind": "expulsion", "title": f"Probe writer {n} {i}", "occurred_on": "2021-10-09"}
                body |= {"initiators": [north], "targets": [south]}
                started = time.perf_counter()
                outcome: dict[str, Any] = {}
                try:
                    answer = client.post("/v1/incidents", json=body)
                    outcome["status"] = answer.status_code
                    if answer.status_code >= 400:
                        outcome["problem"] = problem_of(answer.content)
                except httpx.TimeoutException:
                    outcome["status"] = "timeout"
                except httpx.HTTPError as exc:
                    outcome["status"] = f"error:{type(exc).__name__}"
                outcome["seconds"] = round(time.perf_counter() - started, 3)
                with lock:
                    writes.append(outcome)
                i += 1

    def reader(key: str) -> None:
        time.sleep(1.0)
        while not stop.is_set():
            outcome = ctx.get(ORDINARY, key)
            with lock:
                reads.append(outcome)

    record: dict[str, Any] = {}
    with ctx.measured(record):
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(50)]
        threads += [threading.Thread(target=reader, args=(f"fresh{n}",)) for n in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(15)
        stop.set()
        for thread in threads:
            thread.join()
    record["get_statuses"] = statuses(reads)
    record["get_max_seconds"] = max((o["seconds"] for o in reads), default=None)
    record["get_problems"] = [
        json.loads(p) for p in sorted({json.dumps(o["problem"]) for o in reads if o.get("problem")})
    ]
    record["write_statuses"] = statuses(writes)
    record["write_max_seconds"] = max((o["seconds"] for o in writes), default=None)
    record["write_problems"] = [
        json.loads(p) for p in sorted({json.dumps(o["problem"]) for o in writes if o.get("problem")})
    ]
    return record


# --------------------------------------------------------------------------- forged cursors


def _sign(payload: bytes) -> str:
    """A cursor's signature as app/kit/pagination.py makes it (the same at both commits)."""
    return hmac.new(CURSOR_SECRET.encode(), payload, hashlib.sha256).hexdigest()[:32]


def _payload(cursor: str) -> dict[str, Any] | None:
    body, _, signature = cursor.partition(".")
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    if not hmac.compare_digest(signature, _sign(payload)):
        return None  # not the format this script knows
    return orjson.loads(payload)


def _forge(payload: dict[str, Any], **changes: Any) -> str:
    raw = orjson.dumps(payload | changes)
    return f"{base64.urlsafe_b64encode(raw).decode().rstrip('=')}.{_sign(raw)}"


def keep_alive(ctx: Context, path: str) -> dict[str, Any]:
    """``path`` on a kept-alive connection, then ``/healthz`` on the same one: was it kept?"""
    assert ctx.server is not None
    connection = http.client.HTTPConnection("127.0.0.1", ctx.server.port, timeout=TIMEOUT)
    outcome: dict[str, Any] = {}
    try:
        connection.request("GET", path, headers=ctx.auth())
        answer = connection.getresponse()
        body = answer.read()
        outcome["status"] = answer.status
        if answer.status >= 400:
            outcome["problem"] = problem_of(body)
        if answer.will_close:
            outcome["connection"] = "closed (Connection: close)"
        else:
            try:
                connection.request("GET", "/healthz")
                connection.getresponse().read()
                outcome["connection"] = "kept"
            except (http.client.HTTPException, OSError):
                outcome["connection"] = "dropped"
    except TimeoutError:
        outcome["status"] = "timeout"
    except (http.client.HTTPException, OSError) as exc:
        outcome["status"] = f"error:{type(exc).__name__}"
    finally:
        connection.close()
    return outcome


@probe(
    "forged_cursors",
    "Forged cursors answer 500",
    "cursors re-signed with the known secret: a date-only value for `sort=created_at`, a list and a dict as "
    "the search position (`q=`), a NUL in a date, in a name (`/v1/actors?sort=name`) and in an id; then the same "
    "connection asked again",
    "cursors",
)
def forged_cursors(ctx: Context) -> dict[str, Any]:
    first = ctx.get("/v1/incidents?limit=1")
    title = orjson.loads(first["_head"])["data"][0]["title"] if first["status"] == 200 else "expulsion"
    word = max(re.findall(r"[A-Za-z]{4,}", title) or ["expulsion"], key=len)
    queries = {
        "created_at": "/v1/incidents?sort=created_at&limit=1",
        "search": f"/v1/incidents?q={quote(word)}&limit=1",
        "default": "/v1/incidents?limit=1",
        "name": "/v1/actors?sort=name&limit=1",
    }
    cursors = {}
    for name, path in queries.items():
        outcome = ctx.get(path, keep=10 * MIB)
        cursor = orjson.loads(outcome["_head"]).get("next_cursor") if outcome["status"] == 200 else None
        payload = _payload(cursor) if cursor else None
        if payload is None:
            return {"error": f"no cursor of the known format from {path}: {public(outcome)}"}
        cursors[name] = payload
    value, last_id = cursors["default"]["v"]
    cases = {
        "date-only created_at": ("created_at", {"v": ["2021-10-01", cursors["created_at"]["v"][1]]}),
        "search position a list": ("search", {"p": ["x"]}),
        "search position a dict": ("search", {"p": {"x": 1}}),
        "search value a list": ("search", {"v": [["x"], cursors["search"]["v"][1]]}),
        "search value a dict": ("search", {"v": [{"x": 1}, cursors["search"]["v"][1]]}),
        "NUL in a date": ("default", {"v": [f"{value}\u0000", last_id]}),
        "NUL in a text value": ("name", {"v": [f"{cursors['name']['v'][0]}\u0000", cursors["name"]["v"][1]]}),
        "NUL in the id": ("default", {"v": [value, f"{last_id[:4]}\u0000{last_id[4:]}"]}),
    }
    answers = {}
    for name, (query, changes) in cases.items():
        path = f"{queries[query]}&cursor={_forge(cursors[query], **changes)}"
        answers[name] = keep_alive(ctx, path)
    return {"search_word": word, "cases": answers, "statuses": statuses(list(answers.values()))}


@probe(
    "dev_secret_start",
    "Forged cursors answer 500",
    "the image's command started without `DEMARCHE_CURSOR_SECRET` (anonymous reads off): does it serve?",
    "start",
)
def dev_secret_start(ctx: Context) -> dict[str, Any]:
    environ = ctx.tree.environment(ctx.database_url)
    environ.pop("DEMARCHE_CURSOR_SECRET")
    server = start(ctx.tree, environ, ctx.workdir / "server-dev-secret.log", wait=60)
    try:
        if server.process.poll() is None:
            anonymous = call("GET", server.url + "/v1/incidents?limit=1")
            return {"outcome": "serves", "anonymous_list": anonymous["status"]}
        lines = server.log.read_text(errors="replace").splitlines()
        message = next((line for line in reversed(lines) if "CURSOR_SECRET" in line), lines[-1] if lines else "")
        return {"outcome": "refuses to start", "exit": server.process.returncode, "message": message.strip()[:300]}
    finally:
        server.stop()


# --------------------------------------------------------------------------- the smaller ones

F7 = "Smaller ones"


@probe(
    "patch_answer_to_retracted",
    F7,
    "`PATCH` (`persons_affected`) of an incident answering one since retracted",
    "statuses",
)
def patch_answer_to_retracted(ctx: Context) -> dict[str, Any]:
    first = incident(ctx, f"Probe answered {ctx.run_id}")
    second = incident(ctx, f"Probe answering {ctx.run_id}", responds_to=[first["id"]])
    retract = call("DELETE", f"{ctx.url}/v1/incidents/{first['id']}", headers=ctx.auth("write"))
    patched = call(
        "PATCH",
        f"{ctx.url}/v1/incidents/{second['id']}",
        headers=ctx.auth("write") | {"Content-Type": "application/merge-patch+json"},
        content=b'{"persons_affected": 3}',
    )
    return {"retract": retract["status"], "statuses": statuses([patched]), "patch": public(patched)}


@probe(
    "created_retracted_feed",
    F7,
    "`POST /v1/incidents` with `status: retracted`, then its entries in `/v1/changes`",
    "feed",
)
def created_retracted_feed(ctx: Context) -> dict[str, Any]:
    made = incident(ctx, f"Probe born retracted {ctx.run_id}", status="retracted")
    ops, after = [], 0
    for _ in range(10_000):
        page = ctx.get(f"/v1/changes?after={after}&limit=500", "write", keep=10 * MIB)
        if page["status"] != 200:
            return {"error": public(page)}
        data = orjson.loads(page["_head"])
        ops += [entry["op"] for entry in data["data"] if entry.get("id") == made["id"]]
        if data["next_cursor"] is None:
            break
        after = data["next_cursor"]
    return {"ops": ops}


@probe("metrics_anonymous", F7, "`GET /metrics` without a key, with a read key, with an admin key", "statuses")
def metrics_anonymous(ctx: Context) -> dict[str, Any]:
    answers = {
        "anonymous →": ctx.get("/metrics", None)["status"],
        "read key →": ctx.get("/metrics", "read")["status"],
        "admin key →": ctx.get("/metrics", "admin")["status"],
    }
    return {"answers": answers}


@probe("head", F7, "`HEAD /healthz`, and `HEAD /v1/incidents?limit=1` (read key)", "statuses")
def head(ctx: Context) -> dict[str, Any]:
    healthz = call("HEAD", ctx.url + "/healthz")
    listing = call("HEAD", ctx.url + "/v1/incidents?limit=1", headers=ctx.auth())
    return {
        "answers": {"/healthz →": healthz["status"], "/v1/incidents →": listing["status"]},
        "allow": healthz.get("headers", {}).get("allow"),
    }


@probe(
    "two_authorization",
    F7,
    "`GET /v1/incidents?limit=1` with two `Authorization` headers: valid then bogus, bogus then valid",
    "statuses",
)
def two_authorization(ctx: Context) -> dict[str, Any]:
    valid, bogus = ("Authorization", f"Bearer {ctx.keys['read']}"), ("Authorization", "Bearer dmk_0_x")
    answers = {
        "valid then bogus →": call("GET", ctx.url + "/v1/incidents?limit=1", headers=[valid, bogus])["status"],
        "bogus then valid →": call("GET", ctx.url + "/v1/incidents?limit=1", headers=[bogus, valid])["status"],
    }
    return {"answers": answers}


def guessed(secret: str) -> str:
    """``secret`` with its last four characters changed: the right key id, a wrong secret."""
    return secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")


@probe(
    "xff_rotation",
    F7,
    f"a server with a rate limit of {FAILED_KEY_LIMIT}: 60 wrong secrets for one key id from the trusted "
    "proxy address, `X-Forwarded-For` a new address each time (and, as a control, one fixed address)",
    "xff",
)
def xff_rotation(ctx: Context) -> dict[str, Any]:
    environ = ctx.tree.environment(ctx.database_url, rate_limit=FAILED_KEY_LIMIT)
    server = start(ctx.tree, environ, ctx.workdir / "server-xff.log")
    try:
        if server.process.poll() is not None:
            return {"error": f"the server did not start: {server.tail()}"}
        second = datetime.now().second
        if second > 30:  # the limits' windows start on the minute: the probe runs within one
            time.sleep(61 - second)
        rotating, fixed = [], []
        for n in range(60):
            headers = {"Authorization": f"Bearer {guessed(ctx.keys['read'])}", "X-Forwarded-For": f"198.51.100.{n}"}
            rotating.append(call("GET", server.url + "/v1/incidents?limit=1", headers=headers))
        for _ in range(60):
            headers = {"Authorization": f"Bearer {guessed(ctx.keys['write'])}", "X-Forwarded-For": "203.0.113.7"}
            fixed.append(call("GET", server.url + "/v1/incidents?limit=1", headers=headers))
        return {"rotating": statuses(rotating), "fixed": statuses(fixed)}
    finally:
        server.stop()


ORDER = [
    "dev_secret_start",
    "metrics_anonymous",
    "head",
    "two_authorization",
    "forged_cursors",
    "patch_answer_to_retracted",
    "created_retracted_feed",
    "embed_leaks",
    "channels_party_20",
    "incidents_actor_20",
    "timeline_actor_20",
    "channels_party_200",
    "incidents_actor_300",
    "incidents_actor_2000",
    "timeline_actor_3000",
    "concurrent_21",
    "slow_sockets",
    "import_50mib",
    "slow_import",
    "writers_50",
    "xff_rotation",
]
"""The order of a run: the quick ones first, those that need a server of their own last
(``dev_secret_start`` runs before the main server starts)."""
OWN_SERVER = {"dev_secret_start", "xff_rotation"}


# --------------------------------------------------------------------------- preparing a run


def engine_of(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def incidents_in(url: str) -> int | None:
    """How many incidents the database holds; ``None`` when it has no such table (or none)."""
    try:
        if engine_of(url) == "sqlite":
            path = url.split(":///", 1)[1]
            if not Path(path).exists():
                return None
            with sqlite3.connect(path) as connection:
                return connection.execute("SELECT count(*) FROM incidents").fetchone()[0]
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as connection:
            return connection.execute("SELECT count(*) FROM incidents").fetchone()[0]
    except Exception:
        return None


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it does not exist."""
    if engine_of(url) != "postgresql":
        return
    import psycopg

    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    name = parts.path.lstrip("/")
    maintenance = parts._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory = _proc_status_meminfo()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(memory / 1024**3, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def _proc_status_meminfo() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def prepare(ctx: Context, incidents: int) -> dict[str, Any]:
    ensure_database(ctx.database_url)
    held = incidents_in(ctx.database_url)
    generated: dict[str, Any] = {}
    if held is None or held == 0:
        log(f"generating {incidents:,} incidents with {ctx.tree.root}/bench/generate.py")
        started = time.monotonic()
        generated = ctx.tree.generate(ctx.database_url, incidents)
        generated["wall_seconds"] = round(time.monotonic() - started, 1)
    elif held < incidents:
        raise SystemExit(f"the database holds {held:,} incidents, fewer than {incidents:,}: drop it first")
    else:
        log(f"the database already holds {held:,} incidents: probing it as it is")
        generated = {"reused": held}
    for scope, name in [
        ("read", "read"),
        ("write", "write"),
        ("write", "write2"),
        ("admin", "admin"),
        ("read", "fresh0"),
        ("read", "fresh1"),
        ("read", "fresh2"),
    ]:
        ctx.keys[name] = ctx.tree.create_key(ctx.database_url, scope, f"probes-{ctx.run_id}-{name}")
    return generated


def run(args: argparse.Namespace) -> dict[str, Any]:
    tree = Tree(Path(args.server_root).resolve())
    engine = engine_of(args.url)
    run_id = datetime.now(UTC).strftime("%H%M%S")
    workdir = Path(args.workdir or f"/tmp/probes/{tree.root.name}-{engine}")
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = Context(tree, args.url, engine, workdir, run_id)
    chosen = [
        p for p in ORDER if (not args.only or p in args.only.split(",")) and p not in (args.skip or "").split(",")
    ]
    meta: dict[str, Any] = {
        "server_root": str(tree.root),
        "commit": tree.git("rev-parse", "HEAD"),
        "app_commit": tree.git("log", "-1", "--format=%H", "--", "app", "migrations", "Dockerfile", "pyproject.toml"),
        "subject": tree.git("log", "-1", "--format=%s"),
        "engine": engine,
        "database": re.sub(r"//[^@/]*@", "//…@", args.url),
        "incidents": args.incidents,
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_before": os.getloadavg()[0],
        "command": tree.command(),
        "settings": {"DEMARCHE_PUBLIC_READ": "false", "DEMARCHE_RATE_LIMIT": RATE_LIMIT},
    }
    meta["generated"] = prepare(ctx, args.incidents)
    results: dict[str, Any] = {}
    by_id = {p.id: p for p in PROBES}

    def one(p: Probe) -> None:
        log(f"{p.id}: {p.description}")
        started = time.monotonic()
        try:
            outcome = p.run(ctx)
        except Exception as exc:  # a probe that could not be asked is reported, not fatal
            outcome = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        outcome |= {"kind": p.kind, "finding": p.finding, "description": p.description}
        outcome["probe_seconds"] = round(time.monotonic() - started, 1)
        results[p.id] = outcome
        log(f"{p.id}: {summary(outcome)}")

    for name in [p for p in chosen if p == "dev_secret_start"]:
        one(by_id[name])
    ctx.server = start(tree, tree.environment(args.url), workdir / "server.log")
    if ctx.server.process.poll() is not None:
        raise SystemExit(f"the server did not start:\n{ctx.server.tail(20)}")
    if engine == "postgresql":
        ctx.postgres = Postgres(args.url)
    ctx.sampler = Sampler(ctx.server.pid, Postgres(args.url) if engine == "postgresql" else None)
    ctx.sampler.start()
    try:
        for name in chosen:
            if name in OWN_SERVER:
                continue
            if not ctx.alive():
                results[name] = {"error": f"the server had exited ({ctx.server.process.returncode})"}
                results[name] |= {"kind": by_id[name].kind, "finding": by_id[name].finding}
                results[name]["description"] = by_id[name].description
                continue
            one(by_id[name])
    finally:
        ctx.sampler.stop.set()
        ctx.server.stop()
        if ctx.postgres:
            ctx.postgres.close()
    for name in [p for p in chosen if p == "xff_rotation"]:
        one(by_id[name])
    meta["load_after"] = os.getloadavg()[0]
    meta["finished"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return {"meta": meta, "results": results}


# --------------------------------------------------------------------------- reporting


def mib(n: int | None) -> str:
    return "?" if not n else f"{n / MIB:,.0f} MiB"


def counts(found: dict[str, int]) -> str:
    return ", ".join(f"{status} ×{n}" if n > 1 else status for status, n in found.items()) or "none"


def seconds(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def memory(result: dict[str, Any]) -> str:
    rss = result.get("rss")
    if not rss:
        return ""
    text = f"RSS {mib(rss['before'])} → peak {mib(rss['peak'])}, {mib(rss['after'])} after"
    if result.get("pg_backend_peak"):
        text += f"; largest backend {mib(result['pg_backend_peak'])}"
    return text


def problem_words(problems: list[dict[str, Any]] | None) -> str:
    words = [p.get("detail") or p.get("title") or "" for p in problems or [] if p]
    return "; ".join(f"“{w[:90]}{'…' if len(w) > 90 else ''}”" for w in words[:2])


def summary(result: dict[str, Any]) -> str:
    """One table cell of a probe's result."""
    if "error" in result:
        return f"not asked: {result['error'][:200]}"
    kind = result["kind"]
    parts: list[str] = []
    if kind == "timing":
        times = result["times"]
        timing = f"median {seconds(result['time'])}" if len(times) > 1 else seconds(times[0])
        if "timeout" in result["statuses"]:
            timing = f"no answer in {TIMEOUT:.0f} s"
            late = [f"{status} after {seconds(taken)}" for status, taken in result.get("served", [])]
            if result.get("cancelled"):
                timing += " (its statement still running: cancelled by the probe)"
            elif late:
                timing += f" (the server's log: {', '.join(late)})"
        parts = [counts(result["statuses"]), timing, memory(result), problem_words(result.get("problems"))]
    elif kind == "concurrent":
        ordinary = result["ordinary_times"]
        parts = [
            f"hostile: {counts(result['hostile_statuses'])} (last after {seconds(result['hostile_max_seconds'])})",
            f"ordinary: {counts(result['ordinary_statuses'])}, slowest {seconds(max(ordinary, default=None))}",
            problem_words(result.get("hostile_problems") + result.get("ordinary_problems", [])),
            memory(result),
        ]
    elif kind == "slow":
        parts = [
            f"ordinary: {counts(result['loaded_statuses'])}",
            f"p99 {seconds(result['loaded_p99'])} vs quiet {seconds(result['quiet_p99'])}",
            f"slow sockets at the end: {counts(_fates(result['slow_sockets']))}",
        ]
    elif kind == "import":
        parts = [
            counts(result["statuses"]),
            f"answer {mib(result['answer_bytes'])}"
            if result["answer_bytes"] >= MIB
            else f"answer {result['answer_bytes']:,} B",
            f"median {seconds(result['time'])}",
            f"peak RSS {mib(result['rss']['peak'])} (from {mib(result['rss']['before'])})",
        ]
    elif kind == "leaks":
        leaked = result["leaked"]
        parts = [f"leaked on {', '.join(leaked)}" if leaked else "no leak"]
        failed = {n: s["status"] for n, s in result["routes"].items() if s["status"] != 200}
        parts.append(f"non-200: {failed}" if failed else f"{len(result['routes'])} routes, all 200")
    elif kind == "slow_import":
        imported = result["import"]
        parts = [
            f"actor POSTs: {counts(result['post_statuses'])} in {', '.join(seconds(t) for t in result['post_times'])}",
            f"import: {imported['status']} after {seconds(imported['seconds'])}",
            problem_words([p.get("problem") for p in result["posts"] if p.get("problem")]),
        ]
    elif kind == "writers":
        parts = [
            f"GETs: {counts(result['get_statuses'])}, slowest {seconds(result['get_max_seconds'])}",
            problem_words(result.get("get_problems")),
            f"writes: {counts(result['write_statuses'])}",
            problem_words(result.get("write_problems")),
        ]
    elif kind == "cursors":
        parts = [counts(result["statuses"])]
        for name, answer in result["cases"].items():
            dropped = answer.get("connection") != "kept"
            if answer["status"] != 400 or dropped:
                parts.append(
                    f"{name} {answer['status']}" + (f" (connection {answer.get('connection')})" if dropped else "")
                )
    elif kind == "start":
        if result["outcome"] == "serves":
            parts = [f"serves with the development secret (anonymous list {result['anonymous_list']})"]
        else:
            parts = [f"refuses to start (exit {result['exit']}): “{result['message'][-120:]}”"]
    elif kind == "statuses":
        if "answers" in result:
            parts = [", ".join(f"{k} {v}" for k, v in result["answers"].items())]
            if result.get("allow"):
                parts.append(f"Allow: {result['allow']}")
        else:
            parts = [counts(result["statuses"]), problem_words([result["patch"].get("problem")])]
    elif kind == "feed":
        parts = [f"entries: {', '.join(result['ops']) or 'none'}"]
    elif kind == "xff":
        parts = [f"rotating: {counts(result['rotating'])}", f"one address: {counts(result['fixed'])}"]
    if result.get("memory_valve"):
        parts.append("**" + "; ".join(result["memory_valve"]) + "**")
    if result.get("server_exited") is not None:
        parts.append(f"**the server exited ({result['server_exited']})**")
    return "; ".join(p for p in parts if p)


def _fates(found: dict[str, int]) -> dict[str, int]:
    """The slow sockets' fates in words: ``closed, 408`` is a 408 answer, then the close."""
    words = {}
    for fate, n in found.items():
        if fate == "closed, no answer":
            fate = "closed without an answer"
        elif fate.startswith("closed, "):
            fate = f"answered {fate.removeprefix('closed, ')} and closed"
        words[fate] = n
    return words


def table(before: dict[str, Any], after: dict[str, Any]) -> str:
    rows = ["| finding | probe | before | after |", "|---|---|---|---|"]
    names = list(dict.fromkeys([*before["results"], *after["results"]]))
    names.sort(key=lambda n: TABLE_ORDER.index(n) if n in TABLE_ORDER else len(TABLE_ORDER))
    by_finding: dict[str, list[str]] = {}
    for name in names:
        source = before["results"].get(name) or after["results"][name]
        by_finding.setdefault(source["finding"], []).append(name)
    for finding, members in sorted(by_finding.items(), key=lambda kv: FINDINGS.index(kv[0])):
        for n, name in enumerate(members):
            source = before["results"].get(name) or after["results"][name]
            cells = [
                finding if n == 0 else "",
                source["description"],
                summary(before["results"][name]) if name in before["results"] else "—",
                summary(after["results"][name]) if name in after["results"] else "—",
            ]
            rows.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(rows)


TABLE_ORDER = [
    "channels_party_200",
    "channels_party_20",
    "incidents_actor_2000",
    "incidents_actor_300",
    "incidents_actor_20",
    "timeline_actor_3000",
    "timeline_actor_20",
    "concurrent_21",
    "slow_sockets",
    "import_50mib",
    "embed_leaks",
    "slow_import",
    "writers_50",
    "forged_cursors",
    "dev_secret_start",
    "patch_answer_to_retracted",
    "created_retracted_feed",
    "metrics_anonymous",
    "head",
    "two_authorization",
    "xff_rotation",
]
FINDINGS = [
    F1,
    "Slow clients take the production configuration down",
    "Import error answers amplify",
    "Drafts and retracted records leak through embeds",
    F5,
    "Forged cursors answer 500",
    F7,
]


def heading(result: dict[str, Any], label: str) -> str:
    meta = result["meta"]
    return (
        f"{label}: `{meta['commit'][:7]}` (the app as of `{meta['app_commit'][:7]}`), {meta['started']}, "
        f"load average {meta['load_before']:.1f} at the start, {meta['load_after']:.1f} at the end"
    )


def compare(before_path: str, after_path: str) -> str:
    before = json.loads(Path(before_path).read_text())
    after = json.loads(Path(after_path).read_text())
    engine = after["meta"]["engine"]
    lines = [
        f"**{'SQLite' if engine == 'sqlite' else 'PostgreSQL'}**, {after['meta']['incidents']:,} incidents "
        f"(bench/generate.py of each tree)",
        "",
        f"- {heading(before, 'before')}",
        f"- {heading(after, 'after')}",
        "",
        table(before, after),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.probes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-root", help="The checkout to serve (with its .venv).")
    parser.add_argument("--url", help="SQLAlchemy URL of the database: filled if empty, probed as it is if not.")
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--out", help="Where to write the results (JSON).")
    parser.add_argument("--workdir", help="Logs of the servers (default /tmp/probes/<tree>-<engine>).")
    parser.add_argument("--only", help="Comma-separated probe ids to run (default: all).")
    parser.add_argument("--skip", help="Comma-separated probe ids to leave out.")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"), help="Print two results as a table.")
    args = parser.parse_args(argv)
    if args.compare:
        print(compare(*args.compare))
        return
    if not args.server_root or not args.url:
        parser.error("--server-root and --url are needed (or --compare)")
    results = run(args)
    text = json.dumps(results, indent=1, default=str)
    if args.out:
        Path(args.out).write_text(text + "\n")
        log(f"results in {args.out}")
    else:
        print(text)


if __name__ == "__main__":
    main()
