r"""Even kernels and the measurements of the paper's *even diffusion* claim.

The claim: the even part of a kernel makes image content diffuse **isotropically** while keeping
its **centre of mass** in place. For a run :math:`x_{t+1} = \mathrm{act}(k \star x_t)` of ``T`` steps
we measure, per kernel:

* the drift of the centre of mass, :math:`\max_t |\mu_t - \mu_0|` (pixels);
* the growth of the spread :math:`\sigma^2_t = \operatorname{tr}\Sigma_t / 2`: its least-squares slope
  against ``t`` over the second half of the run (pixels\ :sup:`2` per step);
* the isotropy of the spread the run *added*, :math:`\rho = \lambda_{min}/\lambda_{max}` of
  :math:`\Sigma_T - \Sigma_0` (1: isotropic diffusion; 0: diffusion along a line). Using the added
  covariance makes the ratio meaningful for anisotropic inputs such as a photograph.

Where the exact law of :mod:`infomech.transport` applies (non-negative kernel; then ReLU, abs and no
activation coincide on a non-negative input), the theory is :math:`\mu_t = \mu_0` for an even kernel,
slope :math:`\operatorname{tr}C/2` and :math:`\rho = \lambda_{min}/\lambda_{max}(C)`. A
square-symmetric kernel has :math:`C = c\,I` (the 90 degree rotation fixes it), hence :math:`\rho = 1`;
a point-even kernel need not. With negative weights there is no such law: symmetry still pins the
centre of a symmetric input (a point-symmetric input under a point-even kernel stays point-symmetric
under any pointwise activation), but nothing pins the centre of an asymmetric one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .dct import basis
from .decomposition import even_odd, sym_anti
from .observables import isotropy, steady_state_speed
from .propagation import Activation, Trajectory, propagate
from .transport import kernel_moments

#: Symmetry classes, from the most to the least symmetric.
SYMMETRIES: tuple[str, ...] = ("square-symmetric", "point-even", "not even")


def symmetry_class(k: np.ndarray, atol: float = 1e-12) -> str:
    """``"square-symmetric"``, ``"point-even"`` or ``"not even"`` for one kernel ``(n, n)``."""
    k = np.asarray(k, dtype=float)
    scale = max(float(np.abs(k).max()), 1.0)
    if np.abs(sym_anti(k)[1]).max() <= atol * scale:
        return "square-symmetric"
    if np.abs(even_odd(k)[1]).max() <= atol * scale:
        return "point-even"
    return "not even"


@dataclass(frozen=True)
class NamedKernel:
    """A kernel with a name, its symmetry class and the sign of its weights."""

    name: str
    kernel: np.ndarray

    @property
    def symmetry(self) -> str:
        return symmetry_class(self.kernel)

    @property
    def nonnegative(self) -> bool:
        return bool(np.all(self.kernel >= 0))

    @property
    def category(self) -> str:
        """E.g. ``"square-symmetric, non-negative"`` or ``"point-even, signed"``."""
        return f"{self.symmetry}, {'non-negative' if self.nonnegative else 'signed'}"


def even_kernels(n: int = 3, seed: int = 0) -> list[NamedKernel]:
    r"""A zoo of even ``n x n`` kernels covering the four categories of the even-diffusion chapter.

    Square-symmetric, non-negative: ``DC`` (DCT-beta at :math:`\beta^2 = 0`, all :math:`1/n`),
    ``binomial`` (outer product of binomial rows), ``plus`` (centre and its 4 neighbours).
    Point-even, non-negative: ``bar`` (the central row), ``diagonal`` (the main diagonal),
    ``DC+(0,2)-(2,0)`` and ``DC+saddle`` (DC mixed with a little of the point-even, not
    square-symmetric DCT bases, kept non-negative).
    Square-symmetric, signed: ``sharpen`` (:math:`2\delta - ` plus/5), ``DC-(2,2)``.
    Point-even, signed: ``saddle (1,1)`` (the DCT basis alone), ``DC+2 saddle``, ``random even``
    (even part of a seeded Gaussian kernel, sign chosen so that it sums to a positive number).
    All kernels have unit norm.
    """
    if n < 3 or n % 2 == 0:
        raise ValueError(f"even_kernels needs an odd size >= 3; got {n}")
    c = n // 2
    dc = basis(0, 0, n)
    saddle = basis(1, 1, n)
    quad = (basis(0, 2, n) - basis(2, 0, n)) / np.sqrt(2)
    b = np.array([1.0])
    for _ in range(n - 1):
        b = np.convolve(b, [1.0, 1.0])
    plus = np.zeros((n, n))
    plus[c, c - 1:c + 2] = 1
    plus[c - 1:c + 2, c] = 1
    delta = np.zeros((n, n))
    delta[c, c] = 1
    bar = np.zeros((n, n))
    bar[c] = 1
    rnd = even_odd(np.random.default_rng(seed).normal(size=(n, n)))[0]
    rnd = rnd if rnd.sum() > 0 else -rnd
    raw = {
        "DC": dc,
        "binomial": np.outer(b, b),
        "plus": plus,
        "bar": bar,
        "diagonal": np.eye(n),
        "DC+(0,2)-(2,0)": dc + 0.5 * quad,
        "DC+saddle": dc + 0.5 * saddle,
        "sharpen": 2 * delta - plus / 5,
        "DC-(2,2)": dc - 0.8 * basis(2, 2, n),
        "saddle (1,1)": saddle,
        "DC+2 saddle": dc + 2 * saddle,
        "random even": rnd,
    }
    return [NamedKernel(name, k / np.linalg.norm(k)) for name, k in raw.items()]


def stack(kernels: Sequence[NamedKernel]) -> np.ndarray:
    """The kernels of a list of :class:`NamedKernel` as one ``(K, n, n)`` array."""
    return np.stack([k.kernel for k in kernels])


def measure(trajectory: Trajectory) -> dict[str, np.ndarray]:
    r"""Drift, spread growth and isotropy of every kernel of a run.

    Returns
    -------
    dict of arrays (K,)
        ``drift_max`` :math:`\max_t|\mu_t-\mu_0|`, ``drift_final`` :math:`|\mu_T-\mu_0|`,
        ``sigma2_slope`` (slope of :math:`\sigma^2_t` over the second half), ``spread_exponent``
        (:func:`spread_exponent`), ``isotropy`` (:math:`\rho` of :math:`\Sigma_T-\Sigma_0`; NaN
        when nothing spread).
    """
    dist = trajectory.distance("2d")
    with np.errstate(invalid="ignore", divide="ignore"):
        iso = isotropy(trajectory.covariance[-1] - trajectory.covariance[0])
    return {
        "drift_max": dist.max(0),
        "drift_final": dist[-1],
        "sigma2_slope": steady_state_speed(trajectory.sigma2()),
        "spread_exponent": spread_exponent(trajectory.sigma2()),
        "isotropy": iso,
    }


def spread_exponent(sigma2: np.ndarray) -> np.ndarray:
    r"""Growth exponent :math:`\alpha` of the added spread, :math:`\sigma^2_t - \sigma^2_0 \propto t^\alpha`.

    Least-squares slope of :math:`\log(\sigma^2_t - \sigma^2_0)` against :math:`\log t` over the
    second half of the run (:math:`t \ge \lceil T/2 \rceil`, and ``t >= 1``): 1 for diffusion, 2 for
    ballistic spreading (a front moving at constant speed), 0 for no growth. NaN where the added
    spread is not positive on that window.

    Parameters
    ----------
    sigma2 : (T+1, ...) spreads per step, T >= 2.
    """
    s = np.asarray(sigma2, dtype=float)
    T = s.shape[0] - 1
    if T < 2:
        raise ValueError("spread_exponent needs at least two steps")
    t0 = max(1, min(int(np.ceil(T / 2)), T - 1))
    inc = s[t0:] - s[0]
    ok = np.all(inc > 1e-12 * np.maximum(1.0, np.abs(s[0])), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.log(np.where(ok, inc, 1.0))
    lt = np.log(np.arange(t0, T + 1, dtype=float))
    lt = lt - lt.mean()
    alpha = np.tensordot(lt / (lt * lt).sum(), y, axes=1)
    return np.where(ok, alpha, np.nan)


def law(kernels: np.ndarray) -> dict[str, np.ndarray]:
    r"""Exact-law predictions for kernels ``(K, n, n)``; NaN where a kernel has negative weights.

    Returns
    -------
    dict of arrays (K,)
        ``drift_law`` :math:`|\delta|` per step, ``sigma2_slope_law`` :math:`\operatorname{tr}C/2`,
        ``isotropy_law`` :math:`\lambda_{min}/\lambda_{max}(C)` (NaN for :math:`C = 0`).
    """
    k = np.asarray(kernels, dtype=float)
    ok = np.all(k >= 0, axis=(-2, -1)) & (k.sum(axis=(-2, -1)) > 0)
    _, drift, cov = kernel_moments(np.where(ok[:, None, None], k, 1.0))
    nan = np.full(k.shape[0], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        iso = isotropy(cov)
    return {
        "drift_law": np.where(ok, np.linalg.norm(drift, axis=-1), nan),
        "sigma2_slope_law": np.where(ok, (cov[:, 0, 0] + cov[:, 1, 1]) / 2, nan),
        "isotropy_law": np.where(ok, iso, nan),
    }


def centre_verdict(drift_max: float, steps: int, c: float = 1.0, exact_tol: float = 1e-9,
                   drift_tol: float = 0.01) -> str:
    r"""Does the centre of mass stay put? ``"exact"`` if it moved less than ``exact_tol`` px,
    ``"approximate"`` if less than ``drift_tol`` of the speed limit (:math:`\max_t|\mu_t-\mu_0| <`
    ``drift_tol`` :math:`\cdot\, c\,T`), ``"fails"`` otherwise (or NaN)."""
    if not np.isfinite(drift_max):
        return "fails"
    if drift_max < exact_tol:
        return "exact"
    return "approximate" if drift_max < drift_tol * c * steps else "fails"


def isotropy_verdict(isotropy_ratio: float, exact_tol: float = 1e-9, isotropy_tol: float = 0.9) -> str:
    r"""Is the added spread isotropic? ``"exact"`` if :math:`|1-\rho| <` ``exact_tol``,
    ``"approximate"`` if :math:`\rho >` ``isotropy_tol``, ``"no spread"`` if nothing spread (NaN),
    ``"fails"`` otherwise."""
    if not np.isfinite(isotropy_ratio):
        return "no spread"
    if abs(1 - isotropy_ratio) < exact_tol:
        return "exact"
    return "approximate" if isotropy_ratio > isotropy_tol else "fails"


_RANK = {"exact": 0, "approximate": 1, "fails": 2, "no spread": 2}


def verdict(drift_max: float, isotropy_ratio: float, steps: int, c: float = 1.0) -> str:
    """Verdict on the whole claim for one run: the worse of :func:`centre_verdict` and
    :func:`isotropy_verdict` (``"exact"``, ``"approximate"`` or ``"fails"``)."""
    worst = max(_RANK[centre_verdict(drift_max, steps, c)], _RANK[isotropy_verdict(isotropy_ratio)])
    return ("exact", "approximate", "fails")[worst]


@dataclass
class Study:
    """Runs of many kernels on several patterns and activations, and one record per run."""

    kernels: list[NamedKernel]
    steps: int
    trajectories: dict[tuple[str, str], Trajectory]
    records: list[dict[str, Any]]

    def select(self, **where: Any) -> list[dict[str, Any]]:
        """Records whose fields equal the given values, e.g. ``select(pattern="delta")``."""
        return [r for r in self.records if all(r[k] == v for k, v in where.items())]

    def column(self, name: str, **where: Any) -> np.ndarray:
        """One field of the selected records as an array."""
        return np.array([r[name] for r in self.select(**where)])


def study(kernels: Sequence[NamedKernel], patterns: Mapping[str, np.ndarray],
          activations: Sequence[Activation] = ("relu", "none", "abs"), steps: int = 20, *,
          rescale: bool = True, frames: Sequence[int] = (), dtype: torch.dtype = torch.float64,
          device: str | torch.device | None = None) -> Study:
    """Run all kernels on each pattern under each activation: ONE batched propagate call per
    (pattern, activation), all kernels stacked, and measure every run (:func:`measure`, :func:`law`,
    :func:`centre_verdict`, :func:`isotropy_verdict`, :func:`verdict`).

    Records carry ``pattern``, ``activation``, ``kernel``, ``category``, ``symmetry``,
    ``nonnegative``, the measured and predicted quantities and ``verdict``.
    """
    ks = stack(kernels)
    c = (ks.shape[-1] - 1) / 2
    predicted = law(ks)
    trajs: dict[tuple[str, str], Trajectory] = {}
    records: list[dict[str, Any]] = []
    for pname, x in patterns.items():
        for act in activations:
            aname = act if isinstance(act, str) else getattr(act, "__name__", "custom")
            tr = propagate(x, ks, steps, activation=act, rescale=rescale, frames=frames,
                           dtype=dtype, device=device)
            trajs[(pname, aname)] = tr
            got = measure(tr)
            for i, nk in enumerate(kernels):
                rec: dict[str, Any] = {"pattern": pname, "activation": aname, "kernel": nk.name,
                                       "category": nk.category, "symmetry": nk.symmetry,
                                       "nonnegative": nk.nonnegative}
                rec.update({key: float(v[i]) for key, v in got.items()})
                rec.update({key: float(v[i]) for key, v in predicted.items()})
                rec["centre_verdict"] = centre_verdict(rec["drift_max"], steps, c)
                rec["isotropy_verdict"] = isotropy_verdict(rec["isotropy"])
                rec["verdict"] = verdict(rec["drift_max"], rec["isotropy"], steps, c)
                records.append(rec)
    return Study(list(kernels), int(steps), trajs, records)


def format_table(records: Sequence[Mapping[str, Any]], columns: Sequence[str], digits: int = 3) -> str:
    """Plain-text table of records (floats rounded to ``digits``, ``-0.0`` printed as ``0.0``)."""
    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            if not np.isfinite(v):
                return "-"
            return f"{round(float(v), digits) + 0.0:.{digits}f}"
        return str(v)

    rows = [[cell(r[c]) for c in columns] for r in records]
    widths = [max(len(c), *(len(row[j]) for row in rows)) if rows else len(c)
              for j, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def by_name(kernels: Sequence[NamedKernel], name: str) -> NamedKernel:
    """The kernel called ``name`` in ``kernels`` (e.g. ``by_name(even_kernels(3), "sharpen")``).

    Raises
    ------
    KeyError
        If no kernel has that name; the message lists the names there are.
    """
    for k in kernels:
        if k.name == name:
            return k
    raise KeyError(f"no kernel named {name!r}; have {[k.name for k in kernels]}")


def support_extent(frames: np.ndarray, tol: float = 0.0) -> np.ndarray:
    r"""Bounding box of the support :math:`\{p : |x(p)| > \mathrm{tol}\}` of each frame, from the centre.

    Parameters
    ----------
    frames : array (K, H, W) or (H, W)
        Images (e.g. ``Trajectory.frames[t]``); ``H`` and ``W`` odd so that the centre is a pixel.
    tol : float
        Values with ``|x| <= tol`` count as empty.

    Returns
    -------
    numpy.ndarray (K, 2, 2), int
        ``[[x_min, x_max], [y_min, y_max]]`` in pixels from the image centre (x right, y down);
        ``[[0, -1], [0, -1]]`` (an empty range) for an all-empty frame.
    """
    f = np.abs(np.asarray(frames, dtype=float))
    if f.ndim == 2:
        f = f[None]
    if f.ndim != 3:
        raise ValueError(f"frames must be (K, H, W) or (H, W); got shape {f.shape}")
    live = f > tol
    out = np.tile(np.array([[0, -1], [0, -1]]), (f.shape[0], 1, 1))
    for axis, (reduce_over, centre) in enumerate(((1, f.shape[2] // 2), (2, f.shape[1] // 2))):
        occ = live.any(axis=reduce_over)                         # (K, W) for x, (K, H) for y
        idx = np.arange(occ.shape[1])
        has = occ.any(axis=1)
        lo = np.where(occ, idx, occ.shape[1]).min(axis=1) - centre
        hi = np.where(occ, idx, -1).max(axis=1) - centre
        out[has, axis, 0], out[has, axis, 1] = lo[has], hi[has]
    return out
