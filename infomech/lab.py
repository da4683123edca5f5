r"""Python side of the book's interactive propagation lab (``book/_static/lab/lab.js``).

The lab runs :math:`x \leftarrow \mathrm{act}\big(k \star x/\operatorname{std}(x)\big)` in the
reader's browser (plain JavaScript, float64). This module gives the same computation through the
library, for two uses:

* **build time** (``book/_ext/infomech_lab.py``): :func:`lab_curves` measures the speed-law curves
  :math:`(v/c)^2` against :math:`\beta^2` that the lab plots next to its live point (one batched
  :func:`infomech.sweeps.speed_sweep` per family, kernel size and activation), and
  :func:`natural_image_payload` ships the natural image the lab offers as a pattern;
* **tests** (``tests/browser/test_lab.py``): :func:`lab_settings_reference` is the library's centre
  of mass after ``t`` steps for a kernel and pattern, which the browser's value must match.

Conventions are the library's: cross-correlation (``torch.nn.functional.conv2d``), zero padding,
the 2x2 alternating placement (:func:`infomech.kernels.alternating_2x2`), the light-cone window
(:func:`infomech.propagation.propagate`), centre of mass weighted by :math:`|x|` with the origin at
the image centre, x to the right and y downwards.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import __version__
from . import activations as _activations
from . import kernels as _kernels
from . import patterns as _patterns
from .dct import named_basis
from .decomposition import beta2 as _beta2
from .propagation import propagate
from .publish import DEFAULT_DIGITS
from .sweeps import DEFAULT_BETA2, speed_sweep

#: Side of the lab's square image (pixels); the issue's speed target is a 3x3 kernel on 201x201.
LAB_SIZE = 201
#: Negative slope of the lab's leaky ReLU (the value the "beyond" chapter uses).
LEAKY_SLOPE = 0.1
#: Activations offered by the lab, by the names its JavaScript uses.
LAB_ACTIVATIONS = ("relu", "none", "abs", "leaky")
#: Patterns offered by the lab (names of :func:`infomech.patterns.make`).
LAB_PATTERNS = ("delta", "disc", "natural")
#: (family, kernel size) pairs of the measured curves (translation-beta needs an odd size).
CURVE_CONFIGS = (("dct", 2), ("dct", 3), ("dct", 5), ("translation", 3), ("translation", 5))
#: Steps at which the curves are measured: the chapter's 10-step speed and the 50-step run.
CURVE_TIMES = (10, 50)


def lab_activation(name: str) -> str | Callable[[torch.Tensor], torch.Tensor]:
    """The activation for :func:`infomech.propagation.propagate` of a lab activation name.

    ``"leaky"`` is the library's ``"leaky_relu:0.1"`` (:mod:`infomech.activations`):
    :math:`\\max(x, 0) + m \\min(x, 0)` with :math:`m` = :data:`LEAKY_SLOPE`.
    """
    if name == "leaky":
        return _activations.parse(f"leaky_relu:{LEAKY_SLOPE}").fn
    if name in ("relu", "none", "abs"):
        return name
    raise ValueError(f"unknown lab activation {name!r}; expected one of {LAB_ACTIVATIONS}")


def lab_pattern(name: str, size: int = LAB_SIZE) -> np.ndarray:
    """The lab's initial image: ``delta``, ``disc`` (radius 19, value 255) or ``natural``."""
    if name not in LAB_PATTERNS:
        raise ValueError(f"unknown lab pattern {name!r}; expected one of {LAB_PATTERNS}")
    return _patterns.make(name, size)


def lab_kernel(family: str, n: int, beta2: float = 0.5, theta: float = 0.0) -> np.ndarray:
    r"""The ``n x n`` kernel of a lab family (random and user kernels are passed explicitly).

    * ``"dct"``: :func:`infomech.kernels.dct_beta`;
    * ``"translation"``: :func:`infomech.kernels.translation_beta` (odd ``n >= 3``);
    * ``"steered"``: :math:`\sqrt{1-\beta^2}\,\Sigma + \sqrt{\beta^2}\,g_\theta` with
      :math:`g_\theta` = :func:`infomech.kernels.steered_gradient` (at :math:`\beta^2 = 1` the
      library's steered gradient itself; at :math:`\theta = 0` the DCT-beta mix).
    """
    if family == "dct":
        return _kernels.dct_beta(beta2, n)
    if family == "translation":
        return _kernels.translation_beta(beta2, n)
    if family == "steered":
        b = float(beta2)
        if not 0.0 <= b <= 1.0:
            raise ValueError(f"beta2 must lie in [0, 1]; got {b}")
        return np.sqrt(1 - b) * named_basis("Sigma", n) + np.sqrt(b) * _kernels.steered_gradient(theta, n)
    raise ValueError(f"unknown lab family {family!r}; expected 'dct', 'translation' or 'steered' "
                     "(random and user kernels are passed as arrays)")


def lab_schedule(kernel: np.ndarray) -> list[np.ndarray]:
    """Kernel schedule of the lab: the alternating placement for 2x2, else the kernel itself."""
    k = np.asarray(kernel, dtype=float)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"kernel must be square (n, n); got shape {k.shape}")
    return _kernels.alternating_2x2(k) if k.shape[0] == 2 else [k]


def lab_settings_reference(kernel: Any, pattern: str | np.ndarray = "delta", activation: str = "relu",
                           *, rescale: bool = True, times: Sequence[int] = (10, 50),
                           size: int = LAB_SIZE) -> dict[int, tuple[float, float]]:
    r"""The library's centre of mass :math:`\mu(t) = (\mu_x, \mu_y)` after each of ``times`` steps.

    Parameters
    ----------
    kernel : array (n, n)
        The kernel, ``n`` in {2, 3, 5, ...}; 2x2 kernels use the alternating placement.
    pattern : lab pattern name or array (H, W)
    activation : lab activation name (:data:`LAB_ACTIVATIONS`)
    rescale : divide by the full-image standard deviation before every step (the sweeps' default)
    times : steps at which to report the centre

    Returns
    -------
    dict t -> (mu_x, mu_y)
        Pixels from the image centre, weights :math:`|x|` (NaN where the mass vanished).
    """
    ts = sorted({int(t) for t in times})
    if not ts or ts[0] < 0:
        raise ValueError(f"times must be non-negative integers; got {list(times)}")
    x0 = lab_pattern(pattern, size) if isinstance(pattern, str) else np.asarray(pattern, dtype=float)
    tr = propagate(x0, lab_schedule(kernel), ts[-1], activation=lab_activation(activation),
                   rescale=rescale, dtype=torch.float64)
    return {t: (float(tr.centre[t, 0, 0]), float(tr.centre[t, 0, 1])) for t in ts}


def _r(v: float) -> float:
    """Round to the library's published precision (:data:`infomech.publish.DEFAULT_DIGITS`), so the
    shipped curves do not depend on the CPU's round-off."""
    return round(float(v), DEFAULT_DIGITS) + 0.0


def _family_beta2(family: str, b: np.ndarray, n: int) -> dict[str, list[float]]:
    """beta^2 of each family kernel under both splits (of the n x n kernel itself)."""
    k = _kernels.dct_beta(b, n) if family == "dct" else _kernels.translation_beta(b, n)
    return {kind: [_r(v) for v in _beta2(k, kind)] for kind in ("point", "square")}


def lab_curves(beta2: Any = DEFAULT_BETA2, *, configs: Sequence[tuple[str, int]] = CURVE_CONFIGS,
               activations: Sequence[str] = LAB_ACTIVATIONS, times: Sequence[int] = CURVE_TIMES,
               size: int = 301) -> dict[str, Any]:
    r"""The measured speed-law curves the lab plots, JSON-ready.

    For every (family, kernel size) of ``configs`` and every activation, one batched
    :func:`infomech.sweeps.speed_sweep` over ``beta2`` (single pixel on ``size x size``, rescaled
    before every step, 2-D centre of mass) gives :math:`(v/c)^2` with
    :math:`v = |\mu(t) - \mu(0)|/t` at each of ``times``.

    Returns
    -------
    dict
        ``curves``: list of ``{family, n, activation, t, c, beta2, beta2_point, beta2_square,
        v_over_c_sq}``; plus provenance (``source``, ``infomech_version``, ``library_hash``).
    """
    b = np.atleast_1d(np.asarray(beta2, dtype=float))
    curves = []
    for family, n in configs:
        splits = _family_beta2(family, b, n)
        for act in activations:
            sw = speed_sweep(family, n, b, pattern="delta", size=size, activation=lab_activation(act),
                             rescale=True, measure="2d", times=list(times))
            for t in sorted({int(t) for t in times}):
                sel = sw["t"] == t
                curves.append({
                    "family": family, "n": int(n), "activation": act, "t": t,
                    "c": float(sw["c"][sel][0]),
                    "beta2": [_r(v) for v in b],
                    "beta2_point": splits["point"], "beta2_square": splits["square"],
                    "v_over_c_sq": [None if not np.isfinite(v) else _r(v)
                                    for v in sw["v_over_c_sq"][sel]],
                })
    return {
        "source": (f"infomech.sweeps.speed_sweep: single pixel on {size}x{size}, "
                   "x <- act(corr(x/std(x), k)), 2-D centre of mass weighted by |x|, "
                   "v = |mu(t) - mu(0)|/t"),
        "infomech_version": __version__, "library_hash": library_hash(),
        "leaky_slope": LEAKY_SLOPE, "curves": curves,
    }


def natural_image_payload(size: int = LAB_SIZE) -> dict[str, Any]:
    """The natural image of :func:`infomech.patterns.natural_image` as base64 float64 little-endian.

    The browser decodes it bit for bit (``Float64Array``), so the lab's natural image is exactly
    the library's.
    """
    img = np.ascontiguousarray(lab_pattern("natural", size), dtype="<f8")
    return {"height": int(img.shape[0]), "width": int(img.shape[1]),
            "sha256": hashlib.sha256(img.tobytes()).hexdigest(),
            "float64le_base64": base64.b64encode(img.tobytes()).decode("ascii")}


def library_hash() -> str:
    """SHA-256 of the library's sources (``infomech/**/*.py``): the key of the build-time cache."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def as_js(global_name: str, data: Any) -> str:
    """A JavaScript file that sets ``window[global_name]`` (loads from ``file://`` too: no fetch)."""
    if not global_name.isidentifier():
        raise ValueError(f"not a JavaScript identifier: {global_name!r}")
    body = json.dumps(data, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return f"// generated by infomech.lab at build time; do not edit\nwindow.{global_name} = {body};\n"
