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
