"""The database goes away under load, then comes back: a live server answers 503 problems
with ``Retry-After`` meanwhile (never a 500, never a hang), and recovers by itself.

On PostgreSQL the test database stops accepting connections and the server's backends are
terminated. SQLite has no server to lose and its open files outlive a rename, so there the
database is taken by another process's write transaction, held past the busy timeout: writes
answer 503 while reads, which WAL still serves, go on."""

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.access.models import KeyScope
from app.db import alembic_config
from app.main import create_app
from app.settings import Settings
from tests.conftest import drop_database, fresh_database, new_key
from tests.live import serve

WORKERS = 6
REQUEST_TIMEOUT = 20  # seconds: past SQLite's 5 s busy timeout, so a timeout means a hang


def new_actor() -> dict[str, str]:
    slug = f"outage-{uuid.uuid4().hex[:12]}"
    return {"slug": slug, "name": slug, "kind": "organization"}


REQUESTS = [
    ("GET", "/v1/incidents", None),
    ("GET", "/readyz", None),
    ("GET", "/v1/actors", None),
    ("POST", "/v1/actors", new_actor),
]


@dataclass
class Answer:
    method: str
    path: str
    started: float
    ended: float
    status: int | None = None
    retry_after: str | None = None
    content_type: str | None = None
    problem_status: int | None = None
    error: str | None = None


class Load:
    """Worker threads that read, write and ask ``/readyz`` in a loop until stopped."""

    def __init__(self, base_url: str, key: str) -> None:
        self.http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=REQUEST_TIMEOUT,
            limits=httpx.Limits(max_connections=WORKERS),
        )
        self.answers: list[Answer] = []
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self._work) for _ in range(WORKERS)]

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join()
        self.http.close()

    def _work(self) -> None:
        while not self.stopped.is_set():
            for method, path, body in REQUESTS:
                self.answers.append(self._send(method, path, body and body()))

    def _send(self, method: str, path: str, body: dict | None) -> Answer:
        answer = Answer(method, path, started=time.monotonic(), ended=0)
        try:
            response = self.http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            answer.error = f"{type(exc).__name__}: {exc}"
        else:
            answer.status = response.status_code
            answer.retry_after = response.headers.get("retry-after")
            answer.content_type = response.headers.get("content-type")
            if response.status_code >= 400:
                answer.problem_status = response.json().get("status")
        answer.ended = time.monotonic()
        return answer

    def between(self, start: float, end: float) -> list[Answer]:
        return [a for a in list(self.answers) if a.started >= start and a.ended <= end]

    def wait_for(self, condition, since: float, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition(self.between(since, time.monotonic())):
                return
            time.sleep(0.1)
        raise AssertionError(f"not seen within {seconds} s: {self.between(since, time.monotonic())[-20:]}")


@contextmanager
def postgres_outage(url: str) -> Iterator[None]:
    """The database refuses new connections and its open ones are terminated."""
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
        )
        try:
            yield
        finally:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    admin.dispose()


@contextmanager
def sqlite_outage(url: str) -> Iterator[None]:
    """Another process holds the write lock. Taking it waits for the server's writers (up to
    a minute, not sqlite3's five seconds: SQLite grants the lock to no writer in turn, and
    under load the server's writers may hold it that long between them)."""
    engine = create_engine(url, connect_args={"timeout": 60})
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.exec_driver_sql("ROLLBACK")
    engine.dispose()


@pytest.fixture
def outage_database(base_url, tmp_path):
    url = fresh_database(base_url, tmp_path, "demarche_outage")
    command.upgrade(alembic_config(url), "head")
    yield url
    drop_database(url)


def test_a_database_outage_under_load_answers_503_then_recovers(outage_database, engine_name, tmp_path):
    app = create_app(Settings(database_url=outage_database))
    key = new_key(app, KeyScope.write)
    app.state.engine.dispose()
    outage = postgres_outage if engine_name == "postgresql" else sqlite_outage
    # On SQLite only writes lose the database; WAL keeps serving reads.
    writes_only = engine_name == "sqlite"

    def affected(method: str) -> bool:
        return method == "POST" or not writes_only

    expected = {(method, path) for method, path, _ in REQUESTS if affected(method)}
    env = {"DEMARCHE_RATE_LIMIT": "1000000/minute"}

    with serve(outage_database, tmp_path / "server.log", env=env) as server, Load(server.url, key) as load:
        up = time.monotonic()
        load.wait_for(lambda answers: sum(a.status in (200, 201) for a in answers) >= 20, up, 30)

        going = time.monotonic()
        with outage(outage_database):
            gone = time.monotonic()
            load.wait_for(
                lambda answers: {(a.method, a.path) for a in answers if a.status == 503} >= expected, gone, 30
            )
            time.sleep(1)
            returning = time.monotonic()
        back = time.monotonic()

        load.wait_for(lambda answers: sum(a.status == 201 for a in answers) >= 3, back, 30)
        recovered = min(a.started for a in load.between(back, time.monotonic()) if a.status in (200, 201))
        time.sleep(2)
        end = time.monotonic()
        assert server.process.poll() is None, "the server kept running"

    answers = load.between(up, end)
    assert [a for a in answers if a.error] == [], "every request was answered in time"
    assert {a.status for a in answers} <= {200, 201, 503}, "no 500, no other failure"
    for a in answers:
        if a.status == 503:
            assert a.content_type == "application/problem+json" and a.problem_status == 503, a
            assert a.retry_after and a.retry_after.isdigit(), a
    before = [a for a in answers if a.ended < going]
    during = [a for a in answers if a.started >= gone and a.ended <= returning]
    after = [a for a in answers if a.started >= recovered]
    assert before and all(a.status in (200, 201) for a in before)
    assert during and all(a.status == 503 for a in during if affected(a.method))
    assert all(a.status == 200 for a in during if not affected(a.method))
    assert after and all(a.status in (200, 201) for a in after), [a for a in after if a.status == 503]
    if engine_name == "postgresql":
        assert any(a.path == "/readyz" and a.status == 503 for a in during)
