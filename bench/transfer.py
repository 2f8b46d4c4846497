"""The bulk cases: NDJSON export of everything, and an import through HTTP against a raw
``executemany`` of the same rows."""

import random
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import orjson
import psycopg
from psycopg.types.json import Json, Jsonb
from sqlalchemy import JSON, create_engine, inspect
from sqlalchemy.dialects.postgresql import JSONB

from app.db import SQLITE_PRAGMAS
from bench.processes import Server, peak_rss_mib

MARK = "bench-import:"
KINDS = ["ambassador_summons", "expulsion", "sanctions", "dialogue_suspension", "mission_suspension", "other"]
ACTORS = [f"state-{n:03d}" for n in range(150)] + [f"organization-{n:03d}" for n in range(50)]


@dataclass(frozen=True)
class Export:
    rows: int
    seconds: float
    peak_rss_mib: float
    start_rss_mib: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def export(
    server: Server, headers: dict[str, str], path: str = "/v1/incidents?format=ndjson", stop_after: float | None = None
) -> Export:
    """Stream every incident as NDJSON (or what ``stop_after`` seconds bring) from a freshly
    started server; its peak memory is read from /proc (VmHWM) at the end."""
    start_rss = peak_rss_mib(server.pid)[0]
    rows = 0
    started = time.perf_counter()
    with httpx.stream("GET", server.base + path, headers=headers, timeout=None) as response:
        response.raise_for_status()
        for chunk in response.iter_raw(1 << 16):
            rows += chunk.count(b"\n")
            if stop_after is not None and time.perf_counter() - started > stop_after:
                break
    seconds = time.perf_counter() - started
    return Export(rows, seconds, peak_rss_mib(server.pid)[1], start_rss)


def import_lines(count: int, seed: int) -> list[bytes]:
    """``count`` new incidents as NDJSON import lines, the same for the same seed."""
    rng = random.Random(f"{seed}/import")
    start = date(2000, 1, 1)
    lines = []
    for n in range(count):
        initiator, target = rng.sample(ACTORS[:40] if rng.random() < 0.7 else ACTORS, 2)
        kind = rng.choice(KINDS)
        line: dict[str, Any] = {
            "type": "incident",
            "external_ref": f"{MARK}{seed}:{n}",
            "kind": kind,
            "title": f"{initiator} and {target}: {kind.replace('_', ' ')} #{n}",
            "occurred_on": (start + timedelta(days=rng.randrange(9131))).isoformat(),
            "initiators": [initiator],
            "targets": [target],
        }
        if rng.random() < 0.5:
            line["summary"] = f"Imported record {n} of a bulk load, between {initiator} and {target}."
        if rng.random() < 0.5:
            line["tags"] = [rng.choice(["bulk", "partner", "archive"])]
        lines.append(orjson.dumps(line))
    return lines


class NotAvailable(Exception):
    """The service does not offer what the case needs (yet)."""


def import_http(base: str, headers: dict[str, str], lines: list[bytes], batch: int) -> float:
    """POST the lines in batches, each with its own idempotency key, as a client would; seconds."""
    started = time.perf_counter()
    with httpx.Client(base_url=base, timeout=None) as client:
        for first in range(0, len(lines), batch):
            body = b"\n".join(lines[first : first + batch]) + b"\n"
            response = client.post(
                "/v1/import",
                content=body,
                headers=headers | {"Content-Type": "application/x-ndjson", "Idempotency-Key": str(uuid.uuid4())},
            )
            if response.status_code in (401, 403, 404, 405):
                raise NotAvailable(f"POST /v1/import answered {response.status_code}")
            if response.status_code != 200:
                raise RuntimeError(f"POST /v1/import answered {response.status_code}: {response.text[:500]}")
    return time.perf_counter() - started


def reimport_http(base: str, headers: dict[str, str], lines: list[bytes], batch: int) -> tuple[float, float]:
    """POST the lines twice, in batches each with a new idempotency key (so the second time
    is compared with what is stored, not replayed): seconds to create them, seconds to
    import them again unchanged. Either answer counting otherwise is an error."""
    seconds = []
    for outcome in ("created", "unchanged"):
        started = time.perf_counter()
        counted = 0
        with httpx.Client(base_url=base, timeout=None) as client:
            for first in range(0, len(lines), batch):
                body = b"\n".join(lines[first : first + batch]) + b"\n"
                response = client.post(
                    "/v1/import",
                    content=body,
                    headers=headers | {"Content-Type": "application/x-ndjson", "Idempotency-Key": str(uuid.uuid4())},
                )
                if response.status_code != 200:
                    raise RuntimeError(f"POST /v1/import answered {response.status_code}: {response.text[:500]}")
                counted += response.json()[outcome]["incident"]
        seconds.append(time.perf_counter() - started)
        if counted != len(lines):
            raise RuntimeError(f"{outcome}: {counted} of {len(lines)} incidents")
    return seconds[0], seconds[1]


DERIVED = {"record_json"}
"""Columns the server derives from the others (migration 0010)."""

Rows = tuple[str, list[str], list[tuple[Any, ...]], dict[str, type]]
"""A table, its columns, rows as the driver returns them, and the psycopg JSON wrapper of
each JSON column."""


def _tables(url: str) -> list[tuple[str, list[str], dict[str, type]]]:
    """The incidents table and every link table keyed by ``(resource, record_id)``, each with
    its stored columns (generated ones left out, and the incidents' kept answers, which the
    server writes from the rows: the raw insert writes what the client sent) and the JSON
    wrapper of its JSON columns."""
    engine = create_engine(url)
    try:
        found = inspect(engine)
        out = []
        for table in sorted(found.get_table_names(), key=lambda t: t != "incidents"):
            columns = [c for c in found.get_columns(table) if not c.get("computed") and c["name"] not in DERIVED]
            names = [c["name"] for c in columns]
            if table == "incidents" or {"resource", "record_id"} <= set(names):
                wrappers = {c["name"]: Jsonb if isinstance(c["type"], JSONB) else Json for c in columns}
                json_columns = {c["name"]: wrappers[c["name"]] for c in columns if isinstance(c["type"], JSON)}
                out.append((table, names, json_columns))
        return out
    finally:
        engine.dispose()


def _select(table: str, columns: list[str]) -> str:
    listed = ", ".join(columns)
    imported = f"SELECT id FROM incidents WHERE external_ref LIKE '{MARK}%'"
    if table == "incidents":
        return f"SELECT {listed} FROM incidents WHERE id IN ({imported}) ORDER BY id"
    return f"SELECT {listed} FROM {table} WHERE resource = 'incident' AND record_id IN ({imported})"


def imported_rows(url: str) -> list[Rows]:
    """The rows an import wrote for its incidents, read with the bare driver."""
    out = []
    for table, columns, json_columns in _tables(url):
        if url.startswith("sqlite"):
            with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
                rows = conn.execute(_select(table, columns)).fetchall()
        else:
            with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
                rows = conn.execute(_select(table, columns)).fetchall()
        out.append((table, columns, rows, json_columns))
    return out


def insert_raw(url: str, tables: list[Rows]) -> float:
    """``executemany`` of the rows with the bare driver, one transaction; seconds."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        for pragma in SQLITE_PRAGMAS:  # the connection settings the app uses
            conn.execute(pragma)
        started = time.perf_counter()
        for table, columns, rows, _ in tables:
            marks = ", ".join("?" * len(columns))
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.close()
        return seconds
    prepared = []
    for table, columns, rows, json_columns in tables:
        wrap = [json_columns.get(c) for c in columns]
        adapted = [tuple(w(v) if w and v is not None else v for w, v in zip(wrap, row, strict=True)) for row in rows]
        prepared.append((table, columns, adapted))
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur:
            for table, columns, rows in prepared:
                marks = ", ".join(["%s"] * len(columns))
                cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        conn.commit()
        return time.perf_counter() - started
