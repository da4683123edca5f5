r"""Even/odd decompositions of convolution kernels and their energies.

Two orthogonal splits of an ``n x n`` kernel :math:`k` are offered.

*Point reflection* (the paper's abstract):

.. math::

    k_e(x) = \tfrac12\,(k(x) + k(-x)), \qquad k_o(x) = \tfrac12\,(k(x) - k(-x)),

where :math:`-x` is reflection through the kernel centre (a 180 degree rotation).

*Square symmetry* (the authors' code): :math:`k_s` is the average of :math:`k` over the eight
symmetries of the square (the dihedral group :math:`D_4`: four rotations, four reflections) and
:math:`k_a = k - k_s`. For a 3x3 kernel :math:`k_s` has the form ``[[a,b,a],[b,e,b],[a,b,a]]``.

Both are orthogonal projections, so

.. math::

    \|k\|^2 = \|k_e\|^2 + \|k_o\|^2, \qquad
    \beta^2 = \frac{\|k_o\|^2}{\|k\|^2},

read in the paper as :math:`E^2 = (pc)^2 + (mc^2)^2` with :math:`v/c = pc/E = \beta`.
The square-symmetric subspace is contained in the point-even one, so
:math:`\beta^2_{\text{square}} \ge \beta^2_{\text{point}}`, with equality when the even part is
square-symmetric (for instance for DC + gradient kernels).

Every function works on one kernel ``(n, n)`` or a batch ``(..., n, n)``, on numpy arrays and on
torch tensors.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from ._array import Array, flip, rot90, sum_last2, transpose_last2
from ._array import as_kernel as _as_kernel
from .validate import real_array


def _real_kernel(k: Array, name: str = "kernel") -> Array:
    """A real floating kernel ``(..., n, n)``: integer tensors -> float64, float16 -> float32.

    Complex kernels are refused (:func:`infomech.validate.real_array`): their imaginary part would be
    dropped or give a negative odd share.
    """
    return _as_kernel(real_array(k, name), name)

Split = Literal["point", "square"]
SPLITS: tuple[str, ...] = ("point", "square")


def even_odd(k: Array) -> tuple[Array, Array]:
    r"""Point-reflection split :math:`k = k_e + k_o`.

    Parameters
    ----------
    k : array (..., n, n)
        Kernel or batch of kernels (numpy or torch).

    Returns
    -------
    k_e, k_o : arrays like ``k``
        :math:`k_e = (k + R k)/2` and :math:`k_o = (k - R k)/2` with :math:`R` the 180 degree
        rotation about the kernel centre.
    """
    k = _real_kernel(k)
    r = flip(k, (-2, -1))
    return (k + r) / 2, (k - r) / 2


def square_symmetric(k: Array) -> Array:
    r"""Average of ``k`` over the 8 symmetries of the square, :math:`k_s = \frac18\sum_{g\in D_4} g k`."""
    k = _real_kernel(k)
    t = transpose_last2(k)
    acc = k + t
    for q in (1, 2, 3):
        acc = acc + rot90(k, q) + rot90(t, q)
    return acc / 8


def sym_anti(k: Array) -> tuple[Array, Array]:
    r"""Square-symmetry split :math:`k = k_s + k_a` (the authors' *sym* and *anti* parts).

    Parameters
    ----------
    k : array (..., n, n)

    Returns
    -------
    k_s, k_a : arrays like ``k``
        :math:`k_s` is the :math:`D_4` average (:func:`square_symmetric`), :math:`k_a = k - k_s`.
    """
    s = square_symmetric(k)
    return s, k - s


def split(k: Array, kind: Split = "point") -> tuple[Array, Array]:
    """Dispatch to :func:`even_odd` (``"point"``) or :func:`sym_anti` (``"square"``)."""
    if kind == "point":
        return even_odd(k)
    if kind == "square":
        return sym_anti(k)
    raise ValueError(f"unknown split {kind!r}; expected one of {SPLITS}")


def energy(k: Array) -> Array:
    r"""Kernel energy :math:`\|k\|^2 = \sum_x k(x)^2` over the last two axes."""
    k = _real_kernel(k)
    return sum_last2(k * k)


def energies(k: Array, kind: Split = "point") -> tuple[Array, Array, Array]:
    r"""Total, even and odd energies :math:`(\|k\|^2, \|k_e\|^2, \|k_o\|^2)` under a split.

    The identity :math:`\|k\|^2 = \|k_e\|^2 + \|k_o\|^2` holds to rounding error.
    """
    e, o = split(k, kind)
    return energy(k), energy(e), energy(o)


def beta2(k: Array, kind: Split = "point") -> Array:
    r"""Odd energy share :math:`\beta^2 = \|k_o\|^2 / \|k\|^2` under a split.

    Raises
    ------
    ValueError
        If a kernel has zero energy (then :math:`\beta^2` is undefined).
    """
    total, _, odd = energies(k, kind)
    zero = (total == 0).any() if not isinstance(total, np.ndarray) else np.any(total == 0)
    if bool(zero):
        raise ValueError("beta2 is undefined for a kernel with zero energy")
    return odd / total


def symmetric_dimension(n: int, kind: Split = "square") -> int:
    r"""Dimension of the even (``"point"``) or square-symmetric (``"square"``) subspace of n x n kernels.

    Square symmetry: :math:`m(m+1)/2` with :math:`m = \lceil n/2 \rceil` (one free value per orbit
    of :math:`D_4` on the pixel grid). Point reflection: :math:`\lceil n^2/2 \rceil`.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    if kind == "square":
        m = math.ceil(n / 2)
        return m * (m + 1) // 2
    if kind == "point":
        return math.ceil(n * n / 2)
    raise ValueError(f"unknown split {kind!r}; expected one of {SPLITS}")


def beta2_null_law(n: int, kind: Split = "square") -> tuple[float, float]:
    r"""Parameters :math:`(a, b)` of the Beta law of :math:`\beta^2` for i.i.d. Gaussian kernels.

    For :math:`k` with i.i.d. :math:`N(0, \sigma^2)` entries, :math:`\|k_o\|^2` and
    :math:`\|k_e\|^2` are independent :math:`\sigma^2\chi^2` variables with :math:`d_o` and
    :math:`d_e` degrees of freedom (orthogonal projections), so
    :math:`\beta^2 \sim \mathrm{Beta}(d_o/2, d_e/2)` with mean :math:`d_o / n^2`.
    """
    d_e = symmetric_dimension(n, kind)
    d_o = n * n - d_e
    return d_o / 2, d_e / 2
