"""Execute chapter notebooks in place (outputs committed for nbval), from their own directory.

Usage: python tools/run_notebook.py book/some-chapter.ipynb [...]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run(path: Path) -> float:
    # as the book build runs them: no progress bars in the outputs, the figure backend headless
    os.environ.setdefault("INFOMECH_QUIET", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    dt = time.perf_counter() - t0
    nbformat.write(nb, path)
    return dt


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python tools/run_notebook.py NOTEBOOK.ipynb [...]")
    for arg in sys.argv[1:]:
        p = Path(arg)
        print(f"{p}: executed in {run(p):.1f} s")
