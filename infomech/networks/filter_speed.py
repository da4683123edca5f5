r"""The speed law applied to trained filters: a delta through every 3x3 depthwise kernel of a network.

The paper's mechanics says that a kernel's odd energy share :math:`\beta^2` sets the speed of the
centre of mass, :math:`(v/c)^2 = \beta^2`, and its odd part the direction. It was tested on
synthetic kernels only. Here every ``n x n`` depthwise kernel :math:`k` of a trained network acts
alone on one channel: a unit delta at the centre of an ``S x S`` image, ``x <- relu(k * x)``
(cross-correlation, zero padding, no bias, no rescaling: ReLU is positively homogeneous), for
``steps`` steps, with ``S = 2 * r * steps + 3`` so that the light cone never reaches the border.
The measured velocity is :math:`\mathbf v = (\boldsymbol\mu(T)-\boldsymbol\mu(0))/T` (the 2-D centre of
mass of :math:`|x|`, px/step; :func:`infomech.propagation.propagate`).

Predictors, per kernel (:func:`predictors`)
-------------------------------------------
* ``beta_point``, ``beta_square``: :math:`c\sqrt{\beta^2}` under the point and the square split
  (the speed the paper's law predicts; :math:`c = r` = 1 px/step for 3x3);
* ``grad_share``: :math:`c\sqrt{(T_{01}^2+T_{10}^2)/\|k\|^2}`, the share of energy in the first-moment
  (linear) subspace, which for 3x3 is spanned by the two DCT gradients;
* ``first_moment``: :math:`|\mathbf m|` with :math:`\mathbf m = -\sum_d d\,k(d)/\sum_d |k(d)|`, the
  drift per step that the exact law gives for a non-negative kernel (:math:`-\sum_d d\,k(d)/\sum_d
  k(d)`), with :math:`|k|` in the denominator so that it is defined for signed kernels; its angle is
  the predicted direction.

Statistics (:func:`correlations`, :func:`direction_errors`): Spearman's rank correlation between
each predictor and the measured speed, with a seeded percentile bootstrap interval over kernels;
for kernels that move (speed above :data:`MOVING`), the angle between the measured velocity and
:math:`\mathbf m`. Kernels whose state vanishes (ReLU erases everything, e.g. an all-negative kernel)
are counted and left out.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..dct import dct2
from ..decomposition import beta2
from ..kernels import kernel_radius
from ..propagation import propagate
from ..transport import first_moment
from .registry import conv_kernels

#: A kernel "moves" (its direction is defined) above this speed, px/step.
MOVING: float = 0.05
#: Bootstrap resamples (seeded) for the correlation intervals.
N_BOOT: int = 1000
BOOT_SEED: int = 0
PREDICTORS: tuple[str, ...] = ("beta_point", "beta_square", "grad_share", "first_moment")


def depthwise_kernels(source: str, kernel_size: int = 3) -> tuple[np.ndarray, list[str], int]:
    """The non-zero ``n x n`` depthwise kernels of a source, ``(K, n, n)`` float64.

    Returns the kernels, the layer name of each, and how many all-zero (pruned) kernels were left out.
    """
    layers = [la for la in conv_kernels(source, kernel_size) if la.kind == "depthwise"]
    if not layers:
        raise ValueError(f"{source}: no {kernel_size}x{kernel_size} depthwise layers")
    k = np.concatenate([la.array for la in layers])
    names = np.array([la.name for la in layers for _ in range(la.count)])
    live = k.any(axis=(-2, -1))
    return k[live], names[live].tolist(), int((~live).sum())


def first_moment_drift(k: np.ndarray) -> np.ndarray:
    r"""Predicted drift :math:`-\sum_d d\,k(d)/\sum_d|k(d)|` (x, y) px/step of kernels ``(K, n, n)``.

    ``x`` runs along columns, ``y`` along rows, both from the kernel centre; the minus sign is that
    of cross-correlation (a delta becomes the kernel flipped about its centre).
    """
    k = np.asarray(k, dtype=float)
    return -first_moment(k) / np.abs(k).sum((-2, -1))[..., None]


def predictors(k: np.ndarray) -> dict[str, np.ndarray]:
    """The predicted speeds (px/step) of :mod:`this module's notes <infomech.networks.filter_speed>`."""
    k = np.asarray(k, dtype=float)
    c = kernel_radius(k.shape[-1])
    t = dct2(k)
    grad = (t[..., 0, 1] ** 2 + t[..., 1, 0] ** 2) / (t ** 2).sum((-2, -1))
    return {"beta_point": c * np.sqrt(beta2(k, "point")),
            "beta_square": c * np.sqrt(beta2(k, "square")),
            "grad_share": c * np.sqrt(grad),
            "first_moment": np.linalg.norm(first_moment_drift(k), axis=-1)}


@dataclass(frozen=True)
class FilterRun:
    """Measured and predicted motion of a set of kernels (one row per kernel).

    ``velocity`` (K, 2) px/step is NaN where the state vanished (``alive`` False).
    """

    source: str
    steps: int
    layer: list[str]
    kernels: np.ndarray
    velocity: np.ndarray
    predicted: dict[str, np.ndarray]
    drift: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def alive(self) -> np.ndarray:
        """Kernels whose state kept some mass to the last step."""
        return np.isfinite(self.velocity).all(-1)

    @property
    def speed(self) -> np.ndarray:
        """Measured speed ``|v|`` px/step (NaN where the state vanished)."""
        return np.linalg.norm(self.velocity, axis=-1)


def run_filters(source: str, *, steps: int = 10, kernel_size: int = 3) -> FilterRun:
    """Propagate a centred delta through every depthwise kernel of ``source`` (one batched run)."""
    k, names, zero = depthwise_kernels(source, kernel_size)
    r = kernel_size // 2
    size = 2 * r * steps + 3
    x = np.zeros((size, size))
    x[size // 2, size // 2] = 1.0
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*mass vanished.*")
        traj = propagate(x, k, steps, activation="relu", rescale=False, weights="abs")
    vel = traj.displacement("2d")[-1] / steps
    return FilterRun(source, steps, names, k, vel, predictors(k), first_moment_drift(k),
                     {"image_size": size, "activation": "relu", "kernel_size": kernel_size,
                      "zero_kernels": zero})


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation: Pearson's correlation of the average ranks (ties share theirs).

    The value of ``scipy.stats.spearmanr(a, b).statistic``, computed as it does (``np.corrcoef``
    of the two rank vectors, element ``[1, 0]``) without importing ``scipy.stats`` (~1.5 s); NaN
    for fewer than two pairs, a NaN, or a constant input (with a warning, as there).
    """
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if a.size != b.size:
        raise ValueError(f"a and b must have the same length; got {a.size} and {b.size}")
    if a.size < 2:
        return math.nan
    if (a == a[0]).all() or (b == b[0]).all():
        warnings.warn("an input is constant; Spearman's rho is not defined", RuntimeWarning,
                      stacklevel=2)
        return math.nan
    if np.isnan(a).any() or np.isnan(b).any():
        return math.nan
    every = np.arange(a.size)[None]
    return float(np.corrcoef(resample_ranks(a, every)[0], resample_ranks(b, every)[0])[1, 0])


def resample_ranks(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    r"""Average ranks of every bootstrap resample ``x[idx[b]]``, ``(B, n)``, without sorting them.

    With :math:`u_1 < \dots < u_U` the distinct values of ``x`` and :math:`m_{bj}` the number of
    draws of :math:`u_j` in resample :math:`b`, a draw of :math:`u_j` has the average rank
    (1-based, ties share the mean of their ranks)

    .. math:: R_{bj} = \sum_{i<j} m_{bi} + \frac{m_{bj} + 1}{2},

    a half-integer, so every value is exact in float64 and equal to
    ``scipy.stats.rankdata(x[idx[b]])`` (its ``'average'`` method, which computes the same
    expression). One sort of ``x`` replaces ``B`` sorts of the resamples. A resample that draws a
    NaN gets a row of NaN (as ``rankdata``'s default ``nan_policy='propagate'``).

    Parameters
    ----------
    x : array (N,)
        The values.
    idx : int array (B, n)
        Resample indices into ``x``.
    """
    x = np.asarray(x, dtype=float)
    idx = np.asarray(idx)
    if x.ndim != 1 or idx.ndim != 2:
        raise ValueError(f"x must be 1-D and idx 2-D; got shapes {x.shape} and {idx.shape}")
    values, code = np.unique(x, return_inverse=True)
    code = code.reshape(-1)[idx]
    n_res, n_val = idx.shape[0], values.size
    flat = (code + n_val * np.arange(n_res)[:, None]).reshape(-1)
    m = np.bincount(flat, minlength=n_res * n_val).reshape(n_res, n_val)
    twice = 2 * np.cumsum(m, axis=1) - m + 1          # 2 R, an integer
    out = twice.reshape(-1)[flat].reshape(idx.shape) * 0.5
    nan = np.isnan(x)
    if nan.any():
        out[nan[idx].any(axis=1)] = np.nan
    return out


def pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""Pearson's correlation of the rows of ``x`` and ``y`` ``(B, n)``, bit for bit as ``np.corrcoef``.

    Per row, with :math:`\tilde x = x - \bar x`, :math:`\tilde y = y - \bar y` and the
    :math:`2 \times 2` matrix :math:`C = [\tilde x; \tilde y][\tilde x; \tilde y]^T/(n-1)`:
    :math:`r = C_{01}/\sqrt{C_{00}}/\sqrt{C_{11}}`, clipped to :math:`[-1, 1]`. The operations are
    those of ``np.corrcoef(x[b], y[b])[0, 1]`` in the same order (centring, one matrix product
    for all four sums, the factor :math:`1/(n-1)`, the two divisions), batched over rows, so the
    result is identical to the per-row call; a constant row gives NaN as there.
    """
    z = np.stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)], axis=-2)  # (B, 2, n)
    z = z - z.mean(axis=-1, keepdims=True)
    c = np.matmul(z, z.swapaxes(-1, -2))
    c *= np.true_divide(1, z.shape[-1] - 1)
    sd = np.sqrt(np.diagonal(c, axis1=-2, axis2=-1))
    r = c[..., 0, 1] / sd[..., 0] / sd[..., 1]
    return np.clip(r, -1, 1)


#: Resampled values per block of :func:`_boot_rhos` (a block's arrays stay in cache: ~2 MiB each).
_BLOCK_VALUES: int = 1 << 18


def _boot_rhos(preds: Mapping[str, np.ndarray], speed: np.ndarray, n_boot: int,
               seed: int) -> dict[str, np.ndarray]:
    """Spearman's rho of each predictor over the same ``n_boot`` resamples of the kernels.

    The resample indices are ``rng.integers(0, n, (n_boot, n))``, row ``i`` equal to the ``i``-th of
    ``n_boot`` successive calls ``rng.integers(0, n, n)`` (``tests/test_networks_filter_speed.py``
    checks it). Resample ``i`` gives ``np.corrcoef(rankdata(p[idx]), rankdata(speed[idx]))[0, 1]``,
    bit for bit, computed for a block of resamples at a time (:func:`resample_ranks`,
    :func:`pearson_rows`; each row on its own, so the blocking changes no value).
    """
    n = speed.size
    idx = np.random.default_rng(seed).integers(0, n, (n_boot, n))
    out = {name: np.empty(n_boot) for name in preds}
    step = max(1, _BLOCK_VALUES // max(n, 1))
    for lo in range(0, n_boot, step):
        block = idx[lo:lo + step]
        rs = resample_ranks(speed, block)
        for name, p in preds.items():
            out[name][lo:lo + step] = pearson_rows(resample_ranks(p, block), rs)
    return out


def _ci(x: np.ndarray) -> tuple[float, float]:
    lo, hi = np.quantile(x, [0.025, 0.975])
    return float(lo), float(hi)


@dataclass(frozen=True)
class Correlation:
    """Spearman correlation of one predictor with the measured speed, with its 95 % interval.

    ``median_error`` is the median of ``|v_measured - v_predicted|`` in px/step: a predictor can rank
    the kernels well and still be off in value.
    """

    predictor: str
    rho: float
    ci: tuple[float, float]
    n: int
    median_error: float
    boot: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return {"predictor": self.predictor, "spearman": self.rho, "ci95": list(self.ci), "n": self.n,
                "median_abs_error": self.median_error}


def correlations(run: FilterRun, *, n_boot: int = N_BOOT, seed: int = BOOT_SEED
                 ) -> dict[str, Correlation]:
    """Spearman's rho of every predictor with the measured speed (kernels that kept their mass).

    The intervals come from one set of bootstrap resamples shared by all predictors, so
    :func:`rho_difference` can compare two predictors on the same resamples.
    """
    ok = run.alive
    speed = run.speed[ok]
    preds = {name: run.predicted[name][ok] for name in PREDICTORS}
    boot = _boot_rhos(preds, speed, n_boot, seed)
    return {name: Correlation(name, spearman(p, speed), _ci(boot[name]), int(ok.sum()),
                              float(np.median(np.abs(p - speed))), boot[name])
            for name, p in preds.items()}


def rho_difference(corr: Mapping[str, Correlation], a: str, b: str) -> tuple[float, tuple[float, float]]:
    """``rho_a - rho_b`` with its paired 95 % bootstrap interval (same resamples for both)."""
    return corr[a].rho - corr[b].rho, _ci(corr[a].boot - corr[b].boot)


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Unsigned angle in degrees between 2-D vectors ``(..., 2)`` (0 to 180)."""
    cross = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    dot = (a * b).sum(-1)
    return np.degrees(np.abs(np.arctan2(cross, dot)))


def direction_errors(run: FilterRun, moving: float = MOVING) -> np.ndarray:
    """Angle (degrees) between measured velocity and first-moment drift, for kernels that move."""
    ok = run.alive & (run.speed > moving) & (np.linalg.norm(run.drift, axis=-1) > 0)
    return angle_between(run.velocity[ok], run.drift[ok])


def summary(runs: Sequence[FilterRun] | Mapping[str, FilterRun], *, n_boot: int = N_BOOT
            ) -> dict[str, Any]:
    """Per source and pooled: counts, correlations, direction errors (plain Python)."""
    items = runs.items() if isinstance(runs, Mapping) else ((r.source, r) for r in runs)
    out: dict[str, Any] = {}
    for name, run in items:
        corr = correlations(run, n_boot=n_boot)
        ang = direction_errors(run)
        diff, diff_ci = rho_difference(corr, "first_moment", "beta_point")
        out[name] = {
            "kernels": int(run.kernels.shape[0]), "vanished": int((~run.alive).sum()),
            "zero_kernels": int(run.meta.get("zero_kernels", 0)),
            "moving": int(ang.size),
            "correlations": {k: v.to_dict() for k, v in corr.items()},
            "direction_median_deg": float(np.median(ang)) if ang.size else math.nan,
            "direction_within_22_5": float(np.mean(ang < 22.5)) if ang.size else math.nan,
            "rho_first_moment_minus_beta_point": diff,
            "rho_first_moment_minus_beta_point_ci95": list(diff_ci),
        }
    return out
