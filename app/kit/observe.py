"""JSON log lines and the Prometheus metrics of requests (``app.edge`` writes one line and
one observation per request) and of the database connection pool.

Every line the server writes is JSON, uvicorn's own included: :func:`log_config` is the
logging configuration that ``demarche serve`` hands to uvicorn (its supervisor and each worker
process apply it before they log), and :func:`configure_logging` applies the same in the app.

Metrics are kept per process. Under several worker processes (``demarche serve --workers``),
prometheus_client's multiprocess mode adds them up: ``PROMETHEUS_MULTIPROC_DIR`` names a
folder where each process keeps its values in files of its own, and a scrape answered by any
worker reads them all (:func:`exposition`). The variable must be set before the process
imports prometheus_client (``app.workers`` sets it for the workers it starts). Replicas each
answer their own processes' metrics: scrape each one, not the load balancer, and add them up
in Prometheus."""

import functools
import logging
import logging.config
import os
from datetime import UTC, datetime
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine, event

access_log = logging.getLogger("demarche.access")

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""The environment variable that turns prometheus_client's multiprocess mode on."""

REQUESTS = Counter("demarche_requests", "HTTP requests answered.", ["method", "route", "status"])
LATENCY = Histogram(
    "demarche_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
POOL = Gauge(
    "demarche_db_pool_connections",
    "Database connections of the server's processes: checked out (by a request, or on SQLite kept by a "
    "process's event loop for its lean reads, one a process), open, and the pools' size.",
    ["state"],
    multiprocess_mode="livesum",  # the sum over the worker processes alive
)


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        line = {
            "time": moment,
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,  # which worker process wrote it
            "message": record.getMessage(),
        }
        line |= getattr(record, "fields", {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


def log_config(level: str) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` configuration: every logger, uvicorn's included,
    writes JSON lines to standard error at ``level`` (Alembic's at warnings only, and the
    Markdown parser's too: at debug it writes a line for every block of the guide it parses,
    tens of thousands while a worker starts)."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JSONFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # uvicorn's own configuration gives these plain-text handlers; here they pass their
            # lines on to the root's JSON handler instead.
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # The app writes its own access line (``app.edge``); uvicorn's would repeat it.
            "uvicorn.access": {"handlers": [], "propagate": False},
            "alembic": {"level": "WARNING"},
            "markdown_it": {"level": "WARNING"},
        },
    }


def configure_logging(level: str) -> None:
    logging.config.dictConfig(log_config(level))
    logging.captureWarnings(True)  # a Python warning is a JSON line too, not plain text


def exposition() -> bytes:
    """Every metric in the Prometheus text format: this process's, or, in multiprocess mode,
    those of every worker process (live gauges of the live ones only)."""
    if not os.environ.get(MULTIPROCESS_DIR):
        return generate_latest()
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return generate_latest(registry)


def observe(method: str, route: str | None, status: int, seconds: float) -> None:
    """Count one answered request in the metrics (by route template, ``unmatched`` without one)."""
    route = route or "unmatched"
    _counted(method, route, status).inc()
    _timed(method, route).observe(seconds)


def observe_pool(engine: Engine) -> None:
    """Keep ``demarche_db_pool_connections`` up to date with ``engine``'s pool, as
    connections are opened, checked out, given back and closed: each process writes its own
    values as they change, so that a scrape answered by one worker counts every worker's
    connections, not only its own at the time of the scrape. ``size`` is the most the pool
    keeps open (its overflow aside)."""
    checked_out, opened = POOL.labels("checked_out"), POOL.labels("open")
    size = getattr(engine.pool, "size", None)
    POOL.labels("size").set(size() if callable(size) else 0)
    event.listen(engine, "checkout", lambda *_: checked_out.inc())
    event.listen(engine, "checkin", lambda *_: checked_out.dec())
    event.listen(engine, "connect", lambda *_: opened.inc())
    event.listen(engine, "close", lambda *_: opened.dec())
    event.listen(engine, "detach", lambda *_: opened.dec())  # the pool no longer counts it


# Each set of labels' child is found once: ``labels()`` takes a lock and builds a key on every call.
@functools.cache
def _counted(method: str, route: str, status: int) -> Any:
    return REQUESTS.labels(method, route, str(status))


@functools.cache
def _timed(method: str, route: str) -> Any:
    return LATENCY.labels(method, route)
