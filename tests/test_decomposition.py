import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from infomech import decomposition as D

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


def kernels(min_n=1, max_n=7):
    return st.integers(min_n, max_n).flatmap(
        lambda n: arrays(np.float64, st.tuples(st.integers(1, 3), st.just(n), st.just(n)), elements=finite))


@given(kernels())
@pytest.mark.parametrize("kind", ["point", "square"])
def test_split_reconstructs_and_is_orthogonal(kind, k):
    e, o = D.split(k, kind)
    np.testing.assert_allclose(e + o, k, atol=1e-12)
    inner = (e * o).sum(axis=(-2, -1))
    np.testing.assert_allclose(inner, 0, atol=1e-9 * (1 + (k * k).sum()))
    tot, ee, oo = D.energies(k, kind)
    np.testing.assert_allclose(tot, ee + oo, rtol=1e-10, atol=1e-10)


@given(kernels())
def test_point_parts_have_their_parity(k):
    e, o = D.even_odd(k)
    np.testing.assert_allclose(np.flip(e, (-2, -1)), e, atol=1e-12)
    np.testing.assert_allclose(np.flip(o, (-2, -1)), -o, atol=1e-12)


@given(kernels())
def test_square_part_is_invariant_under_d4_and_projection(k):
    s, a = D.sym_anti(k)
    for g in (lambda x: np.rot90(x, 1, axes=(-2, -1)), lambda x: np.swapaxes(x, -1, -2),
              lambda x: np.flip(x, -1)):
        np.testing.assert_allclose(g(s), s, atol=1e-12)
    np.testing.assert_allclose(D.square_symmetric(s), s, atol=1e-12)  # idempotent
    np.testing.assert_allclose(D.square_symmetric(a), 0, atol=1e-9 * (1 + abs(k).max()))


@given(kernels())
def test_square_beta2_at_least_point_beta2(k):
    tot = (k * k).sum(axis=(-2, -1))
    if np.any(tot < 1e-6):
        return
    assert np.all(D.beta2(k, "square") >= D.beta2(k, "point") - 1e-12)


@pytest.mark.parametrize("n", range(1, 10))
def test_square_symmetric_dimension_is_m_m_plus_1_over_2(n):
    # rank of the D4-averaging projection, computed numerically from the basis of all n x n kernels
    eye = np.eye(n * n).reshape(n * n, n, n)
    proj = D.square_symmetric(eye).reshape(n * n, n * n)
    rank = np.linalg.matrix_rank(proj)
    m = -(-n // 2)
    assert rank == m * (m + 1) // 2 == D.symmetric_dimension(n, "square")
    rank_point = np.linalg.matrix_rank(D.even_odd(eye)[0].reshape(n * n, n * n))
    assert rank_point == D.symmetric_dimension(n, "point")


def test_3x3_square_form():
    k = np.arange(9.0).reshape(3, 3)
    s = D.square_symmetric(k)
    a, b, e = s[0, 0], s[0, 1], s[1, 1]
    np.testing.assert_allclose(s, [[a, b, a], [b, e, b], [a, b, a]])
    assert e == 4.0 and a == pytest.approx((0 + 2 + 6 + 8) / 4) and b == pytest.approx((1 + 3 + 5 + 7) / 4)


def test_torch_matches_numpy():
    k = np.random.default_rng(1).normal(size=(4, 5, 5))
    for kind in ("point", "square"):
        bn = D.beta2(k, kind)
        bt = D.beta2(torch.from_numpy(k), kind)
        assert isinstance(bt, torch.Tensor)
        np.testing.assert_allclose(bt.numpy(), bn, rtol=1e-12)


def test_splits_differ_on_saddle():
    saddle = np.array([[1.0, 0, -1], [0, 0, 0], [-1, 0, 1]])  # DCT (1,1): point-even, not D4-symmetric
    assert D.beta2(saddle, "point") == 0
    assert D.beta2(saddle, "square") == pytest.approx(1.0)


def test_bad_inputs():
    with pytest.raises(ValueError, match="square"):
        D.even_odd(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        D.even_odd(np.array([[np.nan]]))
    with pytest.raises(ValueError, match="zero energy"):
        D.beta2(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="at least 2"):
        D.even_odd(np.zeros(3))
    with pytest.raises(ValueError, match="empty"):
        D.even_odd(np.zeros((0, 0)))
    with pytest.raises(ValueError, match="unknown split"):
        D.split(np.eye(3), "radial")


def test_null_law_mean_matches_odd_dimension():
    for n in (2, 3, 5, 7):
        a, b = D.beta2_null_law(n, "square")
        m = -(-n // 2)
        assert a + b == n * n / 2
        assert b == m * (m + 1) / 4


# --- dtypes: no silent wrong results (issue 13) ----------------------------------------------

def test_complex_kernel_is_refused_not_a_negative_odd_share():
    k = torch.tensor([[0, 1j, 0], [0, 1, 1], [0, 0, 0]], dtype=torch.complex128)
    for fn in (D.beta2, D.even_odd, D.sym_anti, D.energy):
        with pytest.raises(TypeError, match=r"kernel must be real"):
            fn(k)
    with pytest.raises(TypeError, match=r"kernel must be real"):
        D.beta2(np.array([[0, 1j, 0], [0, 1, 1], [0, 0, 0]]))


def test_integer_and_half_tensors():
    k = torch.tensor([[0, 1, 0], [0, 1, 1], [0, 0, 0]])
    assert D.beta2(k).item() == pytest.approx(1 / 3)
    big = torch.full((3, 3), 300.0, dtype=torch.float16)
    big[0, 0] = 500.0  # ||k||^2 = 9e5 > float16 max 65504
    b = D.beta2(big)
    assert bool(torch.isfinite(b)) and b.item() == pytest.approx(
        float(D.beta2(big.double().numpy())), rel=1e-6)
