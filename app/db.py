"""Engine creation and the per-request session (the request's one commit point); the
schema's revision and the lock that migrations take."""

import asyncio
import fcntl
import logging
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio.to_thread
import orjson
import psycopg
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import Depends, Request
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimedOut
from sqlmodel import Session

from app.changes.service import KEY_ID, SEQUENCE, WRITTEN, keep_feed
from app.kit import sqljson
from app.kit.prepared import Statement
from app.kit.problems import BadRequest
from app.records import COLLECTIONS

log = logging.getLogger("demarche")
T = TypeVar("T")

WRITES = "demarche_writes"
"""Execution option that marks a transaction as one that will write."""
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
IDEMPOTENCY_CONNECTION = "idempotency_connection"
"""Where middleware leaves the transaction a request is to run in (``request.state``)."""

ANALYZE_AFTER = 20
"""Records written by a process's transactions, together, past which it looks for PostgreSQL
statistics gone stale (:func:`_analyze_stale`): one statement every 20 records written."""
STALE_STATISTICS = text(
    "SELECT relname FROM pg_stat_user_tables "
    "WHERE n_mod_since_analyze > 50 + 0.1 * greatest(n_live_tup, 0) "
    "OR (last_analyze IS NULL AND last_autoanalyze IS NULL AND n_live_tup > 0)"
)
"""The tables autovacuum would analyze now (its default thresholds), or has never analyzed."""


class _Written:
    """Records written since this process last looked for stale statistics."""

    lock = threading.Lock()
    count = 0


def _analyze_stale(session: Session) -> None:
    """On PostgreSQL, once this process's writes add up to :data:`ANALYZE_AFTER` records (in
    one transaction or in many), analyze the tables whose statistics autovacuum would find
    stale, at once rather than at its next round (up to a minute later): the planner picks its
    plans from them. On tables it had not analyzed since they grew (a database just seeded,
    then imported into) an actor's timeline took over a minute instead of 20 ms; and while
    writers fill a new database one record at a time (the soak), timelines planned on its
    first statistics ran past the statement budget (503 after 5 s; 0.4 s at the most once the
    statistics follow). The tables of a large database rarely qualify: a batch of writes is a
    small part of them, and the look costs one statement."""
    written = session.info.pop(WRITTEN, 0)
    engine = session.get_bind().engine
    if not written or engine.dialect.name != "postgresql":
        return
    with _Written.lock:
        _Written.count += written
        if _Written.count < ANALYZE_AFTER:
            return
        _Written.count = 0
    with engine.connect() as connection:
        stale = connection.execute(STALE_STATISTICS).scalars().all()
    for table in stale:
        # a writing transaction each (the session's engine writes): untimed, see make_engine
        with engine.begin() as connection:
            connection.execute(text(f'ANALYZE "{table}"'))


KEPT_ANSWERS: sqljson.Answers = tuple((c.table.__table__, c.answer) for c in COLLECTIONS)
"""The tables that keep their records' answers (``record_json``), each with its answer as built."""


def install_session_events() -> None:
    """What every session's commit does, whoever made the session: the records' stored
    answers and the change feed are written in the transaction (:func:`app.kit.sqljson.keep_answers`,
    :func:`keep_feed`), and stale statistics are looked for after it (:func:`_analyze_stale`).
    Installed by what writes (the app as it is made, the ``seed`` command), once a process."""
    if event.contains(Session, "after_commit", _analyze_stale):
        return
    sqljson.keep_answers(Session, KEPT_ANSWERS)
    keep_feed(Session)
    event.listen(Session, "after_commit", _analyze_stale)


SQLITE_BUSY_SECONDS = 5
"""How long a writer waits for SQLite's write lock before its write is refused (503)."""
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}",
    "PRAGMA synchronous=NORMAL",
)
SQLITE_POOL_SIZE = 64


def make_engine(
    url: str, pool_size: int = 20, statement_timeout_ms: int = 0, timed: bool = False, connect_timeout: int = 0
) -> Engine:
    """An engine for ``url``. On PostgreSQL, ``pool_size`` connections at the most, kept open:
    past them a request waits for one to come back (in a worker thread), rather than opening
    and closing a connection of its own. With ``statement_timeout_ms``, a statement of a read
    that runs longer is cancelled (answered as :class:`app.kit.problems.QueryTooExpensive`);
    the connection stays usable and goes back to the pool with the session. With ``timed``,
    so is a statement of a read that would end past its request's :class:`Deadline`. Writes
    are not timed: their work is bounded by the size of their body, and a large import
    rightly runs long statements (writing the answers of thousands of incidents at once).
    The commands leave both off: a migration may rightly run long. With ``connect_timeout``
    (PostgreSQL), a connection not made within that many seconds fails (a read replica's, so
    that a replica that does not answer costs a read that long at the most)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            json_serializer=_json,
            json_deserializer=orjson.loads,
            # Opening a connection costs its pragmas and functions; keep open as many as the
            # threads that may hold one at once (the worker threads, the exports' streams),
            # so that no request under load opens one.
            # Reads run on the event loop, so a checkout must never wait for another to end:
            # past the pool's size, connections are opened and closed as needed.
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=-1,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            # The driver's own transaction handling would let a SAVEPOINT commit on release;
            # SQLAlchemy begins every transaction itself instead (see _begin).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
            cursor.close()
            # SQLite's own lower() folds ASCII only; PostgreSQL's folds every script.
            dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
            dbapi_connection.create_function(sqljson.JSON_FLOAT, 1, sqljson.json_float, deterministic=True)
            if statement_timeout_ms or timed:
                _watch_time(dbapi_connection, _record.info)

        if statement_timeout_ms or timed:
            _time_statements(engine, statement_timeout_ms / 1000)
            engine.update_execution_options(**{STATEMENT_BUDGET: statement_timeout_ms / 1000})

        writers = WriterQueue()

        @event.listens_for(engine, "begin")
        def _begin(connection) -> None:
            # A writing transaction takes the write lock at once (waiting busy_timeout for it),
            # rather than failing when a read snapshot cannot be upgraded; the writers of this
            # process take their turns first (WriterQueue).
            if connection.get_execution_options().get(WRITES, False):
                writers.enter(connection)
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.exec_driver_sql("BEGIN")

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _end(connection) -> None:
            writers.leave(connection.info)

        # However a writer's connection ends (back to the pool, or given up on an error), its
        # turn ends with it.
        @event.listens_for(engine, "checkin")
        @event.listens_for(engine, "invalidate")
        def _gone(_dbapi_connection, record, *_args) -> None:
            writers.leave(record.info)

        return engine
    # No JIT: the service's statements run for milliseconds, but on skewed data their cost
    # estimates pass jit_above_cost, and compiling them took longer than running them (0.4 s
    # of a 0.76 s look for earlier reports of an import's events).
    connect_args = {
        "options": f"-c plan_cache_mode=force_custom_plan -c jit=off -c statement_timeout={statement_timeout_ms}",
        **({"connect_timeout": connect_timeout} if connect_timeout else {}),
    }
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        json_serializer=_json,
        json_deserializer=orjson.loads,
        # psycopg prepares a statement after five runs, and PostgreSQL may then switch it to a
        # generic plan, one that ignores which actor is asked for; on skewed data (a few actors
        # in most incidents) that plan can be a hundred times slower than a custom one.
        connect_args=connect_args,
        # Every connection busy: wait this long for one, then answer 503 (see app.kit.problems).
        pool_timeout=POOL_TIMEOUT_SECONDS,
    )
    if statement_timeout_ms:

        @event.listens_for(engine, "begin")
        def _untimed_writes(connection) -> None:
            if connection.get_execution_options().get(WRITES, False):
                connection.exec_driver_sql("SET LOCAL statement_timeout = 0")

    if timed:
        _shorten_near_deadline(engine, statement_timeout_ms / 1000)
    engine.update_execution_options(
        **{STATEMENT_BUDGET: statement_timeout_ms / 1000 if timed else None, CONNECT_ARGS: connect_args}
    )
    return engine


POOL_TIMEOUT_SECONDS = 10
STATEMENT_BUDGET = "demarche_statement_budget"
"""Execution option of an engine whose reads are timed: each statement's budget in seconds
(0 for none but the request's deadline); absent or None where reads are not timed."""
CONNECT_ARGS = "demarche_connect_args"
"""Execution option of a PostgreSQL engine: the driver's arguments beyond its URL's, for the
connections made past its pool (:class:`DriverReads`)."""
PLANS_KEPT = "-c plan_cache_mode=auto"
"""Added to the options of the loop's connections that run statements planned once
(:attr:`app.kit.prepared.Statement.planned_once`; a later ``-c`` of a setting wins): a read
of a record by its key, planned anew on each run, cost the database three times what it
costs with the plan kept (about 80 µs against 30 µs)."""
DEADLINE = "demarche_deadline"
"""Where a SQLite connection keeps the moment its running statement must end (its pool
record's ``info``), or None when no statement is timed."""
PROGRESS_STEPS = 1000
"""Virtual-machine steps between two looks at the clock (Datasette's figure): a few
microseconds apart, so a statement overruns its budget by next to nothing."""


class Deadline:
    """The moment (``time.monotonic()``) by which a request's reads must be done, so that
    no request holds a connection longer than ``DEMARCHE_REQUEST_TIMEOUT_SECONDS``, however
    many statements it runs. ``at`` is None once the answer has begun: a streamed export
    sends its rows as they come, and is timed only to its first one."""

    __slots__ = ("at",)

    def __init__(self, seconds: float) -> None:
        self.at: float | None = time.monotonic() + seconds if seconds else None


REQUEST_DEADLINE: ContextVar[Deadline | None] = ContextVar("demarche_request_deadline", default=None)
"""The deadline of the request being served (set by :class:`app.edge.Edge`); the worker
threads a request's reads run in see it too, as they copy the request's context."""


def _ends_by(now: float, budget: float) -> float | None:
    """When a read statement starting ``now`` must end: ``budget`` seconds on (none when 0),
    or sooner where its request's deadline comes first."""
    ends = now + budget if budget else None
    deadline = REQUEST_DEADLINE.get()
    if deadline is not None and deadline.at is not None and (ends is None or deadline.at < ends):
        return deadline.at
    return ends


def _shorten_near_deadline(engine: Engine, budget: float) -> None:
    """On PostgreSQL, a read statement whose request has less time left than the statement
    budget gets that much time (``SET LOCAL statement_timeout``, for the rest of its
    transaction): one statement more, run only as a request nears its deadline."""

    @event.listens_for(engine, "before_cursor_execute")
    def _shorten(connection, cursor, _statement, _parameters, _context, _executemany) -> None:
        if connection.get_execution_options().get(WRITES, False):
            return
        now = time.monotonic()
        ends = _ends_by(now, budget)
        if ends is None or (budget and ends >= now + budget):
            return  # the connection's own statement_timeout comes first
        # 0 would mean no timeout: a deadline already past leaves one millisecond
        cursor.execute(f"SET LOCAL statement_timeout = {max(1, int((ends - now) * 1000))}")


class DriverReads:
    """Reads run by the driver itself (:class:`app.kit.prepared.Statement`), for the answers
    that need one short statement, with no SQLAlchemy between.

    - SQLite: on the event loop, as sessions' reads run (:mod:`app.kit.reads`), on one
      connection of the pool kept for them (they run one at a time, and a statement ends its
      read transaction as it ends).
    - PostgreSQL, while the app runs on the loop (:meth:`on_loop`, in the app's lifespan): on
      the loop too, on up to ``connections`` of the loop's own (:class:`LoopConnections`),
      outside a transaction, so that a read is one round trip and no thread hop (an incident
      by id, read by a bare ASGI app under 16 connections on two cores: 7,200 reads a second
      this way, 4,600 handed to threads); statements planned once on connections of their
      own, which keep their plans (:data:`PLANS_KEPT`), up to ``connections`` more.
    - PostgreSQL otherwise (an app called without its lifespan, as a test client may): in as
      many threads of this reader's own, on connections of the engine's pool.

    Each statement is timed as a session's: its engine's budget, or less where its request's
    deadline comes first. A driver's error is raised as SQLAlchemy raises it
    (:class:`sqlalchemy.exc.DBAPIError`; a pool with no connection free in time,
    :class:`sqlalchemy.exc.TimeoutError`), for the app's error handlers to answer as they
    answer a route's."""

    def __init__(self, connections: int) -> None:
        self._size = connections
        self._executor: ThreadPoolExecutor | None = None
        self._sqlite: weakref.WeakKeyDictionary[Engine, Any] = weakref.WeakKeyDictionary()
        self._pools: dict[tuple[Engine, asyncio.AbstractEventLoop], dict[bool, LoopConnections]] = {}

    @asynccontextmanager
    async def on_loop(self, engine: Engine) -> AsyncIterator[None]:
        """While the app runs on this event loop: on PostgreSQL, the loop's own connections,
        taken for dropped when the engine finds one of its own dropped, and closed at the end."""
        if engine.dialect.name != "postgresql":
            yield
            return
        _, parameters = engine.dialect.create_connect_args(engine.url)
        parameters |= engine.get_execution_options().get(CONNECT_ARGS, {})
        kept = parameters | {"options": f"{parameters.get('options', '')} {PLANS_KEPT}".strip()}
        pools = {
            planned_once: LoopConnections(options, self._size, dropped=engine.pool.dispose)
            for planned_once, options in ((False, parameters), (True, kept))
        }

        def dropped(context: Any) -> None:
            if context.is_disconnect:
                for pool in pools.values():
                    pool.drop()

        key = (engine, asyncio.get_running_loop())
        self._pools[key] = pools
        event.listen(engine, "handle_error", dropped)
        try:
            yield
        finally:
            event.remove(engine, "handle_error", dropped)
            del self._pools[key]
            for pool in pools.values():
                await pool.close()

    async def run(self, engine: Engine, statement: Statement[T]) -> T:
        """``statement`` run on a connection of ``engine``; what its rows answer."""
        budget = engine.get_execution_options().get(STATEMENT_BUDGET)
        now = time.monotonic()
        ends = None if budget is None else _ends_by(now, budget)
        if engine.dialect.name == "sqlite":
            connection = self._sqlite.get(engine)
            if connection is None:
                connection = self._sqlite[engine] = _connect(engine)
            try:
                return _driver_work(connection, engine.dialect.loaded_dbapi.Error, ends, statement)
            except DBAPIError:
                self._sqlite.pop(engine, None)  # a connection that failed is not kept
                connection.invalidate()
                raise
        shorter = ends is not None and (not budget or ends < now + budget)  # else the connection's own timeout
        loop = asyncio.get_running_loop()
        pools = self._pools.get((engine, loop))
        if pools is not None:
            return await _on_loop(pools[statement.planned_once], ends if shorter else None, statement)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._size, thread_name_prefix="demarche-read")
        return await loop.run_in_executor(self._executor, _pooled_work, engine, ends if shorter else None, statement)

    async def data_version(self, engine: Engine) -> Hashable:
        """A value that changes whenever a write commits to ``engine``'s database, whichever
        process or path wrote it: on SQLite the loop's connection and its ``data_version``,
        which counts the commits of other connections (this one never writes); on PostgreSQL
        the current snapshot, whose text changes as any writing transaction begins or ends."""
        if engine.dialect.name == "sqlite":
            version = await self.run(engine, SQLITE_DATA_VERSION)
            return self._sqlite[engine], version  # the connection that read it: nothing ran between
        return await self.run(engine, POSTGRESQL_SNAPSHOT)


def _first_value(rows: list[Any]) -> Any:
    return rows[0][0]


SQLITE_DATA_VERSION = Statement("PRAGMA data_version", (), _first_value)
POSTGRESQL_SNAPSHOT = Statement("SELECT pg_current_snapshot()::text", (), _first_value)


def _connect(engine: Engine) -> Any:
    """A connection of ``engine``'s pool; a driver's error raised as SQLAlchemy raises it."""
    error = engine.dialect.loaded_dbapi.Error
    try:
        return engine.raw_connection()
    except error as exc:
        raise DBAPIError.instance(None, None, exc, error) from exc


class LoopConnections:
    """An event loop's own PostgreSQL connections (psycopg's asynchronous ones, outside any
    transaction), up to ``size`` at once, each opened when first needed and kept while it
    works. As the engine's pool does: a reader waits at most :data:`POOL_TIMEOUT_SECONDS` for
    one to be free; a database that refuses connections fails a read at once, and the next
    read that finds it back connects; a connection found dropped has every connection opened
    before it taken for dropped, here and in the engine's pool (``dropped()``), so that a
    server that dropped them all costs one failed read, not one each. psycopg's own pool
    would connect in the background, backing off while the database is away, and make each
    read wait its whole timeout meanwhile, and for some seconds after the database is back."""

    def __init__(self, parameters: dict[str, Any], size: int, dropped: Callable[[], None]) -> None:
        self._parameters = parameters | {"autocommit": True}
        self._slots = asyncio.Semaphore(size)
        self._idle: list[tuple[float, psycopg.AsyncConnection]] = []
        self._dropped = dropped
        self._stale_before = 0.0
        self._closed = False

    def drop(self) -> None:
        """Take the connections opened so far for dropped: each is closed rather than used.
        Called from any thread (the engine's, when one of its connections was found dropped)."""
        self._stale_before = time.monotonic()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        if self._slots.locked():
            try:
                await asyncio.wait_for(self._slots.acquire(), POOL_TIMEOUT_SECONDS)
            except TimeoutError:
                raise PoolTimedOut(f"no connection of the event loop's free in {POOL_TIMEOUT_SECONDS} s") from None
        else:
            await self._slots.acquire()
        try:
            while self._idle and self._idle[-1][0] < self._stale_before:
                await self._idle.pop()[1].close()
            if self._idle:
                opened, connection = self._idle.pop()
            else:
                opened, connection = time.monotonic(), await psycopg.AsyncConnection.connect(**self._parameters)
            try:
                yield connection
            finally:
                if connection.broken:
                    self.drop()
                    self._dropped()
                if (
                    self._closed
                    or connection.closed
                    or opened < self._stale_before
                    or connection.info.transaction_status != TransactionStatus.IDLE
                ):
                    await connection.close()
                else:
                    self._idle.append((opened, connection))
        finally:
            self._slots.release()

    async def close(self) -> None:
        self._closed = True
        while self._idle:
            await self._idle.pop()[1].close()


async def _on_loop(pool: LoopConnections, ends: float | None, statement: Statement[T]) -> T:
    """``statement`` on a connection of the loop's ``pool``, to end by ``ends`` (``SET LOCAL``,
    in a transaction; else outside one)."""
    try:
        async with pool.connection() as connection:
            cursor = connection.cursor()
            if ends is None:
                await cursor.execute(statement.sql, statement.parameters)
                return statement.answer(await cursor.fetchall())
            async with connection.transaction():
                await cursor.execute(f"SET LOCAL statement_timeout = {_milliseconds_to(ends)}")
                await cursor.execute(statement.sql, statement.parameters)
                return statement.answer(await cursor.fetchall())
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement.sql, statement.parameters, exc, psycopg.Error) from exc


def _milliseconds_to(ends: float) -> int:
    return max(1, int((ends - time.monotonic()) * 1000))


def _pooled_work(engine: Engine, ends: float | None, statement: Statement[T]) -> T:
    connection = _connect(engine)
    try:
        return _driver_work(connection, engine.dialect.loaded_dbapi.Error, ends, statement)
    finally:
        connection.close()


def _driver_work(connection: Any, error: type[Exception], ends: float | None, statement: Statement[T]) -> T:
    """``statement`` on a cursor of the pooled ``connection``, to end by ``ends``; a driver's
    ``error`` raised as SQLAlchemy raises it. On PostgreSQL it runs outside a transaction, a
    round trip of its own: a transaction would cost one more to begin it and one more to end
    it, as the connection goes back (only a statement given less time than its budget,
    ``SET LOCAL``, runs in one)."""
    dbapi = connection.dbapi_connection
    sqlite = isinstance(dbapi, sqlite3.Connection)
    try:
        cursor = connection.cursor()
        if sqlite:
            if DEADLINE in connection.info:
                connection.info[DEADLINE] = ends
        elif ends is None:
            dbapi.autocommit = True
        else:  # see _shorten_near_deadline
            cursor.execute(f"SET LOCAL statement_timeout = {_milliseconds_to(ends)}")
        try:
            cursor.execute(statement.sql, statement.parameters)
            return statement.answer(cursor.fetchall())
        finally:
            cursor.close()
    except error as exc:
        raise DBAPIError.instance(statement.sql, statement.parameters, exc, error) from exc
    finally:
        if sqlite:
            if DEADLINE in connection.info:
                connection.info[DEADLINE] = None
        elif dbapi.autocommit and not dbapi.closed:  # a closed one is invalidated as it goes back
            dbapi.autocommit = False  # as SQLAlchemy's sessions expect it


def _watch_time(dbapi_connection: Any, info: dict[str, Any]) -> None:
    """Interrupt the connection's statement once its deadline has passed: SQLite has no
    statement timeout of its own, but calls a progress handler as it runs, and a handler
    that answers true interrupts the statement (``sqlite3.OperationalError: interrupted``)."""
    info[DEADLINE] = None

    def overdue() -> bool:
        deadline = info[DEADLINE]
        return deadline is not None and time.monotonic() > deadline

    dbapi_connection.set_progress_handler(overdue, PROGRESS_STEPS)


def _time_statements(engine: Engine, budget: float) -> None:
    """Give each SQLite statement of a read ``budget`` seconds from its start (none when 0),
    as PostgreSQL's ``statement_timeout`` does, and no time past its request's deadline. The
    fetching of its rows is part of a statement's work, so its deadline stays until the next
    statement or the transaction's end; a streamed result (an export, whose rows are sent as
    they come) is timed only to its first row."""

    @event.listens_for(engine, "before_cursor_execute")
    def _start(connection, _cursor, _statement, _parameters, _context, _executemany) -> None:
        untimed = connection.get_execution_options().get(WRITES, False)  # see make_engine
        connection.info[DEADLINE] = None if untimed else _ends_by(time.monotonic(), budget)

    @event.listens_for(engine, "after_cursor_execute")
    def _streamed(connection, _cursor, _statement, _parameters, context, _executemany) -> None:
        if context.execution_options.get("stream_results") or context.execution_options.get("yield_per"):
            connection.info[DEADLINE] = None

    # A commit or rollback after a long pause in Python must not be cut short.
    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(connection) -> None:
        connection.info[DEADLINE] = None


class WriterQueue:
    """The writers of one process on one SQLite database, one at a time, each woken as the one
    before it ends. SQLite takes one writer at a time and has the others poll for its lock,
    sleeping up to 100 ms between two tries: under many writers at once, a waiter that keeps
    missing the moment it is free starves, and past ``busy_timeout`` its write is refused
    (18 of 1,121 writes from 50 writers at once). Waiting here instead, a writer reaches
    SQLite's lock as soon as it is free; past the same 5 s it is refused as SQLite would
    refuse it. (Writers of other processes still meet at SQLite's own lock.)"""

    HELD = "demarche_writer"
    """Where a connection notes that it holds the turn (its ``info``)."""

    def __init__(self) -> None:
        self.turn = threading.Lock()

    def enter(self, connection: Connection) -> None:
        """Wait for this process's turn to write on ``connection``; refused, as SQLite refuses
        a writer that waited past its busy timeout, after as long."""
        if not self.turn.acquire(timeout=SQLITE_BUSY_SECONDS):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
        connection.info[self.HELD] = True

    def leave(self, info: dict[str, Any]) -> None:
        """End the turn that the connection whose ``info`` this is holds, if it holds it."""
        if info.pop(self.HELD, False):
            self.turn.release()


def writing(session: Session) -> Session:
    """Begin ``session``'s transaction as one that writes (on SQLite: ``BEGIN IMMEDIATE``)."""
    session.connection(execution_options={WRITES: True})
    return session


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


# The source checkout; an installed package (as in the container) finds them in the working directory.
ROOT = next(
    (p for p in (Path(__file__).resolve().parent.parent, Path.cwd()) if (p / "alembic.ini").exists()), Path.cwd()
)


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The database's Alembic revision; raises when the database cannot be reached."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


MIGRATION_LOCK = int.from_bytes(b"demarche")
"""The key of the PostgreSQL advisory lock that migrations take (the bytes of "demarche")."""


@contextmanager
def migration_lock(url: str, waiting: Callable[[], object] = lambda: None) -> Iterator[None]:
    """Hold the database's migration lock, after calling ``waiting`` if another process holds
    it: processes that migrate at once (replicas started together, each running ``demarche
    migrate``) take turns, and the later ones find the schema at head with nothing left to do.

    On PostgreSQL, an advisory lock of the database, held by a connection of its own (the
    server releases it should the process die); on SQLite, an exclusive lock on a file next
    to the database, ``<file>.migrate-lock`` (the system releases it should the process die).
    Neither is ever timed out: a migration may rightly run long. A database in memory belongs
    to one process and takes none."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            yield
            return
        path = Path(parsed.database + ".migrate-lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                waiting()
                fcntl.flock(lock, fcntl.LOCK_EX)
            yield  # closing the file releases the lock
        return
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            key = {"key": MIGRATION_LOCK}
            if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar_one():
                waiting()
                connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
    finally:
        engine.dispose()


SEQUENCE_HEADER = "Demarche-Sequence"
"""Answered by a write that changed records: the last change-feed ``seq`` it committed."""
MIN_SEQUENCE_HEADER = "Demarche-Min-Sequence"
"""Sent by a read that must see the database at least as of that ``seq`` (a write's own)."""
READ_SOURCE_HEADER = "Demarche-Read-Source"
"""Answered by a read when a replica is set: ``replica`` or ``primary``, whichever served it."""
_SEQUENCE = re.compile(r"[0-9]{1,19}")
REPLAYED = text("SELECT max(seq) FROM changes")
"""How far a replica has replayed: the last feed entry it holds (see app/changes/service.py)."""
READ_SOURCE = "demarche_read_source"
"""Where a read's session notes which database served it (``session.info``, then ``request.state``)."""


class Replica:
    """A streaming replica of the primary, which reads go to while it answers. One that
    failed (refused a connection, timed out) is left aside for ``RETRY_SECONDS``, its reads
    served by the primary meanwhile: an outage of the replica costs no read."""

    RETRY_SECONDS = 5.0

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.down_until = 0.0

    def up(self) -> bool:
        return time.monotonic() >= self.down_until

    def failed(self, exc: Exception) -> None:
        self.down_until = time.monotonic() + self.RETRY_SECONDS
        log.warning(
            "read replica unavailable, reading from the primary for %g s: %s",
            self.RETRY_SECONDS,
            type(exc).__name__,
        )


class ReadSession(Session):
    """A read's session. Without a replica, the primary's. With one, the database is chosen
    when the session first queries (in the thread that runs the read, never on the event
    loop): the replica, when it answers and has replayed ``min_sequence`` (one statement,
    :data:`REPLAYED`, in the transaction that then serves the read), else the primary. The
    choice is noted in ``info[READ_SOURCE]``."""

    def __init__(self, primary: Engine, replica: Replica | None, min_sequence: int | None) -> None:
        super().__init__(primary, expire_on_commit=False, autoflush=False)
        self.replica, self.min_sequence = replica, min_sequence
        self.chosen: Engine | None = primary if replica is None else None

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("bind") is not None:
            return kwargs["bind"]
        if self.chosen is None:
            self.chosen = self._choose()
        return self.chosen

    def read_engine(self) -> Engine:
        """The engine this read is served by, for work on connections of its own (a
        streamed export); chooses it now if the session has not queried yet."""
        return self.get_bind()

    def _choose(self) -> Engine:
        replica, primary = self.replica, self.bind
        assert replica is not None and isinstance(primary, Engine)
        if replica.up():
            self.chosen = replica.engine  # what the statement below runs on
            for first in (True, False):
                try:
                    replayed = self.execute(REPLAYED).scalar() or 0
                except SQLAlchemyError as exc:
                    self.close()
                    if first and isinstance(exc, DBAPIError) and exc.connection_invalidated:
                        continue  # a pooled connection the replica had closed (restarted): once more
                    replica.failed(exc)
                    break
                if self.min_sequence is None or replayed >= self.min_sequence:
                    self.info[READ_SOURCE] = "replica"
                    return replica.engine
                self.close()  # behind the caller's last write
                break
        self.info[READ_SOURCE] = "primary"
        return primary


def _min_sequence(request: Request) -> int | None:
    given = request.headers.get(MIN_SEQUENCE_HEADER)
    if given is None:
        return None
    if not _SEQUENCE.fullmatch(given.strip()) or int(given) > 2**63 - 1:
        raise BadRequest(f"{MIN_SEQUENCE_HEADER} must be a change-feed sequence number (a whole number from 0).")
    return int(given)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request, committed once after the handler returns.

    An exception raised by the handler ends the session without the commit, so nothing of a
    failed request is written. When middleware has opened a transaction for the request
    (``Idempotency-Key``: its answer is stored in the same transaction), the session joins
    it, and its commit is kept for the middleware to make. The caller's API key id rides on
    the session, for the change feed to record who wrote. A write that changed records
    leaves the last feed ``seq`` it committed on ``request.state`` (answered as
    ``Demarche-Sequence``).

    A read's session is a :class:`ReadSession`: on the read replica when one is set (and has
    replayed the ``Demarche-Min-Sequence`` the request sends), else on the primary; which one
    served it is left on ``request.state`` (answered as ``Demarche-Read-Source``).

    A session connects only when the handler first queries, in the handler's thread (a
    write's transaction then begins as one that writes: on SQLite ``BEGIN IMMEDIATE``).
    :func:`read` closes a read's session as soon as its work is done; a write's commits and
    closes in a worker thread, since it may wait for the disk.
    """
    async with _session(request, request.app.state.replica) as session:
        yield session


async def get_primary_session(request: Request) -> AsyncIterator[Session]:
    """As :func:`get_session`, with reads on the primary always: for what must see every
    write, whatever its caller sends (API keys)."""
    async with _session(request, None) as session:
        yield session


@asynccontextmanager
async def _session(request: Request, replica: Replica | None) -> AsyncIterator[Session]:
    outer = getattr(request.state, IDEMPOTENCY_CONNECTION, None)
    write = request.method in WRITE_METHODS
    engine = request.app.state.engine
    if not write:
        session: Session = ReadSession(engine, replica, _min_sequence(request))
        session.info[KEY_ID] = getattr(request.state, "key_id", None)
        try:
            yield session
        finally:
            if READ_SOURCE in session.info:
                setattr(request.state, READ_SOURCE, session.info[READ_SOURCE])
            if session.in_transaction():  # a handler that read without :func:`read`
                if engine.dialect.name == "sqlite":
                    session.close()
                else:
                    await _unlimited(session.close)
        return
    bind = outer if outer is not None else engine.execution_options(**{WRITES: True})
    session = Session(bind, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint")
    session.info[KEY_ID] = getattr(request.state, "key_id", None)
    try:
        yield session
        await _unlimited(session.commit)
        if session.info.get(SEQUENCE) is not None:
            setattr(request.state, SEQUENCE, session.info.pop(SEQUENCE))
    finally:
        await _unlimited(session.close)


async def _unlimited(work: Callable[[], Any]) -> None:
    """Run ``work`` in a worker thread outside the pool of threads that handlers share: a
    session that holds a connection must be able to give it back while every shared thread
    waits for a connection (the deadlock FastAPI avoids the same way for dependencies'
    exits)."""
    await anyio.to_thread.run_sync(work, limiter=anyio.CapacityLimiter(1))


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
PrimarySessionDep = Annotated[Session, Depends(get_primary_session, scope="function")]
