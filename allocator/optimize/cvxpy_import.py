"""Import CVXPY without importing ``scipy.stats``: about 0.45 s off the start of ``allocate run``.

CVXPY (1.9) imports ``scipy.stats`` when it is imported, only to name ``entropy`` in one atom
(``quantum_rel_entr``), and importing scipy.stats costs about 0.45 s of CPU, a quarter of ``allocate run`` on a
small account. ``import_cvxpy`` puts a stand-in module in place of scipy.stats while CVXPY imports. The stand-in
hands out a forwarding ``entropy`` that imports the real function when first called; asked for any other name it
loads the real scipy.stats and answers from it, so a CVXPY that needs more of scipy.stats at import time only
loses the saving. The stand-in is removed as soon as CVXPY is imported, so any later import of scipy.stats gets
the real module. Nothing is done when CVXPY or scipy.stats is already imported.

The CLI uses this; library callers import CVXPY as usual (it happens once per process).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

_NAME = "scipy.stats"


def _entropy(*args: Any, **kwargs: Any) -> Any:
    """``scipy.stats.entropy``, imported on first use."""
    from scipy.stats import entropy

    return entropy(*args, **kwargs)


class DeferredStats(types.ModuleType):
    """Stands in for scipy.stats while CVXPY imports (``import_cvxpy`` puts it in ``sys.modules``).

    ``entropy`` is a forwarder that imports the real function when called; any other public name replaces the
    stand-in with the real scipy.stats and is answered from it."""

    def __getattr__(self, name: str) -> Any:
        if name == "entropy":
            return _entropy
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_real_stats(), name)


def _real_stats() -> types.ModuleType:
    if isinstance(sys.modules.get(_NAME), DeferredStats):
        del sys.modules[_NAME]
    return importlib.import_module(_NAME)


def import_cvxpy() -> types.ModuleType:
    """``import cvxpy``, deferring scipy.stats until something uses it."""
    if "cvxpy" in sys.modules or _NAME in sys.modules:
        return importlib.import_module("cvxpy")
    import scipy

    stand_in = DeferredStats(_NAME)
    sys.modules[_NAME] = stand_in
    try:
        return importlib.import_module("cvxpy")
    finally:
        if sys.modules.get(_NAME) is stand_in:
            del sys.modules[_NAME]
        if scipy.__dict__.get("stats") is stand_in:
            del scipy.stats
