"""Tests of infomech.numbers.grid: the one grid of the library, the claims and the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from infomech.numbers import MAX_GRID, grid


def test_grid_holds_exact_decimals_and_both_ends():
    g = grid(0, 1, 0.05)
    assert g.size == 21 and g[0] == 0.0 and g[-1] == 1.0
    np.testing.assert_array_equal(g, [round(i * 0.05, 2) for i in range(21)])
    np.testing.assert_array_equal(grid(0, 1, 0.25), [0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(grid(0, 180, 5), np.arange(0, 181, 5, dtype=float))
    assert grid(0.5, 0.5, 0.1).tolist() == [0.5]
    assert grid(0, 1, 0.3).tolist() == [0.0, 0.3, 0.6, 0.9]  # stop off the grid: not included
    g = grid(-1.8, 0, 0.03)  # -1.8 + 60 * 0.03 = -2.2e-16: ends at 0.0, not -0.0
    assert g.size == 61 and g[-1] == 0.0 and not np.signbit(g[-1])


@pytest.mark.parametrize(("args", "match"), [
    ((0, 1, 0), "must be > 0"), ((0, 1, -0.1), "must be > 0"), ((1, 0, 0.1), "stop < start"),
    ((0, float("nan"), 0.1), "finite"), ((0, 1, 1e-9), f"at most {MAX_GRID}"),
])
def test_grid_refuses_bad_bounds(args, match):
    with pytest.raises(ValueError, match=match):
        grid(*args)
