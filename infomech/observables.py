r"""Observables of a (batch of) image(s): mass, centre of mass, covariance, spread, speed.

Weights. The authors use the non-negative output as weights. After ReLU or abs the output is
non-negative; with no activation it can be negative, and we then weigh by :math:`|x|`
(``weights="abs"``, the default, identical to ``"signed"`` on non-negative images). Given weights
:math:`w(p) \ge 0` over pixels :math:`p = (x, y)`:

.. math::

    M = \sum_p w(p),\qquad \mu = \frac1M\sum_p w(p)\,p,\qquad
    \Sigma = \frac1M\sum_p w(p)\,(p-\mu)(p-\mu)^\top,

with the origin at the image centre, x to the right and y downwards. The spread is
:math:`\sigma^2 = \operatorname{tr}\Sigma / 2` and the isotropy ratio
:math:`\lambda_{min}/\lambda_{max}` of :math:`\Sigma` (1 for isotropic spread).

All functions take ``(..., H, W)`` numpy arrays or torch tensors and return the same kind.
"""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np
import torch

from ._array import ArrayLike, is_torch

Weights = Literal["abs", "signed", "relu"]


def _to_torch(x: ArrayLike) -> tuple[torch.Tensor, bool]:
    if is_torch(x):
        return x, True
    a = np.asarray(x, dtype=float)
    return torch.from_numpy(np.ascontiguousarray(a)), False


def _back(t: torch.Tensor, was_torch: bool) -> ArrayLike:
    return t if was_torch else t.detach().cpu().numpy()


def _check_image(x: torch.Tensor, name: str = "x") -> None:
    if x.ndim < 2:
        raise ValueError(f"{name} must have shape (..., H, W); got {tuple(x.shape)}")
    if x.shape[-1] == 0 or x.shape[-2] == 0:
        raise ValueError(f"{name} is empty: shape {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or Inf")


def weights_of(x: torch.Tensor, weights: Weights = "abs") -> torch.Tensor:
    """Non-negative weights from an image: ``|x|``, ``x`` (must be >= 0) or ``max(x, 0)``."""
    if weights == "abs":
        return x.abs()
    if weights == "relu":
        return x.clamp_min(0)
    if weights == "signed":
        return x
    raise ValueError(f"unknown weights {weights!r}; expected 'abs', 'signed' or 'relu'")


def coordinates(h: int, w: int, *, dtype: torch.dtype = torch.float64,
                device: torch.device | str = "cpu", origin: tuple[float, float] | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel coordinate vectors ``(xs (W,), ys (H,))`` relative to ``origin`` (default the centre)."""
    ox, oy = origin if origin is not None else ((w - 1) / 2, (h - 1) / 2)
    xs = torch.arange(w, dtype=dtype, device=device) - ox
    ys = torch.arange(h, dtype=dtype, device=device) - oy
    return xs, ys


def moments(w: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mass ``(...)``, centre ``(..., 2)`` and covariance ``(..., 2, 2)`` of weights ``(..., H, W)``.

    Computed in float64 from the row and column marginals and one matrix-vector product, O(HW) per
    image. Where the mass is zero the centre and covariance are NaN (:func:`centre_of_mass` is the
    checked version).
    """
    xs64, ys64 = xs.double(), ys.double()
    mx = w.sum(dim=-2).double()  # (..., W) column marginal
    my = w.sum(dim=-1).double()  # (..., H) row marginal
    wx = (w @ xs.to(w.dtype)).double()  # (..., H): sum_x w(y, x) x
    m = mx.sum(dim=-1)
    zero = m == 0
    safe = torch.where(zero, torch.ones_like(m), m)
    ex = (mx * xs64).sum(-1) / safe
    ey = (my * ys64).sum(-1) / safe
    exx = (mx * xs64 * xs64).sum(-1) / safe - ex * ex
    eyy = (my * ys64 * ys64).sum(-1) / safe - ey * ey
    exy = (wx * ys64).sum(-1) / safe - ex * ey
    nan = torch.full_like(m, float("nan"))
    ex, ey, exx, eyy, exy = (torch.where(zero, nan, v) for v in (ex, ey, exx, eyy, exy))
    centre = torch.stack([ex, ey], dim=-1)
    cov = torch.stack([torch.stack([exx, exy], -1), torch.stack([exy, eyy], -1)], -2)
    return m, centre, cov


def power_basis(v: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Columns ``[1, v, v^2]`` of a coordinate vector ``v`` (L,): shape (L, 3)."""
    v = v if dtype is None else v.to(dtype)
    return torch.stack([torch.ones_like(v), v, v * v], dim=-1)


def power_sums(w: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    r"""Power sums :math:`S_{ij} = \sum_p w(p)\,x^i y^j`, ``i, j = 0, 1, 2``, of weights ``(..., H, W)``.

    One pass over the weights (a matrix product with the columns ``[1, x, x^2]``) and a small
    float64 product with ``[1, y, y^2]``; returns ``(..., 3, 3)`` float64. The moments follow from
    :func:`moments_from_sums` (only the entries with ``i + j <= 2`` are used).
    """
    a = (w @ power_basis(xs, w.dtype)).double()  # (..., H, 3): sum_x w(y, x) x^i
    return a.transpose(-1, -2) @ power_basis(ys.double())


def power_sums_separable(wy: torch.Tensor, wx: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor
                         ) -> torch.Tensor:
    r"""Power sums of a product weight :math:`w(y, x) = w_y(y)\,w_x(x)`: ``(..., 3, 3)`` float64.

    :math:`S_{ij} = \big(\sum_x w_x x^i\big)\big(\sum_y w_y y^j\big)`, from ``wy (..., H)`` and
    ``wx (..., W)``; O(H + W) instead of O(HW).
    """
    ax = wx.double() @ power_basis(xs.double())  # (..., 3)
    ay = wy.double() @ power_basis(ys.double())  # (..., 3)
    return ax[..., :, None] * ay[..., None, :]


#: Indices ``(i, j)`` of the power sums :math:`S_{ij}` in the centre (x, y) and the covariance.
_FIRST_I, _FIRST_J = np.array([1, 0]), np.array([0, 1])
_SECOND_I, _SECOND_J = np.array([[2, 1], [1, 0]]), np.array([[0, 1], [1, 2]])


def moments_from_sums(s: ArrayLike) -> tuple[ArrayLike, ArrayLike, ArrayLike]:
    r"""Mass ``(...)``, centre ``(..., 2)`` and covariance ``(..., 2, 2)`` from power sums ``(..., 3, 3)``.

    :math:`M = S_{00}`, :math:`\mu = (S_{10}, S_{01})/M`,
    :math:`\Sigma = \begin{pmatrix} S_{20}/M - \mu_x^2 & S_{11}/M - \mu_x\mu_y \\
    \cdot & S_{02}/M - \mu_y^2\end{pmatrix}`; NaN where :math:`M = 0` (numpy or torch, as given).
    """
    lib = torch if is_torch(s) else np
    m = s[..., 0, 0]
    zero = m == 0
    empty = bool(zero.any())
    safe = lib.where(zero, 1.0, m) if empty else m
    centre = s[..., _FIRST_I, _FIRST_J] / safe[..., None]  # (S_10, S_01) / M
    cov = (s[..., _SECOND_I, _SECOND_J] / safe[..., None, None]  # ((S_20, S_11), (S_11, S_02)) / M
           - centre[..., :, None] * centre[..., None, :])
    if empty:
        centre = lib.where(zero[..., None], np.nan, centre)
        cov = lib.where(zero[..., None, None], np.nan, cov)
    return m, centre, cov


def mass(x: ArrayLike, weights: Weights = "abs") -> ArrayLike:
    r"""Total weight :math:`M = \sum_p w(p)` over the last two axes."""
    t, was = _to_torch(x)
    _check_image(t)
    return _back(weights_of(t, weights).sum(dim=(-2, -1)), was)


def _checked_moments(x: ArrayLike, weights: Weights):
    t, was = _to_torch(x)
    _check_image(t)
    w = weights_of(t, weights)
    if weights == "signed" and bool((w < 0).any()):
        raise ValueError("x has negative values; use weights='abs' or 'relu'")
    xs, ys = coordinates(t.shape[-2], t.shape[-1], dtype=t.dtype, device=t.device)
    m, c, s = moments(w, xs, ys)
    if bool((m == 0).any()):
        raise ValueError("centre of mass is undefined: the image has zero mass")
    return m, c, s, was


def centre_of_mass(x: ArrayLike, weights: Weights = "abs") -> ArrayLike:
    r"""Centre of mass :math:`\mu = (\mu_x, \mu_y)`, shape ``(..., 2)``, origin at the image centre.

    Raises
    ------
    ValueError
        If an image has zero mass (the centre is undefined), or NaN/Inf values.
    """
    _, c, _, was = _checked_moments(x, weights)
    return _back(c, was)


def covariance(x: ArrayLike, weights: Weights = "abs") -> ArrayLike:
    r"""Weighted covariance :math:`\Sigma` of pixel positions, shape ``(..., 2, 2)`` (x, y order)."""
    _, _, s, was = _checked_moments(x, weights)
    return _back(s, was)


def spread2(cov: ArrayLike) -> ArrayLike:
    r"""Spread :math:`\sigma^2 = \operatorname{tr}\Sigma/2` from covariances ``(..., 2, 2)``."""
    return (cov[..., 0, 0] + cov[..., 1, 1]) / 2


def isotropy(cov: ArrayLike) -> ArrayLike:
    r"""Isotropy ratio :math:`\lambda_{min}/\lambda_{max}` of covariances ``(..., 2, 2)``.

    1 for an isotropic spread, 0 for a spread along a line. Uses the closed form of 2x2
    eigenvalues :math:`\tfrac12(a+d) \pm \sqrt{\tfrac14(a-d)^2 + b^2}`.
    """
    a, b, d = cov[..., 0, 0], cov[..., 0, 1], cov[..., 1, 1]
    lib = torch if is_torch(cov) else np
    mid = (a + d) / 2
    rad = lib.sqrt((a - d) ** 2 / 4 + b * b)
    lo, hi = mid - rad, mid + rad
    return lo / hi


def central_row_centre(x: ArrayLike, weights: Weights = "abs") -> ArrayLike:
    """The authors' measurement: 1-D centre of mass along the central row (origin at its middle)."""
    t, was = _to_torch(x)
    _check_image(t)
    h, w = t.shape[-2], t.shape[-1]
    row = weights_of(t[..., h // 2, :], weights)
    xs, _ = coordinates(1, w, dtype=t.dtype, device=t.device)
    m = row.sum(-1)
    if bool((m == 0).any()):
        raise ValueError("central-row centre is undefined: the central row has zero mass")
    return _back((row * xs).sum(-1) / m, was)


def speed(centres: ArrayLike, *, vector: bool = True) -> ArrayLike:
    r"""Mean speed :math:`|\mu(T) - \mu(0)| / T` from a centre trajectory.

    Parameters
    ----------
    centres : array (T+1, ..., 2) or (T+1, ...)
        Centres of mass at t = 0..T: 2-D (``vector=True``, Euclidean norm of the displacement) or
        1-D such as :func:`central_row_centre` (``vector=False``, absolute displacement).
    """
    lib = torch if is_torch(centres) else np
    T = centres.shape[0] - 1
    if T < 1:
        raise ValueError("speed needs at least one step (T >= 1)")
    d = centres[T] - centres[0]
    return (lib.sqrt((d * d).sum(-1)) if vector else lib.abs(d)) / T


@functools.lru_cache(maxsize=256)
def _slope_weights(T: int, period: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Times ``ts`` and weights ``w`` of the least-squares slope :math:`\sum_i w_i d(t_i)` of
    :func:`steady_state_speed` for ``T`` steps (read-only arrays; memoised: a pure function of two
    integers, the same for every run of that length)."""
    ts = np.arange(int(np.ceil(T / 2)), T + 1)
    ts = ts[ts % period == 0]
    if ts.size < 2:
        ts = np.arange(0, T + 1, period)[-2:]
    if ts.size < 2:
        raise ValueError(f"steady-state speed needs two multiples of period {period} within {T} steps")
    tc = ts - ts.mean()
    wts = tc / (tc * tc).sum()
    ts.setflags(write=False)
    wts.setflags(write=False)
    return ts, wts


def steady_state_speed(displacement: ArrayLike, period: int = 1) -> ArrayLike:
    r"""Least-squares slope of displacement against t over the second half of the steps.

    ``displacement`` has shape ``(T+1, ...)`` (e.g. :math:`|\mu(t) - \mu(0)|` or
    :math:`\mu_x(t) - \mu_x(0)`); the fit uses the times :math:`t \in [\lceil T/2 \rceil, T]` that are
    multiples of ``period`` (at least two), so a start-up transient is excluded and a schedule that
    cycles through ``period`` kernels (the alternating 2x2 placement: ``period = 2``) is sampled once
    per cycle instead of fitting its zig-zag.
    """
    d = displacement if is_torch(displacement) else np.asarray(displacement, dtype=float)
    if isinstance(period, bool) or int(period) != period or period < 1:
        raise ValueError(f"period must be a positive integer; got {period!r}")
    T = d.shape[0] - 1
    if T < 1:
        raise ValueError("steady-state speed needs at least one step")
    ts, wts = _slope_weights(T, int(period))
    if is_torch(d):  # copies of the memoised (read-only) arrays: torch does not share those
        return torch.tensordot(torch.tensor(wts, dtype=d.dtype, device=d.device),
                               d[torch.tensor(ts, device=d.device)], dims=1)
    # the product np.tensordot(wts, d[ts], axes=1) makes, without its reshaping overhead
    return np.dot(wts[None], d[ts].reshape(ts.size, -1)).reshape(d.shape[1:])
