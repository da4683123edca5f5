import numpy as np
import pytest
import scipy.fft
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from infomech import dct
from infomech.decomposition import even_odd

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
square_kernels = st.integers(1, 8).flatmap(
    lambda n: arrays(np.float64, (n, n), elements=finite))


@given(square_kernels)
def test_matches_scipy_and_parseval(k):
    t = dct.dct2(k)
    np.testing.assert_allclose(t, scipy.fft.dctn(k, norm="ortho"), atol=1e-10)
    np.testing.assert_allclose((t * t).sum(), (k * k).sum(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dct.idct2(t), k, atol=1e-10)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 7])
def test_basis_orthonormal_and_parity(n):
    b = dct.dct_basis(n).reshape(n * n, n * n)
    np.testing.assert_allclose(b @ b.T, np.eye(n * n), atol=1e-12)
    par = dct.parity(n)
    for u in range(n):
        for v in range(n):
            bu = dct.basis(u, v, n)
            np.testing.assert_allclose(np.flip(bu), (-1) ** (u + v) * bu, atol=1e-12)
            assert par[u, v] == (-1) ** (u + v)


@given(st.sampled_from([1, 3, 5, 7]).flatmap(lambda n: arrays(np.float64, (n, n), elements=finite)))
def test_odd_n_even_odd_split_is_dct_parity_split(k):
    n = k.shape[0]
    t = dct.dct2(k)
    even = np.where(dct.parity(n) == 1, t, 0)
    e, o = even_odd(k)
    np.testing.assert_allclose(dct.idct2(even), e, atol=1e-10)
    np.testing.assert_allclose(dct.idct2(t - even), o, atol=1e-10)


def test_named_bases_and_gradient_direction():
    gx = dct.named_basis("nabla_x")
    assert gx[:, 0].min() > 0 and gx[:, 2].max() < 0 and np.allclose(gx[:, 1], 0)
    gy = dct.named_basis("nabla_y")
    np.testing.assert_allclose(gy, gx.T)
    np.testing.assert_allclose(dct.named_basis("Sigma"), np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match="unknown basis"):
        dct.named_basis("laplacian")
    assert dct.basis_labels(3)[:3] == ["Sigma", "nabla_x", "(0,2)"]


def test_energy_fractions_batched_torch():
    k = torch.randn(10, 4, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    f = dct.energy_fractions(k)
    assert f.shape == (10, 4, 3, 3)
    np.testing.assert_allclose(f.sum(dim=(-2, -1)).numpy(), 1.0)
    np.testing.assert_allclose(f.numpy(), dct.energy_fractions(k.numpy()), rtol=1e-12)
    with pytest.raises(ValueError, match="zero energy"):
        dct.energy_fractions(np.zeros((3, 3)))


# --- dtypes: no silent wrong results (issue 13) ----------------------------------------------

K_INT = [[0, 1, 0], [0, 1, 1], [0, 0, 0]]


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool])
def test_integer_tensors_give_the_float_result(dtype):
    k = torch.tensor(K_INT, dtype=dtype)
    want = dct.dct2(np.array(K_INT, float))
    got = dct.dct2(k)
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), want, atol=1e-15)  # not the zeros of an int DCT matrix
    np.testing.assert_allclose(dct.energy_fractions(k).numpy(),
                               dct.energy_fractions(np.array(K_INT, float)), atol=1e-15)
    np.testing.assert_allclose(dct.idct2(dct.dct2(k)).numpy(), K_INT, atol=1e-12)


def test_large_float16_layer_gives_finite_fractions():
    g = torch.Generator().manual_seed(0)
    k = (torch.randn(64, 3, 3, generator=g) * 400).to(torch.float16)  # squares overflow float16
    f = dct.energy_fractions(k)
    assert f.dtype == torch.float32 and bool(torch.isfinite(f).all())
    torch.testing.assert_close(f.sum(dim=(-2, -1)), torch.ones(64), rtol=1e-5, atol=1e-5)
    want = dct.energy_fractions(k.double().numpy())
    np.testing.assert_allclose(f.numpy(), want, atol=1e-5)


@pytest.mark.parametrize("k", [np.ones((3, 3)) * (1 + 1j), torch.ones(3, 3, dtype=torch.complex64)])
def test_complex_kernels_are_refused(k):
    for fn in (dct.dct2, dct.idct2, dct.energy_fractions):
        with pytest.raises(TypeError, match=r"must be real"):
            fn(k)
