"""Sphinx extension for the infomech book: offline MathJax, the Figures page, the claims ledger.

What it does during ``jupyter-book build .``:

* removes a duplicated inline script (sphinx-thebe's config, registered twice by jupyter-book);
* sets ``INFOMECH_QUIET=1`` so the notebooks executed by the build show no progress bars;
* serves MathJax 3 from the site itself (``_static/mathjax``, copied from the PyPI package
  ``sphinx-mathjax-offline``), so maths renders with the network off;
* replaces the ``{infomech-figure-list}`` directive (``book/figures.md``) by a list of every figure
  found in ``book/_static/figures/*.json`` (the provenance files written by
  :func:`infomech.publish.save_figure`), with thumbnail, caption, chapter anchor, PNG/SVG/JSON
  downloads and a citation line;
* after the build, copies the figure files into ``_static/figures/`` of the site and merges the
  chapters' ledgers ``book/_ledger/*.json`` into ``claims.json`` and ``claims.csv`` beside the HTML.

Only chapters that are part of the build contribute figures and claims (stale files of removed
notebooks are ignored).
"""

from __future__ import annotations

import csv
import html
import importlib.util
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.transforms.post_transforms import SphinxPostTransform

BOOK_DIR = "book"  # chapters live in <srcdir>/book
MATHJAX_PACKAGE = "sphinx-mathjax-offline"
MATHJAX_ENTRY = "mathjax/tex-chtml.js"
ALWAYS_REWRITE = ("book/figures", "book/intro")


class figure_list(nodes.General, nodes.Element):  # noqa: N801  (docutils node naming)
    """Placeholder replaced by the figure list once every chapter has been read."""


class FigureListDirective(Directive):
    has_content = False

    def run(self) -> list[nodes.Node]:
        return [figure_list("")]


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


def _config_inited(app: Any, config: Any) -> None:
    os.environ.setdefault("INFOMECH_QUIET", "1")
    _mathjax_dir()  # fail early when the offline copy is missing
    config.mathjax_path = MATHJAX_ENTRY


def _always_outdated(app: Any, env: Any, added: set, changed: set, removed: set) -> list[str]:
    return [doc for doc in ALWAYS_REWRITE if doc in env.found_docs]


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


def _chapter_doc(chapter: str) -> str:
    return f"{BOOK_DIR}/{chapter}"


def _figure_records(app: Any) -> list[dict[str, Any]]:
    """Provenance records of the figures of the chapters in this build, in book order."""
    env = app.env
    figdir = Path(app.srcdir) / BOOK_DIR / "_static" / "figures"
    order = {doc: i for i, doc in enumerate(_toc_order(env))}
    labels = env.get_domain("std").labels
    records = []
    for path in sorted(figdir.glob("*.json")):
        try:
            prov = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        name = prov.get("figure") or path.stem
        chapter_doc = _chapter_doc(str(prov.get("chapter", "")))
        if chapter_doc not in env.found_docs:
            continue
        docname, anchor = chapter_doc, ""
        label = labels.get(name.lower())
        if label:
            docname, anchor = label[0], label[1]
        number = ""
        if anchor:
            nums = env.toc_fignumbers.get(docname, {}).get("figure", {}).get(anchor)
            if nums:
                number = ".".join(str(n) for n in nums)
        prov.update(
            name=name, docname=docname, anchor=anchor, number=number,
            has_png=(figdir / f"{name}.png").is_file(), has_svg=(figdir / f"{name}.svg").is_file(),
        )
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


def _figure_list_html(app: Any, fromdoc: str) -> str:
    env = app.env
    records = _figure_records(app)
    if not records:
        return "<p><em>No figures in this build yet.</em></p>"
    rel = os.path.relpath("_static/figures", os.path.dirname(fromdoc) or ".").replace(os.sep, "/")
    out = ['<div class="infomech-figure-list">']
    for rec in records:
        name = rec["name"]
        title = env.titles.get(rec["docname"])
        rec["chapter_title"] = title.astext() if title is not None else rec["docname"]
        target = app.builder.get_relative_uri(fromdoc, rec["docname"])
        if rec["anchor"]:
            target += f"#{rec['anchor']}"
        label = f"Figure {rec['number']}" if rec["number"] else name
        params = ", ".join(f"{k}={v}" for k, v in sorted(rec.get("params", {}).items()))
        e = html.escape
        out.append(f'<section class="infomech-figure" id="fig-entry-{e(name)}">')
        out.append(f'<h2>{e(label)}: <code>{e(name)}</code></h2>')
        if rec["has_png"]:
            out.append(f'<a href="{e(target)}"><img class="infomech-thumb" '
                       f'src="{rel}/{e(name)}.png" alt="{e(name)}" '
                       f'style="max-width:320px;height:auto;border:1px solid #ddd"/></a>')
        if rec.get("caption"):
            out.append(f"<p>{e(rec['caption'])}</p>")
        out.append(f'<p>Chapter: <a href="{e(target)}">{e(rec["chapter_title"])}</a>'
                   + (f" (anchor <code>#{e(rec['anchor'])}</code>)" if rec["anchor"] else "")
                   + "</p>")
        if params:
            out.append(f"<p>Parameters: <code>{e(params)}</code></p>")
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
                   f"<code>{e(str(rec.get('git_commit', '')))}</code></p>")
        out.append('<p>Cite this figure:</p><div class="highlight-text notranslate">'
                   '<div class="highlight"><pre style="white-space:pre-wrap">'
                   f"{e(_citation(app, rec, _book_title(app)))}</pre></div></div>")
        out.append("</section>")
    out.append("</div>")
    return "\n".join(out)


def _doctree_resolved(app: Any, doctree: Any, docname: str) -> None:
    for node in list(doctree.findall(figure_list)):
        if app.builder.format != "html":
            node.replace_self([])
            continue
        node.replace_self(nodes.raw("", _figure_list_html(app, docname), format="html"))


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


def _ledger(app: Any) -> list[dict[str, Any]]:
    ledger_dir = Path(app.srcdir) / BOOK_DIR / "_ledger"
    order = {doc: i for i, doc in enumerate(_toc_order(app.env))}
    rows = []
    for path in sorted(ledger_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        chapter = str(data.get("chapter", path.stem))
        if _chapter_doc(chapter) not in app.env.found_docs:
            continue
        for key, value in sorted(data.get("values", {}).items()):
            rows.append({"chapter": chapter, "key": key, "value": value,
                         "page": f"{_chapter_doc(chapter)}.html"})
    rows.sort(key=lambda r: (order.get(_chapter_doc(r["chapter"]), 10**6), r["key"]))
    return rows


def _build_finished(app: Any, exc: Exception | None) -> None:
    if exc is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    shutil.copytree(_mathjax_dir(), outdir / "_static" / "mathjax", dirs_exist_ok=True)

    figsrc = Path(app.srcdir) / BOOK_DIR / "_static" / "figures"
    figdst = outdir / "_static" / "figures"
    figdst.mkdir(parents=True, exist_ok=True)
    for rec in _figure_records(app):
        for ext in ("png", "svg", "json"):
            src = figsrc / f"{rec['name']}.{ext}"
            if src.is_file():
                shutil.copy2(src, figdst / src.name)

    rows = _ledger(app)
    from infomech.publish import atomic_write_text  # the book builds with infomech installed

    try:
        from infomech import __version__ as version
    except ImportError:  # pragma: no cover
        version = "unknown"
    try:
        from infomech.publish import git_commit
        commit = git_commit()
    except ImportError:  # pragma: no cover
        commit = "unknown"
    doc = {"infomech_version": version, "git_commit": commit,
           "claims": rows, "source": "book/_ledger/*.json (infomech.publish.publish)"}
    atomic_write_text(outdir / "claims.json", json.dumps(doc, indent=1, sort_keys=True) + "\n")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["chapter", "key", "value", "page"],
                            lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "value": json.dumps(row["value"])
                         if not isinstance(row["value"], str) else row["value"]})
    atomic_write_text(outdir / "claims.csv", buf.getvalue())


def setup(app: Any) -> dict[str, Any]:
    # chapters executed by the build inherit this: no progress bars in the built book
    os.environ.setdefault("INFOMECH_QUIET", "1")
    app.add_node(figure_list)
    app.add_directive("infomech-figure-list", FigureListDirective)
    app.add_post_transform(PendingVerdicts)
    app.connect("config-inited", _config_inited)
    app.connect("env-get-outdated", _always_outdated)
    app.connect("doctree-resolved", _doctree_resolved)
    app.connect("html-page-context", _dedupe_scripts, priority=1)  # before any handler that
    # returns a template name (emit_firstresult stops there)
    app.connect("build-finished", _build_finished)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
