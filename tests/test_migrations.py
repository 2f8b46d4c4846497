"""The migrations build the schema the models describe, and run down and up again with data."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select
from sqlmodel import Session

from app.db import alembic_config, make_engine
from app.incidents.models import Incident
from app.kit.search import modelled
from app.models import metadata
from app.seed import load_demo
from tests.conftest import drop_database, fresh_database


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
