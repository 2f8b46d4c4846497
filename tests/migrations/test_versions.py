"""The migrations build the schema the models describe, and run down and up again with data."""

import os
import subprocess

import orjson
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlmodel import Session

from app.db import KEPT_ANSWERS, alembic_config, head_revision, make_engine
from app.incidents.models import Incident
from app.kit import sqljson
from app.kit.search import modelled
from app.models import metadata
from app.seed import load_demo
from tests import ROOT
from tests.conftest import drop_database, fresh_database
from tests.live import DEMARCHE


@pytest.fixture
def migration_url(base_url, tmp_path):
    url = fresh_database(base_url, tmp_path, "demarche_test_migrations")
    yield url
    drop_database(url)


def test_upgrade_downgrade_upgrade_with_demo_data(migration_url):
    config = alembic_config(migration_url)
    command.upgrade(config, "head")
    engine = make_engine(migration_url)
    with Session(engine) as session:
        load_demo(session)
        session.commit()
        assert session.execute(select(func.count()).select_from(Incident)).scalar_one() > 0
    command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    with Session(engine) as session:
        assert load_demo(session).keys() == {"created"}
        session.commit()
    engine.dispose()


def test_models_and_migrations_agree(migration_url):
    command.upgrade(alembic_config(migration_url), "head")
    engine = make_engine(migration_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_name": modelled},
        )
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_every_row_trigger_keeps_its_plans(app, engine_name):
    """The app's PostgreSQL connections force custom plans (``app.db``); a row trigger's
    function that followed them would plan its statements again for every row it runs for
    (an import's involvements took three times as long). Each keeps PostgreSQL's own choice."""
    if engine_name != "postgresql":
        pytest.skip("SQLite's triggers are SQL, planned with their statement")
    with app.state.engine.connect() as connection:
        functions = connection.execute(
            text(
                "SELECT DISTINCT p.proname, p.proconfig FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE NOT t.tgisinternal AND t.tgtype & 1 = 1"  # TRIGGER_TYPE_ROW
            )
        ).all()
    assert len(functions) > 15
    assert [name for name, config in functions if "plan_cache_mode=auto" not in (config or [])] == []


def test_rows_whose_status_contradicts_their_retraction_are_brought_in_line(migration_url):
    """0012: an incident stored as published while retracted (as an import over a retracted
    incident left it) reads as retracted, and so does its kept answer."""
    config = alembic_config(migration_url)
    command.upgrade(config, "head")
    engine = make_engine(migration_url)
    with Session(engine) as session:  # loaded by the models of today, then taken back to 0011
        load_demo(session)
        session.commit()
    command.downgrade(config, "0011")
    with engine.begin() as connection:
        half = connection.execute(text("SELECT id FROM incidents ORDER BY id LIMIT 1")).scalar_one()
        connection.execute(text("UPDATE incidents SET retracted_at = updated_at WHERE id = :id"), {"id": half})
        marked = connection.execute(text("SELECT id FROM exercises ORDER BY id LIMIT 1")).scalar_one()
        connection.execute(text("UPDATE exercises SET status = 'retracted' WHERE id = :id"), {"id": marked})
    command.upgrade(config, "head")
    with engine.begin() as connection:
        sqljson.refill(connection, KEPT_ANSWERS)  # as `demarche migrate` does
        for table in ("incidents", "exercises"):
            contradictions = connection.execute(
                text(f"SELECT count(*) FROM {table} WHERE (status = 'retracted') <> (retracted_at IS NOT NULL)")
            ).scalar_one()
            assert contradictions == 0, table
        kept = connection.execute(text("SELECT record_json FROM incidents WHERE id = :id"), {"id": half}).scalar_one()
        assert orjson.loads(kept)["status"] == "retracted"
        assert connection.execute(text("SELECT count(*) FROM incidents WHERE status = 'retracted'")).scalar_one() == 1
    engine.dispose()


def test_four_migrations_started_at_once_migrate_once(migration_url):
    """Four `demarche migrate` at once on a new database, as replicas started together run
    them: they take turns on the migration lock, one migrates and the others find the schema
    at head; all succeed, and the schema is the models' (in a run without the lock, three of
    four failed on PostgreSQL and one of four on SQLite)."""
    environ = os.environ | {"DEMARCHE_DATABASE_URL": migration_url}
    runs = [
        subprocess.Popen(
            [str(DEMARCHE), "migrate"], cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=120)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], outputs
    said = [output.strip().splitlines()[-1] for output in outputs]
    head = head_revision()
    assert said.count(f"database at head ({head}), migrated from an empty database") == 1, outputs
    assert said.count(f"database at head ({head}) already: nothing to migrate") == 3, outputs
    assert sum("waiting for the migration another process is running" in output for output in outputs) >= 1, (
        "the runs overlapped"
    )
    engine = make_engine(migration_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": modelled})
        assert compare_metadata(context, metadata) == []
    engine.dispose()
