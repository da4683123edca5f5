"""The built book never shows claims it did not compute (issue: build state).

A miniature book (one chapter, the real book extension, a copy of the real library) is built with
jupyter-book and then put through the scenarios that once left the real book wrong:

1. side files deleted: the executed notebooks and glue files of the build are removed by hand;
2. a chapter run partly, interactively, elsewhere (as nbval or a Jupyter session would);
3. library code edited: the chapter must be re-executed and the HTML and claims.json must change.

After each, the HTML, ``claims.json`` and the Figures page must agree with a complete execution.
Also checked: the SmallCNN cache lives in the project's build folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
JB = Path(sys.executable).with_name("jupyter-book")

pytestmark = pytest.mark.skipif(not JB.exists(), reason="jupyter-book is not installed")

CHAPTER = [
    ("markdown", "# Demo chapter\n\nThe value is {glue:text}`demo-value` and its double "
                 "{glue:text}`demo-double`.\n"),
    ("code", "import matplotlib.pyplot as plt\n\nfrom infomech import _demo\n"
             "from infomech.publish import publish, save_figure\n"),
    ("code", "publish('demo-value', _demo.VALUE, chapter='demo', digits=3)\n"
             "publish('verdict-demo', 'Holds: demo', chapter='demo')\n"
             "publish('demo-math', r'speed $\\beta^2$ law', chapter='demo')\n"),
    ("code", "publish('demo-double', 2 * _demo.VALUE, chapter='demo', digits=3)\n"
             "fig, ax = plt.subplots(figsize=(4, 3))\nax.plot([0, 1], [0, _demo.VALUE])\n"
             "save_figure(fig, 'fig-demo', chapter='demo', params={'value': _demo.VALUE})\n"),
    ("markdown", "```{glue:figure} fig-demo\n:name: fig-demo\n\nThe demo figure.\n```\n"),
]


def _project(tmp: Path) -> Path:
    proj = tmp / "book-project"
    shutil.copytree(ROOT / "infomech", proj / "infomech", ignore=shutil.ignore_patterns("__pycache__"))
    (proj / "infomech" / "_demo.py").write_text("VALUE = 1.25\n")
    shutil.copytree(ROOT / "book" / "_ext", proj / "book" / "_ext",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml",):
        shutil.copy2(ROOT / name, proj / name)
    (proj / "requirements").mkdir()
    shutil.copy2(ROOT / "requirements" / "lock.txt", proj / "requirements" / "lock.txt")
    (proj / "_config.yml").write_text(
        "title: demo\nonly_build_toc_files: true\n"
        "execute:\n  execute_notebooks: cache\n  cache: _build/.jupyter_cache\n  run_in_temp: false\n"
        "  raise_on_error: true\n  timeout: 120\n"
        "sphinx:\n  local_extensions:\n    infomech_site: book/_ext\n"
        "  config:\n    numfig: true\n    suppress_warnings: ['mystnb.unknown_mime_type']\n")
    (proj / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n"
                                   "  - file: book/demo\n  - file: book/figures\n")
    (proj / "book" / "intro.md").write_text(
        "# Intro\n\nDemo verdict: {glue:text}`demo.ipynb::verdict-demo:s`.\n\n"
        "Maths from a chapter: {infomech-claim}`demo.ipynb::demo-math`.\n")
    (proj / "book" / "figures.md").write_text("# Figures\n\n```{infomech-figure-list}\n```\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
                for kind, src in CHAPTER]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, proj / "book" / "demo.ipynb")
    return proj


def _env(proj: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(proj), INFOMECH_QUIET="1", MPLBACKEND="Agg",
               OMP_NUM_THREADS="1")
    return env


def _build(proj: Path) -> str:
    out = subprocess.run([str(JB), "build", "."], cwd=proj, env=_env(proj), capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout + out.stderr


def _claims(proj: Path) -> dict:
    doc = json.loads((proj / "_build" / "html" / "claims.json").read_text())
    return {row["key"]: row["value"] for row in doc["claims"]}


def _html(proj: Path, page: str) -> str:
    return (proj / "_build" / "html" / "book" / f"{page}.html").read_text(encoding="utf-8")


def _assert_complete(proj: Path, value: float) -> None:
    claims = _claims(proj)
    assert claims == {"demo-value": value, "demo-double": round(2 * value, 3), "verdict-demo": "Holds: demo",
                      "demo-math": r"speed $\beta^2$ law"}
    html = _html(proj, "demo")
    assert f'The value is <span class="pasted-text">{value}</span>' in html
    assert "<img" in html.split('id="fig-demo"', 1)[1].split("</figure>", 1)[0]
    figures = _html(proj, "figures")
    assert 'id="fig-entry-fig-demo"' in figures
    prov = json.loads((proj / "_build" / "html" / "_static" / "figures" / "fig-demo.json").read_text())
    assert prov["params"] == {"value": value}
    intro = _html(proj, "intro")
    assert 'Demo verdict: <span class="pasted-text">Holds: demo</span>' in intro
    assert r'speed <span class="math notranslate nohighlight">\(\beta^2\)</span> law' in intro
    download = json.loads((proj / "_build" / "html" / "_sources" / "book" / "demo.ipynb").read_text())
    images = [o for c in download["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 1, "the downloadable notebook must show the figure"


FIRST_LOG: list[str] = []


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    proj = _project(tmp_path_factory.mktemp("build-state"))
    FIRST_LOG.append(_build(proj))
    return proj


def test_a_fresh_build_is_complete(project):
    _assert_complete(project, 1.25)
    # the extension executed the chapter in its pool; myst-nb found it in the cache
    assert "infomech: executing 1 chapters, 1 at a time" in FIRST_LOG[0]
    assert "Using cached notebook" in FIRST_LOG[0] and "Executing notebook" not in FIRST_LOG[0]
    assert re.search(r"book/demo: +\d+\.\d s\n", FIRST_LOG[0])  # executed by this build
    assert not re.search(r"this build: 0\.0 s", FIRST_LOG[0])


def test_deleted_build_files_and_a_partial_interactive_run_do_not_change_the_book(project):
    before = (project / "_build" / "html" / "claims.json").read_bytes()
    for name in ("demo.ipynb", "demo.glue.json"):
        (project / "_build" / "jupyter_execute" / "book" / name).unlink()
    # a reader runs only the first cells of the chapter, in the chapter's folder
    nb = nbformat.read(project / "book" / "demo.ipynb", as_version=4)
    nb.cells = nb.cells[:3]
    from nbclient import NotebookClient

    os.environ.update(PYTHONPATH=str(project))  # the kernel imports the project's copy
    try:
        NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(project / "book")}}).execute()
    finally:
        os.environ.pop("PYTHONPATH", None)
    log = _build(project)
    _assert_complete(project, 1.25)
    # read again from the execution cache, not executed: its time is not this build's
    assert "book/demo: from the execution cache (executed in" in log
    assert "sum of the chapters' execution times this build: 0.0 s" in log
    assert (project / "_build" / "html" / "claims.json").read_bytes() == before  # byte-identical


def test_editing_the_library_re_executes_the_chapter(project):
    (project / "infomech" / "_demo.py").write_text("VALUE = 2.5\n")
    log = _build(project)
    assert "re-executing every chapter" in log
    _assert_complete(project, 2.5)


def _pre_execute(proj: Path) -> str:
    """Run tools/execute_chapters.py on the project (fills the execution cache, builds nothing)."""
    tool = [sys.executable, str(ROOT / "tools" / "execute_chapters.py"), "--root", str(proj), "--jobs", "2"]
    out = subprocess.run(tool, cwd=proj, env=_env(proj), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


def test_two_cold_builds_give_identical_claims(project, tmp_path):
    """A second cold build gives a byte-identical claims.json."""
    first = (project / "_build" / "html" / "claims.json").read_bytes()
    shutil.rmtree(project / "_build")
    log = _build(project)
    assert "infomech: executing 1 chapters" in log and "Executing notebook" not in log
    assert (project / "_build" / "html" / "claims.json").read_bytes() == first


def test_a_library_edit_is_caught_by_the_parallel_pre_execution(project):
    """tools/execute_chapters.py applies the build's staleness rule: after a library edit it
    re-executes the chapter, and the build (which then executes nothing) shows the new value."""
    (project / "infomech" / "_demo.py").write_text("VALUE = 5.0\n")
    assert "every chapter runs again" in _pre_execute(project)
    log = _build(project)
    assert "Executing notebook" not in log and "infomech: executing" not in log
    _assert_complete(project, 5.0)


def test_a_chapter_that_fails_stops_the_build_with_its_name(project):
    """An error in a chapter's execution fails the build and names the chapter and the error."""
    path = project / "book" / "demo.ipynb"
    good = path.read_bytes()
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('demo failure')"))
    nbformat.write(nb, path)
    try:
        out = subprocess.run([str(JB), "build", "."], cwd=project, env=_env(project),
                             capture_output=True, text=True, timeout=600)
    finally:
        path.write_bytes(good)
    log = out.stdout + out.stderr
    assert out.returncode != 0, log[-2000:]
    assert "infomech: chapter book/demo failed to execute" in log, log[-3000:]
    assert "demo failure" in log, log[-3000:]


def test_the_build_refuses_unrendered_figures(project):
    """INFOMECH_FIGURES=check (nbval's layout-only mode) must never reach a built book."""
    from infomech import publish

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    import infomech_site

    assert infomech_site.FIGURES_ENV == publish.FIGURES_ENV
    out = subprocess.run([str(JB), "build", "."], cwd=project, capture_output=True, text=True,
                         env=dict(_env(project), INFOMECH_FIGURES="check"), timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode != 0, log[-2000:]
    assert "infomech: INFOMECH_FIGURES=check would leave the book's figures unrendered" in log


def test_smallcnn_cache_lives_in_the_build_folder(monkeypatch):
    from infomech import smallcnn

    monkeypatch.delenv("INFOMECH_CACHE_DIR", raising=False)
    assert smallcnn.cache_dir().resolve() == (ROOT / "_build" / "cache").resolve()
