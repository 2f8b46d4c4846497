"""Verified API keys, kept in the process so that a request costs no database round trip.

A key found good is remembered for ``ttl`` seconds (``DEMARCHE_KEY_CACHE_SECONDS``): for that
long the process serves it from memory, comparing the digest of the secret sent with the one
it verified. A key revoked through this process is refused at once (the revocation leaves a
mark here before it commits); one revoked elsewhere (another process, the command line) is
refused by this process at the latest ``ttl`` seconds later, when its entry expires and the
key is looked up again. Unknown and malformed secrets are never remembered, so a caller
cannot fill the cache, and every one of them is looked up.
"""

import time
from collections.abc import Callable
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
