"""Verified API keys, kept in the process so that a request costs no database round trip.

A key found good is remembered for ``ttl`` seconds (``DEMARCHE_KEY_CACHE_SECONDS``): for that
long the process serves it from memory, comparing the digest of the secret sent with the one
it verified. A key revoked through this process is refused at once (the revocation leaves a
mark here before it commits); one revoked elsewhere (another process, the command line) is
refused by this process at the latest ``ttl`` seconds later, when its entry expires and the
key is looked up again. Unknown and malformed secrets are never remembered, so a caller
cannot fill the cache, and every one of them is looked up.

Requests that miss the cache at once for the same secret (a client's burst of connections,
or every request in flight when its entry expires) share one look-up: the others wait for it
rather than each taking a worker thread and a database connection.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.access.models import Caller


@dataclass(frozen=True, slots=True)
class _Entry:
    digest: str
    caller: Caller | None
    """``None`` marks a key revoked by this process."""
    expires: float


class KeyCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._looking_up: dict[tuple[str, str], asyncio.Future[tuple[Caller, bool] | None]] = {}

    def get(self, key_id: str, digest: str) -> Caller | None | bool:
        """The caller remembered for ``key_id`` when ``digest`` is its secret's; ``False``
        when the key was revoked here; ``None`` when it must be looked up."""
        entry = self._entries.get(key_id)
        if entry is None:
            return None
        if entry.expires <= self._clock():
            del self._entries[key_id]
            return None
        if entry.caller is None:
            return False
        return entry.caller if entry.digest == digest else None

    async def look_up(
        self, key_id: str, digest: str, verify: Callable[[], Awaitable[tuple[Caller, bool] | None]]
    ) -> tuple[Caller | None, bool]:
        """The caller ``verify()`` finds for the key and secret, remembered, and whether its use
        is to be recorded. Concurrent look-ups of the same key and secret share one
        ``verify()``, which goes on if the request that began it is cancelled; only that
        request is told to record the use."""
        pending = self._looking_up.get((key_id, digest))
        first = pending is None
        if pending is None:
            pending = asyncio.ensure_future(verify())
            self._looking_up[(key_id, digest)] = pending
            pending.add_done_callback(lambda done: self._looked_up(key_id, digest, done))
        found = await asyncio.shield(pending)
        if found is None:
            return None, False
        caller, stale = found
        return caller, stale and first

    def _looked_up(self, key_id: str, digest: str, done: asyncio.Future[tuple[Caller, bool] | None]) -> None:
        del self._looking_up[(key_id, digest)]
        if not done.cancelled() and done.exception() is None and (found := done.result()) is not None:
            self.remember(key_id, digest, found[0])

    def remember(self, key_id: str, digest: str, caller: Caller) -> None:
        """Keep a key just verified; never over the mark of a revocation (a lookup that
        began before the revocation committed may end after it)."""
        if self.ttl > 0 and self.get(key_id, digest) is not False:
            self._entries[key_id] = _Entry(digest, caller, self._clock() + self.ttl)

    def revoked(self, key_id: str) -> None:
        """Refuse ``key_id`` from now on, until the mark expires, by when the database
        says so to every lookup."""
        if self.ttl > 0:
            self._entries[key_id] = _Entry("", None, self._clock() + self.ttl)
