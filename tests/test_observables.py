"""Power sums and the moments that follow from them (the engine's observables)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from infomech import observables as O
from infomech import patterns as P


def _coords(h, w):
    return O.coordinates(h, w)


@pytest.mark.parametrize("shape", [(3, 17, 23), (2, 9, 9)])
def test_moments_from_power_sums_equal_moments(shape):
    w = torch.rand(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    xs, ys = _coords(*shape[-2:])
    m, c, s = O.moments(w, xs, ys)
    m2, c2, s2 = O.moments_from_sums(O.power_sums(w, xs, ys))
    torch.testing.assert_close(m2, m, rtol=1e-13, atol=0)
    torch.testing.assert_close(c2, c, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(s2, s, rtol=1e-11, atol=1e-11)


def test_power_sums_know_the_origin():
    # a blob at (3, -2) from the centre: S10/S00 = 3, S01/S00 = -2 (negative control: shifted)
    x = torch.as_tensor(P.gaussian_blob(41, 3.0, centre=(3.0, -2.0)))
    xs, ys = _coords(41, 41)
    _, c, _ = O.moments_from_sums(O.power_sums(x, xs, ys))
    np.testing.assert_allclose(c.numpy(), [3.0, -2.0], atol=1e-6)
    _, c_wrong, _ = O.moments_from_sums(O.power_sums(x, xs + 1, ys))
    assert abs(float(c_wrong[0]) - 3.0) > 0.5


@pytest.mark.parametrize("seed", range(20))
def test_separable_power_sums_are_products(seed):
    # The two sum the same n = 13 * 19 terms in different orders: each result is within
    # n * eps * sum|term| of the exact sum (S_ij with odd i or j cancel, so no relative tolerance).
    g = torch.Generator().manual_seed(seed)
    wy = torch.rand(4, 13, dtype=torch.float64, generator=g)
    wx = torch.rand(4, 19, dtype=torch.float64, generator=g)
    xs, ys = _coords(13, 19)
    w = wy[:, :, None] * wx[:, None, :]
    full = O.power_sums(w, xs, ys)
    bound = 2 * w[0].numel() * torch.finfo(torch.float64).eps * O.power_sums(w, xs.abs(), ys.abs())
    assert bool(((O.power_sums_separable(wy, wx, xs, ys) - full).abs() <= bound).all())
    wrong = O.power_sums_separable(wy, wx, xs + 1e-9, ys)  # negative control: a shifted axis
    assert not bool(((wrong - full).abs() <= bound).all())


def test_zero_mass_gives_nan_in_numpy_and_torch():
    s = np.zeros((2, 3, 3))
    s[1, 0, 0], s[1, 1, 0] = 2.0, 4.0
    m, c, cov = O.moments_from_sums(s)
    assert np.isnan(c[0]).all() and np.isnan(cov[0]).all()
    np.testing.assert_allclose(c[1], [2.0, 0.0])
    mt, ct, _ = O.moments_from_sums(torch.as_tensor(s))
    assert torch.isnan(ct[0]).all() and float(ct[1, 0]) == 2.0


def test_steady_state_slope_is_least_squares_and_its_weights_are_read_only():
    d = np.array([0.0, 0.3, 1.1, 2.9, 4.2, 4.8, 6.1, 7.4, 7.9])  # T = 8: fit over t = 4..8
    t = np.arange(4, 9)
    assert O.steady_state_speed(d) == pytest.approx(np.polyfit(t, d[t], 1)[0], rel=1e-12)
    assert O.steady_state_speed(d, 2) == pytest.approx(np.polyfit(t[::2], d[t[::2]], 1)[0], rel=1e-12)
    ts, w = O._slope_weights(8, 1)  # memoised per (T, period): shared by every run of that length
    assert not ts.flags.writeable and not w.flags.writeable
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns when handed a read-only array to share
        v = O.steady_state_speed(torch.as_tensor(d), 2)
    assert float(v) == pytest.approx(O.steady_state_speed(d, 2), rel=1e-12)
