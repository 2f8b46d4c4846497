"""Where the service's time goes: py-spy samples it while a case runs."""

import signal
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.processes import log, tool

TOP = 12
IDLE = ("Condition.wait (threading.py)", "Event.wait (threading.py)", "_worker (concurrent/futures/thread.py)")
"""Leaf frames of threads waiting for work (the thread pool), left out of the shares."""
DATABASE = ("(sqlalchemy/engine/", "(psycopg/", "(sqlite3/")
"""Where a leaf frame means the time is spent running a query or fetching its rows."""


LAYERS = (
    ("log", ("Logger.info", "JSONFormatter", "StreamHandler")),
    ("metrics", ("observe (app/", "_counted (app/", "_timed (app/", "RequestLog.__call__.<locals>")),
    (
        "SQL in the driver",
        ("do_execute (", "fetchone (", "fetchall (", "fetchmany (", "(psycopg/", "Prepared.rows (app/"),
    ),
    (
        "connection checkout, session, transaction",
        ("Session.connection", "_connection_for_bind", "Session.close", "Pool.connect", "Connection.begin")
        + ("Transaction.close", "Session.commit", "do_commit", "do_rollback", "get_session (app/", "_begin (app/")
        + ("raw_connection", "_ConnectionFairy.close", "_pooled_work (app/"),
    ),
    (
        "SQLAlchemy execution and rows",
        ("Connection.execute", "_execute_context", "Session.execute", "CursorResult", "Result.", "RowMapping"),
    ),
    (
        "statement building",
        ("query (app/", "Listing.apply", "listable (app/", "with_only_columns", "walked (app/", "search (app/"),
    ),
    (
        "serialisation",
        ("texts (app/", "cursor_after", "dumps (app/", "answer_text", "render (app/", "hydrate (app/")
        + ("page_answer (app/", "tagged (app/"),
    ),
    ("authentication", ("_authenticate (app/", "verify (app/", "authenticate (app/")),
    ("rate limit", ("_count (app/", "RateLimiter.hit")),
    ("dependencies: scopes, parameters, session", ("solve_dependencies",)),
    (
        "thread-pool hop",
        ("run_in_threadpool", "run_sync_in_worker_thread", "to_thread", "WorkerThread", "run_in_executor", "_worker ("),
    ),
    ("lean reads: dispatch and parameters", ("LeanReads.", "lean_list (app/", "record_read.", "_first_page (app/")),
    ("routing and the handler's plumbing", ("(fastapi/routing.py)", "(starlette/routing.py)")),
    ("response send", ("Response.__call__", "RequestResponseCycle.send", "send_with_headers")),
    ("edge: host, key, headers", ("Edge.__call__", "Edge._admit", "AccessGuard", "RequestLog.__call__")),
    ("other middleware", ("BodyGuard", "Idempotency.__call__", "Middleware.__call__", "wrapped_app")),
    ("HTTP (uvicorn)", ("(uvicorn/", "uvloop")),
)
"""Layers of a request, each named by frames that belong to it; a sample counts for the layer
of the frame nearest its leaf that names one (so SQL run while building an answer counts as
SQL), and for "other" when none does (the event loop, asyncio)."""


def layers(collapsed: str) -> Counter[str]:
    """Busy samples by layer of the request (:data:`LAYERS`)."""
    found: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not stack or frames[-1] in IDLE:
            continue
        found[
            next((name for f in reversed(frames) for name, keys in LAYERS if any(k in f for k in keys)), "other")
        ] += int(count)
    return found


def summarize(collapsed: str) -> str:
    """The frames that hold most of the busy samples: the app's own (inclusive) and any
    code's (self)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    database: Counter[str] = Counter()
    busy = idle = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames, n = stack.split(";"), int(count)
        if frames[-1] in IDLE:
            idle += n
            continue
        busy += n
        own[frames[-1]] += n
        if any(driver in frames[-1] for driver in DATABASE):
            database[next((f for f in reversed(frames) if "(app/" in f), "elsewhere")] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not busy:
        return "no busy samples"
    app = [(f, n) for f, n in inclusive.most_common() if "(app/" in f and "(app/cli.py)" not in f][:TOP]
    lines = [f"{busy} busy samples ({idle} more of idle pool threads left out); the app's frames, inclusive:"]
    lines += [f"  {100 * n / busy:5.1f}%  {f}" for f, n in app]
    lines.append(f"in the database driver ({100 * database.total() / busy:.1f}%), by the app's function that asked:")
    lines += [f"  {100 * n / busy:5.1f}%  {f}" for f, n in database.most_common(TOP // 2)]
    by_layer = layers(collapsed)
    lines.append("by layer of the request:")
    lines += [f"  {100 * n / busy:5.1f}%  {layer}" for layer, n in by_layer.most_common()]
    lines.append("self time, any code (the event loop's own C code shows as Runner.run):")
    lines += [f"  {100 * n / busy:5.1f}%  {f}" for f, n in own.most_common(TOP)]
    return "\n".join(lines)


class Recording:
    summary = "py-spy recorded nothing"


@contextmanager
def recording(pid: int, what: str) -> Iterator[Recording]:
    """py-spy records ``pid`` for as long as the block runs; the summary is set on leaving."""
    log(f"  profiling {what}")
    done = Recording()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "profile.txt"
        argv = [str(tool("py-spy")), "record", "--pid", str(pid), "--format", "raw", "--nolineno", "--output", str(out)]
        spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            yield done
        finally:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
            if out.exists():
                done.summary = summarize(out.read_text())
