r"""Validation of parameters, in one place: every error names the parameter it is about.

Library functions call these validators on their inputs; the command line catches
:class:`ParameterError` and replaces the Python name (``kernel_size``) by the flag (``--kernel-size``),
so a bad value gets the same explanation from Python and from the shell.

Each validator returns the value in canonical form (``int``, ``float`` array, parsed activation) or
raises :class:`ParameterError` (a ``ValueError``) or, for a value of the wrong type,
:class:`ParameterTypeError` (both a ``ParameterError`` and a ``TypeError``). Messages read
``"<name> <problem>"``, e.g. ``"kernel_size must be >= 2; got 1"``.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Iterable
from typing import Any

import numpy as np

#: Largest number of steps accepted (a run this long takes days on a CPU).
MAX_STEPS = 1_000_000
#: Largest image side accepted.
MAX_SIZE = 20001


class ParameterError(ValueError):
    """A bad parameter value; ``parameter`` is its name, ``problem`` the rest of the message."""

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter} {problem}")
        self.parameter = parameter
        self.problem = problem


class ParameterTypeError(ParameterError, TypeError):
    """A parameter of the wrong type (also a ``TypeError``)."""


def integer(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None,
            odd: bool = False) -> int:
    """An integer (``bool`` refused; integral floats such as ``3.0`` accepted) within bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterTypeError(name, f"must be an integer; got {value!r}")
    if isinstance(value, numbers.Integral):
        v = int(value)
    else:
        if not np.isfinite(value) or int(value) != value:
            raise ParameterTypeError(name, f"must be an integer; got {value!r}")
        v = int(value)
    if minimum is not None and v < minimum:
        raise ParameterError(name, f"must be >= {minimum}; got {v}")
    if maximum is not None and v > maximum:
        raise ParameterError(name, f"must be <= {maximum}; got {v}")
    if odd and v % 2 == 0:
        raise ParameterError(name, f"must be odd; got {v}")
    return v


def kernel_size(n: Any, name: str = "kernel_size", *, minimum: int = 1, odd: bool = False,
                maximum: int | None = None) -> int:
    """Kernel side ``n`` (an integer >= ``minimum``; ``odd`` for families that need a centre pixel)."""
    return integer(n, name, minimum=minimum, maximum=maximum, odd=odd)


def steps(value: Any, name: str = "steps", *, minimum: int = 0) -> int:
    """Number of steps, ``minimum <= steps <=`` :data:`MAX_STEPS`."""
    return integer(value, name, minimum=minimum, maximum=MAX_STEPS)


def times(values: Iterable[Any], name: str = "times") -> list[int]:
    """Sorted distinct positive step counts (at most :data:`MAX_STEPS`), at least one."""
    vals = sorted({integer(v, name, minimum=1, maximum=MAX_STEPS) for v in values})
    if not vals:
        raise ParameterError(name, "must hold at least one step count")
    return vals


def size(value: Any, name: str = "size", *, odd: bool = False, maximum: int = MAX_SIZE) -> int:
    """Image side (``odd``: the pattern needs a centre pixel)."""
    v = integer(value, name, minimum=1, maximum=maximum)
    if odd and v % 2 == 0:
        raise ParameterError(name, f"must be odd so that the pattern has a centre pixel; got {v}")
    return v


def beta2(values: Any, name: str = "beta2") -> np.ndarray:
    r"""Odd energy shares :math:`\beta^2 \in [0, 1]` as a float64 array (scalar or any shape)."""
    try:
        b = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ParameterTypeError(name, f"must be numbers in [0, 1]; got {values!r}") from None
    if b.size == 0:
        raise ParameterError(name, "must hold at least one value")
    if not ((b >= 0) & (b <= 1)).all():  # also false for NaN
        if not np.isfinite(b).all():
            raise ParameterError(name, "must be finite")
        raise ParameterError(name, f"must lie in [0, 1]; got min {b.min():g}, max {b.max():g}")
    return b


def finite_number(value: Any, name: str) -> float:
    """A finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ParameterError(name, f"must be a finite number; got {value!r}")
    return float(value)


def odd_basis(uv: Any, n: int, name: str = "odd_basis") -> tuple[int, int]:
    r"""A point-odd DCT basis index ``(u, v)`` of an ``n x n`` kernel: ``0 <= u, v < n``, ``u+v`` odd.

    The parity of basis :math:`B_{uv}` under point reflection is :math:`(-1)^{u+v}`
    (:mod:`infomech.dct`): an even ``u + v`` gives a point-even basis, which has no odd part.
    """
    try:
        u, v = (int(a) for a in uv)
    except (TypeError, ValueError):
        raise ParameterTypeError(name, f"must be two integers U,V; got {uv!r}") from None
    if not (0 <= u < n and 0 <= v < n):
        raise ParameterError(name, f"({u},{v}) is out of range for {n}x{n} kernels (0 <= U, V < {n})")
    if (u + v) % 2 == 0:
        raise ParameterError(name, f"({u},{v}) is a point-even basis ((-1)^(U+V) = +1): it has no odd "
                             "part; choose U+V odd, e.g. 0,1 or 1,2")
    return u, v


def _is_tensor(a: Any) -> bool:
    """``a`` is a torch tensor (torch is not imported here: a tensor implies torch is loaded)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(a, torch.Tensor)


def real_array(a: Any, name: str = "kernel") -> Any:
    """``a`` as a real floating array, without silent loss.

    numpy arrays and lists become float64; torch tensors keep float32/float64, integer and boolean
    tensors become float64 and float16/bfloat16 become float32 (squares of half-precision weights
    overflow). Complex input is refused (its imaginary part would be dropped).
    """
    if _is_tensor(a):
        import torch

        if a.is_complex():
            raise ParameterTypeError(name, f"must be real; got a complex tensor ({a.dtype})")
        if a.dtype in (torch.float16, torch.bfloat16):
            return a.to(torch.float32)
        if not a.is_floating_point():
            return a.to(torch.float64)
        return a
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError):
        raise ParameterTypeError(name, f"must be an array of numbers; got {type(a).__name__}") from None
    if np.iscomplexobj(arr):
        raise ParameterTypeError(name, f"must be real; got complex values ({arr.dtype})")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ParameterTypeError(name, f"must be an array of numbers; got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def kernels(k: Any, name: str = "kernel") -> np.ndarray:
    """A stack of square kernels ``(K, n, n)`` (a single ``(n, n)`` kernel gets ``K = 1``), float64.

    Refuses: complex or non-numeric values, NaN/Inf, non-square or empty kernels, more than 3
    dimensions, and all-zero kernels (they erase the image).
    """
    arr = real_array(k, name)
    arr = arr.detach().cpu().numpy().astype(np.float64) if _is_tensor(arr) else arr
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ParameterError(name, f"must be an n x n kernel or a stack (K, n, n); got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0 or arr.shape[2] == 0:
        raise ParameterError(name, f"is empty: shape {arr.shape}")
    if arr.shape[1] != arr.shape[2]:
        raise ParameterError(name, f"must be square; got {arr.shape[1]} x {arr.shape[2]}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(name, "contains NaN or Inf")
    dead = np.flatnonzero(~arr.any(axis=(1, 2)))
    if dead.size:
        raise ParameterError(name, f"number {dead[0]} is all zeros: it erases the image (zero mass)")
    return arr


def image(x: Any, name: str = "image") -> np.ndarray:
    """A 2-D, real, finite, non-empty float64 image with non-zero mass."""
    arr = real_array(x, name)
    arr = arr.detach().cpu().numpy().astype(np.float64) if _is_tensor(arr) else arr
    if arr.ndim != 2:
        raise ParameterError(name, f"must be a 2-D (H, W) grey-level image; got shape {arr.shape}")
    if arr.size == 0:
        raise ParameterError(name, f"is empty: shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(name, "contains NaN or Inf")
    if not arr.any():
        raise ParameterError(name, "is all zeros: its centre of mass is undefined")
    return arr
