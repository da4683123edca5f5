r"""The activations of the update :math:`x \leftarrow \mathrm{act}(k \star x)`, by name.

One registry for the library and the command line. Every activation maps 0 to 0, so the light-cone
window of :func:`infomech.propagation.propagate` stays exact:

=====================  ==============================================================
``relu``               :math:`\max(x, 0)` (the paper's rectification)
``none``               :math:`x` (identity, the linear case)
``abs``                :math:`|x|` (the paper's third activation)
``leaky_relu[:s]``     :math:`\max(x, 0) + s\,\min(x, 0)`, slope ``s`` (default 0.01), ``0 <= s <= 1``
``gelu``               :math:`x\,\Phi(x)` (exact, erf form)
``tanh``               :math:`\tanh x`
``elu``                :math:`x` for :math:`x > 0`, :math:`e^x - 1` otherwise
=====================  ==============================================================

A *spec* is a name, optionally with a parameter after a colon (``"leaky_relu:0.2"``).
:func:`parse` turns a spec into an :class:`ActivationSpec` record (canonical spec and a function on
torch tensors); :func:`resolve` accepts a spec or a callable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported when a function is first needed: parsing a spec needs none
    import torch

TensorFn = Callable[["torch.Tensor"], "torch.Tensor"]

#: Default negative slope of ``leaky_relu`` (the torch default).
LEAKY_SLOPE = 0.01

#: Names of the activations (the spec without a parameter).
NAMES: tuple[str, ...] = ("relu", "none", "abs", "leaky_relu", "gelu", "tanh", "elu")


def _identity(t: torch.Tensor) -> torch.Tensor:
    return t


def _function(name: str, parameter: float | None) -> TensorFn:
    """The torch function of the activation ``name`` (``parameter``: the leaky_relu slope)."""
    import torch
    import torch.nn.functional as F

    fixed: dict[str, TensorFn] = {"relu": torch.relu, "none": _identity, "abs": torch.abs,
                                  "gelu": F.gelu, "tanh": torch.tanh, "elu": F.elu}
    if name == "leaky_relu":
        slope = LEAKY_SLOPE if parameter is None else parameter
        return lambda t: F.leaky_relu(t, negative_slope=slope)
    return fixed[name]


@dataclass(frozen=True)
class ActivationSpec:
    """A parsed activation: canonical ``spec`` (e.g. ``"leaky_relu:0.2"``), ``name``, ``parameter``
    and ``fn``, the function on torch tensors (torch is imported when ``fn`` is first used, so
    that a command line can check a spec before paying for torch)."""

    spec: str
    name: str
    parameter: float | None = None

    @cached_property
    def fn(self) -> TensorFn:
        """The function on torch tensors."""
        return _function(self.name, self.parameter)

    def __call__(self, t: torch.Tensor) -> torch.Tensor:
        return self.fn(t)


def parse(spec: str, name: str = "activation") -> ActivationSpec:
    """Parse an activation spec (``"relu"``, ``"leaky_relu:0.1"``, ...).

    Parameters
    ----------
    spec : str
        One of :data:`NAMES`; ``leaky_relu`` takes an optional slope ``":s"`` with ``0 <= s <= 1``.
    name : str
        Parameter name used in error messages.

    Raises
    ------
    infomech.validate.ParameterError
        For an unknown name, a parameter on an activation that takes none, or a bad slope.
    """
    from .validate import ParameterError

    if not isinstance(spec, str):
        raise ParameterError(name, f"must be a string such as 'relu'; got {spec!r}")
    base, sep, arg = spec.strip().partition(":")
    base = base.strip().lower()
    if base not in NAMES:
        raise ParameterError(name, f"must be one of {', '.join(NAMES)} (leaky_relu:SLOPE); got {spec!r}")
    if base != "leaky_relu":
        if sep:
            raise ParameterError(name, f"{base!r} takes no parameter; got {spec!r}")
        return ActivationSpec(base, base)
    slope = LEAKY_SLOPE
    if sep:
        try:
            slope = float(arg)
        except ValueError:
            raise ParameterError(name, f"leaky_relu slope must be a number; got {arg!r}") from None
        if not 0.0 <= slope <= 1.0:  # also refuses NaN
            raise ParameterError(name, f"leaky_relu slope must lie in [0, 1]; got {arg!r}")
    return ActivationSpec(f"leaky_relu:{slope:g}", "leaky_relu", slope)


def resolve(activation: str | TensorFn) -> TensorFn:
    """A function on tensors from a spec (:func:`parse`) or a callable (returned as is)."""
    if callable(activation):
        return activation
    return parse(activation).fn


def activation(spec, name: str = "activation"):
    """A parsed activation (:func:`parse`); callables are returned as is (validation in one place)."""
    if callable(spec):
        return spec
    return parse(spec, name)
