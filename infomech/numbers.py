"""Numbers for people: rounding that removes round-off noise, and errors stated as bounds.

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
