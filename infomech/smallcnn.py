r"""A small CNN trained inside the book, on data that ships inside an installed package.

The data are scikit-learn's handwritten digits (``sklearn.datasets.load_digits``: 1797 images of
8 x 8 pixels, ten classes), which are part of the scikit-learn wheel, so nothing is downloaded.

Architecture (all convolutions 3 x 3, zero padding 1, ReLU after each)::

    conv1  1 -> 16   full
    conv2 16 -> 32   full, then 2 x 2 max-pool (8 x 8 -> 4 x 4)
    conv3 32 -> 32   depthwise (groups = 32)
    pw    32 -> 64   1 x 1
    global average pool, linear 64 -> 10

Reproducibility
---------------
Training is seeded (``torch.manual_seed``, a fixed shuffling generator), runs with
``torch.use_deterministic_algorithms`` on one thread, and is done in **float64**. In float32 the
result depended on the CPU instruction set (oneDNN and MKL pick different summation orders for
AVX-512, AVX2 and SSE4, and 40 epochs of Adam amplify the last-bit differences to the third decimal
of the published statistics). In float64 the same amplification starts from ~1e-16 instead of
~1e-7: measured over the native, AVX2 and SSE4 code paths and 1 or 2 threads, every weight agrees to
better than :data:`REPRODUCIBLE_ATOL` (see ``tests/test_smallcnn.py``), far below the three
decimals the book publishes.

Shipped model and cache
-----------------------
The trained network ships with the package (``infomech/data/smallcnn-<key>.pt``, 68 kB), so the
book does not spend ~30 s training it on every cold build. The shipped weights are what :func:`train`
produces on the AVX2 code path, with any thread count: ``tools/ship_smallcnn.py`` trains them under
the AVX2 emulation, and ``make test`` retrains from scratch under it (``INFOMECH_RETRAIN=1``) and
compares every weight bit for bit. Other code paths do not reproduce the last bits: retrained on
the SSE4 path and on a native AVX-512 path, the weights differed from the shipped ones by at most
1.4e-13 and 1.1e-13 (measured 2026-12-06, AMD EPYC), inside :data:`REPRODUCIBLE_ATOL` and
far below the book's three decimals. The book loads the shipped file, so its numbers are the same
on every CPU.
The file name is :func:`cache_key`: it hashes the settings, the torch and numpy versions and this
module's source code, so a shipped or cached model is the model this code produces. After any
change to this module run ``python tools/ship_smallcnn.py`` (a test fails until then).

Other settings are trained on first use and cached in :func:`cache_dir` (``$INFOMECH_CACHE_DIR``,
else the project's ``_build/cache/`` next to the package when it runs from a checkout, else
``~/.cache/infomech``). An unwritable cache directory costs nothing but the cache: the model is
trained, one warning is issued, and the run carries on. ``INFOMECH_RETRAIN=1`` ignores the shipped
and cached models: the model is trained again (and cached).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

#: Absolute tolerance to which retraining reproduces every weight across CPUs and thread counts
#: (measured spread: see ``tests/test_smallcnn.py``); the book publishes three decimals.
REPRODUCIBLE_ATOL: float = 1e-9

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


@dataclass(frozen=True)
class Settings:
    """Training settings; every field enters the cache key.

    ``dtype`` is ``"float64"`` (reproducible across CPUs; the default) or ``"float32"``.
    """

    seed: int = 0
    epochs: int = 40
    batch_size: int = 64
    lr: float = 3e-3
    n_test: int = 297
    dtype: str = "float64"

    def __post_init__(self) -> None:
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {sorted(_DTYPES)}; got {self.dtype!r}")
        for name in ("epochs", "batch_size", "n_test"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0; got {self.lr}")

    @property
    def torch_dtype(self) -> torch.dtype:
        """The torch dtype of the parameters and data."""
        return _DTYPES[self.dtype]


class SmallCNN(nn.Module):
    """Three 3x3 convolutions (two full, one depthwise), a 1x1 mixing layer and a linear read-out."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 32, 3, padding=1, groups=32)
        self.pw = nn.Conv2d(32, 64, 1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a batch ``(B, 1, 8, 8)``."""
        x = torch.relu(self.conv1(x))
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.pw(torch.relu(self.conv3(x))))
        return self.fc(x.mean(dim=(-2, -1)))


def load_data(settings: Settings = Settings()) -> tuple[torch.Tensor, ...]:
    """Digits as ``(x_train, y_train, x_test, y_test)``; pixels scaled to [0, 1], a seeded split."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ValueError("the small CNN needs scikit-learn (pip install scikit-learn==1.9.1), "
                         "whose wheel ships the digits data") from None
    digits = load_digits()
    x = torch.tensor(digits.images / 16.0, dtype=settings.torch_dtype).unsqueeze(1)
    y = torch.tensor(digits.target, dtype=torch.long)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(settings.seed))
    test, train = perm[:settings.n_test], perm[settings.n_test:]
    return x[train], y[train], x[test], y[test]


@contextlib.contextmanager
def _deterministic(seed: int) -> Iterator[None]:
    old_det = torch.are_deterministic_algorithms_enabled()
    old_threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old_det)
        torch.set_num_threads(old_threads)


def _init_parameters(model: nn.Module, seed: int) -> None:
    r"""PyTorch's default initialisation, drawn with numpy's seeded PCG64 generator.

    Every weight and bias of a ``Conv2d``/``Linear`` is uniform on :math:`[-b, b]` with
    :math:`b = 1/\sqrt{\text{fan-in}}` (``kaiming_uniform_(a=sqrt(5))`` and the default bias, as in
    ``torch.nn``). torch's own ``uniform_`` gives different last bits on different CPU code paths
    (its vectorised transform differs between the AVX2 and SSE builds), numpy's does not.
    """
    rng = np.random.default_rng(seed)
    for mod in model.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            fan_in = mod.weight[0].numel()
            bound = 1.0 / np.sqrt(fan_in)
            for p in (mod.weight, mod.bias):
                if p is not None:
                    with torch.no_grad():
                        p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape))))


def _build(settings: Settings) -> SmallCNN:
    model = SmallCNN().to(settings.torch_dtype)
    _init_parameters(model, settings.seed)
    return model


def initial(settings: Settings = Settings()) -> SmallCNN:
    """The network at its seeded initialisation (see :func:`_init_parameters`).

    It needs none of :func:`_deterministic` (whose ``torch.use_deterministic_algorithms`` imports
    ``torch._inductor``, ~3 s): every parameter is drawn by numpy and copied in, so no torch random
    number and no reduction enters it. torch's global generator, from which ``nn.Conv2d`` and
    ``nn.Linear`` draw the default initialisation that is then overwritten, is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        return _build(settings)


def train(settings: Settings = Settings()) -> tuple[SmallCNN, dict[str, float]]:
    """Train from :func:`initial` and return the model and ``{"train_acc", "test_acc"}``."""
    xtr, ytr, xte, yte = load_data(settings)
    with _deterministic(settings.seed):
        model = _build(settings)
        opt = torch.optim.Adam(model.parameters(), lr=settings.lr, foreach=False)
        gen = torch.Generator().manual_seed(settings.seed + 1)
        for _ in range(settings.epochs):
            perm = torch.randperm(len(ytr), generator=gen)
            for i in range(0, len(perm), settings.batch_size):
                idx = perm[i:i + settings.batch_size]
                opt.zero_grad()
                nn.functional.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            metrics = {"train_acc": float((model(xtr).argmax(1) == ytr).double().mean()),
                       "test_acc": float((model(xte).argmax(1) == yte).double().mean())}
    return model, metrics


# ---------------------------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------------------------

def _checkout_root() -> Path | None:
    """The project checkout this package runs from (the folder holding ``pyproject.toml``), if any."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def cache_dir() -> Path:
    """Where trained models are cached: ``$INFOMECH_CACHE_DIR``, else ``<checkout>/_build/cache``.

    Outside a checkout (an installed wheel) the fallback is ``~/.cache/infomech``.
    """
    env = os.environ.get("INFOMECH_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    root = _checkout_root()
    return root / "_build" / "cache" if root is not None else Path("~/.cache/infomech").expanduser()


def code_digest() -> str:
    """SHA-256 (16 hex digits) of this module's source: the training code enters the cache key."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def cache_key(settings: Settings = Settings()) -> str:
    """Hash of the settings, the torch and numpy versions and the training code."""
    key = json.dumps({**asdict(settings), "torch": torch.__version__, "numpy": np.__version__,
                      "code": code_digest(), "v": 2}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def cache_path(settings: Settings = Settings()) -> Path:
    """Cache file of the trained state dict for these settings (see :func:`cache_key`)."""
    return cache_dir() / f"smallcnn-{cache_key(settings)}.pt"


#: Folder of the trained models that ship with the package (read-only).
SHIPPED_DIR: Path = Path(__file__).resolve().parent / "data"


def shipped_path(settings: Settings = Settings()) -> Path:
    """Where the shipped model for these settings would be (it exists for the default settings)."""
    return SHIPPED_DIR / f"smallcnn-{cache_key(settings)}.pt"


def retrain_requested() -> bool:
    """True when ``$INFOMECH_RETRAIN`` asks to ignore the shipped and cached models."""
    return os.environ.get("INFOMECH_RETRAIN", "").strip().lower() not in ("", "0", "false", "no")


def _from_blob(blob: dict[str, Any], settings: Settings) -> SmallCNN:
    model = SmallCNN().to(settings.torch_dtype)
    model.load_state_dict(blob["state_dict"])
    model.metrics = dict(blob["metrics"])  # type: ignore[assignment]
    return model.eval()


def _load(path: Path, settings: Settings) -> SmallCNN | None:
    """The model stored at ``path``, or None for a missing, stale or broken file."""
    if not path.is_file():
        return None
    try:
        return _from_blob(torch.load(path, map_location="cpu", weights_only=True), settings)
    except Exception:  # a stale or broken file: the caller retrains
        return None


#: Models trained by this process under ``$INFOMECH_RETRAIN`` (cache key -> state and metrics):
#: a retrained model is trained once per process, not once per call.
_retrained: dict[str, dict[str, Any]] = {}


_warned_unwritable: set[str] = set()


def _save(path: Path, blob: dict[str, Any]) -> None:
    """Write ``blob`` atomically to ``path``; on an unwritable folder warn once and carry on."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(blob, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if str(path.parent) not in _warned_unwritable:
            _warned_unwritable.add(str(path.parent))
            warnings.warn(f"cannot cache the trained SmallCNN in {path.parent} "
                          f"({exc.strerror or type(exc).__name__}); carrying on without the cache "
                          f"(set INFOMECH_CACHE_DIR to a writable folder)", RuntimeWarning,
                          stacklevel=3)


def trained(settings: Settings = Settings(), *, use_cache: bool = True) -> SmallCNN:
    """The trained network: shipped with the package, else cached, else trained (then cached).

    ``use_cache=False`` or ``$INFOMECH_RETRAIN`` trains it again; the latter trains once per process
    and still writes the cache (``make test`` compares that file with the shipped one).
    """
    if use_cache and retrain_requested():
        blob = _retrained.get(cache_key(settings))
        if blob is not None:
            return _from_blob(blob, settings)
    elif use_cache:
        for path in (shipped_path(settings), cache_path(settings)):
            model = _load(path, settings)
            if model is not None:
                return model
    model, metrics = train(settings)
    model.metrics = metrics  # type: ignore[assignment]
    if use_cache:
        blob = {"state_dict": model.state_dict(), "metrics": metrics}
        if retrain_requested():
            _retrained[cache_key(settings)] = blob
        _save(cache_path(settings), blob)
    return model


def save_shipped(model: nn.Module, settings: Settings = Settings()) -> Path:
    """Write ``model`` as the shipped model for ``settings`` and remove stale shipped files."""
    path = shipped_path(settings)
    for old in SHIPPED_DIR.glob("smallcnn-*.pt"):
        if old != path:
            old.unlink()
    _save(path, {"state_dict": model.state_dict(), "metrics": metrics(model)})
    return path


def metrics(model: nn.Module) -> dict[str, Any]:
    """Accuracies recorded when the model was trained (empty for an untrained model)."""
    return dict(getattr(model, "metrics", {}))


def module_weights(model: nn.Module) -> list[tuple[str, np.ndarray, str]]:
    """``(name, weight (out, in_per_group, h, w) float64, kind)`` for every ``Conv2d`` of a module.

    ``kind`` is ``"depthwise"`` when ``groups == out_channels > 1`` and ``in_per_group == 1``.
    """
    out = []
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Conv2d):
            w = mod.weight.detach().double().numpy().copy()
            dw = mod.groups > 1 and mod.groups == mod.out_channels and w.shape[1] == 1
            out.append((f"{name}.weight", w, "depthwise" if dw else "full"))
    return out
