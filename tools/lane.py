"""Run one lane of ``make test`` in a session of its own, so that it gets its own CPU share.

Linux (with ``CONFIG_SCHED_AUTOGROUP``, the default on desktops and on this project's CI machine)
shares the CPU between *sessions* first and between the processes of a session second. A lane
started from a shell that also runs another CPU-bound job would split one share with that job
(``nice`` only orders the processes inside a session). Jupyter kernels (cold or warm) and
Chromium already start sessions of their own. This puts each lane's own processes (pytest,
Sphinx) in a new session, at the default weight: a lane yields to other work no more than any
session does.

Ctrl-C and ``kill`` still reach the lane: SIGINT, SIGTERM and SIGHUP are passed on to its whole
process group. The exit status is the lane's (128 + signal number when a signal ended it).

Usage: python tools/lane.py [--] COMMAND [ARGS...]
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    proc = subprocess.Popen(argv, start_new_session=True)

    def forward(signum: int, frame: object) -> None:
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    code = proc.wait()
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
