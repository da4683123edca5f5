r"""Measures of odd displacement: steering direction error, bipolar oscillation, fronts, cores.

Conventions as in :mod:`infomech.kernels`: cross-correlation, x to the right, y downwards, angles
from +x towards +y. All functions are batched over kernels (the ``K`` axis of a
:class:`infomech.propagation.Trajectory`).
"""

from __future__ import annotations

import numpy as np

from .dct import named_basis
from .kernels import steered_gradient


def steered_beta(theta: np.ndarray, beta2: float, n: int = 3) -> np.ndarray:
    r"""DC plus a steered gradient: :math:`\sqrt{1-\beta^2}\,\Sigma + \beta(\cos\theta\,\nabla_x +
    \sin\theta\,\nabla_y)`, unit norm, shape ``(B, n, n)`` for ``B`` angles."""
    if not 0 <= beta2 <= 1:
        raise ValueError(f"beta2 must lie in [0, 1]; got {beta2}")
    th = np.atleast_1d(np.asarray(theta, dtype=float))
    return np.sqrt(1 - beta2) * named_basis("Sigma", n) + np.sqrt(beta2) * steered_gradient(th, n)


def wrap_degrees(a: np.ndarray) -> np.ndarray:
    """Angles in degrees wrapped to ``[-180, 180)``."""
    return (np.asarray(a, dtype=float) + 180.0) % 360.0 - 180.0


def direction(displacement: np.ndarray) -> np.ndarray:
    """Direction in radians of displacements ``(..., 2)`` (x, y), from +x towards +y."""
    d = np.asarray(displacement, dtype=float)
    return np.arctan2(d[..., 1], d[..., 0])


def direction_error(displacement: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Signed angle in degrees from the intended direction ``theta`` (radians) to a displacement."""
    return wrap_degrees(np.degrees(direction(displacement) - np.asarray(theta, dtype=float)))


def oscillation(centre: np.ndarray, still: float = 1e-9) -> dict[str, np.ndarray]:
    r"""Net drift against per-step motion of centre trajectories ``(T+1, K, 2)``.

    Returns
    -------
    dict of arrays (K,)
        ``net``: :math:`|\mu_T - \mu_0| / T` (px/step); ``step``: mean per-step motion
        :math:`\frac1T\sum_t |\mu_{t+1} - \mu_t|`; ``amplitude``: largest excursion
        :math:`\max_t |\mu_t - \mu_0|`; ``ratio``: ``net / step`` (0 for a pure oscillation, 1 for
        steady motion in one direction; 0 where the centre moves less than ``still`` px per step).
    """
    c = np.asarray(centre, dtype=float)
    T = c.shape[0] - 1
    if T < 1:
        raise ValueError("oscillation needs at least one step")
    net = np.linalg.norm(c[-1] - c[0], axis=-1) / T
    step = np.linalg.norm(np.diff(c, axis=0), axis=-1).mean(0)
    amp = np.linalg.norm(c - c[0], axis=-1).max(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(step > still, net / step, 0.0)
    return {"net": net, "step": step, "amplitude": amp, "ratio": ratio}


def front_position(x: np.ndarray, theta: float = 0.0, rel: float = 1e-6) -> np.ndarray:
    r"""Leading-edge position of images ``(..., H, W)`` along direction ``theta``.

    The largest :math:`x\cos\theta + y\sin\theta` (pixels from the image centre) over the pixels
    whose magnitude exceeds ``rel`` times the image's maximum magnitude; NaN for an empty image.
    """
    a = np.abs(np.asarray(x, dtype=float))
    H, W = a.shape[-2:]
    ys, xs = np.mgrid[0:H, 0:W]
    proj = (xs - (W - 1) / 2) * np.cos(theta) + (ys - (H - 1) / 2) * np.sin(theta)
    peak = a.reshape(a.shape[:-2] + (-1,)).max(-1)[..., None, None]
    on = (a > rel * peak) & (peak > 0)
    out = np.where(on, proj, -np.inf).reshape(a.shape[:-2] + (-1,)).max(-1)
    return np.where(np.isfinite(out), out, np.nan)


def radial_fraction(x: np.ndarray, radius: float, centre: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Fraction of the mass :math:`\\sum|x|` of images ``(..., H, W)`` within ``radius`` of ``centre``.

    ``centre`` is (x, y) in pixels from the image centre. NaN for an image of zero mass.
    """
    a = np.abs(np.asarray(x, dtype=float))
    H, W = a.shape[-2:]
    ys, xs = np.mgrid[0:H, 0:W]
    inside = (xs - (W - 1) / 2 - centre[0]) ** 2 + (ys - (H - 1) / 2 - centre[1]) ** 2 <= radius**2
    tot = a.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, (a * inside).sum(axis=(-2, -1)) / tot, np.nan)


def slope(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of ``y`` ``(T, ...)`` against times ``t`` ``(T,)``."""
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    tc = t - t.mean()
    return np.tensordot(tc / (tc * tc).sum(), y, axes=1)
