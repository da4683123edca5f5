"""The networks layer: where convolution weights come from, how they are read, what they do.

- :mod:`infomech.networks.registry` -- one :class:`~infomech.networks.registry.Network` record per
  built-in network (where its weights come from, how to get them), :func:`conv_kernels` for any
  source, the i.i.d. null model;
- :mod:`infomech.networks.readers` -- the file readers (.pth/.pt, .safetensors, .onnx, .npz, .npy,
  Keras .h5) and their refusals (meta tensors, complex values, unreadable files);
- :mod:`infomech.networks.reference` -- reference tables: the authors' reported DCT shares, VGG16's
  layer shapes, torchvision's MobileNetV2 strides;
- :mod:`infomech.networks.filter_speed` -- a delta propagated through every trained depthwise
  kernel of a network: does :math:`\\beta^2` or the first moment predict its speed and direction?
"""

from __future__ import annotations

from .readers import FILE_SUFFIXES, SourceUnavailable, read_safetensors, unwrap_checkpoint
from .registry import (
                       BUILTIN_SOURCES,
                       HOW_TO_GET,
                       NETWORKS,
                       ConvLayer,
                       Network,
                       availability,
                       conv_kernels,
                       is_available,
                       known_sources,
                       load_state_dict,
)

__all__ = ["BUILTIN_SOURCES", "FILE_SUFFIXES", "HOW_TO_GET", "NETWORKS", "ConvLayer", "Network",
           "SourceUnavailable", "availability", "conv_kernels", "is_available", "known_sources",
           "load_state_dict", "read_safetensors", "unwrap_checkpoint"]
