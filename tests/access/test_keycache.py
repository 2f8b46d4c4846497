"""The cache of verified keys: served for its time, a revocation wins over a lookup that
began before it, other secrets for the same id are looked up."""

from app.access.keycache import KeyCache
from app.access.models import Caller, KeyScope

READER = Caller("0123456789abcdef", KeyScope.read)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_verified_key_is_served_until_it_expires():
    clock = Clock()
    cache = KeyCache(5, clock)
    cache.remember(READER.key_id, "digest", READER)
    clock.now = 4.9
    assert cache.get(READER.key_id, "digest") == READER
    assert cache.get(READER.key_id, "another secret's digest") is None, "another secret is looked up"
    clock.now = 5.0
    assert cache.get(READER.key_id, "digest") is None


def test_a_revocation_is_not_undone_by_a_lookup_that_ends_after_it():
    clock = Clock()
    cache = KeyCache(5, clock)
    cache.remember(READER.key_id, "digest", READER)
    cache.revoked(READER.key_id)
    cache.remember(READER.key_id, "digest", READER)
    assert cache.get(READER.key_id, "digest") is False
    clock.now = 5.0
    assert cache.get(READER.key_id, "digest") is None, "after the mark the database answers"


def test_a_cache_of_no_time_keeps_nothing():
    cache = KeyCache(0)
    cache.remember(READER.key_id, "digest", READER)
    cache.revoked(READER.key_id)
    assert cache.get(READER.key_id, "digest") is None
