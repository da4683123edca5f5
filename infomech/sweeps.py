"""Speed-law sweeps: one batched propagation over all beta^2 values of a kernel family."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from . import kernels as _kernels
from . import patterns as _patterns
from .propagation import Activation, Trajectory, distance, run_plan, support_box, validate

DEFAULT_BETA2 = np.round(np.linspace(0.0, 1.0, 101), 2)


def family_run(family: str, n: int, beta2: Any, *, steps: int, pattern: str | np.ndarray = "delta",
               size: int = 301, activation: Activation = "relu", rescale: bool = True,
               dtype: torch.dtype = torch.float64, device: str | None = None
               ) -> tuple[Trajectory, float, int]:
    """One batched run of a kernel family over all ``beta2`` values (the authors' protocol).

    Returns
    -------
    trajectory : Trajectory
        Observables of every kernel at every step.
    c : float
        The speed limit (kernel radius).
    period : int
        Number of phases of the schedule (2 for the alternating 2x2 placement, else 1).
    """
    b = np.atleast_1d(np.asarray(beta2, dtype=float))
    if b.ndim != 1 or b.size == 0:
        raise ValueError("beta2 must be a non-empty 1-D list of values")
    schedule, c = _kernels.family(family, b, n)
    if isinstance(pattern, str):
        if isinstance(size, bool) or int(size) != size or size < 1 or size % 2 == 0:
            raise ValueError(f"size must be an odd positive integer (the pattern needs a centre pixel); "
                             f"got {size!r}")
        x0 = _patterns.make(pattern, int(size))
    else:
        x0 = np.asarray(pattern, float)
    if x0.ndim != 2:
        raise ValueError(f"pattern must be a 2-D image; got shape {x0.shape}")
    plan = validate(x0, schedule, steps, activation=activation, rescale=rescale, dtype=dtype,
                    device=device)
    check_border(plan.support, plan.shape, plan.radius, steps)  # as check_inside, on the plan's box
    return run_plan(plan), c, len(schedule)


def check_border(support: tuple[int, int, int, int], shape: tuple[int, int], radius: int,
                 steps: int) -> None:
    r"""Refuse a run whose light cone could reach the image border.

    Content inside the support box ``(y0, y1, x0, x1)`` of an ``(H, W)`` image moves at most
    ``radius`` px per step, so after ``steps`` steps it stays inside when the margin
    :math:`\min(y_0, x_0, H - y_1, W - x_1) \ge \mathrm{radius}\cdot\mathrm{steps}`. Needs only
    the box and the shape (no image), so a caller can refuse a run before building its image.

    Raises
    ------
    ValueError
        When the margin is smaller than the reach; the message names an image size that would do.
    """
    y0, y1, x0, x1 = support
    H, W = shape
    reach = int(radius) * int(steps)
    margin = min(y0, x0, H - y1, W - x1)
    if margin < reach:
        need = max(H, W) + 2 * (reach - margin)
        raise ValueError(f"after {steps} steps content can reach the image border (margin {margin} px < "
                         f"{reach} px); use an image of size >= {need + 1 - need % 2}")


def check_inside(x0: np.ndarray, radius: int, steps: int) -> None:
    """Raise if content within the light cone of ``x0`` could reach the image border in ``steps``.

    A speed measured after the content has hit the (zero-padded) border measures the border, not
    the kernel: the sweeps refuse such runs and say which image size would do
    (:func:`check_border` on the support box of ``x0``).
    """
    if x0.ndim != 2:
        raise ValueError(f"pattern must be a 2-D image; got shape {x0.shape}")
    try:
        box = support_box(x0)
    except ValueError:
        raise ValueError("pattern has zero mass: its centre of mass is undefined") from None
    check_border(box, x0.shape, radius, steps)


def speed_rows(tr: Trajectory, times: Sequence[int], c: float, measure: str,
               label: tuple[str, np.ndarray]) -> dict[str, np.ndarray]:
    r"""The speed table of a batched run: one row per (time, kernel).

    At each ``t`` of ``times`` the speed is :math:`v = |\mu(t) - \mu(0)|/t` (``measure``: the
    2-D centre of mass or the central row), with :math:`v/c`, :math:`(v/c)^2`, the velocity
    :math:`(\mu(t) - \mu(0))/t` (NaN for ``measure="row"``) and the run's steady-state speed.

    Parameters
    ----------
    tr : Trajectory
        A run of at least ``max(times)`` steps of ``K`` kernels.
    times : sequence of int
        Positive step counts, ascending.
    c : float
        The speed limit (kernel radius).
    measure : {"2d", "row"}
        How the centre is measured.
    label : (str, array (K,))
        The column that names each kernel (e.g. ``("beta2", b)``), placed second.

    Returns
    -------
    dict of arrays (len(times) * K,)
        ``t``, the label column, ``speed``, ``steady_speed``, ``c``, ``v_over_c``, ``v_over_c_sq``,
        ``velocity_x``, ``velocity_y``.
    """
    disp = tr.displacement(measure)  # once: the distances and velocities both come from it
    dist = distance(disp, measure)
    steady = tr.steady_speed_of(dist)
    ts = np.asarray(times, dtype=int)
    n = len(ts)
    v = (dist[ts] / ts[:, None]).ravel()  # (len(times) * K,): time outer, kernel inner
    if measure == "2d":
        vel = disp[ts] / ts[:, None, None]
        vx, vy = vel[..., 0].ravel(), vel[..., 1].ravel()
    else:
        vx = vy = np.full_like(v, np.nan)
    key, values = label
    v_c = v / c
    return {"t": np.repeat(ts.astype(float), dist.shape[1]), key: np.tile(values, n), "speed": v,
            "steady_speed": np.tile(steady, n), "c": np.full_like(v, c), "v_over_c": v_c,
            "v_over_c_sq": v_c ** 2, "velocity_x": vx, "velocity_y": vy}


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
    times: Sequence[int] | None = None,
    dtype: torch.dtype = torch.float64,
    device: str | None = None,
) -> dict[str, np.ndarray]:
    r"""The authors' speed-law experiment for one family and kernel size, in one batched call.

    Each :math:`\beta^2` gives a kernel (:func:`infomech.kernels.family`); all run together on the
    same pattern with ``x <- act(corr(x/std(x), k))``. Speed is measured as the authors do,
    :math:`v = |\mu(t) - \mu(0)|/t`, at ``t = steps`` or at each of ``times`` (one run of
    ``max(times)`` steps: its first ``t`` steps are a run of ``t`` steps), and also as the
    steady-state slope over the second half of the run, sampled once per schedule cycle.

    Returns
    -------
    dict of arrays (R,)
        One row per (time, beta^2): ``t``, ``beta2``, ``speed``, ``steady_speed``, ``c``,
        ``v_over_c``, ``v_over_c_sq``, ``velocity_x``, ``velocity_y`` (NaN for ``measure="row"``).
    """
    ts = [int(steps)] if times is None else sorted({int(t) for t in times})
    if not ts or ts[0] < 1:
        raise ValueError(f"times must be positive integers; got {list(times or [])}")
    tr, c, period = family_run(family, kernel_size, beta2, steps=ts[-1], pattern=pattern, size=size,
                               activation=activation, rescale=rescale, dtype=dtype, device=device)
    b = np.atleast_1d(np.asarray(beta2, dtype=float))
    return speed_rows(tr, ts, c, measure, ("beta2", b))


def records(sweep: dict[str, np.ndarray], **extra: Any) -> list[dict[str, Any]]:
    """Turn a sweep into a list of JSON-ready records (one per row), with ``extra`` fields."""
    out = []
    for i in range(len(sweep["beta2"])):
        rec: dict[str, Any] = {k: (None if not np.isfinite(v[i]) else float(v[i])) for k, v in sweep.items()}
        if rec.get("t") is not None:
            rec["t"] = int(rec["t"])
        rec.update(extra)
        out.append(rec)
    return out
