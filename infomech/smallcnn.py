r"""A small CNN trained inside the book, on data that ships inside an installed package.

The data are scikit-learn's handwritten digits (``sklearn.datasets.load_digits``: 1797 images of
8 x 8 pixels, ten classes), which are part of the scikit-learn wheel, so nothing is downloaded.

Architecture (all convolutions 3 x 3, zero padding 1, ReLU after each)::

    conv1  1 -> 16   full
    conv2 16 -> 32   full, then 2 x 2 max-pool (8 x 8 -> 4 x 4)
    conv3 32 -> 32   depthwise (groups = 32)
    pw    32 -> 64   1 x 1
    global average pool, linear 64 -> 10

Training is seeded and deterministic (``torch.manual_seed``, ``torch.use_deterministic_algorithms``,
one thread, a fixed shuffling generator): Adam, cross-entropy, mini-batches. The trained state dict is
cached under ``$INFOMECH_CACHE`` (default ``~/.cache/infomech``) in a file whose name is a hash of the
settings and the torch version, so a cached model is the model those settings produce.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class Settings:
    """Training settings; every field enters the cache key."""

    seed: int = 0
    epochs: int = 40
    batch_size: int = 64
    lr: float = 3e-3
    n_test: int = 297


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
    x = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
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


def initial(settings: Settings = Settings()) -> SmallCNN:
    """The network at its seeded initialisation (PyTorch's default Kaiming-uniform init)."""
    with _deterministic(settings.seed):
        return SmallCNN()


def train(settings: Settings = Settings()) -> tuple[SmallCNN, dict[str, float]]:
    """Train from :func:`initial` and return the model and ``{"train_acc", "test_acc"}``."""
    xtr, ytr, xte, yte = load_data(settings)
    with _deterministic(settings.seed):
        model = SmallCNN()
        opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
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
            metrics = {"train_acc": float((model(xtr).argmax(1) == ytr).float().mean()),
                       "test_acc": float((model(xte).argmax(1) == yte).float().mean())}
    return model, metrics


def cache_path(settings: Settings = Settings()) -> Path:
    """Cache file of the trained state dict for these settings (and this torch version)."""
    key = json.dumps({**asdict(settings), "torch": torch.__version__, "v": 1}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    root = Path(os.environ.get("INFOMECH_CACHE", "~/.cache/infomech")).expanduser()
    return root / f"smallcnn-{digest}.pt"


def trained(settings: Settings = Settings(), *, use_cache: bool = True) -> SmallCNN:
    """The trained network, from the cache when present (else trained and cached)."""
    path = cache_path(settings)
    model = SmallCNN()
    if use_cache and path.is_file():
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(blob["state_dict"])
            model.metrics = blob["metrics"]  # type: ignore[assignment]
            return model.eval()
        except Exception:  # a stale or broken cache file: retrain
            pass
    model, metrics = train(settings)
    model.metrics = metrics  # type: ignore[assignment]
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        torch.save({"state_dict": model.state_dict(), "metrics": metrics}, tmp)
        os.replace(tmp, path)
    return model


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
