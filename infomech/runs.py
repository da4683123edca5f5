r"""Speed runs of any kernels on any image, and the summary of one kernel: the engine of the CLI.

:func:`speed_run` is the speed-law experiment of :func:`infomech.sweeps.speed_sweep` for given
kernels (a family from :func:`infomech.kernels.family`, or a user's stack from
:func:`infomech.kernels.schedule_of`) on a given image: one batched
:func:`infomech.propagation.propagate` call, speeds :math:`v = |\mu(t) - \mu(0)|/t` at each of
``times`` and the steady-state slope. Before running it checks the work (refusing runs that would
take hours) and the border (or pads an image with zeros so that nothing reaches the border); after
running it refuses results whose state overflowed (no rescaling, growing mass).

:func:`describe_kernel` gathers for one kernel both splits with their :math:`\beta^2`, the DCT
coefficients and energy shares, the first moment and, for a non-negative kernel, the exact
transport law per step (:mod:`infomech.transport`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from . import activations, dct, transport, validate
from . import decomposition as _dec
from .propagation import propagate, support_box
from .spectrum import dc_grad_share
from .sweeps import check_inside, speed_rows

#: Multiply-adds per second assumed for time estimates (a conservative float64 CPU figure measured
#: for :func:`infomech.propagation.propagate`: 0.5-1.3e9 on one core). Only used in messages.
ASSUMED_RATE = 5e8
#: Runs estimated above this many seconds print a warning with the expected time.
WARN_SECONDS = 60.0
#: Runs estimated above this many seconds are refused unless ``max_seconds=None``.
MAX_SECONDS = 3600.0

_NAMED = ("relu", "none", "abs")  # the activations propagate runs with its in-place fast path


class RunTooLargeError(ValueError):
    """A run whose estimated time exceeds the limit (the message gives the estimate)."""


def _human(seconds: float) -> str:
    for unit, s in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= s:
            return f"{seconds / s:.3g} {unit}"
    return f"{seconds:.2g} s"


def work(support: tuple[int, int, int, int], shape: tuple[int, int], radius: int, steps: int,
         kernels: int, n: int) -> float:
    r"""Multiply-adds of a light-cone run: :math:`\sum_{t=1}^{T} K\,n^2\,|B_t|`.

    ``support`` is the bounding box (y0, y1, x0, x1) of the initial image, ``B_t`` that box grown
    by ``radius * t`` and clipped to ``shape`` = (H, W).
    """
    y0, y1, x0, x1 = support
    H, W = shape
    t = np.arange(1, int(steps) + 1, dtype=float)
    g = radius * t
    h = np.minimum(H, y1 + g) - np.maximum(0, y0 - g)
    w = np.minimum(W, x1 + g) - np.maximum(0, x0 - g)
    return float(kernels * n * n * (h * w).sum())


def expected_seconds(x0: np.ndarray, n: int, steps: int, kernels: int) -> float:
    """Rough run time of :func:`speed_run` at :data:`ASSUMED_RATE` (message use only)."""
    box = support_box(torch.as_tensor(np.ascontiguousarray(x0)))
    return work(box, x0.shape, n // 2, steps, kernels, n) / ASSUMED_RATE


def check_work(support: tuple[int, int, int, int], shape: tuple[int, int], n: int, steps: int,
               kernels: int, max_seconds: float | None = MAX_SECONDS) -> float:
    """Estimated seconds of a run (:func:`work` / :data:`ASSUMED_RATE`); refuse or warn.

    Cheap (no image needed: the support box and the shape suffice), so callers can refuse a huge
    run before building its image or kernels.

    Raises
    ------
    RunTooLargeError
        When the estimate exceeds ``max_seconds`` (``None``: no limit). Above
        :data:`WARN_SECONDS` a ``RuntimeWarning`` gives the estimate.
    """
    secs = work(support, shape, int(n) // 2, steps, kernels, int(n)) / ASSUMED_RATE
    if max_seconds is not None and secs > max_seconds:
        raise RunTooLargeError(f"this run ({kernels} kernels of {n}x{n}, {steps} steps on "
                               f"{shape[0]}x{shape[1]} px) would take about {_human(secs)}; reduce "
                               "the kernel size, steps, image size or number of kernels (or lift the "
                               "limit)")
    if secs > WARN_SECONDS:
        warnings.warn(f"this run is large: expect about {_human(secs)}", RuntimeWarning, stacklevel=3)
    return secs


def _first_nonfinite(mass: np.ndarray) -> int | None:
    bad = ~np.isfinite(mass).all(axis=1)
    return int(np.argmax(bad)) if bad.any() else None


def prepare_image(x0: np.ndarray, n: int, steps: int, kernels: int, *, pad: bool = False,
                  max_seconds: float | None = MAX_SECONDS) -> tuple[np.ndarray, int, float]:
    """Check (and pad) the image of a run before any kernel is built or propagated.

    Parameters
    ----------
    x0 : array (H, W)
        The image (:func:`infomech.validate.image`).
    n : int
        Side of the propagated kernels (radius ``n // 2``; 3 for the embedded 2x2 placement).
    steps, kernels : int
        Length of the run and number of kernels ``K``.
    pad : bool
        Pad with ``(n // 2) * steps`` zeros on each side instead of refusing content that could
        reach the border.
    max_seconds : float or None
        Refuse runs estimated to take longer (:class:`RunTooLargeError`); warn above
        :data:`WARN_SECONDS`.

    Returns
    -------
    image, padding, seconds_estimate
    """
    x = validate.image(x0, "image")
    steps = validate.steps(steps, minimum=1)
    r = int(n) // 2
    padding = 0
    if pad:
        padding = r * steps
        if max(x.shape) + 2 * padding > validate.MAX_SIZE:
            raise validate.ParameterError("steps", f"{steps} needs the image padded to "
                                          f"{max(x.shape) + 2 * padding} px, more than "
                                          f"{validate.MAX_SIZE}; run fewer steps")
        x = np.pad(x, padding)
    else:
        check_inside(x, r, steps)
    box = support_box(torch.as_tensor(np.ascontiguousarray(x)))
    secs = check_work(box, x.shape, n, steps, int(kernels), max_seconds)
    return x, padding, secs


@dataclass
class SpeedRun:
    """Result of :func:`speed_run`.

    Attributes
    ----------
    rows : dict of arrays (R,)
        One row per (time, kernel): ``t``, ``kernel`` (index), ``speed``, ``steady_speed``, ``c``,
        ``v_over_c``, ``v_over_c_sq``, ``velocity_x``, ``velocity_y`` (NaN for ``measure="row"``).
    padding : int
        Zero pixels added on each side of the image (``pad=True``), else 0.
    shape : (int, int)
        Shape (H, W) of the image that ran, padding included.
    seconds_estimate : float
        The time estimate checked before running.
    """

    rows: dict[str, np.ndarray]
    padding: int
    shape: tuple[int, int]
    seconds_estimate: float


def speed_run(schedule: Sequence[np.ndarray], c: float, x0: Any, *, times: Sequence[int],
              activation: Any = "relu", rescale: bool = True, measure: str = "2d",
              dtype: torch.dtype = torch.float64, device: str | None = None, pad: bool = False,
              max_seconds: float | None = MAX_SECONDS, prepared: bool = False) -> SpeedRun:
    r"""Speeds of every kernel of ``schedule`` started from image ``x0``, in one batched run.

    Parameters
    ----------
    schedule : list of arrays (K, m, m)
        Kernel phases cycled over steps, odd ``m`` (:func:`infomech.kernels.family`,
        :func:`infomech.kernels.schedule_of`).
    c : float
        Speed limit (kernel radius) for :math:`v/c`.
    x0 : array (H, W)
        Initial image (validated by :func:`infomech.validate.image`).
    times : sequence of int
        Report speeds after each of these step counts (one run of ``max(times)`` steps).
    activation : str or callable
        Any spec of :mod:`infomech.activations` (``"relu"``, ``"leaky_relu:0.1"``, ...) or a function.
    rescale : bool
        ``x <- x / std(x)`` before each step (the authors' protocol).
    measure : {"2d", "row"}
        2-D centre of mass, or the authors' central-row centre.
    pad : bool
        Pad ``x0`` with ``r * max(times)`` zeros on each side so that no content can reach the
        border (for images whose content fills the frame); otherwise such runs are refused
        (:func:`infomech.sweeps.check_inside`).
    max_seconds : float or None
        Refuse runs estimated (:func:`expected_seconds`) to take longer; ``None``: no limit. Runs
        above :data:`WARN_SECONDS` warn with the estimate (``RuntimeWarning``).
    prepared : bool
        ``x0`` already went through :func:`prepare_image` (checked and padded): skip the checks.

    Raises
    ------
    infomech.validate.ParameterError
        Bad times, image, activation or measure.
    RunTooLargeError
        The estimated time exceeds ``max_seconds``.
    OverflowError
        The state overflowed (Inf/NaN mass), e.g. without rescaling; the message gives the step.
    """
    ts = validate.times(times)
    steps = ts[-1]
    x = validate.image(x0, "image")
    act = activations.activation(activation)
    spec = getattr(act, "name", None)
    run_act = spec if spec in _NAMED else act
    if measure not in ("2d", "row"):
        raise validate.ParameterError("measure", f"must be '2d' or 'row'; got {measure!r}")
    if dtype not in (torch.float32, torch.float64):
        raise validate.ParameterTypeError("dtype", f"must be torch.float32 or torch.float64; got {dtype}")
    phases = [np.asarray(k) for k in schedule]
    m = phases[0].shape[-1]
    K = phases[0].shape[0] if phases[0].ndim == 3 else 1
    if prepared:
        padding, secs = 0, expected_seconds(x, m, steps, K)
    else:
        x, padding, secs = prepare_image(x, m, steps, K, pad=pad, max_seconds=max_seconds)
    with np.errstate(all="ignore"):  # an overflow is reported below, once, not as numpy warnings
        tr = propagate(x, phases, steps, activation=run_act, rescale=rescale, dtype=dtype,
                       device=device)
        bad = _first_nonfinite(tr.mass)
        if bad is not None:
            dt = "float32" if dtype == torch.float32 else "float64"
            what = "Inf" if np.isinf(tr.mass[bad]).any() else "NaN"
            if rescale:
                raise OverflowError(f"the state became {what} at step {bad} of {steps} ({dt}) although it "
                                    "was rescaled: a numerical failure, the speeds would be meaningless")
            cure = ("rescale (x <- x/std(x)), use float64 or run fewer steps" if dt == "float32"
                    else "rescale (x <- x/std(x)) or run fewer steps")
            raise OverflowError(f"the state overflowed {dt} at step {bad} of {steps} (its mass became "
                                f"{what}); without rescaling the mass grows like |sum(k)|^t: {cure}")
        rows = speed_rows(tr, ts, c, measure, ("kernel", np.arange(K, dtype=float)))
    return SpeedRun(rows, padding, x.shape, secs)


def describe_kernel(k: Any, name: str = "kernel") -> dict[str, Any]:
    r"""Everything the paper says about one kernel, as a JSON-ready dict.

    Keys: ``kernel``, ``size``, ``energy``; ``point`` and ``square`` (each with ``even``, ``odd``
    parts, ``even_energy``, ``odd_energy``, ``beta2``); ``dct`` (``coefficients`` :math:`T`,
    ``shares`` :math:`T_{uv}^2/\sum T^2`, ``labels``, ``parity``, ``dc_grad_share``);
    ``first_moment`` (x, y); ``exact_law``: for a non-negative kernel the transport law per step
    (``mass`` :math:`K`, ``drift`` :math:`\delta` (x, y) px/step, ``covariance`` :math:`C`,
    ``diffusion`` :math:`\operatorname{tr} C / 2` px^2/step), else ``None`` with the reason in
    ``exact_law_note``.
    """
    kk = validate.kernels(k, name)
    if kk.shape[0] != 1:
        raise validate.ParameterError(name, f"must be one kernel here; got a stack of {kk.shape[0]}")
    k2 = kk[0]
    n = k2.shape[-1]
    out: dict[str, Any] = {"kernel": k2.tolist(), "size": n, "energy": float(_dec.energy(k2))}
    for kind, (a, b) in (("point", ("even", "odd")), ("square", ("sym", "anti"))):
        e, o = _dec.split(k2, kind)
        out[kind] = {a: e.tolist(), b: o.tolist(), f"{a}_energy": float(_dec.energy(e)),
                     f"{b}_energy": float(_dec.energy(o)), "beta2": float(_dec.beta2(k2, kind))}
    t = dct.dct2(k2)
    shares = dct.energy_fractions(k2)
    out["dct"] = {"coefficients": t.tolist(), "shares": shares.tolist(), "labels": dct.basis_labels(n),
                  "parity": dct.parity(n).tolist(),
                  "dc_grad_share": float(dc_grad_share(shares))}
    out["first_moment"] = transport.first_moment(k2).tolist()
    if np.all(k2 >= 0):
        mass, drift, cov = transport.kernel_moments(k2)
        out["exact_law"] = {"mass": float(mass), "drift": np.asarray(drift).tolist(),
                            "covariance": np.asarray(cov).tolist(),
                            "diffusion": float(np.trace(cov) / 2)}
        out["exact_law_note"] = ("non-negative kernel: mu_t = mu_0 + t*drift, Sigma_t = Sigma_0 + t*C "
                                 "(no activation, ReLU and abs alike)")
    else:
        out["exact_law"] = None
        out["exact_law_note"] = "the kernel has negative weights: the exact law does not apply"
    return out
