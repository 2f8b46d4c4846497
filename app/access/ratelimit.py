"""Rate limits per caller, counted with the ``limits`` library in memory or in Redis.

Windows are fixed and aligned to the clock (a ``600/minute`` window starts on the minute),
so one atomic increment per request answers everything the headers need: the count gives
``RateLimit-Remaining`` and the window's end ``RateLimit-Reset``. Several server processes
pointed at one Redis share each caller's count. When the storage cannot be reached the
request is served unlimited (and a warning logged) rather than refused.
"""

import logging
import math
import time
from dataclasses import dataclass

from limits import parse
from limits.errors import StorageError
from limits.storage import storage_from_string

log = logging.getLogger("demarche")


@dataclass(frozen=True, slots=True)
class Quota:
    """A caller's standing in the current window after one more request."""

    limit: int
    remaining: int
    reset: int
    """Seconds until the window ends."""
    exceeded: bool

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset).encode()),
        ]


class RateLimiter:
    def __init__(self, limit: str, storage_uri: str, prefix: str) -> None:
        self.item = parse(limit)
        self.storage = storage_from_string(
            f"async+{storage_uri}", wrap_exceptions=True, implementation="redispy", key_prefix=prefix
        )

    async def hit(self, identity: str) -> Quota | None:
        """Count one request of ``identity``; ``None`` when the storage is unavailable."""
        expiry = self.item.get_expiry()
        now = time.time()
        window = int(now // expiry)
        try:
            count = await self.storage.incr(self.item.key_for(identity, window), expiry)
        except StorageError as exc:
            log.warning("rate limit storage unavailable: %s", type(exc.storage_error).__name__)
            return None
        return Quota(
            limit=self.item.amount,
            remaining=max(0, self.item.amount - count),
            reset=max(1, math.ceil((window + 1) * expiry - now)),
            exceeded=count > self.item.amount,
        )
