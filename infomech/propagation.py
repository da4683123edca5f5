r"""Batched propagation ``x <- act(corr(x, k))`` with observables recorded at every step.

The update of the paper, for steps :math:`t = 0, \dots, T-1`:

.. math::

    x_{t+1} = \mathrm{act}\big(k_t \star \tilde x_t\big), \qquad
    \tilde x_t = x_t / \operatorname{std}(x_t) \ \text{(optional rescaling)},

with :math:`\star` the cross-correlation of CNN frameworks, zero ("SAME") padding, no bias, one
channel per kernel. Many kernels run in ONE grouped ``conv2d`` call (kernel ``i`` acts on channel
``i``); kernels may change with the step (a *schedule*, cycled: bipolar runs, the 2x2 alternating
placement).

Light cone. A kernel of radius ``r`` moves nothing farther than ``r`` pixels per step, so after
``T`` steps the state vanishes outside the initial support grown by ``r*T``. When the activation
maps 0 to 0 we compute on that window only (clipped to the image, where zero padding then
coincides with the image border): the result is exact, and much cheaper for small patterns. The
window grows with the step: step ``t`` computes only the support grown by ``r*(t+1)``. The
rescaling uses the statistics of the full image (the zeros outside the window included).

Performance and memory. On the CPU in float64 the grouped correlation is evaluated as ``n*n``
fused multiply-adds of shifted views (``addcmul_``), several times faster than ``conv2d``'s float64
path; float32 and CUDA use ``conv2d``. Nothing but the observables, the final state and the frames
asked for is stored. The final state (and each frame) is a ``(K, H, W)`` array allocated once
with ``numpy.zeros`` (pages outside the light cone are never touched); per chunk of ``b`` kernels
(``batch_size``; on the CPU by default sized so that one padded window tensor fits in
:data:`CPU_CHUNK_BYTES`) the working set is about four ``(b, h, w)`` tensors of the light-cone
window ``h x w``. Peak resident memory is bounded by

    ``R0 + bytes * (K*H*W + 5*b*(H+2r)*(W+2r))``

with ``R0`` the interpreter + torch baseline and ``bytes`` 4 (float32) or 8 (float64): see
``benchmarks/README.md`` for the measured numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ._array import ArrayLike, is_torch
from .observables import Weights, coordinates, isotropy, moments, spread2, weights_of
from .observables import steady_state_speed as _steady
from .publish import progress

Activation = str | Callable[[torch.Tensor], torch.Tensor]

#: Default chunk of kernels on the CPU: one padded window tensor of at most this many bytes, so the
#: working set of a step stays in cache (measured: 5x faster than one batch on 301x301 images).
CPU_CHUNK_BYTES = 8 * 2**20

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "none": lambda t: t,
    "abs": torch.abs,
}


def activation_fn(activation: Activation) -> Callable[[torch.Tensor], torch.Tensor]:
    """Resolve ``"relu"``, ``"none"``, ``"abs"`` or a callable on tensors."""
    if callable(activation):
        return activation
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of "
                         f"{sorted(ACTIVATIONS)} or a callable")
    return ACTIVATIONS[activation]


@dataclass
class Trajectory:
    """Observables of a batched run; index ``[t, i]`` is step ``t`` of kernel ``i``.

    Attributes
    ----------
    mass : (T+1, K)
        Total weight (|x| by default) at each step.
    centre : (T+1, K, 2)
        Centre of mass (x, y) in pixels from the image centre; NaN where the mass is zero.
    covariance : (T+1, K, 2, 2)
        Weighted covariance of pixel positions.
    row_centre : (T+1, K)
        The authors' measurement: centre of mass along the central row (NaN where it is empty).
    final : (K, H, W)
        The state after the last step.
    frames : dict t -> (K, H, W)
        Full-size states at the steps asked for with ``frames=``.
    """

    mass: np.ndarray
    centre: np.ndarray
    covariance: np.ndarray
    row_centre: np.ndarray
    final: np.ndarray
    frames: dict[int, np.ndarray] = field(default_factory=dict)
    window: tuple[int, int, int, int] = (0, 0, 0, 0)
    period: int = 1

    @property
    def steps(self) -> int:
        """Number of steps T."""
        return self.mass.shape[0] - 1

    def displacement(self, measure: str = "2d") -> np.ndarray:
        """``mu(t) - mu(0)``: (T+1, K, 2) for ``"2d"``, (T+1, K) for ``"row"``."""
        if measure == "2d":
            return self.centre - self.centre[0]
        if measure == "row":
            return self.row_centre - self.row_centre[0]
        raise ValueError(f"unknown measure {measure!r}; expected '2d' or 'row'")

    def distance(self, measure: str = "2d") -> np.ndarray:
        """``|mu(t) - mu(0)|``, shape (T+1, K)."""
        d = self.displacement(measure)
        return np.linalg.norm(d, axis=-1) if measure == "2d" else np.abs(d)

    def speed(self, measure: str = "2d") -> np.ndarray:
        """Mean speed ``|mu(T) - mu(0)| / T`` in px/step, shape (K,)."""
        if self.steps < 1:
            raise ValueError("speed needs at least one step")
        return self.distance(measure)[-1] / self.steps

    def steady_state_speed(self, measure: str = "2d") -> np.ndarray:
        """Slope of ``|mu(t) - mu(0)|`` over the second half of the run, shape (K,).

        Sampled once per schedule cycle (``period`` phases), so the zig-zag of an alternating
        schedule (the 2x2 placement) does not bias the slope. NaN when the run is too short to hold
        one full cycle.
        """
        d = self.distance(measure)
        if self.steps < self.period:
            return np.full(d.shape[1:], np.nan)
        return _steady(d, self.period)

    def sigma2(self) -> np.ndarray:
        """Spread ``tr(Sigma)/2`` per step, (T+1, K)."""
        return spread2(self.covariance)

    def isotropy(self) -> np.ndarray:
        """Isotropy ratio of the covariance per step, (T+1, K)."""
        return isotropy(self.covariance)


def _as_tensor(a: ArrayLike, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    if is_torch(a):
        return a.to(dtype=dtype, device=device)
    return torch.as_tensor(np.ascontiguousarray(a, dtype=float), dtype=dtype, device=device)


def _all_finite(t: torch.Tensor) -> bool:
    """``isfinite(t).all()``; through numpy on the CPU (a view; faster than torch for small arrays)."""
    if t.device.type == "cpu":
        return bool(np.isfinite(t.numpy()).all())
    return bool(torch.isfinite(t).all())


def _schedule(kernels: Any, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Kernels as a (P, K, n, n) tensor: P schedule phases cycled over steps, K kernels."""
    seq = list(kernels) if isinstance(kernels, list | tuple) else [kernels]
    if not seq:
        raise ValueError("kernels: empty schedule")
    ts = []
    for k in seq:
        t = _as_tensor(k, dtype, device)
        if t.ndim == 2:
            t = t[None]
        if t.ndim != 3:
            raise ValueError(f"kernels must have shape (n, n) or (K, n, n); got {tuple(t.shape)}")
        ts.append(t)
    shapes = {tuple(t.shape) for t in ts}
    if len(shapes) != 1:
        raise ValueError(f"all phases of a kernel schedule must have one shape; got {sorted(shapes)}")
    K, n0, n1 = ts[0].shape
    if K == 0:
        raise ValueError("kernels: no kernels given (K = 0)")
    if n0 == 0 or n1 == 0:
        raise ValueError(f"kernels are empty: shape {n0} x {n1}")
    if n0 != n1:
        raise ValueError(f"kernels must be square; got {n0} x {n1}")
    if n0 % 2 == 0:
        raise ValueError(f"kernels must have odd size to have a centre; got {n0} x {n1} "
                         "(embed even kernels, e.g. kernels.alternating_2x2)")
    out = torch.stack(ts)
    if not _all_finite(out):
        raise ValueError("kernels contain NaN or Inf")
    dead = (out == 0).all(dim=-1).all(dim=-1).any(dim=0)
    if bool(dead.any()):
        raise ValueError(f"kernels {torch.nonzero(dead).flatten().tolist()[:5]} are all zeros: "
                         "they erase the image (zero mass)")
    return out


Box = tuple[int, int, int, int]

#: In-place versions of the named activations (saves one allocation per step).
_INPLACE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu_,
    "none": lambda t: t,
    "abs": torch.abs_,
}


def _correlate(xp: torch.Tensor, ks: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Grouped cross-correlation, VALID mode: ``xp`` (k, h+2r, w+2r), ``ks`` (k, n, n) -> (k, h, w).

    float64 on the CPU: ``n*n`` fused multiply-adds of shifted views (torch's float64 ``conv2d``
    is several times slower); otherwise one grouped ``conv2d`` call.
    """
    k, n = ks.shape[0], ks.shape[-1]
    if xp.dtype == torch.float64 and xp.device.type == "cpu":
        out = torch.zeros((k, h, w), dtype=xp.dtype, device=xp.device)
        for a in range(n):
            for b in range(n):
                out.addcmul_(xp[:, a:a + h, b:b + w], ks[:, a, b, None, None])
        return out
    return F.conv2d(xp[None], ks[:, None], groups=k)[0]


def _observe(state: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor, row: int, weights: Weights
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mass, centre, covariance and central-row centre of a (k, h, w) state (float64)."""
    w = weights_of(state, weights)
    m, c, cov = moments(w, xs, ys)
    if 0 <= row < state.shape[-2]:
        rw = w[:, row, :].double()
        rm = rw.sum(-1)
        rc = (rw * xs.double()).sum(-1) / torch.where(rm == 0, torch.ones_like(rm), rm)
        rc = torch.where(rm == 0, torch.full_like(rm, float("nan")), rc)
    else:
        rc = torch.full((state.shape[0],), float("nan"), dtype=torch.float64, device=state.device)
    return m, c, cov, rc


def propagate(
    x: ArrayLike,
    kernels: Any,
    steps: int,
    *,
    activation: Activation = "relu",
    rescale: bool = False,
    weights: Weights = "abs",
    frames: Sequence[int] = (),
    dtype: torch.dtype = torch.float64,
    device: str | torch.device | None = None,
    light_cone: bool = True,
    batch_size: int | None = None,
) -> Trajectory:
    r"""Run :math:`x \leftarrow \mathrm{act}(k \star x)` for ``steps`` steps, many kernels at once.

    Parameters
    ----------
    x : array (H, W) or (K, H, W)
        Initial image, shared by all kernels, or one per kernel. Must have non-zero mass.
    kernels : array (n, n) or (K, n, n), or a list of such arrays (a schedule cycled over steps)
        Odd ``n``. Kernel ``i`` acts on image ``i``.
    steps : int
        Number of steps T >= 0.
    activation : {"relu", "none", "abs"} or callable
    rescale : bool
        Divide by the (full-image) standard deviation before every step, as the authors do.
    weights : {"abs", "signed", "relu"}
        Weights of the observables (see :mod:`infomech.observables`).
    frames : sequence of int
        Steps whose full-size state to keep (nothing else is stored).
    dtype, device : torch dtype and device (float64 on the CPU by default; CUDA works).
    light_cone : bool
        Compute only inside the light cone of the initial support (exact; see module notes).
    batch_size : int, optional
        Kernels per chunk. Default: on the CPU, as many as keep one padded window tensor within
        :data:`CPU_CHUNK_BYTES` (cache-sized chunks run several times faster than one huge batch on
        full images); on other devices all at once. Results do not depend on it (bit-identical).

    Returns
    -------
    Trajectory
    """
    if isinstance(steps, bool) or int(steps) != steps:
        raise TypeError(f"steps must be an integer; got {steps!r}")
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"steps must be >= 0; got {steps}")
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype must be torch.float32 or torch.float64; got {dtype}")
    dev = torch.device(device) if device is not None else (
        x.device if is_torch(x) else torch.device("cpu"))
    act = activation_fn(activation)
    if weights not in ("abs", "signed", "relu"):
        raise ValueError(f"unknown weights {weights!r}; expected 'abs', 'signed' or 'relu'")
    sched = _schedule(kernels, dtype, dev)
    P, K, n, _ = sched.shape
    img = _as_tensor(x, dtype, dev)
    if img.ndim == 2:
        img = img[None]
    if img.ndim != 3 or img.shape[-1] == 0 or img.shape[-2] == 0:
        raise ValueError(f"x must have shape (H, W) or (K, H, W); got {tuple(img.shape)}")
    if img.shape[0] not in (1, K):
        raise ValueError(f"x has {img.shape[0]} images but there are {K} kernels")
    if not _all_finite(img):
        raise ValueError("x contains NaN or Inf")
    if bool((weights_of(img, weights).sum(dim=(-2, -1)) == 0).any()):
        raise ValueError("x has zero mass: its centre of mass is undefined")
    frames = sorted({int(f) for f in frames})
    if any(f < 0 or f > steps for f in frames):
        raise ValueError(f"frames must lie in [0, {steps}]; got {frames}")
    H, W = img.shape[-2:]
    r = n // 2

    # light cone: box(t) = initial support grown by r*t, clipped to the image (rows y0:y1, cols x0:x1)
    zero_ok = bool(act(torch.zeros(1, dtype=dtype, device=dev)).abs().max() == 0)
    cone = light_cone and zero_ok
    if cone:
        nz = (img != 0).any(dim=0)
        rows = torch.nonzero(nz.any(dim=1)).flatten()
        cols = torch.nonzero(nz.any(dim=0)).flatten()
        sy0, sy1, sx0, sx1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1

    def box(t: int) -> Box:
        if not cone:
            return 0, H, 0, W
        m = r * t
        return max(0, sy0 - m), min(H, sy1 + m), max(0, sx0 - m), min(W, sx1 + m)

    y0, y1, x0, x1 = box(steps)
    xs_all, ys_all = coordinates(H, W, dtype=dtype, device=dev)
    row = H // 2
    npix = H * W
    inplace = _INPLACE.get(activation) if isinstance(activation, str) else None

    if batch_size is None:
        chunk = K if dev.type != "cpu" else max(1, min(K, CPU_CHUNK_BYTES // (
            torch.finfo(dtype).bits // 8 * (y1 - y0 + 2 * r) * (x1 - x0 + 2 * r))))
    else:
        chunk = int(batch_size)
    if chunk < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    final = np.zeros((K, H, W), dtype=np_dtype)  # calloc: untouched pages cost no memory
    kept = {f: np.zeros((K, H, W), dtype=np_dtype) for f in frames}

    def observe(state: torch.Tensor, b: Box):
        by0, by1, bx0, bx1 = b
        return _observe(state, xs_all[bx0:bx1], ys_all[by0:by1], row - by0, weights)

    def store(dest: np.ndarray, start: int, state: torch.Tensor, b: Box) -> None:
        by0, by1, bx0, bx1 = b
        dest[start:start + state.shape[0], by0:by1, bx0:bx1] = state.cpu().numpy()

    out_m, out_c, out_s, out_r = [], [], [], []
    n_chunks = -(-K // chunk)
    # a bar only when interactive and slow (tqdm's delay); silent in the book and the tests
    ticks = progress(range(n_chunks * steps), desc=f"propagate {K} kernels", unit="step", delay=1.0)
    for start in range(0, K, chunk):
        stop = min(K, start + chunk)
        ks = sched[:, start:stop]  # (P, k, n, n)
        b = box(0)
        cur = img[:, b[0]:b[1], b[2]:b[3]]
        cur = cur.expand(stop - start, -1, -1) if cur.shape[0] == 1 else cur[start:stop]
        obs = [observe(cur, b)]
        if 0 in kept:
            store(kept[0], start, cur, b)
        for t in range(steps):
            next(ticks, None)
            nb = box(t + 1)
            # zero padding: r around the new box plus the growth of the box on each side
            pad = (b[2] - nb[2] + r, nb[3] - b[3] + r, b[0] - nb[0] + r, nb[1] - b[1] + r)
            xp = F.pad(cur, pad)
            if rescale:
                s1 = cur.sum(dim=(-2, -1), keepdim=True)
                s2 = (cur * cur).sum(dim=(-2, -1), keepdim=True)
                std = torch.sqrt((s2 / npix - (s1 / npix) ** 2).clamp_min(0))
                xp.div_(torch.where(std > 0, std, torch.ones_like(std)))
            res = _correlate(xp, ks[t % P], nb[1] - nb[0], nb[3] - nb[2])
            del xp
            cur = inplace(res) if inplace is not None else act(res)
            b = nb
            obs.append(observe(cur, b))
            if t + 1 in kept:
                store(kept[t + 1], start, cur, b)
        ms, cs, ss, rs = zip(*obs, strict=True)
        out_m.append(torch.stack(ms))
        out_c.append(torch.stack(cs))
        out_s.append(torch.stack(ss))
        out_r.append(torch.stack(rs))
        store(final, start, cur, b)
        del cur

    def cat(parts: list[torch.Tensor], dim: int = 1) -> np.ndarray:
        return torch.cat(parts, dim=dim).cpu().numpy()

    mass = cat(out_m)
    vanished = int((mass[-1] == 0).sum())
    if vanished:
        warnings.warn(f"the mass vanished for {vanished} of {K} kernels (the activation erased all "
                      "content); their centres are NaN from then on", RuntimeWarning, stacklevel=2)
    return Trajectory(
        mass=mass, centre=cat(out_c), covariance=cat(out_s), row_centre=cat(out_r),
        final=final, frames=kept,
        window=(y0, y1, x0, x1), period=P,
    )
