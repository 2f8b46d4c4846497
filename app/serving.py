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

``demarche serve`` (and so the image) serves with it. Behind a proxy every connection comes
from the proxy's address: set ``DEMARCHE_CONNECTIONS_PER_ADDRESS`` above the proxy's own pool
of connections to this process, or to 0 (no cap), and let the proxy bound its clients.
"""

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import Settings, get_settings


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
