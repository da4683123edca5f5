r"""Measures of odd displacement: steering direction error, bipolar oscillation, fronts, cores.

Conventions as in :mod:`infomech.kernels`: cross-correlation, x to the right, y downwards, angles
from +x towards +y. All functions are batched over kernels (the ``K`` axis of a
:class:`infomech.propagation.Trajectory`).
"""

from __future__ import annotations

import numpy as np


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


# --------------------------------------------------------------------------------------------
# tie-robust worst steering angle
# --------------------------------------------------------------------------------------------

def folded_worst_angle(theta_deg: np.ndarray, err: np.ndarray, tol: float = 1e-6) -> dict[str, float]:
    r"""Where the steering error is largest, folded by the symmetry of the square grid.

    A 3x3 kernel grid is symmetric under the 8 symmetries of the square, so an angle
    :math:`\theta` and :math:`90° - \theta`, :math:`\theta + 90°`, ... give the same error up to its
    sign: the argmax over a full circle is one of (up to) 8 exactly tied angles and flips with the
    last bit. Folding every angle to :math:`\phi = \min(\theta \bmod 90, 90 - \theta \bmod 90) \in
    [0, 45]` removes the tie.

    Returns
    -------
    dict
        ``angle``: the folded angle (degrees) of the largest :math:`|{\rm err}|`; ``err``: that
        error; ``runner_up``: the largest error at any other folded angle; ``margin``:
        ``err - runner_up`` (a published angle is reproducible when this is far above round-off);
        ``n_tied``: how many of the full-circle angles share the largest error to within ``tol``.
    """
    th = np.asarray(theta_deg, dtype=float)
    e = np.abs(np.asarray(err, dtype=float))
    m = np.mod(th, 90.0)
    phi = np.round(np.minimum(m, 90.0 - m), 9)
    folded = np.unique(phi)
    best = np.array([e[phi == p].max() for p in folded])
    i = int(np.argmax(best))
    others = np.delete(best, i)
    runner = float(others.max()) if others.size else float("-inf")
    return {"angle": float(folded[i]), "err": float(best[i]), "runner_up": runner,
            "margin": float(best[i] - runner), "n_tied": int((e >= best[i] - tol).sum())}


# --------------------------------------------------------------------------------------------
# point-odd kernels without a first moment, and the first-moment share
# --------------------------------------------------------------------------------------------

def first_moment_share(kernels: np.ndarray) -> np.ndarray:
    r"""Share of a kernel's energy in its first moment, :math:`\gamma^2`.

    With offsets :math:`d = (d_x, d_y)` from the kernel centre, the unit "ramp" kernels
    :math:`\hat X(d) = d_x/\|d_x\|` and :math:`\hat Y(d) = d_y/\|d_y\|` span the kernels with a first
    moment; the rest is orthogonal to them (zero first moment). So

    .. math:: \gamma^2 = \frac{\langle k, \hat X\rangle^2 + \langle k, \hat Y\rangle^2}{\|k\|^2}
              \;\le\; \beta^2_{point},

    because ramps are point-odd. For 3x3 kernels :math:`\hat X = \nabla_x` and :math:`\hat Y =
    \nabla_y`, so :math:`\gamma^2` is the energy share of the two DCT gradients; the other
    point-odd bases, :math:`B_{12}` and :math:`B_{21}`, have :math:`\gamma^2 = 0`.

    Parameters
    ----------
    kernels : array (n, n) or (K, n, n)

    Returns
    -------
    array () or (K,)
    """
    k = np.asarray(kernels, dtype=float)
    n = k.shape[-1]
    if k.ndim < 2 or k.shape[-2] != n or n < 2:
        raise ValueError(f"kernels must have shape (..., n, n) with n >= 2; got {k.shape}")
    d = np.arange(n) - (n - 1) / 2
    X = np.broadcast_to(d[None, :], (n, n))
    X = X / np.linalg.norm(X)
    Y = X.T
    tot = (k * k).sum(axis=(-2, -1))
    if np.any(tot == 0):
        raise ValueError("the first-moment share is undefined for a kernel with zero energy")
    return ((k * X).sum(axis=(-2, -1)) ** 2 + (k * Y).sum(axis=(-2, -1)) ** 2) / tot


def odd_mix(beta2: float | np.ndarray, odd: dict[tuple[int, int], float], n: int = 3) -> np.ndarray:
    r"""DC plus a mixture of point-odd DCT bases, unit norm, odd energy share :math:`\beta^2`.

    .. math:: k = \sqrt{1-\beta^2}\,\Sigma + \beta\,\frac{\sum_{uv} w_{uv} B_{uv}}
              {\sqrt{\sum_{uv} w_{uv}^2}}, \qquad u + v \text{ odd}.

    With one basis this is :func:`infomech.kernels.dct_beta` with ``odd_basis``; several bases
    (e.g. ``{(0, 1): 1, (2, 1): 1}``: half of the odd energy in the gradient, half in a basis
    without first moment) give families whose :math:`\beta^2` and first-moment share differ.
    """
    from . import validate
    from .dct import basis

    b = validate.beta2(beta2)
    if not odd:
        raise ValueError("odd must name at least one DCT basis")
    w = {validate.odd_basis(uv, n): float(x) for uv, x in odd.items()}
    norm = np.sqrt(sum(x * x for x in w.values()))
    if not norm > 0:
        raise ValueError("the odd weights must not all be zero")
    ko = sum(x * basis(u, v, n) for (u, v), x in w.items()) / norm
    k = np.sqrt(1 - b)[..., None, None] * basis(0, 0, n) + np.sqrt(b)[..., None, None] * ko
    return np.where(np.abs(k) < 1e-14, 0.0, k)


#: Odd parts of the families compared in :func:`predictor_study` (3x3 DCT bases and weights).
ODD_FAMILIES: dict[str, dict[tuple[int, int], float]] = {
    "gradient (0,1)": {(0, 1): 1.0},
    "B(2,1)": {(2, 1): 1.0},
    "B(1,2)": {(1, 2): 1.0},
    "gradient + B(2,1)": {(0, 1): 1.0, (2, 1): 1.0},
}


def predictor_study(beta2: np.ndarray, families: dict[str, dict[tuple[int, int], float]] | None = None,
                    *, steps: int = 10, size: int = 101, activation: str = "relu",
                    translation: bool = True) -> dict[str, dict[str, np.ndarray]]:
    r"""Speed of several 3x3 families against :math:`\beta^2` and the first-moment share.

    One batched run on a single pixel (std rescaling) over every family and :math:`\beta^2`;
    ``translation`` adds the authors' translation-beta family (square-split :math:`\beta^2`; its
    point-split share is reported too).

    Returns
    -------
    dict name -> dict of arrays (B,)
        ``beta2`` (point split), ``gamma2`` (:func:`first_moment_share`), ``speed`` (px/step,
        2-D centre of mass; ``c = 1``), ``vx``, ``vy``.
    """
    from .decomposition import beta2 as odd_share
    from .kernels import translation_beta
    from .patterns import delta
    from .propagation import propagate

    fams = dict(ODD_FAMILIES if families is None else families)
    b = np.atleast_1d(np.asarray(beta2, dtype=float))
    ks = {name: odd_mix(b, w, 3) for name, w in fams.items()}
    if translation:
        ks["translation"] = translation_beta(b, 3)
    allk = np.concatenate(list(ks.values()))
    tr = propagate(delta(size), allk, steps, activation=activation, rescale=True)
    d = tr.displacement()[-1] / steps
    out = {}
    for j, (name, k) in enumerate(ks.items()):
        dj = d[j * b.size:(j + 1) * b.size]
        out[name] = {"beta2": odd_share(k, "point"), "gamma2": first_moment_share(k),
                     "speed": np.linalg.norm(dj, axis=-1), "vx": dj[:, 0], "vy": dj[:, 1]}
    return out


def predictor_scores(study: dict[str, dict[str, np.ndarray]]) -> dict[str, float]:
    r"""How well :math:`v/c = \beta` and :math:`v/c = \gamma` describe a :func:`predictor_study`.

    Pools every run (``c = 1`` for 3x3). Returns the RMS errors ``rms_beta``, ``rms_gamma`` and the
    largest spread of speeds among runs with the same :math:`\beta^2` (to 1e-9), ``spread_beta``:
    how far speed is from being a function of :math:`\beta^2` alone; ``spread_gamma`` the same for
    :math:`\gamma^2`.
    """
    b2 = np.concatenate([s["beta2"] for s in study.values()])
    g2 = np.concatenate([s["gamma2"] for s in study.values()])
    v = np.concatenate([s["speed"] for s in study.values()])

    def spread(x: np.ndarray) -> float:
        key = np.round(x, 9)
        return float(max(np.ptp(v[key == u]) for u in np.unique(key)))

    return {"rms_beta": float(np.sqrt(np.mean((v - np.sqrt(b2)) ** 2))),
            "rms_gamma": float(np.sqrt(np.mean((v - np.sqrt(g2)) ** 2))),
            "spread_beta": spread(b2), "spread_gamma": spread(g2), "n_runs": int(v.size)}


# --------------------------------------------------------------------------------------------
# the authors' Laplacian-with-ReLU experiment
# --------------------------------------------------------------------------------------------

def laplacian(sign: int = 1) -> np.ndarray:
    r"""The 5-point discrete Laplacian :math:`\pm[[0,1,0],[1,-4,1],[0,1,0]]`, unit norm.

    ``sign=+1`` has the negative centre (the usual :math:`\Delta`), ``sign=-1`` the positive
    centre (:math:`-\Delta`, a "sharpening" kernel). Both are even (point- and square-symmetric,
    :math:`\beta^2 = 0`) and sum to zero.
    """
    if sign not in (1, -1):
        raise ValueError(f"sign must be +1 or -1; got {sign!r}")
    k = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]) * sign
    return k / np.linalg.norm(k)


def laplacian_run(x0: np.ndarray, steps: int = 40, activation: str = "relu") -> dict[str, np.ndarray]:
    r"""Both Laplacians (:func:`laplacian`) on the image ``x0``, std rescaling, ``steps`` steps.

    Returns
    -------
    dict of arrays
        ``t`` (T+1,); ``centre`` (T+1, 2, 2): centre of mass (x, y) for sign +1 and -1;
        ``sigma2`` (T+1, 2): spread :math:`\operatorname{tr}\Sigma/2`; ``mass`` (T+1, 2);
        ``front`` (T+1, 2): largest distance along +x of a pixel above :math:`10^{-12}` of the
        maximum; ``frames`` (3, 2, H, W): the states at ``t = 1, T/2, T``.
    """
    from .propagation import propagate

    T = int(steps)
    ks = np.stack([laplacian(1), laplacian(-1)])
    tr = propagate(x0, ks, T, activation=activation, rescale=True, frames=range(T + 1))
    fr = np.stack([tr.frames[t] for t in range(T + 1)])  # (T+1, 2, H, W)
    return {"t": np.arange(T + 1), "centre": tr.centre, "sigma2": tr.sigma2(), "mass": tr.mass,
            "front": front_position(fr, 0.0, rel=1e-12), "frames": fr[[1, T // 2, T]]}
