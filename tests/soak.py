"""A bounded soak: everything hostile and heavy at once against one ``demarche serve`` (as
the README starts it) on a new database holding the demo data, then the checks that matter.

For ``--seconds`` (60 by default) at once: three readers, two writers, an importer sending
2,000 incidents a batch, a follower of the change feed, twenty hostile requests spread over
the run, and 200 sockets trickling request heads from other addresses. Afterwards:

- ordinary reads (the readers' and a probe's) never answered 5xx, and their p99 stayed under
  ``LATENCY_BOUND`` seconds;
- the server's memory, once the load is over, is under ``MEMORY_CEILING`` bytes;
- no hostile request answered 500, and no slow socket is still open;
- the follower saw every entry of the final feed, in order: none appeared behind its cursor;
- every write acknowledged (a 201, or an import's 200) is present exactly once.

``.ci/run`` runs it on each engine: ``python -m tests.soak`` (SQLite in a temporary folder, or
a new database beside ``DEMARCHE_TEST_DATABASE_URL``). It prints its figures and exits 1 with
the failed checks, if any.
"""

import argparse
import itertools
import os
import random
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import httpx
import orjson

from tests import ROOT
from tests.conftest import drop_database, fresh_database
from tests.live import DEMARCHE, answer_of, free_port, print_checks, serve, slow_sockets

LATENCY_BOUND = 1.0
MEMORY_CEILING = 600 * 1024 * 1024
IMPORT_LINES = 2_000
HOSTILE = [
    "/v1/incidents?" + urlencode([("actor", f"a{n}") for n in range(300)]),
    "/v1/channels?" + urlencode([("party", f"a{n}") for n in range(200)]),
    "/v1/timeline?" + urlencode([("actor", f"a{n}") for n in range(3000)]),
    "/v1/incidents?cursor=eyJ2IjpbWzFdLCJ4Il19.forged",
    "/v1/incidents?sort=created_at&cursor=" + "A" * 4000,
    "/v1/incidents?q=" + "a%20" * 500,
    "/v1/incidents?q=%00",
    "/v1/incidents?limit=100000",
    "/v1/incidents?from=2021-13-45",
    "/v1/stats/incidents?group_by=kind,month&from=0001-01-01&to=9999-12-31",
    "/v1/incidents/" + "x" * 5000,
    "/v1/dyads/nato/nato",
    "/v1/changes?after=-1",
    "/v1/incidents?kind=" + "expulsion&kind=" * 100 + "expulsion",
    "/metrics",
    "/v1/incidents?format=geojson&limit=0",
    "/v1/incidents/%2e%2e/%2e%2e/etc/passwd",
    "/v1/actors?q=" + "%22" * 200,
    "/v1/timeline?actor=nato&from=2100-01-01&to=1900-01-01",
    "/v1/incidents?sort=-" + "occurred_on," * 50,
]


def command(environ: dict[str, str], *argv: str) -> str:
    done = subprocess.run([str(DEMARCHE), *argv], env=environ, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise SystemExit(f"demarche {' '.join(argv)} failed:\n{done.stderr}")
    return done.stdout


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Soak:
    def __init__(self, url: str, read: str, write: str, seconds: float) -> None:
        self.url, self.seconds = url, seconds
        self.read = {"Authorization": f"Bearer {read}"}
        self.write = {"Authorization": f"Bearer {write}"}
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.reads: list[tuple[str, int, float]] = []
        self.acknowledged: list[str] = []
        self.unanswered = 0
        self.hostile: list[tuple[str, int]] = []
        self.followed: list[int] = []
        self.incident_ids: list[str] = []

    def loop(self, work: Callable[[httpx.Client, int], None]) -> Callable[[], None]:
        def run() -> None:
            with httpx.Client(base_url=self.url, timeout=60) as http:
                for n in itertools.count():
                    if self.stop.is_set():
                        return
                    work(http, n)

        return run

    def reader(self, http: httpx.Client, n: int) -> None:
        paths = [
            "/v1/incidents?limit=10",
            "/v1/incidents?initiator=russia&limit=50",
            "/v1/actors",
            "/v1/dyads/nato/russia?as_of=2021-10-20",
            "/v1/stats/incidents?group_by=kind",
            "/v1/timeline?actor=nato",
        ]
        if self.incident_ids:
            paths.append(f"/v1/incidents/{random.choice(self.incident_ids)}")
        path, start = random.choice(paths), time.perf_counter()
        status = http.get(path, headers=self.read).status_code
        with self.lock:
            self.reads.append((path.split("?")[0], status, time.perf_counter() - start))

    def writer(self, name: str) -> Callable[[httpx.Client, int], None]:
        def write(http: httpx.Client, n: int) -> None:
            ref = f"soak:{name}:{n}"
            line = {"kind": "expulsion", "title": f"Soak {ref}", "occurred_on": "2021-10-01"}
            body = line | {"initiators": ["nato"], "targets": ["russia"], "external_ref": ref}
            try:
                answer = http.post("/v1/incidents", json=body, headers=self.write)
            except httpx.TransportError:
                with self.lock:
                    self.unanswered += 1
                return
            if answer.status_code == 201:
                with self.lock:
                    self.acknowledged.append(ref)
                    self.incident_ids.append(answer.json()["id"])

        return write

    def importer(self, http: httpx.Client, n: int) -> None:
        refs = [f"soak:import:{n}:{i}" for i in range(IMPORT_LINES)]
        lines = [
            {"type": "incident", "kind": "expulsion", "title": ref, "occurred_on": "2021-09-01"}
            | {"initiators": ["russia"], "targets": ["nato"], "external_ref": ref}
            for ref in refs
        ]
        body = b"".join(orjson.dumps(line) + b"\n" for line in lines)
        headers = self.write | {"Content-Type": "application/x-ndjson"}
        answer = http.post("/v1/import", content=body, headers=headers)
        if answer.status_code == 200:
            with self.lock:
                self.acknowledged += refs
        self.stop.wait(5)

    def follower(self, http: httpx.Client, n: int) -> None:
        after = self.followed[-1] if self.followed else self.start_seq
        page = http.get("/v1/changes", params={"after": after, "limit": 500}, headers=self.read).json()
        self.followed += [entry["seq"] for entry in page["data"]]
        if not page["data"]:
            self.stop.wait(0.2)

    def hostile_caller(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            for path in HOSTILE:
                time.sleep(self.seconds / (len(HOSTILE) + 1))
                self.hostile.append((path[:60], http.get(path, headers=self.read).status_code))

    def feed(self, http: httpx.Client, after: int) -> list[int]:
        seqs = []
        while True:
            page = http.get("/v1/changes", params={"after": after, "limit": 500}, headers=self.read).json()
            seqs += [entry["seq"] for entry in page["data"]]
            if page["next_cursor"] is None:
                return seqs
            after = page["next_cursor"]

    def run(self, port: int) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            self.start_seq = (self.feed(http, 0) or [0])[-1]
        threads = [threading.Thread(target=self.loop(self.reader)) for _ in range(3)]
        threads += [threading.Thread(target=self.loop(self.writer(f"w{n}"))) for n in range(2)]
        threads += [
            threading.Thread(target=self.loop(self.importer)),
            threading.Thread(target=self.loop(self.follower)),
        ]
        threads.append(threading.Thread(target=self.hostile_caller))
        with slow_sockets(port, 200) as sockets:
            for thread in threads:
                thread.start()
            self.stop.wait(self.seconds)
            self.stop.set()
            for thread in threads:
                thread.join()
            self.open_slow = sum(answer_of(sock) == b"<still open>" for sock in sockets)
        with httpx.Client(base_url=self.url, timeout=60) as http:
            self.final = self.feed(http, self.start_seq)
            while self.followed[-1:] != self.final[-1:]:  # what the follower had not read yet
                self.follower(http, 0)
            exported = http.get("/v1/incidents", params={"format": "ndjson"}, headers=self.write)
            refs = (orjson.loads(line).get("external_ref") for line in exported.content.splitlines())
            self.present = Counter(ref for ref in refs if ref)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    base = os.environ.get("DEMARCHE_TEST_DATABASE_URL", "sqlite://")
    with tempfile.TemporaryDirectory() as folder:
        url = fresh_database(base, Path(folder), "demarche_soak")
        try:
            environ = os.environ | {"DEMARCHE_DATABASE_URL": url, "DEMARCHE_CURSOR_SECRET": "soak-cursor-secret"}
            command(environ, "migrate")
            command(environ, "seed")
            read = command(environ, "keys", "create", "--scope", "read", "--name", "soak").splitlines()[-1]
            write = command(environ, "keys", "create", "--scope", "write", "--name", "soak").splitlines()[-1]
            port = free_port()
            # one worker process: the one whose memory is measured
            argv = [str(DEMARCHE), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
            settings = {"DEMARCHE_PUBLIC_READ": "false", "DEMARCHE_RATE_LIMIT": "1000000/minute"}
            with serve(url, Path(folder) / "server.log", command=argv, port=port, env=environ | settings) as server:
                soak = Soak(server.url, read, write, args.seconds)
                soak.run(port)
                time.sleep(2)
                memory = rss(server.process.pid)
        finally:
            drop_database(url)
    report(soak, memory)


def report(soak: Soak, memory: int) -> None:
    durations = [d for _, _, d in soak.reads]
    p99 = statistics.quantiles(durations, n=100)[98]
    failed_reads = Counter((path, status) for path, status, _ in soak.reads if status >= 500)
    duplicated = {ref: n for ref, n in soak.present.items() if n > 1}
    missing = [ref for ref in soak.acknowledged if not soak.present.get(ref)]
    print(f"reads: {len(durations):,}, p50 {statistics.median(durations) * 1000:,.1f} ms, p99 {p99 * 1000:,.1f} ms")
    slowest = sorted(soak.reads, key=lambda read: -read[2])[:5]
    print("slowest reads: " + ", ".join(f"{path} {status} {d:.2f} s" for path, status, d in slowest))
    if failed_reads:
        print(f"reads answered 5xx: {dict(failed_reads)}")
    print(f"writes acknowledged: {len(soak.acknowledged):,} (unanswered {soak.unanswered}); missing {len(missing)}")
    print(f"duplicated {len(duplicated)}; feed entries {len(soak.final):,}, followed {len(soak.followed):,}")
    print(f"server memory after the load: {memory / 2**20:,.0f} MiB; slow sockets still open: {soak.open_slow}")
    print("hostile requests: " + ", ".join(f"{status}" for _, status in soak.hostile))
    checks = {
        "no ordinary read answered 5xx": not failed_reads,
        f"p99 of ordinary reads <= {LATENCY_BOUND:g} s": p99 <= LATENCY_BOUND,
        f"memory after the load <= {MEMORY_CEILING / 2**20:,.0f} MiB": memory <= MEMORY_CEILING,
        "no hostile request answered 500": all(status != 500 for _, status in soak.hostile),
        "every hostile request was answered": len(soak.hostile) == len(HOSTILE),
        "no slow socket still open": soak.open_slow == 0,
        "the follower saw the whole feed, in order": soak.followed == soak.final,
        "every acknowledged write is present exactly once": not missing and not duplicated,
    }
    print_checks(checks)


if __name__ == "__main__":
    main()
