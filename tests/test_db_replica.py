"""Reads on a read replica (``DEMARCHE_READ_REPLICA_URL``), and read-your-writes across it.

Every write that changes records answers ``Demarche-Sequence`` (on both engines); the tests of
the replica itself need a real one: ``DEMARCHE_TEST_REPLICA_URL`` names a streaming replica of
the PostgreSQL that ``DEMARCHE_TEST_DATABASE_URL`` names (``.ci/replica`` makes one on port
5433, and ``.ci/run`` sets both). The test database is found on the replica under the same
name. Replay is paused on the replica (``pg_wal_replay_pause()``) to make it lag for certain.
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from demarche_client import Client
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from app.access.models import KeyScope
from app.main import create_app
from app.settings import Settings
from tests.conftest import new_key
from tests.live import free_port

REPLICA = os.environ.get("DEMARCHE_TEST_REPLICA_URL")
SEQUENCE, MIN_SEQUENCE, SOURCE = "Demarche-Sequence", "Demarche-Min-Sequence", "Demarche-Read-Source"


def actor(slug: str) -> dict[str, Any]:
    return {"slug": slug, "name": slug.title(), "kind": "organization"}


# On both engines, without a replica


def test_writes_answer_their_sequence_and_a_replay_answers_it_again(client):
    first = client.post("/v1/actors", json=actor("nato"))
    assert first.status_code == 201
    sequence = int(first.headers[SEQUENCE])
    assert sequence == client.get("/v1/changes", params={"after": 0, "limit": 500}).json()["data"][-1]["seq"]

    keyed = {"Idempotency-Key": "replica-test-1"}
    created = client.post("/v1/actors", json=actor("russia"), headers=keyed)
    replayed = client.post("/v1/actors", json=actor("russia"), headers=keyed)
    assert int(created.headers[SEQUENCE]) > sequence
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.headers[SEQUENCE] == created.headers[SEQUENCE]

    patched = client.patch("/v1/actors/nato", json={"name": "NATO"})
    assert int(patched.headers[SEQUENCE]) > int(created.headers[SEQUENCE])
    deleted = client.delete("/v1/actors/nato")
    assert int(deleted.headers[SEQUENCE]) > int(patched.headers[SEQUENCE])


def test_without_a_replica_reads_take_the_sequence_and_say_no_source(client):
    sequence = client.post("/v1/actors", json=actor("nato")).headers[SEQUENCE]
    read = client.get("/v1/actors/nato", headers={MIN_SEQUENCE: sequence})
    assert read.status_code == 200
    assert SOURCE not in read.headers
    assert SEQUENCE not in read.headers
    for bad in ("-1", "x", "1.5", "9" * 20, "99999999999999999999"):
        refused = client.get("/v1/actors", headers={MIN_SEQUENCE: bad})
        assert refused.status_code == 400, bad
        assert MIN_SEQUENCE in refused.json()["detail"]


def test_a_replica_is_refused_beside_sqlite():
    settings = Settings(database_url="sqlite://", read_replica_url="postgresql+psycopg://postgres@127.0.0.1:5433/x")
    with pytest.raises(ValueError, match="DEMARCHE_READ_REPLICA_URL"):
        create_app(settings)
    with pytest.raises(ValueError, match="PostgreSQL"):
        create_app(Settings(database_url="postgresql+psycopg://postgres@127.0.0.1/x", read_replica_url="sqlite://"))


# Against a real replica


@pytest.fixture
def replica_url(database_url: str, engine_name: str) -> str:
    if engine_name != "postgresql":
        pytest.skip("read replicas are PostgreSQL's: set DEMARCHE_TEST_DATABASE_URL")
    if not REPLICA:
        pytest.skip("DEMARCHE_TEST_REPLICA_URL names no replica (.ci/replica makes one; .ci/run sets it)")
    url = make_url(REPLICA).set(database=make_url(database_url).database).render_as_string(hide_password=False)
    _until(lambda: _answers(url), "the test database to reach the replica")
    return url


@pytest.fixture
def replica(replica_url: str) -> Iterator[Engine]:
    """An engine on the replica's copy of the test database (as a superuser, who may pause replay)."""
    engine = create_engine(replica_url, isolation_level="AUTOCOMMIT")
    yield engine
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_wal_replay_resume() WHERE pg_is_wal_replay_paused()"))
    engine.dispose()


@pytest.fixture
def replicated(app_with, replica_url: str) -> Iterator[Any]:
    """An app on the test database reading from the replica; its writer's client."""
    built = app_with(read_replica_url=replica_url, rate_limit="1000000/minute")
    with TestClient(built, headers={"Authorization": f"Bearer {new_key(built, KeyScope.admin)}"}) as http:
        yield built, http
    built.state.replica.engine.dispose()


def _answers(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT to_regclass('changes') IS NOT NULL")).scalar_one()
    except Exception:
        return False
    finally:
        engine.dispose()


def _until(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.05)


def _replayed(replica: Engine) -> int:
    with replica.connect() as connection:
        return connection.execute(text("SELECT coalesce(max(seq), 0) FROM changes")).scalar_one()


def _caught_up(replica: Engine, sequence: int) -> None:
    _until(lambda: _replayed(replica) >= sequence, f"the replica to replay up to {sequence}")


@contextmanager
def paused(replica: Engine) -> Iterator[None]:
    """Replay stopped on the replica: it lags behind whatever the primary commits meanwhile."""
    with replica.connect() as connection:
        connection.execute(text("SELECT pg_wal_replay_pause()"))
        _until(
            lambda: connection.execute(text("SELECT pg_get_wal_replay_pause_state()")).scalar_one() == "paused",
            "replay to pause",
        )
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_wal_replay_resume()"))


def test_reads_go_to_the_replica_and_a_read_after_a_write_sees_it(replicated, replica):
    _app, http = replicated
    before = int(http.post("/v1/actors", json=actor("nato")).headers[SEQUENCE])
    _caught_up(replica, before)
    read = http.get("/v1/actors/nato")
    assert (read.status_code, read.headers[SOURCE]) == (200, "replica")
    assert http.get("/v1/actors/nato", headers={MIN_SEQUENCE: str(before)}).headers[SOURCE] == "replica"

    with paused(replica):
        written = http.post("/v1/actors", json=actor("russia"))
        assert written.status_code == 201
        sequence = written.headers[SEQUENCE]
        # Without its sequence, a read is the replica's, which has not seen the write: proof
        # of which database answered, besides the header.
        stale = http.get("/v1/actors/russia")
        assert (stale.status_code, stale.headers[SOURCE]) == (404, "replica")
        stale_list = http.get("/v1/actors")
        assert [a["slug"] for a in stale_list.json()["data"]] == ["nato"]
        # With it, the replica is behind: the primary answers, with the write.
        fresh = http.get("/v1/actors/russia", headers={MIN_SEQUENCE: sequence})
        assert (fresh.status_code, fresh.headers[SOURCE]) == (200, "primary")
        listed = http.get("/v1/actors", headers={MIN_SEQUENCE: sequence})
        assert sorted(a["slug"] for a in listed.json()["data"]) == ["nato", "russia"]
        feed = http.get("/v1/changes", params={"after": before}, headers={MIN_SEQUENCE: sequence})
        assert [e["seq"] for e in feed.json()["data"]] == [int(sequence)]
        assert feed.headers[SOURCE] == "primary"
        exported = http.get("/v1/actors", params={"format": "ndjson"}, headers={MIN_SEQUENCE: sequence})
        assert exported.headers[SOURCE] == "primary" and b"russia" in exported.content
        assert http.get("/v1/actors", params={"format": "ndjson"}).content.count(b"\n") == 1
        # An older sequence, which the replica has: the replica answers.
        assert http.get("/v1/actors/nato", headers={MIN_SEQUENCE: str(before)}).headers[SOURCE] == "replica"
    _caught_up(replica, int(sequence))
    caught_up = http.get("/v1/actors/russia", headers={MIN_SEQUENCE: sequence})
    assert (caught_up.status_code, caught_up.headers[SOURCE]) == (200, "replica")


def test_writes_and_keys_are_the_primarys(replicated, replica):
    _app, http = replicated
    with paused(replica):
        created = http.post("/v1/keys", json={"name": "new", "scope": "read"})
        assert created.status_code == 201
        listed = http.get("/v1/keys")  # no sequence to send: keys are read from the primary always
        assert created.json()["id"] in [k["id"] for k in listed.json()["data"]]
        assert SOURCE not in listed.headers
        assert http.post("/v1/actors", json=actor("nato")).status_code == 201
        # A write reads what it needs (here, the actor it links) from the primary.
        assert http.patch("/v1/actors/nato", json={"name": "NATO"}).status_code == 200


def test_the_client_reads_its_own_writes_while_the_replica_lags(replicated, replica):
    built, http = replicated
    key = new_key(built, KeyScope.write)
    with Client("http://testserver", key, transport=http._transport) as api, paused(replica):
        written = api.create("actors", actor("nato"))
        assert api.sequence is not None
        assert api.get("actors", "nato").id == written.id
        assert [a.slug for a in api.iterate("actors")] == ["nato"]
    with Client("http://testserver", key, transport=http._transport) as other:
        _caught_up(replica, api.sequence)
        assert other.sequence is None
        assert other.get("actors", "nato").id == written.id


def test_a_replica_that_cannot_be_reached_leaves_reads_to_the_primary(app_with, client, replica_url):
    unreachable = make_url(replica_url).set(port=free_port()).render_as_string(hide_password=False)
    built = app_with(read_replica_url=unreachable, rate_limit="1000000/minute")
    with TestClient(built, headers={"Authorization": f"Bearer {new_key(built, KeyScope.admin)}"}) as http:
        sequence = http.post("/v1/actors", json=actor("nato")).headers[SEQUENCE]
        for headers in ({}, {MIN_SEQUENCE: sequence}):
            read = http.get("/v1/actors/nato", headers=headers)
            assert (read.status_code, read.headers[SOURCE]) == (200, "primary")
        assert http.get("/v1/actors", params={"format": "csv"}).status_code == 200
    assert not built.state.replica.up(), "left aside for a while: no connection tried on every read"
    built.state.replica.engine.dispose()


def test_a_replica_that_dropped_its_connections_still_serves(replicated, replica):
    """The replica restarted (its connections to the app closed): the next read still answers,
    from the replica again on a new connection."""
    _app, http = replicated
    sequence = int(http.post("/v1/actors", json=actor("nato")).headers[SEQUENCE])
    _caught_up(replica, sequence)
    assert http.get("/v1/actors/nato").headers[SOURCE] == "replica"
    with replica.connect() as connection:
        ended = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        ).scalar_one()
    assert ended >= 1
    for _ in range(3):
        read = http.get("/v1/actors/nato")
        assert (read.status_code, read.headers[SOURCE]) == (200, "replica")


def test_cors_exposes_the_sequence_headers(app_with, client):
    built = app_with(cors_origins="https://partner.example")
    with TestClient(built) as http:
        answer = http.options(
            "/v1/actors",
            headers={
                "Origin": "https://partner.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": MIN_SEQUENCE,
            },
        )
        assert answer.status_code == 200
        assert MIN_SEQUENCE.lower() in answer.headers["access-control-allow-headers"].lower()
        exposed = http.get("/v1/actors", headers={"Origin": "https://partner.example"})
        assert SEQUENCE.lower() in exposed.headers["access-control-expose-headers"].lower()
