"""Shared helpers of the CLI tests (``tests/test_cli.py``, ``tests/test_cli_spectrum.py``).

:func:`cli` runs ``infomech ARGS`` through the real ``main()`` in this process; :func:`cli_process`
in a fresh interpreter, for the behaviours that need a process; :func:`one_error_line` asserts the
failure contract of every subcommand: the exit status, nothing on stdout, no traceback and exactly
one line on stderr.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from infomech.cli import main

ENV = dict(os.environ, INFOMECH_QUIET="1", OMP_NUM_THREADS="1")


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``infomech ARGS`` through the real ``main()`` in this process (in ``cwd``), as a process result."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        code = main(list(args))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def cli_process(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 180,
                command: list[str] | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``python -m infomech ARGS`` (or ``command ARGS``) in a fresh interpreter."""
    argv = (command or [sys.executable, "-m", "infomech"]) + list(args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=env or ENV, **kwargs)


def one_error_line(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """Assert the failure contract (status ``code``, nothing on stdout, no traceback, exactly one
    line on stderr) and return the line."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]
