r"""The linear speed law: fits, the exact curve without negative weights, saturation, predictors.

The paper's claim is :math:`(v/c)^2 = \beta^2`, with :math:`\beta^2 = \|k_o\|^2/\|k\|^2` the odd
energy share and :math:`c = (n-1)/2` the kernel radius (px/step). This module measures how well a
measured curve follows it and gives the exact curve where one exists.

**Exact curve without negative weights.** When every kernel of a schedule is non-negative, ReLU
never acts on a non-negative image, the run is linear and the centre of mass moves by exactly the
kernel's normalised first moment per step (:mod:`infomech.transport`):

.. math::

    \mathbf v = -\frac{1}{P}\sum_{\text{phases } j}\frac{\sum_d k_j(d)\,d}{\sum_d k_j(d)}.

For DCT-beta kernels :math:`k = \sqrt{1-\beta^2}\,\Sigma + \beta\,\nabla_x` this gives
:math:`(v/c)^2 = \kappa\,\beta^2/(1-\beta^2)`, with :math:`\kappa = 1` for 2x2 and :math:`2/3`
for 3x3 (:math:`v = \tfrac{\sqrt6}{3}\sqrt{\beta^2/(1-\beta^2)}` px/step), valid up to the largest
:math:`\beta^2` with :math:`\min k \ge 0` (0.5 for 2x2, 0.4 for 3x3). Nothing is typed here: the
curve and its range of validity are computed from the kernels themselves (:func:`exact_speed`,
:func:`nonneg_limit`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels as _kernels
from .observables import steady_state_speed
from .sweeps import family_run  # noqa: F401  (re-exported: the chapters' entry point)
from .transport import kernel_moments


@dataclass(frozen=True)
class LineFit:
    """Least-squares line ``y = slope * x + intercept`` and the deviation from ``y = x``.

    Attributes
    ----------
    slope, intercept : float
        Ordinary least squares.
    r2 : float
        Coefficient of determination of the fitted line.
    r2_identity : float
        :math:`1 - \\sum (y-x)^2 / \\sum (y-\\bar y)^2`: how much of the variance ``y = x`` explains
        (negative when it is worse than the mean).
    max_dev : float
        :math:`\\max |y - x|`, the largest deviation from the identity line.
    rmse : float
        Root-mean-square deviation from ``y = x``.
    n : int
        Number of points used.
    """

    slope: float
    intercept: float
    r2: float
    r2_identity: float
    max_dev: float
    rmse: float
    n: int


def fit_line(x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> LineFit:
    """Fit ``y = a x + b`` by least squares and measure the deviation of ``y`` from ``y = x``.

    Parameters
    ----------
    x, y : arrays (N,)
    mask : bool array (N,), optional
        Points to use (default: all finite points).
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape; got {x.shape} and {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y)
    if mask is not None:
        keep &= np.asarray(mask, dtype=bool).ravel()
    x, y = x[keep], y[keep]
    if x.size < 2 or np.ptp(x) == 0:
        raise ValueError("fit_line needs at least two distinct x values")
    slope, intercept = np.polyfit(x, y, 1)
    ss_tot = float(((y - y.mean()) ** 2).sum())
    ss_fit = float(((y - (slope * x + intercept)) ** 2).sum())
    ss_id = float(((y - x) ** 2).sum())
    r2 = 1.0 - ss_fit / ss_tot if ss_tot > 0 else float("nan")
    r2_id = 1.0 - ss_id / ss_tot if ss_tot > 0 else float("nan")
    return LineFit(float(slope), float(intercept), r2, r2_id, float(np.abs(y - x).max()),
                   float(np.sqrt(ss_id / x.size)), int(x.size))


def schedule_drift(schedule: list[np.ndarray] | np.ndarray) -> np.ndarray:
    """Mean drift per step ``(K, 2)`` (x, y) of a kernel schedule cycled over its phases.

    Exact for non-negative kernels and a number of steps that is a multiple of the period.
    """
    seq = schedule if isinstance(schedule, list | tuple) else [schedule]
    drifts = []
    for k in seq:
        k = np.asarray(k, dtype=float)
        drifts.append(exact_drift(k[None] if k.ndim == 2 else k, nonnegative_only=False))
    return np.mean(drifts, axis=0)


def exact_drift(kernels: np.ndarray, *, nonnegative_only: bool = True, tol: float = 1e-12) -> np.ndarray:
    """Drift per step ``(K, 2)`` of kernels ``(K, n, n)`` by the exact law, NaN where it does not apply.

    The law (:func:`infomech.transport.kernel_moments`) holds for kernels without negative weights;
    where a kernel has one (``nonnegative_only``) or sums to zero (no normalised moment), the
    drift is NaN instead of an error, so a whole family can be passed at once.
    """
    k = np.asarray(kernels, dtype=float)
    flat = k.reshape(k.shape[:-2] + (-1,))
    ok = flat.sum(-1) > tol
    if nonnegative_only:
        ok &= flat.min(-1) >= -tol
    out = np.full(k.shape[:-2] + (2,), np.nan)
    if ok.any():
        out[ok] = kernel_moments(k[ok])[1]
    return out


def nonnegative(schedule: list[np.ndarray] | np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """``(K,)`` bool: every phase of the kernel has no weight below ``-tol``."""
    seq = schedule if isinstance(schedule, list | tuple) else [schedule]
    mins = []
    for k in seq:
        a = np.asarray(k, dtype=float)
        mins.append(np.atleast_1d(a.reshape(a.shape[:-2] + (-1,)).min(-1)))
    return np.all(np.stack(mins) >= -tol, axis=0)


def exact_speed(family: str, beta2: np.ndarray, n: int) -> dict[str, np.ndarray]:
    r"""Exact speed of a family where its kernels are non-negative (ReLU inactive).

    Returns
    -------
    dict of arrays (B,)
        ``beta2``; ``speed`` :math:`|\mathbf v|` in px/step (NaN where a kernel has a negative
        weight, where the law does not apply); ``v_over_c_sq``; ``valid`` (bool); ``c``.
    """
    b = np.atleast_1d(np.asarray(beta2, dtype=float))
    schedule, c = _kernels.family(family, b, n)
    v = np.linalg.norm(schedule_drift(schedule), axis=-1)
    valid = nonnegative(schedule)
    v = np.where(valid, v, np.nan)
    return {"beta2": b, "speed": v, "v_over_c_sq": (v / c) ** 2, "valid": valid,
            "c": np.full_like(b, c)}


def nonneg_limit(family: str, n: int, tol: float = 1e-12) -> float:
    r"""Largest :math:`\beta^2` for which the family's kernel has no negative weight (bisection).

    Assumes the non-negative kernels form an interval :math:`[0, \beta^2_*]` (true for both
    families: the negative weights grow monotonically with :math:`\beta`). Returns 1.0 when even
    :math:`\beta^2 = 1` is non-negative.
    """
    def ok(b: float) -> bool:
        return bool(nonnegative(_kernels.family(family, np.array([b]), n)[0])[0])

    if not ok(0.0):
        raise ValueError(f"the {family} family of size {n} has negative weights already at beta^2 = 0")
    if ok(1.0):
        return 1.0
    lo, hi = 0.0, 1.0
    while hi - lo > tol:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def kappa(family: str, n: int, beta2: float = 0.1) -> float:
    r"""The constant :math:`\kappa` of :math:`(v/c)^2 = \kappa\,\beta^2/(1-\beta^2)`, from one kernel.

    Evaluated at a non-negative ``beta2``; :func:`exact_speed` is the curve itself (the tests check
    that it has this form).
    """
    e = exact_speed(family, np.array([beta2]), n)
    if not e["valid"][0]:
        raise ValueError(f"beta2 = {beta2} is outside the non-negative range of {family} {n}x{n}")
    return float(e["v_over_c_sq"][0] * (1 - beta2) / beta2)


def saturation_onset(beta2: np.ndarray, v_over_c: np.ndarray, tol: float = 0.01) -> float:
    """Smallest ``beta2`` from which on ``v/c >= 1 - tol`` at every larger ``beta2`` (NaN: never)."""
    b = np.asarray(beta2, dtype=float)
    r = np.asarray(v_over_c, dtype=float)
    order = np.argsort(b)
    b, r = b[order], r[order]
    sat = r >= 1 - tol
    if not sat[-1]:
        return float("nan")
    # last index that is not saturated; onset is the next one
    bad = np.nonzero(~sat)[0]
    return float(b[0] if bad.size == 0 else b[bad[-1] + 1])


def first_above(beta2: np.ndarray, y: np.ndarray, level: float = 1.0, tol: float = 1e-9) -> float:
    """Smallest ``beta2`` with ``y > level + tol`` (NaN when none)."""
    b = np.asarray(beta2, dtype=float)
    idx = np.nonzero(np.asarray(y, dtype=float) > level + tol)[0]
    return float(b[idx].min()) if idx.size else float("nan")


def predictor_comparison(beta2: np.ndarray, v_over_c: np.ndarray, mask: np.ndarray | None = None
                         ) -> dict[str, LineFit]:
    r"""Which predicts :math:`v/c` better: :math:`\beta` (norm ratio) or :math:`\beta^2` (energy ratio)?

    ``v/c = beta`` is the paper's plotted law (:math:`(v/c)^2=\beta^2`); ``v/c = beta^2`` is the
    abstract's wording (speed linear in the energy ratio). Returns a :class:`LineFit` of ``v/c``
    against each predictor: its ``rmse``/``max_dev``/``r2_identity`` score the predictor used as is
    (``v/c = x``), its ``r2`` the best straight line in that predictor.
    """
    b2 = np.asarray(beta2, dtype=float)
    r = np.asarray(v_over_c, dtype=float)
    return {"beta": fit_line(np.sqrt(b2), r, mask), "beta2": fit_line(b2, r, mask)}


def speeds_at(distance: np.ndarray, times: list[int] | tuple[int, ...]) -> np.ndarray:
    """Mean speeds ``|mu(t) - mu(0)| / t`` at several ``times`` from a distance curve ``(T+1, K)``.

    Equivalent to separate runs of ``t`` steps (a run's first ``t`` steps do not depend on ``T``).
    """
    d = np.asarray(distance, dtype=float)
    ts = [int(t) for t in times]
    if any(t < 1 or t >= d.shape[0] for t in ts):
        raise ValueError(f"times must lie in [1, {d.shape[0] - 1}]; got {ts}")
    return np.stack([d[t] / t for t in ts])


def steady_speed(distance: np.ndarray, period: int = 1) -> np.ndarray:
    """Steady-state speed sampled once per schedule cycle (see observables.steady_state_speed)."""
    return steady_state_speed(np.asarray(distance, dtype=float), period)


def steady_speeds_at(distance: np.ndarray, ends: list[int] | tuple[int, ...], period: int = 1) -> np.ndarray:
    r"""Steady-state speed estimated from runs of several lengths, from one distance curve ``(T+1, K)``.

    Row ``i`` is the slope of :math:`|\mu(t) - \mu(0)|` over the second half
    :math:`t \in [\lceil T_i/2\rceil, T_i]` of a run of :math:`T_i` = ``ends[i]`` steps (once per
    schedule cycle of ``period`` steps): what :meth:`Trajectory.steady_state_speed` would return
    for that run, since a run's first :math:`T_i` steps do not depend on its length. If the
    estimates keep changing as :math:`T_i` grows, the run has not reached a steady state.

    Returns
    -------
    array (len(ends), K)
    """
    d = np.asarray(distance, dtype=float)
    ts = [int(t) for t in ends]
    if any(t < 1 or t >= d.shape[0] for t in ts):
        raise ValueError(f"ends must lie in [1, {d.shape[0] - 1}]; got {ts}")
    return np.stack([steady_state_speed(d[: t + 1], period) for t in ts])
