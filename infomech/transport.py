r"""The exact transport law of a kernel without activation: drift and diffusion per step.

Cross-correlation :math:`y(p) = \sum_d k(d)\,x(p+d)` sends the content of pixel :math:`q` to
:math:`q - d` with weight :math:`k(d)`. Write :math:`K = \sum_d k(d)` and read :math:`w = k/K` as a
probability law of a displacement :math:`D = -d`. When :math:`k \ge 0` and :math:`x \ge 0` (so no
activation, ReLU and abs all act as the identity), the normalised image :math:`y/\sum y` is the law
of :math:`Q + D` with :math:`Q \sim x/\sum x` and :math:`D` independent, hence (cumulants of
independent sums add)

.. math::

    \sum_p y(p) = K \sum_q x(q), \qquad
    \mu_{t+1} = \mu_t + \delta, \quad \delta = -\sum_d w(d)\,d, \qquad
    \Sigma_{t+1} = \Sigma_t + C, \quad C = \sum_d w(d)\,d\,d^\top - \delta\,\delta^\top,

so after :math:`t` steps :math:`\mu_t = \mu_0 + t\,\delta` (drift: the normalised first moment, with
the minus sign of the correlation) and :math:`\Sigma_t = \Sigma_0 + t\,C` (diffusion: the second
cumulant per step). An even kernel (:math:`k(-d) = k(d)`) has :math:`\delta = 0`; a square-symmetric
one also has :math:`C \propto I` (isotropic diffusion).

The same algebra holds for a *signed* kernel with :math:`K \ne 0` and no activation, for the *signed*
moments :math:`\sum_p y(p)\,p / \sum_p y(p)` (``weights="signed"`` in
:func:`infomech.propagation.propagate`); then :math:`C` need not be positive semi-definite. It does
not hold for the :math:`|x|`-weighted moments, nor after ReLU, once the kernel has negative weights.

Exactness needs the whole light cone of the run to stay inside the image (zero padding otherwise
loses mass at the border).

Kernel offsets ``d = (dx, dy)`` are measured from the kernel centre: x along columns (right), y
along rows (down); for even sizes the centre sits between pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._array import ArrayLike, as_kernel, is_torch
from .validate import real_array


def _offsets(n: int, like: ArrayLike) -> ArrayLike:
    d = np.arange(n, dtype=float) - (n - 1) / 2
    if is_torch(like):
        return torch.as_tensor(d, dtype=like.dtype, device=like.device)
    return d


def first_moment(k: ArrayLike) -> ArrayLike:
    r"""First moment :math:`\mathbf m = \sum_d k(d)\,d` of kernels ``(..., n, n)`` as (x, y) in pixels.

    Offsets ``d`` are measured from the kernel centre (x along columns, y along rows). Only the
    point-odd part of a kernel has one (:math:`\sum_d k_e(d)\,d = 0` for an even :math:`k_e`). A
    kernel with :math:`K = \sum_d k(d) \ne 0` drifts content by :math:`\delta = -\mathbf m / K` per
    step (:func:`kernel_moments`; exact when :math:`k \ge 0`).

    Parameters
    ----------
    k : array (..., n, n), numpy or torch
        Real kernels (complex ones are refused).

    Returns
    -------
    array (..., 2)
        :math:`(\sum_d k(d)\,d_x, \sum_d k(d)\,d_y)`.
    """
    k = as_kernel(real_array(k))
    d = _offsets(k.shape[-1], k)
    lib: Any = torch if is_torch(k) else np
    return lib.stack([(k.sum(-2) * d).sum(-1), (k.sum(-1) * d).sum(-1)], -1)


def kernel_moments(k: ArrayLike) -> tuple[ArrayLike, ArrayLike, ArrayLike]:
    r"""Mass :math:`K`, drift :math:`\delta` and diffusion :math:`C` per step of kernels ``(..., n, n)``.

    Parameters
    ----------
    k : array (..., n, n), numpy or torch
        Kernels. The law is exact for non-negative kernels (see module notes); for signed kernels
        the returned moments are the signed ones (exact for signed observables, no activation).

    Returns
    -------
    mass : (...)
        :math:`K = \sum_d k(d)`.
    drift : (..., 2)
        :math:`\delta = -\sum_d k(d)\,d / K` as (x, y) in pixels per step.
    covariance : (..., 2, 2)
        :math:`C = \sum_d k(d)\,d d^\top / K - \delta\delta^\top` in (x, y) order.

    Raises
    ------
    ValueError
        If a kernel has :math:`K = 0` (the normalised moments are undefined).
    """
    k = as_kernel(k)
    n = k.shape[-1]
    if k.shape[-2] != n:
        raise ValueError(f"kernels must be square; got {k.shape[-2]} x {n}")
    d = _offsets(n, k)
    lib: Any = torch if is_torch(k) else np
    mass = k.sum(-1).sum(-1)
    if bool((mass == 0).any()):
        raise ValueError("kernel_moments: a kernel sums to zero, its normalised moments are undefined")
    col = k.sum(-2)  # (..., n) marginal over rows: weight of each column offset dx
    row = k.sum(-1)  # (..., n) marginal over columns: weight of each row offset dy
    ex = (col * d).sum(-1) / mass
    ey = (row * d).sum(-1) / mass
    exx = (col * d * d).sum(-1) / mass
    eyy = (row * d * d).sum(-1) / mass
    exy = (k * (d[:, None] * d[None, :])).sum(-1).sum(-1) / mass  # rows are y, columns x
    drift = lib.stack([-ex, -ey], -1)
    vxx, vyy, vxy = exx - ex * ex, eyy - ey * ey, exy - ex * ey
    cov = lib.stack([lib.stack([vxx, vxy], -1), lib.stack([vxy, vyy], -1)], -2)
    return mass, drift, cov


def predict(centre0: ArrayLike, cov0: ArrayLike, k: ArrayLike, steps: int
            ) -> tuple[np.ndarray, np.ndarray]:
    r"""Centres and covariances :math:`\mu_0 + t\delta`, :math:`\Sigma_0 + tC` for ``t = 0..steps``.

    Parameters
    ----------
    centre0 : (K, 2) or (2,)
        Initial centres of mass (x, y).
    cov0 : (K, 2, 2) or (2, 2)
        Initial covariances.
    k : (K, n, n) or (n, n)
        Kernels (one fixed kernel per run).
    steps : int

    Returns
    -------
    centres : (steps+1, K, 2)
    covariances : (steps+1, K, 2, 2)
    """
    k = np.asarray(k, dtype=float)
    if k.ndim == 2:
        k = k[None]
    _, drift, cov = kernel_moments(k)
    c0 = np.broadcast_to(np.asarray(centre0, dtype=float), drift.shape)
    s0 = np.broadcast_to(np.asarray(cov0, dtype=float), cov.shape)
    t = np.arange(int(steps) + 1, dtype=float)
    return (c0[None] + t[:, None, None] * drift[None],
            s0[None] + t[:, None, None, None] * cov[None])


def law_error(trajectory: Any, k: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""Largest deviation of a measured run from the exact law, per kernel.

    Parameters
    ----------
    trajectory : :class:`infomech.propagation.Trajectory`
        A run with one fixed kernel per channel (``kernels = k``).
    k : (K, n, n) or (n, n)
        The kernels of the run.

    Returns
    -------
    centre_error : (K,)
        :math:`\max_t |\mu_t^{meas} - \mu_t^{law}|` in pixels.
    covariance_error : (K,)
        :math:`\max_t \max_{ij} |\Sigma_{t,ij}^{meas} - \Sigma_{t,ij}^{law}|` in squared pixels.
    """
    c_pred, s_pred = predict(trajectory.centre[0], trajectory.covariance[0], k, trajectory.steps)
    ce = np.linalg.norm(trajectory.centre - c_pred, axis=-1).max(0)
    se = np.abs(trajectory.covariance - s_pred).max(axis=(0, 2, 3))
    return ce, se


def directional_cumulants(k: ArrayLike, angles: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""Variance and fourth cumulant per step of the displacement along directions ``angles``.

    For a non-negative kernel the displacement of one step is :math:`D = -d` with law
    :math:`w = k/K` (module notes). Its projection on :math:`u_\theta = (\cos\theta, \sin\theta)`,
    :math:`X = u_\theta \cdot D`, has variance :math:`v(\theta) = \operatorname{Var} X` and fourth
    cumulant :math:`\kappa_4(\theta) = E[(X - EX)^4] - 3v^2`. Cumulants of independent steps add, so
    after :math:`t` steps from a single pixel the image's directional excess kurtosis is exactly

    .. math:: \gamma(\theta, t) = \frac{t\,\kappa_4(\theta)}{(t\,v(\theta))^2} = \frac{\gamma_1(\theta)}{t},

    which fades as :math:`1/t` (the central limit theorem with its rate): the direction dependence of
    the shape beyond the covariance disappears as :math:`1/t`.

    Parameters
    ----------
    k : array (..., n, n)
        Non-negative kernels (the law is exact for them; for signed kernels these are the signed
        moments).
    angles : array (A,)
        Directions in radians (x right, y down).

    Returns
    -------
    variance, kappa4 : arrays (..., A)
    """
    k = np.asarray(k, dtype=float)
    n = k.shape[-1]
    if k.ndim < 2 or k.shape[-2] != n:
        raise ValueError(f"kernels must be square (..., n, n); got shape {k.shape}")
    mass = k.sum(axis=(-2, -1))
    if np.any(mass == 0):
        raise ValueError("directional_cumulants: a kernel sums to zero")
    d = _offsets(n, k)
    th = np.atleast_1d(np.asarray(angles, dtype=float))
    # projection of D = -d on each direction, per kernel cell (rows y, columns x): (A, n, n)
    proj = -(np.cos(th)[:, None, None] * d[None, None, :] + np.sin(th)[:, None, None] * d[None, :, None])
    w = (k / mass[..., None, None])[..., None, :, :]                     # (..., 1, n, n)
    mean = (w * proj).sum(axis=(-2, -1))
    cen = proj - mean[..., None, None]
    var = (w * cen**2).sum(axis=(-2, -1))
    kappa4 = (w * cen**4).sum(axis=(-2, -1)) - 3 * var**2
    return var, kappa4
