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
With ``--label NAME`` it prints, once the lane ends, ``NAME: W s, C CPU-s``: the lane's wall time
and the CPU time of all its processes (every process the lane waited for, kernels included).

Usage: python tools/lane.py [--label NAME] [--] COMMAND [ARGS...]
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    label = None
    if argv[:1] == ["--label"] and len(argv) >= 2:
        label, argv = argv[1], argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv or (label is not None and not label.strip()):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    start = time.monotonic()
    proc = subprocess.Popen(argv, start_new_session=True)

    def forward(signum: int, frame: object) -> None:
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    _, status, usage = os.wait4(proc.pid, 0)  # retried after a forwarded signal (PEP 475)
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if label is not None:
        cpu = usage.ru_utime + usage.ru_stime
        print(f"{label}: {time.monotonic() - start:.0f} s, {cpu:.0f} CPU-s", file=sys.stderr)
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
