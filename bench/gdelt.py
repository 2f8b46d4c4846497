"""The ``gdelt-import`` case: a GDELT 2.0 event export of 1,000,000 rows, written as GDELT
publishes it (61 tab-separated columns, no header), converted and imported through the
command line (``demarche import --from gdelt FILE``) against a served instance.

The rows are a GDELT-like mix: most out of the diplomatic space (statements, consultations,
appeals, accusations, fights: the codes GDELT emits most), a few thousand in it (CAMEO 054,
161, 163, 164, 165, 166, 1313), some military cooperation (062, 150…), and among the kept
codes duplicate reports of one event (the same ``GLOBALEVENTID`` again), actors that name no
country (``IGOUNO``, a bare ``IGO``), rows without a second actor and both sides of one
country. The same seed writes the same file.
"""

import contextlib
import os
import random
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.processes import APP_BIN, ROOT, peak_rss_mib

ROWS = 1_000_000
IN_SPACE = 0.004
"""Share of the rows in the diplomatic space (4,000 of a million)."""
MILITARY = 0.01
DUPLICATES = 0.05
"""Share of the in-space rows that repeat an earlier row's event id (GDELT's second row for
one story)."""

COMMON = ["010", "020", "036", "040", "042", "043", "046", "051", "057", "111", "112", "120", "130", "173", "190"]
COMMON_WEIGHTS = [12, 10, 4, 14, 9, 8, 7, 6, 3, 4, 5, 4, 3, 3, 8]
KEPT = ["054", "161", "163", "164", "165", "166", "1313"]
KEPT_WEIGHTS = [5, 20, 30, 8, 2, 25, 10]
MILITARY_CODES = ["062", "150", "152", "154"]
COUNTRIES = [
    ("USA", "US", "United States"),
    ("RUS", "RS", "Russia"),
    ("GBR", "UK", "United Kingdom"),
    ("CHN", "CH", "China"),
    ("FRA", "FR", "France"),
    ("DEU", "GM", "Germany"),
    ("UKR", "UP", "Ukraine"),
    ("IRN", "IR", "Iran"),
    ("ISR", "IS", "Israel"),
    ("IND", "IN", "India"),
    ("PAK", "PK", "Pakistan"),
    ("TUR", "TU", "Turkey"),
    ("JPN", "JA", "Japan"),
    ("KOR", "KS", "South Korea"),
    ("PRK", "KN", "North Korea"),
    ("POL", "PL", "Poland"),
    ("LTU", "LH", "Lithuania"),
    ("CAN", "CA", "Canada"),
    ("AUS", "AS", "Australia"),
    ("BRA", "BR", "Brazil"),
]
ROLES = ["", "GOV", "GOV", "MIL", "BUS", "MED", "OPP"]
OUTLETS = [f"news-{n:03d}.example.com" for n in range(400)]


def _actor(rng: random.Random, unknown: float) -> tuple[str, str, str]:
    """An actor's code, name and country code; now and then one that names no country."""
    if rng.random() < unknown:
        return rng.choice([("IGOUNO", "UNITED NATIONS", ""), ("IGO", "INTERNATIONAL", ""), ("REB", "REBEL", "")])
    iso3, _, name = rng.choice(COUNTRIES)
    return iso3 + rng.choice(ROLES), name.upper(), iso3


def _row(rng: random.Random, event_id: int, code: str, unknown: float, empty_target: float) -> str:
    day = 20180101 + rng.randrange(12) * 100 + rng.randrange(28)
    year, month = day // 10000, day // 100 % 100
    a1 = _actor(rng, unknown)
    a2 = ("", "", "") if rng.random() < empty_target else _actor(rng, unknown)
    iso3, fips, name = rng.choice(COUNTRIES)
    geo_type = rng.choice(["1", "3", "4"])
    place = name if geo_type == "1" else f"Capital City, {name}"
    lat, lon = f"{rng.uniform(-60, 70):.4f}", f"{rng.uniform(-170, 170):.4f}"
    actor_geo = f"{geo_type}\t{place}\t{fips}\t{fips}\t\t{lat}\t{lon}\t{fips}"
    url = f"https://{rng.choice(OUTLETS)}/{year}/{month:02d}/story-{rng.randrange(10**9)}.html"
    cells = [
        str(event_id),
        str(day),
        f"{year}{month:02d}",
        str(year),
        f"{year}.{month * 8:04d}",
        a1[0],
        a1[1],
        a1[2],
        "",
        "",
        "",
        "",
        a1[0][3:6],
        "",
        "",
        a2[0],
        a2[1],
        a2[2],
        "",
        "",
        "",
        "",
        a2[0][3:6],
        "",
        "",
        "1" if rng.random() < 0.4 else "0",
        code,
        code[:3],
        code[:2],
        str(rng.randint(1, 4)),
        f"{rng.uniform(-10, 10):.1f}",
        str(rng.randint(1, 40)),
        str(rng.randint(1, 8)),
        str(rng.randint(1, 40)),
        f"{rng.uniform(-12, 6):.10f}",
        actor_geo,
        actor_geo,
        f"{geo_type}\t{place}\t{fips}\t{fips}\t\t{lat}\t{lon}\t{rng.randrange(10**6)}",
        f"{day}{rng.randrange(24):02d}1500",
        url,
    ]
    return "\t".join(cells) + "\n"


def write_export(path: Path, rows: int = ROWS, seed: int = 42) -> tuple[int, int]:
    """Write ``rows`` rows to ``path``; answers the rows in the diplomatic space and the
    duplicates among them."""
    rng = random.Random(f"{seed}/gdelt")
    in_space = duplicates = 0
    written: list[str] = []  # in-space rows, to repeat
    with path.open("w", encoding="utf-8", newline="") as out:
        event_id = 1_100_000_000
        buffer = []
        for _ in range(rows):
            event_id += 1
            draw = rng.random()
            if draw < IN_SPACE:
                in_space += 1
                if written and rng.random() < DUPLICATES:
                    duplicates += 1
                    row = rng.choice(written)
                else:
                    code = rng.choices(KEPT, KEPT_WEIGHTS)[0]
                    row = _row(rng, event_id, code, unknown=0.05, empty_target=0.03)
                    written.append(row)
            elif draw < IN_SPACE + MILITARY:
                row = _row(rng, event_id, rng.choice(MILITARY_CODES), 0.05, 0.05)
            else:
                row = _row(rng, event_id, rng.choices(COMMON, COMMON_WEIGHTS)[0], 0.1, 0.2)
            buffer.append(row)
            if len(buffer) >= 10_000:
                out.write("".join(buffer))
                buffer.clear()
        out.write("".join(buffer))
    return in_space, duplicates


@dataclass(frozen=True)
class GdeltImport:
    rows: int
    kept: int
    incidents: int
    seconds: float
    cli_peak_rss_mib: float
    server_peak_rss_mib: float
    file_mib: float
    cli_cpu_s: float
    server_cpu_s: float
    """CPU time (user and system) of the command and of the server during the import: on a
    machine whose cores other work shares, the wall time is longer than their sum."""

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def run_import(base: str, key: str, file: Path, server_pid: int) -> GdeltImport:
    """``demarche import --from gdelt FILE`` against the server at ``base``: its wall time and
    peak memory (its own and the server's, which converts: each ``VmHWM``)."""
    argv = [str(APP_BIN / "demarche"), "import", "--from", "gdelt", str(file), "--url", base, "--key", key]
    server_cpu = _cpu_seconds(server_pid)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=err)
        peak = 0.0
        while True:
            # The command's own peak, read while it runs (VmHWM): wait4's ru_maxrss of a child
            # counts the memory of the process that started it (this one) as the child's own.
            with contextlib.suppress(OSError, KeyError):  # gone, or exited (no memory left)
                peak = peak_rss_mib(process.pid)[1]
            done, status, usage = os.wait4(process.pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        server_cpu = _cpu_seconds(server_pid) - server_cpu
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        report, errors = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"demarche import --from gdelt exited {process.returncode}: {errors[-2000:]}")
    counts = re.search(r"read (\d+) rows, kept (\d+)", report)
    created = re.search(r"created [^;]*?(\d+) incident", report)
    if counts is None:
        raise RuntimeError(f"demarche import --from gdelt printed no report: {report[-2000:]}")
    return GdeltImport(
        rows=int(counts[1]),
        kept=int(counts[2]),
        incidents=int(created[1]) if created else 0,
        seconds=seconds,
        cli_peak_rss_mib=peak,
        server_peak_rss_mib=peak_rss_mib(server_pid)[1],
        file_mib=file.stat().st_size / 2**20,
        cli_cpu_s=usage.ru_utime + usage.ru_stime,
        server_cpu_s=server_cpu,
    )


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
