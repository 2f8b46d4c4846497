import asyncio
import threading
import time

import pytest
from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from app.actors import service as actors
from app.changes.service import WRITTEN
from app.db import ANALYZE_AFTER, WRITES, DriverReads, _analyze_stale, make_engine
from app.incidents import service as incidents
from app.kit.prepared import Statement
from app.kit.records import new_id
from app.sources.models import Source


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(app, engine_name):
    if engine_name != "sqlite":
        pytest.skip("SQLite pragmas apply to SQLite only")
    with app.state.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000


@pytest.mark.parametrize("paths", [["/v1/incidents", "/v1/actors"], ["/v1/actors", "/v1/incidents"]])
def test_postgresql_connections_dropped_by_the_server_cost_one_503_at_most(client, engine_name, database_url, paths):
    """Pooled connections are not pinged before each use (a round trip on every request):
    the first request to find its connection dropped answers 503 with Retry-After, and new
    ones are opened for every request after it, those of the engine's pool (the routes') and
    those of the event loop (the lean reads, app.db.DriverReads) alike, whichever found it."""
    if engine_name != "postgresql":
        pytest.skip("a PostgreSQL server drops connections; SQLite has none to drop")
    for path in paths * 3:
        assert client.get(path).status_code == 200
    admin = create_engine(database_url, poolclass=NullPool)
    with admin.connect() as connection:
        dropped = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    admin.dispose()
    assert dropped > 0
    answers = [client.get(path) for path in paths * 3]
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(503) <= 1 and set(statuses) <= {200, 503} and statuses[-1] == 200, statuses
    assert all(answer.headers.get("Retry-After") for answer in answers if answer.status_code == 503)


def test_postgresql_reads_of_a_record_by_its_key_keep_their_plans(app, engine_name):
    """The service's connections plan each run of a statement for its values (skewed data
    wants it: app.db.make_engine). One plan serves a read of a record by its key for every
    key: those reads run on connections of the loop that keep the plan PostgreSQL makes,
    at a third of the database's cost."""
    if engine_name != "postgresql":
        pytest.skip("SQLite plans a statement once, as it is prepared")
    engine = app.state.engine
    reads = DriverReads(2)
    mode = "SELECT current_setting('plan_cache_mode')"

    async def modes() -> list[str]:
        async with reads.on_loop(engine):
            return [
                (await reads.run(engine, Statement(mode, planned_once=planned_once)))[0][0]
                for planned_once in (True, False)
            ]

    assert asyncio.run(modes()) == ["auto", "force_custom_plan"]
    assert incidents.driver_text(engine.dialect, new_id()).planned_once
    assert actors.driver_text(engine.dialect, "russia").planned_once


def test_many_writers_at_once_on_sqlite_each_get_their_turn(tmp_path):
    """Fifty threads, each writing ten transactions that hold SQLite's write lock for 10 ms:
    five seconds of writing in all, more than SQLite's busy timeout. Each writer waits for
    its turn (app.db.WriterQueue) and none is refused; left to poll SQLite's lock, some
    kept missing it and were refused past the timeout."""
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE written (writer INTEGER, n INTEGER)")
    refused = []

    def write(writer: int) -> None:
        for n in range(10):
            try:
                with engine.connect().execution_options(**{WRITES: True}) as connection, connection.begin():
                    connection.execute(text("INSERT INTO written VALUES (:w, :n)"), {"w": writer, "n": n})
                    time.sleep(0.01)
            except OperationalError as exc:
                refused.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM written")).scalar_one() == 500
    engine.dispose()
    assert refused == []


def test_postgresql_analyzes_tables_grown_stale_each_in_a_writing_transaction(app, engine_name):
    """Once a process has written ANALYZE_AFTER records, the tables whose statistics are stale
    are analyzed, each in a transaction of its own, untimed like every write: no statement
    goes outside a transaction (PostgreSQL warns that SET LOCAL is then meaningless)."""
    if engine_name != "postgresql":
        pytest.skip("SQLite's statistics are ANALYZE's, run by bench/generate.py and after migrations")
    engine = app.state.engine
    notices: list[str] = []
    event.listen(
        engine,
        "connect",
        lambda dbapi_connection, _: dbapi_connection.add_notice_handler(lambda d: notices.append(d.message_primary)),
    )
    engine.dispose()  # every connection from now on reports its notices
    with engine.connect() as connection:
        for n in range(ANALYZE_AFTER):
            connection.execute(insert(Source).values(id=new_id(), url=f"https://example.org/{n}", title=f"Source {n}"))
        connection.execute(text("SELECT pg_stat_force_next_flush()"))  # the counts the look reads
        connection.commit()
    with Session(engine.execution_options(**{WRITES: True})) as session:
        session.info[WRITTEN] = ANALYZE_AFTER
        _analyze_stale(session)
        counted = session.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'sources'")).scalar()
    assert counted == ANALYZE_AFTER, "the sources were analyzed"
    assert notices == []
