"""Slow clients against the server as the README and the image start it (``demarche serve``,
and the Dockerfile's command): 300 sockets that send a request head one byte at a time do not
slow ordinary requests down, none of which answers 503, and each slow socket is answered and
closed once its head is late. The server's event loop takes in every client waiting to
connect at once."""

import asyncio
import socket
import statistics
import time

import httpx
import pytest

from app import serving
from app.serving import TOO_MANY
from app.settings import Settings
from tests.deploy.test_container import DOCKERFILE, exec_form, final_stage, image_environment
from tests.live import DEMARCHE, HEAD, answer_of, free_port, serve, slow_sockets

BOUNDS = {"DEMARCHE_HEADER_TIMEOUT_SECONDS": "4"}
"""The default bounds, with a head's deadline short enough to wait for."""


def configurations(database_url: str) -> dict[str, tuple[list[str], dict[str, str], int, int]]:
    """Each way the service is started, as (command, environment, port, worker processes)."""
    port, image_port = free_port(), free_port()
    serve_command = [str(DEMARCHE), "serve", "--host", "127.0.0.1", "--port", str(port)]
    stage = final_stage(DOCKERFILE)
    image = image_environment(stage) | {
        "DEMARCHE_DATABASE_URL": database_url,
        "DEMARCHE_HOST": "127.0.0.1",
        "DEMARCHE_PORT": str(image_port),
        "DEMARCHE_CURSOR_SECRET": "slow-clients-cursor-secret",
    }
    return {
        "demarche serve": (serve_command, {"DEMARCHE_RATE_LIMIT": "1000000/minute"}, port, 1),
        # production settings: one worker per core
        "the image": (
            exec_form(stage, "CMD"),
            image | {"DEMARCHE_RATE_LIMIT": "1000000/minute"},
            image_port,
            Settings(public_read=False).worker_processes(),
        ),
    }


def ordinary(url: str, n: int = 300) -> tuple[list[float], list[int]]:
    """``n`` requests one after the other, each on a new connection (as a client without a
    pool makes them): their durations in seconds and their statuses."""
    durations, statuses = [], []
    for _ in range(n):
        start = time.perf_counter()
        statuses.append(httpx.get(f"{url}/healthz", timeout=10).status_code)
        durations.append(time.perf_counter() - start)
    return durations, statuses


def p99(durations: list[float]) -> float:
    return statistics.quantiles(durations, n=100)[98]


@pytest.mark.parametrize("configuration", ["demarche serve", "the image"])
def test_slow_clients_starve_no_one(database_url, tmp_path, configuration):
    command, environ, port, workers = configurations(database_url)[configuration]
    with serve(database_url, tmp_path / "server.log", command=command, port=port, env=environ | BOUNDS) as server:
        quiet, _ = ordinary(server.url)
        with slow_sockets(port) as sockets:
            time.sleep(1.5)
            loaded, statuses = ordinary(server.url)
            assert set(statuses) == {200}, f"ordinary requests answered {sorted(set(statuses))} under the attack"
            assert p99(loaded) <= 3 * p99(quiet), (p99(loaded), p99(quiet))
            time.sleep(float(BOUNDS["DEMARCHE_HEADER_TIMEOUT_SECONDS"]))
            answers = [answer_of(sock) for sock in sockets]
    # at most DEMARCHE_WAITING_CONNECTIONS (128) wait at once in each worker: the longest
    # waiting were closed as newer connections came, and the last ones when their heads were late
    assert b"<still open>" not in answers
    assert sum(a.startswith(b"HTTP/1.1 408") for a in answers) <= 128 * workers


def test_one_address_holds_a_bounded_number_of_connections(database_url, tmp_path):
    port = free_port()
    command = [str(DEMARCHE), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with serve(
        database_url, tmp_path / "server.log", command=command, port=port, env={"DEMARCHE_CONNECTIONS_PER_ADDRESS": "3"}
    ):
        held = [socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0)) for _ in range(5)]
        other = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.3", 0))
        time.sleep(0.5)
        answers = []
        for sock in [*held, other]:
            sock.settimeout(0.5)
            answers.append(answer_of(sock))
        assert answers == [b"<still open>"] * 3 + [TOO_MANY] * 2 + [b"<still open>"]
        held[0].close()
        time.sleep(0.2)
        again = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0))
        again.settimeout(0.5)
        assert answer_of(again) == b"<still open>", "a closed connection gives its place back"
        for sock in [*held, other, again]:
            sock.close()


def test_a_late_head_is_answered_408_and_a_stalled_body_is_cut(database_url, tmp_path):
    port = free_port()
    command = [str(DEMARCHE), "serve", "--host", "127.0.0.1", "--port", str(port)]
    bounds = {"DEMARCHE_HEADER_TIMEOUT_SECONDS": "2", "DEMARCHE_BODY_IDLE_SECONDS": "2"}
    with serve(database_url, tmp_path / "server.log", command=command, port=port, env=bounds):
        late, stalled = socket.create_connection(("127.0.0.1", port)), socket.create_connection(("127.0.0.1", port))
        late.send(HEAD[:20])
        form = b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nkey="
        stalled.send(b"POST /key HTTP/1.1\r\nHost: 127.0.0.1\r\n" + form)
        time.sleep(1)
        for sock in (late, stalled):
            sock.settimeout(0.2)
            assert answer_of(sock) == b"<still open>", "closed before its time"
            sock.settimeout(5)
        assert answer_of(late).startswith(b"HTTP/1.1 408")
        assert b"303" not in answer_of(stalled)
        for sock in (late, stalled):
            sock.close()


def limited_statuses(url: str, forwarded: list[str], authorization: str | None = None) -> list[int]:
    """The statuses of one read per ``X-Forwarded-For`` value, in order."""
    headers = {"Authorization": authorization} if authorization else {}
    with httpx.Client(base_url=url) as client:
        return [
            client.get("/v1/actors", headers=headers | {"X-Forwarded-For": value}).status_code for value in forwarded
        ]


def rotating(client: str, n: int = 4) -> list[str]:
    """What a trusted proxy forwards for ``client`` when it sends a forged ``X-Forwarded-For``
    of its own, new on each request: the proxy appends the address it saw."""
    return [f"10.9.{i}.1, {client}" for i in range(n)]


def test_behind_a_trusted_proxy_limits_count_the_address_it_forwards(database_url, tmp_path):
    port = free_port()
    command = [str(DEMARCHE), "serve", "--host", "127.0.0.1", "--port", str(port), "--proxy-headers"]
    environ = {"FORWARDED_ALLOW_IPS": "127.0.0.1", "DEMARCHE_RATE_LIMIT": "3/hour"}
    with serve(database_url, tmp_path / "server.log", command=command, port=port, env=environ) as server:
        # A client's forged addresses do not escape its limit: the one the proxy saw counts.
        assert limited_statuses(server.url, rotating("203.0.113.7")) == [200, 200, 200, 429]
        assert limited_statuses(server.url, ["203.0.113.8"]) == [200], "another client has a count of its own"
        # So do guessed keys, counted by the address too.
        guesses = limited_statuses(server.url, rotating("203.0.113.9"), authorization="Bearer dmk_guess_secret")
        assert guesses == [401, 401, 401, 429]


def test_without_proxy_headers_a_forwarded_address_is_not_believed(database_url, tmp_path):
    port = free_port()
    command = [str(DEMARCHE), "serve", "--host", "127.0.0.1", "--port", str(port)]
    environ = {"FORWARDED_ALLOW_IPS": "127.0.0.1", "DEMARCHE_RATE_LIMIT": "3/hour"}
    with serve(database_url, tmp_path / "server.log", command=command, port=port, env=environ) as server:
        forwarded = [f"203.0.113.{i}" for i in range(4)]
        assert limited_statuses(server.url, forwarded) == [200, 200, 200, 429]


def test_the_loop_takes_in_every_client_waiting_to_connect_at_once():
    """uvloop accepts one connection a turn of the loop, and a loaded server's turns are long
    (every request that came, served): clients that connected together waited a turn each. The
    server's loop accepts all that wait each time its socket is readable: one readiness, and
    every one of them is a connection of the server's."""
    loop = serving.event_loop()
    made: list[asyncio.BaseTransport] = []

    class Recorded(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            made.append(transport)

    listener = loop.run_until_complete(loop.create_server(Recorded, "127.0.0.1", 0))
    clients = []
    try:
        assert isinstance(listener, serving.Listener)
        (sock,) = listener.sockets
        loop.remove_reader(sock.fileno())  # the test says when the socket is readable
        clients = [socket.create_connection(sock.getsockname()) for _ in range(20)]
        listener.accept(sock)
        loop.run_until_complete(asyncio.gather(*asyncio.all_tasks(loop)))
        assert len(made) == 20
    finally:
        for client in clients:
            client.close()
        for transport in made:
            transport.close()
        listener.close()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()
