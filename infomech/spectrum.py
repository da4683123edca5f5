r"""DCT energy spectrum of the convolution kernels of a network (the authors' DCT-dominance method).

For a layer with kernels :math:`k_1, \dots, k_N` of size ``n x n`` and orthonormal 2-D DCT-II
coefficients :math:`T_i = C k_i C^\top` (:mod:`infomech.dct`), the fraction of the layer's energy in
basis :math:`(u, v)` is

.. math::

    f_{uv} = \frac{\sum_i T_{i,uv}^2}{\sum_i \|k_i\|^2}, \qquad \sum_{u,v} f_{uv} = 1

(Parseval). A network's spectrum is the plain mean of :math:`f` over its ``L`` layers,
:math:`\bar f = \frac1L \sum_l f^{(l)}`, and the paper's headline is the share of the DC basis
and the two gradients, :math:`\bar f_{00} + \bar f_{01} + \bar f_{10}` (:func:`dc_grad_share`).

The odd energy share of a layer under a split (``"point"`` reflection or ``"square"`` symmetry,
:mod:`infomech.decomposition`) is :math:`\sum_i \|k_{i,o}\|^2 / \sum_i \|k_i\|^2`.

Null model
----------
For i.i.d. zero-mean Gaussian kernel entries the DCT coefficients are again i.i.d. (an orthonormal
change of basis), so every basis carries the same expected energy: :math:`E f_{uv} = 1/n^2`, the DC
and two gradients :math:`3/n^2`, and a subspace of dimension :math:`d` carries :math:`d/n^2`; the odd
share is :math:`1 - d_e/n^2` with :math:`d_e` the even (or square-symmetric) dimension. More
precisely, the fraction of a layer of :math:`N` kernels carried by a :math:`d`-dimensional
subspace is :math:`\sum \chi^2_{dN} / (\chi^2_{dN} + \chi^2_{(n^2-d)N})
\sim \mathrm{Beta}(dN/2, (n^2-d)N/2)`, which gives the exact sampling spread of the null
(:func:`null_sd`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._array import Array, as_kernel, is_torch
from .dct import basis_labels, dct2
from .decomposition import Split, energies, symmetric_dimension
from .weights import ConvLayer, conv_kernels

#: The DC basis and the two gradients, as (u, v) indices.
DC_GRAD: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (1, 0))

_REPORTED_ORDER = ((0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (2, 0), (1, 2), (2, 1), (2, 2))

#: Mean per-basis energy fractions of 3x3 kernels **as reported by the authors** (Frija-Altarac &
#: Toews, 2025; Keras ImageNet weights; VGG16: its 13 conv layers, ResNet50: its 16 3x3 conv
#: layers), in the order ``_REPORTED_ORDER``, with their reported DC + two gradients share.
#: This is reference data, not a result of this library.
REPORTED_BY_AUTHORS: dict[str, dict[str, Any]] = {
    "VGG16": {"fractions": (.443, .155, .189, .033, .064, .070, .018, .017, .010),
              "dc_grad_share": .787, "layers": 13},
    "ResNet50": {"fractions": (.346, .119, .157, .046, .088, .092, .044, .041, .067),
                 "dc_grad_share": .622, "layers": 16},
}


def reported_fractions(model: str) -> np.ndarray:
    """The authors' reported mean fractions of ``model`` as a ``(3, 3)`` array indexed ``[u, v]``."""
    if model not in REPORTED_BY_AUTHORS:
        raise ValueError(f"no reported values for {model!r}; have {sorted(REPORTED_BY_AUTHORS)}")
    out = np.zeros((3, 3))
    for (u, v), f in zip(_REPORTED_ORDER, REPORTED_BY_AUTHORS[model]["fractions"], strict=True):
        out[u, v] = f
    return out


def _sum(x: Array, axis: int | tuple[int, ...]) -> Array:
    return x.sum(dim=axis) if is_torch(x) else x.sum(axis=axis)


def layer_fractions(k: Array) -> Array:
    r"""Per-basis energy fractions of one layer, :math:`f_{uv} = \sum_i T_{i,uv}^2/\sum_i\|k_i\|^2`.

    Parameters
    ----------
    k : array (..., N, n, n)
        The ``N`` kernels of a layer (numpy or torch); leading axes are further layers of equal size.

    Returns
    -------
    array (..., n, n)
        Fractions summing to one over the last two axes.

    Raises
    ------
    ValueError
        If the layer has zero energy, or fewer than 3 dimensions.
    """
    k = as_kernel(k)
    if k.ndim < 3:
        raise ValueError(f"a layer is (N, n, n); got shape {tuple(k.shape)}")
    e = _sum(dct2(k) ** 2, -3)
    tot = _sum(e, (-2, -1))
    if bool((tot == 0).any()):
        raise ValueError("energy fractions are undefined for a layer with zero energy")
    return e / tot[..., None, None]


def layer_odd_share(k: Array, kind: Split = "point") -> Array:
    r"""Odd energy share of a layer, :math:`\sum_i\|k_{i,o}\|^2 / \sum_i\|k_i\|^2`, under a split."""
    k = as_kernel(k)
    total, _, odd = energies(k, kind)
    tot = _sum(total, -1)
    if bool((tot == 0).any()):
        raise ValueError("odd share is undefined for a layer with zero energy")
    return _sum(odd, -1) / tot


def dc_grad_share(fractions: Array) -> Array:
    r"""Share of the DC basis and the two gradients, :math:`f_{00} + f_{01} + f_{10}`.

    Works on ``(..., n, n)`` fraction arrays; for ``n = 1`` only the DC term exists.
    """
    n = fractions.shape[-1]
    out = fractions[..., 0, 0]
    if n > 1:
        out = out + fractions[..., 0, 1] + fractions[..., 1, 0]
    return out


# ---------------------------------------------------------------------------------------------
# Null values, from the maths
# ---------------------------------------------------------------------------------------------

def null_fractions(n: int) -> np.ndarray:
    r"""Expected per-basis fraction for i.i.d. kernels: :math:`1/n^2` for each of the :math:`n^2` bases.

    Each orthonormal basis coefficient :math:`T_{uv} = \langle B_{uv}, k\rangle` has variance
    :math:`\sigma^2 \|B_{uv}\|^2 = \sigma^2` while :math:`E\|k\|^2 = n^2\sigma^2`.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    return np.full((n, n), 1.0 / (n * n))


def null_dc_grad_share(n: int) -> float:
    r"""Expected DC + two-gradient share for i.i.d. kernels, :math:`\min(3, n^2)/n^2` (3/9 for 3x3)."""
    return float(dc_grad_share(null_fractions(n)))


def null_odd_share(n: int, kind: Split = "point") -> float:
    r"""Expected odd share for i.i.d. kernels, :math:`1 - d_e/n^2` (4/9 point, 6/9 square for 3x3)."""
    return 1.0 - symmetric_dimension(n, kind) / (n * n)


def null_sd(n: int, counts: Sequence[int], dims: int = 1) -> float:
    r"""Standard deviation of the layer-mean fraction of a ``dims``-dimensional subspace under the null.

    A layer of :math:`N` kernels gives :math:`f \sim \mathrm{Beta}(a, b)`, :math:`a = dN/2`,
    :math:`b = (n^2-d)N/2`, with variance :math:`ab/((a+b)^2(a+b+1))`; layers are independent, so
    the mean over ``L`` layers has variance :math:`\sum_l \mathrm{Var} f^{(l)} / L^2`.

    Parameters
    ----------
    n : int
        Kernel size.
    counts : sequence of int
        Number of kernels in each layer.
    dims : int
        Dimension :math:`d` of the subspace (1 for one basis, 3 for DC + gradients).
    """
    nn = n * n
    if not 0 < dims < nn:
        return 0.0
    var = 0.0
    for c in counts:
        a, b = dims * c / 2, (nn - dims) * c / 2
        var += a * b / ((a + b) ** 2 * (a + b + 1))
    return math.sqrt(var) / len(counts)


# ---------------------------------------------------------------------------------------------
# Spectra of layers and networks
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerSpectrum:
    """Spectrum of one layer: fractions ``(n, n)``, kernel count and odd shares under both splits."""

    name: str
    kind: str
    count: int
    fractions: np.ndarray
    odd_point: float
    odd_square: float

    @property
    def n(self) -> int:
        """Kernel size."""
        return int(self.fractions.shape[-1])

    @property
    def dc_grad_share(self) -> float:
        """DC + two gradients share of this layer."""
        return float(dc_grad_share(self.fractions))


def layer_spectrum(layer: ConvLayer) -> LayerSpectrum:
    """:class:`LayerSpectrum` of a :class:`~infomech.weights.ConvLayer`."""
    k = layer.array
    return LayerSpectrum(layer.name, layer.kind, layer.count, np.asarray(layer_fractions(k)),
                         float(layer_odd_share(k, "point")), float(layer_odd_share(k, "square")))


@dataclass(frozen=True)
class Spectrum:
    """Spectrum of a network: its layers and their means (the authors' statistic).

    Attributes
    ----------
    source : str
        Where the kernels came from.
    layers : tuple of LayerSpectrum
        All of the same kernel size ``n``.
    """

    source: str
    layers: tuple[LayerSpectrum, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.layers:
            raise ValueError(f"{self.source}: a spectrum needs at least one layer")
        if len({ls.n for ls in self.layers}) != 1:
            raise ValueError(f"{self.source}: layers of different kernel sizes")

    @property
    def n(self) -> int:
        """Kernel size."""
        return self.layers[0].n

    @property
    def counts(self) -> list[int]:
        """Kernels per layer."""
        return [ls.count for ls in self.layers]

    @property
    def kinds(self) -> list[str]:
        """Kinds (``"depthwise"``/``"full"``) per layer."""
        return [ls.kind for ls in self.layers]

    @property
    def per_layer(self) -> np.ndarray:
        """Fractions of every layer, ``(L, n, n)``."""
        return np.stack([ls.fractions for ls in self.layers])

    @property
    def mean_fractions(self) -> np.ndarray:
        r"""Mean over layers of the per-basis fractions, :math:`\bar f`, ``(n, n)``."""
        return self.per_layer.mean(axis=0)

    @property
    def dc_grad_share(self) -> float:
        r"""DC + two gradients share of :math:`\bar f` (the paper's headline number)."""
        return float(dc_grad_share(self.mean_fractions))

    def odd_share(self, kind: Split = "point") -> float:
        """Mean over layers of the odd energy share under ``kind``."""
        vals = [ls.odd_point if kind == "point" else ls.odd_square for ls in self.layers]
        if kind not in ("point", "square"):
            raise ValueError(f"unknown split {kind!r}")
        return float(np.mean(vals))

    def select(self, kind: str) -> Spectrum:
        """The spectrum of the ``kind`` layers only (``"depthwise"`` or ``"full"``)."""
        keep = tuple(ls for ls in self.layers if ls.kind == kind)
        if not keep:
            raise ValueError(f"{self.source}: no {kind} layers")
        return Spectrum(f"{self.source}[{kind}]", keep, dict(self.meta))

    def null_sd(self, dims: int = 1) -> float:
        """Sampling spread of the mean fraction of a ``dims``-dimensional subspace under the null."""
        return null_sd(self.n, self.counts, dims)

    def to_dict(self, *, layers: bool = True) -> dict[str, Any]:
        """Plain-Python summary (the CLI's JSON)."""
        n = self.n
        labels = basis_labels(n)
        mf = self.mean_fractions
        out: dict[str, Any] = {
            "source": self.source,
            "kernel_size": n,
            "n_layers": len(self.layers),
            "n_kernels": int(sum(self.counts)),
            "basis_labels": labels,
            "basis_uv": [[u, v] for u in range(n) for v in range(n)],
            "mean_fractions": [float(x) for x in mf.ravel()],
            "per_basis": dict(zip(labels, (float(x) for x in mf.ravel()), strict=True)),
            "dc_grad_share": self.dc_grad_share,
            "odd_share_point": self.odd_share("point"),
            "odd_share_square": self.odd_share("square"),
            "null": {"per_basis": float(null_fractions(n)[0, 0]),
                     "dc_grad_share": null_dc_grad_share(n),
                     "odd_share_point": null_odd_share(n, "point"),
                     "odd_share_square": null_odd_share(n, "square")},
            **self.meta,
        }
        if layers:
            out["layers"] = [{"name": ls.name, "kind": ls.kind, "count": ls.count,
                              "dc_grad_share": ls.dc_grad_share, "odd_share_point": ls.odd_point,
                              "odd_share_square": ls.odd_square,
                              "fractions": [float(x) for x in ls.fractions.ravel()]}
                             for ls in self.layers]
        return out


def spectrum_of_layers(layers: Iterable[ConvLayer], source: str = "layers") -> Spectrum:
    """:class:`Spectrum` of given :class:`~infomech.weights.ConvLayer` objects."""
    return Spectrum(source, tuple(layer_spectrum(layer) for layer in layers))


def spectrum(source: str | os.PathLike[str], kernel_size: int = 3, *, seed: int = 0) -> Spectrum:
    """Spectrum of the ``kernel_size``-square kernels of a source (:func:`infomech.weights.conv_kernels`).

    Raises
    ------
    ValueError
        As :func:`~infomech.weights.conv_kernels`, or if a layer has zero energy.
    """
    return spectrum_of_layers(conv_kernels(source, kernel_size, seed=seed), os.fspath(source))



# ---------------------------------------------------------------------------------------------
# Decision rules of the DCT-dominance chapter (stated before looking at the numbers)
# ---------------------------------------------------------------------------------------------

#: Threshold of :func:`is_enriched`, in null standard deviations.
ENRICHED_Z: float = 3.0


def reported_order() -> tuple[tuple[int, int], ...]:
    """The order of the ``(u, v)`` bases in the authors' table (and in :data:`REPORTED_BY_AUTHORS`)."""
    return tuple(_REPORTED_ORDER)


def top3_is_dcgrad(fractions: Array) -> bool:
    r"""Whether the three largest mean fractions are exactly DC, :math:`\nabla_x` and :math:`\nabla_y`.

    Parameters
    ----------
    fractions : array (n, n)
        Per-basis fractions (e.g. :attr:`Spectrum.mean_fractions`), ``n >= 2``.

    Ties are broken by the row-major basis order (stable sort), so a tie with a higher basis
    counts in favour of the lower-index basis.
    """
    f = np.asarray(fractions, dtype=float)
    if f.ndim != 2 or f.shape[0] != f.shape[1] or f.shape[0] < 2:
        raise ValueError(f"fractions must be (n, n) with n >= 2; got shape {f.shape}")
    n = f.shape[0]
    order = np.argsort(-f.ravel(), kind="stable")[:3]
    return {divmod(int(i), n) for i in order} == set(DC_GRAD)


def dc_grad_z(s: Spectrum) -> float:
    r"""How many null standard deviations the DC + gradient share lies above the i.i.d. null.

    .. math:: z = \frac{\bar f_{00}+\bar f_{01}+\bar f_{10} - 3/n^2}{\mathrm{sd}_0},

    with :math:`\mathrm{sd}_0` = :func:`null_sd` of a 3-dimensional subspace for the layer sizes of
    ``s`` (the exact Beta sampling spread of the layer-mean under the null).
    """
    return (s.dc_grad_share - null_dc_grad_share(s.n)) / s.null_sd(3)


def is_enriched(s: Spectrum, z: float = ENRICHED_Z) -> bool:
    """Weak form of the claim: the DC + gradient share is more than ``z`` null SDs above the null."""
    return bool(dc_grad_z(s) > z)


def is_dominated(s: Spectrum) -> bool:
    """Strong form of the claim: DC + gradients hold the majority (share > 1/2) and are the top three."""
    return bool(s.dc_grad_share > 0.5 and top3_is_dcgrad(s.mean_fractions))


#: torchvision's MobileNetV2 ``inverted_residual_setting`` (Sandler et al., 2018, Table 2, as coded in
#: ``torchvision/models/mobilenetv2.py``): rows ``(t, c, n, s)`` = expansion, output channels,
#: repeats, stride of the first repeat. The state dict holds no strides, so they come from here.
MOBILENET_V2_SETTING: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)


def mobilenet_v2_depthwise_strides() -> dict[str, int]:
    """Stride of every 3x3 depthwise layer of torchvision's MobileNetV2, by state-dict weight name.

    ``features.0`` is the stride-2 stem (a full convolution); block ``features.i`` (``i >= 1``)
    follows :data:`MOBILENET_V2_SETTING`, its first repeat having stride ``s``. The depthwise weight
    is ``features.i.conv.0.0.weight`` for expansion 1 (no 1x1 expansion before it) and
    ``features.i.conv.1.0.weight`` otherwise. The stride-2 blocks are ``features.2, 4, 7, 14``.
    """
    out: dict[str, int] = {}
    i = 1
    for t, _c, reps, stride in MOBILENET_V2_SETTING:
        for r in range(reps):
            out[f"features.{i}.conv.{0 if t == 1 else 1}.0.weight"] = stride if r == 0 else 1
            i += 1
    return out
