import numpy as np
import pytest
import torch
from scipy.signal import convolve2d

from infomech import erf
from infomech import kernels as K
from infomech.stats import loglog_slope


@pytest.mark.parametrize("depth", [1, 4, 9])
def test_uniform_linear_erf_is_the_random_walk(depth):
    st = erf.erf_stats(erf.erf_gradients(erf.stack_kernels("uniform", depth), "none"))
    _, s2 = erf.kernel_walk(np.ones((3, 3)))
    assert st.sigma**2 == pytest.approx(depth * s2, rel=1e-10)
    np.testing.assert_allclose(st.centre, 0, atol=1e-10)


def test_odd_kernel_erf_drifts_against_the_motion():
    k = K.dct_beta(0.3)  # non-negative for beta2 <= 0.4
    assert k.min() >= 0
    mean, s2 = erf.kernel_walk(k)
    assert mean[0] < 0  # the stack moves content to +x, so the centre output reads from -x
    for depth in (3, 8):
        st = erf.erf_stats(erf.erf_gradients(erf.stack_kernels("dct", depth, beta2=0.3), "none"))
        np.testing.assert_allclose(st.centre, depth * mean, atol=1e-10)
        assert st.sigma**2 == pytest.approx(depth * s2, rel=1e-10)


def test_linear_gradient_is_the_convolution_of_the_kernels():
    ks = erf.stack_kernels("random", 2, 1, seed=3)
    g = erf.erf_gradients(ks, "none")[0].numpy()
    k1, k2 = ks[0, 0].numpy(), ks[1, 0].numpy()
    np.testing.assert_allclose(g, convolve2d(k1, k2, mode="full"), atol=1e-12)
    assert not np.allclose(g, convolve2d(k1, k2[::-1, ::-1], mode="full"), atol=1e-3)


def test_relu_gradient_depends_on_input_and_dead_draws_are_dropped():
    ks = erf.stack_kernels("random", 6, 64, seed=1)
    a = erf.erf_gradients(ks, "relu", seed=1)
    b = erf.erf_gradients(ks, "relu", seed=2)
    assert not torch.allclose(a, b)
    st = erf.erf_stats(a)
    assert 0 < st.alive < 1
    with pytest.raises(ValueError, match="zero gradient"):
        erf.erf_map(torch.zeros(3, 5, 5))


def test_depth_sweep_slope_and_errors():
    r = erf.depth_sweep("uniform", [4, 16, 36])
    slope, _ = loglog_slope(r["depth"], r["sigma"])
    assert slope == pytest.approx(0.5, abs=1e-9)
    with pytest.raises(ValueError, match="unknown stack"):
        erf.stack_kernels("gabor", 3)
    with pytest.raises(ValueError, match="odd"):
        erf.stack_kernels("uniform", 3, n=4)
    with pytest.raises(ValueError, match="non-negative"):
        erf.kernel_walk(K.dct_beta(0.9))


def test_seed_sweep_gives_both_statistics_per_seed():
    r = erf.seed_sweep("uniform", [2, 4, 8], [0, 1])
    # a deterministic non-negative stack: |g| is the exact random walk, sigma^2 = 2L/3; g^2 squares
    # the walk's law, which narrows it
    assert np.all(r["sigma_g2"] < r["sigma_abs"])
    np.testing.assert_allclose(r["sigma_abs"] ** 2, 2 / 3 * r["depth"] * np.ones((2, 1)), atol=1e-9)
    np.testing.assert_allclose(r["slope_abs"], 0.5, atol=1e-9)
    assert r["alive"].min() == 1.0
    assert erf.draws_for("dct", "none", 64) == 1 and erf.draws_for("dct", "relu", 64) == 64


def test_gradients_run_on_one_thread_by_default_and_do_not_depend_on_it(monkeypatch):
    """The small batched operations run on one torch thread (they stall with more on a busy
    machine); the caller's setting is restored and the gradients are bit-identical with 2 threads."""
    import torch

    from infomech import erf

    k = erf.stack_kernels("random", 6, 16, seed=3)
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen = []
        real = erf._correlate_adjoint

        def spy(*args, **kwargs):
            seen.append(torch.get_num_threads())
            return real(*args, **kwargs)

        monkeypatch.setattr(erf, "_correlate_adjoint", spy)
        g1 = erf.erf_gradients(k, "relu", seed=4)
        g2 = erf.erf_gradients(k, "relu", seed=4, threads=2)
        assert seen == [1] * 6 + [2] * 6
        assert torch.get_num_threads() == 2  # restored
        assert torch.equal(g1, g2)
    finally:
        torch.set_num_threads(old)


@pytest.mark.parametrize("scatter_bytes", [0, 1 << 40])
@pytest.mark.parametrize("kind", ["random", "dct"])
@pytest.mark.parametrize("depth, draws", [(1, 1), (3, 5), (12, 64)])
def test_direct_backward_is_autograd_bit_for_bit(kind, depth, draws, scatter_bytes, monkeypatch):
    """The linear (no forward pass) and ReLU (sign-only forward, dead draws skipped) paths give
    exactly the gradients of autograd through grouped conv2d (the callable-activation path), with
    the adjoint scattered tap by tap or left to aten.convolution_backward."""
    monkeypatch.setattr(erf, "SCATTER_BYTES", scatter_bytes)
    ks = erf.stack_kernels(kind, depth, draws, seed=depth)
    size = 2 * depth + 1
    x = torch.randn((draws, size, size), generator=torch.Generator().manual_seed(draws), dtype=ks.dtype)
    assert torch.equal(erf.erf_gradients(ks, "none"), erf.erf_gradients(ks, lambda t: t, x=x))
    a, b = erf.erf_gradients(ks, "relu", x=x), erf.erf_gradients(ks, torch.relu, x=x)
    assert torch.equal(a, b) and torch.equal(a.abs(), b.abs())
    with pytest.raises(ValueError, match="x must have shape"):
        erf.erf_gradients(ks, "none", x=x[:, 1:])


def test_float32_gradients_are_autograd_bit_for_bit_and_dtypes_must_match():
    """float32 sums in autograd's own order (its kernels are not the float64 col2im): the direct
    paths then defer to it, so they stay bit-identical."""
    ks = erf.stack_kernels("random", 12, 64, seed=2, dtype=torch.float32)
    x = torch.randn((64, 25, 25), generator=torch.Generator().manual_seed(3), dtype=torch.float32)
    assert torch.equal(erf.erf_gradients(ks, "none"), erf.erf_gradients(ks, lambda t: t, x=x))
    assert torch.equal(erf.erf_gradients(ks, "relu", x=x), erf.erf_gradients(ks, torch.relu, x=x))
    with pytest.raises(ValueError, match="dtype"):
        erf.erf_gradients(ks, "relu", x=x.double())
