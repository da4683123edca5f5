import numpy as np
import pytest

from infomech import patterns as P
from infomech import steering as S


def test_transmission_is_one_at_zero_and_pi_periodic_without_activation():
    phi = np.deg2rad([0.0, 30.0, 90.0, 210.0, 270.0])
    t = S.transmission(P.gaussian_blob(31, 2), phi, [0.0, 0.4], activation="none")
    assert t[0] == pytest.approx(1.0)
    assert t[3] == pytest.approx(t[1], rel=1e-9)  # energy of a linear response: sign-blind
    assert t[4] == pytest.approx(t[2], rel=1e-9)


def test_relu_transmission_is_not_pi_periodic_for_a_delta_at_small_angles():
    phi = np.deg2rad([0.0, 45.0, 90.0])
    t = S.transmission(P.delta(21), phi)
    assert t[0] == pytest.approx(1.0)
    assert 0 < t[2] < t[1] < 1


def test_compare_laws_is_zero_for_the_law_itself():
    phi = np.linspace(0, np.pi, 19)
    res = S.compare_laws(phi, np.cos(phi) ** 2)
    assert res["cos^2 (Malus)"]["max"] == pytest.approx(0.0, abs=1e-12)
    assert res["max(cos, 0)"]["max"] > 0.5


def test_floor_fit_recovers_the_floor():
    phi = np.linspace(0, np.pi, 37)
    m, rms = S.fit_floor(phi, np.cos(phi) ** 2 + 0.3 * np.sin(phi) ** 2)
    assert m == pytest.approx(0.3) and rms == pytest.approx(0.0, abs=1e-12)


def test_transmission_per_direction_averages_to_transmission():
    from infomech import patterns as _P
    from infomech import steering as _S

    phi = np.deg2rad([0.0, 45.0, 90.0])
    th = np.deg2rad([0.0, 30.0, 90.0])
    per = _S.transmission_per_direction(_P.delta(15), phi, th)
    assert per.shape == (3, 3)
    np.testing.assert_allclose(per[:, 0], 1.0)
    np.testing.assert_allclose(per.mean(0), _S.transmission(_P.delta(15), phi, th))
    np.testing.assert_allclose(per[0], per[2], atol=1e-12)  # a pixel: theta1 and theta1 + 90 deg agree


@pytest.mark.parametrize("image", ["disc", "natural"])
@pytest.mark.parametrize("activation", ["relu", "none"])
def test_shared_first_step_is_the_joint_two_step_run_bit_for_bit(image, activation):
    """The first filter's output is computed once per theta1 and reused for every phi: the energies
    are exactly those of one propagation of all (theta1, phi) pairs through both steps."""
    from infomech.kernels import steered_gradient
    from infomech.propagation import propagate

    x = P.disc(31, 6) if image == "disc" else P.natural_image(33)
    phi, th = np.deg2rad([10.0, 45.0, 90.0, 135.0]), np.deg2rad([0.0, 20.0, 200.0])
    ph_all = np.concatenate([[0.0], phi])
    t1 = np.repeat(th, ph_all.size)
    sched = [steered_gradient(t1, 3), steered_gradient(t1 + np.tile(ph_all, th.size), 3)]
    e = (propagate(x, sched, 2, activation=activation, frames=(2,)).frames[2] ** 2).sum(axis=(-2, -1))
    e = e.reshape(th.size, ph_all.size)
    assert np.array_equal(S.transmission_per_direction(x, phi, th, activation=activation),
                          e[:, 1:] / e[:, :1])


def test_an_image_killed_by_the_first_filter_is_a_clear_error():
    """A first step that leaves nothing (here an activation that zeroes everything) is the
    normalisation error, as in the joint run, not a zero-mass error from the second step."""
    with pytest.warns(RuntimeWarning, match="mass vanished"), \
            pytest.raises(ValueError, match="zero transmitted energy"):
        S.transmission_per_direction(P.disc(21, 4), np.deg2rad([30.0]), [0.0, 1.0],
                                     activation=lambda t: t * 0)
