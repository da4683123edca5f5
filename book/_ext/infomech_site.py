"""Sphinx extension for the infomech book: one execution feeds the HTML, the ledger and the figures.

What it does during ``jupyter-book build .``:

* **Execution cache that covers the library.** jupyter-cache keys a notebook on its own code only,
  so editing ``infomech/`` would leave stale numbers in the HTML. At start-up the extension hashes
  the library sources, the book extension, the dependency pins and the Python/torch versions; when
  that key differs from the last build's, it drops the execution cache, the Sphinx environment and
  the executed notebooks, so every chapter is executed again.
* **Claims and figures from the executed notebooks.** :func:`infomech.publish.publish` and
  :func:`~infomech.publish.save_figure` attach their records to invisible outputs of the notebook.
  After the build this extension reads the *executed* notebooks (``_build/jupyter_execute``) and
  writes ``claims.json``/``claims.csv`` beside the HTML, the figure files (PNG, SVG, provenance)
  into ``_static/figures/``, and the executed notebooks as the pages' ``.ipynb`` downloads. No side
  file exists that could go stale or partial; a chapter that published nothing fails the build.
* replaces the ``{infomech-figure-list}`` directive (``book/figures.md``) by the list of every
  figure, grouped by chapter with an index, with thumbnail, caption, downloads and citation line,
  and adds under each chapter figure a link to its entry;
* **Chapters execute in parallel with the rest of the build.** The chapters the cache lacks start
  at once in ``INFOMECH_JOBS`` worker processes (default: the CPUs, at most 4), exactly as myst-nb's
  ``cache`` mode would execute them (jupyter-cache's ``single_nb_execution``, the notebook's folder
  as working directory, the ``execute:`` settings), except that a cell's pieces of one stream
  are merged into one output (:func:`execute_notebook`); Sphinx reads the other pages (the API reference
  first) meanwhile and each chapter when its execution is in the cache. A chapter that fails stops
  the build with its name and error.
* prints each chapter's execution time (or that it came from the cache);
* serves MathJax 3 from the site itself (offline maths) and removes a duplicated inline script.
"""

from __future__ import annotations

import base64
import copy
import csv
import hashlib
import html
import importlib.util
import io
import json
import os
import platform
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.errors import ExtensionError
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
BOOK_DIR = "book"  # chapters live in <srcdir>/book
MATHJAX_PACKAGE = "sphinx-mathjax-offline"
MATHJAX_ENTRY = "mathjax/tex-chtml.js"
ALWAYS_REWRITE = ("book/figures", "book/intro", "book/how-to-cite")
META_KEY = "infomech"
FIGURES_ENV = "INFOMECH_FIGURES"  # infomech.publish.FIGURES_ENV (the build renders every figure)
KEY_FILE = ".infomech-exec-key"
FIGURES_DOC = "book/figures"


class figure_list(nodes.General, nodes.Element):  # noqa: N801  (docutils node naming)
    """Placeholder replaced by the figure list once every chapter has been read."""


class FigureListDirective(Directive):
    has_content = False

    def run(self) -> list[nodes.Node]:
        return [figure_list("")]


class cite_example(nodes.General, nodes.Element):  # noqa: N801
    """Placeholder for the citation line of one figure (``{infomech-cite-example} NAME``)."""


class CiteExampleDirective(Directive):
    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        return [cite_example("", figure=self.arguments[0])]


class claim_text(nodes.Inline, nodes.TextElement):  # noqa: N801
    """A published value of another chapter, shown as text with its maths typeset."""


def claim_role(name: str, rawtext: str, text: str, lineno: int, inliner: Any,
               options: dict | None = None, content: list | None = None) -> tuple[list, list]:
    """``{infomech-claim}`chapter.ipynb::key``: the value ``key`` published by that chapter, with
    ``$...$`` typeset as maths (myst-nb's ``{glue:md}`` does not reach into other documents)."""
    doc, sep, key = text.partition("::")
    if not sep or not key:
        msg = inliner.reporter.error(f"infomech-claim needs 'chapter.ipynb::key', got {text!r}", line=lineno)
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    here = inliner.document.settings.env.docname
    target = os.path.normpath(os.path.join(os.path.dirname(here), doc)).replace(os.sep, "/")
    target = target.rsplit(".", 1)[0] if target.endswith((".ipynb", ".md")) else target
    return [claim_text(rawtext, "", refdoc=target, key=key)], []


def _maths_nodes(text: str) -> list[nodes.Node]:
    out: list[nodes.Node] = []
    for i, part in enumerate(re.split(r"(?<!\\)\$([^$]+)\$", text)):
        if not part:
            continue
        out.append(nodes.math(part, part) if i % 2 else nodes.Text(part))
    return out


class ClaimTexts(SphinxPostTransform):
    """Replace each ``{infomech-claim}`` by the value its chapter published (or a loud marker)."""

    default_priority = 4

    def apply(self, **kwargs: Any) -> None:
        nodes_ = list(self.document.findall(claim_text))
        if not nodes_:
            return
        from myst_nb.ext.glue.crossref import read_glue_cache

        folder = self.env.mystnb_config.output_folder  # type: ignore[attr-defined]
        for node in nodes_:
            data = read_glue_cache(folder, node["refdoc"]).get(node["key"])
            if data is None:
                LOGGER.warning(f"infomech-claim: {node['key']!r} is not published by {node['refdoc']}",
                               location=node)
                node.replace_self(nodes.emphasis("", "not published by its chapter"))
                continue
            out = data.get("data", {})
            text = str(out.get("text/markdown", out.get("text/plain", "")))
            node.replace_self(_maths_nodes(text))


class PendingVerdicts(SphinxPostTransform):
    """Show "pending" for a cross-page glue value whose chapter notebook is not in the build yet.

    Runs just before myst-nb's own cross-document glue transform (priority 5), which would
    otherwise drop the value with a warning. A chapter notebook that exists but does not publish
    the key still warns.
    """

    default_priority = 4

    def apply(self, **kwargs: Any) -> None:
        try:
            from myst_nb.ext.glue.crossref import read_glue_cache
            from myst_nb.ext.glue.utils import PendingGlueReference
        except ImportError:  # pragma: no cover
            return
        folder = self.env.mystnb_config.output_folder  # type: ignore[attr-defined]
        for node in list(self.document.findall(PendingGlueReference)):
            if node.refdoc in self.env.found_docs and \
                    Path(self.env.doc2path(node.refdoc)).suffix == ".ipynb":
                continue  # a real notebook: let myst-nb paste the value (or warn)
            if node.key in read_glue_cache(folder, node.refdoc):
                continue
            node.replace_self(nodes.emphasis("", "pending (chapter not written yet)"))


def _mathjax_dir() -> Path:
    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the book needs the package {MATHJAX_PACKAGE!r} for offline maths: "
            f"pip install {MATHJAX_PACKAGE}==0.0.2 (the Makefile installs it)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    if not (path / "tex-chtml.js").is_file():
        raise RuntimeError(f"MathJax files not found in {path}")
    return path


def execution_key(srcdir: Path) -> str:
    """Hash of everything an executed chapter depends on besides its own code.

    Covers every file of the ``infomech`` package (``*.py`` and data), the book extensions,
    ``pyproject.toml`` and ``requirements/lock.txt``, and the Python and torch versions.
    """
    h = hashlib.sha256()
    roots = [srcdir / "infomech", srcdir / BOOK_DIR / "_ext"]
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            h.update(str(path.relative_to(srcdir)).encode())
            h.update(b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
    for name in ("pyproject.toml", "requirements/lock.txt"):
        path = srcdir / name
        if path.is_file():
            h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    try:  # the installed distribution's version (what torch.__version__ says), without importing it
        from importlib.metadata import PackageNotFoundError, version

        torch_version = version("torch")
    except PackageNotFoundError:  # pragma: no cover
        torch_version = "none"
    h.update(f"python {platform.python_version()} torch {torch_version}".encode())
    return h.hexdigest()


def _build_root(app: Any) -> Path:
    return Path(app.outdir).parent


def _config_inited(app: Any, config: Any) -> None:
    os.environ.setdefault("INFOMECH_QUIET", "1")
    if os.environ.get(FIGURES_ENV, "render") != "render":
        raise ExtensionError(f"infomech: {FIGURES_ENV}={os.environ[FIGURES_ENV]} would leave the "
                             f"book's figures unrendered; unset it to build the book")
    _mathjax_dir()  # fail early when the offline copy is missing
    config.mathjax_path = MATHJAX_ENTRY
    static = str(Path(__file__).resolve().parent / "static")
    if static not in config.html_static_path:
        config.html_static_path.append(static)
    root = _build_root(app)
    cache = getattr(config, "nb_execution_cache_path", "") or str(root / ".jupyter_cache")
    key, dropped = drop_stale_executions(Path(app.srcdir), root, Path(app.doctreedir), Path(cache))
    if dropped:
        LOGGER.info("infomech: library, pins or extension changed since the last build: "
                    "re-executing every chapter")
    app.infomech_exec_key = key
    _start_executions(app, config, Path(cache))


def drop_stale_executions(srcdir: Path, root: Path, doctreedir: Path, cache: Path) -> tuple[str, bool]:
    """Delete the execution cache, Sphinx environment and executed notebooks under ``root`` when
    :func:`execution_key` differs from the key of the last build (``root/.infomech-exec-key``).

    Returns the current key and whether anything stale was deleted. Also used by
    ``tools/execute_chapters.py``, which fills the cache in parallel before the build.
    """
    key = execution_key(srcdir)
    key_file = root / KEY_FILE
    old = key_file.read_text(encoding="utf-8").strip() if key_file.is_file() else None
    dropped = False
    if old != key:
        stale = [doctreedir, root / "jupyter_execute", cache]
        dropped = old is not None or any(p.exists() for p in stale)
        for path in stale:
            if path.exists():
                shutil.rmtree(path)
    return key, dropped


# ---------------------------------------------------------------- parallel chapter execution


def toc_notebooks(srcdir: Path) -> list[Path]:
    """The ``.ipynb`` files named in ``srcdir/_toc.yml``, in table-of-contents order."""
    import yaml

    toc = yaml.safe_load((srcdir / "_toc.yml").read_text(encoding="utf-8"))
    found: list[Path] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    path = srcdir / node[key]
                    path = path if path.suffix else path.with_suffix(".ipynb")
                    if path.suffix == ".ipynb" and path.is_file():
                        found.append(path)
            for value in node.values():
                if isinstance(value, list | dict):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


def uncached_notebooks(notebooks: list[Path], cache_dir: Path) -> list[Path]:
    """The notebooks whose code the execution cache at ``cache_dir`` does not hold, biggest first
    (the most figures: a pool of workers then finishes together)."""
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_dir))
    todo = []
    for path in notebooks:
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            todo.append(path)
    return sorted(todo, key=lambda p: p.stat().st_size, reverse=True)


def execute_notebook(path: str, timeout: int | None, allow_errors: bool,
                     kernel_name: str | None = None) -> tuple[str, str, float, str | None]:
    """Execute one notebook as myst-nb's ``cache`` mode does (in a worker process), in the
    kernel ``kernel_name`` (default: the notebook's own, ``python3``).

    Returns ``(path, executed notebook as JSON, seconds, error or None)``.

    A cell's consecutive writes to one stream are merged into one output (nbclient's
    ``coalesce_streams``): ipykernel sends a stream in pieces on a timer, so on a busy machine one
    ``print`` could otherwise reach the executed notebook as two outputs, a different notebook
    from the same code (the HTML merges them anyway: ``nb_merge_streams``).
    """
    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.read(path, as_version=4)
    extra = {"kernel_name": kernel_name} if kernel_name else {}
    with tempfile.TemporaryDirectory(prefix="infomech-kernel-") as sockets:
        result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout,
                                     allow_errors=allow_errors, meta_override=True,
                                     coalesce_streams=True, config=kernel_transport(sockets),
                                     **extra)
    error = None if result.err is None else f"{type(result.err).__name__}: {result.err}"
    return path, nbformat.writes(nb), float(result.time), error


def kernel_transport(folder: str) -> Any:
    """Kernel-manager settings that connect a kernel over Unix sockets in ``folder`` (private to
    one execution), not over TCP.

    Over TCP (Jupyter's default) the manager picks five free ports, closes them and writes them to
    the connection file, and the kernel binds them later: two chapters starting side by side, or any
    other process on the machine, can take a port in between. On a slow, busy machine that window
    is long enough to be hit (seen once: ``ZMQError: Address already in use``, the kernel died
    before its first reply and the build failed). A socket path in a folder of its own cannot be
    taken; it also leaves no ``kernel-ipc-*`` files in the notebook's folder, which is where
    Jupyter's default IPC path, relative to the kernel's working directory, would put them.
    """
    from traitlets.config import Config

    return Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(folder, "kernel")}})


def store_execution(cache_dir: Path, path: str, text: str, seconds: float) -> None:
    """Put an executed notebook into the execution cache, as myst-nb stores its own executions."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(cache_dir))
    record = cache.add_nb_to_project(path)
    cache.cache_notebook_bundle(CacheBundleIn(nbformat.reads(text, as_version=4), record.uri,
                                              data={"execution_seconds": seconds}),
                                check_validity=False, overwrite=True)


def parallel_jobs() -> int:
    """Chapters executed at once: ``INFOMECH_JOBS``, default the CPUs (at most 4)."""
    raw = os.environ.get("INFOMECH_JOBS", "")
    if not raw:
        return min(4, os.cpu_count() or 1)
    if not raw.isdigit() or int(raw) < 1:
        raise ExtensionError(f"infomech: INFOMECH_JOBS must be a whole number >= 1, not {raw!r}")
    return int(raw)


def warm_kernels_wanted() -> bool:
    """Whether chapters run in warm kernels (``book/_ext/warm_kernel.py``): yes unless
    ``INFOMECH_WARM_KERNELS=0``."""
    raw = os.environ.get("INFOMECH_WARM_KERNELS", "1").strip().lower()
    if raw not in ("0", "1", "no", "yes", "false", "true", ""):
        raise ExtensionError(f"infomech: INFOMECH_WARM_KERNELS must be 0 or 1, not {raw!r}")
    return raw not in ("0", "no", "false")


#: Fewest chapters to execute for which a warm-kernel server pays: its imports cost about what one
#: cold kernel's start and imports cost, and each warm kernel saves that.
WARM_MIN_CHAPTERS = 2


def start_warm_kernels(n_chapters: int) -> tuple[Any, str | None]:
    """Start the warm-kernel server for ``n_chapters`` executions (after the pool's environment is
    set, which it must share); returns ``(server, kernel name)``, or ``(None, None)`` for the
    notebooks' own cold kernel (turned off, or fewer than :data:`WARM_MIN_CHAPTERS`)."""
    if not warm_kernels_wanted() or n_chapters < WARM_MIN_CHAPTERS:
        return None, None
    warm_kernel = _warm_kernel_module()
    try:
        return warm_kernel.start_server(), warm_kernel.KERNEL_NAME
    except (OSError, RuntimeError) as exc:  # pragma: no cover (a cold kernel gives the same result)
        LOGGER.warning(f"infomech: warm kernels unavailable ({exc}); chapters start cold kernels")
        return None, None


def stop_warm_kernels(server: Any) -> dict[str, Any]:
    """Stop the server of :func:`start_warm_kernels`; how many kernels were warm or refused."""
    return _warm_kernel_module().stop_server(server)


def _warm_kernel_module() -> Any:
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:  # this folder is on the path when Sphinx loads the extension
        sys.path.insert(0, here)
    import warm_kernel

    return warm_kernel


def start_pool(jobs: int) -> Any:
    """A pool of ``jobs`` fresh (spawned) worker processes; with several, each chapter runs on one
    thread (several torch threads per kernel on a shared core stall; the chapters' numbers do not
    depend on the thread count, make nbval checks both)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if jobs > 1:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))


def _docname(app: Any, path: Path) -> str:
    return path.resolve().relative_to(Path(app.srcdir).resolve()).with_suffix("").as_posix()


def _start_executions(app: Any, config: Any, cache_dir: Path) -> None:
    """Start executing the chapters the cache lacks, in a pool, before Sphinx reads anything."""
    app.infomech_pending = {}
    if (getattr(config, "nb_execution_mode", "cache") != "cache"
            or getattr(config, "nb_execution_in_temp", False)):
        return  # myst-nb executes (or not) by itself
    todo = uncached_notebooks(toc_notebooks(Path(app.srcdir)), cache_dir)
    if not todo:
        return
    jobs = min(parallel_jobs(), len(todo))
    pool = start_pool(jobs)
    app.infomech_warm, kernel = start_warm_kernels(len(todo))  # before the workers: same environment
    timeout = getattr(config, "nb_execution_timeout", None)
    allow_errors = bool(getattr(config, "nb_execution_allow_errors", False))
    app.infomech_pool = pool
    app.infomech_cache_dir = cache_dir
    for path in todo:
        app.infomech_pending[_docname(app, path)] = pool.submit(execute_notebook, str(path),
                                                                timeout, allow_errors, kernel)
    how = "in warm kernels" if kernel else "in cold kernels"
    LOGGER.info(f"infomech: executing {len(todo)} chapters, {jobs} at a time {how}, while Sphinx "
                "reads the other pages")


def _collect(app: Any, docname: str) -> None:
    """Wait for the pending execution of ``docname`` and put it into the execution cache."""
    future = app.infomech_pending.pop(docname)
    path, text, seconds, error = future.result()
    if error is not None:
        _stop_pool(app, kill=True)
        raise ExtensionError(f"infomech: chapter {docname} failed to execute after "
                             f"{seconds:.1f} s: {error}")
    store_execution(app.infomech_cache_dir, path, text, seconds)
    app.infomech_executed = getattr(app, "infomech_executed", set()) | {docname}


def _wait_for_execution(app: Any, docname: str, source: list[str]) -> None:
    if docname in getattr(app, "infomech_pending", {}):
        _collect(app, docname)


def _collect_rest(app: Any, env: Any) -> None:
    """After reading: chapters executed but not read (their page was up to date) still go to the
    cache, and the pool stops."""
    for docname in list(getattr(app, "infomech_pending", {})):
        _collect(app, docname)
    _stop_pool(app)


def _stop_pool(app: Any, kill: bool = False) -> None:
    """Stop the pool; ``kill`` also ends the executions still running (the build failed)."""
    pool = getattr(app, "infomech_pool", None)
    if pool is None:
        return
    app.infomech_pool = None
    app.infomech_pending = {}
    if kill:  # a kernel whose worker dies exits by itself (it watches its client or parent)
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
    pool.shutdown(wait=not kill, cancel_futures=True)
    counts = stop_warm_kernels(getattr(app, "infomech_warm", None))
    app.infomech_warm = None
    if counts["warm"] or counts["refused"]:
        app.infomech_warm_counts = counts


def _stop_pool_on_error(app: Any, exc: Exception | None) -> None:
    _stop_pool(app, kill=exc is not None)


def _always_outdated(app: Any, env: Any, added: set, changed: set, removed: set) -> list[str]:
    docs = [doc for doc in ALWAYS_REWRITE if doc in env.found_docs]
    # a chapter whose executed notebook is gone (deleted by hand) must be read (executed) again
    for doc in _chapter_docs(app):
        gone = not _executed_path(app, doc).is_file() or not _glue_path(app, doc).is_file()
        if gone and doc not in added and doc not in changed:
            docs.append(doc)
    return docs


def _before_read(app: Any, env: Any, docnames: list[str]) -> None:
    """Record what this build reads; read the chapters still executing last, in pool order."""
    app.infomech_read = set(docnames)
    pending = list(getattr(app, "infomech_pending", {}))
    docnames[:] = [d for d in docnames if d not in pending] + [d for d in pending if d in docnames]


def _toc_order(env: Any) -> list[str]:
    """Documents in reading order (depth-first through the toctrees from the root)."""
    order: list[str] = []
    seen: set[str] = set()

    def walk(doc: str) -> None:
        if doc in seen:
            return
        seen.add(doc)
        order.append(doc)
        for child in env.toctree_includes.get(doc, []):
            walk(child)

    walk(env.config.root_doc)
    order += sorted(d for d in env.found_docs if d not in seen)
    return order


def _chapter_docs(app: Any) -> list[str]:
    """Documents of the build whose source is a notebook in ``book/`` (the chapters)."""
    env = app.env
    out = []
    for doc in sorted(env.found_docs):
        if not doc.startswith(BOOK_DIR + "/"):
            continue
        if Path(env.doc2path(doc)).suffix == ".ipynb":
            out.append(doc)
    return out


def _executed_path(app: Any, doc: str) -> Path:
    return _build_root(app) / "jupyter_execute" / f"{doc}.ipynb"


def _glue_path(app: Any, doc: str) -> Path:
    return _build_root(app) / "jupyter_execute" / f"{doc}.glue.json"


def _records(app: Any) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``{doc: {"claims": [...], "figures": [...]}}`` from the executed notebooks' glue (cached).

    myst-nb moves the glued outputs of an executed notebook into ``<doc>.glue.json`` beside it
    (in cell order, one entry per key); our records ride in those outputs' metadata.
    """
    cached = getattr(app, "_infomech_records", None)
    if cached is not None:
        return cached
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for doc in _chapter_docs(app):
        path = _glue_path(app, doc)
        claims: list[dict[str, Any]] = []
        figures: list[dict[str, Any]] = []
        glue = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        for output in glue.values():
            meta = (output.get("metadata") or {}).get(META_KEY)
            if not meta:
                continue
            if "claim" in meta:
                claims.append(meta["claim"])
            if "figure" in meta:
                data = output.get("data", {})
                figures.append({"prov": meta["figure"], "svg": meta.get("svg"),
                                "png": data.get("image/png"), "cell": meta.get("cell"),
                                "width": (output.get("metadata") or {}).get("image/png", {}).get("width")})
        out[doc] = {"claims": claims, "figures": figures}
    app._infomech_records = out
    return out


def _figure_records(app: Any) -> list[dict[str, Any]]:
    """Provenance records of the figures of the chapters in this build, in book order."""
    env = app.env
    order = {doc: i for i, doc in enumerate(_toc_order(env))}
    labels = env.get_domain("std").labels
    records = []
    for doc, recs in _records(app).items():
        for fig in recs["figures"]:
            prov = dict(fig["prov"])
            name = prov.get("figure")
            docname, anchor = doc, ""
            label = labels.get(str(name).lower())
            if label:
                docname, anchor = label[0], label[1]
            number = ""
            if anchor:
                nums = env.toc_fignumbers.get(docname, {}).get("figure", {}).get(anchor)
                if nums:
                    number = ".".join(str(n) for n in nums)
            title = env.titles.get(docname)
            prov.update(name=name, docname=docname, anchor=anchor, number=number,
                        chapter_title=title.astext() if title is not None else docname,
                        has_png=fig["png"] is not None, has_svg=fig["svg"] is not None)
            records.append(prov)
    records.sort(key=lambda r: (order.get(r["docname"], 10**6),
                                [int(n) for n in r["number"].split(".")] if r["number"] else [10**6],
                                r["name"]))
    return records


def _book_title(app: Any) -> str:
    return str(getattr(app.config, "html_title", "") or app.config.project)


def _citation(app: Any, rec: dict[str, Any], title: str) -> str:
    base = (app.config.html_baseurl or "").rstrip("/")
    url = f"{base}/{rec['docname']}.html" + (f"#{rec['anchor']}" if rec["anchor"] else "")
    what = f"Figure {rec['number']}" if rec["number"] else f"Figure '{rec['name']}'"
    commit = str(rec.get("git_commit", "unknown"))[:12]
    return (f"infomech developers ({rec.get('build_date', '')[:4] or 'n.d.'}). {what} "
            f"({rec['name']}), in \"{title}\", chapter \"{rec['chapter_title']}\". "
            f"infomech {rec.get('infomech_version', '?')}, commit {commit}. {url}")


def _chapter_slug(docname: str) -> str:
    return docname.rsplit("/", 1)[-1]


def _figure_list_html(app: Any, fromdoc: str) -> str:
    records = _figure_records(app)
    if not records:
        return "<p><em>No figures in this build yet.</em></p>"
    rel = os.path.relpath("_static/figures", os.path.dirname(fromdoc) or ".").replace(os.sep, "/")
    e = html.escape
    chapters: list[tuple[str, str, list[dict[str, Any]]]] = []
    for rec in records:
        if not chapters or chapters[-1][0] != rec["docname"]:
            chapters.append((rec["docname"], rec["chapter_title"], []))
        chapters[-1][2].append(rec)
    out = ['<nav class="infomech-figure-index" aria-label="Figures by chapter"><ul>']
    for docname, title, recs in chapters:
        nums = ", ".join(f'<a href="#fig-entry-{e(r["name"])}">{e(r["number"] or r["name"])}</a>'
                         for r in recs)
        out.append(f'<li><a href="#chapter-{e(_chapter_slug(docname))}">{e(title)}</a> '
                   f'({len(recs)} figure{"s" if len(recs) != 1 else ""}): {nums}</li>')
    out.append("</ul></nav>")
    out.append('<div class="infomech-figure-list">')
    for docname, title, recs in chapters:
        chapter_uri = app.builder.get_relative_uri(fromdoc, docname)
        out.append(f'<section class="infomech-figure-chapter" id="chapter-{e(_chapter_slug(docname))}">')
        out.append(f'<h2><a href="{e(chapter_uri)}">{e(title)}</a></h2>')
        for rec in recs:
            out.append(_figure_entry_html(app, rec, fromdoc, rel))
        out.append("</section>")
    out.append("</div>")
    return "\n".join(out)


def _figure_entry_html(app: Any, rec: dict[str, Any], fromdoc: str, rel: str) -> str:
    e = html.escape
    name = rec["name"]
    target = app.builder.get_relative_uri(fromdoc, rec["docname"])
    if rec["anchor"]:
        target += f"#{rec['anchor']}"
    label = f"Figure {rec['number']}" if rec["number"] else name
    params = ", ".join(f"{k}={v}" for k, v in sorted(rec.get("params", {}).items()))
    out = [f'<section class="infomech-figure" id="fig-entry-{e(name)}">',
           f'<h3>{e(label)}: <code>{e(name)}</code></h3>']
    if rec["has_png"]:
        out.append(f'<a href="{e(target)}"><img class="infomech-thumb" src="{rel}/{e(name)}.png" '
                   f'alt="{e(label)} ({e(name)})" loading="lazy"/></a>')
    if rec.get("caption"):
        out.append(f"<p>{e(rec['caption'])}</p>")
    out.append(f'<p>In the chapter: <a href="{e(target)}">{e(rec["chapter_title"])}, {e(label)}</a></p>')
    if params:
        out.append(f'<p>Parameters: <code class="infomech-params">{e(params)}</code></p>')
    links = []
    if rec["has_png"]:
        links.append(f'<a href="{rel}/{e(name)}.png" download>PNG</a>')
    if rec["has_svg"]:
        links.append(f'<a href="{rel}/{e(name)}.svg" download>SVG</a>')
    links.append(f'<a href="{rel}/{e(name)}.json">provenance (JSON)</a>')
    if rec.get("code"):
        code = f'<code>{e(str(rec["code"]))}</code>'
        if rec.get("code_url"):
            code = f'<a href="{e(str(rec["code_url"]))}">{code}</a>'
        links.append(f"code: {code}")
    out.append("<p>Download: " + " · ".join(links) + "</p>")
    out.append(f"<p>Built {e(str(rec.get('build_date', '')))}, infomech "
               f"{e(str(rec.get('infomech_version', '')))}, commit "
               f"<code>{e(str(rec.get('git_commit', ''))[:12])}</code></p>")
    out.append('<p>Cite this figure:</p><div class="highlight-text notranslate">'
               '<div class="highlight"><pre class="infomech-cite">'
               f"{e(_citation(app, rec, _book_title(app)))}</pre></div></div>")
    out.append("</section>")
    return "\n".join(out)


def _figure_names(app: Any) -> set[str]:
    return {str(f["prov"].get("figure")) for recs in _records(app).values() for f in recs["figures"]}


def _cite_example_html(app: Any, fromdoc: str, name: str) -> str:
    rec = next((r for r in _figure_records(app) if r["name"] == name), None)
    if rec is None:
        raise ExtensionError(f"infomech-cite-example: no figure named {name!r} in this build")
    e = html.escape
    target = app.builder.get_relative_uri(fromdoc, rec["docname"]) + (f"#{rec['anchor']}" if rec["anchor"] else "")
    entry = app.builder.get_relative_uri(fromdoc, FIGURES_DOC) + f"#fig-entry-{name}"
    return ('<div class="highlight-text notranslate"><div class="highlight"><pre class="infomech-cite">'
            f"{e(_citation(app, rec, _book_title(app)))}</pre></div></div>"
            f'<p>(<a href="{e(target)}">the figure in its chapter</a> · '
            f'<a href="{e(entry)}">its Figures-page entry</a>)</p>')


def _doctree_resolved(app: Any, doctree: Any, docname: str) -> None:
    for node in list(doctree.findall(cite_example)):
        if app.builder.format != "html":
            node.replace_self([])
            continue
        node.replace_self(nodes.raw("", _cite_example_html(app, docname, node["figure"]), format="html"))
    for node in list(doctree.findall(figure_list)):
        if app.builder.format != "html":
            node.replace_self([])
            continue
        node.replace_self(nodes.raw("", _figure_list_html(app, docname), format="html"))
    if app.builder.format != "html" or not docname.startswith(BOOK_DIR + "/"):
        return
    names = _figure_names(app)
    if not names:
        return
    uri = app.builder.get_relative_uri(docname, FIGURES_DOC)
    for fig in list(doctree.findall(nodes.figure)):
        name = next((n for n in fig.get("names", []) if n in names), None)
        if name is None:
            continue
        ref = nodes.reference("", "PNG, SVG, provenance and citation of this figure",
                              refuri=f"{uri}#fig-entry-{name}", classes=["infomech-figure-data"])
        fig += nodes.legend("", nodes.paragraph("", "", ref), classes=["infomech-figure-legend"])


def _dedupe_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Drop repeated ``<script>`` entries: jupyter-book registers sphinx-thebe's inline config twice,
    and its second ``const THEBE_JS_URL`` is a JavaScript error on every page."""
    files = context.get("script_files")
    if not files:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for js in files:
        attrs = getattr(js, "attributes", {}) or {}
        key = (str(getattr(js, "filename", js) or ""), tuple(sorted((k, str(v)) for k, v in attrs.items())))
        if key in seen:
            continue
        seen.add(key)
        unique.append(js)
    files[:] = unique  # in place: later handlers (sphinx.ext.mathjax) append to this same list


def _claim_rows(app: Any) -> list[dict[str, Any]]:
    rows = []
    seen: dict[str, str] = {}
    for doc, recs in _records(app).items():
        for rec in recs["claims"]:
            key = rec["name"]
            if key in seen and seen[key] != doc:
                raise ExtensionError(f"infomech: claim {key!r} is published by both {seen[key]} and {doc}")
            seen[key] = doc
            rows.append({"chapter": rec.get("chapter", _chapter_slug(doc)), "key": key,
                         "value": rec["value"], "digits": rec.get("digits"), "rule": rec.get("rule"),
                         "params": rec.get("params") or {}, "code": rec.get("code"),
                         "page": f"{doc}.html"})
    order = {doc: i for i, doc in enumerate(_toc_order(app.env))}
    # one row per key: a value published twice in a chapter keeps its last value
    last = {r["key"]: r for r in rows}
    return sorted(last.values(), key=lambda r: (order.get(r["page"][:-5], 10**6), r["key"]))


def _for_download(nb: dict[str, Any], figures: list[dict[str, Any]]) -> dict[str, Any]:
    """The executed notebook as readers download it: each figure shown as an image output of the
    cell that drew it (myst-nb moved the glued figures out of the cells)."""
    from infomech.publish import cell_digest

    nb = copy.deepcopy(nb)
    by_cell: dict[str, list[dict[str, Any]]] = {}
    for fig in figures:
        if fig["png"] and fig["cell"] is not None:
            by_cell.setdefault(str(fig["cell"]), []).append(fig)
    placed = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        digest = cell_digest("".join(source) if isinstance(source, list) else source)
        for fig in by_cell.pop(digest, []):
            meta = {"image/png": {"width": fig["width"]}} if fig.get("width") else {}
            cell.setdefault("outputs", []).append({
                "output_type": "display_data", "metadata": meta,
                "data": {"image/png": fig["png"], "text/plain": f"Figure {fig['prov']['figure']}"}})
            placed += 1
    if placed != sum(1 for f in figures if f["png"]):
        raise ExtensionError("infomech: could not place every figure in the downloadable notebook")
    return nb


def _report_execution(app: Any) -> None:
    env = app.env
    read = getattr(app, "infomech_read", set())
    executed = getattr(app, "infomech_executed", set())  # by this build's pool
    lines = []
    total = 0.0
    order = {doc: i for i, doc in enumerate(_toc_order(env))}
    for doc in sorted(_chapter_docs(app), key=lambda d: order.get(d, 10**6)):
        data = (getattr(env, "nb_metadata", {}) or {}).get(doc, {}).get("exec_data") or {}
        runtime = data.get("runtime")
        if doc in executed and runtime is not None:
            total += float(runtime)
            lines.append(f"  {doc}: {float(runtime):6.1f} s")
        elif doc in read and runtime is not None:
            lines.append(f"  {doc}: from the execution cache (executed in {float(runtime):.1f} s "
                         "by an earlier build)")
        elif runtime is not None:
            lines.append(f"  {doc}: up to date (executed in {float(runtime):.1f} s earlier)")
        else:
            lines.append(f"  {doc}: no execution record")
    counts = getattr(app, "infomech_warm_counts", None)
    if counts:
        lines.append(f"  kernels: {counts['warm']} warm (forked with torch, scipy, matplotlib and "
                     f"scikit-learn imported), {counts['refused']} cold")
    LOGGER.info("infomech: chapter execution times\n" + "\n".join(lines)
                + f"\n  sum of the chapters' execution times this build: {total:.1f} s")


def _build_finished(app: Any, exc: Exception | None) -> None:
    if exc is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    shutil.copytree(_mathjax_dir(), outdir / "_static" / "mathjax", dirs_exist_ok=True)
    from infomech._io import atomic_write_bytes, atomic_write_text  # the book builds with infomech

    records = _records(app)
    empty = [doc for doc, recs in records.items() if not recs["claims"]]
    if empty:
        raise ExtensionError(
            "infomech: these chapters published no claims in their executed notebook: "
            + ", ".join(empty) + ". Their execution is missing or failed; run `make clean book`.")

    figdst = outdir / "_static" / "figures"
    if figdst.exists():
        shutil.rmtree(figdst)  # only this build's figures: no stale files of removed figures
    figdst.mkdir(parents=True)
    for recs in records.values():
        for fig in recs["figures"]:
            name = fig["prov"]["figure"]
            if fig["png"]:
                atomic_write_bytes(figdst / f"{name}.png", base64.b64decode(fig["png"]))
            if fig["svg"]:
                atomic_write_text(figdst / f"{name}.svg", fig["svg"])
            atomic_write_text(figdst / f"{name}.json", json.dumps(fig["prov"], indent=1, sort_keys=True) + "\n")

    for doc, recs in records.items():  # downloads: the notebooks as this build executed them
        src = _executed_path(app, doc)
        if src.is_file():
            nb = _for_download(json.loads(src.read_text(encoding="utf-8")), recs["figures"])
            atomic_write_text(outdir / "_sources" / f"{doc}.ipynb", json.dumps(nb, indent=1) + "\n")

    rows = _claim_rows(app)
    from infomech import __version__ as version
    from infomech.publish import git_commit

    doc = {"infomech_version": version, "git_commit": git_commit(), "n_claims": len(rows),
           "claims": rows, "source": "outputs of the executed chapter notebooks (infomech.publish)"}
    atomic_write_text(outdir / "claims.json", json.dumps(doc, indent=1, sort_keys=True) + "\n")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["chapter", "key", "value", "rule", "page"],
                            lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "value": row["value"] if isinstance(row["value"], str)
                         else json.dumps(row["value"]), "rule": row["rule"] or ""})
    atomic_write_text(outdir / "claims.csv", buf.getvalue())
    key = getattr(app, "infomech_exec_key", None)
    if key:
        atomic_write_text(_build_root(app) / KEY_FILE, key + "\n")
    _report_execution(app)


def setup(app: Any) -> dict[str, Any]:
    # chapters executed by the build inherit this: no progress bars in the built book
    os.environ.setdefault("INFOMECH_QUIET", "1")
    app.add_css_file("infomech.css")
    app.add_node(figure_list)
    app.add_node(cite_example)
    app.add_directive("infomech-cite-example", CiteExampleDirective)
    app.add_directive("infomech-figure-list", FigureListDirective)
    app.add_post_transform(PendingVerdicts)
    app.add_node(claim_text, html=(lambda self, node: None, lambda self, node: None))
    app.add_role("infomech-claim", claim_role)
    app.add_post_transform(ClaimTexts)
    app.connect("config-inited", _config_inited)
    app.connect("env-get-outdated", _always_outdated)
    app.connect("env-before-read-docs", _before_read)
    app.connect("source-read", _wait_for_execution)
    app.connect("env-updated", _collect_rest)
    app.connect("build-finished", _stop_pool_on_error, priority=100)
    app.connect("doctree-resolved", _doctree_resolved)
    app.connect("html-page-context", _dedupe_scripts, priority=1)  # before any handler that
    # returns a template name (emit_firstresult stops there)
    app.connect("build-finished", _build_finished, priority=400)  # before other extensions' hooks
    return {"version": "0.2", "parallel_read_safe": True, "parallel_write_safe": True}
