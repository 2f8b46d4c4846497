"""The worker processes of ``demarche serve``: how each makes the app, and, with several
(``--workers N``, N > 1), how they serve together.

Each worker makes the app with :func:`worker_app`, which ends the process with uvicorn's
start-up failure status when the app cannot be made (settings refused, say): a supervisor
then stops, rather than starting workers that fail again and again.

With several, uvicorn's supervisor binds the socket, starts N processes that accept
connections on it, and replaces any that dies. Each worker is a process of its own, with its
own connection pool, key cache, bounds on slow clients (``app/serving.py``) and metrics. For a
scrape of ``/metrics``, answered by whichever worker accepts it, to count every worker's
requests, the workers run in prometheus_client's multiprocess mode (``app/kit/observe.py``):
:func:`metrics_folder` gives them a fresh folder for their values, and :class:`Supervisor`
marks each worker that is gone as dead, so that its live gauges (its pool's connections) stop
counting; its counters stay, so that totals never go back.
"""

import logging
import os
import pickle
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI
from prometheus_client import multiprocess
from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process

from app.kit.observe import MULTIPROCESS_DIR
from app.main import create_app

APP = "app.workers:worker_app"
"""The factory uvicorn imports in each worker process."""


def worker_app() -> FastAPI:
    """The app, as a worker process makes it; a failure to make it is logged, as JSON, and
    ends the process with uvicorn's start-up failure status."""
    try:
        return create_app()
    except Exception:
        logging.getLogger("demarche").exception("the app could not be made")
        sys.exit(STARTUP_FAILURE)


HEALTHCHECK_STEP = 0.1
"""Seconds between two looks, during a health check, at whether the worker is still running."""


def _watched(process: Process) -> None:
    """Make ``process``'s health check end as soon as the worker is gone. uvicorn's waits for
    the answer to its ping on a pipe whose worker's end the supervisor holds open too, so a
    worker that exits after the ping was sent (one that failed to make the app, exiting with
    the start-up failure status) goes unnoticed for the whole health-check timeout (a minute
    here), however soon it exited."""
    if getattr(process, "_demarche_watched", False):
        return

    def healthcheck(timeout: float) -> bool | None:
        try:
            process.parent_conn.send(b"ping")
            deadline = time.monotonic() + timeout
            while True:
                if process.parent_conn.poll(HEALTHCHECK_STEP):
                    answer: bool = process.parent_conn.recv()
                    return answer
                if not process.process.is_alive() or time.monotonic() >= deadline:
                    return None
        except (OSError, EOFError, pickle.UnpicklingError):
            return None

    process._healthcheck = healthcheck  # type: ignore[method-assign]
    process._demarche_watched = True  # type: ignore[attr-defined]


class Supervisor(Multiprocess):
    """uvicorn's supervisor of worker processes; a worker found gone (died and replaced, or
    retired by SIGHUP or SIGTTOU) is marked dead in the metrics, and one that exits while it
    is being checked is noticed at once (:func:`_watched`)."""

    def __init__(self, config: Config, sockets: list) -> None:
        super().__init__(config, sockets)
        self.known: set[int] = set()

    def keep_subprocess_alive(self) -> None:
        # Called every half second, after the signals (restarts, fewer workers) are handled.
        for process in self.processes:
            _watched(process)
        super().keep_subprocess_alive()
        alive = {process.pid for process in self.processes if process.pid is not None}
        for pid in self.known - alive:
            multiprocess.mark_process_dead(pid)
        self.known = alive


@contextmanager
def metrics_folder() -> Iterator[Path]:
    """A folder for the workers' metrics, named in ``PROMETHEUS_MULTIPROC_DIR`` for them to
    inherit: a new temporary one, removed afterwards; or the one the environment names,
    emptied of an earlier run's values first (they would be added to this run's)."""
    given = os.environ.get(MULTIPROCESS_DIR)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for values in folder.glob("*.db"):
            values.unlink()
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="demarche-metrics-"))
    os.environ[MULTIPROCESS_DIR] = str(folder)
    try:
        yield folder
    finally:
        del os.environ[MULTIPROCESS_DIR]
        shutil.rmtree(folder, ignore_errors=True)


def serve_workers(config: Config) -> None:
    """Serve ``config``'s app with its ``workers`` processes until SIGINT or SIGTERM; exit
    with uvicorn's start-up failure status when a worker could not start (the app, say, refused
    its settings), as a single process does."""
    with metrics_folder():
        supervisor = Supervisor(config, sockets=[config.bind_socket()])
        supervisor.run()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        sys.exit(STARTUP_FAILURE)
