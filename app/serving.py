"""The HTTP server's bounds on slow and greedy clients.

uvicorn reads a request with no deadline and counts every open connection against its
``--limit-concurrency``: a few hundred sockets that send a header byte every few seconds
hold their places for ever, and, with a limit, every other request answers 503. ``Guarded``
is uvicorn's httptools protocol with four bounds (in :class:`app.settings.Settings`):

- a request's head must arrive within ``header_timeout_seconds`` of the connection (for its
  first request) or of its first byte (for the next ones), else the answer is 408 and the
  connection is closed;
- a request's body may pause at most ``body_idle_seconds`` between two chunks, else the
  connection is closed (the request sees the client gone);
- one client address holds at most ``connections_per_address`` connections at once; a
  connection past that is answered 429 and closed at once;
- at most ``waiting_connections`` connections may wait for a request to arrive whole (idle
  keep-alive connections included); a new one past that closes the one that has waited the
  longest. The slow are shed, not the fast: an ordinary request arrives whole at once.

Its event loop is uvloop, with one change (:class:`Loop`): a listening socket is served by
accepting every connection waiting on it each time it is readable, as asyncio's own loop
does, where libuv (since 1.45) accepts one a turn of the loop. A turn runs every request
whose bytes have come, and on a loaded server takes as long as they do together: 64 clients
that connect at once were accepted one a turn, the last ones after a second or two while the
first were served over and over (``list-c64`` in bench/README.md).

``demarche serve`` (and so the image) serves with both, the loop when it runs one process:
workers that share a socket keep uvloop's way, which spreads a crowd of connections among
them, where one that accepted them all would serve them alone while the others idled.

Behind a proxy every connection comes from the proxy's address: set
``DEMARCHE_CONNECTIONS_PER_ADDRESS`` above the proxy's own pool of connections to this
process, or to 0 (no cap), and let the proxy bound its clients.
"""

import asyncio
import errno
import logging
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvloop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import Settings, get_settings

log = logging.getLogger("demarche")


@dataclass
class Bounds:
    """What one server process allows, and the connections it counts against it."""

    header_timeout: float
    body_idle: float
    per_address: int
    waiting: int
    open_by_address: Counter[str] = field(default_factory=Counter)
    waiting_since: dict["Guarded", None] = field(default_factory=dict)
    """Connections waiting for a request to arrive whole, the longest waiting first."""

    @classmethod
    def of(cls, settings: Settings) -> "Bounds":
        return cls(
            settings.header_timeout_seconds,
            settings.body_idle_seconds,
            settings.connections_per_address,
            settings.waiting_connections,
        )


def _plain_answer(status: str, extra: str = "") -> bytes:
    return f"HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n{extra}\r\n".encode("ascii")


TOO_MANY = _plain_answer("429 Too Many Requests", "retry-after: 1\r\n")
TIMED_OUT = _plain_answer("408 Request Timeout")


class Guarded(HttpToolsProtocol):
    """uvicorn's httptools protocol within the process's :class:`Bounds`."""

    bounds: Bounds | None = None
    """Set on first use from the settings (one per process: workers each read their own)."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - uvicorn's own signature
        super().__init__(*args, **kwargs)
        if Guarded.bounds is None:
            Guarded.bounds = Bounds.of(get_settings())
        self.bounds = Guarded.bounds
        self.address: str | None = None
        self.timer: asyncio.TimerHandle | None = None

    # connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else None
        if address is not None and self.bounds.per_address:
            if self.bounds.open_by_address[address] >= self.bounds.per_address:
                transport.write(TOO_MANY)
                transport.close()
                return
            self.bounds.open_by_address[address] += 1
            self.address = address
        self._wait()
        self._arm(self.bounds.header_timeout, self._head_too_slow)
        while len(self.bounds.waiting_since) > self.bounds.waiting:
            longest = next(iter(self.bounds.waiting_since))
            longest._stop_waiting()
            longest.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._disarm()
        self._stop_waiting()
        if self.address is not None:
            self.bounds.open_by_address[self.address] -= 1
            if not self.bounds.open_by_address[self.address]:
                del self.bounds.open_by_address[self.address]
            self.address = None

    # a request's head, then its body

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.timer is None:
            self._arm(self.bounds.header_timeout, self._head_too_slow)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.bounds.body_idle, self._body_too_slow)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm(self.bounds.body_idle, self._body_too_slow)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()
        self._stop_waiting()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._wait()

    # helpers

    def _wait(self) -> None:
        self.bounds.waiting_since.pop(self, None)
        self.bounds.waiting_since[self] = None

    def _stop_waiting(self) -> None:
        self.bounds.waiting_since.pop(self, None)

    def _arm(self, seconds: float, then: Callable[[], object]) -> None:
        self._disarm()
        self.timer = self.loop.call_later(seconds, then)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _head_too_slow(self) -> None:
        self.timer = None
        if not self.transport.is_closing():
            if self.cycle is None or self.cycle.response_complete:
                self.transport.write(TIMED_OUT)
            self.transport.close()

    def _body_too_slow(self) -> None:
        self.timer = None
        if self.flow.read_paused:  # the app has not read what came: the pause is the server's
            self._arm(self.bounds.body_idle, self._body_too_slow)
        else:
            self.transport.close()


# the event loop

ACCEPT_RETRY_SECONDS = 1.0
"""How long a listener out of file descriptors (or memory) waits before it accepts again, as
asyncio's does: the connections wait in the kernel's queue meanwhile."""
FULL = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class Listener:
    """Listening sockets, each served by accepting every connection it holds whenever it is
    readable (up to ``backlog`` at a time), each connection then made a transport of the
    loop's with a protocol of ``protocol_factory``. What uvicorn needs of an
    :class:`asyncio.Server`: its sockets, ``close`` and ``wait_closed``."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, sockets: list[socket.socket], protocol_factory: Callable, backlog: int
    ) -> None:
        self.loop = loop
        self.sockets = sockets
        self.protocol_factory = protocol_factory
        self.backlog = backlog
        self.paused: asyncio.TimerHandle | None = None
        """The retry of a listener out of file descriptors, while it waits."""
        for sock in sockets:
            sock.setblocking(False)
            sock.listen(backlog)  # a socket bound by uvicorn's supervisor is not listening yet
            loop.add_reader(sock.fileno(), self.accept, sock)

    def accept(self, sock: socket.socket) -> None:
        for _ in range(self.backlog):
            try:
                connection, _ = sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                if exc.errno not in FULL:
                    raise
                log.warning("not accepting connections for %s s: %s", ACCEPT_RETRY_SECONDS, exc)
                self.loop.remove_reader(sock.fileno())
                self.paused = self.loop.call_later(ACCEPT_RETRY_SECONDS, self.resume, sock)
                return
            connection.setblocking(False)
            self.loop.create_task(self.connect(connection))

    def resume(self, sock: socket.socket) -> None:
        self.paused = None
        if sock.fileno() != -1:
            self.loop.add_reader(sock.fileno(), self.accept, sock)

    async def connect(self, connection: socket.socket) -> None:
        try:
            await self.loop.connect_accepted_socket(self.protocol_factory, connection)
        except Exception as exc:  # noqa: BLE001 - the loop's handler logs it, as asyncio's own accept does
            connection.close()
            if not isinstance(exc, OSError):  # an OSError: the client left before its transport was made
                self.loop.call_exception_handler({"message": "a connection was not made", "exception": exc})

    def close(self) -> None:
        if self.paused is not None:
            self.paused.cancel()
        for sock in self.sockets:
            if sock.fileno() != -1:
                self.loop.remove_reader(sock.fileno())
                sock.close()

    async def wait_closed(self) -> None:
        """Connections are closed by uvicorn itself, as it shuts down."""


class Loop(uvloop.Loop):
    """uvloop, whose plain TCP servers (a port or a socket, no TLS nor other options)
    accept as :class:`Listener` does."""

    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: Callable,
        host: str | None = None,
        port: int | None = None,
        *,
        sock: socket.socket | None = None,
        backlog: int = 100,
        **options: Any,
    ) -> Any:
        if any(value is not None for value in options.values()) or (sock is None and port is None):
            return await super().create_server(protocol_factory, host, port, sock=sock, backlog=backlog, **options)
        return Listener(self, [sock] if sock is not None else _bound(host, port), protocol_factory, backlog)


def _bound(host: str | None, port: int) -> list[socket.socket]:
    """Sockets bound to every address of ``host`` (all of them, without one), as
    :meth:`asyncio.loop.create_server` binds them."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, True)
            sock.bind(address)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def event_loop() -> asyncio.AbstractEventLoop:
    """The loop ``demarche serve`` runs uvicorn on (its ``loop`` setting)."""
    return Loop()
