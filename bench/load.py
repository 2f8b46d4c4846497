"""Load from wrk, with the servers of a case taking turns, and the statistics of the rounds."""

import json
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.processes import log

LUA = Path(__file__).with_name("wrk_report.lua")


@dataclass(frozen=True)
class Target:
    """One server's way to answer a case: a URL and the headers to send."""

    server: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    failed: int
    """Requests that did not answer 2xx/3xx, or failed on the socket."""


@dataclass(frozen=True)
class Summary:
    """The medians of the rounds, with their min and max."""

    rps: float
    rps_min: float
    rps_max: float
    p50_ms: float
    p50_min: float
    p50_max: float
    p99_ms: float
    failed: int
    rounds: int

    @classmethod
    def of(cls, runs: list[Run]) -> "Summary":
        rps, p50, p99 = [r.rps for r in runs], [r.p50_ms for r in runs], [r.p99_ms for r in runs]
        return cls(
            statistics.median(rps),
            min(rps),
            max(rps),
            statistics.median(p50),
            min(p50),
            max(p50),
            statistics.median(p99),
            sum(r.failed for r in runs),
            len(runs),
        )


@dataclass(frozen=True)
class Load:
    wrk: str
    connections: int
    seconds: int

    def once(self, target: Target, seconds: int | None = None, connections: int | None = None) -> Run:
        argv = [self.wrk, "-t1", f"-c{connections or self.connections}", f"-d{seconds or self.seconds}s"]
        argv += ["--timeout", "30s", "-s", str(LUA)]
        for name, value in target.headers.items():
            argv += ["-H", f"{name}: {value}"]
        done = subprocess.run([*argv, target.url], capture_output=True, text=True, check=True)
        line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no summary for {target.url}: {done.stdout}{done.stderr}")
        data = json.loads(line.removeprefix("BENCH "))
        seconds_run = data["duration_us"] / 1e6
        return Run(
            data["requests"] / seconds_run,
            data["p50_us"] / 1000,
            data["p99_us"] / 1000,
            data["non2xx"] + data["socket_errors"],
        )

    def turns(
        self, case: str, targets: list[Target], rounds: int, connections: int | None = None
    ) -> dict[str, Summary]:
        """Warm each server up, then load them in turn (A, B, C, A, B, C, ...) ``rounds`` times."""
        for target in targets:
            self.once(target, seconds=1, connections=connections)
        runs: dict[str, list[Run]] = {t.server: [] for t in targets}
        for n in range(rounds):
            for target in targets:
                run = self.once(target, connections=connections)
                runs[target.server].append(run)
                failed = f", {run.failed} failed" if run.failed else ""
                log(
                    f"  {case} round {n + 1} {target.server}: {run.rps:,.0f} req/s, "
                    f"p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms{failed}"
                )
        return {server: Summary.of(r) for server, r in runs.items()}
