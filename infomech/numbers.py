"""Numbers for people: rounding that removes round-off noise, errors stated as bounds, grids.

Low-level (imports nothing from infomech): the claims, the CLI and the book all format with it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Decimals that published floats are rounded to by default: round-off noise (1e-16 from a changed
#: summation order, a signed zero) must not change a glued number between builds or machines.
DEFAULT_DIGITS = 10


def fmt_bound(x: float, floor: float = 1e-12, sig: int = 2) -> str:
    """A measured error for people: ``"< 1e-12 (machine precision)"`` below ``floor``, else
    ``x`` with ``sig`` significant digits (``"3.2e-05"``, ``"0.018"``).

    Never writes ``0.0e+00``: an error at round-off level is stated as the bound it is.
    """
    x = abs(float(x))
    if math.isnan(x):
        raise ValueError("fmt_bound: the error is NaN")
    if x < floor:
        return f"< {floor:.0e} (machine precision)".replace("e-0", "e-")
    if 1e-3 <= x < 1e4:
        return f"{x:.{sig}g}"
    return f"{x:.{max(sig - 1, 0)}e}".replace("e-0", "e-").replace("e+0", "e+")


def rounded(x: Any, digits: int = 3) -> Any:
    """``x`` rounded to ``digits`` decimals for printing, with ``-0.0`` turned into ``0.0``.

    Numpy-aware: a Python or numpy scalar gives a ``float``, an array (or list/tuple, or torch
    tensor via ``numpy()``) gives a float ``ndarray``.
    """
    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().cpu().numpy()
    arr = np.round(np.asarray(x, dtype=float), digits) + 0.0
    return float(arr) if arr.ndim == 0 else arr


#: Most values a :func:`grid` may hold (a typo such as ``0:1:1e-9`` must not allocate gigabytes).
MAX_GRID = 100_000


def grid(start: float, stop: float, step: float) -> np.ndarray:
    r"""The grid ``start, start + step, ...`` up to ``stop`` inclusive, as exact decimals.

    Value :math:`i` is :math:`a + i s` rounded to 12 decimals, for
    :math:`i = 0, \dots, \lfloor (b - a)/s + 10^{-9} \rfloor`: so ``grid(0, 1, 0.05)`` holds
    exactly 0.05, 0.1, ..., 1.0 (the nearest doubles to those decimals) and ``stop`` is included
    when it lies on the grid. One definition for every grid of the library, the claims and the CLI
    (``--beta2 0:1:0.05``).

    Raises
    ------
    ValueError
        If a bound is not finite, ``step <= 0``, ``stop < start`` or the grid would hold more than
        :data:`MAX_GRID` values.
    """
    a, b, s = float(start), float(stop), float(step)
    if not all(math.isfinite(v) for v in (a, b, s)):
        raise ValueError(f"a grid needs finite start, stop and step; got {start}:{stop}:{step}")
    if not s > 0:
        raise ValueError(f"the step of grid {start}:{stop}:{step} must be > 0")
    if b < a:
        raise ValueError(f"grid {start}:{stop}:{step} has stop < start")
    count = int(math.floor((b - a) / s + 1e-9)) + 1
    if count > MAX_GRID:
        raise ValueError(f"grid {start}:{stop}:{step} has {count} values (at most {MAX_GRID})")
    return np.array([round(a + i * s, 12) + 0.0 for i in range(count)])
