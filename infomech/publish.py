"""Publishing layer of the book: glued numbers, the claims ledger, tables and figures.

Chapters never type a number into prose. They call :func:`publish`, which

1. glues the value (myst-nb's glue format) so that the Markdown quotes it with ``{glue:text}``, and
2. attaches a ledger record (value, rule, parameters, code) to that same invisible output.

Figures go through :func:`save_figure`, which embeds a 2x-resolution PNG in the notebook output
(whatever the matplotlib backend) together with its SVG and provenance, and glues it for a
``{glue:figure}`` directive whose ``:name:`` is the figure name.

Nothing is written beside the notebook: the book build (``book/_ext/infomech_site.py``) reads the
*executed* notebooks and derives ``claims.json``, ``claims.csv``, the figure files and the Figures
page from their outputs. So the HTML, the ledger, the figures and the downloadable notebooks always
come from one execution, and running a chapter elsewhere (nbval, a Jupyter session) cannot change
what the built book publishes.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import functools
import html as _html
import io
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ._io import atomic_write_text  # noqa: F401  (re-exported: older callers import it from here)
from .numbers import DEFAULT_DIGITS, fmt_bound, rounded  # noqa: F401  (re-exported for the chapters)
from .progress import progress, progress_enabled  # noqa: F401  (re-exported for the chapters)

#: Public repository of the project (placeholder until it is published).
REPOSITORY_URL = "https://github.com/infomech/infomech"

#: myst-nb's mime prefix for glued (not displayed) outputs.
GLUE_PREFIX = "application/papermill.record/"

#: Output-metadata key under which infomech stores its ledger and figure records.
META_KEY = "infomech"

#: Resolution of the embedded PNG (pixels per inch); displayed at half size: sharp on 2x screens.
FIGURE_DPI = 200
#: Environment variable: ``check`` makes :func:`save_figure` lay the figure out and check its fonts
#: without rendering it (no PNG or SVG; the glue holds only the text ``Figure <name>``). The nbval
#: runs set it (``book/conftest.py``): they compare numbers, never pixels, and the book build,
#: which renders every figure, refuses it. Unset or ``render``: figures are rendered.
FIGURES_ENV = "INFOMECH_FIGURES"
FIGURE_MODES = ("render", "check")

_LEDGERS: dict[str, dict[str, dict[str, Any]]] = {}
_T = TypeVar("_T")


def _plain(value: Any) -> Any:
    """Python scalars and lists from numpy/torch values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "detach"):  # torch tensor
        value = value.detach().cpu().numpy()
        return value.item() if value.ndim == 0 else value.tolist()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value




def _stable(value: Any, digits: int) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot publish the non-finite number {value!r}: publish a bound or "
                             "a word that says what happened (e.g. 'never', 'overflow')")
        return round(value, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    if isinstance(value, list):
        return [_stable(v, digits) for v in value]
    if isinstance(value, dict):
        return {k: _stable(v, digits) for k, v in value.items()}
    raise TypeError(f"cannot publish a value of type {type(value).__name__}: "
                    "use a number, a string, a bool, or a list/dict of them")


def _in_ipython() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        return ipython.get_ipython() is not None  # type: ignore[attr-defined]
    except Exception:  # pragma: no cover
        return False


def _display(data: dict[str, Any], metadata: dict[str, Any]) -> None:
    """Emit a raw display-data output when running inside IPython; do nothing in plain Python."""
    if not _in_ipython():
        return
    from IPython.display import display

    display(data, raw=True, metadata=metadata)


def cell_digest(source: str) -> str:
    """SHA-1 of a code cell's stripped source: identifies the cell that drew a figure."""
    import hashlib

    return hashlib.sha1(source.strip().encode("utf-8")).hexdigest()


def _running_cell() -> str | None:
    """:func:`cell_digest` of the running cell (to place a figure in the downloadable notebook)."""
    try:
        import IPython

        shell = IPython.get_ipython()
        return None if shell is None else cell_digest(shell.user_ns["_ih"][-1])
    except Exception:  # pragma: no cover
        return None


def _text(value: Any) -> str:
    """The ``text/plain`` a glued value shows: strings as they are, numbers as Python writes them."""
    if isinstance(value, str):
        return value
    return repr(value)


def _check_name(what: str, name: str) -> None:
    if not isinstance(name, str) or not name or not all(ch.isalnum() or ch in "-_" for ch in name):
        raise ValueError(f"{what} must be letters, digits, '-' or '_': {name!r}")


def publish(name: str, value: Any, *, chapter: str, digits: int | None = None,
            rule: str | None = None, params: Mapping[str, Any] | None = None) -> None:
    """Glue ``value`` under ``name`` and record it in the chapter's claims ledger.

    Parameters
    ----------
    name : str
        Glue key, unique across the book (prefix it with the chapter, e.g. ``"even-drift-max"``).
    value : number, str, bool, or a list/dict of them
        The measured value. Floats are rounded to ``digits`` decimals, so that the glued text and
        the ledger carry the same stable number. NaN and infinities are refused: publish what they
        mean instead (``"never"``, ``"overflow"``).
    chapter : str
        Chapter slug (``book/<chapter>.ipynb``).
    digits : int, optional
        Decimals to round floats to; default :data:`DEFAULT_DIGITS` (10). Choose no more digits
        than the computation reproduces across machines.
    rule : str, optional
        The rule or tolerance the number is judged by (recorded in the ledger).
    params : mapping, optional
        Parameters of the experiment that produced the number (recorded in the ledger).

    Returns
    -------
    None. (A returned value would show as a stray output box in the book.)

    Notes
    -----
    The value is validated before anything is recorded: a bad value raises and leaves the ledger
    as it was, so later publications of the chapter are unaffected.
    """
    _check_name("publish: name", name)
    _check_name("publish: chapter", chapter)
    if digits is not None and (not isinstance(digits, int) or isinstance(digits, bool) or digits < 0):
        raise ValueError(f"publish: digits must be a non-negative integer, got {digits!r}")
    value = _stable(_plain(value), DEFAULT_DIGITS if digits is None else digits)
    record = {"name": name, "chapter": chapter, "value": value, "digits": digits,
              "rule": rule, "params": _stable(_plain(dict(params or {})), DEFAULT_DIGITS),
              "code": f"book/{chapter}.ipynb"}
    json.dumps(record)  # refuse anything that would not serialise, before recording it
    _LEDGERS.setdefault(chapter, {})[name] = record
    data = {GLUE_PREFIX + "text/plain": _text(value)}
    if isinstance(value, str):
        data[GLUE_PREFIX + "text/markdown"] = value
    _display(data, {"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX},
                    META_KEY: {"claim": record}})


_GREEK = {"beta": "β", "gamma": "γ", "sigma": "σ", "kappa": "κ", "theta": "θ", "rho": "ρ"}
_TYPESET = [
    (re.compile(r"(?<![-\\\w])(beta|gamma|sigma|kappa|theta|rho)(_k)?(\^2)?(?![\w(])"),
     lambda m: _GREEK[m[1]] + (m[2] or "") + ("²" if m[3] else "")),
    (re.compile(r"(?<![\\\w])(\(v/c\)|c|px|g|cos|L)\^2(?!\w)"), lambda m: m[1] + "²"),
    (re.compile(r"\bsqrt\(L\)"), lambda m: "√L"),
    (re.compile(r"\bsqrt\(([^()]*)\)"), lambda m: f"√({m[1]})"),
    (re.compile(r"<="), lambda m: "≤"),
    (re.compile(r">="), lambda m: "≥"),
    (re.compile(r"\+-"), lambda m: "±"),
    (re.compile(r"(\d) deg\b"), lambda m: m[1] + "°"),
]
_MATHS_OR_CODE = re.compile(r"(\$[^$]+\$|`[^`]+`)")


def typeset(text: str) -> str:
    """The house plain-text notation of rules and verdicts as the book shows it: ``beta^2`` as
    β², ``<=`` as ≤, ``+-`` as ±, ``sqrt(L)`` as √L, ``10 deg`` as 10°, Greek names as letters.

    MyST maths (``$...$``) and inline code are left as they are; so are names such as
    ``DCT-beta`` and identifiers (``beta2``).
    """
    parts = _MATHS_OR_CODE.split(text)
    for i in range(0, len(parts), 2):  # even parts lie outside maths and code
        for pattern, repl in _TYPESET:
            parts[i] = pattern.sub(repl, parts[i])
    return "".join(parts)


def publish_verdict(verdict: Any, *, chapter: str) -> None:
    """Publish a :class:`~infomech.claims.base.Verdict` under ``verdict-<id>...`` keys.

    Keys: ``verdict-<id>`` (the sentence), ``-word``, ``-value``, ``-rule``, ``-decisive``; the
    texts in the book's notation (:func:`typeset`).
    """
    key = f"verdict-{verdict.claim}"
    rule = typeset(verdict.rule)
    publish(key, typeset(verdict.sentence()), chapter=chapter, rule=rule)
    publish(f"{key}-word", verdict.word, chapter=chapter, rule=rule)
    value = verdict.value if isinstance(verdict.value, str) else f"{float(verdict.value):.3g}"
    publish(f"{key}-value", value, chapter=chapter, rule=rule)  # text: the intro glues it as such
    publish(f"{key}-rule", rule, chapter=chapter)
    publish(f"{key}-decisive", typeset(verdict.decisive), chapter=chapter)


def _cell(value: Any, fmt: str | None) -> str:
    if fmt and isinstance(value, int | float | np.generic) and not isinstance(value, bool):
        return format(value, fmt)
    return str(value)


class Table:
    """An HTML table for the book (with a plain-text twin for terminals and nbval)."""

    def __init__(self, header: Sequence[str], body: Sequence[Sequence[str]], caption: str | None):
        self.header, self.body, self.caption = list(header), [list(r) for r in body], caption

    def _repr_html_(self) -> str:
        e = _html.escape
        out = ['<div class="infomech-table"><table class="table">']
        if self.caption:
            out.append(f"<caption>{e(self.caption)}</caption>")
        out.append("<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in self.header) + "</tr></thead>")
        out.append("<tbody>")
        for row in self.body:
            out.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
        out.append("</tbody></table></div>")
        return "".join(out)

    def __repr__(self) -> str:
        widths = [max(len(h), *(len(r[i]) for r in self.body)) if self.body else len(h)
                  for i, h in enumerate(self.header)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(self.header, widths, strict=True))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in self.body]
        return "\n".join(line.rstrip() for line in lines)


def table(rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]], *,
          columns: Sequence[str] | None = None, formats: Mapping[str, str] | None = None,
          caption: str | None = None) -> Table:
    """Build a :class:`Table` from dict rows (columns default to the first row's keys) or lists."""
    formats = dict(formats or {})
    rows = list(rows)
    if rows and isinstance(rows[0], Mapping):
        columns = list(columns or rows[0].keys())
        body = [[_cell(r.get(c, ""), formats.get(c)) for c in columns] for r in rows]  # type: ignore[union-attr]
    else:
        if columns is None:
            raise ValueError("table: list rows need columns=")
        columns = list(columns)
        for r in rows:
            if len(r) != len(columns):  # type: ignore[arg-type]
                raise ValueError(f"table: a row has {len(r)} cells for {len(columns)} columns")  # type: ignore[arg-type]
        body = [[_cell(v, formats.get(c)) for v, c in zip(r, columns, strict=True)] for r in rows]  # type: ignore[arg-type]
    return Table(columns, body, caption)


def show_table(rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]], *,
               columns: Sequence[str] | None = None, formats: Mapping[str, str] | None = None,
               caption: str | None = None) -> None:
    """Display :func:`table` as a real HTML table in the book (plain text outside a notebook)."""
    t = table(rows, columns=columns, formats=formats, caption=caption)
    if _in_ipython():
        from IPython.display import display

        display(t)
    else:
        print(repr(t))


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


def provenance(chapter: str, params: Mapping[str, Any], code: str | None = None) -> dict[str, Any]:
    """Provenance record of a figure or number: commit, version, chapter, parameters, date."""
    from . import __version__

    code = code or f"book/{chapter}.ipynb"
    return {
        "chapter": chapter,
        "code": code,
        "code_url": code_url(code),
        "params": _stable(_plain(dict(params)), DEFAULT_DIGITS),
        "infomech_version": __version__,
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "build_date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def tight_box(fig: Any, dpi: float = FIGURE_DPI) -> Any:
    """The figure's content box in inches, padded as ``savefig(bbox_inches="tight")`` pads it.

    Measured at ``dpi`` on a fresh Agg renderer (a layout pass, no drawing; it also materialises
    the tick labels): at the PNG's resolution the box is the very one ``savefig(dpi=dpi,
    bbox_inches="tight")`` measures (text extents are hinted at the renderer's resolution, so a
    box measured at another dpi can differ by a pixel or two). Passing the box to
    :func:`render_figure` spares matplotlib its own layout pass before every format.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import RendererAgg

    old_dpi = fig.dpi
    # fig.dpi = ... would also resize a GUI window; savefig sets the dpi the same way, windowless
    fig._set_dpi(dpi, forward=False)
    try:
        width, height = fig.bbox.size
        box = fig.get_tightbbox(RendererAgg(width, height, dpi))
    finally:
        fig._set_dpi(old_dpi, forward=False)
    return box.padded(matplotlib.rcParams["savefig.pad_inches"])


def _layout_is_fixed(fig: Any) -> bool:
    """Whether drawing ``fig`` leaves its layout as it is: no layout engine, or only the placeholder
    that ``fig.tight_layout()`` leaves behind (it ran the engine once and removed it)."""
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    return engine is None or isinstance(engine, PlaceHolderLayoutEngine)


@contextlib.contextmanager
def _without_layout_engine(fig: Any) -> Iterator[None]:
    """Detach ``fig``'s (placeholder) layout engine while saving, then put it back.

    ``savefig`` draws the whole figure once more before every format whenever the figure has *any*
    layout engine, the placeholder of ``fig.tight_layout()`` included ("to make sure constrained
    layout works"); for a fixed layout that draw changes nothing. matplotlib has no public way to
    remove an engine (``set_layout_engine(None)`` installs the placeholder again), hence the
    attribute.
    """
    engine = fig._layout_engine
    fig._layout_engine = None
    try:
        yield
    finally:
        fig._layout_engine = engine


def render_figure(fig: Any, fmt: str, *, dpi: int = FIGURE_DPI, metadata: dict | None = None,
                  box: Any = None) -> bytes:
    """The bytes of ``fig`` saved as ``fmt`` (``"png"`` or ``"svg"``), cropped to its content.

    ``box`` is the crop box from :func:`tight_box`; without it matplotlib measures the content
    itself (an extra layout pass per call). With a box and a fixed layout (no engine, or the
    placeholder left by ``fig.tight_layout()``) each format costs one draw: matplotlib's preliminary
    draw for layout engines is skipped. A figure with a live layout engine (``layout="constrained"``
    or ``"tight"``) is always measured by matplotlib, because the engine re-runs at the output
    resolution.
    """
    buf = io.BytesIO()
    if box is None or not _layout_is_fixed(fig):
        fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight", metadata=metadata)
    else:
        with _without_layout_engine(fig):
            fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches=box, metadata=metadata)
    return buf.getvalue()


def _png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def figure_mode() -> str:
    """What :func:`save_figure` does with a figure: ``"render"`` (default) or ``"check"`` (set by
    :data:`FIGURES_ENV`; layout and font check only)."""
    mode = os.environ.get(FIGURES_ENV, "") or "render"
    if mode not in FIGURE_MODES:
        raise ValueError(f"{FIGURES_ENV} must be one of {', '.join(FIGURE_MODES)}, not {mode!r}")
    return mode


def save_figure(fig: Any, name: str, *, chapter: str, params: Mapping[str, Any],
                caption: str = "", code: str | None = None, close: bool = True,
                outdir: str | Path | None = None) -> None:
    """Embed ``fig`` in the notebook (2x PNG, SVG, provenance) and glue it under ``name``.

    Works with any matplotlib backend: the PNG is rendered here, not by the notebook's inline
    backend. The PNG is displayed at half its pixel size, so it is sharp on HiDPI screens.
    With ``INFOMECH_FIGURES=check`` (:data:`FIGURES_ENV`; the nbval runs) the figure is laid out
    and its fonts are checked, but nothing is rendered unless ``outdir`` is given.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    name : str
        Figure name: glue key and (by convention) the ``:name:`` label of the ``{glue:figure}``
        directive that shows it. Letters, digits, ``-`` and ``_`` only.
    chapter : str
        Chapter slug (the notebook is ``book/<chapter>.ipynb``).
    params : mapping
        What was run (pattern, kernel family, sizes, steps, activation, ...), JSON-serialisable;
        take it from the claim's spec.
    caption : str
        Caption text for the Figures page.
    code : str, optional
        Path of the code that drew the figure (default ``book/<chapter>.ipynb``).
    close : bool
        Close the figure after gluing it (default), so that it is not shown a second time.
    outdir : path, optional
        Also write ``<name>.png``, ``.svg`` and ``.json`` there (atomically), e.g. from a script.

    Raises
    ------
    ValueError
        If the figure's smallest text would show below :data:`infomech.figures.MIN_FONT_PT` in the
        book's text column (:func:`infomech.figures.min_display_font_pt`).
    """
    _check_name("save_figure: name", name)
    _check_name("save_figure: chapter", chapter)
    prov = provenance(chapter, params, code)
    prov["figure"] = name
    prov["caption"] = caption
    from .figures import MAX_WIDTH_IN, MIN_FONT_PT, display_scale, min_font_pt

    # one layout pass, without drawing, serves both crops and the font measurement (measuring the
    # content box materialises every tick label; a draw would cost ~0.25 s more per figure). The
    # box is measured at the PNG's dpi, so the PNG is exactly matplotlib's own tight crop; the SVG
    # shares it (savefig would measure the SVG's own box at 72 dpi: within ~1 pt of this one)
    box = tight_box(fig)
    raw_pt = min_font_pt(fig, draw=False)
    shown_pt = raw_pt * display_scale(fig)
    if shown_pt < MIN_FONT_PT:
        raise ValueError(f"save_figure: {name!r}: smallest text {shown_pt:.1f} pt in the text column "
                         f"(< {MIN_FONT_PT:g} pt): enlarge its fonts or make it narrower than "
                         f"{MAX_WIDTH_IN} in (now {fig.get_figwidth():.1f} in)")
    prov["min_font_pt"] = round(shown_pt, 2)
    prov["min_font_pt_raw"] = round(raw_pt, 2)
    prov["width_in"] = round(float(fig.get_figwidth()), 2)
    prov["max_width_in"] = MAX_WIDTH_IN
    scrap = {"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}}
    if outdir is None and figure_mode() == "check":
        data = {GLUE_PREFIX + "text/plain": f"Figure {name}"}
        meta = {**scrap, META_KEY: {"figure": prov, "rendered": False, "cell": _running_cell()}}
    else:
        data, rendered = _render_for_glue(fig, name, prov, box, outdir)
        meta = {**scrap, **rendered}
    _display(data, meta)
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)


def _render_for_glue(fig: Any, name: str, prov: dict[str, Any], box: Any,
                     outdir: str | Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """:func:`save_figure`'s PNG and SVG (also written to ``outdir``): glue data and metadata."""
    desc = json.dumps({k: v for k, v in prov.items() if k != "build_date"}, sort_keys=True)
    png = render_figure(fig, "png", metadata={"Description": desc, "Title": name}, box=box)
    svg = render_figure(fig, "svg", metadata={"Description": desc, "Title": name, "Date": None},
                        box=box)
    width, _ = _png_size(png)
    if outdir is not None:
        from ._io import atomic_write_bytes

        out = Path(outdir)
        atomic_write_bytes(out / f"{name}.png", png)
        atomic_write_bytes(out / f"{name}.svg", svg)
        atomic_write_text(out / f"{name}.json", json.dumps(prov, indent=1, sort_keys=True) + "\n")
    data = {GLUE_PREFIX + "image/png": base64.b64encode(png).decode("ascii"),
            GLUE_PREFIX + "text/plain": f"Figure {name}"}
    return data, {"image/png": {"width": round(width * 96 / FIGURE_DPI)},
                  META_KEY: {"figure": prov, "svg": svg.decode("utf-8"), "cell": _running_cell()}}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:.6g}"
        return "0" if text in ("-0", "0") else text
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in sorted(value.items())) + "}"
    return str(value)


def print_ledger(chapter: str) -> None:
    """Print every value the chapter has published (sorted by key, floats to 6 significant digits).

    Each chapter ends with this in a hidden cell tagged ``nbval-check-output``, so nbval fails when
    any published value changes. What it prints is stable across machines only when every value
    was published with no more digits than the computation reproduces.
    """
    ledger = _LEDGERS.get(chapter)
    if not ledger:
        raise ValueError(f"chapter {chapter!r} has published nothing in this session")
    for key in sorted(ledger):
        print(f"{key}: {_fmt(ledger[key]['value'])}")


__all__ = ["DEFAULT_DIGITS", "FIGURE_DPI", "Table", "code_url", "fmt_bound", "git_commit", "print_ledger",
           "progress", "progress_enabled", "provenance", "publish", "publish_verdict", "rounded",
           "save_figure", "show_table", "table", "typeset"]
