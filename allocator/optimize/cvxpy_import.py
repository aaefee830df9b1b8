"""Import CVXPY without importing ``scipy.stats`` and ``scipy.optimize``: about 0.6 s off the start of
``allocate run``.

CVXPY (1.9) imports two SciPy subpackages when it is imported without using them then:

- ``scipy.stats``, only to name ``entropy`` in one atom (``quantum_rel_entr``): about 0.45 s of CPU;
- ``scipy.optimize``, only to see whether its ``SCIPY`` solver is installed (``installed_solvers()`` runs each
  solver's ``import_solver`` when ``cvxpy.reductions.solvers.defines`` is imported): about 0.19 s.

``import_cvxpy`` puts a stand-in module in place of each while CVXPY imports. A stand-in hands out the names it
knows (for scipy.stats a forwarding ``entropy`` that imports the real function when first called); asked for any
other name it loads the real module and answers from it, so a CVXPY that needs more of them at import time only
loses the saving. The stand-ins are removed as soon as CVXPY is imported, so any later import (CVXPY's own
``SCIPY`` solver at its solve, a backtest's statistics) gets the real module. Nothing is done when CVXPY or one of
the modules is already imported.

The CLI uses this; library callers import CVXPY as usual (it happens once per process).
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import Any


def _entropy(*args: Any, **kwargs: Any) -> Any:
    """``scipy.stats.entropy``, imported on first use."""
    from scipy.stats import entropy

    return entropy(*args, **kwargs)


# the modules deferred, each with the names its stand-in hands out without loading it
_DEFERRED: dict[str, dict[str, Callable[..., Any]]] = {"scipy.stats": {"entropy": _entropy}, "scipy.optimize": {}}


class DeferredModule(types.ModuleType):
    """Stands in for a SciPy subpackage while CVXPY imports (``import_cvxpy`` puts it in ``sys.modules``).

    The names of ``_DEFERRED`` are answered without loading the module; any other public name replaces the
    stand-in with the real module and is answered from it."""

    def __getattr__(self, name: str) -> Any:
        known = _DEFERRED[self.__name__]
        if name in known:
            return known[name]
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_real(self.__name__), name)


def _real(module: str) -> types.ModuleType:
    if isinstance(sys.modules.get(module), DeferredModule):
        del sys.modules[module]
    return importlib.import_module(module)


def import_cvxpy() -> types.ModuleType:
    """``import cvxpy``, deferring scipy.stats and scipy.optimize until something uses them."""
    if "cvxpy" in sys.modules or any(module in sys.modules for module in _DEFERRED):
        return importlib.import_module("cvxpy")
    import scipy

    stand_ins = {module: DeferredModule(module) for module in _DEFERRED}
    sys.modules.update(stand_ins)
    try:
        return importlib.import_module("cvxpy")
    finally:
        for module, stand_in in stand_ins.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]
            attribute = module.rpartition(".")[2]
            if scipy.__dict__.get(attribute) is stand_in:
                del scipy.__dict__[attribute]
