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

import gc
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI
from prometheus_client import multiprocess
from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from app.kit.observe import MULTIPROCESS_DIR
from app.main import create_app

APP = "app.workers:worker_app"
"""The factory uvicorn imports in each worker process."""


def worker_app() -> FastAPI:
    """The app, as a worker process makes it; a failure to make it is logged, as JSON, and
    ends the process with uvicorn's start-up failure status.

    What the process has made by then (modules, models, routes, the app: about 170,000
    objects) lives as long as it does, and is moved out of the cyclic garbage collector's
    sight (``gc.freeze``): a full collection walked them all, 100 ms during which no request
    moved, and the requests' own garbage brings one on every few seconds under load (a
    single read's p99 up to 7 times its median on PostgreSQL, under 2 once frozen)."""
    try:
        app = create_app()
    except Exception:
        logging.getLogger("demarche").exception("the app could not be made")
        sys.exit(STARTUP_FAILURE)
    gc.collect()
    gc.freeze()
    return app


class Supervisor(Multiprocess):
    """uvicorn's supervisor of worker processes; a worker found gone (died and replaced, or
    retired by SIGHUP or SIGTTOU) is marked dead in the metrics."""

    def __init__(self, config: Config, sockets: list) -> None:
        super().__init__(config, sockets)
        self.known: set[int] = set()

    def keep_subprocess_alive(self) -> None:
        # Called every half second, after the signals (restarts, fewer workers) are handled.
        for process in self.processes:
            # The supervisor's copy of the worker's end of the pipe their health checks go
            # through (the worker has its own once started). Kept open, a worker that dies
            # while a check is on its way leaves the supervisor waiting out the check's whole
            # timeout; closed, the check ends at once, and the death is seen.
            process.child_conn.close()
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
