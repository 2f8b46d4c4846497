"""The benchmark runner: the service beside Datasette and the framework floor, on one data set.

    .venv/bin/python -m bench.run            # 1,000,000 incidents, SQLite and PostgreSQL
    .venv/bin/python -m bench.run --quick    # 100,000 incidents, shorter loads

Installs wrk (apt-get) and Datasette (its own venv) when missing, generates the data set
unless a run made it already, then for each engine starts the service as production runs it,
Datasette on the SQLite file and the floor (bench/floor.py, the service's own answers as fixed
bytes), loads them in turns with wrk, exports everything as NDJSON from a fresh server, and
imports new incidents through HTTP against a raw ``executemany`` of the same rows, each into a
fresh copy of the data set, imports 5,000 new incidents then the same again (unchanged), and
converts and imports a GDELT export of 1,000,000 rows through ``demarche import --from gdelt``.
Prints the table and writes it to bench/RESULTS.md. One case alone, e.g.:

    .venv/bin/python -m bench.run --engines sqlite --incidents 20000 --cases reimport --output /tmp/r.md
    .venv/bin/python -m bench.run --engines sqlite --incidents 20000 --cases gdelt-import --output /tmp/g.md
"""

import argparse
import shutil
import subprocess
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode

import httpx
from sqlalchemy import create_engine, text

from bench import gdelt, transfer
from bench.datasets import DataSet, create_key
from bench.load import Load, Target
from bench.processes import ROOT, Server, datasette, ensure_wrk, floor, log, service, tool
from bench.profile import recording
from bench.report import DATASETTE_SQL, DATASETTE_TABLE, FIRST_PAGE, FLOOR, SERVICE, Results, markdown

T = TypeVar("T")
PORTS = {
    "service": 8301,
    "datasette": 8302,
    "floor": 8303,
    "import": 8304,
    "export": 8305,
    "reimport": 8306,
    "gdelt-import": 8307,
}
BULK_CASES = ("export", "import", "reimport", "gdelt-import")
"""Cases that load no server with wrk."""
LIST_FILTER = {"kind": "expulsion", "from": "2015-01-01", "to": "2019-12-31"}
LIST_SQL = (
    "select * from incidents where kind = :kind and occurred_on >= :from and occurred_on <= :to "
    "and status = 'published' and retracted_at is null order by occurred_on desc, id desc limit 50"
)
LATENCY_CASES = ("dyad", "timeline", "stats", "q-rare", "q-common")
"""Cases whose targets are times of one request: loaded with one connection, and again, as
``NAME-c16``, with the run's connections."""
CROWD = 64
"""Connections of ``list-c64``, the list under a crowd of clients."""
DEEP_PAGE = 20_000
COMMON_WORD = "summons"


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    datasette: dict[str, str] = field(default_factory=dict)
    """Datasette's ways to the same answer: server label → path."""
    beside: dict[str, str] = field(default_factory=dict)
    """Other requests to the service, loaded in the same turns: label → path. A ratio of two
    of the service's answers taken from one case's interleaved rounds is not moved by what
    else the machine did while one of them ran alone."""
    connections: int | None = None
    """wrk connections, when not the run's setting."""
    floor: bool = True
    """Whether the floor serves the same bytes beside it."""


def counts(url: str) -> tuple[int, str, str]:
    """The number of published incidents, the name of the state in the fewest incidents, and
    a published incident that answers another one."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            published = "select count(*) from incidents where retracted_at is null and status = 'published'"
            rarest = (
                "select a.name from actors a join involvements v on v.actor_id = a.id and v.resource = 'incident' "
                "where a.kind = 'state' group by a.id, a.name order by count(*), a.name limit 1"
            )
            answering = (
                "select r.incident_id from incident_responses r join incidents i on i.id = r.incident_id "
                "join incidents a on a.id = r.responds_to_id where i.status = 'published' and i.retracted_at is null "
                "and a.status = 'published' and a.retracted_at is null order by r.incident_id limit 1"
            )
            return (
                conn.execute(text(published)).scalar_one(),
                conn.execute(text(rarest)).scalar_one(),
                conn.execute(text(answering)).scalar_one(),
            )
    finally:
        engine.dispose()


def deep_cursor(client: httpx.Client, page: int) -> tuple[str | None, int]:
    """The cursor of a page of the unfiltered list, found by walking to it 500 rows at a time
    (``limit`` is no part of a cursor's query); the page it reached."""
    position, cursor = 0, None
    while position < (page - 1) * 50:
        size = min(500, (page - 1) * 50 - position)
        answer = client.get("/v1/incidents", params={"limit": size} | ({"cursor": cursor} if cursor else {}))
        answer.raise_for_status()
        if answer.json()["next_cursor"] is None:
            break
        cursor, position = answer.json()["next_cursor"], position + size
    return cursor, position // 50 + 1


def fixtures(base: str, headers: dict[str, str], url: str) -> dict[str, str]:
    """What the cases need from the data: an incident id, the cursor of the deep page, a rare word."""
    published, rare, chained = counts(url)
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        first = client.get("/v1/incidents", params=LIST_FILTER)
        first.raise_for_status()
        cursor, page = deep_cursor(client, min(DEEP_PAGE, published // 50))
    found = {"id": first.json()["data"][0]["id"], "cursor": cursor or "", "page": f"{page:,}", "rare": rare}
    return found | {"chained": chained}


def cases(found: dict[str, str], db: str | None) -> list[Case]:
    def on_datasette(**paths: str) -> dict[str, str]:
        return paths if db else {}

    table = {
        "_shape": "array",
        "kind__exact": LIST_FILTER["kind"],
        "occurred_on__gte": LIST_FILTER["from"],
        "occurred_on__lte": LIST_FILTER["to"],
        "status__exact": "published",
        "retracted_at__isnull": "1",
        "_sort_desc": "occurred_on",
        "_size": "50",
    }
    sql = {"sql": LIST_SQL, "_shape": "array"} | LIST_FILTER
    by_id = {"sql": "select * from incidents where id = :id", "id": found["id"], "_shape": "array"}
    return [
        Case(
            "list",
            "/v1/incidents?" + urlencode(LIST_FILTER),
            on_datasette(
                **{
                    DATASETTE_TABLE: f"/{db}/incidents.json?{urlencode(table)}",
                    DATASETTE_SQL: f"/{db}.json?{urlencode(sql)}",
                }
            ),
        ),
        Case("list-all", "/v1/incidents"),
        Case(
            "list-deep",
            "/v1/incidents?" + urlencode({"cursor": found["cursor"]}),
            beside={FIRST_PAGE: "/v1/incidents"},
        ),
        Case(
            "incident",
            f"/v1/incidents/{found['id']}",
            on_datasette(
                **{
                    DATASETTE_TABLE: f"/{db}/incidents/{found['id']}.json?_shape=array",
                    DATASETTE_SQL: f"/{db}.json?{urlencode(by_id)}",
                }
            ),
        ),
        Case("actor", "/v1/actors/state-000"),
        Case("list-c64", "/v1/incidents?" + urlencode(LIST_FILTER), connections=CROWD),
        *(
            Case(name + suffix, path, connections=connections)
            for name, path in (
                ("dyad", "/v1/dyads/state-000/organization-000?as_of=2021-10-20"),
                ("timeline", "/v1/timeline?actor=state-000"),
                ("stats", "/v1/stats/incidents?group_by=kind,month"),
                ("q-rare", "/v1/incidents?" + urlencode({"q": found["rare"]})),
                ("q-common", "/v1/incidents?" + urlencode({"q": COMMON_WORD})),
            )
            for suffix, connections in (("", 1), ("-c16", None))
        ),
        *page_cases(found),
    ]


DYAD_SPAN = {"from": "2020-10-01", "to": "2022-04-30"}
"""The months the dyad page draws for 2021-10-20: from the month a year before to the month
half a year after, whole."""


def pages(found: dict[str, str]) -> dict[str, tuple[str, list[str]]]:
    """Each page for people, its path and the API requests whose answers it draws (where the
    API has none for a part, the requests a client would make for it: the dyad page's
    incidents by month are each direction's incidents in its span, one page of 500)."""
    dyad = "state-000/organization-000"
    directions = [
        "/v1/incidents?" + urlencode({"initiator": a, "target": b, "limit": 500} | DYAD_SPAN)
        for a, b in (("state-000", "organization-000"), ("organization-000", "state-000"))
    ]
    return {
        "page-home": ("/", ["/v1/stats/incidents?group_by=kind", "/v1/incidents?limit=10"]),
        "page-incidents": (
            "/incidents",
            [
                "/v1/incidents",
                *(f"/v1/stats/incidents?group_by={key}" for key in ("kind", "year", "initiator", "target")),
            ],
        ),
        "page-incident": (
            f"/incidents/{found['chained']}",
            [f"/v1/incidents/{found['chained']}", f"/v1/incidents/{found['chained']}/chain"],
        ),
        "page-dyad": (f"/dyads/{dyad}?as_of=2021-10-20", [f"/v1/dyads/{dyad}?as_of=2021-10-20", *directions]),
        "page-actor": ("/actors/state-000", ["/v1/actors/state-000", "/v1/timeline?actor=state-000"]),
        "page-stats": ("/stats", ["/v1/stats/incidents?group_by=kind,month"]),
        "page-exercises": ("/exercises", ["/v1/exercises"]),
    }


def behind(page: str, n: int) -> str:
    """The name of the case of a page's ``n``-th API request."""
    return f"{page}-api{n + 1}"


def page_cases(found: dict[str, str]) -> list[Case]:
    """Each page and each API request behind it, one request at a time (their p50s are
    compared), without the floor."""
    out = []
    for name, (path, requests) in pages(found).items():
        out.append(Case(name, path, connections=1, floor=False))
        out += [Case(behind(name, n), request, connections=1, floor=False) for n, request in enumerate(requests)]
    return out


def read_access(engine: str, url: str, results: Results) -> tuple[dict[str, str], dict[str, str]]:
    """The headers that carry a read key, and the service settings that go with them."""
    key = create_key(url, "read", "bench")
    if key:
        return {"Authorization": f"Bearer {key}"}, {}
    results.notes.append(f"{engine}: no read key could be made, so reads were anonymous (DEMARCHE_PUBLIC_READ=true)")
    return {}, {"public_read": "true"}


def floor_bodies(svc: Server, headers: dict[str, str], selected: list[Case], folder: Path) -> dict[str, int]:
    """The service's answer to each case, saved for the floor to serve; their sizes."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    sizes = {}
    for case in selected:
        answer = httpx.get(svc.base + case.path, headers=headers, timeout=120)
        answer.raise_for_status()
        (folder / f"{case.name}.json").write_bytes(answer.content)
        sizes[case.name] = len(answer.content)
    return sizes


def bench_engine(engine: str, args: argparse.Namespace, load: Load, results: Results) -> None:
    data = DataSet(engine, args.incidents, args.seed, args.work_dir)
    url = data.ensure()
    logs = args.work_dir / "logs"
    if "reimport" in args.cases:
        results.reimports[engine] = bench_reimport(data, args, logs)
    if "gdelt-import" in args.cases:
        results.gdelt_imports[engine] = bench_gdelt_import(data, args, logs)
    if not set(args.cases) - {*BULK_CASES}:
        if "export" in args.cases:
            bench_export(engine, url, args, logs, *read_access(engine, url, results), results)
        if "import" in args.cases:
            results.imports[engine] = bench_import(data, args, logs)
        return
    headers, access = read_access(engine, url, results)
    with service(f"service-{engine}", PORTS["service"], url, logs, **access) as svc:
        found = fixtures(svc.base, headers, url)
        results.notes.append(f"{engine}: `list-deep` is page {found['page']}; the rare word is `{found['rare']}`")
        selected = [
            c
            for c in cases(found, data.file.stem if engine == "sqlite" else None)
            if c.name in args.cases or ("pages" in args.cases and c.name.startswith("page-"))
        ]
        bodies = args.work_dir / f"floor-{engine}"
        results.sizes[engine] = floor_bodies(svc, headers, [c for c in selected if c.floor], bodies)
        with ExitStack() as stack:
            floor_server = stack.enter_context(floor(PORTS["floor"], bodies, logs))
            if engine == "sqlite" and any(c.datasette for c in selected):
                ds = stack.enter_context(datasette(PORTS["datasette"], data.file, logs))
            for case in selected:
                log(f"{engine}: {case.name}")
                targets = [Target(SERVICE, svc.base + case.path, headers)]
                targets += [Target(label, svc.base + path, headers) for label, path in case.beside.items()]
                targets += [Target(label, ds.base + path) for label, path in case.datasette.items()]
                if case.floor:
                    targets.append(Target(FLOOR, f"{floor_server.base}/{case.name}"))
                results.loads.setdefault(engine, {})[case.name] = load.turns(
                    case.name, targets, args.rounds, case.connections
                )
        if args.profile:
            missed = {r.case for r in results.ratios() if r.engine == engine and r.verdict == "FAIL"}
            for case in (c for c in selected if c.name in missed):
                with recording(svc.pid, case.name) as profiled:
                    load.once(Target(SERVICE, svc.base + case.path, headers), connections=case.connections)
                results.profiles.append((engine, case.name, profiled.summary))
    if "export" in args.cases:
        bench_export(engine, url, args, logs, headers, access, results)
    if "import" in args.cases:
        results.imports[engine] = bench_import(data, args, logs)


def bench_export(
    engine: str,
    url: str,
    args: argparse.Namespace,
    logs: Path,
    headers: dict[str, str],
    access: dict[str, str],
    results: Results,
) -> None:
    """Everything as NDJSON, ``args.rounds`` times, from a freshly started service, so that its
    peak memory is the exports'. The first round may read the data from disk, the others
    find it in the page cache."""
    with service(f"export-{engine}", PORTS["export"], url, logs, **access) as svc:
        try:
            for n in range(args.rounds):
                log(f"{engine}: export, round {n + 1}")
                results.exports.setdefault(engine, []).append(transfer.export(svc, headers))
        except httpx.HTTPError as failure:
            results.notes.append(f"{engine}: export failed: {failure}")
            return
        missed = {r.name for r in results.ratios() if r.engine == engine and r.verdict == "FAIL"}
        if args.profile and any(name.startswith("export") for name in missed):
            with recording(svc.pid, "export (its first 10 s)") as profiled:
                transfer.export(svc, headers, stop_after=10)
            results.profiles.append((engine, "export", profiled.summary))


def bench_import(data: DataSet, args: argparse.Namespace, logs: Path) -> tuple[int, float, float] | str:
    """The same new incidents through ``POST /v1/import`` and by a raw ``executemany``, each into
    a fresh copy of the data set."""
    lines = transfer.import_lines(args.import_rows, args.seed)
    http_url = data.copy("import_http")
    raw_url = data.copy("import_raw")
    try:
        key = create_key(http_url, "write", "bench-import")
        if key is None:
            return "not available: no write key (`demarche keys create`)"
        log(f"{data.engine}: import of {len(lines):,} incidents through HTTP")
        with service(f"import-{data.engine}", PORTS["import"], http_url, logs):
            try:
                http_seconds = transfer.import_http(
                    f"http://127.0.0.1:{PORTS['import']}", {"Authorization": f"Bearer {key}"}, lines, args.import_batch
                )
            except transfer.NotAvailable as missing:
                return f"not available: {missing}"
            except RuntimeError as failure:
                return f"failed: {failure}"
        rows = transfer.imported_rows(http_url)
        log(f"{data.engine}: raw executemany of the same rows ({', '.join(f'{t}: {len(r):,}' for t, _, r, _ in rows)})")
        raw_seconds = transfer.insert_raw(raw_url, rows)
        return len(lines), http_seconds, raw_seconds
    finally:
        data.discard(http_url)
        data.discard(raw_url)


REIMPORT_ROWS = 5_000


def bench_reimport(data: DataSet, args: argparse.Namespace, logs: Path) -> tuple[int, float, float] | str:
    """5,000 new incidents through ``POST /v1/import`` (one batch), then the same lines again,
    which leave every record unchanged, into a fresh copy of the data set."""
    lines = transfer.import_lines(REIMPORT_ROWS, args.seed)

    def measure(svc: Server, key: str) -> tuple[int, float, float]:
        log(f"{data.engine}: import of {len(lines):,} incidents, then again unchanged")
        created, again = transfer.reimport_http(svc.base, {"Authorization": f"Bearer {key}"}, lines, REIMPORT_ROWS)
        return len(lines), created, again

    return on_a_copy(data, "reimport", logs, measure)


def on_a_copy(data: DataSet, case: str, logs: Path, measure: Callable[[Server, str], T], **settings: str) -> T | str:
    """``measure(server, write key)`` against the service on a fresh copy of the data set
    (discarded after), with ``settings``; or why it could not: no key, or its failure."""
    url = data.copy(case.replace("-", "_"))
    try:
        key = create_key(url, "write", f"bench-{case}")
        if key is None:
            return "not available: no write key (`demarche keys create`)"
        with service(f"{case}-{data.engine}", PORTS[case], url, logs, **settings) as svc:
            try:
                return measure(svc, key)
            except RuntimeError as failure:
                return f"failed: {failure}"
    finally:
        data.discard(url)


GDELT_MAX_BODY = 1 << 31
"""The served instance of ``gdelt-import`` takes import bodies up to 2 GiB: a million GDELT
rows unzipped are about 340 MiB, past the default limit of 100 MiB (GDELT publishes its files
zipped, about an eighth of that)."""


def bench_gdelt_import(data: DataSet, args: argparse.Namespace, logs: Path) -> gdelt.GdeltImport | str:
    """A GDELT export of ``args.gdelt_rows`` rows (written once per seed and size, kept in the
    work directory) converted and imported by ``demarche import --from gdelt`` against a
    served instance on a fresh copy of the data set."""
    file = args.work_dir / f"gdelt-{args.gdelt_rows}-{args.seed}.export.CSV"
    if not file.exists():
        log(f"writing {args.gdelt_rows:,} GDELT rows to {file}")
        partial = file.with_suffix(".partial")
        partial.parent.mkdir(parents=True, exist_ok=True)
        in_space, duplicates = gdelt.write_export(partial, args.gdelt_rows, args.seed)
        partial.rename(file)
        log(f"  {in_space:,} in the diplomatic space, {duplicates:,} of them duplicates")

    def measure(svc: Server, key: str) -> gdelt.GdeltImport:
        log(f"{data.engine}: demarche import --from gdelt of {args.gdelt_rows:,} rows")
        return gdelt.run_import(svc.base, key, file, svc.pid)

    return on_a_copy(data, "gdelt-import", logs, measure, import_max_body_bytes=str(GDELT_MAX_BODY))


ALL_CASES = [
    "list",
    "list-all",
    "list-deep",
    "incident",
    "actor",
    "list-c64",
    *(name + suffix for name in LATENCY_CASES for suffix in ("", "-c16")),
    "pages",
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 incidents, 2 s loads, 20,000 imported rows.")
    parser.add_argument("--incidents", type=int, help="Data set size (default 1,000,000; 100,000 with --quick).")
    parser.add_argument("--seed", type=int, default=42, help="Seed of the data set (default 42).")
    parser.add_argument("--engines", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--cases", nargs="+", choices=[*ALL_CASES, *BULK_CASES], default=[*ALL_CASES, *BULK_CASES])
    parser.add_argument("--rounds", type=int, default=3, help="Turns of each server per case (default 3).")
    parser.add_argument("--seconds", type=int, help="Length of one wrk run (default 5; 2 with --quick).")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16).")
    parser.add_argument("--import-rows", type=int, help="Incidents to import (default 100,000; 20,000 with --quick).")
    parser.add_argument("--import-batch", type=int, default=5_000, help="Lines per POST /v1/import (default 5,000).")
    parser.add_argument(
        "--gdelt-rows", type=int, default=gdelt.ROWS, help="Rows of the gdelt-import case's file (default 1,000,000)."
    )
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Record the service with py-spy on every case that misses its target (default on).",
    )
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/bench-a"), help="Data sets and logs.")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "RESULTS.md", help="The markdown report.")
    args = parser.parse_args(argv)
    args.incidents = args.incidents or (100_000 if args.quick else 1_000_000)
    args.import_rows = args.import_rows or (20_000 if args.quick else 100_000)
    seconds = args.seconds or (2 if args.quick else 5)

    loaded = set(args.cases) - {*BULK_CASES}
    load = Load(ensure_wrk() if loaded else "wrk", args.connections, seconds)
    if loaded:
        tool("datasette")
    settings = (
        f"wrk -t1 -c{args.connections} -d{seconds:g}s (one connection for {', '.join(LATENCY_CASES)}; "
        f"{CROWD} for list-c64), "
        f"{args.rounds} rounds, servers in turns; one uvicorn worker"
    )
    results = Results("quick" if args.quick else "full", args.incidents, settings)
    for engine in args.engines:
        try:
            bench_engine(engine, args, load, results)
        except (RuntimeError, OSError, httpx.HTTPError, subprocess.SubprocessError) as failure:
            log(f"{engine}: stopped: {failure}")
            results.notes.append(f"{engine}: the run stopped early ({failure}); what it measured before is below")
    report = markdown(results)
    args.output.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
