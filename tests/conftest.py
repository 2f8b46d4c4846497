"""Test fixtures: a real database (SQLite by default, PostgreSQL when
``DEMARCHE_TEST_DATABASE_URL`` names one), migrated once, emptied after every test."""

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson
import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from playwright.sync_api import Browser
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.access import service as access
from app.access.models import ApiKeyCreate, KeyScope
from app.db import WRITES, alembic_config, install_session_events, make_engine
from app.main import create_app
from app.models import metadata
from app.seed import load_demo
from app.settings import Settings
from tests.live import chromium

install_session_events()  # the tests' own sessions write the change feed, as the app's do


def fresh_database(url: str, tmp: Path, name: str) -> str:
    """A URL for a new, empty database named after ``name`` and this process (so that
    runs side by side do not meet) on the engine of ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///{tmp / (name + '.db')}"
    name = f"{name}_{os.getpid()}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def demo_database(base_url: str, tmp: Path, name: str) -> Iterator[tuple[str, Config, Engine]]:
    """A new database at head holding the demo data, for tests of migrations over recorded
    data: its URL, Alembic configuration and engine; dropped afterwards."""
    url = fresh_database(base_url, tmp, name)
    config = alembic_config(url)
    command.upgrade(config, "head")
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            load_demo(session)
            session.commit()
        yield url, config, engine
    finally:
        engine.dispose()
        drop_database(url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for a module's browser tests (:func:`tests.live.chromium`)."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def base_url() -> str:
    return os.environ.get("DEMARCHE_TEST_DATABASE_URL", "sqlite://")


@pytest.fixture(scope="session")
def database_url(base_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = fresh_database(base_url, tmp_path_factory.mktemp("db"), "demarche_test")
    command.upgrade(alembic_config(url), "head")
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Any]:
    # Every test gets keys of its own; anonymous requests all come from one address, so the
    # suite's limit is set out of its way (tests/access/test_ratelimit.py covers limiting).
    app = create_app(Settings(database_url=database_url, rate_limit="1000000/minute"))
    yield app
    app.state.engine.dispose()


def new_key(app: Any, scope: KeyScope) -> str:
    """The secret of a new key with ``scope`` in the app's database."""
    with Session(app.state.engine) as session:
        _, secret = access.create(session, ApiKeyCreate(name=f"test {scope}", scope=scope))
        session.commit()
    return secret


def keyed_client(app: Any, scope: KeyScope | None) -> TestClient:
    """A client of ``app`` that sends a new key with ``scope``, or none."""
    headers = {"Authorization": f"Bearer {new_key(app, scope)}"} if scope else {}
    return TestClient(app, headers=headers)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    """A client with an admin key: it may do anything."""
    with keyed_client(app, KeyScope.admin) as test_client:
        yield test_client
    # Emptied as a write, which no statement budget times: the triggers that keep counts run
    # for every row deleted.
    with app.state.engine.connect().execution_options(**{WRITES: True}) as conn, conn.begin():
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def app_with(database_url: str, client: TestClient) -> Iterator[Callable[..., Any]]:
    """Build another app on the test database with some settings changed (emptied after the
    test like the default one)."""
    apps = []

    def build(**changes: Any) -> Any:
        # A private secret, as a deployment without anonymous reads must have.
        apps.append(
            create_app(Settings(database_url=database_url, **{"cursor_secret": "test-cursor-secret"} | changes))
        )
        return apps[-1]

    yield build
    for built in apps:
        built.state.engine.dispose()


@pytest.fixture
def anonymous(app: Any, client: TestClient) -> Iterator[TestClient]:
    with keyed_client(app, None) as test_client:
        yield test_client


@pytest.fixture
def reader(app: Any, client: TestClient) -> Iterator[TestClient]:
    with keyed_client(app, KeyScope.read) as test_client:
        yield test_client


@pytest.fixture
def writer(app: Any, client: TestClient) -> Iterator[TestClient]:
    with keyed_client(app, KeyScope.write) as test_client:
        yield test_client


@pytest.fixture
def engine_name(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


def make(client: TestClient, collection: str, **fields: Any) -> dict[str, Any]:
    """Create a record through the API and answer it; fails the test on any other status."""
    response = client.post(f"/v1/{collection}", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def nato_russia(client: TestClient) -> dict[str, dict[str, Any]]:
    """Two states and an organisation to refer to."""
    return {
        "nato": make(client, "actors", slug="nato", name="NATO", kind="organization"),
        "russia": make(client, "actors", slug="russia", name="Russia", kind="state", country_code="RUS"),
        "china": make(client, "actors", slug="china", name="China", kind="state", country_code="CHN"),
    }


IMPORT_ACTORS = [
    {"type": "actor", "slug": "nato", "name": "NATO", "kind": "organization"},
    {"type": "actor", "slug": "russia", "name": "Russia", "kind": "state", "country_code": "RUS"},
]
"""Import lines for the two actors that :func:`import_incident` names."""


def import_incident(n: int, **fields: Any) -> dict[str, Any]:
    """An import line for incident number ``n``: NATO expels Russians."""
    return {
        "type": "incident",
        "kind": "expulsion",
        "title": f"Expulsion {n}",
        "occurred_on": f"2021-10-{n % 28 + 1:02d}",
        "initiators": ["nato"],
        "targets": ["russia"],
        **fields,
    }


COLLECTIONS = {
    "actor": "actors",
    "source": "sources",
    "incident": "incidents",
    "exercise": "exercises",
    "channel": "channels",
}


@pytest.fixture
def october_2021(client):
    """Every demo record, posted in file order through the public API."""
    for line in files("app.seed").joinpath("demo.ndjson").read_text().splitlines():
        record = json.loads(line)
        type_ = record.pop("type")
        if type_ == "channel_status":
            response = client.post(f"/v1/channels/{record.pop('channel')}/status-changes", json=record)
        else:
            response = client.post(f"/v1/{COLLECTIONS[type_]}", json=record)
        assert response.status_code == 201, response.text
    return {i["external_ref"]: i for i in client.get("/v1/incidents?limit=500").json()["data"]}


def ndjson(records: list[Any]) -> bytes:
    """``records`` as an NDJSON body."""
    return b"".join(orjson.dumps(r) + b"\n" for r in records)
