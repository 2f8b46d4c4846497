"""``demarche serve`` with worker processes: how many by default, metrics that add up across
them (and forget a worker that died), and every line written, uvicorn's own included, JSON."""

import gc
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.access.models import KeyScope
from app.db import SQLITE_POOL_SIZE
from app.settings import Settings, get_settings
from app.workers import worker_app
from tests import ROOT
from tests.conftest import new_key
from tests.live import DEMARCHE, LiveServer, free_port, serve

POOL_SIZE = 5
"""Each worker's PostgreSQL pool in these tests (SQLite's is ``SQLITE_POOL_SIZE``)."""
PRODUCTION = {
    "DEMARCHE_PUBLIC_READ": "false",
    "DEMARCHE_CURSOR_SECRET": "workers-cursor-secret",
    "DEMARCHE_RATE_LIMIT": "1000000/minute",
    "DEMARCHE_DATABASE_POOL_SIZE": str(POOL_SIZE),
    "DEMARCHE_LOG_LEVEL": "INFO",  # the access lines say which worker answered
}


def serve_command(port: int, *options: str) -> list[str]:
    return [str(DEMARCHE), "serve", "--host", "127.0.0.1", "--port", str(port), *options]


def lines(server: LiveServer) -> list[dict]:
    """The server's output, each line read as JSON (fails on one that is not)."""
    read = []
    for line in server.output().splitlines():
        if line.strip():
            try:
                read.append(json.loads(line))
            except json.JSONDecodeError:
                pytest.fail(f"a line that is not JSON: {line!r}\n{server.output()}")
    return read


def started(server: LiveServer, count: int, seconds: float = 60) -> list[int]:
    """Wait until ``count`` worker processes have finished starting; their pids, in order."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pids = [line["pid"] for line in lines(server) if line["message"] == "Application startup complete."]
        if len(pids) >= count:
            return pids
        time.sleep(0.1)
    pytest.fail(f"{count} workers did not start within {seconds} s:\n{server.output()}")


def answered_by(server: LiveServer, route: str) -> list[int]:
    """The pids of the workers that answered each request to ``route`` (200), in order."""
    return [
        line["pid"]
        for line in lines(server)
        if line["logger"] == "demarche.access" and line["route"] == route and line["status"] == 200
    ]


def both_answering(server: LiveServer, route: str, send: Callable[[], httpx.Response], at_least: int = 40) -> list:
    """Answers to requests to ``route``, each sent by ``send`` on a new connection, once at
    least ``at_least`` are in and both workers have answered some: which worker accepts a
    connection is the kernel's choice, and on a busy machine one may take a long run of them."""
    answers = []
    while len(answers) < at_least or len(set(answered_by(server, route))) < 2:
        assert len(answers) < 50 * at_least, f"one worker answered every request:\n{server.output()}"
        answers.append(send())
    return answers


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples named ``name`` whose labels include ``labels``."""
    return sum(
        found.value
        for family in text_string_to_metric_families(text)
        for found in family.samples
        if found.name == name and labels.items() <= found.labels.items()
    )


def test_one_worker_in_development_one_per_core_in_production():
    assert Settings(public_read=True).worker_processes() == 1
    assert Settings(public_read=False).worker_processes() == len(os.sched_getaffinity(0))
    assert Settings(public_read=False, workers=3).worker_processes() == 3
    assert Settings(public_read=True, workers=3).worker_processes() == 3


def test_metrics_add_up_across_two_workers_and_forget_a_dead_one(app, client, database_url, engine_name, tmp_path):
    """Two workers serve N requests between them; every scrape, whichever worker answers it,
    counts all N. One worker killed and replaced: its requests still count, and its pool no
    longer does."""
    admin = {"Authorization": f"Bearer {new_key(app, KeyScope.admin)}"}
    port = free_port()
    pool = SQLITE_POOL_SIZE if engine_name == "sqlite" else POOL_SIZE
    with serve(
        database_url, tmp_path / "server.log", command=serve_command(port, "--workers", "2"), port=port, env=PRODUCTION
    ) as server:
        first, second = started(server, 2)
        read = both_answering(server, "/v1/incidents", lambda: httpx.get(f"{server.url}/v1/incidents", headers=admin))
        assert {answer.status_code for answer in read} == {200}
        n = len(read)
        assert httpx.get(f"{server.url}/metrics").status_code == 401, "production metrics need an admin key"
        scrapes = both_answering(server, "/metrics", lambda: httpx.get(f"{server.url}/metrics", headers=admin), 8)

        assert set(answered_by(server, "/metrics")) == {first, second}
        # On SQLite each worker's event loop keeps one connection for its lean and kept reads
        # (app.db.DriverReads), which every /v1/incidents read takes; none is a request's.
        kept = 2 if engine_name == "sqlite" else 0
        for scrape in scrapes:
            assert sample(scrape.text, "demarche_requests_total", route="/v1/incidents", status="200") == n
            assert sample(scrape.text, "demarche_db_pool_connections", state="size") == 2 * pool
            assert sample(scrape.text, "demarche_db_pool_connections", state="checked_out") == kept

        os.kill(first, signal.SIGKILL)
        replacement = started(server, 3)[-1]
        assert replacement not in (first, second)
        for _ in range(8):
            text = httpx.get(f"{server.url}/metrics", headers=admin).text
            assert sample(text, "demarche_requests_total", route="/v1/incidents", status="200") == n
            assert sample(text, "demarche_db_pool_connections", state="size") == 2 * pool, "the dead worker's pool"
    assert not list(Path(tempfile.gettempdir()).glob(f"demarche-metrics-*/*_{second}.db")), "its folder is removed"


@pytest.mark.parametrize("workers", [1, 2])
def test_every_line_the_server_writes_is_json(database_url, tmp_path, workers):
    port = free_port()
    command = serve_command(port, "--workers", str(workers))
    with serve(
        database_url, tmp_path / "server.log", command=command, port=port, env={"DEMARCHE_LOG_LEVEL": "DEBUG"}
    ) as server:
        started(server, workers)
        assert httpx.get(f"{server.url}/v1/incidents").status_code == 200
        assert httpx.get(f"{server.url}/nowhere").status_code == 404
    written = lines(server)
    messages = {line["message"] for line in written if line["logger"].startswith("uvicorn")}
    assert {"Application startup complete.", "Application shutdown complete."} <= messages
    assert any(message.startswith("Uvicorn running on") for message in messages)
    if workers > 1:
        assert any(message.startswith("Started parent process") for message in messages)
        assert any(message.startswith("Stopping parent process") for message in messages)
    access = {(line["route"], line["status"]) for line in written if line["logger"] == "demarche.access"}
    assert {("/v1/incidents", 200), (None, 404)} <= access
    assert len({line["pid"] for line in written}) == workers + (workers > 1), "the supervisor's lines too"
    assert not [line for line in written if line["logger"].startswith("markdown_it")], "the guide's parser is quiet"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_worker_that_cannot_start_stops_the_server(database_url, workers):
    """Settings the app refuses (no anonymous reads, but the development cursor secret): the
    server exits with uvicorn's start-up failure status, saying why in JSON, rather than
    starting workers again and again."""
    environ = {key: value for key, value in os.environ.items() if key != "DEMARCHE_CURSOR_SECRET"} | {
        "DEMARCHE_DATABASE_URL": database_url,
        "DEMARCHE_PUBLIC_READ": "false",
        "DEMARCHE_WORKERS": workers,
        "DEMARCHE_PORT": str(free_port()),
    }
    done = subprocess.run([str(DEMARCHE), "serve"], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    written = [json.loads(line) for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    refusal = next(line for line in written if line["message"] == "the app could not be made")
    assert "DEMARCHE_CURSOR_SECRET is the development default" in refusal["exception"]


def test_a_worker_moves_what_it_made_at_start_out_of_the_collectors_sight(monkeypatch, database_url):
    """A full collection walked every object the app is made of (100 ms, every few seconds
    under load); a worker freezes them, so that only the requests' own objects are walked."""
    monkeypatch.setenv("DEMARCHE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    gc.unfreeze()
    try:
        app = worker_app()
        frozen = gc.get_freeze_count()
        assert app.state.settings.database_url == database_url
        app.state.engine.dispose()
    finally:
        gc.unfreeze()
        get_settings.cache_clear()
    assert frozen > 50_000
