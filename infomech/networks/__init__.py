"""The networks layer: where convolution weights come from, how they are read, what they do.

- :mod:`infomech.weights` -- the registry of built-in networks, the file readers and the null model
  (:func:`~infomech.weights.conv_kernels`, :class:`~infomech.weights.ConvLayer`);
- :mod:`infomech.networks.filter_speed` -- a delta propagated through every trained depthwise
  kernel of a network: does :math:`\\beta^2` or the first moment predict its speed and direction?
"""

from __future__ import annotations

from ..weights import BUILTIN_SOURCES, ConvLayer, SourceUnavailable, conv_kernels, known_sources

__all__ = ["BUILTIN_SOURCES", "ConvLayer", "SourceUnavailable", "conv_kernels", "known_sources"]
