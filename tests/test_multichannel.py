import numpy as np
import pytest
import torch
import torch.nn.functional as F

from infomech import kernels as K
from infomech import multichannel as M
from infomech import patterns as P


def test_first_layer_sees_the_summed_kernel():
    x0 = P.gaussian_blob(25, 2)
    w = M.random_weights(4, 2, 3, seed=5)
    states = M.run_stack(x0, w)
    assert len(states) == 3 and states[1].shape == (3, 4, 25, 25)
    x = torch.as_tensor(x0)[None, None]
    for s in range(3):
        summed = w[0, s].sum(1)[:, None]  # (C_out, 1, n, n)
        ref = torch.relu(F.conv2d(x, summed, padding=1))[0]
        torch.testing.assert_close(states[1][s], ref)


def test_odd_direction_of_steered_gradients():
    th = np.array([0.0, np.pi / 2, 2.0])
    d = M.odd_direction(K.steered_gradient(th))
    np.testing.assert_allclose(d / np.linalg.norm(d, axis=1, keepdims=True),
                               np.stack([np.cos(th), np.sin(th)], 1), atol=1e-12)
    np.testing.assert_allclose(M.odd_direction(K.dct_beta(0.0)), 0, atol=1e-12)


def test_channel_drifts_shapes_and_first_layer_direction():
    r = M.channel_drifts(P.gaussian_blob(41, 2), M.random_weights(6, 3, 8, seed=2))
    assert r.drift.shape == (3, 8, 6, 2) and r.alive.shape == (3, 8, 6)
    assert set(r.beta2) == {"summed", "mass", "bank"}
    # layer 1: every input channel is the same blob, so summed == mass and the direction is right
    np.testing.assert_allclose(r.beta2["summed"][0], r.beta2["mass"][0], atol=1e-12)
    s = M.drift_summary(r.drift[0], r.beta2["summed"][0], r.direction["summed"][0], r.dc["summed"][0],
                        r.alive[0])
    assert s["cos"] > 0.8
    assert 0 <= r.beta2["bank"].min() and r.beta2["bank"].max() <= 1


def test_single_channel_control_pure_gradient_moves_along_x():
    d, b, direc, dc = M.single_channel_control(P.gaussian_blob(31, 2), 50, seed=0)
    assert d.shape == (50, 2) and b.shape == (50,) and dc.shape == (50,)
    assert M.mean_cosine(d, direc) > 0.7


def test_correlation_helpers():
    a = np.arange(10.0)
    assert M.correlation(a, 2 * a + 1) == pytest.approx(1.0)
    assert M.mean_cosine(np.array([[1.0, 0], [0, 2]]), np.array([[3.0, 0], [0, -1]])) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        M.correlation([1.0, np.nan], [1.0, 2.0])


def test_stack_runs_on_one_thread_by_default_and_does_not_depend_on_it():
    import numpy as np
    import torch

    from infomech import multichannel as mc

    w = mc.random_weights(channels=3, layers=2, seeds=2, seed=1)
    x0 = np.zeros((15, 15))
    x0[7, 7] = 1.0
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        a = mc.run_stack(x0, w)
        assert torch.get_num_threads() == 2
        b = mc.run_stack(x0, w, threads=2)
        assert all(torch.equal(s, t) for s, t in zip(a, b, strict=True))
    finally:
        torch.set_num_threads(old)
