"""Publishing helpers for the book: glued numbers, the claims ledger and figures with provenance.

Chapters never type a number into prose. They call :func:`publish` which

1. glues the value (``myst_nb.glue``) so the Markdown can quote it with ``{glue:text}``, and
2. records it in the chapter's ledger file ``_ledger/<chapter>.json`` (written atomically), which
   the book build merges into one machine-readable ``claims.json`` beside the HTML.

Figures go through :func:`save_figure`, which writes PNG and SVG files with their provenance
(git commit, infomech version, chapter, parameters, build date) into ``_static/figures/`` and glues
the figure for a ``{glue:figure}`` directive. Give the directive ``:name:`` the same name as the
figure, so that the Figures page can link to its anchor::

    ```{glue:figure} speed-law-dct
    :name: speed-law-dct

    Caption ...
    ```

Long loops go through :func:`progress`: a tqdm bar when run interactively, silent in the built book
(the book build sets ``INFOMECH_QUIET=1``) and when standard error is not a terminal.

The book build (``book/_ext/infomech_site.py``) merges the ledgers into ``claims.json`` and
``claims.csv`` beside the HTML and copies the figure files into the site's ``_static/figures/``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

#: Public repository of the project (placeholder until it is published).
REPOSITORY_URL = "https://github.com/infomech/infomech"

_LEDGERS: dict[str, dict[str, Any]] = {}
_T = TypeVar("_T")


def _book_dir() -> Path:
    """Directory that holds ``_ledger`` and ``_static`` (``$INFOMECH_BOOK_DIR`` or the cwd)."""
    return Path(os.environ.get("INFOMECH_BOOK_DIR", os.getcwd()))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and ``os.replace`` (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return value.item()
    return value


class _Text(str):
    """A string that displays without quotes, so ``{glue:text}`` and ``{glue:md}`` show it as is."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return str(self)


def _glue(name: str, value: Any) -> None:
    """Glue ``value`` when running inside IPython; do nothing in plain Python."""
    ipython = sys.modules.get("IPython")
    if ipython is None or ipython.get_ipython() is None:  # type: ignore[attr-defined]
        return
    try:
        from myst_nb import glue
    except ImportError:  # no book tooling installed: nothing to glue into
        return
    if isinstance(value, str):
        value = _Text(value)
    glue(name, value, display=False)


#: Decimals that published floats are rounded to by default: round-off noise (1e-16 from a changed
#: summation order, a signed zero) must not change a glued number between builds or machines.
DEFAULT_DIGITS = 10


def _stable(value: Any, digits: int) -> Any:
    if isinstance(value, float):
        return round(value, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    if isinstance(value, list | tuple):
        return [_stable(v, digits) for v in value]
    return value


def publish(name: str, value: Any, *, chapter: str, digits: int | None = None) -> Any:
    """Glue ``value`` under ``name`` and record it in the chapter's claims ledger.

    Parameters
    ----------
    name : str
        Glue key, unique across the book (prefix it with the chapter, e.g. ``"even-drift-max"``).
    value : number, str or bool
        The measured value. Floats (also inside lists) are rounded to ``digits`` decimals, so that
        the glued text and the ledger carry the same stable number.
    chapter : str
        Chapter slug; the ledger file is ``_ledger/<chapter>.json``.
    digits : int, optional
        Decimals to round floats to; default :data:`DEFAULT_DIGITS` (10), which removes round-off
        noise: a maximum error of 1e-16 is published as 0.0.

    Returns
    -------
    The (rounded) value.
    """
    value = _stable(_plain(value), DEFAULT_DIGITS if digits is None else digits)
    _glue(name, value)
    ledger = _LEDGERS.setdefault(chapter, {})
    ledger[name] = value
    atomic_write_text(
        _book_dir() / "_ledger" / f"{chapter}.json",
        json.dumps({"chapter": chapter, "values": ledger}, indent=1, sort_keys=True) + "\n",
    )
    return value


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, timeout=10,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    """Current git commit of the source tree, or ``"unknown"`` outside a git checkout."""
    return _git("rev-parse", "HEAD") or "unknown"


@functools.lru_cache(maxsize=1)
def git_dirty() -> bool | None:
    """Whether the checkout has uncommitted changes to tracked files (None outside git)."""
    out = _git("status", "--porcelain", "--untracked-files=no")
    return None if out is None else bool(out)


def code_url(path: str) -> str:
    """Stable URL of ``path`` in the repository, pinned to the current commit when known."""
    commit = git_commit()
    ref = commit if commit != "unknown" else "main"
    return f"{REPOSITORY_URL}/blob/{ref}/{path}"


def provenance(chapter: str, params: dict[str, Any], code: str | None = None) -> dict[str, Any]:
    """Provenance record of a figure or number: commit, version, chapter, parameters, date."""
    from . import __version__

    code = code or f"book/{chapter}.ipynb"
    return {
        "chapter": chapter,
        "code": code,
        "code_url": code_url(code),
        "params": {k: _plain(v) for k, v in params.items()},
        "infomech_version": __version__,
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "build_date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def save_figure(fig: Any, name: str, *, chapter: str, params: dict[str, Any],
                caption: str = "", code: str | None = None, close: bool = True) -> Any:
    """Save ``fig`` as PNG and SVG with provenance, and glue it under ``name``.

    Files: ``_static/figures/<name>.png``, ``.svg`` and ``.json`` (provenance and caption).
    The PNG and SVG also carry the provenance in their metadata. Returns the figure.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    name : str
        Figure name: file stem, glue key and (by convention) the ``:name:`` label of the
        ``{glue:figure}`` directive that shows it. Letters, digits, ``-`` and ``_`` only.
    chapter : str
        Chapter slug (the notebook is ``book/<chapter>.ipynb``).
    params : dict
        What was run (pattern, kernel family, sizes, steps, activation, ...), JSON-serialisable.
    caption : str
        Caption text for the Figures page.
    code : str, optional
        Path of the code that drew the figure, relative to the repository root
        (default ``book/<chapter>.ipynb``).
    close : bool
        Close the figure after gluing it (default), so that it is not shown a second time as
        the cell's own output.
    """
    if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
        raise ValueError(f"name must be letters, digits, '-' or '_': {name!r}")
    prov = provenance(chapter, params, code)
    prov["figure"] = name
    prov["caption"] = caption
    outdir = _book_dir() / "_static" / "figures"
    outdir.mkdir(parents=True, exist_ok=True)
    desc = json.dumps(prov, sort_keys=True)
    for ext, meta in (("png", {"Description": desc, "Title": name}),
                      ("svg", {"Description": desc, "Title": name, "Date": None})):
        fd, tmp = tempfile.mkstemp(dir=outdir, prefix=f".{name}.", suffix=f".{ext}")
        os.close(fd)
        try:
            fig.savefig(tmp, format=ext, metadata=meta, bbox_inches="tight", dpi=120)
            os.replace(tmp, outdir / f"{name}.{ext}")
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    atomic_write_text(outdir / f"{name}.json", json.dumps(prov, indent=1, sort_keys=True) + "\n")
    _glue(name, fig)
    if close:
        try:
            import matplotlib.pyplot as plt
        except ImportError:  # pragma: no cover
            return fig
        plt.close(fig)
    return fig


def _quiet() -> bool:
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


def progress(iterable: Iterable[_T], **kwargs: Any) -> Iterator[_T]:
    """Wrap ``iterable`` in a tqdm progress bar when run interactively, silently otherwise.

    Keyword arguments go to :class:`tqdm.tqdm` (``desc``, ``total``, ``unit``, ...); ``disable``
    given explicitly wins over the automatic choice.
    """
    kwargs.setdefault("disable", not progress_enabled())
    if kwargs["disable"]:
        return iter(iterable)
    from tqdm import tqdm

    kwargs.setdefault("leave", False)
    kwargs.setdefault("dynamic_ncols", True)
    return iter(tqdm(iterable, **kwargs))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:.6g}"
        return "0" if text in ("-0", "0") else text
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def print_ledger(chapter: str) -> None:
    """Print every value the chapter has published (sorted by key, floats to 6 significant digits).

    Each chapter ends with this in a ``# NBVAL_CHECK_OUTPUT`` cell, so nbval fails when any glued
    number of the chapter changes, including the verdict shown in the intro.
    """
    ledger = _LEDGERS.get(chapter)
    if not ledger:
        raise ValueError(f"chapter {chapter!r} has published nothing in this session")
    for key in sorted(ledger):
        print(f"{key}: {_fmt(ledger[key])}")


def rounded(x: Any, digits: int = 3) -> Any:
    """``x`` rounded to ``digits`` decimals for printing, with ``-0.0`` turned into ``0.0``.

    Numpy-aware: a Python or numpy scalar gives a ``float``, an array (or list/tuple, or torch
    tensor via ``numpy()``) gives a float ``ndarray``. Used in the chapters' ``# NBVAL_CHECK_OUTPUT``
    cells, whose printed text must not depend on round-off (``-0.0`` against ``0.0``).
    """
    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().cpu().numpy()
    arr = np.round(np.asarray(x, dtype=float), digits) + 0.0
    return float(arr) if arr.ndim == 0 else arr
