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

from . import kernels as _kernels
from . import patterns as _patterns
from .dct import basis
from .decomposition import even_odd, sym_anti
from .observables import isotropy, steady_state_speed
from .propagation import Activation, Trajectory, propagate
from .stats import slope
from .sweeps import family_run
from .transport import directional_cumulants, kernel_moments

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
    rnd = even_odd(_kernels.random_kernels(1, n, seed)[0])[0]
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
    alpha = slope(np.log(np.arange(t0, T + 1, dtype=float)), y)
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
    c = _kernels.kernel_radius(ks.shape[-1])
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


# --------------------------------------------------------------------------------------------
# Isotropy beyond the covariance: directional kurtosis and iso-contour radii
# --------------------------------------------------------------------------------------------

#: The two lattice directions compared: along an axis (0 degrees) and along a diagonal (45 degrees).
AXIS_DIAGONAL = np.array([0.0, np.pi / 4])


def _pixel_coords(H: int, W: int) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(W, dtype=float) - (W - 1) / 2, np.arange(H, dtype=float)[:, None] - (H - 1) / 2


def directional_kurtosis(frames: np.ndarray, angles: np.ndarray = AXIS_DIAGONAL) -> np.ndarray:
    r"""Excess kurtosis of the image along directions ``angles``, with :math:`|x|` as weights.

    With :math:`w = |x|/\sum|x|` and :math:`X_\theta = u_\theta\cdot(p - \mu)`,
    :math:`\gamma(\theta) = E_w[X_\theta^4]/E_w[X_\theta^2]^2 - 3` (0 for a Gaussian in every
    direction; a direction dependence is an anisotropy of the *shape* that the covariance cannot see).

    Parameters
    ----------
    frames : array (..., H, W)
    angles : array (A,), radians (x right, y down)

    Returns
    -------
    array (..., A)
    """
    f = np.abs(np.asarray(frames, dtype=float))
    if f.ndim < 2:
        raise ValueError(f"frames must be (..., H, W); got shape {f.shape}")
    xs, ys = _pixel_coords(*f.shape[-2:])
    m = f.sum(axis=(-2, -1))
    if np.any(m == 0):
        raise ValueError("directional_kurtosis: a frame has zero mass")
    mx = (f * xs).sum(axis=(-2, -1)) / m
    my = (f * ys).sum(axis=(-2, -1)) / m
    th = np.atleast_1d(np.asarray(angles, dtype=float))
    dx = xs - mx[..., None, None, None]                                  # (..., 1, 1, W)
    dy = ys - my[..., None, None, None]                                  # (..., 1, H, 1)
    proj = np.cos(th)[:, None, None] * dx + np.sin(th)[:, None, None] * dy  # (..., A, H, W)
    w = (f / m[..., None, None])[..., None, :, :]
    m2 = (w * proj**2).sum(axis=(-2, -1))
    m4 = (w * proj**4).sum(axis=(-2, -1))
    return m4 / m2**2 - 3.0


def kurtosis_law(kernels: np.ndarray, steps: np.ndarray, angles: np.ndarray = AXIS_DIAGONAL) -> np.ndarray:
    r"""Exact directional excess kurtosis :math:`\gamma_1(\theta)/t` of a single pixel after ``t``
    steps of non-negative kernels (:func:`infomech.transport.directional_cumulants`).

    Returns an array ``(T, K, A)`` for ``steps`` ``(T,)`` and kernels ``(K, n, n)``.
    """
    var, k4 = directional_cumulants(kernels, angles)
    t = np.asarray(steps, dtype=float)
    if np.any(t <= 0):
        raise ValueError("kurtosis_law needs steps t >= 1")
    return (k4 / var**2)[None] / t[:, None, None]


def _profiles(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean profile from the centre pixel along the 4 axis rays and along the 4 diagonal rays."""
    H, W = f.shape[-2:]
    cy, cx = H // 2, W // 2
    R = min(cy, cx, H - 1 - cy, W - 1 - cx)
    i = np.arange(R + 1)
    axis = (f[..., cy, cx + i] + f[..., cy, cx - i] + f[..., cy + i, cx] + f[..., cy - i, cx]) / 4
    diag = (f[..., cy + i, cx + i] + f[..., cy - i, cx - i] + f[..., cy + i, cx - i]
            + f[..., cy - i, cx + i]) / 4
    return axis, diag


def _crossing(profile: np.ndarray, spacing: float, level: np.ndarray) -> np.ndarray:
    r"""Radius where a decreasing profile sampled at ``r = i * spacing`` first falls below ``level``.

    Interpolates :math:`\log f` by the parabola through the three samples around the crossing (exact
    for a Gaussian profile), linearly in :math:`f` where a neighbour is zero; NaN if it never falls.
    """
    p = np.asarray(profile, dtype=float)
    flat = p.reshape(-1, p.shape[-1])
    lev = np.broadcast_to(level, p.shape[:-1]).reshape(-1)
    out = np.full(flat.shape[0], np.nan)
    below = flat < lev[:, None]
    below[:, 0] = False
    has = below.any(axis=1)
    i = np.argmax(below, axis=1)                                         # first sample below
    rows = np.nonzero(has)[0]
    n = flat.shape[1]
    for r in rows:                                                       # one root per profile
        j = int(i[r])
        lo, hi = (j - 1, j + 1) if j + 1 < n and flat[r, j + 1] > 0 else (j - 2, j)
        if lo >= 0 and np.all(flat[r, lo:hi + 1] > 0):
            coef = np.polyfit(np.arange(lo, hi + 1) * spacing, np.log(flat[r, lo:hi + 1]), 2)
            coef[-1] -= np.log(lev[r])
            roots = np.roots(coef)
            roots = roots[np.isreal(roots)].real
            ok = roots[(roots >= (j - 1) * spacing - 1e-12) & (roots <= j * spacing + 1e-12)]
            if ok.size:
                out[r] = float(ok.min())
                continue
        a, b = flat[r, j - 1], flat[r, j]
        out[r] = (j - 1 + (a - lev[r]) / (a - b)) * spacing
    return out.reshape(p.shape[:-1])


def contour_radii(frames: np.ndarray, level: float = 0.5) -> np.ndarray:
    r"""Radius of the iso-contour :math:`|x| = \mathrm{level}\cdot\max|x|` along the axes and along
    the diagonals, measured from the centre pixel (the centre of an even kernel's run from a centred
    symmetric input).

    Each radius is the mean over the four rays of its kind, interpolated between lattice points
    (spacing 1 along an axis, :math:`\sqrt2` along a diagonal) by :func:`_crossing`. For an isotropic
    image the two are equal; :math:`r_\text{axis}/r_\text{diag} - 1` measures how square the contour is.

    Returns
    -------
    array (..., 2): ``[..., 0]`` along the axes, ``[..., 1]`` along the diagonals (pixels).
    """
    f = np.abs(np.asarray(frames, dtype=float))
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}")
    axis, diag = _profiles(f)
    top = f.max(axis=(-2, -1)) * level
    return np.stack([_crossing(axis, 1.0, top), _crossing(diag, np.sqrt(2.0), top)], axis=-1)


def shape_study(kernels: np.ndarray, steps: int = 40, size: int = 101, level: float = 0.5,
                activation: Activation = "relu") -> dict[str, np.ndarray]:
    r"""Shape of a single pixel's spread under square-symmetric kernels, beyond the covariance.

    One batched run from a centred single pixel (``size x size``), every step kept. Per step
    :math:`t = 1..T` and kernel: the covariance isotropy ratio, the excess kurtosis along the axis and
    the diagonal (measured, and the exact law :func:`kurtosis_law` for non-negative kernels), their gap
    :math:`\gamma_\text{axis} - \gamma_\text{diag}`, the iso-contour radii at ``level`` of the maximum
    and their anisotropy :math:`r_\text{axis}/r_\text{diag} - 1`.

    Returns
    -------
    dict with ``t`` (T,), ``isotropy`` (T, K), ``kurtosis`` and ``kurtosis_law`` (T, K, 2),
    ``kurtosis_gap`` and ``kurtosis_gap_law`` (T, K), ``radii`` (T, K, 2), ``contour_anisotropy``
    (T, K).
    """
    ks = np.asarray(kernels, dtype=float)
    if ks.ndim == 2:
        ks = ks[None]
    t = np.arange(1, int(steps) + 1)
    tr = propagate(_patterns.delta(size), ks, int(steps), activation=activation, rescale=True,
                   frames=list(t))
    frames = np.stack([tr.frames[int(s)] for s in t])                    # (T, K, H, W)
    gam = directional_kurtosis(frames)
    law_ = kurtosis_law(ks, t)
    radii = contour_radii(frames, level)
    with np.errstate(invalid="ignore", divide="ignore"):   # t = 0 (a single pixel) has no spread
        iso = tr.isotropy()[1:]
    return {"t": t, "isotropy": iso, "kurtosis": gam, "kurtosis_law": law_,
            "kurtosis_gap": gam[..., 0] - gam[..., 1], "kurtosis_gap_law": law_[..., 0] - law_[..., 1],
            "radii": radii, "contour_anisotropy": radii[..., 0] / radii[..., 1] - 1.0}


# --------------------------------------------------------------------------------------------
# Drift under signed even kernels: what moves is the |x|-weighted centre
# --------------------------------------------------------------------------------------------

def drift_cause(x: np.ndarray, kernels: np.ndarray, steps: int = 20) -> dict[str, np.ndarray]:
    r"""Separate the centre-of-mass drift of signed even kernels into its possible causes.

    Runs (rescaling on) and records :math:`\max_t|\mu_t - \mu_0|` for: ReLU; no activation with
    :math:`|x|` as weights (``none_abs``); no activation with the signed state as weights
    (``none_signed``: the signed centre :math:`\sum_p x(p)\,p/\sum_p x(p)`, which the exact law pins for
    an even kernel with :math:`K = \sum k \ne 0`); abs.

    Also, along the ReLU run, the step-by-step motion of the signed centre of the linear response
    :math:`y_t = k \star x_t` (before rectification): ``relu_signed_step`` is
    :math:`\max_t |\mu^\text{signed}(y_t) - \mu(x_t)|`. Since :math:`\mathrm{relu}(y) = (y + |y|)/2`,
    the rectified centre is the mass-weighted mean of the signed centre (which an even kernel keeps)
    and the :math:`|y|`-weighted centre; so when ``relu_signed_step`` is round-off, every bit of the
    ReLU drift is the motion of the :math:`|y|`-weighted centre.

    Kernels whose weights sum to (almost) zero have no signed centre: NaN there.

    Returns
    -------
    dict of arrays (K,): ``relu``, ``none_abs``, ``none_signed``, ``abs``, ``relu_signed_step``,
    ``kernel_sum``; and ``t`` (T+1,) with ``trajectories`` (dict mode -> (T+1, K) distance).
    """
    ks = np.asarray(kernels, dtype=float)
    if ks.ndim == 2:
        ks = ks[None]
    K = ks.shape[0]
    ksum = ks.sum(axis=(-2, -1))
    has_centre = np.abs(ksum) > 1e-6 * np.abs(ks).sum(axis=(-2, -1))
    T = int(steps)
    runs = {
        "relu": propagate(x, ks, T, activation="relu", rescale=True, frames=list(range(T))),
        "none_abs": propagate(x, ks, T, activation="none", rescale=True),
        "none_signed": propagate(x, ks[has_centre], T, activation="none", rescale=True,
                                 weights="signed"),
        "abs": propagate(x, ks, T, activation="abs", rescale=True),
    }
    dist = {}
    for mode, tr in runs.items():
        d = tr.distance()
        if mode == "none_signed":
            full = np.full((T + 1, K), np.nan)
            full[:, has_centre] = d
            d = full
        dist[mode] = d
    relu = runs["relu"]
    states = np.stack([relu.frames[t] for t in range(T)])[:, has_centre]      # (T, K', H, W)
    kk = np.broadcast_to(ks[has_centre], (T, *ks[has_centre].shape))
    lin = propagate(states.reshape(-1, *states.shape[-2:]), kk.reshape(-1, *ks.shape[-2:]), 1,
                    activation="none", weights="signed")
    moved = np.linalg.norm(lin.centre[1] - relu.centre[:T, has_centre].reshape(-1, 2), axis=-1)
    step = np.full(K, np.nan)
    step[has_centre] = moved.reshape(T, -1).max(axis=0)
    out = {mode: d.max(axis=0) for mode, d in dist.items()}
    out.update({"relu_signed_step": step, "kernel_sum": ksum, "t": np.arange(T + 1),
                "trajectories": dist})
    return out


# --------------------------------------------------------------------------------------------
# Rest energy and the measured diffusion rate
# --------------------------------------------------------------------------------------------

def diffusion_rate_law(family: str, n: int, beta2: np.ndarray) -> np.ndarray:
    r"""Exact diffusion rate per step, :math:`\operatorname{tr}\bar C/2` with :math:`\bar C` the mean
    per-step covariance over the schedule's phases, in units of :math:`c^2`; NaN where a kernel has
    negative weights (no law)."""
    schedule, c = _kernels.family(family, np.atleast_1d(np.asarray(beta2, dtype=float)), n)
    ok = np.all([np.all(k >= 0, axis=(-2, -1)) for k in schedule], axis=0)
    rate = np.zeros(ok.shape)
    for k in schedule:
        _, _, cov = kernel_moments(np.where(ok[:, None, None], k, 1.0))
        rate = rate + (cov[:, 0, 0] + cov[:, 1, 1]) / 2
    return np.where(ok, rate / len(schedule) / c**2, np.nan)


def diffusion_rates(cases: Sequence[tuple[str, int]], beta2: np.ndarray, steps: int = 20,
                    size: int = 101, activation: Activation = "relu") -> dict[str, dict[str, np.ndarray]]:
    r"""Measured diffusion rate per step of kernel families against their rest-energy share.

    For each ``(family, n)``, one batched single-pixel run over ``beta2`` (the authors' protocol,
    rescaling on): the rate is the slope of :math:`\sigma^2_t` over the second half of the run
    (sampled once per schedule cycle), divided by :math:`c^2` so that sizes compare; the rest-energy
    share is :math:`(mc^2/E)^2 = \lVert k_e\rVert^2/\lVert k\rVert^2 = 1 - \beta^2`.

    Where the exact law applies, :math:`\operatorname{tr}C/2 = (E|d|^2 - |\delta|^2)/2`: the rate plus
    half the squared drift speed is half the step's second moment, ``second_moment``
    :math:`= \text{rate} + (v/c)^2/2` (a "mass shell" of the step law: :math:`E|d|^2 = |\delta|^2 +
    \operatorname{tr}C`).

    Returns
    -------
    dict ``"family nxn"`` -> {``beta2``, ``rest``, ``rate``, ``speed`` (:math:`v/c`, steady state),
    ``second_moment``, ``law`` (NaN where signed)}.
    """
    b = np.atleast_1d(np.asarray(beta2, dtype=float))
    out: dict[str, dict[str, np.ndarray]] = {}
    for fam, n in cases:
        tr, c, period = family_run(fam, n, b, steps=steps, size=size, activation=activation)
        rate = np.asarray(steady_state_speed(tr.sigma2(), period)) / c**2
        speed = np.asarray(tr.steady_state_speed()) / c
        out[f"{fam} {n}x{n}"] = {"beta2": b, "rest": 1.0 - b, "rate": rate, "speed": speed,
                                 "second_moment": rate + speed**2 / 2,
                                 "law": diffusion_rate_law(fam, n, b)}
    return out


def rate_spread(rates: Mapping[str, Mapping[str, np.ndarray]]) -> np.ndarray:
    r"""Spread (max - min) of the rate across cases at each rest-energy share (all cases must share
    the same ``beta2`` grid): 0 if the rest energy alone set the diffusion rate."""
    r = np.stack([v["rate"] for v in rates.values()])
    return r.max(axis=0) - r.min(axis=0)
