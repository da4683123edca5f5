r"""Statistics layer: least-squares slopes and lines, log-log exponents, correlations, bootstrap
intervals.

One home for the fits the chapters and the concept modules use. Every function is a small pure
numpy function; none depends on the instruction set beyond ordinary float64 round-off.

* :func:`slope` -- least-squares slope :math:`\hat a = \sum_i (t_i - \bar t)\,y_i / \sum_i (t_i - \bar t)^2`
  of many series at once;
* :func:`line` -- slope and intercept of :math:`y = a x + b`;
* :func:`fit_line` -- that line with its deviation from :math:`y = x` (:class:`LineFit`: the speed
  law's :math:`(v/c)^2` against :math:`\beta^2`);
* :func:`loglog_slope` -- the exponent :math:`\alpha` of :math:`y \propto x^\alpha` (a line in log-log);
* :func:`correlation` -- Pearson's :math:`r` over the finite pairs;
* :func:`bootstrap_interval` -- seeded percentile bootstrap interval of a statistic of a sample;
* :func:`mean_interval` -- the mean with its bootstrap interval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Resamples and seed of :func:`bootstrap_interval` (fixed: the same data give the same interval).
N_BOOT = 2000
BOOT_SEED = 12345


def slope(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""Least-squares slope of ``y`` ``(T, ...)`` against times ``t`` ``(T,)``, batched over ``...``.

    :math:`\hat a = \sum_i (t_i - \bar t)\,y_i / \sum_i (t_i - \bar t)^2`. Needs two distinct times.
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if t.ndim != 1 or y.shape[:1] != t.shape:
        raise ValueError(f"slope: t must be (T,) and y (T, ...); got {t.shape} and {y.shape}")
    tc = t - t.mean()
    den = float((tc * tc).sum())
    if den == 0.0:
        raise ValueError("slope needs at least two distinct times")
    return np.tensordot(tc / den, y, axes=1)


def line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope ``a`` and intercept ``b`` of the least-squares line ``y = a x + b`` (finite pairs only)."""
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"line: x and y must have the same size; got {x.size} and {y.size}")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 2 or np.ptp(x) == 0:
        raise ValueError("line needs at least two distinct finite x values")
    a = float(slope(x, y))
    return a, float(y.mean() - a * x.mean())


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
    a, b = line(x, y)
    ss_tot = float(((y - y.mean()) ** 2).sum())
    ss_fit = float(((y - (a * x + b)) ** 2).sum())
    ss_id = float(((y - x) ** 2).sum())
    r2 = 1.0 - ss_fit / ss_tot if ss_tot > 0 else float("nan")
    r2_id = 1.0 - ss_id / ss_tot if ss_tot > 0 else float("nan")
    return LineFit(a, b, r2, r2_id, float(np.abs(y - x).max()),
                   float(np.sqrt(ss_id / x.size)), int(x.size))


def loglog_slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    r"""Exponent :math:`\alpha` and log-intercept of :math:`y = e^{b} x^{\alpha}` (least squares in
    :math:`\log y` against :math:`\log x`). ``x`` and ``y`` must be positive."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("loglog_slope needs positive x and y")
    return line(np.log(x), np.log(y))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two flattened arrays over entries finite in both (at least 3)."""
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        raise ValueError("need at least 3 finite pairs for a correlation")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def bootstrap_interval(values: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray] | None = None,
                       *, level: float = 0.95, n_boot: int = N_BOOT, seed: int = BOOT_SEED
                       ) -> tuple[float, float]:
    r"""Percentile bootstrap interval of ``statistic`` (default: the mean) of the sample ``values``.

    Resamples the first axis of ``values`` ``n_boot`` times with replacement (seeded generator), and
    returns the :math:`(1 \mp \text{level})/2` quantiles of the resampled statistic.

    Parameters
    ----------
    values : array (N, ...)
        The sample; its first axis is the unit that is resampled.
    statistic : callable, optional
        Maps a batch of resamples ``(n_boot, N, ...)`` to ``(n_boot,)``; default the mean over
        axis 1.
    """
    x = np.asarray(values, dtype=float)
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError("a bootstrap needs at least one value")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}")
    idx = np.random.default_rng(seed).integers(0, x.shape[0], size=(int(n_boot), x.shape[0]))
    stat = (lambda s: s.mean(axis=1)) if statistic is None else statistic
    draws = np.asarray(stat(x[idx]), dtype=float).reshape(int(n_boot))
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def mean_interval(values: np.ndarray, *, level: float = 0.95, seed: int = BOOT_SEED
                  ) -> tuple[float, float, float]:
    """The mean of ``values`` and its percentile bootstrap interval: ``(mean, lo, hi)``."""
    x = np.asarray(values, dtype=float).ravel()
    lo, hi = bootstrap_interval(x, level=level, seed=seed)
    return float(x.mean()), lo, hi


__all__ = ["BOOT_SEED", "N_BOOT", "LineFit", "bootstrap_interval", "correlation", "fit_line", "line",
           "loglog_slope", "mean_interval", "slope"]
