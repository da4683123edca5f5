"""Run one lane of ``make test`` in a session of its own, so that it gets its own CPU share.

Linux (with ``CONFIG_SCHED_AUTOGROUP``, the default on desktops and this project's CI machine)
shares the CPU between *sessions* first and between the processes of a session second. A lane
started from the shell that also runs another CPU-bound job would split one share with that job;
``nice`` only orders the processes inside a session. Jupyter already starts each kernel in a
session of its own, and Chromium does too. This puts each lane's own processes (pytest, Sphinx)
in a new session as well and, with ``--nice N``, lowers that session's weight
(``/proc/self/autogroup``) so that the lanes off the critical path yield to the one on it.

Ctrl-C and ``kill`` still reach the lane: SIGINT, SIGTERM and SIGHUP are passed on to its whole
process group. The exit status is the lane's (128 + signal number when a signal ended it).

Usage: python tools/lane.py [--nice N] -- COMMAND [ARGS...]
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def _lower_session_weight(nice: int) -> None:
    """In the lane's new session: set the session's (autogroup's) nice value, where supported."""
    try:
        with open("/proc/self/autogroup", "w", encoding="ascii") as fh:
            fh.write(str(nice))
    except OSError:  # no autogroups (or not Linux): the lane still runs, in its own session
        pass


def main(argv: list[str]) -> int:
    nice = 0
    if argv[:1] == ["--nice"]:
        if len(argv) < 2 or not argv[1].lstrip("-").isdigit():
            print("lane.py: --nice needs a whole number", file=sys.stderr)
            return 2
        nice, argv = int(argv[1]), argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    proc = subprocess.Popen(argv, start_new_session=True,
                            preexec_fn=(lambda: _lower_session_weight(nice)) if nice else None)

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
