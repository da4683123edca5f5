r"""Kernel families of the paper, built from their definitions.

Conventions. Kernels are applied by **cross-correlation** (as ``torch.nn.functional.conv2d`` and
every CNN framework do): :math:`y(p) = \sum_d k(d)\,x(p+d)`, with ``d = (row, col)`` offsets from
the kernel centre. Content at pixel ``p`` is therefore sent to ``p - d``: a kernel whose weight
sits on the *left* column moves content to the *right* (+x). Image coordinates: x to the right
(columns), y downwards (rows).

With this convention the horizontal DCT gradient :math:`\nabla_x = B_{01}` (positive left column)
moves content towards +x and :math:`\nabla_y = B_{10}` (positive top row) towards +y, so a steered
gradient :math:`\cos\theta\,\nabla_x + \sin\theta\,\nabla_y` moves content in direction
:math:`\theta` measured from +x towards +y (clockwise on screen).
"""

from __future__ import annotations

import numpy as np
import torch

from . import validate
from ._array import Array, as_kernel, flip
from .dct import _idct2, named_basis
from .decomposition import sym_anti

_beta2_array = validate.beta2


def _check_size(n: int, name: str = "n", minimum: int = 1) -> int:
    return validate.kernel_size(n, name, minimum=minimum)


def kernel_radius(n: int) -> float:
    r"""Speed limit :math:`c = (n-1)/2` in pixels per step (0.5 for 2x2, 1 for 3x3, 2 for 5x5)."""
    return (_check_size(n, "kernel size") - 1) / 2


def dct_beta(beta2: float | np.ndarray, n: int = 3, *, odd_basis: tuple[int, int] = (0, 1),
             theta: float | np.ndarray = 0.0) -> np.ndarray:
    r"""DCT-beta kernels: DC and a point-odd DCT basis mixed with odd energy share :math:`\beta^2`.

    .. math::

        k = \mathrm{IDCT}(T),\quad T_{00} = \sqrt{1-\beta^2},\ T_{uv} = \sqrt{\beta^2},\
        \text{all other coefficients } 0,

    with :math:`(u, v)` = ``odd_basis``, by default :math:`(0, 1)`, the horizontal gradient
    :math:`\nabla_x` (the authors' family). So :math:`\|k\| = 1` and :math:`\beta^2` is the odd
    basis' energy share. DC is square-symmetric and a basis with :math:`u+v` odd is point-odd
    (hence orthogonal to every even kernel), so :math:`\beta^2` is the odd share under both splits.
    Positive :math:`\beta` moves content towards +x.

    A steered gradient replaces :math:`\nabla_x` when ``theta`` is not 0:
    :math:`T_{01} = \sqrt{\beta^2}\cos\theta`, :math:`T_{10} = \sqrt{\beta^2}\sin\theta`, i.e. the odd
    part is :math:`\beta(\cos\theta\,\nabla_x + \sin\theta\,\nabla_y)`, moving content in
    direction :math:`\theta` (from +x towards +y, see the module notes).

    Parameters
    ----------
    beta2 : float or array (B,)
        Odd energy shares in [0, 1].
    n : int
        Kernel size (>= 2). For n = 2 use :func:`alternating_2x2` to propagate.
    odd_basis : (int, int)
        DCT basis ``(u, v)`` of the odd part, ``u + v`` odd (:func:`infomech.validate.odd_basis`).
    theta : float or array (B,)
        Steering angle in radians; only with ``odd_basis=(0, 1)``. An array gives one kernel per
        angle (broadcast against ``beta2``), e.g. one :math:`\beta^2` steered to ``B`` directions.

    Returns
    -------
    array (n, n) or (B, n, n), float64
    """
    n = _check_size(n, "n", 2)
    b = _beta2_array(beta2)
    u, v = validate.odd_basis(odd_basis, n)
    if np.ndim(theta) == 0:
        th = np.float64(validate.finite_number(theta, "theta"))
    else:
        th = validate.real_array(theta, "theta")
        if th.ndim != 1 or not np.all(np.isfinite(th)):
            raise validate.ParameterError("theta", f"must be a finite number or a 1-D array of them; got "
                                          f"shape {th.shape}")
        if b.ndim and b.shape != th.shape:
            raise validate.ParameterError("theta", f"has {th.size} angles for {b.size} beta2 values: "
                                          "give one beta2, or one angle per beta2")
        b, th = np.broadcast_arrays(b, th)
    steered = bool((th != 0).any())
    if steered and (u, v) != (0, 1):
        raise validate.ParameterError("theta", "steers the gradients (0,1) and (1,0): use it only "
                                      f"with odd_basis=(0, 1); got odd_basis=({u}, {v})")
    t = np.zeros(b.shape + (n, n))
    t[..., 0, 0] = np.sqrt(1 - b)
    if not steered:
        t[..., u, v] = np.sqrt(b)
    else:
        t[..., 0, 1] = np.sqrt(b) * np.cos(th)
        t[..., 1, 0] = np.sqrt(b) * np.sin(th)
    k = _idct2(t)  # t is built here: no checks needed
    # exact zeros where the DC and gradient cancel (round-off would leave +-3e-17, which flips
    # the sign of a weight that is exactly 0 in exact arithmetic, e.g. the right column at 0.4)
    return np.where(np.abs(k) < 1e-14, 0.0, k)


def shift_kernel(n: int = 3) -> np.ndarray:
    """Pure one-step translation towards +x by ``(n-1)/2`` px: a single 1 at the left edge centre."""
    n = _check_size(n, "n", 3)
    if n % 2 == 0:
        raise validate.ParameterError("n", f"must be odd for shift kernels; got {n}")
    k = np.zeros((n, n))
    k[n // 2, 0] = 1.0
    return k


def translation_beta(beta2: float | np.ndarray, n: int = 3) -> np.ndarray:
    r"""Translation-beta kernels (the authors' second family).

    Split the pure shift kernel :math:`s` (:func:`shift_kernel`) by square symmetry,
    :math:`s = s_{sym} + s_{anti}`, normalise each part and mix

    .. math:: k = \sqrt{\beta^2}\,\hat s_{anti} + \sqrt{1-\beta^2}\,\hat s_{sym}.

    So :math:`\|k\| = 1` and the *square-split* odd share is exactly :math:`\beta^2`; the
    point-split share is smaller (the anti part is not point-odd).
    """
    b = _beta2_array(beta2)
    s, a = sym_anti(shift_kernel(n))
    s = s / np.linalg.norm(s)
    a = a / np.linalg.norm(a)
    return np.sqrt(b)[..., None, None] * a + np.sqrt(1 - b)[..., None, None] * s


def steered_gradient(theta: float | np.ndarray, n: int = 3) -> np.ndarray:
    r"""Steered gradients :math:`\cos\theta\,\nabla_x + \sin\theta\,\nabla_y` (unit norm, pure odd).

    ``theta`` in radians, scalar or array (B,); returns (n, n) or (B, n, n).
    """
    th = np.asarray(theta, dtype=float)
    if not np.all(np.isfinite(th)):
        raise validate.ParameterError("theta", "must be finite")
    gx, gy = named_basis("nabla_x", n), named_basis("nabla_y", n)
    return np.cos(th)[..., None, None] * gx + np.sin(th)[..., None, None] * gy


def random_kernels(count: int, n: int = 3, seed: int = 0, std: float = 1.0) -> np.ndarray:
    """``count`` i.i.d. Gaussian ``N(0, std^2)`` kernels, shape (count, n, n), from ``seed``."""
    count = _check_size(count, "count")
    n = _check_size(n, "n")
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, std, size=(count, n, n))


def rotate180(k: Array) -> Array:
    """Kernel rotated by 180 degrees (point reflection): even part kept, odd part negated."""
    return flip(as_kernel(k), (-2, -1))


def bipolar(k: Array) -> list[Array]:
    """Bipolar schedule: ``k`` on even steps, ``k`` rotated 180 degrees on odd steps."""
    k = as_kernel(k)
    return [k, rotate180(k)]


def embed(k: Array, size: int, offset: tuple[int, int]) -> Array:
    """Place a small kernel ``(..., m, m)`` into a zero ``(..., size, size)`` grid at ``offset``."""
    k = as_kernel(k)
    m = k.shape[-1]
    r, c = offset
    if r < 0 or c < 0 or r + m > size or c + m > size:
        raise ValueError(f"a {m}x{m} kernel at {offset} does not fit in {size}x{size}")
    if isinstance(k, torch.Tensor):
        out = k.new_zeros(k.shape[:-2] + (size, size))
    else:
        out = np.zeros(k.shape[:-2] + (size, size), dtype=k.dtype)
    out[..., r:r + m, c:c + m] = k
    return out


def alternating_2x2(k: Array) -> list[Array]:
    """The authors' 2x2 placement: embed in 3x3, top-left on even steps, bottom-right on odd ones.

    A 2x2 kernel has no centre pixel; alternating its two diagonal placements cancels the half-pixel
    drift of its even part (net zero over two steps), so motion comes from its odd part alone.
    """
    k = as_kernel(k)
    if k.shape[-1] != 2:
        raise ValueError(f"alternating_2x2 needs 2x2 kernels; got {k.shape[-1]}x{k.shape[-1]}")
    return [embed(k, 3, (0, 0)), embed(k, 3, (1, 1))]


FAMILIES: tuple[str, ...] = ("dct", "translation")


def schedule_of(k: Array) -> tuple[list[Array], float]:
    """Propagation schedule and speed limit ``c`` of given kernels ``(K, n, n)``.

    Odd ``n``: the kernels themselves (one phase). ``n = 2``: the alternating placement
    (:func:`alternating_2x2`), ``c = 0.5``. Other even sizes have no centre pixel and no agreed
    placement: refused.
    """
    k = as_kernel(k)
    if k.ndim == 2:
        k = k[None]
    n = k.shape[-1]
    if n == 2:
        return alternating_2x2(k), kernel_radius(2)
    if n % 2 == 0:
        raise validate.ParameterError("kernel", f"of size {n}x{n} has no centre pixel: use an odd "
                                      "size, or 2x2 (the authors' alternating placement)")
    return [k], kernel_radius(n)


def family(name: str, beta2: float | np.ndarray, n: int = 3, *, odd_basis: tuple[int, int] = (0, 1),
           theta: float = 0.0) -> tuple[list[np.ndarray], float]:
    """Kernel schedule and speed limit ``c`` of a named family for the speed-law experiments.

    Parameters
    ----------
    name : {"dct", "translation"}
    beta2 : float or array (B,)
    n : int
        Kernel size; ``n = 2`` uses :func:`alternating_2x2`.
    odd_basis, theta :
        Odd part of the ``dct`` family (see :func:`dct_beta`); the translation family takes only
        the defaults.

    Returns
    -------
    schedule : list of arrays (B, m, m)
        Kernels cycled over steps (one entry for a fixed kernel).
    c : float
        The kernel radius (:func:`kernel_radius`).
    """
    if name == "dct":
        k = dct_beta(beta2, n, odd_basis=odd_basis, theta=theta)
    elif name == "translation":
        if tuple(odd_basis) != (0, 1) or theta != 0:
            raise validate.ParameterError("family", "'translation' is built from the +x shift kernel: "
                                          "odd_basis and theta apply to the 'dct' family only")
        k = translation_beta(beta2, n)
    else:
        raise validate.ParameterError("family", f"{name!r} is an unknown kernel family; expected "
                                      "'dct' or 'translation'")
    if k.ndim == 2:
        k = k[None]
    schedule = alternating_2x2(k) if n == 2 else [k]
    return schedule, kernel_radius(n)
