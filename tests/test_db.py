import pytest
from sqlalchemy import text


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(app, engine_name):
    if engine_name != "sqlite":
        pytest.skip("SQLite pragmas apply to SQLite only")
    with app.state.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_postgresql_pool_checks_connections_before_use(app, engine_name):
    if engine_name != "postgresql":
        pytest.skip("the pre-ping applies to PostgreSQL only")
    assert app.state.engine.pool._pre_ping
