import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from infomech import kernels as K
from infomech import observables as O
from infomech import patterns as P
from infomech.propagation import propagate


def kernel_moments(k):
    """Drift (x, y) and covariance of the transport a non-negative kernel performs (correlation)."""
    n = k.shape[-1]
    r = n // 2
    d = np.arange(n) - r
    w = k / k.sum()
    # content at p goes to p - d: displacement -d with probability w(d)
    dx = -(w.sum(0) * d).sum()
    dy = -(w.sum(1) * d).sum()
    vxx = (w.sum(0) * d * d).sum() - dx**2
    vyy = (w.sum(1) * d * d).sum() - dy**2
    vxy = (w * np.outer(d, d)).sum() - dx * dy
    return np.array([dx, dy]), np.array([[vxx, vxy], [vxy, vyy]])


nonneg = st.floats(0, 5, allow_nan=False, allow_infinity=False)


@given(
    k=st.sampled_from([3, 5]).flatmap(lambda n: arrays(np.float64, (n, n), elements=nonneg)),
    patch=arrays(np.float64, (7, 7), elements=nonneg),
    steps=st.integers(1, 6),
    rescale=st.booleans(),
)
def test_exact_drift_and_diffusion_without_activation(k, patch, steps, rescale):
    if k.sum() < 1e-3 or patch.sum() < 1e-3:
        return
    x = np.zeros((41, 41))
    x[17:24, 17:24] = patch
    tr = propagate(x, k, steps, activation="none", rescale=rescale)
    drift, cov = kernel_moments(k)
    t = np.arange(steps + 1)
    np.testing.assert_allclose(tr.centre[:, 0], tr.centre[0, 0] + t[:, None] * drift, atol=1e-10)
    np.testing.assert_allclose(tr.covariance[:, 0], tr.covariance[0, 0] + t[:, None, None] * cov,
                               atol=1e-10)


def test_exact_law_fails_with_negative_weights_and_relu():
    # guard against a tautological test: the law is not an identity of the code
    k = K.dct_beta(0.8)
    tr = propagate(P.delta(41), k, 5, activation="relu")
    drift, _ = kernel_moments(np.abs(k))
    assert not np.allclose(tr.centre[-1, 0, 0], 5 * drift[0], atol=1e-3)


@pytest.mark.parametrize("steps", [1, 3, 10])
def test_pure_gradient_with_relu_moves_delta_one_pixel_per_step(steps):
    tr = propagate(P.delta(61), K.dct_beta(1.0), steps, activation="relu", rescale=True)
    np.testing.assert_allclose(tr.centre[:, 0, 0], np.arange(steps + 1), atol=1e-12)
    np.testing.assert_allclose(tr.centre[:, 0, 1], 0, atol=1e-12)
    assert tr.speed()[0] == pytest.approx(1.0)
    assert tr.speed("row")[0] == pytest.approx(1.0)
    # all the mass sits in the column x = t
    col = tr.final[0].sum(0)
    assert col[30 + steps] == pytest.approx(col.sum())


@pytest.mark.parametrize("activation", ["relu", "none", "abs"])
def test_light_cone_is_exact(activation):
    ks = np.stack([K.dct_beta(0.4), K.steered_gradient(0.7), K.random_kernels(1, 3, seed=3)[0]])
    x = P.disc(61, 5)
    a = propagate(x, ks, 8, activation=activation, rescale=True)
    b = propagate(x, ks, 8, activation=activation, rescale=True, light_cone=False)
    assert a.window != b.window
    np.testing.assert_allclose(a.final, b.final, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.centre, b.centre, atol=1e-10)


def test_batched_equals_one_by_one_and_chunks():
    ks = K.random_kernels(6, 3, seed=1)
    x = P.gaussian_blob(31, 3)
    batch = propagate(x, ks, 5, activation="abs", rescale=True)
    chunked = propagate(x, ks, 5, activation="abs", rescale=True, batch_size=4)
    np.testing.assert_allclose(batch.centre, chunked.centre, atol=1e-12)
    for i in range(6):
        one = propagate(x, ks[i], 5, activation="abs", rescale=True)
        np.testing.assert_allclose(one.centre[:, 0], batch.centre[:, i], atol=1e-12)
        np.testing.assert_allclose(one.final[0], batch.final[i], rtol=1e-12, atol=1e-12)


def test_matches_scipy_correlate():
    from scipy.ndimage import correlate

    k = K.random_kernels(1, 5, seed=7)[0]
    x = P.noise(25, seed=2)
    tr = propagate(x, k, 3, activation="relu", light_cone=False)
    y = x
    for _ in range(3):
        y = np.maximum(correlate(y, k, mode="constant"), 0)
    np.testing.assert_allclose(tr.final[0], y, atol=1e-12)


def test_float32_and_frames_and_schedule():
    x = P.delta(41)
    tr64 = propagate(x, K.bipolar(K.dct_beta(0.5)), 6, frames=[0, 3, 6])
    tr32 = propagate(x, K.bipolar(K.dct_beta(0.5)), 6, frames=[0, 3, 6], dtype=torch.float32)
    np.testing.assert_allclose(tr32.centre, tr64.centre, atol=1e-4)
    assert sorted(tr64.frames) == [0, 3, 6] and tr64.frames[3].shape == (1, 41, 41)
    np.testing.assert_allclose(tr64.frames[6], tr64.final)
    # bipolar: the centre oscillates; after an even number of steps it is nearly back
    assert abs(tr64.centre[1, 0, 0]) > 0.3
    assert abs(tr64.centre[-1, 0, 0]) < 0.15 * abs(tr64.centre[1, 0, 0])


def test_callable_activation_not_zero_preserving_disables_light_cone():
    tr = propagate(P.delta(21), K.dct_beta(0.2), 2, activation=torch.sigmoid)
    assert tr.window == (0, 21, 0, 21)


def test_per_kernel_inputs():
    xs = np.stack([P.delta(21), P.disc(21, 3)])
    tr = propagate(xs, np.stack([K.dct_beta(0.0)] * 2), 1)
    assert tr.mass.shape == (2, 2)


@pytest.mark.parametrize("kwargs,err,match", [
    (dict(x=np.zeros((21, 21))), ValueError, "zero mass"),
    (dict(x=np.full((5, 5), np.nan)), ValueError, "NaN"),
    (dict(x=np.ones(5)), ValueError, "shape"),
    (dict(kernels=np.ones((2, 2))), ValueError, "odd size"),
    (dict(kernels=np.ones((3, 4))), ValueError, "square"),
    (dict(kernels=np.full((3, 3), np.inf)), ValueError, "NaN or Inf"),
    (dict(kernels=np.ones((0, 3, 3))), ValueError, "no kernels"),
    (dict(steps=-1), ValueError, "steps"),
    (dict(steps=1.5), TypeError, "integer"),
    (dict(activation="softplus"), ValueError, "unknown activation"),
    (dict(frames=[99]), ValueError, "frames"),
    (dict(x=np.ones((3, 9, 9))), ValueError, "3 images"),
])
def test_bad_inputs(kwargs, err, match):
    args = dict(x=P.delta(9), kernels=K.dct_beta(0.5), steps=2)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        propagate(args.pop("x"), args.pop("kernels"), args.pop("steps"), **args)


def test_observables_functions():
    x = P.gaussian_blob(41, 4, centre=(3.0, -2.0))
    np.testing.assert_allclose(O.centre_of_mass(x), [3.0, -2.0], atol=1e-3)
    cov = O.covariance(x)
    np.testing.assert_allclose(cov, 16 * np.eye(2), rtol=1e-3, atol=1e-6)
    assert O.isotropy(cov) == pytest.approx(1.0, abs=1e-3)
    assert O.spread2(cov) == pytest.approx(16, rel=1e-3)
    line = P.line(41, angle=0.0, length=30)
    assert O.isotropy(O.covariance(line)) < 0.01
    with pytest.raises(ValueError, match="zero mass"):
        O.centre_of_mass(np.zeros((5, 5)))
    with pytest.raises(ValueError, match="negative"):
        O.centre_of_mass(-P.delta(5), weights="signed")
    traj = np.array([[0.0, 0], [1, 0], [2, 0], [4, 0]])
    assert O.speed(traj) == pytest.approx(4 / 3)
    assert O.steady_state_speed(np.array([0, 1, 2, 4.0])) == pytest.approx(2.0)


def test_steady_state_speed_samples_once_per_schedule_cycle():
    # the alternating 2x2 placement zig-zags; fitted per cycle its steady speed is exactly c = 0.5
    sched, c = K.family("dct", [1.0], 2)
    tr = propagate(P.delta(61), sched, 10, rescale=True)
    assert tr.period == 2
    assert tr.steady_state_speed()[0] == pytest.approx(c, abs=1e-12)
    assert abs(O.steady_state_speed(tr.distance(), 1)[0] - c) > 0.01  # a per-step fit is biased
