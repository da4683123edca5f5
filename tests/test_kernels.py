import numpy as np
import pytest

from infomech import dct as D_dct
from infomech import decomposition as D
from infomech import kernels as K


@pytest.mark.parametrize("n", [2, 3, 5])
def test_dct_beta_unit_norm_and_exact_beta2(n):
    b = np.linspace(0, 1, 11)
    k = K.dct_beta(b, n)
    np.testing.assert_allclose((k * k).sum(axis=(-2, -1)), 1.0, atol=1e-12)
    np.testing.assert_allclose(D.beta2(k, "point"), b, atol=1e-12)
    if n % 2:
        np.testing.assert_allclose(D.beta2(k, "square"), b, atol=1e-12)


def test_translation_beta_square_split_exact_point_split_smaller():
    b = np.linspace(0, 1, 11)
    k = K.translation_beta(b)
    np.testing.assert_allclose((k * k).sum(axis=(-2, -1)), 1.0, atol=1e-12)
    np.testing.assert_allclose(D.beta2(k, "square"), b, atol=1e-12)
    assert np.all(D.beta2(k, "point")[1:] < b[1:])
    # beta2 = 0.25 of the normalised parts reproduces the pure shift, scaled to unit norm
    s, a = D.sym_anti(K.shift_kernel())
    frac = (a * a).sum() / ((s * s).sum() + (a * a).sum())
    np.testing.assert_allclose(K.translation_beta(frac), K.shift_kernel(), atol=1e-12)


def test_steered_gradient_is_pure_odd_unit():
    th = np.linspace(0, 2 * np.pi, 9)
    k = K.steered_gradient(th)
    np.testing.assert_allclose((k * k).sum(axis=(-2, -1)), 1.0)
    np.testing.assert_allclose(D.beta2(k), 1.0)


def test_schedules():
    k = K.dct_beta(0.3)
    a, b = K.bipolar(k)
    np.testing.assert_allclose(b, k[::-1, ::-1])
    t = K.alternating_2x2(K.dct_beta(0.3, 2))
    assert t[0].shape == (3, 3) and t[0][2].sum() == 0 and t[1][0].sum() == 0
    sched, c = K.family("dct", [0.1, 0.2], 2)
    assert len(sched) == 2 and c == 0.5 and sched[0].shape == (2, 3, 3)
    assert K.kernel_radius(5) == 2


def test_bad_values():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        K.dct_beta(1.5)
    with pytest.raises(ValueError, match="finite"):
        K.dct_beta(np.nan)
    with pytest.raises(ValueError, match=">= 2"):
        K.dct_beta(0.5, 1)
    with pytest.raises(ValueError, match="odd"):
        K.translation_beta(0.5, 4)
    with pytest.raises(ValueError, match="unknown kernel family"):
        K.family("gabor", 0.5)
    with pytest.raises(TypeError):
        K.random_kernels(2.5)
    with pytest.raises(ValueError, match=">= 1"):
        K.random_kernels(-3)


# --- odd bases, steering, user schedules (issue 15 items 2-3) -------------------------------

@pytest.mark.parametrize("uv", [(0, 1), (1, 0), (1, 2), (2, 1), (0, 3), (3, 2)])
def test_dct_beta_with_any_point_odd_basis(uv):
    b = np.linspace(0, 1, 5)
    k = K.dct_beta(b, 5, odd_basis=uv)
    t = D_dct.dct2(k)
    np.testing.assert_allclose(t[:, 0, 0], np.sqrt(1 - b), atol=1e-12)
    np.testing.assert_allclose(t[:, uv[0], uv[1]], np.sqrt(b), atol=1e-12)
    np.testing.assert_allclose(D.beta2(k, "point"), b, atol=1e-12)
    np.testing.assert_allclose(D.beta2(k, "square"), b, atol=1e-12)


def test_default_odd_basis_is_the_authors_family_bit_for_bit():
    b = np.linspace(0, 1, 11)
    np.testing.assert_array_equal(K.dct_beta(b, 3, odd_basis=(0, 1), theta=0.0), K.dct_beta(b, 3))


@pytest.mark.parametrize("uv", [(0, 0), (1, 1), (0, 2), (2, 2)])
def test_point_even_odd_basis_is_refused(uv):
    with pytest.raises(ValueError, match=r"odd_basis .* point-even"):
        K.dct_beta(0.5, 3, odd_basis=uv)


def test_odd_basis_out_of_range_and_theta_rules():
    with pytest.raises(ValueError, match=r"odd_basis \(0,3\) is out of range for 3x3"):
        K.dct_beta(0.5, 3, odd_basis=(0, 3))
    with pytest.raises(ValueError, match=r"theta steers the gradients"):
        K.dct_beta(0.5, 3, odd_basis=(1, 2), theta=0.3)
    with pytest.raises(ValueError, match=r"theta must be a finite number"):
        K.dct_beta(0.5, 3, theta=float("nan"))
    with pytest.raises(ValueError, match=r"family .*dct' family only"):
        K.family("translation", 0.5, 3, theta=0.1)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_steered_dct_beta_is_dc_plus_steered_gradient(n):
    th = 0.7
    k = K.dct_beta(0.36, n, theta=th)
    want = 0.8 * D_dct.named_basis("Sigma", n) + 0.6 * K.steered_gradient(th, n)
    np.testing.assert_allclose(k, want, atol=1e-14)
    np.testing.assert_allclose(D.beta2(k), 0.36, atol=1e-12)


def test_steered_dct_beta_takes_one_beta2_to_many_angles():
    th = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    k = K.dct_beta(0.36, 3, theta=th)
    assert k.shape == (8, 3, 3)
    for i, t in enumerate(th):  # each angle is the scalar-theta kernel, to the bit
        np.testing.assert_array_equal(k[i], K.dct_beta(0.36, 3, theta=float(t)))
    both = K.dct_beta([0.36, 1.0], 3, theta=th[:2])  # one angle per beta2
    np.testing.assert_array_equal(both[1], K.dct_beta(1.0, 3, theta=float(th[1])))
    with pytest.raises(ValueError, match=r"theta has 8 angles for 2 beta2 values"):
        K.dct_beta([0.36, 1.0], 3, theta=th)
    with pytest.raises(ValueError, match=r"theta must be a finite number or a 1-D array"):
        K.dct_beta(0.36, 3, theta=[0.1, np.nan])


def test_schedule_of_user_kernels():
    k = np.stack([np.eye(3), np.ones((3, 3))])
    sched, c = K.schedule_of(k)
    assert len(sched) == 1 and c == 1.0 and sched[0].shape == (2, 3, 3)
    sched, c = K.schedule_of(np.ones((2, 2)))
    assert len(sched) == 2 and c == 0.5 and sched[0].shape == (1, 3, 3)
    with pytest.raises(ValueError, match=r"kernel of size 4x4 has no centre pixel"):
        K.schedule_of(np.ones((4, 4)))
