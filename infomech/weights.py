"""Compatibility module: convolution weights now live in :mod:`infomech.networks`.

``infomech.weights.X`` keeps working for every public name of the old module: the registry of
built-in networks (:mod:`infomech.networks.registry`), the file readers
(:mod:`infomech.networks.readers`) and VGG16's layer shapes (:mod:`infomech.networks.reference`).
New code should import from :mod:`infomech.networks`.
"""

from __future__ import annotations

from .networks.readers import (
                               CHECKPOINT_KEYS,
                               FILE_SUFFIXES,
                               Kind,
                               SourceUnavailable,
                               read_safetensors,
                               unwrap_checkpoint,
)
from .networks.reference import VGG16_SHAPES
from .networks.registry import (
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

__all__ = ["BUILTIN_SOURCES", "CHECKPOINT_KEYS", "FILE_SUFFIXES", "HOW_TO_GET", "NETWORKS",
           "VGG16_SHAPES", "ConvLayer", "Kind", "Network", "SourceUnavailable", "availability",
           "conv_kernels", "is_available", "known_sources", "load_state_dict", "read_safetensors",
           "unwrap_checkpoint"]
