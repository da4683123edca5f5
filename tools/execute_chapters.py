"""Execute the book's chapter notebooks in parallel into the build's execution cache, without building.

``jupyter-book build .`` does this by itself (the book extension, ``book/_ext/infomech_site.py``,
executes the chapters the cache lacks in parallel while Sphinx reads the other pages); this tool
only fills the cache, e.g. to time the chapters or to execute them on one machine and build on
another. It executes exactly as the build does (:func:`infomech_site.execute_notebook`), after
applying the build's rule for a stale cache (:func:`infomech_site.drop_stale_executions`: a changed
library, pin or extension drops every execution). A chapter that fails stops here with its name
and error (exit 1).

Usage: python tools/execute_chapters.py [--jobs N] [--root DIR]
(default: INFOMECH_JOBS, else the number of CPUs, at most 4; the project at the repository root)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import as_completed
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _site_extension(root: Path):
    """The project's build extension (``book/_ext/infomech_site.py``): one rule for what is stale."""
    sys.path.insert(0, str(root / "book" / "_ext"))
    import infomech_site

    return infomech_site


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=None,
                        help="chapters executed at once (default: INFOMECH_JOBS, else CPUs, at most 4)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the book project (default: this repository)")
    args = parser.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be >= 1")
    root = args.root.resolve()
    site = _site_extension(root)

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    execute = config.get("execute", {})
    if execute.get("execute_notebooks") != "cache" or execute.get("run_in_temp"):
        print("execute_chapters: _config.yml does not use the cache mode in place; nothing to do")
        return 0
    build = root / "_build"
    cache_dir = root / execute.get("cache", "_build/.jupyter_cache")
    key, dropped = site.drop_stale_executions(root, build, build / ".doctrees", cache_dir)
    if dropped:
        print("execute_chapters: library, pins or extension changed: every chapter runs again")
    os.environ.setdefault("INFOMECH_QUIET", "1")  # as the build extension sets it

    todo = site.uncached_notebooks(site.toc_notebooks(root), cache_dir)
    build.mkdir(parents=True, exist_ok=True)
    if not todo:
        (build / site.KEY_FILE).write_text(key + "\n", encoding="utf-8")
        print("execute_chapters: every chapter is in the cache")
        return 0
    jobs = min(args.jobs or site.parallel_jobs(), len(todo))
    print(f"execute_chapters: {len(todo)} chapters, {jobs} at a time", flush=True)
    t0 = time.perf_counter()
    failed = []
    pool = site.start_pool(jobs)
    server, kernel = site.start_warm_kernels(len(todo))  # before the workers: the same environment
    with pool:
        futures = [pool.submit(site.execute_notebook, str(p), execute.get("timeout"),
                               bool(execute.get("allow_errors", False)), kernel) for p in todo]
        for future in as_completed(futures):
            path, text, seconds, error = future.result()
            rel = Path(path).relative_to(root)
            if error is not None:
                failed.append(f"{rel}: {error}")
                print(f"  {rel}: FAILED after {seconds:.1f} s", flush=True)
                continue
            site.store_execution(cache_dir, path, text, seconds)
            print(f"  {rel}: {seconds:.1f} s", flush=True)
    counts = site.stop_warm_kernels(server)
    print(f"execute_chapters: done in {time.perf_counter() - t0:.1f} s "
          f"({counts['warm']} warm kernels, {counts['refused']} cold)", flush=True)
    if failed:
        print("execute_chapters: chapters failed to execute:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    (build / site.KEY_FILE).write_text(key + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
