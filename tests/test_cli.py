import json
import subprocess
import sys

import numpy as np
import pytest

from infomech.cli import main
from infomech.sweeps import speed_sweep


def test_speed_json_follows_protocol(capsys):
    rc = main(["speed", "--family", "dct", "--kernel-size", "3", "--beta2", "0.25,0.5,0.75,1",
               "--steps", "10", "--pattern", "delta", "--size", "301", "--activation", "relu",
               "--json"])
    assert rc == 0
    recs = json.loads(capsys.readouterr().out)
    assert [r["beta2"] for r in recs] == [0.25, 0.5, 0.75, 1.0]
    for r in recs:
        assert {"beta2", "speed", "c", "v_over_c_sq", "steady_speed"} <= set(r)
        assert r["c"] == 1.0 and r["v_over_c_sq"] == pytest.approx((r["speed"] / r["c"]) ** 2)
    assert recs[-1]["speed"] == pytest.approx(1.0)  # pure gradient: exactly c
    speeds = [r["speed"] for r in recs]
    assert speeds == sorted(speeds)
    lib = speed_sweep("dct", 3, [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose([r["speed"] for r in recs], lib["speed"])


def test_speed_table_and_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "infomech", "speed", "--beta2", "0,1", "--size", "41"],
                         capture_output=True, text=True, check=True)
    assert "beta2" in out.stdout and "1.0000" in out.stdout


@pytest.mark.parametrize("argv", [
    ["speed", "--beta2", "2"],
    ["speed", "--beta2", "a,b"],
    ["speed", "--family", "gabor"],
    ["speed", "--steps", "0"],
    ["speed", "--size", "-5"],
    ["speed", "--size", "40"],
    ["speed", "--family", "translation", "--kernel-size", "4"],
    ["speed", "--activation", "softplus"],
    ["speed", "--bogus"],
    ["nonsense"],
    [],
])
def test_bad_flags_one_line_exit_2(argv):
    out = subprocess.run([sys.executable, "-m", "infomech", *argv], capture_output=True, text=True)
    assert out.returncode == 2
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in out.stderr
    assert 1 <= len(lines) <= 2 and "error" in lines[-1]


def test_speed_one_step_2x2_has_no_steady_speed_but_succeeds(capsys):
    assert main(["speed", "--kernel-size", "2", "--beta2", "0.25,1", "--steps", "1", "--size", "51"]) == 0
    assert "nan" in capsys.readouterr().out
    argv = ["speed", "--kernel-size", "2", "--beta2", "1", "--steps", "1", "--size", "51", "--json"]
    assert main(argv) == 0
    rec = json.loads(capsys.readouterr().out)[0]
    assert rec["steady_speed"] is None and rec["speed"] > 0


@pytest.mark.parametrize("argv,match", [
    (["speed", "--beta2", "0,,1"], "empty value"),
    (["speed", "--times", "1,5", "--steps", "10"], "either --steps or --times"),
    (["speed", "--size", "99999"], "too large"),
    (["speed", "--kernel-size", "5", "--beta2", "1", "--steps", "100"], "image border"),
])
def test_speed_refuses_ambiguous_or_invalid_runs(argv, match):
    out = subprocess.run([sys.executable, "-m", "infomech", *argv], capture_output=True, text=True)
    assert out.returncode == 2 and match in out.stderr and "Traceback" not in out.stderr
