"""The README's quick-starts run: every ```python and ```sh block, as a user would paste it.

```bash`` blocks are not run (they hold ``make book``/``make test`` and machine-specific paths).
The Python blocks run in one fresh interpreter each, the shell blocks with ``bash -e`` and the
project's venv first on ``PATH``; both in an empty temporary directory. In the shell blocks each
``infomech`` command runs in a process of its own forked from one interpreter that imported the
library once (``tests/forked_cli.py``: the real ``main()`` with the command's arguments, streams,
directory and environment), which saves ~3.5 s of CPU per command.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from forked_cli import forked_infomech

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


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory):
    """``env()`` with the forked ``infomech`` client first on ``PATH`` (one server per module)."""
    with forked_infomech(tmp_path_factory.mktemp("forked"), env()) as bin_dir:
        e = env()
        e["PATH"] = f"{bin_dir}{os.pathsep}{e['PATH']}"
        assert shutil.which("infomech", path=e["PATH"]) == str(bin_dir / "infomech")
        yield e


def test_forked_commands_keep_their_streams_status_and_directory(tmp_path, shell_env):
    """What the shell block relies on: a failing command's status and one line reach the script."""
    script = ("infomech speed --bogus || echo \"status $?\"\n"
              "infomech decompose '[[0,1,0],[0,1,1],[0,0,0]]' --json k.json\n"
              "infomech speed --beta2 0,1 --size 41 --csv | head -n 1\n")
    proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], capture_output=True,
                          text=True, cwd=tmp_path, env=shell_env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "status 2" and lines[1].startswith("kernel [[0,1,0],[0,1,1],[0,0,0]] (3x3)")
    assert lines[-1].startswith("t,beta2,speed,") and "infomech_version" in lines[-1]
    assert proc.stderr == "infomech: error: unrecognized arguments: --bogus\n"
    assert (tmp_path / "k.json").read_text().startswith("[")


@pytest.mark.parametrize("i", range(len(blocks("sh"))))
def test_shell_block_runs(tmp_path, i, shell_env):
    proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", blocks("sh")[i]], capture_output=True,
                          text=True, cwd=tmp_path, env=shell_env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "speed.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "speed.csv").read_text().startswith("t,beta2,")
