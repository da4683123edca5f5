r"""Effective receptive fields (ERF) of stacks of small convolutions, by back-propagation.

Following Luo et al. (NeurIPS 2016), the ERF of a stack of ``L`` single-channel layers
:math:`x_{l+1} = \mathrm{act}(k_l \star x_l)` is the gradient of the centre output with respect to the
input, :math:`g(p) = \partial y_{centre} / \partial x_0(p)`, measured on a random input and averaged
over random draws of the kernels (and inputs). Only the input within ``L r`` pixels of the centre
reaches the centre output (``r`` the kernel radius), so we use an input of side ``2Lr+1`` and
*valid* convolutions: every layer shrinks the map by ``2r`` and the last one is ``1 x 1``. This is
exact (identical to "SAME" padding on any larger image). All draws run together, one batched
operation per layer and tap; the backward pass is written out (:func:`erf_gradients`: no forward
pass for linear stacks, a sign-only one for ReLU stacks) and is bit-identical to autograd through a
grouped ``conv2d``.

The ERF map is :math:`E(p) = \langle |g(p)|^q / \sum_{p'} |g(p')|^q \rangle` (each draw normalised to
unit mass, then averaged over draws, ``q = 1`` by default); its centre and spread are computed with
:mod:`infomech.observables`.

Linear theory (the drift/diffusion law). Without activation,
:math:`g = \tilde k_1 * \cdots * \tilde k_L` is the ``L``-fold convolution of the kernels (with
the sign convention of cross-correlation: content at ``p`` goes to ``p - d``, so the centre output
reads the input at ``+d``). For a kernel with non-negative weights, :math:`g/\sum g` is exactly the
distribution of a sum of ``L`` independent steps drawn from :math:`k/\sum k`, hence

.. math::

    \mu_{ERF} = L\,\bar d, \qquad \sigma^2_{ERF} = L\,\sigma^2_k, \qquad
    \sigma_{ERF} \propto \sqrt{L},

with :math:`\bar d` and :math:`\sigma^2_k` the mean and spread (:math:`\operatorname{tr}\Sigma/2`) of
the kernel seen as a distribution of offsets :math:`d`. The ERF drifts *against* the direction in
which the stack moves content (``-L`` times the drift of :mod:`infomech.propagation`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .kernels import dct_beta
from .observables import coordinates, moments
from .propagation import Activation, activation_fn, torch_threads
from .stats import loglog_slope
from .transport import kernel_moments

STACKS: tuple[str, ...] = ("uniform", "random", "dct")


def stack_kernels(kind: str, depth: int, draws: int = 1, n: int = 3, *, beta2: float = 0.3,
                  seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    r"""Kernels of ``draws`` independent stacks of ``depth`` layers, shape ``(depth, draws, n, n)``.

    Parameters
    ----------
    kind : {"uniform", "random", "dct"}
        ``uniform``: every weight :math:`1/n^2` (the box filter); ``random``: i.i.d.
        :math:`N(0, 1/n^2)` weights, new in every layer and draw; ``dct``: the DCT-beta kernel of
        odd share ``beta2`` (:func:`infomech.kernels.dct_beta`) in every layer.
    depth, draws, n : int
        Number of layers, of independent stacks, and kernel size (odd).
    beta2 : float
        Odd share of the ``dct`` kernels.
    seed : int
        Seed of the ``random`` kernels.
    """
    if depth < 1 or draws < 1:
        raise ValueError(f"depth and draws must be >= 1; got {depth}, {draws}")
    if n < 1 or n % 2 == 0:
        raise ValueError(f"n must be odd; got {n}")
    if kind == "uniform":
        return torch.full((depth, draws, n, n), 1.0 / n**2, dtype=dtype)
    if kind == "random":
        g = torch.Generator().manual_seed(seed)
        return torch.randn((depth, draws, n, n), generator=g, dtype=dtype) / n
    if kind == "dct":
        k = torch.as_tensor(dct_beta(beta2, n), dtype=dtype)
        return k.expand(depth, draws, n, n).clone()
    raise ValueError(f"unknown stack {kind!r}; expected one of {STACKS}")


def _correlate_valid(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    r"""Valid cross-correlation of each map with its own kernel, :math:`(k_b \star x_b)(p) =
    \sum_{d} k_b(d)\, x_b(p + d)`, shape ``(B, h - n + 1, w - n + 1)`` for ``x (B, h, w)`` and
    ``k (B, n, n)``.

    One fused multiply-add per kernel tap over the whole batch (no per-draw convolution calls). The
    rounding may differ from :func:`torch.nn.functional.conv2d` in the last bits, so it is used only
    where just the sign of the result matters (the ReLU masks of :func:`erf_gradients`).
    """
    n = k.shape[-1]
    ho, wo = x.shape[-2] - n + 1, x.shape[-1] - n + 1
    kk = k[:, :, :, None, None]
    out = x[:, :ho, :wo] * kk[:, 0, 0]
    for u in range(n):
        for v in range(n):
            if u or v:
                out.addcmul_(x[:, u:u + ho, v:v + wo], kk[:, u, v])
    return out


#: Largest output (bytes) for which :func:`_correlate_adjoint` scatters the taps itself; larger
#: outputs (out of cache) go to ``aten.convolution_backward``, which loops over the draws.
SCATTER_BYTES = 1 << 20


def _correlate_adjoint(g: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    r"""Adjoint of :func:`_correlate_valid`: the full convolution :math:`(g_b * k_b)(p) =
    \sum_d k_b(d)\, g_b(p - d)`, shape ``(B, h + n - 1, w + n - 1)`` for ``g (B, h, w)``.

    This is the input gradient of the grouped ``conv2d`` (``groups = B``), bit-identical to
    back-propagating through it, without the forward pass. Autograd computes it per draw as the
    products :math:`k_b(d)\, g_b` (exact roundings) accumulated into a zero image tap by tap, in
    row-major order of ``d`` (``col2im``, its float64 CPU kernel). Small float64 outputs (at most
    :data:`SCATTER_BYTES`) do the same in one multiply and one add per tap over the whole batch;
    larger ones, and other dtypes or devices (whose kernels sum in another order), call that very
    kernel (``aten.convolution_backward``).
    """
    B, h, w = g.shape
    n = k.shape[-1]
    if (g.dtype == torch.float64 and g.device.type == "cpu"
            and B * (h + n - 1) * (w + n - 1) * g.element_size() <= SCATTER_BYTES):
        out = g.new_zeros((B, h + n - 1, w + n - 1))
        tmp = torch.empty_like(g)
        kk = k[:, :, :, None, None]
        for u in range(n):
            for v in range(n):
                out[:, u:u + h, v:v + w] += torch.mul(g, kk[:, u, v], out=tmp)
        return out
    x = g.new_empty((1, B, h + n - 1, w + n - 1))  # only its shape is read for the input gradient
    gx, _, _ = torch.ops.aten.convolution_backward(
        g[None], x, k[:, None], None, [1, 1], [0, 0], [1, 1], False, [0, 0], B, [True, False, False])
    return gx[0]


def erf_gradients(kernels: torch.Tensor, activation: Activation = "none", *,
                  x: torch.Tensor | None = None, seed: int = 0, threads: int | None = 1) -> torch.Tensor:
    r"""Gradient of the centre output with respect to the input, one map per draw.

    With :math:`C_l` the valid cross-correlation with ``kernels[l]`` and
    :math:`D_l = \operatorname{diag}(\mathrm{act}'(C_l x_{l-1}))` the activation's derivative at
    layer ``l``, the chain rule gives

    .. math::

        g = C_1^\top D_1\, C_2^\top D_2 \cdots C_L^\top D_L\, 1,

    with :math:`C_l^\top` the full convolution (:func:`_correlate_adjoint`, the input gradient of
    ``conv2d``). It is evaluated from the output back, batched over the ``B`` draws:

    * ``"none"``: :math:`D_l = I`, so ``g`` is the ``L``-fold convolution of the kernels and needs
      no forward pass (nor an input: ``x`` is not drawn);
    * ``"relu"`` (float64 on the CPU): :math:`D_l = \operatorname{diag}(1[C_l x_{l-1} > 0])`; a
      forward pass records only the signs, and draws whose output is dead (:math:`D_L = 0`) have
      ``g = 0`` and skip the backward pass;
    * any other activation (or ReLU in another dtype): autograd through grouped ``conv2d``.

    All three are bit-identical to autograd through ``conv2d`` (the ReLU masks could differ only
    for a pre-activation within float64 rounding of zero).

    Parameters
    ----------
    kernels : tensor (L, B, n, n)
        Layer ``l`` of draw ``b`` is ``kernels[l, b]`` (see :func:`stack_kernels`).
    activation : {"relu", "none", "abs"} or callable
        Applied after every layer.
    x : tensor (B, S, S), optional
        Inputs with ``S = 2 L r + 1``; default i.i.d. :math:`N(0,1)` from ``seed``. Irrelevant
        for linear stacks, where the gradient does not depend on the input.
    threads : int or None
        Torch threads for the forward and backward passes (default 1; ``None``: the caller's
        setting). These small batched operations are fastest on one thread and stall with more
        on a busy machine; the gradients do not depend on it.

    Returns
    -------
    tensor (B, S, S)
        :math:`g_b(p) = \partial y_b / \partial x_b(p)`.
    """
    if kernels.ndim != 4 or kernels.shape[-1] != kernels.shape[-2] or kernels.shape[-1] % 2 == 0:
        raise ValueError(f"kernels must have shape (L, B, n, n) with odd n; got {tuple(kernels.shape)}")
    L, B, n, _ = kernels.shape
    size = 2 * L * (n // 2) + 1
    if x is not None and tuple(x.shape) != (B, size, size):
        raise ValueError(f"x must have shape {(B, size, size)}; got {tuple(x.shape)}")
    if x is not None and x.dtype != kernels.dtype:
        raise ValueError(f"x has dtype {x.dtype} but the kernels {kernels.dtype}")
    linear = isinstance(activation, str) and activation == "none"
    act = activation_fn(activation)
    if x is None and not linear:
        g = torch.Generator().manual_seed(seed)
        x = torch.randn((B, size, size), generator=g, dtype=kernels.dtype)
    with torch_threads(threads):
        if linear:
            return _backward(kernels, None)
        if activation == "relu" and kernels.dtype == torch.float64 and kernels.device.type == "cpu":
            return _relu_gradients(kernels, x.detach())
        x = x.detach().clone().requires_grad_(True)
        cur = x[None]
        for layer in range(L):
            cur = act(F.conv2d(cur, kernels[layer][:, None], groups=B))
        cur.sum().backward()
    return x.grad.detach()


def _backward(kernels: torch.Tensor, masks: list[torch.Tensor] | None) -> torch.Tensor:
    r""":math:`C_1^\top D_1 \cdots C_L^\top D_L 1` for ``kernels (L, B, n, n)``; ``masks[l]`` (bool,
    shape of layer ``l``'s output) is the diagonal of :math:`D_l`, ``None`` for the identity."""
    L, B, _, _ = kernels.shape
    g = torch.ones((B, 1, 1), dtype=kernels.dtype, device=kernels.device)
    for layer in reversed(range(L)):
        if masks is not None:
            g.mul_(masks[layer])
        g = _correlate_adjoint(g, kernels[layer])
    return g


def _relu_gradients(kernels: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Input gradients of ReLU stacks: a sign-only forward pass, then the backward pass of the draws
    whose output is alive (the others are zero)."""
    L, B, _, _ = kernels.shape
    masks, cur = [], x
    for layer in range(L):
        cur = _correlate_valid(cur, kernels[layer]).relu_()
        masks.append(cur > 0)
    live = masks[-1].reshape(B).nonzero()[:, 0]
    out = x.new_zeros(x.shape)
    if len(live):
        out[live] = _backward(kernels[:, live], [m[live] for m in masks])
    return out


def erf_map(grads: torch.Tensor, power: float = 1.0, normalise: bool = True) -> torch.Tensor:
    r"""Average ERF :math:`\langle |g|^q / \sum |g|^q\rangle` over draws; draws with ``g = 0`` are dropped.

    With ``normalise=False`` the raw maps are averaged, :math:`\langle |g|^q\rangle` (for ``q = 2``
    and i.i.d. zero-mean kernels this is, in expectation, exactly the ``L``-fold convolution of the
    per-weight variance profile: the uniform random walk for i.i.d. weights).

    Raises
    ------
    ValueError
        If every draw has a zero gradient (a dead ReLU stack).
    """
    w = grads.abs() ** power
    tot = w.sum(dim=(-2, -1))
    alive = tot > 0
    if not bool(alive.any()):
        raise ValueError("every draw has a zero gradient: the ERF is undefined")
    if not normalise:
        return w.mean(0)
    return (w[alive] / tot[alive, None, None]).mean(0)


@dataclass
class ERFStats:
    """Centre (x, y), spread :math:`\\sigma = \\sqrt{\\operatorname{tr}\\Sigma/2}` and live-draw share."""

    centre: np.ndarray
    sigma: float
    alive: float


def erf_stats(grads: torch.Tensor, power: float = 1.0, normalise: bool = True) -> ERFStats:
    """Centre and spread of the averaged ERF (:func:`erf_map`) of a batch of gradient maps."""
    m = erf_map(grads, power, normalise)
    xs, ys = coordinates(m.shape[-2], m.shape[-1], dtype=m.dtype)
    _, c, cov = moments(m, xs, ys)
    s2 = float((cov[0, 0] + cov[1, 1]) / 2)
    alive = float((grads.abs().sum(dim=(-2, -1)) > 0).double().mean())
    return ERFStats(centre=c.numpy(), sigma=float(np.sqrt(s2)), alive=alive)


def draws_for(kind: str, activation: Activation, draws: int) -> int:
    """Number of stacks a sweep needs: 1 for a deterministic linear stack (uniform or DCT-beta, no
    activation: its gradient is the same for every input), ``draws`` otherwise."""
    return 1 if kind in ("uniform", "dct") and activation == "none" else int(draws)


def depth_sweep(kind: str, depths: list[int] | np.ndarray, *, activation: Activation = "none",
                draws: int = 128, n: int = 3, beta2: float = 0.3, seed: int = 0,
                power: float = 1.0, normalise: bool = True) -> dict[str, np.ndarray]:
    """ERF centre and spread for each depth (one batched back-propagation per depth).

    Returns
    -------
    dict with ``depth`` (D,), ``sigma`` (D,), ``centre`` (D, 2), ``alive`` (D,).
    """
    out: dict[str, list] = {"depth": [], "sigma": [], "centre": [], "alive": []}
    nd = draws_for(kind, activation, draws)
    for i, L in enumerate(depths):
        ks = stack_kernels(kind, int(L), nd, n, beta2=beta2, seed=seed + 1000 * i)
        st = erf_stats(erf_gradients(ks, activation, seed=seed + 1000 * i + 1), power, normalise)
        out["depth"].append(int(L))
        out["sigma"].append(st.sigma)
        out["centre"].append(st.centre)
        out["alive"].append(st.alive)
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def kernel_walk(k: np.ndarray) -> tuple[np.ndarray, float]:
    r"""Mean offset :math:`\bar d = (x, y)` and spread :math:`\sigma_k^2` of a non-negative kernel.

    The kernel is read as the distribution of the offset ``d`` at which the centre output reads the
    input (cross-correlation), so these are the per-layer drift and diffusion of the linear ERF:
    :math:`\bar d = -\delta` and :math:`\sigma_k^2 = \operatorname{tr} C / 2` with :math:`\delta, C`
    of :func:`infomech.transport.kernel_moments`.
    """
    k = np.asarray(k, dtype=float)
    if np.any(k < 0) or k.sum() <= 0:
        raise ValueError("kernel_walk needs a non-negative kernel with positive sum")
    _, drift, cov = kernel_moments(k)  # drift = -mean offset (content moves opposite to d)
    return -drift, float(np.trace(cov) / 2)


def seed_sweep(kind: str, depths: list[int] | np.ndarray, seeds: list[int] | np.ndarray, *,
               activation: Activation = "none", draws: int = 128, n: int = 3, beta2: float = 0.3
               ) -> dict[str, np.ndarray]:
    r"""ERF growth exponents under the two statistics, for several independent seeds.

    Per seed, one set of stacks per depth (:func:`stack_kernels`) is back-propagated once
    (:func:`erf_gradients`), and its gradients are summarised two ways:

    * Luo et al.'s statistic, the expected squared gradient :math:`\langle g^2\rangle` (raw maps
      averaged, ``power=2, normalise=False``), for which an i.i.d. zero-mean stack is exactly the
      uniform random walk in expectation;
    * the per-draw average :math:`\langle |g|/\sum|g|\rangle` (``power=1, normalise=True``).

    Returns
    -------
    dict with ``seeds`` (S,), ``depth`` (D,), ``sigma_g2``, ``sigma_abs`` and ``alive`` (share of
    draws with a non-zero gradient) (S, D), and the
    log-log slopes ``slope_g2`` and ``slope_abs`` (S,).
    """
    depths = [int(L) for L in depths]
    nd = draws_for(kind, activation, draws)
    sg2 = np.zeros((len(seeds), len(depths)))
    sab = np.zeros_like(sg2)
    alive = np.zeros_like(sg2)
    for a, seed in enumerate(seeds):
        for i, L in enumerate(depths):
            base = int(seed) + 1000 * i
            g = erf_gradients(stack_kernels(kind, L, nd, n, beta2=beta2, seed=base), activation,
                              seed=base + 1)
            sg2[a, i] = erf_stats(g, 2.0, False).sigma
            st = erf_stats(g, 1.0, True)
            sab[a, i], alive[a, i] = st.sigma, st.alive
    L = np.asarray(depths, dtype=float)
    return {"seeds": np.asarray(seeds), "depth": L, "sigma_g2": sg2, "sigma_abs": sab, "alive": alive,
            "slope_g2": np.array([loglog_slope(L, s)[0] for s in sg2]),
            "slope_abs": np.array([loglog_slope(L, s)[0] for s in sab])}
