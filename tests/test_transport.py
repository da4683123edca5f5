import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from infomech import kernels as K
from infomech import patterns as P
from infomech import transport
from infomech.decomposition import square_symmetric
from infomech.propagation import propagate
from infomech.transport import kernel_moments, law_error, predict


def test_shift_kernel_moves_one_pixel_right_without_spreading():
    mass, drift, cov = kernel_moments(K.shift_kernel(3))
    assert mass == pytest.approx(1.0)
    np.testing.assert_allclose(drift, [1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(cov, 0.0, atol=1e-15)


def test_known_moments_of_uniform_and_bar_kernels():
    _, drift, cov = kernel_moments(np.ones((3, 3)))
    np.testing.assert_allclose(drift, 0.0, atol=1e-15)
    np.testing.assert_allclose(cov, np.eye(2) * 2 / 3, atol=1e-15)
    bar = np.zeros((3, 3))
    bar[1] = 1
    _, _, cov = kernel_moments(bar)
    np.testing.assert_allclose(cov, [[2 / 3, 0], [0, 0]], atol=1e-15)
    diag = np.eye(3)  # weights at (-1,-1), (0,0), (1,1): x and y fully correlated
    _, _, cov = kernel_moments(diag)
    np.testing.assert_allclose(cov, np.full((2, 2), 2 / 3), atol=1e-15)


def test_vertical_gradient_direction_follows_convention():
    k = np.zeros((3, 3))
    k[0, 1] = 1  # weight on the top row: content moves down (+y)
    _, drift, _ = kernel_moments(k)
    np.testing.assert_allclose(drift, [0.0, 1.0], atol=1e-15)


def test_batched_numpy_torch_agree():
    ks = np.random.default_rng(0).random((7, 5, 5))
    m, d, c = kernel_moments(ks)
    mt, dt, ct = kernel_moments(torch.tensor(ks))
    assert isinstance(dt, torch.Tensor)
    np.testing.assert_allclose(dt.numpy(), d, atol=1e-14)
    np.testing.assert_allclose(ct.numpy(), c, atol=1e-14)
    for i in range(7):
        _, di, ci = kernel_moments(ks[i])
        np.testing.assert_allclose(di, d[i])
        np.testing.assert_allclose(ci, c[i])


def test_zero_sum_kernel_raises():
    with pytest.raises(ValueError, match="sums to zero"):
        kernel_moments(np.array([[1.0, 0, -1]] * 3))


@settings(max_examples=30, deadline=None)
@given(k=arrays(np.float64, (3, 3), elements=st.floats(0, 3)))
def test_square_symmetric_nonnegative_kernels_diffuse_isotropically_without_drift(k):
    s = square_symmetric(k)
    if s.sum() < 1e-6:
        return
    _, drift, cov = kernel_moments(s)
    np.testing.assert_allclose(drift, 0.0, atol=1e-12)
    assert cov[0, 1] == pytest.approx(0.0, abs=1e-12)
    assert cov[0, 0] == pytest.approx(cov[1, 1], abs=1e-12)


@pytest.mark.parametrize("activation", ["none", "relu", "abs"])
def test_law_matches_propagation_for_nonnegative_kernels(activation):
    rng = np.random.default_rng(1)
    ks = rng.random((12, 5, 5))
    x = np.pad(P.natural_image(24), 30)
    tr = propagate(x, ks, 12, activation=activation, rescale=True)
    ce, se = law_error(tr, ks)
    assert ce.max() < 1e-10 and se.max() < 1e-9


def test_law_fails_for_signed_kernels_with_relu():
    ks = K.dct_beta(np.array([0.6, 0.9]))  # both have a negative column
    tr = propagate(P.delta(41), ks, 8, activation="relu", rescale=True)
    ce, _ = law_error(tr, ks)
    assert (ks.min(axis=(1, 2)) < 0).all()
    assert ce.min() > 0.5


def test_signed_law_holds_for_signed_moments_without_activation():
    rng = np.random.default_rng(2)
    ks = rng.random((5, 3, 3)) - 0.25  # signed, but with a large positive sum
    x = np.pad(P.natural_image(16), 12)
    tr = propagate(x, ks, 6, activation="none", weights="signed")
    ce, se = law_error(tr, ks)
    assert ce.max() < 1e-8 and se.max() < 1e-7
    # the |x|-weighted centre does not follow it
    tr_abs = propagate(x, ks, 6, activation="none", weights="abs")
    assert law_error(tr_abs, ks)[0].max() > 1e-3


def test_predict_shapes_and_values():
    c, s = predict(np.zeros(2), np.eye(2), K.shift_kernel(3), 4)
    assert c.shape == (5, 1, 2) and s.shape == (5, 1, 2, 2)
    np.testing.assert_allclose(c[:, 0, 0], np.arange(5))
    np.testing.assert_allclose(s[:, 0], np.broadcast_to(np.eye(2), (5, 2, 2)))


def test_directional_cumulants_of_the_box_and_plus_kernels():
    from infomech.transport import directional_cumulants

    th = np.array([0.0, np.pi / 4])
    var, k4 = directional_cumulants(np.ones((3, 3)), th)
    # box step: X uniform on {-1, 0, 1} along an axis (var 2/3, kappa4 = 2/3 - 3 (2/3)^2 = -2/3);
    # along a diagonal the sum of two such steps over sqrt 2 (var 2/3, kappa4 = -1/3)
    np.testing.assert_allclose(var, [2 / 3, 2 / 3], atol=1e-12)
    np.testing.assert_allclose(k4, [-2 / 3, -1 / 3], atol=1e-12)
    plus = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], float)
    var, k4 = directional_cumulants(plus, th)
    np.testing.assert_allclose(var, [0.4, 0.4], atol=1e-12)
    np.testing.assert_allclose(k4, [0.4 - 3 * 0.16, 0.2 - 3 * 0.16], atol=1e-12)
    with pytest.raises(ValueError):
        directional_cumulants(np.zeros((3, 3)), th)


def test_first_moment_is_the_unnormalised_drift_and_works_on_torch():
    k = np.array([[0, 1, 0], [0, 1, 1], [0, 0, 0]], float)  # offsets x right, y down
    np.testing.assert_array_equal(transport.first_moment(k), [1.0, -1.0])
    mass, drift, _ = transport.kernel_moments(k)
    np.testing.assert_allclose(transport.first_moment(k), -drift * mass)
    ks = np.random.default_rng(0).normal(size=(4, 5, 5))
    got = transport.first_moment(torch.as_tensor(ks))
    assert isinstance(got, torch.Tensor) and got.shape == (4, 2)
    np.testing.assert_allclose(got.numpy(), transport.first_moment(ks), atol=1e-14)
    with pytest.raises(TypeError, match="complex"):
        transport.first_moment(k * 1j)
