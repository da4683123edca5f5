"""Sphinx extension: the interactive propagation lab (``{infomech-lab}`` directive).

A panel is placed with (MyST markdown, also in a notebook's markdown cell)::

    ```{infomech-lab}
    :preset: speed-law
    ```

Options: ``preset`` (``lab``, ``speed-law``, ``odd-displacement``) and overrides of its settings
(``family``, ``size``, ``beta2``, ``theta`` in degrees, ``seed``, ``activation``, ``pattern``,
``steps``, ``rescale``, ``split``, ``view``, ``rate``). The panel itself is built in the browser
by ``book/_static/lab/lab.js`` (plain JavaScript, float64, no network).

What the extension does during ``jupyter-book build .``:

* pages that contain a panel (and only those) get ``_static/lab/lab.css``, ``lab-curves.js`` and
  ``lab.js``;
* after the build, ``book/_static/lab/*`` is copied into the site's ``_static/lab/`` and two data
  files are written beside it: ``lab-curves.js`` (the speed-law curves measured by
  :func:`infomech.lab.lab_curves`, i.e. :func:`infomech.sweeps.speed_sweep`) and
  ``lab-natural.js`` (the natural image of :mod:`infomech.patterns`, bit for bit). Both are cached
  in ``_build/.infomech-lab/`` keyed by the hash of the library's sources, so an unchanged library
  is not re-measured. When the cache lacks them they are measured in a process of their own,
  started once every page is read, so the measurement runs beside Sphinx's (serial) write phase;
  the build waits for it at the end and fails with its last error line if it fails.
"""

from __future__ import annotations

import html
import shutil
import sys
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

LAB_SRC = Path("book") / "_static" / "lab"  # relative to the source directory
STATIC_SUBDIR = "lab"
PRESETS = ("lab", "speed-law", "odd-displacement")
CHOICES = {
    "family": ("dct", "translation", "steered", "random", "user"),
    "activation": ("relu", "none", "abs", "leaky"),
    "pattern": ("delta", "disc", "natural"),
    "split": ("point", "square"),
    "view": ("cone", "full"),
    "rate": ("10", "30", "60", "120"),
    "rescale": ("true", "false"),
}


class lab_panel(nodes.General, nodes.Element):  # noqa: N801  (docutils node naming)
    """A propagation-lab panel; rendered as a ``<div class="infomech-lab">`` that lab.js fills."""


def _choice(name: str, values: tuple[str, ...]):
    def check(arg: str | None) -> str:
        return directives.choice((arg or "").strip(), values)
    check.__name__ = name
    return check


def _number(lo: float, hi: float, integer: bool = False):
    def check(arg: str | None) -> str:
        try:
            v = float((arg or "").strip())
        except ValueError:
            raise ValueError(f"expected a number in [{lo:g}, {hi:g}]; got {arg!r}") from None
        if not lo <= v <= hi or (integer and v != int(v)):
            raise ValueError(f"expected {'an integer' if integer else 'a number'} in [{lo:g}, {hi:g}]; "
                             f"got {arg!r}")
        return str(int(v)) if integer else repr(v)
    return check


class LabDirective(SphinxDirective):
    """``{infomech-lab}``: one interactive propagation panel."""

    has_content = False
    option_spec = {
        "preset": _choice("preset", PRESETS),
        **{k: _choice(k, v) for k, v in CHOICES.items()},
        "size": _choice("size", ("2", "3", "5")),
        "beta2": _number(0.0, 1.0),
        "theta": _number(-180.0, 180.0),
        "seed": _number(0, 2**32 - 1, integer=True),
        "steps": _number(1, 200, integer=True),
    }

    def run(self) -> list[nodes.Node]:
        opts = dict(self.options)
        if opts.get("family") == "translation" and opts.get("size") == "2":
            raise self.error("infomech-lab: translation-beta kernels need an odd size (3 or 5)")
        node = lab_panel("")
        node["options"] = {"preset": "lab", **opts}
        self.set_source_info(node)
        return [node]


def _visit_html(self: Any, node: lab_panel) -> None:
    attrs = " ".join(f'data-{html.escape(k)}="{html.escape(str(v))}"'
                     for k, v in sorted(node["options"].items()))
    self.body.append(
        f'<div class="infomech-lab" {attrs}>'
        '<p class="iml-loading">Loading the propagation lab…</p>'
        '<noscript><p>The propagation lab needs JavaScript (it runs entirely in this page, '
        'with no network access).</p></noscript></div>\n')
    raise nodes.SkipNode


def _skip(self: Any, node: lab_panel) -> None:
    raise nodes.SkipNode


def _page_context(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Add the lab's CSS and scripts to the pages that contain a panel (and only those)."""
    if doctree is None or not any(True for _ in doctree.findall(lab_panel)):
        return
    app.add_css_file(f"{STATIC_SUBDIR}/lab.css")
    app.add_js_file(f"{STATIC_SUBDIR}/lab-curves.js", priority=600)
    app.add_js_file(f"{STATIC_SUBDIR}/lab.js", priority=601)


def _cache_path(cache: Path, name: str, key: str) -> Path:
    return cache / f"{key[:20]}-{name}"


def _cached(cache: Path, name: str, key: str, make: Any) -> str:
    """Text of ``name`` from the cache for ``key`` (made with ``make()`` when missing)."""
    path = _cache_path(cache, name, key)
    if path.is_file():
        return path.read_text(encoding="utf-8")
    text = make()
    cache.mkdir(parents=True, exist_ok=True)
    for old in cache.glob(f"*-{name}"):
        old.unlink()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return text


#: The data files written beside the lab's scripts: file name -> (JS global, infomech.lab function).
DATA_FILES = {"lab-curves.js": ("INFOMECH_LAB_CURVES", "lab_curves"),
              "lab-natural.js": ("INFOMECH_LAB_NATURAL", "natural_image_payload")}


def _cache_dir(app: Any) -> Path:
    return Path(app.outdir).parent / ".infomech-lab"


def write_data(cache: Path) -> dict[str, str]:
    """The text of every :data:`DATA_FILES` entry, from ``cache`` or measured into it."""
    from infomech import lab  # the book builds with infomech installed

    key = lab.library_hash()
    return {name: _cached(cache, name, key, lambda g=glob, f=func: lab.as_js(g, getattr(lab, f)()))
            for name, (glob, func) in DATA_FILES.items()}


def _missing(cache: Path) -> bool:
    from infomech import lab

    key = lab.library_hash()
    return any(not _cache_path(cache, name, key).is_file() for name in DATA_FILES)


def _start_data(app: Any, env: Any) -> None:
    """Once every page is read (the chapters have executed), measure the lab's data in a process
    of its own when the cache lacks it: it runs beside Sphinx's serial write phase, not after it."""
    import subprocess
    import tempfile

    app.infomech_lab_proc = None
    if app.builder.format != "html" or not _missing(_cache_dir(app)):
        return
    err = tempfile.TemporaryFile()  # not a pipe: a full pipe would stall the measurement
    app.infomech_lab_proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--data", str(_cache_dir(app))],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    app.infomech_lab_proc.infomech_err = err


def _wait_data(app: Any, kill: bool) -> None:
    proc = getattr(app, "infomech_lab_proc", None)
    if proc is None:
        return
    app.infomech_lab_proc = None
    if kill:
        proc.kill()
    proc.wait()
    with proc.infomech_err as f:
        f.seek(0)
        err = f.read()
    if proc.returncode and not kill:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        raise ExtensionError(f"infomech-lab: measuring the lab's data failed "
                             f"(exit {proc.returncode}): {tail[0]}")


def _build_finished(app: Any, exc: Exception | None) -> None:
    _wait_data(app, kill=exc is not None)
    if exc is not None or app.builder.format != "html":
        return
    dst = Path(app.outdir) / "_static" / STATIC_SUBDIR
    dst.mkdir(parents=True, exist_ok=True)
    src = Path(app.srcdir) / LAB_SRC
    for path in sorted(src.glob("*")):
        if path.is_file() and path.suffix in (".js", ".css"):
            shutil.copy2(path, dst / path.name)
    for name, text in write_data(_cache_dir(app)).items():  # measured by _start_data (or here)
        (dst / name).write_text(text, encoding="utf-8")


def setup(app: Any) -> dict[str, Any]:
    app.add_node(lab_panel, html=(_visit_html, None), latex=(_skip, None), text=(_skip, None),
                 man=(_skip, None), texinfo=(_skip, None))
    app.add_directive("infomech-lab", LabDirective)
    app.connect("html-page-context", _page_context)
    app.connect("env-updated", _start_data, priority=900)  # after the chapters' pool has stopped
    app.connect("build-finished", _build_finished)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":  # python infomech_lab.py --data CACHE_DIR (started by _start_data)
    if len(sys.argv) != 3 or sys.argv[1] != "--data":
        sys.exit("usage: python infomech_lab.py --data CACHE_DIR")
    Path(sys.argv[2]).mkdir(parents=True, exist_ok=True)  # an unusable folder fails before torch loads
    write_data(Path(sys.argv[2]))
