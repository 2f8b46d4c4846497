"""Test fixtures: a real database (SQLite by default, PostgreSQL when
``DEMARCHE_TEST_DATABASE_URL`` names one), migrated once, emptied after every test."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import alembic_config
from app.main import create_app
from app.models import metadata
from app.settings import Settings


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
    app = create_app(Settings(database_url=database_url))
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
    with app.state.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


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
