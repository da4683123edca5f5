r"""A user's own inputs: kernels from files or inline text, images from PNG/JPEG/.npy files.

Kernels
    :func:`read_kernels` accepts a ``.npy`` file (an ``(n, n)`` kernel or a ``(K, n, n)`` stack), a
    text file (``.txt``/``.csv``: rows of numbers separated by spaces or commas; several kernels
    separated by blank lines form a stack; ``#`` starts a comment), or inline text such as
    ``"[[0,1,0],[0,1,1],[0,0,0]]"`` (nested lists; a list of such matrices is a stack).
    :func:`kernel_stack` joins several of these into one stack.

Images
    :func:`read_image` accepts PNG and JPEG files (read with Pillow) and ``.npy`` arrays. Colour is
    converted to luminance with the ITU-R BT.709 weights,

    .. math:: Y = 0.2126\,R + 0.7152\,G + 0.0722\,B,

    applied to the stored (gamma-encoded) values, i.e. the luma :math:`Y'` of Rec. 709; an alpha
    channel is ignored. Integer images are scaled to [0, 1] by the largest value of their type
    (255 for 8-bit, 65535 for 16-bit); float ``.npy`` images are taken as they are.

Every failure raises :class:`infomech.validate.ParameterError` naming the parameter (``kernel`` or
``image``) and the file, with the reason (no such file, a directory, permission denied, not a
readable array, pickled objects, ragged rows, complex values, NaN, ...).
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import validate
from .validate import ParameterError

#: ITU-R BT.709 luma weights of (R, G, B).
LUMA_BT709: tuple[float, float, float] = (0.2126, 0.7152, 0.0722)

KERNEL_SUFFIXES = (".npy", ".txt", ".csv")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".npy")


def _readable_file(path: Path, name: str) -> Path:
    """``path`` if it is a readable regular file, else a specific :class:`ParameterError`."""
    if not path.exists():
        raise ParameterError(name, f"file {str(path)!r} does not exist (no such file)")
    if path.is_dir():
        raise ParameterError(name, f"{str(path)!r} is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise ParameterError(name, f"file {str(path)!r} cannot be read (permission denied)")
    if path.stat().st_size == 0:
        raise ParameterError(name, f"file {str(path)!r} is empty")
    return path


def _load_npy(path: Path, name: str) -> np.ndarray:
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic != b"\x93NUMPY":
        raise ParameterError(name, f"file {str(path)!r} is not a readable .npy array (no NumPy header; "
                             "write it with numpy.save)")
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ParameterError(name, f"file {str(path)!r} holds pickled Python objects; save a plain "
                                 "numeric array with numpy.save") from None
        raise ParameterError(name, f"file {str(path)!r} is not a readable .npy array ({exc})") from None
    except (OSError, EOFError) as exc:
        raise ParameterError(name, f"file {str(path)!r} is not a readable .npy array ({exc})") from None
    if isinstance(arr, np.lib.npyio.NpzFile):  # pragma: no cover - .npz renamed to .npy
        arr.close()
        raise ParameterError(name, f"file {str(path)!r} is an .npz archive; save one array with numpy.save")
    return arr


def _parse_rows(lines: list[str], where: str) -> list[list[float]]:
    rows = []
    for ln in lines:
        parts = [p for p in re.split(r"[,\s;]+", ln.strip()) if p]
        try:
            rows.append([float(p) for p in parts])
        except ValueError:
            raise ParameterError("kernel", f"{where}: expected numbers, got the row {ln.strip()!r}") from None
    return rows


def _text_kernels(text: str, where: str) -> np.ndarray:
    """Kernels from text: rows of numbers; blank lines separate the kernels of a stack."""
    blocks: list[list[str]] = [[]]
    for raw in text.splitlines():
        ln = raw.split("#", 1)[0]
        if ln.strip():
            blocks[-1].append(ln)
        elif blocks[-1]:
            blocks.append([])
    blocks = [b for b in blocks if b]
    if not blocks:
        raise ParameterError("kernel", f"{where} holds no numbers")
    mats = []
    for i, b in enumerate(blocks):
        rows = _parse_rows(b, where)
        if len({len(r) for r in rows}) != 1:
            raise ParameterError("kernel", f"{where}: kernel {i} has rows of different lengths "
                                 f"{[len(r) for r in rows]}")
        mats.append(np.array(rows, dtype=float))
    if len({m.shape for m in mats}) != 1:
        raise ParameterError("kernel", f"{where}: the kernels have different shapes "
                             f"{sorted({m.shape for m in mats})}")
    return np.stack(mats) if len(mats) > 1 else mats[0]


def parse_inline_kernel(text: str) -> np.ndarray:
    """Kernel(s) from nested-list text, e.g. ``"[[0,1,0],[0,1,1],[0,0,0]]"`` -> array (n, n) or (K, n, n).

    Only number literals are accepted (parsed with :func:`ast.literal_eval`, which runs no code).
    """
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise ParameterError("kernel", f"cannot parse the inline kernel {text!r}: expected nested lists "
                             "of numbers such as [[0,1,0],[0,1,1],[0,0,0]]") from None
    try:
        arr = np.array(value)
    except ValueError:
        raise ParameterError("kernel", f"the inline kernel {text!r} has rows of different lengths") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ParameterError("kernel", f"the inline kernel {text!r} must hold numbers only "
                             "(rows of equal length)")
    return arr


def read_kernels(source: str | os.PathLike[str]) -> np.ndarray:
    """Kernel stack ``(K, n, n)``, float64, from a ``.npy``/``.txt``/``.csv`` file or inline text.

    Text that starts with ``[`` is read as an inline kernel (:func:`parse_inline_kernel`); anything
    else is a file name. The result is validated by :func:`infomech.validate.kernels` (real, finite,
    square, no all-zero kernel).
    """
    text = os.fspath(source)
    if text.strip().startswith("["):
        return validate.kernels(parse_inline_kernel(text), "kernel")
    path = Path(text)
    suffix = path.suffix.lower()
    if path.is_dir():
        raise ParameterError("kernel", f"{text!r} is a directory, not a kernel file")
    if suffix not in KERNEL_SUFFIXES:
        if not path.exists() and not suffix:
            raise ParameterError("kernel", f"{text!r} is neither a file nor an inline kernel such as "
                                 "[[0,1,0],[0,1,1],[0,0,0]]")
        raise ParameterError("kernel", f"file {text!r}: unsupported type {suffix or '(none)'!r}; "
                             f"expected one of {', '.join(KERNEL_SUFFIXES)} or an inline kernel")
    _readable_file(path, "kernel")
    if suffix == ".npy":
        arr = _load_npy(path, "kernel")
    else:
        try:
            content = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ParameterError("kernel", f"file {text!r} is not a text file of numbers") from None
        arr = _text_kernels(content, f"file {text!r}")
    try:
        return validate.kernels(arr, "kernel")
    except ParameterError as exc:
        raise ParameterError("kernel", f"file {text!r}: {exc}") from None


def kernel_stack(sources: Sequence[str | os.PathLike[str]]) -> tuple[np.ndarray, list[str]]:
    """Join the kernels of several sources into one stack ``(K, n, n)``.

    Returns the stack and, per kernel, a label ``"<source>"`` or ``"<source>[i]"`` (i-th kernel of
    a stacked source). All kernels must have one size.
    """
    if not sources:
        raise ParameterError("kernel", "no kernel given")
    stacks, labels = [], []
    for src in sources:
        k = read_kernels(src)
        stacks.append(k)
        s = os.fspath(src)
        labels += [s] if k.shape[0] == 1 else [f"{s}[{i}]" for i in range(k.shape[0])]
    sizes = sorted({k.shape[-1] for k in stacks})
    if len(sizes) > 1:
        raise ParameterError("kernel", "kernels of different sizes "
                             f"({', '.join(f'{n}x{n}' for n in sizes)}) cannot run as one stack")
    return np.concatenate(stacks), labels


def luminance(rgb: np.ndarray, weights: Sequence[float] = LUMA_BT709) -> np.ndarray:
    r"""Luma :math:`Y = w_R R + w_G G + w_B B` of an ``(H, W, 3)`` or ``(H, W, 4)`` image (alpha ignored).

    Default weights: ITU-R BT.709 (:data:`LUMA_BT709`), on the values as stored.
    """
    a = np.asarray(rgb, dtype=float)
    if a.ndim != 3 or a.shape[-1] not in (3, 4):
        raise ParameterError("image", f"colour images must have shape (H, W, 3) or (H, W, 4); got {a.shape}")
    return a[..., :3] @ np.asarray(weights, dtype=float)


def _to_grey(arr: np.ndarray, where: str) -> np.ndarray:
    """Grey levels from an array of shape (H, W), (H, W, 1), (H, W, 2: grey + alpha), (H, W, 3|4)."""
    if np.iscomplexobj(arr):
        raise ParameterError("image", f"{where} must be real; got complex values ({arr.dtype})")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ParameterError("image", f"{where} must hold numbers; got dtype {arr.dtype}")
    scale = float(np.iinfo(arr.dtype).max) if np.issubdtype(arr.dtype, np.integer) else 1.0
    a = arr.astype(float) / scale
    if a.ndim == 3 and a.shape[-1] in (1, 2):
        a = a[..., 0]
    elif a.ndim == 3 and a.shape[-1] in (3, 4):
        a = luminance(a)
    if a.ndim != 2:
        raise ParameterError("image", f"{where} must be (H, W) grey or (H, W, 3|4) colour; got shape "
                             f"{arr.shape}")
    return a


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """A grey-level float64 image ``(H, W)`` from a PNG/JPEG or ``.npy`` file.

    Colour is converted to BT.709 luma (module notes); integer values are scaled to [0, 1].
    Validated by :func:`infomech.validate.image` (finite, non-empty, not all zeros).
    """
    p = Path(os.fspath(path))
    suffix = p.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise ParameterError("image", f"file {str(p)!r}: unsupported type {suffix or '(none)'!r}; "
                             f"expected one of {', '.join(IMAGE_SUFFIXES)}")
    _readable_file(p, "image")
    where = f"file {str(p)!r}"
    if suffix == ".npy":
        arr = _load_npy(p, "image")
    else:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(p) as im:
                if im.mode == "P":
                    im = im.convert("RGBA")
                elif im.mode in ("I", "F", "I;16", "I;16B", "I;16L") or im.mode.startswith("I;16"):
                    pass
                elif im.mode not in ("L", "LA", "RGB", "RGBA"):
                    im = im.convert("RGB")
                arr = np.asarray(im)
                if im.mode.startswith("I;16"):
                    arr = arr.astype(np.uint16)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ParameterError("image", f"{where} is not a readable {suffix[1:].upper()} image ({exc})"
                                 ) from None
    try:
        return validate.image(_to_grey(arr, where), "image")
    except ParameterError as exc:
        raise ParameterError("image", exc.problem if exc.problem.startswith("file") else
                             f"{where}: {exc}") from None
