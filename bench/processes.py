"""The tools the benchmark needs, and the servers it starts and stops."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
APP_BIN = ROOT / ".venv" / "bin"
TOOLS_VENV = ROOT / "bench" / ".venv-tools"
TOOLS = {"datasette": "0.65.5", "py-spy": "0.4.3"}
"""Datasette and py-spy live in a venv of their own, so their pins never meet the app's."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_wrk() -> str:
    """The path of ``wrk``, installed from Debian's packages when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    log("installing wrk (apt-get)")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-qq", "wrk"], check=True, env=env)
    return shutil.which("wrk") or "/usr/bin/wrk"


def tool(name: str) -> Path:
    """A program of the tools venv, which is made, or brought to the pins, on first use."""
    pins = [f"{t}=={v}" for t, v in TOOLS.items()]
    stamp = TOOLS_VENV / ".pins"
    if not stamp.exists() or stamp.read_text() != " ".join(pins):
        log(f"installing {' '.join(pins)} into {TOOLS_VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS_VENV)], check=True)
        subprocess.run([str(TOOLS_VENV / "bin" / "pip"), "install", "--quiet", *pins], check=True)
        stamp.write_text(" ".join(pins))
    return TOOLS_VENV / "bin" / name


def peak_rss_mib(pid: int) -> tuple[float, float]:
    """The process's resident memory now and at its peak (VmRSS, VmHWM), in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    kib = {name: int(fields[name].split()[0]) for name in ("VmRSS", "VmHWM")}
    return kib["VmRSS"] / 1024, kib["VmHWM"] / 1024


class Server:
    """One server process on 127.0.0.1, its output in a log file; ready once ``ready_path`` answers."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        port: int,
        log_dir: Path,
        env: dict[str, str] | None = None,
        ready_path: str = "/",
    ) -> None:
        self.name, self.argv, self.port, self.env, self.ready_path = name, argv, port, env or {}, ready_path
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 120.0) -> "Server":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv, cwd=ROOT, env=os.environ | self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(self.base + self.ready_path, timeout=2.0).status_code < 500:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer on port {self.port} within {timeout:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def service(name: str, port: int, database_url: str, log_dir: Path, **settings: str) -> Server:
    """The service as production runs it: ``demarche serve``, one process, keys required, rate
    limits, metrics and JSON access logs on."""
    env = {
        "DEMARCHE_DATABASE_URL": database_url,
        "DEMARCHE_PUBLIC_READ": "false",
        "DEMARCHE_RATE_LIMIT": "100000000/minute",
        "DEMARCHE_LOG_LEVEL": "INFO",
        "DEMARCHE_CURSOR_SECRET": "bench-cursor-secret",
        "DEMARCHE_WORKERS": "1",  # one process, beside Datasette's one
        # every load comes from one address, as it would from a proxy in front
        "DEMARCHE_CONNECTIONS_PER_ADDRESS": "0",
    } | {f"DEMARCHE_{k.upper()}": v for k, v in settings.items()}
    argv = [str(APP_BIN / "demarche"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return Server(name, argv, port, log_dir, env, ready_path="/healthz")


def datasette(port: int, sqlite_file: Path, log_dir: Path) -> Server:
    """Datasette on the SQLite file, as an analyst would start it (longer query time limit so
    that no case is cut short)."""
    argv = [str(tool("datasette")), "serve", str(sqlite_file), "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--setting", "sql_time_limit_ms", "20000"]
    return Server("datasette", argv, port, log_dir, ready_path="/-/versions.json")


def floor(port: int, bodies: Path, log_dir: Path) -> Server:
    argv = [str(APP_BIN / "uvicorn"), "bench.floor:app", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--no-access-log", "--log-level", "warning"]
    return Server("floor", argv, port, log_dir, {"BENCH_FLOOR_BODIES": str(bodies)}, ready_path="/-")
