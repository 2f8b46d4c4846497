"""The results of a run: the table, the ratios against their targets, and bench/RESULTS.md."""

import os
import platform
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from statistics import median

from bench.gdelt import GdeltImport
from bench.load import Summary
from bench.processes import ROOT, TOOLS
from bench.transfer import Export

SERVICE, FLOOR, DATASETTE_TABLE, DATASETTE_SQL = "service", "floor", "datasette table API", "datasette sql="
FIRST_PAGE = "service, first page"
"""The list's first page, loaded in the deep page's turns."""


@dataclass(frozen=True)
class Ratio:
    engine: str
    name: str
    value: float | None
    target: str
    """How the value is judged: ``">= 4"`` or ``"<= 1.2"``; empty for information only."""
    source: str
    note: str = ""
    case: str | None = None
    """The loaded case the value comes from, if any."""

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "n/a"
        if not self.target:
            return ""
        op, bound = self.target.split()
        ok = self.value >= float(bound) if op == ">=" else self.value <= float(bound)
        return "pass" if ok else "FAIL"


@dataclass
class Results:
    mode: str
    incidents: int
    settings: str
    loads: dict[str, dict[str, dict[str, Summary]]] = field(default_factory=dict)
    """engine → case → server → summary of the rounds."""
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    exports: dict[str, list[Export]] = field(default_factory=dict)
    """engine → the rounds of one export, in order, from one freshly started server."""
    imports: dict[str, tuple[int, float, float] | str] = field(default_factory=dict)
    """engine → (rows, seconds through HTTP, seconds of the raw executemany), or why not run."""
    reimports: dict[str, tuple[int, float, float] | str] = field(default_factory=dict)
    """engine → (rows, seconds to create them by import, seconds to import them again unchanged),
    or why not run."""
    gdelt_imports: dict[str, GdeltImport | str] = field(default_factory=dict)
    """engine → a GDELT export converted and imported through the command line, or why not run."""
    notes: list[str] = field(default_factory=list)
    load_average: float = field(default_factory=lambda: os.getloadavg()[0])
    """The machine's 1-minute load average when the run started."""
    profiles: list[tuple[str, str, str]] = field(default_factory=list)
    """(engine, case, the profile's summary)."""

    def get(self, engine: str, case: str, server: str) -> Summary | None:
        return self.loads.get(engine, {}).get(case, {}).get(server)

    def ratios(self) -> list[Ratio]:
        """Every measure with a target, and a few for information, for each engine measured
        (by loads, or by the export or import alone)."""
        engines = dict.fromkeys([*self.loads, *self.exports, *self.imports, *self.reimports, *self.gdelt_imports])
        return [r for engine in engines for r in self._ratios(engine)]

    def _ratios(self, engine: str) -> list[Ratio]:
        out: list[Ratio] = []

        def add(name: str, value: float | None, target: str, source: str, **more: str) -> None:
            out.append(Ratio(engine, name, value, target, source, **more))

        def rps(case: str, server: str) -> float | None:
            summary = self.get(engine, case, server)
            return summary.rps if summary and not summary.failed else None

        def share(a: float | None, b: float | None) -> float | None:
            return a / b if a is not None and b else None

        def versus(case: str, server: str, target: str, source: str) -> None:
            mine, theirs = rps(case, SERVICE), rps(case, server)
            note = f"{mine:,.0f} vs {theirs:,.0f} req/s" if mine and theirs else ""
            add(f"{case}: service / {server} (req/s)", share(mine, theirs), target, source, case=case, note=note)

        single = ">= 0.30" if engine == "sqlite" else ">= 0.25"
        if engine == "sqlite":
            versus("list", DATASETTE_SQL, ">= 4", "issues 7, 14")
            versus("list", DATASETTE_TABLE, "", "")
            versus("incident", DATASETTE_SQL, ">= 3", "issue 14")
        versus("list", FLOOR, ">= 0.30" if engine == "sqlite" else ">= 0.18", "issues 7, 14")
        versus("incident", FLOOR, single, "issue 14")
        versus("actor", FLOOR, single, "issue 14")
        for case, bound in (("list", 3), ("incident", 3), ("actor", 3), ("list-c64", 4)):
            summary = self.get(engine, case, SERVICE)
            spread = summary.p99_ms / summary.p50_ms if summary and not summary.failed else None
            note = f"p99 {summary.p99_ms:,.2f} vs p50 {summary.p50_ms:,.2f} ms" if summary else ""
            note += f"; {summary.failed} failed" if summary and summary.failed else ""
            add(f"{case}: p99 / p50", spread, f"<= {bound}", "issue 14", case=case, note=note)
        for case in ("dyad-c16", "timeline-c16", "stats-c16", "q-rare-c16", "q-common-c16"):
            versus(case, FLOOR, ">= 0.05", "issue 14")
        cases = self.loads.get(engine, {})
        for page in (name for name in cases if name.startswith("page-") and "-api" not in name):
            drawn, apis = (
                self.get(engine, page, SERVICE),
                [cases[n][SERVICE] for n in cases if n.startswith(f"{page}-api")],
            )
            total = sum(api.p50_ms for api in apis)
            failed = drawn is None or drawn.failed or not apis or any(api.failed for api in apis)
            note = f"{drawn.p50_ms:,.2f} vs {total:,.2f} ms ({len(apis)} API requests)" if drawn else ""
            add(
                f"{page}: p50 / its API requests' p50s",
                None if failed else drawn.p50_ms / total,
                "<= 1.5",
                "issue 19",
                case=page,
                note=note,
            )
        deep, first = self.get(engine, "list-deep", SERVICE), self.get(engine, "list-deep", FIRST_PAGE)
        depth = deep.p50_ms / first.p50_ms if deep and first else None
        note = f"{deep.p50_ms:,.2f} vs {first.p50_ms:,.2f} ms" if deep and first else ""
        add("list: deep page / first page (p50)", depth, "<= 1.2", "issue 7", case="list-deep", note=note)
        for case, bound in (("dyad", 30), ("timeline", 20), ("stats", 150), ("q-rare", 50), ("q-common", 50)):
            summary = self.get(engine, case, SERVICE)
            add(
                f"{case}: p50 ms, one connection",
                summary.p50_ms if summary else None,
                f"<= {bound}",
                "issue 3",
                case=case,
            )
        rounds = self.exports.get(engine, [])
        speeds = ", ".join(f"{r.rows_per_s:,.0f}" for r in rounds)
        note = f"{rounds[0].rows:,} rows; rounds in order: {speeds} rows/s" if rounds else ""
        rows_per_s = median(r.rows_per_s for r in rounds) if rounds else None
        add("export NDJSON: rows/s (median)", rows_per_s, ">= 150000", "issue 4", note=note)
        peak = max((r.peak_rss_mib for r in rounds), default=None)
        add("export NDJSON: peak RSS MiB", peak, "<= 150", "issue 4")
        imported = self.imports.get(engine)
        if isinstance(imported, tuple):
            n, http_s, raw_s = imported
            note = f"{n:,} incidents: HTTP {n / http_s:,.0f} rows/s, raw executemany {n / raw_s:,.0f} rows/s"
            add("import: HTTP / raw executemany (rows/s)", raw_s / http_s, ">= 0.30", "issue 4", note=note)
        else:
            add("import: HTTP / raw executemany (rows/s)", None, ">= 0.30", "issue 4", note=imported or "")
        again = self.reimports.get(engine)
        name = "re-import unchanged / create (seconds)"
        if isinstance(again, tuple):
            n, created_s, again_s = again
            note = f"{n:,} incidents: created in {created_s:,.2f} s, imported again unchanged in {again_s:,.2f} s"
            add(name, again_s / created_s, "<= 1", "issue 16", note=note)
        elif engine in self.reimports:
            add(name, None, "<= 1", "issue 16", note=again or "")
        if engine in self.gdelt_imports:
            gdelt = self.gdelt_imports[engine]
            if isinstance(gdelt, GdeltImport):
                note = (
                    f"{gdelt.rows:,} rows ({gdelt.file_mib:,.0f} MiB), {gdelt.kept:,} kept, {gdelt.incidents:,} "
                    f"incidents created, in {gdelt.seconds:,.2f} s; CPU: the command {gdelt.cli_cpu_s:,.2f} s, the "
                    f"server {gdelt.server_cpu_s:,.2f} s"
                )
                add("gdelt-import: rows scanned/s, command line end to end", gdelt.rows_per_s, ">= 100000", "issue 17",
                    note=note)  # fmt: skip
                add("gdelt-import: peak RSS MiB, the command", gdelt.cli_peak_rss_mib, "<= 200", "issue 17")
                add("gdelt-import: peak RSS MiB, the server (converts)", gdelt.server_peak_rss_mib, "<= 200",
                    "issue 17")  # fmt: skip
            else:
                add("gdelt-import: rows scanned/s, command line end to end", None, ">= 100000", "issue 17", note=gdelt)
        return out


def _cell(value: float, low: float, high: float, digits: int) -> str:
    return f"{value:,.{digits}f} ({low:,.{digits}f}–{high:,.{digits}f})"


def load_table(results: Results) -> list[str]:
    lines = [
        "| engine | case | server | req/s (min–max) | p50 ms (min–max) | p99 ms | answer bytes | vs floor |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for engine, cases in results.loads.items():
        for case, servers in cases.items():
            floor = servers.get(FLOOR)
            for server, s in servers.items():
                failed = f" ({s.failed} failed)" if s.failed else ""
                versus = f"{s.rps / floor.rps:.2f}×" if floor and server == SERVICE else ""
                size = results.sizes.get(engine, {}).get(case) if server in (SERVICE, FLOOR) else None
                lines.append(
                    f"| {engine} | {case} | {server} | {_cell(s.rps, s.rps_min, s.rps_max, 0)}{failed} | "
                    f"{_cell(s.p50_ms, s.p50_min, s.p50_max, 2)} | {s.p99_ms:,.2f} | {size or ''} | {versus} |"
                )
    return lines


def ratio_table(results: Results) -> list[str]:
    lines = ["| engine | measure | value | target | | from | note |", "|---|---|---:|---|---|---|---|"]
    for r in results.ratios():
        value = "not available" if r.value is None else f"{r.value:,.2f}"
        lines.append(f"| {r.engine} | {r.name} | {value} | {r.target} | {r.verdict} | {r.source} | {r.note} |")
    return lines


def machine() -> list[str]:
    cpu = next(
        (
            x.split(":", 1)[1].strip()
            for x in Path("/proc/cpuinfo").read_text().splitlines()
            if x.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(x.split()[1] for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal"))
    pg = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"], capture_output=True, text=True
    ).stdout.strip()
    try:
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0].strip()
    except FileNotFoundError:
        wrk = "wrk not installed"
    servers = ", ".join(f"{name} {version(name)}" for name in ("fastapi", "uvicorn", "sqlalchemy", "psycopg"))
    tools = ", ".join(f"{name} {pin}" for name, pin in TOOLS.items())
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; RAM {int(mem) / 1024**2:.1f} GiB; kernel {platform.release()}",
        f"- SQLite {sqlite3.sqlite_version}; PostgreSQL {pg or 'not reached'}; Python {platform.python_version()}",
        f"- {servers}; {tools}; {wrk}",
    ]


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return head + (" + uncommitted changes" if dirty else "")


def markdown(results: Results) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# Benchmark results",
        "",
        f"The latest run of `make bench{' QUICK=1' if results.mode == 'quick' else ''}` ({results.mode} mode, "
        f"{results.incidents:,} incidents), {when}. How it is measured: bench/README.md.",
        "",
        f"- Commit: {commit()}",
        *machine(),
        f"- Load: {results.settings}",
        f"- Load average (1 min) before the run: {results.load_average:.2f}; above 0.5 or so, other work shared the"
        " cores and the figures are noisier",
        *[f"- {n}" for n in results.notes],
        "",
        "## Targets",
        "",
        *ratio_table(results),
        "",
        "## Every case",
        "",
        "Medians of the rounds, with their min and max. `vs floor`: the service's req/s over the floor's,",
        "which serves the same bytes.",
        "",
        *load_table(results),
    ]
    if results.profiles:
        parts += ["", "## Where the time goes", ""]
        for engine, case, text in results.profiles:
            parts += [f"### {case} on {engine}", "", "```", text, "```", ""]
    return "\n".join(parts).rstrip() + "\n"
