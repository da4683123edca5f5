"""Progress bars for long loops: a tqdm bar when run interactively, silent otherwise.

A low-level helper with no dependency on the rest of infomech, so that the compute core
(:mod:`infomech.propagation`) and the book layer (:mod:`infomech.publish`) can both use it without
the core importing the book layer.

The bar is shown only when ``INFOMECH_QUIET`` is unset (the book build and the test run set it)
and the code runs in a Jupyter kernel or standard error is a terminal. ``INFOMECH_PROGRESS_DELAY``
(seconds) replaces the caller's ``delay`` (tqdm's wait before a bar appears; ``0``: at once).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

_T = TypeVar("_T")


def _quiet() -> bool:
    """True when ``INFOMECH_QUIET`` is set to anything but ``""``, ``0``, ``false`` or ``no``."""
    return os.environ.get("INFOMECH_QUIET", "").strip().lower() not in ("", "0", "false", "no")


def _in_kernel() -> bool:
    """True inside an interactive Jupyter kernel."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()  # type: ignore[attr-defined]
    except Exception:
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def progress_enabled() -> bool:
    """Whether :func:`progress` shows a bar: not when ``INFOMECH_QUIET`` is set (the book build and
    the test run set it); otherwise in a Jupyter kernel or when standard error is a terminal."""
    if _quiet():
        return False
    if _in_kernel():
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _delay_override() -> float | None:
    """``INFOMECH_PROGRESS_DELAY`` in seconds (a finite number >= 0), or None when unset or blank.

    Raises
    ------
    ValueError
        When it is set to anything else (named, so that a typo is not silently ignored).
    """
    text = os.environ.get("INFOMECH_PROGRESS_DELAY", "").strip()
    if not text:
        return None
    try:
        delay = float(text)
    except ValueError:
        delay = float("nan")
    if not 0.0 <= delay < float("inf"):
        raise ValueError(f"INFOMECH_PROGRESS_DELAY must be a number of seconds >= 0; got {text!r}")
    return delay


def progress(iterable: Iterable[_T], **kwargs: Any) -> Iterator[_T]:
    """Wrap ``iterable`` in a tqdm progress bar when run interactively, silently otherwise.

    Keyword arguments go to :class:`tqdm.tqdm` (``desc``, ``total``, ``unit``, ``delay``, ...);
    ``disable`` given explicitly wins over the automatic choice, ``INFOMECH_PROGRESS_DELAY`` over
    ``delay``.
    """
    kwargs.setdefault("disable", not progress_enabled())
    if kwargs["disable"]:
        return iter(iterable)
    from tqdm import tqdm

    delay = _delay_override()
    if delay is not None:
        kwargs["delay"] = delay

    kwargs.setdefault("leave", False)
    kwargs.setdefault("dynamic_ncols", True)
    return iter(tqdm(iterable, **kwargs))
