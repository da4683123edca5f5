"""Speed-law sweeps: one batched propagation over all beta^2 values of a kernel family."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from . import kernels as _kernels
from . import patterns as _patterns
from .propagation import Activation, propagate

DEFAULT_BETA2 = np.round(np.linspace(0.0, 1.0, 101), 2)


def speed_sweep(
    family: str = "dct",
    kernel_size: int = 3,
    beta2: Any = DEFAULT_BETA2,
    *,
    steps: int = 10,
    pattern: str | np.ndarray = "delta",
    size: int = 301,
    activation: Activation = "relu",
    rescale: bool = True,
    measure: str = "2d",
    dtype: torch.dtype = torch.float64,
    device: str | None = None,
) -> dict[str, np.ndarray]:
    r"""The authors' speed-law experiment for one family and kernel size, in one batched call.

    Each :math:`\beta^2` gives a kernel (:func:`infomech.kernels.family`); all run together on the
    same pattern for ``steps`` steps with ``x <- act(corr(x/std(x), k))``. Speed is measured as the
    authors do, :math:`v = |\mu(T) - \mu(0)|/T`, and also as the steady-state slope.

    Returns
    -------
    dict of arrays (B,)
        ``beta2``, ``speed``, ``steady_speed``, ``c``, ``v_over_c``, ``v_over_c_sq``,
        ``velocity_x``, ``velocity_y`` (2-D measure only; NaN for ``row``).
    """
    b = np.atleast_1d(np.asarray(beta2, dtype=float))
    if b.ndim != 1 or b.size == 0:
        raise ValueError("beta2 must be a non-empty 1-D list of values")
    schedule, c = _kernels.family(family, b, kernel_size)
    x0 = _patterns.make(pattern, size) if isinstance(pattern, str) else np.asarray(pattern, float)
    tr = propagate(x0, schedule, steps, activation=activation, rescale=rescale, dtype=dtype,
                   device=device)
    v = tr.speed(measure)
    vs = tr.steady_state_speed(measure)
    if measure == "2d":
        vel = tr.displacement("2d")[-1] / max(steps, 1)
        vx, vy = vel[:, 0], vel[:, 1]
    else:
        vx = vy = np.full_like(v, np.nan)
    return {
        "beta2": b, "speed": v, "steady_speed": vs, "c": np.full_like(v, c),
        "v_over_c": v / c, "v_over_c_sq": (v / c) ** 2, "velocity_x": vx, "velocity_y": vy,
    }


def records(sweep: dict[str, np.ndarray], **extra: Any) -> list[dict[str, Any]]:
    """Turn a sweep into a list of JSON-ready records (one per beta^2), with ``extra`` fields."""
    out = []
    for i in range(len(sweep["beta2"])):
        rec = {k: (None if not np.isfinite(v[i]) else float(v[i])) for k, v in sweep.items()}
        rec.update(extra)
        out.append(rec)
    return out
