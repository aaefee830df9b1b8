"""Values computed from a few objects, kept by the objects' identity: what ``allocate batch`` computes once per
model and worker process rather than once per account.

Every account of a batch mapped onto one model shares the model's objects (its loaded config, return model, signal
scores, universe), so a value computed from them alone is the same for each account. ``IdentityCache`` keeps such
values for the last ``KEPT`` sets of objects it was asked about, and the objects with them, so that an identity is
never reused by another object while its value is kept. ``allocate run`` computes each value once, as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

KEPT = 16  # sets of objects kept per cache: a batch has a few models, each with a few account configs

T = TypeVar("T")


class IdentityCache:
    """Values computed from a few objects, kept by the objects' identity (and the objects with them)."""

    def __init__(self) -> None:
        self.found: OrderedDict[tuple[int, ...], tuple[tuple[Any, ...], Any]] = OrderedDict()

    def get(self, objects: tuple[Any, ...]) -> Any | None:
        entry = self.found.get(tuple(id(o) for o in objects))
        return entry[1] if entry is not None and all(a is b for a, b in zip(entry[0], objects, strict=True)) \
            else None

    def put(self, objects: tuple[Any, ...], value: T) -> T:
        self.found[tuple(id(o) for o in objects)] = (objects, value)
        while len(self.found) > KEPT:
            self.found.popitem(last=False)
        return value

    def value(self, objects: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """The value kept for ``objects``, else ``compute()``, kept for them."""
        found: T | None = self.get(objects)
        return found if found is not None else self.put(objects, compute())
