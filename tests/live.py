"""A real server for the tests that need one (a subprocess listening on a free local
port), and how a real browser is launched against it."""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Browser, sync_playwright

from tests import ROOT

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium, which the Makefile installs; Playwright drives it, never a download."""
# Without the background-networking flags Chromium reaches out to Google's services at start.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium, closed afterwards."""
    assert CHROMIUM.exists(), "Chromium is missing: `make` installs Debian's chromium package"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def stays_on_the_machine(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob") or parts.hostname in LOCAL_HOSTS


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def uvicorn_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]


@contextmanager
def serve(
    database_url: str,
    log: Path,
    *,
    command: Sequence[str] | None = None,
    port: int | None = None,
    env: dict[str, str] | None = None,
    startup_seconds: float = 60,
) -> Iterator[LiveServer]:
    """Run ``command`` (uvicorn on the app by default) against ``database_url`` and yield
    once ``/healthz`` answers; stop it afterwards. Its output goes to ``log``."""
    port = port or free_port()
    environ = {**os.environ, "DEMARCHE_DATABASE_URL": database_url, "DEMARCHE_LOG_LEVEL": "WARNING", **(env or {})}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            list(command or uvicorn_command(port)), cwd=ROOT, env=environ, stdout=sink, stderr=subprocess.STDOUT
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_healthy(server, startup_seconds)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(server: LiveServer, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with {server.process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer /healthz within {seconds} s:\n{server.output()}")


DEMARCHE = Path(sys.executable).parent / "demarche"
"""The command of this environment, as the README runs it."""
HEAD = b"GET /v1/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"x" * 400
"""A request head that never ends: the slow sockets send it a byte every ``TRICKLE`` seconds."""
TRICKLE = 1.0
SLOW = 300
ATTACKERS = [f"127.0.0.{n}" for n in range(2, 8)]
"""Addresses the slow sockets come from (50 each, under the cap per address): ordinary
requests come from 127.0.0.1."""


@contextmanager
def slow_sockets(port: int, count: int = SLOW) -> Iterator[list[socket.socket]]:
    """``count`` connections from ``ATTACKERS``, each sending ``HEAD`` a byte at a time
    until the server closes it; closed afterwards."""
    sockets = []
    for n in range(count):
        sock = socket.socket()
        sock.bind((ATTACKERS[n % len(ATTACKERS)], 0))
        sock.settimeout(5)
        sock.connect(("127.0.0.1", port))
        sockets.append(sock)
    stop = threading.Event()

    def trickle() -> None:
        sent = 0
        while not stop.wait(TRICKLE) and sent < len(HEAD):
            for sock in sockets:
                try:
                    sock.send(HEAD[sent : sent + 1])
                except OSError:
                    pass  # closed by the server: what the bounds are for
            sent += 1

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        yield sockets
    finally:
        stop.set()
        thread.join()
        for sock in sockets:
            sock.close()


def answer_of(sock: socket.socket) -> bytes:
    """What the server sent before it closed ``sock``; ``<still open>`` if it has not closed
    it within the socket's timeout, ``<reset>`` if it closed it while bytes were on the way."""
    chunks = []
    try:
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    except TimeoutError:
        return b"<still open>"
    except ConnectionResetError:
        return b"".join(chunks) or b"<reset>"
    return b"".join(chunks)


def create_key(environ: dict[str, str], scope: str) -> str:
    """The secret of a new key with ``scope``, made by ``demarche keys create`` on the
    database of ``environ``, as an operator makes one."""
    created = subprocess.run(
        ["demarche", "keys", "create", "--scope", scope, "--name", f"live {scope}"],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    return created.stdout.strip().splitlines()[-1]


def print_checks(checks: dict[str, bool]) -> None:
    """Print a line per check of a run (the soak's, the scale test's), ``ok`` or ``FAIL``;
    exit with status 1 if any failed."""
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    if not all(checks.values()):
        sys.exit(1)
