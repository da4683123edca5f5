r"""Batched propagation ``x <- act(corr(x, k))`` with observables recorded at every step.

The update of the paper, for steps :math:`t = 0, \dots, T-1`:

.. math::

    x_{t+1} = \mathrm{act}\big(k_t \star \tilde x_t\big), \qquad
    \tilde x_t = x_t / \operatorname{std}(x_t) \ \text{(optional rescaling)},

with :math:`\star` the cross-correlation of CNN frameworks, zero ("SAME") padding, no bias, one
channel per kernel. Many kernels run at once (kernel ``i`` acts on channel ``i``); kernels may
change with the step (a *schedule*, cycled: bipolar runs, the 2x2 alternating placement).

:func:`propagate` is four named steps: :func:`validate` the inputs, then (:func:`run_plan`)
:func:`light_cone_windows`, a run per chunk of kernels (:func:`run_dense` or, where it is exact,
:func:`run_separable`), and the observables from the recorded power sums
(:func:`observables_from_sums`). A caller that checks the validated plan first (the sweeps refuse
runs whose light cone reaches the border) calls the two halves itself.

Light cone. A kernel of radius ``r`` moves nothing farther than ``r`` pixels per step, so after
``t`` steps the state vanishes outside the initial support grown by ``r*t``. When the activation
maps 0 to 0 we compute on that window only (clipped to the image, where zero padding then
coincides with the image border): the result is exact. The rescaling uses the statistics of the
full image (the zeros outside the window included).

Separable fast path (exact). If a kernel is rank one, :math:`k = u v^\top` (:func:`rank1`), and
the state is a product :math:`x_t = f_t \otimes g_t` (rows :math:`f`, columns :math:`g`), then
:math:`k \star x_t = (u \star f_t) \otimes (v \star g_t)`: two 1-D correlations. The activation
keeps the product form when it is positively homogeneous, :math:`\mathrm{act}(c z) =
c\,\mathrm{act}(z)` for :math:`c \ge 0` (ReLU, identity, abs), and one factor stays non-negative:
if :math:`u \ge 0` and :math:`f_0 \ge 0` then every :math:`u \star f_t \ge 0` and

.. math:: \mathrm{act}\big((u\star f_t)(y)\,(v\star g_t)(x)\big) = (u\star f_t)(y)\,
          \mathrm{act}\big((v\star g_t)(x)\big),

so :math:`f_{t+1} = u \star f_t`, :math:`g_{t+1} = \mathrm{act}(v \star g_t)` (or the same with
the roles of rows and columns exchanged when :math:`v \ge 0`). ``relu(u v^T)`` itself is *not*
rank one in general: the path needs the sign condition, and is used only when it holds for every
phase of the kernel's schedule and the initial image is a product (a single pixel, a square, a
Gaussian blob). The DCT-beta kernels are :math:`k(y, x) = n^{-1/2}\,b(x)` (DC row of the DCT
coefficients only), rank one with a constant positive column factor, so the authors' sweeps run
through it. The weights of the observables are products too (``|f g| = f |g|`` for ``f >= 0``),
so the power sums of the state are products of 1-D sums. The work per step falls from
:math:`O(n^2 hw)` to :math:`O(n(h+w))`; the factors of all kernels are stored positions-outer,
kernels-inner, so each step is a few contiguous passes over the growing light-cone window. A
kernel counts as rank one when the product of its pivot row and column reproduces it to
:data:`RANK1_RTOL` (relative, max-norm); that bounds the kernel actually applied, so the path
agrees with the 2-D computation to round-off (tested).

Performance and memory. On the CPU in float64 the grouped correlation is evaluated as ``n*n``
fused multiply-adds of shifted views (``addcmul_``; taps that are zero for every kernel of a chunk
are skipped, exactly), several times faster than ``conv2d``'s float64 path; float32 and CUDA use
``conv2d``. The state lives in two zero-padded buffers of the light-cone window, written in turn
(no padding copy per step). Per step the observables need one pass over the state: the power sums
:math:`S_{ij} = \sum_p w(p) x^i y^j` (one ``(4, h) x (h, w)`` product per kernel, which also gives
the central row), from which mass, centre and covariance follow at the end; with the rescaling,
:math:`\sum x` is the mass of a non-negative state and :math:`\sum x^2` one batched dot product.
On the CPU the kernels run in chunks that follow the light cone (:func:`run_dense_tree`): all
together while their padded window tensor fits in :data:`CPU_CHUNK_BYTES` (early steps are
bound by per-call overhead, not memory), then halved, and so on. Nothing but the sums, the final
light-cone window and the full frames asked for is stored: ``Trajectory.final_window`` is
``(K, h, w)`` with its offset in ``Trajectory.window``; ``Trajectory.final`` builds the full
``(K, H, W)`` state on request. Each chunk keeps its last padded window as the final state; the
working buffers fit in the budget, and the tree holds at most one pending sibling state per level.
Peak resident memory is therefore bounded by

    ``R0 + bytes*K*(h+2r)*(w+2r) + (4 + ceil(log2 K))*CPU_CHUNK_BYTES + 192*K*(T+1) + 32 MiB``
    (``+ bytes*K*H*W`` per frame kept)

with ``R0`` the interpreter + torch baseline, ``bytes`` 4 (float32) or 8 (float64), the records
and their copies ``192*K*(T+1)`` bytes and 32 MiB for the allocator; the separable path holds only
``2*K*(T+1)*(L+2r)`` factor values and ``2*P*n*K*(L+2r)`` expanded taps. ``benchmarks/run.py``
measures it (1,000 kernels on 512x512: see ``benchmarks/README.md``); no full-size array per
kernel exists unless frames are asked for.

Threads. The operations are small and memory-bound; torch's thread pool gains little on them and
stalls on a busy machine (its workers spin waiting for a descheduled sibling). On the CPU the run
therefore uses ``threads=1`` by default, set inside :func:`torch_threads`, which restores the
caller's setting. Results do not depend on the thread count, the chunking or the CPU's instruction
set beyond round-off (states are bit-identical across chunkings; the observables come from BLAS
products, whose rounding may differ: measured below 1e-15 relative, see ``benchmarks/README.md``).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ._array import ArrayLike, is_torch
from .observables import Weights, isotropy, moments_from_sums, power_basis, spread2, weights_of
from .observables import steady_state_speed as _steady
from .progress import progress, progress_enabled

Activation = str | Callable[[torch.Tensor], torch.Tensor]
Box = tuple[int, int, int, int]

#: Default chunk of kernels on the CPU: one padded window tensor of at most this many bytes, so the
#: working set of a step stays in cache (measured best on a 1 MiB-L2 CPU: 2-3 MiB).
CPU_CHUNK_BYTES = 3 * 2**20

#: A kernel (or image) is treated as rank one when ``max|k - u v^T| <= RANK1_RTOL * max|k|`` for
#: its pivot factors ``u, v``. Over ``T`` steps the applied kernel then differs from the given one
#: by at most ``T * RANK1_RTOL`` relative: round-off for every run of the book.
RANK1_RTOL = 1e-14

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "none": lambda t: t,
    "abs": torch.abs,
}

#: In-place versions of the named activations (saves one allocation per step).
_INPLACE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu_,
    "none": lambda t: t,
    "abs": torch.abs_,
}

#: Named activations with ``act(c z) = c act(z)`` for ``c >= 0`` (the separable path needs this).
_HOMOGENEOUS = frozenset({"relu", "none", "abs"})
#: Named activations whose output is never negative (then the weights of the state are the state).
_NONNEGATIVE = frozenset({"relu", "abs"})


def activation_fn(activation: Activation) -> Callable[[torch.Tensor], torch.Tensor]:
    """Resolve ``"relu"``, ``"none"``, ``"abs"`` or a callable on tensors."""
    if callable(activation):
        return activation
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of "
                         f"{sorted(ACTIVATIONS)} or a callable")
    return ACTIVATIONS[activation]


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n)`` and restore the caller's setting after.

    ``None`` leaves the setting alone.
    """
    if n is None:
        yield
        return
    n = int(n)
    if n < 1:
        raise ValueError(f"threads must be >= 1; got {n}")
    old = torch.get_num_threads()
    if old != n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if old != n:
            torch.set_num_threads(old)


@dataclass
class Trajectory:
    """Observables of a batched run; index ``[t, i]`` is step ``t`` of kernel ``i``.

    Attributes
    ----------
    mass : (T+1, K)
        Total weight (``|x|`` by default) at each step.
    centre : (T+1, K, 2)
        Centre of mass (x, y) in pixels from the image centre; NaN where the mass is zero.
    covariance : (T+1, K, 2, 2)
        Weighted covariance of pixel positions.
    row_centre : (T+1, K)
        The authors' measurement: centre of mass along the central row (NaN where it is empty).
    final_window : (K, h, w)
        The state after the last step inside ``window`` (it is zero outside).
    frames : dict t -> (K, H, W)
        Full-size states at the steps asked for with ``frames=``.
    window : (y0, y1, x0, x1)
        Rows ``y0:y1`` and columns ``x0:x1`` of the image that the last step computed (the light
        cone; the whole image without it).
    period : int
        Number of phases of the kernel schedule.
    shape : (H, W)
        Image shape.
    separable : (K,) bool
        Which kernels ran through the exact separable path (see the module notes).
    """

    mass: np.ndarray
    centre: np.ndarray
    covariance: np.ndarray
    row_centre: np.ndarray
    frames: dict[int, np.ndarray] = field(default_factory=dict)
    window: Box = (0, 0, 0, 0)
    period: int = 1
    shape: tuple[int, int] = (0, 0)
    separable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    #: the final window, or a function that builds it (called once, on first use)
    final_source: np.ndarray | Callable[[], np.ndarray] | None = field(default=None, repr=False)

    @property
    def final_window(self) -> np.ndarray:
        """The state after the last step on ``window``, (K, h, w) (built on first use)."""
        if callable(self.final_source):
            self.final_source = self.final_source()
        if self.final_source is None:
            raise ValueError("this trajectory holds no final state")
        return self.final_source

    @property
    def final(self) -> np.ndarray:
        """The full ``(K, H, W)`` state after the last step (built from ``final_window`` on each call)."""
        y0, y1, x0, x1 = self.window
        out = np.zeros((self.final_window.shape[0], *self.shape), dtype=self.final_window.dtype)
        out[:, y0:y1, x0:x1] = self.final_window
        return out

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
        return distance(self.displacement(measure), measure)

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
        return self.steady_speed_of(self.distance(measure))

    def steady_speed_of(self, d: np.ndarray) -> np.ndarray:
        """:meth:`steady_state_speed` of a distance ``d`` (T+1, K) of this run (e.g. one already
        computed with :meth:`distance`)."""
        if self.steps < self.period:
            return np.full(d.shape[1:], np.nan)
        return _steady(d, self.period)

    def sigma2(self) -> np.ndarray:
        """Spread ``tr(Sigma)/2`` per step, (T+1, K)."""
        return spread2(self.covariance)

    def isotropy(self) -> np.ndarray:
        """Isotropy ratio of the covariance per step, (T+1, K)."""
        return isotropy(self.covariance)


def distance(displacement: np.ndarray, measure: str = "2d") -> np.ndarray:
    """``|mu(t) - mu(0)|`` (T+1, K) from a displacement (:meth:`Trajectory.displacement`):
    the Euclidean norm of (T+1, K, 2) for ``"2d"``, the absolute value of (T+1, K) for ``"row"``."""
    d = displacement
    # the Euclidean norm as np.linalg.norm(d, axis=-1) computes it, without its overhead
    return np.sqrt((d * d).sum(axis=-1)) if measure == "2d" else np.abs(d)


# --------------------------------------------------------------------------------------------
# step 1: validate
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """Validated inputs of a run: image ``(1 or K, H, W)``, schedule ``(P, K, n, n)`` and options."""

    img: torch.Tensor
    sched: torch.Tensor
    steps: int
    act: Callable[[torch.Tensor], torch.Tensor]
    act_name: str | None
    rescale: bool
    weights: Weights
    frames: tuple[int, ...]
    support: Box

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.img.shape[-2]), int(self.img.shape[-1])

    @property
    def radius(self) -> int:
        return int(self.sched.shape[-1]) // 2


def _as_tensor(a: ArrayLike, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    if is_torch(a):
        return a.to(dtype=dtype, device=device)
    return torch.as_tensor(np.ascontiguousarray(a, dtype=float), dtype=dtype, device=device)


def _all_finite(t: ArrayLike) -> bool:
    """``isfinite(t).all()`` of a numpy array or tensor; through numpy on the CPU (a view; faster
    than torch for small arrays).

    A finite sum proves every entry finite (an inf or NaN makes the sum inf or NaN), so one
    reduction answers the usual case; only a non-finite sum (which may be an overflow) is
    checked entry by entry.
    """
    if not is_torch(t) or t.device.type == "cpu":
        a = t.numpy() if is_torch(t) else t
        return bool(np.isfinite(a.sum())) or bool(np.isfinite(a).all())
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
    out = torch.stack(ts) if len(ts) > 1 else ts[0][None]
    host = out.numpy() if out.device.type == "cpu" and not out.requires_grad else out.detach().cpu().numpy()
    if not _all_finite(host):
        raise ValueError("kernels contain NaN or Inf")
    alive = host.reshape(len(ts), K, -1).any(axis=-1).all(axis=0)  # (K,)
    if not alive.all():  # some phase of a kernel is all zeros
        raise ValueError(f"kernels {np.flatnonzero(~alive).tolist()[:5]} are all zeros: "
                         "they erase the image (zero mass)")
    return out


def _zero_mass(img: torch.Tensor, weights: Weights, occupied: np.ndarray) -> bool:
    """Whether some image has zero total weight; ``occupied`` (n,): which images have a non-zero
    pixel (:func:`_scan`), the answer for ``abs``."""
    if weights == "abs":
        return not bool(occupied.all())
    flat = img.reshape(img.shape[0], -1)
    return bool((weights_of(flat, weights).sum(dim=-1) == 0).any())


def _scan(img: ArrayLike) -> tuple[np.ndarray, Box | None, bool]:
    """One look at ``img`` (n, H, W): which images (n,) hold a non-zero pixel, the smallest box
    ``(y0, y1, x0, x1)`` holding every non-zero pixel of them all (None when there is none), and
    whether every value is finite.

    One comparison pass over the image (numpy's boolean reductions are much faster than torch's on
    the CPU); the columns are reduced over the occupied rows only, and the values are checked for
    NaN and Inf inside the box only (they are non-zero: nowhere else).
    """
    cpu = not is_torch(img) or img.device.type == "cpu"
    a = (img.numpy() if is_torch(img) else np.asarray(img)) if cpu else img
    nz = a != 0
    rows = nz.any(axis=2) if cpu else nz.any(dim=2).cpu().numpy()  # (n, H)
    ys = np.flatnonzero(rows.any(axis=0))
    if ys.size == 0:
        return rows.any(axis=1), None, True
    y0, y1 = int(ys[0]), int(ys[-1]) + 1
    band = nz[:, y0:y1]
    xs = np.flatnonzero(band.any(axis=1).any(axis=0) if cpu else band.any(dim=1).any(dim=0).cpu().numpy())
    x0, x1 = int(xs[0]), int(xs[-1]) + 1
    return rows.any(axis=1), (y0, y1, x0, x1), _all_finite(a[:, y0:y1, x0:x1])


def validate(x: ArrayLike, kernels: Any, steps: int, *, activation: Activation = "relu",
             rescale: bool = False, weights: Weights = "abs", frames: Sequence[int] = (),
             dtype: torch.dtype = torch.float64, device: str | torch.device | None = None) -> Plan:
    """Check the inputs of :func:`propagate` (one short error naming the parameter) into a :class:`Plan`."""
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
    K = sched.shape[1]
    img = _as_tensor(x, dtype, dev)
    if img.ndim == 2:
        img = img[None]
    if img.ndim != 3 or img.shape[-1] == 0 or img.shape[-2] == 0:
        raise ValueError(f"x must have shape (H, W) or (K, H, W); got {tuple(img.shape)}")
    if img.shape[0] not in (1, K):
        raise ValueError(f"x has {img.shape[0]} images but there are {K} kernels")
    occupied, box, finite = _scan(img)
    if not finite:
        raise ValueError("x contains NaN or Inf")
    if _zero_mass(img, weights, occupied):
        raise ValueError("x has zero mass: its centre of mass is undefined")
    kept = tuple(sorted({int(f) for f in frames}))
    if any(f < 0 or f > steps for f in kept):
        raise ValueError(f"frames must lie in [0, {steps}]; got {list(kept)}")
    name = activation if isinstance(activation, str) else None
    return Plan(img, sched, steps, act, name, bool(rescale), weights, kept, box)


# --------------------------------------------------------------------------------------------
# step 2: light-cone windows
# --------------------------------------------------------------------------------------------

def support_box(img: ArrayLike) -> Box:
    """Smallest box ``(y0, y1, x0, x1)`` holding every non-zero pixel of ``img`` (..., H, W)
    (numpy or torch).

    Raises
    ------
    ValueError
        When ``img`` has no non-zero pixel.
    """
    _, box, _ = _scan(img.reshape(-1, *img.shape[-2:]))
    if box is None:
        raise ValueError("the image has no non-zero pixel: it has no support box")
    return box


def _maps_zero_to_zero(plan: Plan) -> bool:
    """Whether the (callable) activation of ``plan`` maps 0 to 0."""
    zero = torch.zeros(1, dtype=plan.img.dtype, device=plan.img.device)
    return bool(plan.act(zero).abs().max() == 0)


def light_cone_windows(plan: Plan, enabled: bool = True) -> list[Box]:
    """Window ``(y0, y1, x0, x1)`` computed at each step ``t = 0..T``.

    The initial support box grown by ``r*t`` and clipped to the image, when ``enabled`` and the
    activation maps 0 to 0 (then the state vanishes outside); otherwise the whole image.
    """
    H, W = plan.shape
    if not (enabled and (plan.act_name in ACTIVATIONS or _maps_zero_to_zero(plan))):
        return [(0, H, 0, W)] * (plan.steps + 1)
    sy0, sy1, sx0, sx1 = plan.support
    r = plan.radius
    return [(max(0, sy0 - r * t), min(H, sy1 + r * t), max(0, sx0 - r * t), min(W, sx1 + r * t))
            for t in range(plan.steps + 1)]


# --------------------------------------------------------------------------------------------
# step 3: the run of one chunk of kernels
# --------------------------------------------------------------------------------------------

@dataclass
class ChunkRun:
    """What one chunk of ``k`` kernels records.

    ``sums`` (T+1, k, 3, 3) float64 (a tensor; numpy arrays from the separable path): power sums
    :math:`S_{ij} = \\sum_p w(p) x^i y^j` per step;
    ``row`` (T+1, k, 2) float64: mass and :math:`\\sum w x` of the image's central row (zeros when
    the row lies outside the window); ``final`` (k, h, w): the last state on the final window (a
    tensor, or anything with ``.cpu()`` giving one);
    ``frames``: t -> (k, h_t, w_t) state on the window of step t.
    """

    sums: torch.Tensor
    row: torch.Tensor
    final: Any
    frames: dict[int, torch.Tensor]


class _Coords:
    """Power bases ``[1, x, x^2]`` (W, 3) and ``[1, y, y^2]`` (H, 3), origin at the image centre.

    ``yt`` (4, H), in the run's dtype, is the transposed y basis with a fourth row, the indicator of
    the central row: one product with it gives the power sums over y and the central row together
    (:func:`_observe_dense`).
    """

    def __init__(self, H: int, W: int, dtype: torch.dtype, device: torch.device) -> None:
        self.H, self.W, self.dtype, self.device = H, W, dtype, device
        self.row = H // 2

    @functools.cached_property
    def x64(self) -> torch.Tensor:
        return power_basis(torch.arange(self.W, dtype=torch.float64, device=self.device) - (self.W - 1) / 2)

    @functools.cached_property
    def y64(self) -> torch.Tensor:
        return power_basis(torch.arange(self.H, dtype=torch.float64, device=self.device) - (self.H - 1) / 2)

    @functools.cached_property
    def yt(self) -> torch.Tensor:
        yt = torch.zeros((4, self.y64.shape[0]), dtype=torch.float64, device=self.y64.device)
        yt[:3] = self.y64.t()
        yt[3, self.row] = 1
        return yt.to(self.dtype)


def _observe_dense(w: torch.Tensor, c: _Coords, b: Box, out: torch.Tensor) -> None:
    r"""Power sums of weights ``w`` (k, h, w) on box ``b`` into ``out`` (k, 4, 3) float64.

    One pass over the state, :math:`A_{jx} = \sum_y e_j(y)\, w(y, x)` with :math:`e = (1, y, y^2,
    [y = \text{central row}])`: a (4, h) x (h, w) product per kernel (a strided view: bmm takes it
    as is; about three times faster than the (h, w) x (w, 3) order, whose narrow output leaves the
    BLAS kernel idle). Then :math:`\text{out}_{ji} = \sum_x A_{jx} x^i` in float64: ``out[:, j, i]``
    is :math:`S_{ij}` for ``j < 3`` and ``out[:, 3, i]`` the central row's :math:`\sum_x w x^i`
    (zero when the row lies outside the box).
    """
    a = torch.matmul(c.yt[:, b[0]:b[1]], w)  # (k, 4, w)
    torch.matmul(a if a.dtype == torch.float64 else a.double(), c.x64[b[2]:b[3]], out=out)


def _sum_squares(buf: torch.Tensor, rows: tuple[int, int]) -> torch.Tensor:
    r""":math:`\sum x^2` per plane of ``buf`` (k, Hb, Wb) over the rows ``rows[0]:rows[1]``: (k,).

    The rows of a plane are contiguous, so the block is one vector per kernel and the sum is a
    batched dot product (one pass, no temporary). Columns outside the window are zeros in the
    buffers of :func:`run_dense` (windows only grow), so summing whole rows is exact.
    """
    k, _, wb = buf.shape
    n = (rows[1] - rows[0]) * wb
    blk = buf.as_strided((k, 1, n), (buf.stride(0), n, 1), buf.storage_offset() + rows[0] * wb)
    return torch.bmm(blk, blk.transpose(1, 2)).view(k)


def _inverse_std(s1: torch.Tensor, s2: torch.Tensor, npix: int) -> torch.Tensor:
    r""":math:`1/\operatorname{std}` over ``npix`` pixels from :math:`S_1 = \sum x`, :math:`S_2 =
    \sum x^2`: :math:`\sqrt{N} / \sqrt{S_2 - S_1^2/N}` (1 where the std is 0)."""
    var = torch.addcmul(s2, s1, s1, value=-1.0 / npix).clamp_min_(0)  # N var
    inv = var.sqrt().reciprocal_().mul_(npix ** 0.5)
    return inv.masked_fill_(var == 0, 1.0)


def _taps(ks: torch.Tensor) -> list[tuple[int, int, torch.Tensor]]:
    """Non-zero taps ``(a, b, k[:, a, b] as (k, 1, 1))`` of kernels ``ks`` (k, n, n).

    A tap that is zero for every kernel adds exact zeros: skipping it changes nothing.
    """
    n = ks.shape[-1]
    live = (ks != 0).flatten(1).any(dim=0).tolist()
    return [(a, b, ks[:, a, b, None, None]) for a in range(n) for b in range(n) if live[a * n + b]]


def _planes(k: int, h: int, w: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Zeros (k, h, w) whose planes all start at a 64-byte boundary (one cache line)."""
    per = 64 // torch.finfo(dtype).bits * 8
    stride = -(-h * w // per) * per
    flat = torch.zeros(k * stride, dtype=dtype, device=device)
    return flat.as_strided((k, h, w), (stride, w, 1))


def run_dense(plan: Plan, boxes: list[Box], ks: torch.Tensor, start: torch.Tensor, coords: _Coords,
              ticks: Iterator[Any] | None, t0: int = 0, t1: int | None = None) -> ChunkRun:
    r"""Run ``k`` kernels ``ks`` (P, k, n, n) from step ``t0`` to ``t1`` (default: the last step):
    the 2-D computation. ``start`` (1 or k, h, w) is the state on the window of step ``t0``.

    The records cover steps ``t0..t1`` (``sums[0]`` is step ``t0``). The state lives in two
    zero-padded buffers covering the window of step ``t1`` (margin ``r``); step ``t`` reads the
    window of step ``t`` from one and writes the window of step ``t+1`` into the other. Outside its
    window a buffer holds zeros (windows only grow), so zero padding is implicit.
    Per step (float64 on the CPU): one ``mul`` and one ``addcmul_`` per live tap, the in-place
    activation, one product for the power sums (:func:`_observe_dense`) and, with the rescaling,
    one batched dot product for :math:`\sum x^2` (:math:`\sum x` is the mass when the state is
    non-negative); the views of the state are made with one ``as_strided`` call each.
    """
    P, k, n, _ = ks.shape
    r = plan.radius
    T = plan.steps if t1 is None else t1
    H, W = plan.shape
    Y0, Y1, X0, X1 = boxes[T]
    dev, dtype = ks.device, ks.dtype
    bufs = [_planes(k, Y1 - Y0 + 2 * r, X1 - X0 + 2 * r, dtype, dev) for _ in range(2 if T > t0 else 1)]
    pstride, wb = bufs[0].stride(0), bufs[0].shape[-1]

    def view(buf: torch.Tensor, y: int, x: int, h: int, w: int) -> torch.Tensor:
        """``buf[:, y:y+h, x:x+w]`` in one call (buffer coordinates)."""
        return buf.as_strided((k, h, w), (pstride, wb, 1), y * wb + x)

    def region(buf: torch.Tensor, b: Box) -> torch.Tensor:
        return view(buf, b[0] - Y0 + r, b[2] - X0 + r, b[1] - b[0], b[3] - b[2])

    b = boxes[t0]
    cur = region(bufs[t0 % 2], b)
    cur.copy_(start.expand_as(cur))
    obs = torch.empty((T + 1 - t0, k, 4, 3), dtype=torch.float64, device=dev)
    frames: dict[int, torch.Tensor] = {}
    nonneg = plan.act_name in _NONNEGATIVE  # then weights_of(x) == x under every weighting
    _observe_dense(cur if t0 > 0 and nonneg else weights_of(cur, plan.weights), coords, b, obs[0])
    if t0 == 0 and 0 in plan.frames:
        frames[0] = cur.clone()
    live = [_taps(ks[p]) for p in range(P)]
    offsets = [[(a, c) for a, c, _ in lv] for lv in live]
    tapstack = [torch.stack([tap for _, _, tap in lv]) for lv in live]  # (m, k, 1, 1) per phase
    plain = [list(ts.unbind(0)) for ts in tapstack]
    use_taps = dtype == torch.float64 and dev.type == "cpu"
    # positively homogeneous act: k * (x / s) = (k / s) * x, so the rescaling folds into the taps
    # (no pass over the state); otherwise the state is divided, as written in the update rule
    fold = plan.rescale and plan.act_name in _HOMOGENEOUS
    inplace = _INPLACE.get(plan.act_name) if plan.act_name is not None else None
    npix = H * W
    for t in range(t0, T):
        _advance(ticks, k)
        src, dst = bufs[t % 2], bufs[(t + 1) % 2]
        nb = boxes[t + 1]
        p = t % P
        taps, kconv = plain[p], ks[p]
        if fold:
            s1 = obs[t - t0, :, 0, 0] if t > 0 and nonneg else cur.sum(dim=(-2, -1))
            inv = _inverse_std(s1, _sum_squares(src, (b[0] - Y0 + r, b[1] - Y0 + r)), npix).to(dtype)
            if use_taps:
                taps = (tapstack[p] * inv[:, None, None]).unbind(0)
            else:
                kconv = kconv * inv[:, None, None]
        elif plan.rescale:
            s1 = cur.sum(dim=(-2, -1), keepdim=True)
            s2 = (cur * cur).sum(dim=(-2, -1), keepdim=True)
            cur.mul_(_inverse_std(s1, s2, npix))
        h, w = nb[1] - nb[0], nb[3] - nb[2]
        oy, ox = nb[0] - Y0, nb[2] - X0  # top-left of the padded input window in the buffer
        out = region(dst, nb)
        if use_taps:
            for j, ((a, c), tap) in enumerate(zip(offsets[p], taps, strict=True)):
                if j == 0:
                    torch.mul(view(src, oy + a, ox + c, h, w), tap, out=out)
                else:
                    out.addcmul_(view(src, oy + a, ox + c, h, w), tap)
        else:
            out.copy_(F.conv2d(view(src, oy, ox, h + 2 * r, w + 2 * r)[None], kconv[:, None], groups=k)[0])
        if inplace is not None:
            inplace(out)
        else:
            out.copy_(plan.act(out))
        cur, b = out, nb
        _observe_dense(cur if nonneg else weights_of(cur, plan.weights), coords, b, obs[t + 1 - t0])
        if t + 1 in plan.frames:
            frames[t + 1] = cur.clone()
    return ChunkRun(obs[:, :, :3].transpose(-1, -2), obs[:, :, 3, :2], cur, frames)


def _advance(ticks: Iterator[Any] | None, n: int) -> None:
    """Advance the progress iterator by ``n`` kernel-steps (in C: no Python loop); ``None``: no bar."""
    if ticks is not None:
        next(itertools.islice(ticks, n - 1, n), None)


def _padded_bytes(k: int, b: Box, r: int, dtype: torch.dtype) -> int:
    """Bytes of one padded window tensor of ``k`` kernels on box ``b``."""
    return k * torch.finfo(dtype).bits // 8 * (b[1] - b[0] + 2 * r) * (b[3] - b[2] + 2 * r)


def run_dense_tree(plan: Plan, boxes: list[Box], ks: torch.Tensor, start: torch.Tensor, coords: _Coords,
                   ticks: Iterator[Any] | None, budget: int, t0: int = 0) -> list[tuple[int, ChunkRun]]:
    """:func:`run_dense` for kernels ``ks`` (P, k, n, n) in chunks that follow the light cone.

    All ``k`` kernels run together while their padded window tensor fits in ``budget`` bytes (the
    windows of a light-cone run are small at first: per-call overhead, not memory, bounds those
    steps); then the chunk is halved and each half goes on from its part of the state, and so on,
    so every step runs on cache-sized tensors with as few calls as that allows. The operations
    per kernel are those of one :func:`run_dense` call (the state does not depend on the split).

    Returns ``(offset, run)`` leaves, in kernel order: kernels ``offset:offset + k_leaf`` of
    ``ks``, with records for every step ``t0..T``.
    """
    k, T, r = ks.shape[1], plan.steps, plan.radius
    t1 = t0
    while t1 < T and (t1 == t0 or k == 1 or _padded_bytes(k, boxes[t1 + 1], r, ks.dtype) <= budget):
        t1 += 1
    seg = run_dense(plan, boxes, ks, start, coords, ticks, t0, t1)
    if t1 == T:
        return [(0, seg)]
    half = (k + 1) // 2
    parts = [(0, half), (half, k)]
    starts = [seg.final[a:b].clone() for a, b in parts]  # own copies: the segment's buffers go now
    sums, row, frames = seg.sums, seg.row, seg.frames
    del seg
    leaves = []
    for (a, b), st in zip(parts, starts, strict=True):
        for off, leaf in run_dense_tree(plan, boxes, ks[:, a:b], st, coords, ticks, budget, t1):
            lo, hi = a + off, a + off + leaf.sums.shape[1]
            leaf.sums = torch.cat([sums[:-1, lo:hi], leaf.sums])
            leaf.row = torch.cat([row[:-1, lo:hi], leaf.row])
            leaf.frames = {**{t: fr[lo:hi] for t, fr in frames.items()}, **leaf.frames}
            leaves.append((lo, leaf))
    return leaves


def _host64(t: torch.Tensor) -> np.ndarray:
    """``t`` as a float64 numpy array (a view when it already is one on the CPU)."""
    if t.device.type == "cpu" and t.dtype == torch.float64 and not t.requires_grad:
        return t.numpy()
    return t.detach().cpu().double().numpy()


def rank1(k: ArrayLike, rtol: float = RANK1_RTOL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Pivot factors of ``k`` (..., m, n): ``u`` (..., m), ``v`` (..., n) and ``ok`` (...) bool.

    With the pivot :math:`(i, j) = \arg\max |k|`: :math:`u = k_{:,j}/k_{ij}`, :math:`v = k_{i,:}`,
    so :math:`u v^\top` reproduces row ``i`` exactly, and ``ok`` is
    :math:`\max|k - u v^\top| \le` ``rtol`` :math:`\cdot \max|k|` (``k`` is rank one to that
    tolerance). This bounds the kernel actually applied, which a singular-value ratio alone does not.
    Computed in numpy float64 (kernels are small).
    """
    k = _host64(k) if is_torch(k) else np.asarray(k, dtype=float)
    m, n = k.shape[-2:]
    lead = k.shape[:-2]
    km = k.reshape(-1, m, n)  # one batch axis: plain integer indexing below
    b = np.arange(km.shape[0])
    i, j = np.divmod(np.abs(km).reshape(-1, m * n).argmax(axis=-1), n)
    v = km[b, i]  # (B, n): the pivot row
    p = v[b, j]
    top = np.abs(p)  # max |k|
    u = km[b, :, j] / np.where(p == 0, 1.0, p)[:, None]  # (B, m): the pivot column over the pivot
    err = np.abs(km - u[:, :, None] * v[:, None, :]).max(axis=(1, 2))
    ok = (err <= rtol * top) & (top > 0)
    return u.reshape(*lead, m), v.reshape(*lead, n), ok.reshape(lead)


def _sign_constant(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(constant sign over the last axis, its sign +-1) for each vector of ``a`` (..., n)."""
    pos, neg = (a >= 0).all(axis=-1), (a <= 0).all(axis=-1)
    return pos | neg, np.where(pos, 1.0, -1.0)


def _sign_of(a: np.ndarray) -> float:
    """The constant sign of a vector: 1.0 if ``a >= 0`` everywhere, else -1.0 if ``a <= 0``
    everywhere, else 0.0."""
    return 1.0 if a.min() >= 0 else -1.0 if a.max() <= 0 else 0.0


@dataclass
class SeparableSplit:
    """Kernels that run through the separable path, with their factors (numpy float64: small
    arrays, set up on the host and sent to the run's device once, by :func:`run_separable`).

    ``index`` (s,) kernel indices; ``u`` (P, s, n) row factors, ``v`` (P, s, n) column factors;
    ``act_on_rows`` (s,) bool: the activation acts on the row factor (the column factors ``v`` are
    non-negative) instead of the column factor (``u >= 0``); ``f0`` (H,), ``g0`` (W,) the factors
    of the initial image, the passive one non-negative.
    """

    index: np.ndarray
    u: np.ndarray
    v: np.ndarray
    act_on_rows: np.ndarray
    f0: np.ndarray
    g0: np.ndarray

    def groups(self) -> list[SeparableSplit]:
        """The kernels split by the factor their activation acts on (one group per factor)."""
        out = []
        for on_rows in (False, True):
            m = self.act_on_rows == on_rows
            if m.all():
                out.append(self)
            elif m.any():
                out.append(SeparableSplit(self.index[m], self.u[:, m], self.v[:, m],
                                          self.act_on_rows[m], self.f0, self.g0))
        return out


def separable_split(plan: Plan) -> SeparableSplit | None:
    """The kernels for which the separable path is exact (module notes), or None if there are none.

    Conditions: a positively homogeneous named activation, one initial image that is rank one,
    every phase of the kernel rank one, and one factor of constant sign along the same axis in
    every phase and in the image.
    """
    if plan.act_name not in _HOMOGENEOUS or plan.img.shape[0] != 1:
        return None
    sy0, sy1, sx0, sx1 = plan.support
    fb, gb, ok_img = rank1(plan.img[0, sy0:sy1, sx0:sx1])
    if not ok_img:
        return None
    u, v, ok = rank1(plan.sched)  # (P, K, n)
    ok = ok.all(axis=0)
    su, sgn_u = _sign_constant(u)
    sv, sgn_v = _sign_constant(v)
    sgn = _sign_of(fb) or _sign_of(gb) or 1.0  # make the row factor >= 0 if it can be, else the column one
    fb, gb = fb * sgn, gb * sgn
    rows_passive = su.all(axis=0) & bool(fb.min() >= 0)  # u >= 0 (after a sign flip), f0 >= 0
    cols_passive = sv.all(axis=0) & bool(gb.min() >= 0)
    use = ok & (rows_passive | cols_passive)
    if not use.any():
        return None
    act_on_rows = ~rows_passive
    # move each phase's sign to the active factor: passive factors become >= 0, products unchanged
    flip = np.where(act_on_rows[None], sgn_v, sgn_u)[..., None]  # (P, K, 1)
    idx = np.flatnonzero(use)
    H, W = plan.shape
    f0, g0 = np.zeros(H), np.zeros(W)
    f0[sy0:sy1], g0[sx0:sx1] = fb, gb
    u, v = u * flip, v * flip
    if idx.size < use.size:
        u, v, act_on_rows = u[:, idx], v[:, idx], act_on_rows[idx]
    return SeparableSplit(idx, u, v, act_on_rows, f0, g0)


#: Exponents (3, 1) of the power basis ``[1, v, v^2]`` of the separable path's moments.
_POWERS = np.arange(3)[:, None]


def run_separable(plan: Plan, boxes: list[Box], split: SeparableSplit, coords: _Coords,
                  ticks: Iterator[Any] | None, deferred: bool = True) -> ChunkRun:
    r"""Run the separable kernels of ``split`` on factor pairs: :math:`x_t = f_t \otimes g_t`.

    All kernels of ``split`` must put the activation on the same factor. The factors live on the
    final light-cone window, stacked as ``z[0] = f`` (k, h) and ``z[1] = g`` (k, w) (padded with
    zeros to one length ``L``); they are zero outside the cone of step ``t``, exactly, since
    correlating zeros gives zeros. Per step: both 1-D correlations in one product, the activation
    on the active factor and the rescaling, divided out of the active factor after the step (the
    full-image std of a product is :math:`\sqrt{S_2/N - (S_1/N)^2}`, :math:`S_1 = \sum f \sum
    g`, :math:`S_2 = \sum f^2 \sum g^2`; act is positively homogeneous). The power sums of every
    step are products of 1-D sums, computed at the end in one batch.

    With ``deferred`` (the default) the rescaling is not applied per step: act is positively
    homogeneous, so the rescaled run is :math:`x_t = y_t / \operatorname{std}(y_{t-1})` for the
    unscaled run :math:`y_{t+1} = \mathrm{act}(k \star y_t)`, :math:`y_0 = x_0` (induction:
    :math:`x_{t+1} = \mathrm{act}(k \star x_t)/\operatorname{std}(x_t)` and the ratio cancels),
    and all the stds come from the stored factors in one batch at the end. If an unscaled std
    leaves :math:`[10^{-250}, 10^{250}]` (or is 0 for a non-empty state), the run is repeated with
    the rescaling applied at every step, so no value ever under- or overflows.
    """
    P, k, n = split.u.shape
    r, T = plan.radius, plan.steps
    H, W = plan.shape
    Y0, Y1, X0, X1 = boxes[T]
    h, w = Y1 - Y0, X1 - X0
    L = max(h, w)
    Lp = L + 2 * r
    dtype, dev = plan.img.dtype, plan.img.device
    active = 0 if split.act_on_rows.all() else 1
    if split.act_on_rows.any() and active == 1:
        raise ValueError("run_separable: all kernels must put the activation on one factor")
    act = _INPLACE[plan.act_name] if plan.act_name != "none" else None
    both = plan.act_name == "relu"  # the identity on the passive factor (>= 0; keeps -0.0): one call
    # Layout z[i, t, c, j]: factor i (0: f over rows, 1: g over columns) of kernel j at step t and
    # padded position c (window position c - r): positions outer, kernels inner, so the window of
    # a step is one contiguous block of (positions x k) values per factor, a tap is a shift of that
    # block by whole positions, and its coefficients (2, 1, k) broadcast along the positions.
    z = torch.zeros((2, T + 1, Lp, k), dtype=dtype, device=dev)
    s0, s1_ = z.stride(0), z.stride(1)

    def span(bx: Box) -> tuple[int, int]:
        """Padded positions ``lo:hi`` of the window ``bx`` of a step: the union of the factors'
        windows (exact zeros between)."""
        return r + min(bx[0] - Y0, bx[2] - X0), r + max(bx[1] - Y0, bx[3] - X0)

    def block(t: int, c0: int, m: int) -> torch.Tensor:
        """``z[:, t, c0:c0 + m]`` (2, m, k) in one call."""
        return z.as_strided((2, m, k), (s0, k, 1), t * s1_ + c0 * k)

    def shifted(t: int, c0: int, m: int) -> tuple[torch.Tensor, ...]:
        """The ``n`` blocks ``z[:, t, c0 + a:c0 + a + m]`` (2, m, k), ``a = 0..n-1``, in two calls."""
        return z.as_strided((n, 2, m, k), (k, s0, k, 1), t * s1_ + c0 * k).unbind(0)

    def flat(i: int, t: int, c0: int, c1: int) -> torch.Tensor:
        """``z[i, t, c0:c1]`` as one vector."""
        return z.as_strided(((c1 - c0) * k,), (1,), i * s0 + t * s1_ + c0 * k)

    b = boxes[0]
    lo, hi = span(b)
    start = np.zeros((2, hi - lo, 1))
    start[0, r + b[0] - Y0 - lo:r + b[1] - Y0 - lo, 0] = split.f0[b[0]:b[1]]
    start[1, r + b[2] - X0 - lo:r + b[3] - X0 - lo, 0] = split.g0[b[2]:b[3]]
    block(0, lo, hi - lo).copy_(torch.as_tensor(start, dtype=dtype, device=dev))  # to every kernel
    taps = np.empty((P, n, 2, k))  # [p, a, i, j]: tap a of factor i of kernel j in phase p
    taps[:, :, 0], taps[:, :, 1] = split.u.transpose(0, 2, 1), split.v.transpose(0, 2, 1)
    live = taps.reshape(P, n, -1).any(axis=-1).tolist()  # (P, n): a zero tap adds exact zeros
    coef = torch.as_tensor(taps, dtype=dtype, device=dev).view(P * n, 2, 1, k).unbind(0)
    phase = [[(a, coef[p * n + a]) for a in range(n) if live[p][a]] for p in range(P)]
    short, cut = (0, h) if h < w else (1, w)  # the shorter factor and where its window ends
    npix = float(H * W)
    for t in range(T):
        _advance(ticks, k)
        lo, hi = span(boxes[t + 1])
        out = block(t + 1, lo, hi - lo)
        src = shifted(t, lo - r, hi - lo)
        for j, (a, tap) in enumerate(phase[t % P]):
            if j == 0:
                torch.mul(src[a], tap, out=out)
            else:
                out.addcmul_(src[a], tap)
        if hi > r + cut:  # beyond the shorter factor's window: the image border, zero padding
            flat(short, t + 1, r + cut, hi).zero_()
        if act is not None:
            act(out if both else flat(active, t + 1, lo, hi))
        if plan.rescale and not deferred:
            cur = z[:, t]  # (2, Lp, k), zeros outside the windows
            s1 = cur.sum(-2).prod(0)
            s2 = torch.linalg.vecdot(cur, cur, dim=-2).prod(0)
            var = torch.addcmul(s2 * npix, s1, s1, value=-1).clamp_min_(0)  # N^2 var
            std = var.sqrt_().div_(npix)
            z[active, t + 1].div_(std.masked_fill_(std == 0, 1))
    # weights of a non-negative factor are the factor (passive ones always are; active ones after
    # relu/abs from a non-negative start): no |.| temporaries
    nonneg = plan.act_name in _NONNEGATIVE and bool((split.g0 if active else split.f0).min() >= 0)
    # moments of both factors in one product over the padded positions (zeros outside the windows):
    # m[i, t, j] (k,) = sum_c e_j(c) w_i(c), e = [1, y, y^2, central row] for f, [1, x, x^2, 0] for g
    basis = np.zeros((2, 1, 4, Lp))
    basis[0, 0, :3, r:r + h] = (np.arange(Y0, Y1) - (H - 1) / 2) ** _POWERS
    basis[1, 0, :3, r:r + w] = (np.arange(X0, X1) - (W - 1) / 2) ** _POWERS
    rr = coords.row - Y0
    if 0 <= rr < h:
        basis[0, 0, 3, r + rr] = 1.0
    if nonneg:
        wz = z
    else:
        wz = z.clone()
        wz[active] = weights_of(z[active], plan.weights)
    m = torch.matmul(torch.as_tensor(basis, device=dev), wz)  # (2, T+1, 4, k)
    # the rest is arithmetic on (T+1, k) arrays: on the host, in numpy (one transfer)
    mh = m.cpu().numpy()
    scale = np.ones((T + 1, k))  # x_t = scale_t * (f_t ⊗ g_t), on the active factor
    if plan.rescale and deferred and T > 0:
        s1 = mh[0, :, 0] * mh[1, :, 0] if nonneg else z.sum(-2).prod(0).cpu().numpy()  # unscaled
        s2 = torch.linalg.vecdot(z, z, dim=-2).prod(0).cpu().numpy()  # (T+1, k)
        if not np.isfinite(s2).all():  # an inf or NaN anywhere in f or g reaches s2
            return run_separable(plan, boxes, split, coords, None, deferred=False)
        std = np.sqrt(np.maximum(s2 / npix - (s1 / npix) ** 2, 0))[:-1]  # std(y_t), t < T
        inside = (std >= 1e-250) & (std <= 1e250)
        if not inside.all():  # out of range is fine for an empty y_t (s2 may underflow)
            empty = ~((z[0, :, r:r + h] != 0).any(-2) & (z[1, :, r:r + w] != 0).any(-2))[:-1].cpu().numpy()
            safe = inside | empty
            safe[0] |= std[0] == 0  # x_0 is the caller's: std 0 means "divide by 1", as below
            if not safe.all():
                return run_separable(plan, boxes, split, coords, None, deferred=False)
        scale[1:] = 1 / np.where(std > 0, std, 1.0)  # x_{t+1} = y_{t+1} / std(y_t)
        mh[active] *= scale[:, None, :]  # the weights are positively homogeneous
    ay, ax = mh[0].transpose(0, 2, 1), mh[1].transpose(0, 2, 1)  # (T+1, k, 4)
    sums = ax[..., :3, None] * ay[..., None, :3]  # S_ij = (sum_x w x^i)(sum_y w y^j)
    row = ax[..., :2] * ay[..., 3:]  # the central row's weight (0 outside the window) x sum_x w x^i

    def factors(t: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``f_t`` (k, h) and ``g_t`` (k, w) on the final window (views of ``z``)."""
        return (z.as_strided((k, h), (1, k), t * s1_ + r * k),
                z.as_strided((k, w), (1, k), s0 + t * s1_ + r * k))

    frames = {t: _window(*factors(t), boxes[t], boxes[T])
              * torch.as_tensor(scale[t], dtype=dtype, device=dev)[:, None, None] for t in plan.frames}
    return ChunkRun(sums, row, _Outer(*factors(T), scale[T]), frames)


class _Outer:
    """A state ``c f ⊗ g`` (k, h, w) kept as its factors until asked for (``.cpu().numpy()``);
    ``c`` (k,) numpy."""

    def __init__(self, f: torch.Tensor, g: torch.Tensor, c: np.ndarray) -> None:
        self.f, self.g, self.c = f, g, c  # the state is c_i f_i ⊗ g_i

    def cpu(self) -> torch.Tensor:
        c = torch.as_tensor(self.c, dtype=self.f.dtype, device=self.f.device)
        return (self.f[:, :, None] * self.g[:, None, :] * c[:, None, None]).cpu()


def _window(f: torch.Tensor, g: torch.Tensor, b: Box, full: Box) -> torch.Tensor:
    """The state ``f ⊗ g`` (k, h, w) on window ``b`` from factors on window ``full``."""
    fy = f[:, b[0] - full[0]:b[1] - full[0]]
    gx = g[:, b[2] - full[2]:b[3] - full[2]]
    return fy[:, :, None] * gx[:, None, :]


# --------------------------------------------------------------------------------------------
# step 4: observables
# --------------------------------------------------------------------------------------------

def observables_from_sums(sums: np.ndarray, row: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Mass, centre, covariance (:func:`infomech.observables.moments_from_sums`) and central-row
    centre :math:`\sum_x w x / \sum_x w` (NaN where the row is empty) from the recorded sums."""
    m, c, cov = moments_from_sums(sums)
    rm = row[..., 0]
    empty = rm == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        if empty.any():
            rc = np.where(empty, np.nan, row[..., 1] / np.where(empty, 1.0, rm))
        else:
            rc = row[..., 1] / rm
    return m, c, cov, rc


# --------------------------------------------------------------------------------------------

def _chunk_size(batch_size: int | None, K: int, box: Box, r: int, dtype: torch.dtype,
                device: torch.device) -> int:
    if batch_size is not None:
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1; got {batch_size}")
        return int(batch_size)
    if device.type != "cpu":
        return K
    per = torch.finfo(dtype).bits // 8 * (box[1] - box[0] + 2 * r) * (box[3] - box[2] + 2 * r)
    return max(1, min(K, CPU_CHUNK_BYTES // per))


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
    separable: bool = True,
    threads: int | None = 1,
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
        Steps whose full-size ``(K, H, W)`` state to keep (nothing else full-size is stored).
    dtype, device : torch dtype and device (float64 on the CPU by default; CUDA works).
    light_cone : bool
        Compute only inside the light cone of the initial support (exact; see module notes).
    batch_size : int, optional
        Kernels per chunk of the 2-D path. Default: on the CPU, as many as keep one padded window
        tensor within :data:`CPU_CHUNK_BYTES`; on other devices all at once. The states do not
        depend on it (bit-identical), the observables only to round-off.
    separable : bool
        Use the exact separable path for the kernels that allow it (module notes); ``False`` runs
        every kernel in 2-D. Results agree to round-off.
    threads : int or None
        torch threads during the run on the CPU (restored after); ``None`` keeps the caller's
        setting. Default 1 (see the module notes).

    Returns
    -------
    Trajectory
    """
    plan = validate(x, kernels, steps, activation=activation, rescale=rescale, weights=weights,
                    frames=frames, dtype=dtype, device=device)
    return run_plan(plan, light_cone=light_cone, batch_size=batch_size, separable=separable,
                    threads=threads)


def run_plan(plan: Plan, *, light_cone: bool = True, batch_size: int | None = None,
             separable: bool = True, threads: int | None = 1) -> Trajectory:
    """Steps 2-4 of :func:`propagate` on a validated :class:`Plan` (:func:`validate`), so that a
    caller can check the plan first (e.g. its support box) without a second look at the image.

    The options are those of :func:`propagate`.
    """
    boxes = light_cone_windows(plan, light_cone)
    P, K = plan.sched.shape[:2]
    H, W = plan.shape
    dtype, dev = plan.img.dtype, plan.img.device
    coords = _Coords(H, W, dtype, dev)
    # the factored run keeps the two 1-D factors unscaled against each other: within float64's
    # exponent range for any run the book makes, not within float32's (a factor overflows in ~100
    # steps), so a float32 run takes the 2-D path
    split = separable_split(plan) if separable and plan.sched.dtype == torch.float64 else None
    on_sep = np.zeros(K, dtype=bool)  # which kernels run through the separable path
    if split is not None:
        on_sep[split.index] = True
    dense_idx = np.flatnonzero(~on_sep).tolist()
    # on the CPU by default: chunks that follow the light cone (run_dense_tree); otherwise fixed
    tree = batch_size is None and dev.type == "cpu"
    chunk = max(1, len(dense_idx)) if tree else _chunk_size(batch_size, K, boxes[-1], plan.radius, dtype, dev)
    chunks = [dense_idx[i:i + chunk] for i in range(0, len(dense_idx), chunk)]
    runs: list[tuple[list[int], ChunkRun]] = []
    # a bar (in kernel-steps) only when interactive and slow (tqdm's delay); silent in the book and
    # the tests
    groups = split.groups() if split is not None else []
    ticks = progress(range(K * plan.steps), desc=f"propagate {K} kernels", unit="kernel-step",
                     delay=1.0) if progress_enabled() else None
    b0 = boxes[0]
    with torch_threads(threads if dev.type == "cpu" else None):
        for group in groups:
            runs.append((group.index.tolist(), run_separable(plan, boxes, group, coords, ticks)))
        for idx in chunks:
            sel = torch.as_tensor(idx, device=dev)
            img = plan.img if plan.img.shape[0] == 1 else plan.img[sel]
            start = img[:, b0[0]:b0[1], b0[2]:b0[3]]
            if tree:
                leaves = run_dense_tree(plan, boxes, plan.sched[:, sel], start, coords, ticks,
                                        CPU_CHUNK_BYTES)
                runs += [(idx[off:off + leaf.sums.shape[1]], leaf) for off, leaf in leaves]
            else:
                runs.append((idx, run_dense(plan, boxes, plan.sched[:, sel], start, coords, ticks)))
    return _assemble(plan, boxes, runs, on_sep)


def _host(a: np.ndarray | torch.Tensor) -> np.ndarray:
    """A record as a numpy array (records of the separable path already are)."""
    return a if isinstance(a, np.ndarray) else a.cpu().numpy()


def _gather(records: list[np.ndarray | torch.Tensor], sels: list[slice | np.ndarray],
            shape: tuple[int, ...]) -> np.ndarray:
    """The runs' records (kernels on axis 1, at ``sels``) as one ``shape`` array in kernel order;
    a single run's record as it is."""
    if len(records) == 1:
        return _host(records[0])
    out = np.empty(shape)
    for sel, rec in zip(sels, records, strict=True):
        out[:, sel] = _host(rec)
    return out


def _assemble(plan: Plan, boxes: list[Box], runs: list[tuple[list[int], ChunkRun]],
              separable: np.ndarray) -> Trajectory:
    """Gather the chunks' records into a :class:`Trajectory` (kernel order restored); ``runs``:
    (ascending kernel indices, their run); ``separable`` (K,) bool: the kernels of the separable
    path."""
    P, K = plan.sched.shape[:2]
    T = plan.steps
    H, W = plan.shape
    y0, y1, x0, x1 = boxes[-1]
    np_dtype = np.float64 if plan.img.dtype == torch.float64 else np.float32
    sels = [slice(idx[0], idx[-1] + 1) if idx[-1] - idx[0] + 1 == len(idx) else np.asarray(idx)
            for idx, _ in runs]
    sums = _gather([run.sums for _, run in runs], sels, (T + 1, K, 3, 3))
    row = _gather([run.row for _, run in runs], sels, (T + 1, K, 2))
    kept = {t: np.zeros((K, H, W), dtype=np_dtype) for t in plan.frames}
    parts = []
    for sel, (_, run) in zip(sels, runs, strict=True):
        parts.append((sel, run.final))
        for t, fr in run.frames.items():
            b = boxes[t]
            kept[t][sel, b[0]:b[1], b[2]:b[3]] = fr.cpu().numpy()
    mass, centre, cov, rc = observables_from_sums(sums, row)
    vanished = int((mass[-1] == 0).sum())
    if vanished:
        warnings.warn(f"the mass vanished for {vanished} of {K} kernels (the activation erased all "
                      "content); their centres are NaN from then on", RuntimeWarning, stacklevel=3)

    def final() -> np.ndarray:
        out = np.empty((K, y1 - y0, x1 - x0), dtype=np_dtype)
        for sel, part in parts:
            out[sel] = part.cpu().numpy()
        return out

    return Trajectory(mass=mass, centre=centre, covariance=cov, row_centre=rc, frames=kept,
                      window=boxes[-1], period=P, shape=(H, W), separable=separable,
                      final_source=final)
