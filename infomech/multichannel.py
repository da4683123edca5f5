r"""Centre-of-mass drift in random multi-channel convolution stacks.

A layer maps ``C`` channels to ``C`` channels, :math:`x^{l+1}_j = \mathrm{relu}\big(\sum_i W^l_{ji}
\star x^l_i\big)`. In the single-channel theory a channel's drift is set by *its kernel's* odd share
:math:`\beta^2`; with several input channels "its kernel" is not unique. We compare three readings
for output channel ``j`` of a layer:

``summed``
    :math:`s_j = \sum_i W_{ji}`: the kernel seen by an input whose channels are all equal (exact for
    the first layer when every input channel holds the same image).
``mass``
    :math:`w_j = \sum_i (M_i/M) W_{ji}`, with :math:`M_i` the mass of input channel ``i``: the
    kernel seen by the input if its channels differed only in amplitude.
``bank``
    the whole filter bank :math:`W_{j\cdot}` (``C x n x n``) read as one kernel, with odd share
    :math:`\sum_i \lVert (W_{ji})_o\rVert^2 / \sum_i \lVert W_{ji}\rVert^2` (the point split acting
    on the spatial axes).

The *drift* of channel ``j`` in layer ``l`` is its centre of mass minus the pooled (mass-weighted)
centre of all channels of layer ``l-1``. A kernel's *odd direction* is the direction in which its odd
part moves content: :math:`-\sum_d k_o(d)\, d` (content at ``p`` goes to ``p - d`` under
cross-correlation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .decomposition import beta2, energy, even_odd
from .observables import coordinates, moments
from .propagation import torch_threads
from .stats import correlation
from .transport import first_moment

DEFINITIONS: tuple[str, ...] = ("summed", "mass", "bank")


def random_weights(channels: int, layers: int, seeds: int, n: int = 3, *, seed: int = 0,
                   dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """i.i.d. :math:`N(0, 1/(C n^2))` weights, shape ``(layers, seeds, C_out, C_in, n, n)``."""
    if min(channels, layers, seeds) < 1 or n % 2 == 0:
        raise ValueError("channels, layers, seeds must be >= 1 and n odd")
    g = torch.Generator().manual_seed(seed)
    w = torch.randn((layers, seeds, channels, channels, n, n), generator=g, dtype=dtype)
    return w / np.sqrt(channels * n * n)


def run_stack(x0: np.ndarray, weights: torch.Tensor, *, threads: int | None = 1) -> list[torch.Tensor]:
    """States of every layer, ``[x^0, ..., x^L]``, each ``(S, C, H, W)`` (``x^0``: ``x0`` in every channel).

    One grouped ``conv2d`` per layer runs all ``S`` independent stacks ("SAME" zero padding, ReLU),
    on ``threads`` torch threads (default 1, as :func:`infomech.erf.erf_gradients`; ``None``: the
    caller's setting; the states do not depend on it).
    """
    L, S, C, _, n, _ = weights.shape
    x = torch.as_tensor(np.asarray(x0, float), dtype=weights.dtype)
    cur = x.expand(1, S * C, *x.shape).contiguous()
    states = [cur.view(S, C, *x.shape)]
    with torch_threads(threads):
        for layer in range(L):
            w = weights[layer].reshape(S * C, C, n, n)
            cur = torch.relu(F.conv2d(cur, w, padding=n // 2, groups=S))
            states.append(cur.view(S, C, *x.shape))
    return states


def odd_direction(k: np.ndarray) -> np.ndarray:
    r"""Vector :math:`-\sum_d k_o(d)\,d` = (x, y) for kernels ``(..., n, n)`` (the odd part's push)."""
    _, ko = even_odd(np.asarray(k, float))
    return -first_moment(ko)


@dataclass
class ChannelDrifts:
    """Per (layer, seed, channel): measured drift (x, y), odd shares and odd directions per definition."""

    drift: np.ndarray  # (L, S, C, 2)
    alive: np.ndarray  # (L, S, C) bool: channel and its input have mass
    beta2: dict[str, np.ndarray]  # definition -> (L, S, C)
    direction: dict[str, np.ndarray]  # "summed"/"mass" -> (L, S, C, 2)
    dc: dict[str, np.ndarray]  # "summed"/"mass" -> (L, S, C): sum of the kernel's weights


def channel_drifts(x0: np.ndarray, weights: torch.Tensor) -> ChannelDrifts:
    """Run the stacks and measure every channel's drift against its kernel (all three definitions)."""
    states = run_stack(x0, weights)
    H, W = states[0].shape[-2:]
    xs, ys = coordinates(H, W, dtype=weights.dtype)
    L = weights.shape[0]
    drift, alive = [], []
    b2: dict[str, list] = {d: [] for d in DEFINITIONS}
    dirs: dict[str, list] = {"summed": [], "mass": []}
    dcs: dict[str, list] = {"summed": [], "mass": []}
    for layer in range(L):
        m_in, c_in, _ = moments(states[layer], xs, ys)  # (S, C), (S, C, 2)
        m_out, c_out, _ = moments(states[layer + 1], xs, ys)
        M = m_in.sum(-1, keepdim=True)
        pooled = (torch.nan_to_num(c_in) * m_in[..., None]).sum(1) / M  # (S, 2)
        drift.append((c_out - pooled[:, None]).numpy())
        alive.append(((m_out > 0) & (M > 0)).numpy())
        w = weights[layer].numpy()  # (S, C, C, n, n)
        frac = (m_in / M).numpy()  # (S, C_in)
        ks = {"summed": w.sum(2), "mass": np.einsum("sjinm,si->sjnm", w, frac)}
        for name, k in ks.items():
            b2[name].append(np.asarray(beta2(k, "point")))
            dirs[name].append(odd_direction(k))
            dcs[name].append(k.sum((-2, -1)))
        _, wo = even_odd(w)
        b2["bank"].append(np.asarray(energy(wo)).sum(-1) / np.asarray(energy(w)).sum(-1))
    return ChannelDrifts(
        drift=np.asarray(drift), alive=np.asarray(alive),
        beta2={k: np.asarray(v) for k, v in b2.items()},
        direction={k: np.asarray(v) for k, v in dirs.items()},
        dc={k: np.asarray(v) for k, v in dcs.items()},
    )


def drift_summary(drift: np.ndarray, beta2_: np.ndarray, direction: np.ndarray, dc: np.ndarray,
                  alive: np.ndarray | None = None) -> dict[str, float]:
    r"""How well a kernel's :math:`\beta` and odd direction predict measured drifts.

    Returns the correlation of :math:`|drift|` with :math:`\beta` over all entries (``r_all``) and
    over kernels with a positive weight sum (``r_pos``, the regime of the DCT-beta family, whose DC
    coefficient is non-negative), the share of such kernels (``pos``), and the mean cosine between
    drift and odd direction (``cos``).
    """
    d = np.array(drift, float)
    if alive is not None:
        d[~np.asarray(alive)] = np.nan
    speed = np.linalg.norm(d, axis=-1)
    beta = np.sqrt(np.asarray(beta2_, float))
    pos = np.asarray(dc) > 0
    return {
        "r_all": correlation(speed, beta),
        "r_pos": correlation(speed[pos], beta[pos]),
        "pos": float(pos.mean()),
        "cos": mean_cosine(d, direction),
    }


def single_channel_control(x0: np.ndarray, count: int, n: int = 3, *, seed: int = 0
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One ReLU step of ``count`` i.i.d. Gaussian single-channel kernels on ``x0``.

    Returns the drifts ``(K, 2)``, the odd shares ``(K,)``, the odd directions ``(K, 2)`` and the
    weight sums ``(K,)``; kernels whose output is empty get NaN drift.
    """
    g = torch.Generator().manual_seed(seed)
    k = torch.randn((count, 1, n, n), generator=g, dtype=torch.float64)
    x = torch.as_tensor(np.asarray(x0, float))
    y = torch.relu(F.conv2d(x[None, None].expand(1, 1, *x.shape), k, padding=n // 2))[0]
    xs, ys = coordinates(*x.shape, dtype=torch.float64)
    _, c0, _ = moments(x, xs, ys)
    _, c, _ = moments(y, xs, ys)
    kn = k[:, 0].numpy()
    return (c - c0).numpy(), np.asarray(beta2(kn, "point")), odd_direction(kn), kn.sum((-2, -1))


def mean_cosine(u: np.ndarray, v: np.ndarray) -> float:
    """Mean cosine between paired vectors ``(..., 2)``, over pairs with both finite and non-zero."""
    u, v = np.asarray(u, float).reshape(-1, 2), np.asarray(v, float).reshape(-1, 2)
    nu, nv = np.linalg.norm(u, axis=1), np.linalg.norm(v, axis=1)
    ok = np.isfinite(nu) & np.isfinite(nv) & (nu > 0) & (nv > 0)
    return float(np.mean((u[ok] * v[ok]).sum(1) / (nu[ok] * nv[ok])))
