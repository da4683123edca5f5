"""nbval's kernels (``book/conftest.py``) connect over Unix sockets in a folder of their own, as the
book build's kernels do, not over TCP ports that another process can take before the kernel binds
them. Checked the way ``make nbval`` runs: pytest with ``--nbval-lax`` and the book's conftest, on
a notebook whose checked cell prints the kernel's transport."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
PROBE = ("import json, os\nfrom ipykernel.connect import get_connection_info\n"
         "info = json.loads(get_connection_info())\n"
         "print(info['transport'], os.path.basename(os.path.dirname(info['ip']))[:15])")


def test_nbval_kernels_connect_over_private_unix_sockets(tmp_path) -> None:
    shutil.copy(ROOT / "book" / "conftest.py", tmp_path / "conftest.py")
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(PROBE, metadata={"tags": ["nbval-check-output"]})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ipc infomech-kernel\n")]
    cell.execution_count = 1
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "probe.ipynb")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                          "probe.ipynb"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout
