"""tools/lane.py: a lane of `make test` runs in a session of its own (its own CPU share) and still
stops on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

LANE = [sys.executable, str(Path(__file__).resolve().parents[1] / "tools" / "lane.py")]
PROBE = "import os; print(os.getsid(0) == os.getpid(), os.getsid(0) == os.getsid(os.getppid()))"


def test_the_lane_runs_in_a_new_session():
    out = subprocess.run([*LANE, "--", sys.executable, "-c", PROBE], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0
    assert out.stdout.split() == ["True", "False"]  # leads a session, not lane.py's


def test_the_exit_status_is_the_lane_s():
    three = subprocess.run([*LANE, "--", sys.executable, "-c", "raise SystemExit(3)"], timeout=60)
    assert three.returncode == 3
    assert subprocess.run([*LANE], capture_output=True, timeout=60).returncode == 2


def test_ctrl_c_reaches_the_whole_lane(tmp_path):
    marker = tmp_path / "got-sigint"
    child = ("import signal, sys, time\n"
             f"def h(*a): open({str(marker)!r}, 'w').write('1'); sys.exit(130)\n"
             "signal.signal(signal.SIGINT, h)\nprint('ready', flush=True)\ntime.sleep(60)\n")
    # a grandchild: the signal must reach the lane's process group, not only its first process
    cmd = [*LANE, "--", sys.executable, "-c", f"import subprocess, sys; sys.exit(subprocess.call("
           f"[sys.executable, '-c', {child!r}]))"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    start = time.monotonic()
    os.kill(proc.pid, signal.SIGINT)
    code = proc.wait(timeout=30)
    assert marker.is_file() and code in (130, 128 + signal.SIGINT)
    assert time.monotonic() - start < 20


def test_the_label_reports_wall_and_cpu_time_of_the_whole_lane():
    # the CPU is spent in a grandchild: it counts because the lane waited for it
    burn = "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.6: pass\\n"
    cmd = [*LANE, "--label", "demo lane", "--", sys.executable, "-c",
           f"import subprocess, sys; sys.exit(subprocess.call([sys.executable, '-c', '{burn}']))"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    line = out.stderr.strip().splitlines()[-1]
    m = re.fullmatch(r"demo lane: (\d+) s, (\d+) CPU-s", line)
    assert m and int(m.group(2)) >= 1, line  # 0.6 CPU-s, printed to the second


def test_make_test_runs_the_tests_the_unit_lane_leaves_out():
    """`make test` moves the book-build tests out of the unit lane (UNIT_SKIP): each file the unit
    lane ignores must be run by exactly one other pytest of `make test` (read from `make -n`)."""
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    dry = subprocess.run(["make", "--no-print-directory", "-n", "test"], cwd=root, env=env,
                         capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    runs = [line for line in dry.stdout.replace("\\\n", " ").splitlines() if " -m pytest " in line]
    unit = [run for run in runs if "coverage run" in run]
    assert len(unit) == 1 and " tests/ " in unit[0], runs
    for path in re.findall(r"--ignore=(\S+)", unit[0]):
        elsewhere = [run for run in runs if run is not unit[0]
                     and re.search(rf"\s{re.escape(path)}(\s|$)", run)]
        assert len(elsewhere) == 1, f"{path}: left out of the unit lane, run {len(elsewhere)} times"
