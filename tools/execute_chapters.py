"""Execute the book's chapter notebooks in parallel into the build's execution cache.

``make book`` runs this before ``jupyter-book build .``: the build then finds every chapter in
jupyter-cache and only renders. It executes exactly as myst-nb's ``cache`` mode does (jupyter-cache's
``single_nb_execution`` with the ``execute:`` settings of ``_config.yml``, the notebook's folder as
working directory, the same environment), only several chapters at a time, so the book's outputs
do not change. It first applies the build extension's rule for a stale build
(:func:`infomech_site.drop_stale_executions`: a changed library, pin or extension drops every
execution), then executes the chapters the cache does not hold. A chapter that fails stops here
with its name and error (exit 1); the build would fail on it too.

Usage: python tools/execute_chapters.py [--jobs N] [--root DIR]
(default: the number of CPUs, at most 4; the project at the repository root)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _site_extension(root: Path):
    """The project's build extension (``book/_ext/infomech_site.py``): one rule for what is stale."""
    sys.path.insert(0, str(root / "book" / "_ext"))
    import infomech_site

    return infomech_site


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The ``.ipynb`` files named in ``_toc.yml``, in table-of-contents order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    found: list[Path] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    path = root / node[key]
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


def _execute(path: str, timeout: int | None, allow_errors: bool) -> tuple[str, str, float, str | None]:
    """Worker: execute one notebook; returns (path, executed notebook JSON, seconds, error)."""
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.read(path, as_version=4)
    result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout,
                                 allow_errors=allow_errors, meta_override=True)
    error = None if result.err is None else f"{type(result.err).__name__}: {result.err}"
    return path, nbformat.writes(nb), float(result.time), error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                        help="chapters executed at once (default: CPUs, at most 4)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the book project (default: this repository)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    root = args.root.resolve()
    infomech_site = _site_extension(root)

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    execute = config.get("execute", {})
    if execute.get("execute_notebooks") != "cache" or execute.get("run_in_temp"):
        print("execute_chapters: _config.yml does not use the cache mode in place; nothing to do")
        return 0
    build = root / "_build"
    cache_dir = root / execute.get("cache", "_build/.jupyter_cache")
    key, dropped = infomech_site.drop_stale_executions(root, build, build / ".doctrees", cache_dir)
    if dropped:
        print("execute_chapters: library, pins or extension changed: every chapter runs again")
    os.environ.setdefault("INFOMECH_QUIET", "1")  # as the build extension sets it
    if args.jobs > 1:
        # one thread per chapter: several torch threads per kernel on a shared core stall (a 2-thread
        # grouped conv runs ~2x slower than a 1-thread one when the other core is busy); the
        # chapters' numbers do not depend on the thread count (make nbval checks both)
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")

    cache = get_cache(str(cache_dir))
    todo = []
    for path in toc_notebooks(root):
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            todo.append(path)
    build.mkdir(parents=True, exist_ok=True)
    if not todo:
        (build / infomech_site.KEY_FILE).write_text(key + "\n", encoding="utf-8")
        print("execute_chapters: every chapter is in the cache")
        return 0
    # biggest (most figures) first, so the pool finishes together
    todo.sort(key=lambda p: p.stat().st_size, reverse=True)
    jobs = min(args.jobs, len(todo))
    print(f"execute_chapters: {len(todo)} chapters, {jobs} at a time", flush=True)
    t0 = time.perf_counter()
    failed = []
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_execute, str(p), execute.get("timeout"),
                               bool(execute.get("allow_errors", False))) for p in todo]
        for future in as_completed(futures):
            path, text, seconds, error = future.result()
            rel = Path(path).relative_to(root)
            if error is not None:
                failed.append(f"{rel}: {error}")
                print(f"  {rel}: FAILED after {seconds:.1f} s", flush=True)
                continue
            record = cache.add_nb_to_project(path)
            cache.cache_notebook_bundle(
                CacheBundleIn(nbformat.reads(text, as_version=4), record.uri,
                              data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True)
            print(f"  {rel}: {seconds:.1f} s", flush=True)
    print(f"execute_chapters: done in {time.perf_counter() - t0:.1f} s", flush=True)
    if failed:
        print("execute_chapters: chapters failed to execute:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    (build / infomech_site.KEY_FILE).write_text(key + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
