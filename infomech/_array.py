"""Small helpers so that the pure functions of infomech accept numpy arrays and torch tensors."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import torch

Array = TypeVar("Array", np.ndarray, torch.Tensor)
ArrayLike = np.ndarray | torch.Tensor


def is_torch(x: Any) -> bool:
    """True when ``x`` is a torch tensor."""
    return isinstance(x, torch.Tensor)


def flip(x: Array, axes: tuple[int, ...]) -> Array:
    """Reverse ``x`` along ``axes`` (numpy or torch)."""
    if is_torch(x):
        return torch.flip(x, dims=axes)
    return np.flip(x, axis=axes)


def transpose_last2(x: Array) -> Array:
    """Swap the last two axes (numpy or torch)."""
    if is_torch(x):
        return x.transpose(-1, -2)
    return np.swapaxes(x, -1, -2)


def rot90(x: Array, k: int = 1) -> Array:
    """Rotate the last two axes by ``k`` quarter turns (numpy or torch)."""
    if is_torch(x):
        return torch.rot90(x, k, dims=(-2, -1))
    return np.rot90(x, k, axes=(-2, -1))


def sum_last2(x: Array) -> Array:
    """Sum over the last two axes."""
    if is_torch(x):
        return x.sum(dim=(-2, -1))
    return x.sum(axis=(-2, -1))


def as_kernel(k: Any, name: str = "kernel") -> np.ndarray | torch.Tensor:
    """Validate a (batched) square kernel array: ``(..., n, n)``, finite, n >= 1.

    Lists are converted to float64 numpy arrays; numpy and torch inputs keep their type.
    """
    if not is_torch(k):
        k = np.asarray(k, dtype=float)
    if k.ndim < 2:
        raise ValueError(f"{name} must have at least 2 dimensions (..., n, n); got shape {tuple(k.shape)}")
    n0, n1 = k.shape[-2], k.shape[-1]
    if n0 != n1:
        raise ValueError(f"{name} must be square in its last two axes; got {n0} x {n1}")
    if n0 == 0:
        raise ValueError(f"{name} is empty (0 x 0)")
    finite = torch.isfinite(k).all().item() if is_torch(k) else np.isfinite(k).all()
    if not finite:
        raise ValueError(f"{name} contains NaN or Inf")
    return k
