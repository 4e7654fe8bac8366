"""TtlCache: entries live at most their lifetime, and the cache holds at most its bound."""

from __future__ import annotations

from voicefn.ttlcache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_expires_after_its_lifetime() -> None:
    clock = Clock()
    cache: TtlCache[str] = TtlCache(max_entries=4, ttl_s=10, clock=clock)
    cache.put("k", "v")
    clock.now += 9.9
    assert cache.get("k") == "v"
    clock.now += 0.1
    assert cache.get("k") is None and len(cache) == 0


def test_a_shorter_lifetime_wins_and_none_is_never_longer_than_the_cache() -> None:
    clock = Clock()
    cache: TtlCache[str] = TtlCache(max_entries=4, ttl_s=10, clock=clock)
    cache.put("short", "v", ttl_s=2)
    cache.put("long", "v", ttl_s=3600)
    cache.put("gone", "v", ttl_s=0)
    clock.now += 2
    assert cache.get("short") is None and cache.get("gone") is None
    assert cache.get("long") == "v"
    clock.now += 8
    assert cache.get("long") is None


def test_bounded_least_recently_used_goes_first() -> None:
    cache: TtlCache[int] = TtlCache(max_entries=3, ttl_s=60)
    for i in range(3):
        cache.put(i, i)
    assert cache.get(0) == 0  # 0 is now the most recently used
    cache.put(3, 3)
    assert len(cache) == 3 and cache.get(1) is None
    assert [cache.get(k) for k in (0, 2, 3)] == [0, 2, 3]
    for i in range(100):
        cache.put(("many", i), i)
    assert len(cache) == 3
