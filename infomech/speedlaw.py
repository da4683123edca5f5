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
from .numbers import grid
from .observables import steady_state_speed
from .stats import LineFit, fit_line
from .transport import kernel_moments


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


def beta2_grid(text: str) -> np.ndarray:
    """The grid ``"a:b:step"`` (e.g. ``"0:1:0.01"``), both ends included (:func:`infomech.numbers.grid`)."""
    try:
        a, b, s = (float(x) for x in str(text).split(":"))
    except ValueError:
        raise ValueError(f"a grid is written 'start:stop:step'; got {text!r}") from None
    return grid(a, b, s)


def onset_label(beta2: float) -> str:
    """A saturation onset for people: ``"never"`` for NaN, else two decimals (``"0.97"``)."""
    return "never" if np.isnan(beta2) else f"{beta2:.2f}"


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


# --------------------------------------------------------------------------------------------
# tie-robust summaries of a curve
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Band:
    """The range of ``x`` where a curve stays within a fraction of its maximum.

    Attributes
    ----------
    lo, hi : float
        Smallest and largest grid ``x`` with ``y >= level`` (NaN when the curve is never positive).
    level : float
        ``frac * max(y)``.
    peak : float
        ``max(y)``.
    margin : float
        Smallest distance :math:`|y_i - \\text{level}|` over the grid: how far every point is from
        flipping in or out of the band. A published band is reproducible across machines when the
        margin is far above round-off (the tests check it).
    """

    lo: float
    hi: float
    level: float
    peak: float
    margin: float


def band(x: np.ndarray, y: np.ndarray, frac: float = 0.5, floor: float = 1e-9) -> Band:
    r"""Tie-robust location of a peak: where :math:`y \ge` ``frac`` :math:`\cdot \max y`.

    An argmax over a nearly flat curve flips with the last bit of the computation (0.69 on one CPU,
    0.75 on another); the band of values within a fraction of the maximum does not, unless a grid
    point sits on the level itself (reported as ``margin``). A curve whose maximum is below
    ``floor`` is round-off, not a peak: its band is NaN.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape or x.size == 0:
        raise ValueError(f"x and y must be non-empty and of the same shape; got {x.shape}, {y.shape}")
    if not 0 < frac <= 1:
        raise ValueError(f"frac must lie in (0, 1]; got {frac}")
    peak = float(np.nanmax(y))
    if not peak > floor:
        return Band(float("nan"), float("nan"), 0.0, peak, float("inf"))
    level = frac * peak
    on = y >= level
    return Band(float(x[on].min()), float(x[on].max()), level, peak,
                float(np.nanmin(np.abs(y - level))))


# --------------------------------------------------------------------------------------------
# the exact 1-D reduction of DCT-beta runs (separable states)
# --------------------------------------------------------------------------------------------

def row_factor(kernels: np.ndarray, rtol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    r"""Factors :math:`k(y, x) = u(y)\,b(x)` of rank-one kernels with a positive column factor.

    Returns ``(u, b)`` of shapes ``(K, n)`` with :math:`u > 0` and :math:`\|u\|_2 = 1` (for
    DCT-beta kernels :math:`u = n^{-1/2}(1,\dots,1)` and ``b`` is the kernel's row times
    :math:`\sqrt n`). Raises if a kernel is not of that form.
    """
    k = np.asarray(kernels, dtype=float)
    if k.ndim == 2:
        k = k[None]
    if k.ndim != 3 or k.shape[-1] != k.shape[-2]:
        raise ValueError(f"kernels must have shape (K, n, n); got {k.shape}")
    col = np.abs(k).sum(-1)  # (K, n): column profile magnitude
    u = col / np.linalg.norm(col, axis=-1, keepdims=True)
    b = np.einsum("ky,kyx->kx", u, k)
    if not np.allclose(u[..., :, None] * b[..., None, :], k, rtol=0, atol=rtol * np.abs(k).max()):
        raise ValueError("kernels are not of the form u(y) b(x) with u > 0")
    if (u <= 0).any():
        raise ValueError("the column factor of a kernel is not positive")
    return u, b


#: The positively homogeneous activations, for which :func:`row_run` is exact (numpy versions,
#: in place), and whether their output is non-negative.
_ROW_ACTIVATIONS = {"relu": (lambda z: np.maximum(z, 0.0, out=z), True),
                    "abs": (lambda z: np.abs(z, out=z), True),
                    "none": (lambda z: z, False)}


def row_run(b: np.ndarray, steps: int, activation: str = "relu") -> dict[str, np.ndarray]:
    r"""The 1-D run :math:`g_{t+1} = \mathrm{act}(b \star g_t)` from :math:`g_0 = \delta`, exactly.

    **Why it is exact.** A DCT-beta kernel is :math:`k = u \otimes b` with a positive column factor
    :math:`u` (:func:`row_factor`) and a single pixel is :math:`\delta \otimes \delta`. If
    :math:`x_t = f_t \otimes g_t` with :math:`f_t \ge 0`, then :math:`k \star x_t = (u \star f_t)
    \otimes (b \star g_t)` and, for a positively homogeneous activation (ReLU, identity, abs),
    :math:`\mathrm{act}(k \star x_t) = (u \star f_t) \otimes \mathrm{act}(b \star g_t)`. So the
    column profile :math:`f_t = u^{\star t} \star \delta` evolves (it spreads like a random walk),
    but it is the same for every column and it never changes sign; the weights of the centre of
    mass factor, :math:`|x_t| = f_t \otimes |g_t|`, and the horizontal centre of mass of the 2-D
    state is the centre of mass of :math:`|g_t|`. The rescaling by the standard deviation is a
    positive factor and drops out too. The 1-D state is renormalised to max 1 every step and
    trimmed to its non-zero support, so runs of :math:`10^5` steps are cheap.

    Returns
    -------
    dict of arrays (T+1,)
        ``centre`` (centre of mass of :math:`|g_t|`, px from the start), ``front`` and ``rear``
        (rightmost and leftmost non-zero pixel), ``width`` (support length).
    """
    b = np.asarray(b, dtype=float).ravel()
    n = b.size
    if n < 2:
        raise ValueError("b must have at least two taps")
    T = int(steps)
    if T < 0:
        raise ValueError(f"steps must be >= 0; got {steps}")
    if activation not in _ROW_ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ROW_ACTIVATIONS)} (positively "
                         f"homogeneous, so that the 1-D reduction is exact); got {activation!r}")
    act, nonneg = _ROW_ACTIVATIONS[activation]
    r_left = (n - 1) // 2  # output p reads p - r_left .. p + n - 1 - r_left
    pad = n - 1
    cap = 1 + T * pad  # the support grows by at most n - 1 per step
    # the state g lives in buf[pad:pad + size], zeros on both sides (the zero padding of the
    # correlation); its first pixel sits at x0, and its pixels' positions are the view
    # pos[x0 + T * pad:][:size] (|x0| <= T * pad)
    buf = np.zeros(cap + 2 * pad)
    buf[pad] = 1.0
    size, x0 = 1, 0
    pos = np.arange(-T * pad, T * pad + cap, dtype=float)
    prod = np.empty(cap)
    out = {k: np.zeros(T + 1) for k in ("centre", "front", "rear", "width")}
    out["width"][0] = 1
    for t in range(1, T + 1):
        new = act(np.correlate(buf[:size + 2 * pad], b, "valid"))  # new[i] = sum_d b[d] gp[i + d]
        x0 -= pad - r_left
        m = _max(new if nonneg else np.abs(new))
        if not m > 0:
            raise ValueError(f"the state vanished at step {t}")
        lo, hi = _support(new)
        g = buf[pad:pad + hi - lo]
        np.divide(new[lo:hi], m, out=g)
        if size > hi - lo:
            buf[pad + hi - lo:pad + size] = 0.0
        size = hi - lo
        x0 += lo
        w = g if nonneg else np.abs(g)
        wx = np.multiply(w, pos[x0 + T * pad:x0 + T * pad + size], out=prod[:size])
        out["centre"][t] = float(_sum(wx) / _sum(w))
        out["front"][t], out["rear"][t], out["width"][t] = x0 + size - 1, x0, size
    return out


#: ``ndarray.sum()`` and ``.max()`` without their Python wrappers (the same reductions; the loop of
#: :func:`row_run` calls them ~10^5 times)
_sum, _max = np.add.reduce, np.maximum.reduce


def _support(z: np.ndarray, scan: int = 8) -> tuple[int, int]:
    """``(lo, hi)``: the non-zero entries of ``z`` (not all zero) lie in ``z[lo:hi]``, both ends
    non-zero. A state trimmed every step gains zeros mostly at its ends, so each end is scanned
    for ``scan`` entries before falling back to :func:`numpy.flatnonzero`."""
    n = z.size
    lo = 0
    while lo < scan and lo < n and z[lo] == 0:
        lo += 1
    hi = n
    while n - hi < scan and hi > lo and z[hi - 1] == 0:
        hi -= 1
    if lo == scan or n - hi == scan:
        nz = np.flatnonzero(z)
        lo, hi = int(nz[0]), int(nz[-1]) + 1
    return lo, hi


@dataclass(frozen=True)
class LongTimeLimit:
    r"""Steady speed estimates of ever longer runs and the limit they approach.

    Attributes
    ----------
    ends : tuple of int
        Run lengths T (doubling).
    estimates : array
        Centre-of-mass slope over :math:`[T/2, T]` divided by ``c``, per T.
    front : array
        The same for the front (rightmost non-zero pixel).
    ratio : float
        Largest ratio of successive increments of ``estimates`` over the last three doublings.
    limit : float
        ``estimates[-1] + tail``, the geometric extrapolation.
    tail : float
        :math:`\Delta_{last}\, q/(1-q)` with :math:`q` = ``ratio``: the rise still to come if the
        increments keep shrinking at least that fast (an assumption the table lets a reader check).
    """

    ends: tuple[int, ...]
    estimates: np.ndarray
    front: np.ndarray
    ratio: float
    limit: float
    tail: float


def long_time_limit(b: np.ndarray, c: float, ends: tuple[int, ...] = (1000, 2000, 4000, 8000, 16000, 32000),
                    activation: str = "relu") -> LongTimeLimit:
    r"""Long-time speed of a DCT-beta run from its exact 1-D reduction (:func:`row_run`).

    The estimates at doubling run lengths increase monotonically; their increments shrink by a
    factor :math:`q < 1` per doubling, so the limit is bracketed by the last estimate and the
    geometric extrapolation ``limit`` (both returned).
    """
    ends = tuple(int(e) for e in ends)
    if len(ends) < 4 or any(b2 != 2 * a for a, b2 in zip(ends, ends[1:], strict=False)):
        raise ValueError(f"ends must be at least four doubling run lengths; got {ends}")
    run = row_run(b, ends[-1], activation)
    est = steady_speeds_at(run["centre"][:, None], ends)[:, 0] / c
    front = steady_speeds_at(run["front"][:, None], ends)[:, 0] / c
    inc = np.diff(est)
    q = float(np.max(inc[-2:] / inc[-3:-1]))
    if not 0 < q < 1 or inc[-1] <= 0:
        raise ValueError(f"the estimates do not converge geometrically (increment ratio {q:.3g})")
    tail = float(inc[-1] * q / (1 - q))
    return LongTimeLimit(ends, est, front, q, float(est[-1] + tail), tail)


# --------------------------------------------------------------------------------------------
# the 2x2 placement of the authors' scripts
# --------------------------------------------------------------------------------------------

def authors_2x2(k: np.ndarray) -> list[np.ndarray]:
    """The 2x2 placement of the authors' script ``distance_single_pixel_relu_for_paper.py``.

    Their 3x3 grid holds the 2x2 kernel in rows 1-2, columns 0-1 (bottom-left) on even steps and
    in rows 0-1, columns 1-2 (top-right) on odd steps. :func:`infomech.kernels.alternating_2x2`
    uses top-left then bottom-right: the same columns, the rows in the other order, i.e. the
    mirror image in ``y``. For a kernel that is constant along ``y`` (every DCT-beta kernel) and a
    pattern symmetric in ``y`` this changes the sign of the half-pixel ``y`` zig-zag and nothing else.
    """
    from .kernels import embed

    k = np.asarray(k, dtype=float)
    if k.shape[-1] != 2 or k.shape[-2] != 2:
        raise ValueError(f"authors_2x2 needs 2x2 kernels; got {k.shape}")
    return [embed(k, 3, (1, 0)), embed(k, 3, (0, 1))]


# --------------------------------------------------------------------------------------------
# direction: steered DCT-beta kernels and the light cone of a square kernel
# --------------------------------------------------------------------------------------------

def light_cone_speed(theta: np.ndarray, n: int) -> np.ndarray:
    r"""Largest distance per step along direction :math:`\theta` for an ``n x n`` kernel.

    A kernel of radius :math:`c = (n-1)/2` moves content by at most :math:`c` px along each axis
    per step, so its light cone is a square and along :math:`\theta` the limit is
    :math:`c(\theta) = c/\max(|\cos\theta|, |\sin\theta|)` (:math:`\sqrt2\,c` on a diagonal).
    """
    th = np.asarray(theta, dtype=float)
    c = _kernels.kernel_radius(n)
    return c / np.maximum(np.abs(np.cos(th)), np.abs(np.sin(th)))


def direction_sweep(beta2: np.ndarray, theta_deg: np.ndarray, n: int = 3, *, steps: int = 10,
                    size: int = 301, activation: str = "relu") -> dict[str, np.ndarray]:
    r"""Speed and direction of steered DCT-beta kernels, one batched run over all (theta, beta^2).

    Kernels :math:`\sqrt{1-\beta^2}\,\Sigma + \beta(\cos\theta\,\nabla_x + \sin\theta\,\nabla_y)`
    (:func:`infomech.kernels.dct_beta` with ``theta``) on a single pixel, std rescaling.

    Returns
    -------
    dict of arrays (A, B)
        ``speed`` (px/step, 2-D centre of mass), ``angle`` (direction of motion, degrees),
        ``v_over_c`` (speed over the axis limit :math:`c`), ``v_over_c_theta`` (over
        :func:`light_cone_speed`), and ``beta2`` (B,), ``theta_deg`` (A,).
    """
    from .patterns import delta
    from .propagation import propagate
    from .sweeps import check_inside

    b = np.atleast_1d(np.asarray(beta2, dtype=float))
    th = np.atleast_1d(np.asarray(theta_deg, dtype=float))
    ks = np.concatenate([_kernels.dct_beta(b, n, theta=float(np.radians(a))) for a in th])
    x0 = delta(size)
    check_inside(x0, n // 2, steps)
    tr = propagate(x0, ks, steps, activation=activation, rescale=True)
    d = tr.displacement()[-1].reshape(th.size, b.size, 2)
    speed = np.linalg.norm(d, axis=-1) / steps
    c = _kernels.kernel_radius(n)
    ang = np.degrees(np.arctan2(d[..., 1], d[..., 0]))
    return {"beta2": b, "theta_deg": th, "speed": speed, "angle": ang, "v_over_c": speed / c,
            "v_over_c_theta": speed / light_cone_speed(np.radians(th), n)[:, None]}
