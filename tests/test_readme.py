"""The README's quick-starts run: every ```python and ```sh block, as a user would paste it.

```bash`` blocks are not run (they hold ``make book``/``make test`` and machine-specific paths).
The Python blocks run in one fresh interpreter each, the shell blocks with ``bash -e`` and the
project's venv first on ``PATH``; both in an empty temporary directory.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks(lang: str) -> list[str]:
    return [body for tag, body in FENCE.findall(README.read_text(encoding="utf-8")) if tag == lang]


def env() -> dict[str, str]:
    e = dict(os.environ, INFOMECH_QUIET="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    e["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{e.get('PATH', '')}"
    return e


def test_readme_has_both_quick_starts():
    assert len(blocks("python")) >= 1 and len(blocks("sh")) >= 1
    text = README.read_text(encoding="utf-8")
    assert "## Python quick-start" in text and "## Your own kernels, images and networks" in text


@pytest.mark.parametrize("i", range(len(blocks("python"))))
def test_python_block_runs(tmp_path, i):
    proc = subprocess.run([sys.executable, "-c", blocks("python")[i]], capture_output=True, text=True,
                          cwd=tmp_path, env=env(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "beta^2:" in proc.stdout and "DC + two gradients:" in proc.stdout


@pytest.mark.parametrize("i", range(len(blocks("sh"))))
def test_shell_block_runs(tmp_path, i):
    proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", blocks("sh")[i]], capture_output=True,
                          text=True, cwd=tmp_path, env=env(), timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "speed.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "speed.csv").read_text().startswith("t,beta2,")
