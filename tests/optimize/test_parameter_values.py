"""``set_value`` fills a CVXPY parameter as CVXPY's own setter does (the same stored value, the same checks that can
fail on the optimizer's values), without the setter's projection (``allocator.optimize.parameter_values``)."""

from __future__ import annotations

from typing import Any

import cvxpy as cp
import numpy as np
import pytest

from allocator.optimize.parameter_values import set_value


@pytest.mark.parametrize(("shape", "nonneg", "value"), [
    ((3,), False, np.array([0.1, -0.2, 0.3])),
    ((3,), True, np.array([0.0, 2.0, 1e-3])),
    ((3,), True, np.array([-1e-11, 2.0, 0.0])),  # within CVXPY's tolerance
    ((2, 2), False, np.array([[1.0, 2.0], [3.0, 4.0]])),
    ((3,), False, np.array([1, 2, 3])),  # integers become float64
    ((), False, 0.25),
    ((), True, np.float64(0.5)),
    ((), False, np.array(0.75)),
])
def test_stores_what_the_setter_stores(shape: tuple[int, ...], nonneg: bool, value: Any) -> None:
    ours, theirs = cp.Parameter(shape, nonneg=nonneg), cp.Parameter(shape, nonneg=nonneg)
    set_value(ours, value)
    theirs.value = value
    assert type(ours.value) is type(theirs.value)
    assert np.asarray(ours.value).dtype == np.asarray(theirs.value).dtype
    assert np.array_equal(ours.value, theirs.value)
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        assert ours.value is value  # not copied, as the setter does not copy it


def test_a_problem_solved_with_either_gives_the_same_solution() -> None:
    x = cp.Variable(3)
    target, cap = cp.Parameter(3), cp.Parameter(nonneg=True)
    problem = cp.Problem(cp.Minimize(cp.sum_squares(x - target)), [cp.sum(x) <= cap])
    target.value, cap.value = np.array([1.0, 2.0, 3.0]), 2.5
    problem.solve(solver="CLARABEL")
    theirs = x.value.copy()
    set_value(target, np.array([0.0, 0.0, 0.0]))
    problem.solve(solver="CLARABEL")
    set_value(target, np.array([1.0, 2.0, 3.0]))
    set_value(cap, 2.5)
    problem.solve(solver="CLARABEL")
    assert np.array_equal(x.value, theirs)


@pytest.mark.parametrize(("shape", "nonneg", "value", "message"), [
    ((3,), False, np.zeros(4), r"parameter p: a value of shape \(4,\), expected \(3,\)"),
    ((), False, np.zeros(1), r"parameter p: a value of shape \(1,\), expected \(\)"),
    ((3,), False, np.array([0.0, np.nan, 1.0]), "parameter p: a value that is not finite"),
    ((), False, np.inf, "parameter p: a value that is not finite"),
    ((3,), True, np.array([0.0, -1e-6, 1.0]), r"parameter p: a negative value \(-1e-06\) where it must be non"),
])
def test_refuses_what_the_problem_cannot_take(shape: tuple[int, ...], nonneg: bool, value: Any, message: str) -> None:
    parameter = cp.Parameter(shape, nonneg=nonneg, name="p")
    with pytest.raises(ValueError, match=message):
        set_value(parameter, value)
    assert parameter.value is None
