import numpy as np
import pytest

from infomech import displacement as D
from infomech import kernels as K
from infomech import patterns as P
from infomech import speedlaw as S
from infomech.propagation import propagate
from infomech.stats import slope


def test_wrap_and_direction_error():
    np.testing.assert_allclose(D.wrap_degrees([190, -190, 360, 0]), [-170, 170, 0, 0])
    d = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    np.testing.assert_allclose(D.direction_error(d, [0, np.pi / 2, np.pi]), 0, atol=1e-12)
    np.testing.assert_allclose(D.direction_error(np.array([1.0, 1.0]), 0.0), 45)


def test_steered_dct_beta_unit_norm_and_exact_direction_when_nonnegative():
    th = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    k = K.dct_beta(0.2, theta=th)
    np.testing.assert_allclose((k**2).sum((-2, -1)), 1, atol=1e-12)
    assert S.nonnegative(k).all()
    tr = propagate(P.delta(41), k, 8)
    err = D.direction_error(tr.displacement()[-1], th)
    assert np.abs(err).max() < 1e-9
    # the pure odd steered gradient under ReLU is not exact between the axes and diagonals
    tr1 = propagate(P.delta(41), K.dct_beta(1.0, theta=th), 8)
    err1 = D.direction_error(tr1.displacement()[-1], th)
    assert np.abs(err1).max() > 0.5
    np.testing.assert_allclose(err1[::2], 0, atol=1e-9)  # multiples of 45 degrees: symmetric


def test_oscillation_measures():
    t = np.arange(11)
    back_forth = np.stack([np.where(t % 2, 1.0, 0.0), np.zeros(11)], -1)[:, None]
    steady = np.stack([0.5 * t, np.zeros(11)], -1)[:, None]
    o = D.oscillation(np.concatenate([back_forth, steady], 1))
    np.testing.assert_allclose(o["step"], [1, 0.5])
    np.testing.assert_allclose(o["net"], [0.0, 0.5], atol=1e-15)  # back at the start after 10 steps
    np.testing.assert_allclose(o["ratio"][1], 1)
    still = D.oscillation(np.zeros((5, 1, 2)))
    assert still["ratio"][0] == 0


def test_bipolar_nonnegative_kernel_has_no_net_drift():
    k = K.dct_beta(np.array([0.1, 0.3]), 3)
    tr = propagate(P.delta(61), K.bipolar(k), 10)
    o = D.oscillation(tr.centre)
    assert o["net"].max() < 1e-12 and o["step"].min() > 0.2


def test_front_and_radial_fraction():
    x = np.zeros((2, 11, 11))
    x[0, 5, 8] = 1
    x[1, 2, 5] = 1
    np.testing.assert_allclose(D.front_position(x, 0.0), [3, 0])
    np.testing.assert_allclose(D.front_position(x, -np.pi / 2), [0, 3], atol=1e-12)
    assert np.isnan(D.front_position(np.zeros((5, 5))))
    d = P.disc(41, 10, 1.0)
    assert D.radial_fraction(d, 10) == pytest.approx(1)
    assert 0 < D.radial_fraction(d, 5) < 0.5


def test_pure_odd_relu_sheds_core_and_front_moves_at_c():
    disc = P.disc(61, 10, 255)
    k = K.dct_beta(1.0, 3)
    tr = propagate(disc, k, 8, frames=range(9))
    fr = np.stack([tr.frames[t][0] for t in range(9)])
    assert D.radial_fraction(fr[1], 7) < 1e-12
    assert slope(np.arange(9), D.front_position(fr)) == pytest.approx(1.0)
    lin = propagate(disc, k, 8, activation="none")
    np.testing.assert_allclose(lin.centre[:, 0, 0], 0, atol=1e-9)


def test_slope():
    t = np.arange(5.0)
    assert slope(t, 3 * t + 2) == pytest.approx(3)


def test_folded_worst_angle_breaks_the_square_tie():
    th = np.arange(0, 360, 5.0)
    m = np.mod(th, 90)
    err = np.where((m == 30) | (m == 60), 2.0, 1.0) * np.where(th < 180, 1, -1)  # 8 tied images
    w = D.folded_worst_angle(th, err)
    assert w["angle"] == 30.0 and w["margin"] == pytest.approx(1.0) and w["n_tied"] == 8
    # the argmax over the full circle would pick one of the 8 depending on the last bit
    assert D.folded_worst_angle(th, err + 1e-15 * np.arange(th.size))["angle"] == 30.0


def test_first_moment_share():
    from infomech.dct import basis

    assert D.first_moment_share(basis(0, 1, 3)) == pytest.approx(1.0)
    assert D.first_moment_share(basis(2, 1, 3)) == pytest.approx(0.0, abs=1e-30)
    assert D.first_moment_share(basis(1, 2, 3)) == pytest.approx(0.0, abs=1e-30)
    k = D.odd_mix(np.array([0.0, 0.5, 1.0]), {(0, 1): 1.0, (2, 1): 1.0})
    np.testing.assert_allclose(D.first_moment_share(k), [0, 0.25, 0.5], atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(k, axis=(-2, -1)), 1.0)
    with pytest.raises(ValueError):
        D.odd_mix(0.5, {(1, 1): 1.0})  # (1, 1) is even
    with pytest.raises(ValueError):
        D.first_moment_share(np.zeros((3, 3)))


def test_zero_first_moment_kernels_do_not_drift_while_nonnegative():
    from infomech import speedlaw as S

    st = D.predictor_study(np.array([0.0, 0.1, 0.2]), steps=5, size=31)
    for name in ("B(2,1)", "B(1,2)"):
        k = D.odd_mix(np.array([0.1, 0.2]), D.ODD_FAMILIES[name])
        assert S.nonnegative(k).all()
        assert st[name]["speed"].max() < 1e-12


def test_laplacian_relu_is_a_random_walk_on_a_pixel():
    L = D.laplacian_run(P.delta(41), 12)
    np.testing.assert_allclose(L["sigma2"][:, 0], np.arange(13) / 2, atol=1e-12)
    np.testing.assert_allclose(L["sigma2"][1:, 1], 0.0, atol=1e-12)  # -Delta keeps the pixel
    assert np.nanmax(np.abs(L["centre"])) < 1e-12
    assert D.laplacian(1).sum() == pytest.approx(0.0) and D.laplacian(-1)[1, 1] > 0
    with pytest.raises(ValueError):
        D.laplacian(2)
