"""The bounded cache helper."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchlib._cache import BoundedCache


@given(
    st.lists(st.integers(0, 20), max_size=200), st.integers(1, 8), st.sampled_from(["lru", "clear"])
)
def test_never_holds_more_than_maxsize_and_answers_what_was_put(
    keys: list[int], maxsize: int, evict: str
) -> None:
    cache: BoundedCache[int, str] = BoundedCache(maxsize, evict=evict)  # type: ignore[arg-type]
    for k in keys:
        assert cache.get_or_compute(k, str) == str(k)
        assert len(cache) <= maxsize
        assert cache.get(k) == str(k)  # the entry just used is always kept


def test_lru_drops_the_least_recently_used() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert "b" not in cache and "a" in cache and "c" in cache


def test_clear_policy_starts_over_when_full() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2, evict="clear")
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert len(cache) == 1 and cache.get("c") == 3


@pytest.mark.parametrize("bad", [{"maxsize": 0}, {"maxsize": 3, "evict": "fifo"}])
def test_bad_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        BoundedCache(**bad)  # type: ignore[arg-type]


def test_threads_share_it_safely() -> None:
    cache: BoundedCache[int, int] = BoundedCache(50)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(5000):
                k = (i * 7 + offset) % 200
                if cache.get_or_compute(k, lambda x: x * 2) != k * 2:
                    raise AssertionError(k)
        except BaseException as e:  # noqa: BLE001 (collected for the main thread)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) <= 50


@given(
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 9)), max_size=150),
    st.integers(1, 20),
    st.sampled_from(["lru", "clear"]),
)
def test_with_a_cost_the_total_cost_is_bounded(
    puts: list[tuple[int, int]], maxsize: int, evict: str
) -> None:
    cache: BoundedCache[int, str] = BoundedCache(maxsize, evict=evict, cost=len)  # type: ignore[arg-type]
    for key, size in puts:
        cache.put(key, "x" * size)
        assert cache.get(key) == "x" * size  # the entry just put is always kept
        held = [cache.get(k) for k in range(13) if k in cache]
        assert cache.total_cost == sum(len(v) for v in held if v is not None)
        assert cache.total_cost <= max(maxsize, size)


def test_with_a_cost_lru_drops_the_oldest_until_it_fits() -> None:
    cache: BoundedCache[str, str] = BoundedCache(10, cost=len)
    cache.put("a", "aaaa")
    cache.put("b", "bbbb")
    cache.put("c", "cc")
    assert cache.total_cost == 10 and len(cache) == 3
    cache.put("d", "ddd")  # 13 > 10: "a" goes (the oldest), 9 left
    assert "a" not in cache and cache.total_cost == 9
    cache.put("e", "e" * 25)  # alone above the bound: kept, all others go
    assert len(cache) == 1 and cache.total_cost == 25


def test_prune_forgets_the_refused_keys() -> None:
    cache: BoundedCache[tuple[str, int], str] = BoundedCache(100, cost=len)
    for seg in ("s1", "s2"):
        for i in range(3):
            cache.put((seg, i), "x" * (i + 1))
    cache.prune(lambda key: key[0] == "s2")
    assert sorted(k for k in [("s1", 0), ("s2", 0), ("s2", 2)] if k in cache) == [
        ("s2", 0),
        ("s2", 2),
    ]
    assert len(cache) == 3 and cache.total_cost == 6
