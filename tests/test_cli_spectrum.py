"""``infomech spectrum`` through the real entry point (``python -m infomech``).

OWNER: the networks helper (infomech/cli/spectrum.py). These tests were moved here from
tests/test_robustness.py and tests/test_cli.py (the speed/decompose CLI tests stay in
tests/test_cli.py), so that every spectrum CLI behaviour has one home. The failure contract is the
one of tests/test_cli.py: one line on stderr naming the input, exit status 2, no traceback,
nothing on stdout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ENV = dict(os.environ, INFOMECH_QUIET="1", OMP_NUM_THREADS="1")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infomech", *args], capture_output=True, text=True,
                          timeout=120, env=ENV)


def _one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


CASES = [
    (["spectrum", "no_such_net"], "no_such_net"),
    (["spectrum", "/nonexistent/weights.pth"], "weights.pth"),
    (["spectrum", "random", "--kernel-size", "0"], "kernel size"),
    (["spectrum", "random", "--kernel-size", "x"], "--kernel-size"),
    (["spectrum"], "SOURCE"),
]


@pytest.mark.parametrize(("args", "named"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_cli_bad_flags(args, named):
    line = _one_line(_cli(*args))
    assert "error:" in line and named in line


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_cli_corrupt_weight_file(tmp_path):
    line = _one_line(_cli("spectrum", str(_write(tmp_path / "garbage.pth", b"\x00\x01garbage" * 20))))
    assert "cannot read weights file" in line and "garbage.pth" in line


@pytest.mark.parametrize("make,match", [
    (lambda d: d, "is a directory"),
    (lambda d: _write(d / "empty.onnx", b""), "the file is empty"),
    (lambda d: _write(d / "bad.npz", b"garbage"), "not a readable .npz"),
])
def test_spectrum_file_errors_are_specific(tmp_path, make, match):
    line = _one_line(_cli("spectrum", str(make(tmp_path))))
    assert match in line
