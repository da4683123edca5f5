"""Input patterns: synthetic shapes made by code and one natural image shipped with matplotlib.

All patterns are float64 ``(size, size)`` arrays (the natural image may be rectangular when asked)
with the origin of the coordinate system at the image centre ``((W-1)/2, (H-1)/2)``.
"""

from __future__ import annotations

import numpy as np

from . import validate


def _size(size: int, name: str = "size") -> int:
    if isinstance(size, float):  # a pattern side is a count of pixels: 3.0 is as wrong as 3.5
        raise validate.ParameterTypeError(name, f"must be an integer; got {size!r}")
    return validate.size(size, name)


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    c = (size - 1) / 2
    y, x = np.mgrid[0:size, 0:size]
    return x - c, y - c


def delta(size: int = 301, value: float = 1.0) -> np.ndarray:
    """Zeros with a single pixel ``value`` at the centre (``size`` should be odd)."""
    size = _size(size)
    x = np.zeros((size, size))
    x[size // 2, size // 2] = value
    return x


def disc(size: int = 715, radius: float = 19, value: float = 255.0) -> np.ndarray:
    """Filled disc of ``radius`` px and ``value`` at the centre (the authors' circle: 715, 19, 255)."""
    size = _size(size)
    if not np.isfinite(radius) or radius <= 0:
        raise validate.ParameterError("radius", f"must be a finite number > 0; got {radius}")
    x, y = _grid(size)
    return np.where(x**2 + y**2 <= radius**2, float(value), 0.0)


def square(size: int = 101, half_width: int = 10, value: float = 1.0) -> np.ndarray:
    """Filled axis-aligned square of side ``2*half_width+1`` at the centre."""
    size = _size(size)
    x, y = _grid(size)
    return np.where((np.abs(x) <= half_width) & (np.abs(y) <= half_width), float(value), 0.0)


def line(size: int = 101, angle: float = 0.0, length: float = 40, width: float = 1.0) -> np.ndarray:
    """Line segment through the centre at ``angle`` radians (from +x towards +y), ``width`` px wide."""
    size = _size(size)
    x, y = _grid(size)
    along = x * np.cos(angle) + y * np.sin(angle)
    across = -x * np.sin(angle) + y * np.cos(angle)
    return np.where((np.abs(along) <= length / 2) & (np.abs(across) <= width / 2), 1.0, 0.0)


def gaussian_blob(size: int = 101, sigma: float = 5.0, centre: tuple[float, float] = (0.0, 0.0)
                  ) -> np.ndarray:
    r"""Gaussian :math:`\exp(-|p-p_0|^2 / 2\sigma^2)` centred at ``centre`` = (x, y) from the middle."""
    size = _size(size)
    if not np.isfinite(sigma) or sigma <= 0:
        raise validate.ParameterError("sigma", f"must be a finite number > 0; got {sigma}")
    if not np.all(np.isfinite(centre)):
        raise validate.ParameterError("centre", f"must be finite; got {centre}")
    x, y = _grid(size)
    return np.exp(-((x - centre[0]) ** 2 + (y - centre[1]) ** 2) / (2 * sigma**2))


def noise(size: int = 101, seed: int = 0) -> np.ndarray:
    """Seeded uniform [0, 1) noise."""
    size = _size(size)
    return np.random.default_rng(seed).random((size, size))


def natural_image(size: int | None = 129) -> np.ndarray:
    """Grayscale photograph of Grace Hopper that ships inside matplotlib (``sample_data``).

    Parameters
    ----------
    size : int or None
        Side of the centred square crop, resampled to ``size x size`` pixels (None: full image).

    Returns
    -------
    array, float64 in [0, 1]
    """
    from matplotlib import cbook
    from matplotlib import image as mpimg

    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        img = mpimg.imread(fh, format="jpg").astype(float)
    gray = img[..., :3].mean(axis=-1) / 255.0
    if size is None:
        return gray
    size = _size(size)
    h, w = gray.shape
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    crop = gray[top:top + s, left:left + s]
    from scipy.ndimage import zoom

    out = zoom(crop, size / s, order=1)
    return np.clip(out[:size, :size], 0.0, 1.0)


PATTERNS = {"delta": delta, "disc": disc, "square": square, "line": line,
            "blob": gaussian_blob, "noise": noise, "natural": natural_image}


def default_radius(size: int) -> int:
    """Radius of the ``disc`` pattern of :func:`make`: the authors' 19 px, smaller on small images."""
    return min(19, max(1, (int(size) - 1) // 4))


def support_box(name: str, size: int) -> tuple[int, int, int, int]:
    """Bounding box (y0, y1, x0, x1) of the non-zero pixels of ``make(name, size)``, without building
    it (``delta`` and ``disc`` only), e.g. to estimate a run's cost before allocating a huge image."""
    size = _size(size)
    c = size // 2
    if name == "delta":
        return c, c + 1, c, c + 1
    if name == "disc":
        r = default_radius(size)
        return c - r, c + r + 1, c - r, c + r + 1
    raise validate.ParameterError("pattern", f"support_box knows 'delta' and 'disc'; got {name!r}")


def make(name: str, size: int, **kwargs: float) -> np.ndarray:
    """Pattern by name (``delta``, ``disc``, ``square``, ``line``, ``blob``, ``noise``, ``natural``)."""
    if name not in PATTERNS:
        raise validate.ParameterError("pattern", f"{name!r} is unknown; expected one of {sorted(PATTERNS)}")
    if name == "disc" and "radius" not in kwargs:
        kwargs["radius"] = default_radius(size)
    return PATTERNS[name](size, **kwargs)
