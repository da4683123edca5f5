r"""Readers of weight files: every reader returns ``[(name, weight (out, in, h, w) float64, kind)]``.

``kind`` is ``"depthwise"``, ``"full"`` or ``None`` (unknown: decided from the shape by
:mod:`infomech.networks.registry`). Formats: ``.pth``/``.pt`` (state dicts and training checkpoints
that hold one, :func:`unwrap_checkpoint`), ``.safetensors`` (:func:`read_safetensors`, read without
the ``safetensors`` package), ``.onnx`` (needs ``onnx``), ``.npz``, ``.npy`` and Keras ``.h5`` (needs
``h5py``). Every value passes :func:`as_float64`, which refuses meta tensors, complex values and
NaN/Inf with one clear line; unreadable files say "permission denied", not "corrupt".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

Kind = Literal["depthwise", "full"]

#: File suffixes read as weights files.
FILE_SUFFIXES: tuple[str, ...] = (".pth", ".pt", ".safetensors", ".onnx", ".npz", ".npy", ".h5")


class SourceUnavailable(ValueError):
    """A known source whose weights are not installed or not on disk (the book skips it)."""


# ---------------------------------------------------------------------------------------------
# Readers: every reader returns a list of (name, weight array (out, in, h, w), kind or None)
# ---------------------------------------------------------------------------------------------

Raw = list[tuple[str, np.ndarray, "Kind | None"]]


def as_float64(value: Any, name: str) -> np.ndarray:
    """A weight tensor/array as float64 numpy, refusing meta, complex and non-finite values."""
    if hasattr(value, "detach"):
        if getattr(value, "is_meta", False) or str(getattr(value, "device", "")) == "meta":
            raise ValueError(f"weight {name!r} is a meta tensor (shape only, no data): save the "
                             "checkpoint after the weights are materialised")
        if value.is_complex():
            raise ValueError(f"weight {name!r} is complex ({value.dtype}): convolution kernels must be "
                             "real (the imaginary part would be dropped)")
        import torch

        arr = value.detach().cpu().to(dtype=torch.float64).numpy()
    else:
        raw = np.asarray(value)
        if np.iscomplexobj(raw):
            raise ValueError(f"weight {name!r} is complex ({raw.dtype}): convolution kernels must be "
                             "real (the imaginary part would be dropped)")
        if not (np.issubdtype(raw.dtype, np.number) or raw.dtype == bool):
            raise ValueError(f"weight {name!r} is not numeric (dtype {raw.dtype})")
        arr = raw.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"weight {name!r} contains NaN or Inf")
    return arr


def raw_from_mapping(sd: Mapping[str, Any], prefix: str = "") -> Raw:
    out: Raw = []
    for key, value in sd.items():
        shape = getattr(value, "shape", None)
        if shape is None or len(shape) != 4:
            continue
        out.append((prefix + str(key), as_float64(value, prefix + str(key)), None))
    return out


#: Keys under which training checkpoints keep the model's state dict (tried in this order).
CHECKPOINT_KEYS: tuple[str, ...] = ("state_dict", "model_state_dict", "model", "net", "module",
                                    "ema", "state_dict_ema", "params")


def _has_tensors(obj: Any) -> bool:
    return isinstance(obj, Mapping) and any(hasattr(v, "shape") for v in obj.values())


def unwrap_checkpoint(obj: Any) -> Any:
    """The state dict inside a checkpoint: ``obj`` itself if it maps names to tensors, else the first
    of :data:`CHECKPOINT_KEYS` that does (searched recursively, e.g. ``{"model": {"state_dict": ...}}``)."""
    if not isinstance(obj, Mapping) or _has_tensors(obj):
        return obj
    for key in CHECKPOINT_KEYS:
        inner = obj.get(key)
        if isinstance(inner, Mapping):
            found = unwrap_checkpoint(inner)
            if _has_tensors(found):
                return found
    return obj


def check_readable(path: Path) -> None:
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except PermissionError:
        raise ValueError(f"cannot read weights file {path}: permission denied") from None
    except OSError as exc:
        raise ValueError(f"cannot read weights file {path}: {exc.strerror or exc}") from None


def read_torch(path: Path) -> dict[str, Any]:
    import torch

    check_readable(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        import zipfile

        why = "not a torch checkpoint (corrupt or truncated file)"
        if "Weights only load failed" in str(exc) and zipfile.is_zipfile(path):
            try:
                with zipfile.ZipFile(path) as zf:
                    intact = zf.testzip() is None
            except (zipfile.BadZipFile, OSError):
                intact = False
            if intact:
                why = "it holds objects other than tensors, which torch.load(weights_only=True) refuses"
        raise ValueError(f"cannot read weights file {path}: {why}") from None
    obj = unwrap_checkpoint(obj)
    if not isinstance(obj, Mapping) or not all(isinstance(k, str) for k in obj):
        raise ValueError(f"weights file {path} does not hold a state dict (got {type(obj).__name__})")
    return dict(obj)


_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2",
                       "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}


def read_safetensors(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """All tensors of a ``.safetensors`` file as numpy arrays (float tensors as float64).

    Format: an unsigned little-endian 64-bit header length ``N``, ``N`` bytes of JSON mapping each
    name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets into the buffer that
    follows the header), and the raw buffer. BF16 is widened exactly (its bits are the top half of a
    float32).
    """
    import json
    import struct

    path = Path(path)
    check_readable(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise ValueError(f"cannot read weights file {path}: not a safetensors file (too short)")
        (n,) = struct.unpack("<Q", head)
        if n > min(size - 8, 100 * 2**20):
            raise ValueError(f"cannot read weights file {path}: not a safetensors file (bad header)")
        try:
            header = json.loads(fh.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ValueError(f"cannot read weights file {path}: not a safetensors file "
                             "(the header is not JSON)") from None
        if not isinstance(header, dict):
            raise ValueError(f"cannot read weights file {path}: not a safetensors file")
        buf = fh.read()
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (b, e) = info["dtype"], [int(d) for d in info["shape"]], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"cannot read weights file {path}: bad entry {name!r} in the header"
                             ) from None
        if dtype not in _SAFETENSORS_DTYPES:
            raise ValueError(f"cannot read weights file {path}: tensor {name!r} has unsupported dtype "
                             f"{dtype} (complex and float8 are not read)")
        if not 0 <= b <= e <= len(buf):
            raise ValueError(f"cannot read weights file {path}: tensor {name!r} lies outside the file "
                             "(truncated?)")
        arr = np.frombuffer(buf[b:e], dtype=np.dtype(_SAFETENSORS_DTYPES[dtype]))
        if dtype == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        if arr.size != int(np.prod(shape)):
            raise ValueError(f"cannot read weights file {path}: tensor {name!r} has "
                             f"{arr.size} values for shape {shape}")
        out[name] = arr.reshape(shape).astype(np.float64)
    return out


def stack_as_layers(name: str, arr: np.ndarray) -> Raw:
    """A 4-D weight, a ``(K, n, n)`` stack or one ``(n, n)`` kernel as a layer (else nothing)."""
    if arr.ndim == 4:
        return [(name, arr, None)]
    if arr.ndim == 3 and arr.shape[-1] == arr.shape[-2]:
        return [(name, arr[:, None], "full")]
    if arr.ndim == 2 and arr.shape[0] == arr.shape[1]:
        return [(name, arr[None, None], "full")]
    return []


def read_npy(path: Path) -> Raw:
    check_readable(path)
    try:
        raw = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise ValueError(f"cannot read weights file {path}: not a readable .npy array "
                         f"({type(exc).__name__})") from None
    arr = as_float64(raw, path.stem)
    layers = stack_as_layers(path.stem, arr)
    if not layers:
        raise ValueError(f"{path}: a .npy weights file holds (out, in, n, n), (K, n, n) or (n, n); "
                         f"got shape {arr.shape}")
    return layers


def read_onnx(path: Path) -> Raw:
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise SourceUnavailable(f"reading {path} needs the package 'onnx'") from None
    check_readable(path)
    try:
        model = onnx.load(str(path))
    except Exception as exc:
        raise ValueError(f"cannot read ONNX file {path}: {type(exc).__name__}") from None
    tensors: dict[str, Any] = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value" and attr.t is not None:
                    tensors[node.output[0]] = attr.t
    out: Raw = []
    seen: set[str] = set()
    for node in model.graph.node:
        if node.op_type not in ("Conv", "ConvTranspose") or len(node.input) < 2:
            continue
        wname = node.input[1]
        if wname not in tensors or wname in seen:
            continue
        arr = numpy_helper.to_array(tensors[wname])
        if arr.ndim != 4:
            continue
        seen.add(wname)
        arr = as_float64(arr, wname)
        group = next((a.i for a in node.attribute if a.name == "group"), 1)
        out_ch = arr.shape[1] * group if node.op_type == "ConvTranspose" else arr.shape[0]
        kind: Kind = "depthwise" if group > 1 and group == out_ch and arr.shape[1] == 1 else "full"
        out.append((f"{node.name or node.op_type}:{wname}", arr, kind))
    if not out:  # no Conv nodes: fall back to every rank-4 tensor
        out = [(name, as_float64(numpy_helper.to_array(t), name), None)
               for name, t in tensors.items() if len(t.dims) == 4]
    return out


def read_npz(path: Path) -> Raw:
    check_readable(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files}
    except Exception as exc:
        raise ValueError(f"cannot read weights file {path}: not a readable .npz archive "
                         f"({type(exc).__name__})") from None
    out: Raw = []
    for k, a in arrays.items():
        if a.ndim in (3, 4):
            out += stack_as_layers(k, as_float64(a, k))
    return out


def read_h5(path: Path) -> Raw:
    try:
        import h5py
    except ImportError:
        raise SourceUnavailable(f"reading Keras file {path} needs the package 'h5py' "
                                "(pip install h5py==3.16.0)") from None
    check_readable(path)
    out: Raw = []
    try:
        with h5py.File(path, "r") as fh:
            def visit(name: str, obj: Any) -> None:
                if isinstance(obj, h5py.Dataset) and obj.ndim == 4:
                    # Keras layout (h, w, in, out) -> torch layout (out, in, h, w)
                    arr = as_float64(np.asarray(obj), name)
                    out.append((name, np.transpose(arr, (3, 2, 0, 1)), None))
            fh.visititems(visit)
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(f"cannot read weights file {path}: {type(exc).__name__}") from None
    return out


def read_file(path: Path) -> Raw:
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise ValueError(f"cannot read weights file {path}: the file is empty")
    if suffix in (".pth", ".pt"):
        return raw_from_mapping(read_torch(path))
    if suffix == ".safetensors":
        return [(k, a, None) for k, a in read_safetensors(path).items() if a.ndim == 4]
    if suffix == ".onnx":
        return read_onnx(path)
    if suffix == ".npz":
        return read_npz(path)
    if suffix == ".npy":
        return read_npy(path)
    if suffix == ".h5":
        return read_h5(path)
    raise ValueError(f"{path}: unsupported weights file type {suffix!r}; "
                     f"expected one of {', '.join(FILE_SUFFIXES)}")


