"""Filling a compiled problem's CVXPY parameters before a re-solve: checked here, stored without CVXPY's setter.

CVXPY's ``Parameter.value = x`` converts ``x``, projects it onto the parameter's domain and measures the distance
between the two, some 30 microseconds a parameter whatever its size; a re-solve refills about twenty parameters, so
that was 0.7 ms of each account of ``allocate batch``. ``set_value`` checks what can go wrong with the values the
optimizer computes (the shape, a value that is not finite, a negative value of a ``nonneg`` parameter, with CVXPY's
tolerance) and stores the value as the setter does, through ``save_value``, the setter's own last step: an array
as float64 (not copied when it is float64 already), a scalar as given. Every parameter of the package is filled
through it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NONNEG_TOLERANCE = 1e-10  # CVXPY's GENERAL_PROJECTION_TOL: a nonneg parameter's setter takes values down to -1e-10


def set_value(parameter: Any, value: Any) -> None:
    """Give the CVXPY ``parameter`` the ``value`` (a number, or an array of its shape); ``ValueError`` for a value
    of another shape, one that is not finite, or a negative one where the parameter is ``nonneg``."""
    array = np.asarray(value, dtype=np.float64)
    name = parameter.name()
    if array.shape != parameter.shape:
        raise ValueError(f"parameter {name}: a value of shape {array.shape}, expected {parameter.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"parameter {name}: a value that is not finite")
    if parameter.attributes["nonneg"] and array.min(initial=0.0) < -NONNEG_TOLERANCE:
        raise ValueError(f"parameter {name}: a negative value ({array.min():.3g}) where it must be non-negative")
    parameter.save_value(array if isinstance(value, (list, np.ndarray)) else value)
