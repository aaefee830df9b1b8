"""``IdentityCache`` (``allocator.identity_cache``): a value kept per set of objects, by identity, for the last
``KEPT`` sets; the objects are held with it, so an identity is never reused while its value is kept."""

from __future__ import annotations

from allocator.identity_cache import KEPT, IdentityCache


class Thing:
    """An object equal to every other (identity must decide, not equality)."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


def test_a_value_is_computed_once_per_set_of_objects() -> None:
    cache, calls = IdentityCache(), []
    a, b = Thing(), Thing()

    def compute(name: str) -> str:
        calls.append(name)
        return name

    assert cache.value((a, b), lambda: compute("ab")) == "ab"
    assert cache.value((a, b), lambda: compute("again")) == "ab"
    assert cache.value((b, a), lambda: compute("ba")) == "ba"
    assert cache.value((Thing(), b), lambda: compute("other")) == "other"
    assert calls == ["ab", "ba", "other"]


def test_the_oldest_sets_are_dropped_beyond_kept() -> None:
    cache = IdentityCache()
    things = [Thing() for _ in range(KEPT + 1)]
    for i, thing in enumerate(things):
        cache.put((thing,), i)
    assert cache.get((things[0],)) is None
    assert cache.get((things[1],)) == 1
    assert cache.get((things[-1],)) == KEPT
