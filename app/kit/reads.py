"""Where a read's database work runs, and when its connection goes back.

A read's work runs on SQLite on the event loop: a local read never waits for another
connection (WAL, and a pool that opens one past its size rather than wait), and costs less
than a hop to a worker thread. On PostgreSQL it runs in one hop to a worker thread: a round
trip to the server, or a wait for a pooled connection, must never hold the loop. Either way
the session's transaction ends, and its connection goes back, as soon as the work is done.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

T = TypeVar("T")


async def read(session: Session, work: Callable[..., T], *args: Any) -> T:
    """``work(*args)``, run where the session's engine reads best, then the session closed."""
    if session.bind is not None and session.bind.dialect.name == "sqlite":  # not get_bind(): a read
        # session chooses its database (primary or replica: app.db.ReadSession) as it first queries
        return _then_close(session, work, args)
    # a connection taken in the hop is given back in it: no thread is held waiting for one
    return await run_in_threadpool(_then_close, session, work, args)


def read_engine(session: Session) -> Engine:
    """The engine a read's ``session`` is served by, for work on connections of its own (a
    streamed export): the primary, or the read replica (:meth:`app.db.ReadSession.read_engine`,
    which chooses it, with a statement on the replica, if the session has not queried yet)."""
    choose = getattr(session, "read_engine", None)
    return choose() if choose is not None else session.get_bind().engine


def _then_close(session: Session, work: Callable[..., T], args: tuple[Any, ...]) -> T:
    try:
        return work(*args)
    finally:
        session.close()
