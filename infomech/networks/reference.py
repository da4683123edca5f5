"""Reference tables of the paper and of the networks' architectures (data, not results).

- :data:`REPORTED_BY_AUTHORS`: the authors' per-basis DCT energy shares of VGG16 and ResNet50;
- :data:`VGG16_SHAPES`: VGG16's 3x3 layer shapes, the architecture of the default null model;
- :data:`MOBILENET_V2_SETTING`: torchvision's MobileNetV2 block table, whose strides a state dict
  does not hold (:func:`mobilenet_v2_depthwise_strides`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: VGG16's thirteen 3x3 convolution shapes ``(out, in)`` -- the architecture of the default null.
VGG16_SHAPES: tuple[tuple[int, int], ...] = (
    (64, 3), (64, 64), (128, 64), (128, 128), (256, 128), (256, 256), (256, 256),
    (512, 256), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512))

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


def reported_order() -> tuple[tuple[int, int], ...]:
    """The order of the ``(u, v)`` bases in the authors' table (and in :data:`REPORTED_BY_AUTHORS`)."""
    return tuple(_REPORTED_ORDER)


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
