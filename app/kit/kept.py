"""Kept answers: a read's answer, kept in the process while no write commits to its database.

A view (a dyad, a timeline, counts in buckets, a search) reads many rows to answer some
kilobytes, an actor's answer is built as it is read, and dashboards ask the same ones again
and again. A kept read (:func:`kept_read`, a lean read of :mod:`app.kit.lean`) first reads
the database's data version, a value that changes whenever any write commits to it
(:meth:`app.db.DriverReads.data_version`: one statement that reads no table), and answers
the bytes kept at that version; when none are, the answer given instead (by a later lean
read, or the route) is kept as it is sent. Two requests are alike when their URLs (a page's
``Link`` names the host), the caller's view of drafts and retracted records, the date (a
view's default day is today's) and, for answers that show it (the HTML pages name the key
they are read with), the caller are the same.

Only a complete ``200`` answer is kept, at most ``max_bytes`` in all, the least recently
used going first, and none larger than an eighth of that (an export streamed in full is
sent, not kept).
"""

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from functools import partial

from starlette.datastructures import URL
from starlette.responses import Response
from starlette.types import Message, Send

from app.kit.lean import LeanRead, LeanRequest, Watch

Key = tuple[str, bool, date, Hashable]


@dataclass(slots=True)
class Kept:
    version: Hashable
    headers: list[tuple[bytes, bytes]]
    body: bytes


class KeptAnswers:
    """The answers kept in this process, by :data:`Key`, with the version each was read at."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.largest = max_bytes // 8
        self.size = 0
        self._kept: OrderedDict[Key, Kept] = OrderedDict()

    def get(self, key: Key, version: Hashable) -> Kept | None:
        kept = self._kept.get(key)
        if kept is None or kept.version != version:
            return None
        self._kept.move_to_end(key)
        return kept

    def put(self, key: Key, kept: Kept) -> None:
        self.discard(key)
        self._kept[key] = kept
        self.size += len(kept.body)
        while self.size > self.max_bytes:
            self.discard(next(iter(self._kept)))

    def discard(self, key: Key) -> None:
        gone = self._kept.pop(key, None)
        if gone is not None:
            self.size -= len(gone.body)

    def keeping(self, key: Key, version: Hashable, send: Send) -> Send:
        """``send``, which keeps the answer it sends once it is whole, a ``200`` and small enough."""
        status, headers, chunks, size = 0, [], [], 0

        async def send_and_keep(message: Message) -> None:
            nonlocal status, headers, size
            if message["type"] == "http.response.start":  # before the layers outside add theirs to it
                status, headers = message["status"], list(message.get("headers", []))
            await send(message)
            if message["type"] == "http.response.body" and status == 200:
                body = message.get("body", b"")
                size += len(body)
                if size > self.largest:
                    status = 0  # too large to keep
                    chunks.clear()
                    return
                chunks.append(body)
                if not message.get("more_body", False):
                    self.put(key, Kept(version, headers, b"".join(chunks)))

        return send_and_keep


UNKEPT = object()
"""What :func:`kept_read`'s ``shown`` gives back for a request not to keep the answer of."""


def kept_read(
    kept_answers: KeptAnswers,
    today: Callable[[], date],
    shown: Callable[[LeanRequest], Hashable] = lambda request: None,
) -> LeanRead:
    """The lean read of routes whose answers are kept in ``kept_answers`` while the data's
    version (``state.driver_reads``: :meth:`app.db.DriverReads.data_version`) stays the
    same; ``today()`` is the date the routes' answers take as today, ``shown(request)``
    what else of the request the answer shows (``None``: nothing), or :data:`UNKEPT` for a
    request whose answer is not to be kept (its route answers it)."""

    async def read(request: LeanRequest) -> Response | Watch | None:
        also = shown(request)
        if also is UNKEPT:
            return None
        now = await request.state.driver_reads.data_version(request.state.engine)
        key = (str(URL(scope=request.scope)), request.caller.sees_unpublished, today(), also)
        kept = kept_answers.get(key, now)
        if kept is None:
            return Watch(partial(kept_answers.keeping, key, now))
        answer = Response(kept.body)
        answer.raw_headers = kept.headers
        return answer

    return read
