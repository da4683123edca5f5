r"""Orthonormal 2-D DCT-II bases of n x n kernels.

The 1-D orthonormal DCT-II matrix is

.. math::

    C_{u x} = \alpha_u \cos\!\Big(\frac{\pi (2x+1) u}{2n}\Big), \qquad
    \alpha_0 = \sqrt{1/n},\ \alpha_{u>0} = \sqrt{2/n},

and the 2-D basis image :math:`(u, v)` is :math:`B_{uv}(y, x) = C_{u y} C_{v x}`: ``u`` is the
vertical frequency (rows), ``v`` the horizontal one (columns). Coefficients are
:math:`T = C k C^\top` and the inverse is :math:`k = C^\top T C` (``scipy.fft.idctn(T, norm="ortho")``).
Parseval holds: :math:`\sum T^2 = \sum k^2`.

Named bases: :math:`\Sigma = B_{00}` (DC), :math:`\nabla_x = B_{01}` (horizontal gradient) and
:math:`\nabla_y = B_{10}` (vertical gradient). Under point reflection
:math:`B_{uv}(-y,-x) = (-1)^{u+v} B_{uv}(y,x)`, so the parity of a basis is :math:`(-1)^{u+v}`; for odd
``n`` the even/odd split of a kernel is exactly the split of its DCT coefficients by that parity.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from ._array import Array, as_kernel, is_torch
from .validate import integer, real_array


def _real_kernel(k: Array, name: str = "kernel") -> Array:
    """``k`` as a real floating kernel: integer tensors -> float64, half -> float32, complex refused.

    (The DCT matrix takes the dtype of ``k``: an integer dtype would truncate it to zeros, and the
    squares of large float16 weights overflow to Inf.)
    """
    return as_kernel(real_array(k, name), name)

#: Names of the three bases the paper singles out, as (u, v) indices.
NAMED_BASES: dict[str, tuple[int, int]] = {"Sigma": (0, 0), "nabla_x": (0, 1), "nabla_y": (1, 0)}


@lru_cache(maxsize=32)
def _dct_matrix_np(n: int) -> np.ndarray:
    n = integer(n, "n", minimum=1)
    x = np.arange(n)
    u = np.arange(n)[:, None]
    c = np.cos(np.pi * (2 * x[None, :] + 1) * u / (2 * n)) * np.sqrt(2.0 / n)
    c[0] = np.sqrt(1.0 / n)
    c.setflags(write=False)
    return c


def dct_matrix(n: int) -> np.ndarray:
    r"""The orthonormal 1-D DCT-II matrix :math:`C` (``n x n``, rows are frequencies)."""
    return _dct_matrix_np(int(n)).copy()


def _matrix_like(n: int, k: Array) -> Array:
    c = _dct_matrix_np(n)
    if is_torch(k):
        return torch.tensor(c, dtype=k.dtype, device=k.device)
    return c


def dct_basis(n: int) -> np.ndarray:
    r"""All ``n*n`` basis images, shape ``(n, n, n, n)`` indexed ``[u, v, y, x]``."""
    c = _dct_matrix_np(int(n))
    return np.einsum("uy,vx->uvyx", c, c)


def basis(u: int, v: int, n: int = 3) -> np.ndarray:
    r"""One basis image :math:`B_{uv}` of size ``n x n``; unit norm."""
    if not (0 <= u < n and 0 <= v < n):
        raise ValueError(f"basis index ({u}, {v}) out of range for n={n}")
    return dct_basis(n)[u, v].copy()


def named_basis(name: str, n: int = 3) -> np.ndarray:
    r"""``"Sigma"`` (DC), ``"nabla_x"`` or ``"nabla_y"`` basis image of size ``n x n``."""
    if name not in NAMED_BASES:
        raise ValueError(f"unknown basis {name!r}; expected one of {sorted(NAMED_BASES)}")
    return basis(*NAMED_BASES[name], n=n)


def dct2(k: Array) -> Array:
    r"""DCT-II coefficients :math:`T = C k C^\top` of a kernel or batch ``(..., n, n)``."""
    k = _real_kernel(k)
    c = _matrix_like(k.shape[-1], k)
    return c @ k @ c.T


def idct2(t: Array) -> Array:
    r"""Inverse of :func:`dct2`: :math:`k = C^\top T C`."""
    return _idct2(_real_kernel(t, "coefficients"))


def _idct2(t: Array) -> Array:
    """:func:`idct2` of coefficients already known to be a real floating ``(..., n, n)`` array."""
    c = _matrix_like(t.shape[-1], t)
    return c.T @ t @ c


def parity(n: int) -> np.ndarray:
    r"""Point parity :math:`(-1)^{u+v}` of each basis, shape ``(n, n)`` (+1 even, -1 odd)."""
    u = np.arange(n)
    return np.where((u[:, None] + u[None, :]) % 2 == 0, 1, -1)


def energy_fractions(k: Array) -> Array:
    r"""Energy fraction of each DCT basis, :math:`T_{uv}^2 / \sum T^2`, shape ``(..., n, n)``.

    Integer input is computed in float64, float16/bfloat16 tensors in float32 (their squares would
    overflow); complex input is refused.

    Raises
    ------
    ValueError
        If a kernel has zero energy.
    """
    t = dct2(k)
    e = t * t
    tot = e.sum(axis=(-2, -1), keepdims=True) if not is_torch(e) else e.sum(dim=(-2, -1), keepdim=True)
    if bool((tot == 0).any()):
        raise ValueError("energy fractions are undefined for a kernel with zero energy")
    return e / tot


def basis_labels(n: int) -> list[str]:
    """Labels ``"(u,v)"`` in row-major order, with the named bases spelled out."""
    names = {v: k for k, v in NAMED_BASES.items()}
    return [names.get((u, v), f"({u},{v})") for u in range(n) for v in range(n)]
