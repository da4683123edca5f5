"""The ``infomech`` command line (speed, decompose): every behaviour through the real ``main()``.

One home for every CLI behaviour of ``speed`` and ``decompose``: outputs equal the library,
every input format, every flag, and every bad input (exactly one line on stderr naming the flag,
exit status 2, no traceback, nothing on stdout, no output file). The ``spectrum`` CLI tests live in
``tests/test_cli_spectrum.py``; library-level validation in ``tests/test_validate.py`` and
``tests/test_robustness.py``.

Most tests call ``main(argv)`` in this process (:func:`cli`): the same parser, library calls and
error mapping as the installed command, without an interpreter start each. A real process
(:func:`cli_process`) is used only where the behaviour needs one: the console script and
``python -m infomech`` with their exit statuses, Ctrl-C, the progress bar on a terminal, and a real
allocation failure under an address-space limit.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_helpers import ENV, cli, cli_process, one_error_line

from infomech import dct, decomposition, inputs, kernels, patterns, transport
from infomech.cli import main
from infomech.runs import speed_run
from infomech.sweeps import speed_sweep

SHIFT = "[[0,0,0],[1,0,0],[0,0,0]]"  # moves content by +1 px in x per step (cross-correlation)


def records(proc: subprocess.CompletedProcess[str]) -> list[dict]:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# --------------------------------------------------------------------------------------------
# entry points, the chapters' in-process use
# --------------------------------------------------------------------------------------------

def test_speed_json_follows_protocol_in_process(capsys):
    # the speed-law chapter calls cli.main([... "--json"]) in process and reads v_over_c
    rc = main(["speed", "--family", "dct", "--kernel-size", "3", "--beta2", "0.25,0.5,0.75,1",
               "--steps", "10", "--pattern", "delta", "--size", "301", "--activation", "relu", "--json"])
    assert rc == 0
    recs = json.loads(capsys.readouterr().out)
    assert [r["beta2"] for r in recs] == [0.25, 0.5, 0.75, 1.0]
    for r in recs:
        assert r["c"] == 1.0 and r["v_over_c_sq"] == pytest.approx((r["speed"] / r["c"]) ** 2)
    assert recs[-1]["speed"] == pytest.approx(1.0)  # pure gradient: exactly c
    speeds = [r["speed"] for r in recs]
    assert speeds == sorted(speeds)
    lib = speed_sweep("dct", 3, [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal([r["v_over_c"] for r in recs], lib["v_over_c"])


def test_default_sweep_is_the_chapters_sweep_bit_for_bit(capsys):
    assert main(["speed", "--size", "101", "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    lib = speed_sweep("dct", 3, size=101)
    assert len(recs) == 101
    np.testing.assert_array_equal([r["beta2"] for r in recs], lib["beta2"])
    np.testing.assert_array_equal([r["v_over_c"] for r in recs], lib["v_over_c"])


def test_console_script_and_module_entry_point():
    script = Path(sys.executable).with_name("infomech")
    if not script.exists():
        pytest.skip("console script not installed (pip install -e .)")
    out = cli_process("speed", "--beta2", "0,1", "--size", "41", command=[str(script)], timeout=120)
    assert out.returncode == 0, out.stderr
    assert "beta2" in out.stdout and "1.0000" in out.stdout
    version = cli_process("--version")
    assert version.returncode == 0 and version.stdout.startswith("infomech ")
    assert "decompose" in cli("--help").stdout


def test_one_step_2x2_has_no_steady_speed_but_succeeds():
    proc = cli("speed", "--kernel-size", "2", "--beta2", "1", "--steps", "1", "--size", "51", "--json")
    rec = records(proc)[0]
    assert rec["steady_speed"] is None and rec["speed"] > 0


# --------------------------------------------------------------------------------------------
# own kernels
# --------------------------------------------------------------------------------------------

def test_own_kernels_inline_npy_txt_make_one_stack(tmp_path):
    np.save(tmp_path / "two.npy", np.stack([np.eye(3), kernels.dct_beta(0.5)]))
    (tmp_path / "k.txt").write_text("# a shift\n0 0 0\n1 0 0\n0 0 0\n\n0,1,0\n0,1,1\n0,0,0\n")
    recs = records(cli("speed", "--kernel", SHIFT, "--kernel", "two.npy", "--kernel", "k.txt",
                       "--size", "41", "--json", cwd=tmp_path))
    assert [r["kernel"] for r in recs] == [0, 1, 2, 3, 4]
    assert [r["kernel_source"] for r in recs] == [SHIFT, "two.npy[0]", "two.npy[1]", "k.txt[0]",
                                                  "k.txt[1]"]
    stack = np.stack([np.array(json.loads(SHIFT), float), np.eye(3), kernels.dct_beta(0.5),
                      np.array(json.loads(SHIFT), float), np.array([[0, 1, 0], [0, 1, 1], [0, 0, 0]], float)])
    np.testing.assert_allclose([r["beta2_point"] for r in recs], decomposition.beta2(stack, "point"))
    np.testing.assert_allclose([r["beta2_square"] for r in recs], decomposition.beta2(stack, "square"))
    assert [r["beta2"] for r in recs] == [r["beta2_point"] for r in recs]  # --split point (default)
    shift = recs[0]
    assert shift["speed"] == pytest.approx(1.0) and shift["velocity_x"] == pytest.approx(1.0)
    assert shift["c"] == 1.0 and shift["kernel_size"] == 3 and "family" not in shift
    np.testing.assert_array_equal([r["kernel_values"] for r in recs], stack)  # the kernels that ran
    lib = speed_run([stack], 1.0, patterns.delta(41), times=[10])
    np.testing.assert_allclose([r["speed"] for r in recs], lib.rows["speed"], rtol=0, atol=1e-12)


def test_own_2x2_kernel_uses_the_alternating_placement():
    k = kernels.dct_beta(1.0, 2)
    recs = records(cli("speed", "--kernel", json.dumps(k.tolist()), "--size", "41", "--json"))
    fam = records(cli("speed", "--kernel-size", "2", "--beta2", "1", "--size", "41", "--json"))
    assert recs[0]["c"] == 0.5
    assert recs[0]["speed"] == pytest.approx(fam[0]["speed"], abs=1e-12)


def test_split_square_selects_the_beta2_column():
    recs = records(cli("speed", "--kernel", "[[1,0,0],[0,1,0],[0,0,1]]", "--split", "square", "--size",
                       "41", "--json"))
    assert recs[0]["beta2"] == pytest.approx(decomposition.beta2(np.eye(3), "square"))
    assert recs[0]["beta2_point"] == 0.0 and recs[0]["split"] == "square"


# --------------------------------------------------------------------------------------------
# own images
# --------------------------------------------------------------------------------------------

def test_colour_png_image_is_luminance_padded_and_matches_library(tmp_path):
    from PIL import Image

    a = np.zeros((30, 50, 3), np.uint8)
    a[10:20, 20:26] = [255, 128, 0]
    Image.fromarray(a).save(tmp_path / "img.png")
    recs = records(cli("speed", "--image", "img.png", "--beta2", "0,1", "--steps", "5", "--json",
                       cwd=tmp_path))
    assert recs[0]["image"] == "img.png" and recs[0]["image_shape"] == [30, 50]
    assert recs[0]["padding"] == 5 and recs[0]["pattern"] is None
    x = inputs.read_image(tmp_path / "img.png")
    assert x.max() == pytest.approx(0.2126 + 0.7152 * 128 / 255)
    sched, c = kernels.family("dct", [0.0, 1.0], 3)
    lib = speed_run(sched, c, x, times=[5], pad=True)
    np.testing.assert_allclose([r["speed"] for r in recs], lib.rows["speed"], rtol=0, atol=1e-12)
    assert abs(recs[0]["speed"]) < 1e-12  # DC: a non-negative even kernel does not move the centre


def test_npy_image(tmp_path):
    np.save(tmp_path / "x.npy", patterns.disc(61, 5))
    recs = records(cli("speed", "--image", str(tmp_path / "x.npy"), "--beta2", "1", "--json"))
    assert recs[0]["image_shape"] == [61, 61] and recs[0]["padding"] == 10
    lib = speed_sweep("dct", 3, [1.0], pattern=patterns.disc(61, 5))  # unpadded: same speed (ReLU)
    assert recs[0]["speed"] == pytest.approx(lib["speed"][0], rel=1e-12)


# --------------------------------------------------------------------------------------------
# activations, beta^2 ranges, steering, odd bases
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec,canonical", [("relu", "relu"), ("none", "none"), ("abs", "abs"),
                                            ("leaky_relu", "leaky_relu:0.01"),
                                            ("leaky_relu:0.2", "leaky_relu:0.2"), ("gelu", "gelu"),
                                            ("tanh", "tanh"), ("elu", "elu")])
def test_every_activation_runs_and_is_recorded(spec, canonical, capsys):
    assert main(["speed", "--activation", spec, "--beta2", "0.5", "--size", "41", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)[0]
    assert rec["activation"] == canonical
    sched, c = kernels.family("dct", [0.5], 3)
    lib = speed_run(sched, c, patterns.delta(41), times=[10], activation=spec)
    assert rec["speed"] == lib.rows["speed"][0]


def test_activations_differ_where_they_should(capsys):
    speeds = {}
    for a in ("relu", "none", "abs", "leaky_relu:0.2"):
        assert main(["speed", "--activation", a, "--beta2", "0.5", "--size", "41", "--json"]) == 0
        speeds[a] = json.loads(capsys.readouterr().out)[0]["speed"]
    assert len({round(v, 9) for v in speeds.values()}) == 4, speeds


@pytest.mark.parametrize("text,values", [
    ("0:1:0.25", [0.0, 0.25, 0.5, 0.75, 1.0]),
    ("0,0.5:1:0.25", [0.0, 0.5, 0.75, 1.0]),
    ("0.3", [0.3]),
    ("0:1:0.05", [round(i * 0.05, 2) for i in range(21)]),
])
def test_beta2_lists_and_ranges(text, values, capsys):
    assert main(["speed", "--beta2", text, "--size", "41", "--json"]) == 0
    assert [r["beta2"] for r in json.loads(capsys.readouterr().out)] == values


def test_angle_steers_the_2d_speed(capsys):
    out = {}
    for deg in ("0", "90", "45", "30"):
        assert main(["speed", "--angle", deg, "--beta2", "1", "--size", "41", "--json"]) == 0
        out[deg] = json.loads(capsys.readouterr().out)[0]
    assert out["90"]["velocity_y"] == pytest.approx(1.0) and abs(out["90"]["velocity_x"]) < 1e-12
    assert out["90"]["speed"] == pytest.approx(out["0"]["speed"])
    for deg in ("45", "30"):
        r = out[deg]
        assert r["angle"] == float(deg)
        assert r["speed"] == pytest.approx(np.hypot(r["velocity_x"], r["velocity_y"]))
    direction = {d: np.degrees(np.arctan2(out[d]["velocity_y"], out[d]["velocity_x"])) for d in out}
    assert direction["45"] == pytest.approx(45.0, abs=1e-9)  # exact by the diagonal symmetry
    assert 0 < direction["30"] < 45  # steered, though not exactly along 30 degrees under ReLU
    k = kernels.dct_beta(1.0, 3, theta=np.radians(30))
    np.testing.assert_allclose(k, np.cos(np.radians(30)) * dct.basis(0, 1) + np.sin(np.radians(30))
                               * dct.basis(1, 0), atol=1e-14)


def test_odd_basis_uses_that_dct_basis(capsys):
    assert main(["speed", "--odd-basis", "1,2", "--beta2", "0.5,1", "--size", "41", "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert recs[0]["odd_basis"] == "1,2"
    sched, c = kernels.family("dct", [0.5, 1.0], 3, odd_basis=(1, 2))
    np.testing.assert_allclose(dct.dct2(sched[0][0])[1, 2], np.sqrt(0.5))
    lib = speed_run(sched, c, patterns.delta(41), times=[10])
    np.testing.assert_array_equal([r["speed"] for r in recs], lib.rows["speed"])
    assert main(["speed", "--odd-basis", "0,1", "--beta2", "0.5", "--size", "41", "--json"]) == 0
    default = json.loads(capsys.readouterr().out)[0]
    assert default["speed"] == speed_sweep("dct", 3, [0.5], size=41)["speed"][0]


# --------------------------------------------------------------------------------------------
# outputs: JSON records every parameter, CSV, plot, atomic files
# --------------------------------------------------------------------------------------------

def test_json_records_every_parameter(capsys):
    assert main(["speed", "--times", "2,4", "--beta2", "0.5", "--size", "41", "--measure", "row",
                 "--no-rescale", "--float32", "--activation", "abs", "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert [r["t"] for r in recs] == [2, 4]
    r = recs[0]
    expected = {"family": "dct", "kernel_size": 3, "odd_basis": "0,1", "angle": 0.0, "steps": 4,
                "times": [2, 4], "pattern": "delta", "size": 41, "activation": "abs", "measure": "row",
                "rescale": False, "dtype": "float32", "padding": 0, "beta2": 0.5}
    assert {k: r[k] for k in expected} == expected
    assert r["velocity_x"] is None and "infomech_version" in r


def test_csv_and_json_files_agree(tmp_path):
    proc = cli("speed", "--beta2", "0:1:0.5", "--size", "41", "--csv", "out.csv", "--json", "out.json",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "beta2" in proc.stdout  # the table still goes to stdout when outputs go to files
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text())))
    recs = json.loads((tmp_path / "out.json").read_text())
    assert len(rows) == len(recs) == 3
    for row, rec in zip(rows, recs, strict=True):
        assert float(row["speed"]) == rec["speed"] and row["activation"] == rec["activation"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.json"]  # no temp files
    assert (tmp_path / "out.csv").stat().st_mode & 0o044  # usual permissions, not mkstemp's 0600


def test_csv_to_stdout():
    proc = cli("speed", "--beta2", "0,1", "--size", "41", "--csv")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [float(r["beta2"]) for r in rows] == [0.0, 1.0]


@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_plot_file(tmp_path, suffix, magic):
    proc = cli("speed", "--beta2", "0:1:0.25", "--size", "41", "--plot", f"fig{suffix}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / f"fig{suffix}").read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"fig{suffix}"]


def test_plot_is_the_chapters_speed_law_figure(capsys):
    from infomech.cli.speed import plot_figure

    assert main(["speed", "--beta2", "0:1:0.5", "--size", "41", "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    fig = plot_figure(recs)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "$(v/c)^2$" and ax.get_xlim() == (0.0, 1.0)
    identity = [ln for ln in ax.lines if ln.get_label() == "$y = x$ (paper)"]
    assert identity and list(identity[0].get_xdata()) == [0, 1]
    data = [ln for ln in ax.lines if ln.get_label() == "t = 10"][0]
    np.testing.assert_allclose(data.get_ydata(), [r["v_over_c_sq"] for r in recs])


# --------------------------------------------------------------------------------------------
# decompose
# --------------------------------------------------------------------------------------------

def test_decompose_json_equals_library():
    k = np.array([[0, 1, 0], [0, 1, 1], [0, 0, 0]], float)
    d = records(cli("decompose", json.dumps(k.tolist()), "--json"))[0]
    assert d["point"]["beta2"] == pytest.approx(decomposition.beta2(k, "point"))
    assert d["square"]["beta2"] == pytest.approx(decomposition.beta2(k, "square"))
    e, o = decomposition.even_odd(k)
    np.testing.assert_allclose(d["point"]["even"], e)
    np.testing.assert_allclose(d["point"]["odd"], o)
    np.testing.assert_allclose(d["dct"]["coefficients"], dct.dct2(k), atol=1e-15)
    np.testing.assert_allclose(d["dct"]["shares"], dct.energy_fractions(k), atol=1e-15)
    assert d["first_moment"] == pytest.approx([1.0, -1.0])  # sum k(d) d, x right / y down
    mass, drift, cov = transport.kernel_moments(k)
    assert d["exact_law"]["mass"] == 3.0
    np.testing.assert_allclose(d["exact_law"]["drift"], drift)
    np.testing.assert_allclose(d["exact_law"]["covariance"], cov)
    assert d["exact_law"]["diffusion"] == pytest.approx(np.trace(cov) / 2)


def test_decompose_text_signed_kernel_and_stack(tmp_path):
    np.save(tmp_path / "s.npy", np.stack([kernels.dct_beta(0.5), np.ones((3, 3))]))
    proc = cli("decompose", "s.npy", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("point reflection") == 2 and out.count("square symmetry") == 2
    assert "exact law: not applicable" in out  # dct_beta(0.5) has negative weights
    assert "drift = (0, 0) px/step" in out  # the all-ones kernel: no drift
    assert "DCT-II coefficients" in out and "first moment" in out
    assert "-0.0000" not in out


def test_decompose_2x2_kernel():
    d = records(cli("decompose", "[[1,0],[0,0]]", "--json"))[0]
    assert d["size"] == 2 and d["exact_law"]["drift"] == pytest.approx([0.5, 0.5])


# --------------------------------------------------------------------------------------------
# bad inputs: one line, exit 2, named, nothing written
# --------------------------------------------------------------------------------------------

def _files(d: Path) -> None:
    np.save(d / "cplx.npy", np.ones((3, 3)) * (1 + 1j))
    np.save(d / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(d / "nan.npy", np.full((3, 3), np.nan))
    np.save(d / "zero.npy", np.zeros((3, 3)))
    np.save(d / "rect.npy", np.ones((3, 5)))
    np.save(d / "four.npy", np.ones((4, 4)))
    np.save(d / "img4d.npy", np.ones((2, 2, 2, 2)))
    np.save(d / "black.npy", np.zeros((11, 11)))
    (d / "garbage.npy").write_bytes(b"\x93NUMPY garbage")
    (d / "empty.txt").write_text("")
    (d / "ragged.txt").write_text("1 2 3\n4 5\n")
    (d / "words.txt").write_text("a b c\n")
    (d / "garbage.png").write_bytes(b"\x89PNG not really")
    (d / "sub").mkdir()


BAD = [
    # (args, text the line must contain)
    (["speed", "--kernel-size", "0"], "--kernel-size"),
    (["speed", "--kernel-size", "abc"], "--kernel-size"),
    (["speed", "--kernel-size", "1"], "--kernel-size"),
    (["speed", "--kernel-size", "4", "--family", "translation"], "--kernel-size"),
    (["speed", "--beta2", "2"], "--beta2"),
    (["speed", "--beta2", "x"], "--beta2"),
    (["speed", "--beta2", "nan"], "--beta2"),
    (["speed", "--beta2", "0,,1"], "empty value"),
    (["speed", "--beta2", "0:1:0"], "--beta2"),
    (["speed", "--beta2", "1:0:0.1"], "STOP < START"),
    (["speed", "--beta2", "0:2:0.5"], "[0, 1]"),
    (["speed", "--family", "foo"], "--family"),
    (["speed", "--size", "4"], "--size"),
    (["speed", "--size", "-5"], "--size"),
    (["speed", "--size", "99999"], "--size"),
    (["speed", "--steps", "-1"], "--steps"),
    (["speed", "--steps", "0"], "--steps"),
    (["speed", "--steps", "99999999999999999999"], "--steps"),
    (["speed", "--times", "1,0"], "--times"),
    (["speed", "--times", "1,5", "--steps", "10"], "either --steps or --times"),
    (["speed", "--activation", "softplus"], "--activation"),
    (["speed", "--activation", "leaky_relu:2"], "--activation"),
    (["speed", "--activation", "leaky_relu:x"], "--activation"),
    (["speed", "--activation", "relu:3"], "--activation"),
    (["speed", "--odd-basis", "1,1"], "point-even"),
    (["speed", "--odd-basis", "0,0"], "point-even"),
    (["speed", "--odd-basis", "0,3"], "--odd-basis"),
    (["speed", "--odd-basis", "a"], "--odd-basis"),
    (["speed", "--angle", "nan"], "--angle"),
    (["speed", "--angle", "30", "--odd-basis", "1,2"], "--angle"),
    (["speed", "--angle", "30", "--family", "translation"], "--family dct only"),
    (["speed", "--kernel-size", "5", "--beta2", "1", "--steps", "100"], "image border"),
    (["speed", "--kernel", SHIFT, "--family", "dct"], "--family"),
    (["speed", "--kernel", SHIFT, "--beta2", "0.5"], "--beta2"),
    (["speed", "--kernel", "missing.npy"], "no such file"),
    (["speed", "--kernel", "sub"], "--kernel"),
    (["speed", "--kernel", "sub/"], "--kernel"),
    (["speed", "--kernel", "cplx.npy"], "complex"),
    (["speed", "--kernel", "obj.npy"], "pickled"),
    (["speed", "--kernel", "nan.npy"], "NaN"),
    (["speed", "--kernel", "zero.npy"], "all zeros"),
    (["speed", "--kernel", "rect.npy"], "square"),
    (["speed", "--kernel", "four.npy"], "no centre pixel"),
    (["speed", "--kernel", "garbage.npy"], "not a readable .npy"),
    (["speed", "--kernel", "empty.txt"], "empty"),
    (["speed", "--kernel", "ragged.txt"], "different lengths"),
    (["speed", "--kernel", "words.txt"], "expected numbers"),
    (["speed", "--kernel", "[[0,1],[1]]"], "different lengths"),
    (["speed", "--kernel", "[[0,1,0],[0,1"], "cannot parse"),
    (["speed", "--kernel", "[__import__('os').getcwd()]"], "cannot parse"),
    (["speed", "--kernel", "[[0,1,0],[0,1,1],[0,0,0]]", "--kernel", "four.npy"], "different sizes"),
    (["speed", "--image", "missing.png"], "--image"),
    (["speed", "--image", "garbage.png"], "not a readable PNG"),
    (["speed", "--image", "black.npy"], "all zeros"),
    (["speed", "--image", "img4d.npy"], "--image"),
    (["speed", "--image", "x.gif"], "unsupported type"),
    (["speed", "--image", "black.npy", "--size", "41"], "--image replaces"),
    (["speed", "--plot", "out.txt"], "--plot"),
    (["speed", "--plot", "nodir/out.png"], "does not exist"),
    (["speed", "--json", "-", "--csv"], "standard output"),
    (["speed", "--bogus"], "--bogus"),
    (["decompose"], "KERNEL"),
    (["decompose", "zero.npy"], "all zeros"),
    (["decompose", "[[1,2],[3]]"], "different lengths"),
    (["decompose", "cplx.npy"], "complex"),
    (["frobnicate"], "frobnicate"),
    ([], "required"),
]


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    _files(d)
    return d


@pytest.mark.parametrize(("args", "named"), BAD, ids=[" ".join(a) or "(none)" for a, _ in BAD])
def test_bad_input_one_line_exit_2(bad_dir, args, named):
    before = sorted(p.name for p in bad_dir.iterdir())
    line = one_error_line(cli(*args, cwd=bad_dir))
    assert "error:" in line and named in line, line
    assert sorted(p.name for p in bad_dir.iterdir()) == before  # nothing written


SAMPLE = [60, 17, 38, 62]  # one of each kind: argparse, library value, file, decompose


@pytest.mark.parametrize("i", SAMPLE, ids=[" ".join(BAD[i][0]) for i in SAMPLE])
def test_bad_input_through_the_real_entry_point(bad_dir, i):
    args, named = BAD[i]
    line = one_error_line(cli_process(*args, cwd=bad_dir))
    assert "error:" in line and named in line, line


# a user who mistypes a flag or names a bad file gets the line at once: before torch is imported
NO_TORCH = [60, 17, 19, 38, 51, 62, 43, 55]  # --bogus, --steps, --times+--steps, files, --image


def test_bad_flags_and_files_are_refused_before_torch_is_imported(bad_dir):
    code = ("import json, sys\nsys.modules['torch'] = None  # any import of torch now fails\n"
            "from cli_helpers import cli\n"
            "print(json.dumps([cli(*a).__dict__ for a in json.loads(sys.argv[1])]))\n")
    cases = [BAD[i][0] for i in NO_TORCH]
    env = dict(ENV, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), *sys.path]))
    proc = cli_process("-c", code, json.dumps(cases), command=[sys.executable], cwd=bad_dir, env=env,
                       timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for i, res in zip(NO_TORCH, json.loads(proc.stdout), strict=True):
        line = one_error_line(subprocess.CompletedProcess(res["args"], res["returncode"], res["stdout"],
                                                          res["stderr"]))
        assert "error:" in line and BAD[i][1] in line, line


def test_huge_kernel_size_is_refused_quickly_with_the_expected_time():
    t0 = time.monotonic()
    line = one_error_line(cli("speed", "--kernel-size", "1001"))
    assert "image border" in line
    line = one_error_line(cli("speed", "--kernel-size", "1001", "--size", "20001"))
    assert "would take about" in line and "days" in line
    assert time.monotonic() - t0 < 30  # refused from the support box: no image is built


def test_overflow_without_rescaling_is_reported(tmp_path):
    line = one_error_line(cli("speed", "--no-rescale", "--activation", "none", "--float32", "--beta2",
                              "0", "--steps", "100", "--json", "out.json", cwd=tmp_path))
    assert "overflowed float32 at step" in line
    assert list(tmp_path.iterdir()) == []
    # the same run with fewer steps does not overflow (3^50 < 3.4e38): the test can pass
    ok = cli("speed", "--no-rescale", "--activation", "none", "--float32", "--beta2", "0", "--steps", "50")
    assert ok.returncode == 0, ok.stderr


def test_failed_run_keeps_an_existing_output_file_intact(tmp_path):
    (tmp_path / "out.json").write_text("old\n")
    one_error_line(cli("speed", "--kernel-size", "5", "--beta2", "1", "--steps", "100", "--json",
                       "out.json", cwd=tmp_path))
    assert (tmp_path / "out.json").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


@pytest.mark.parametrize("exc", [
    RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 8 GB"),
    RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    MemoryError(),
])
def test_out_of_memory_is_one_line(tmp_path, monkeypatch, exc):
    from infomech import runs

    def boom(*a: Any, **k: Any) -> None:
        raise exc

    monkeypatch.setattr(runs, "propagate", boom)
    line = one_error_line(cli("speed", "--size", "41", "--json", "o.json", cwd=tmp_path))
    assert "not enough memory" in line
    assert list(tmp_path.iterdir()) == []


def test_unexpected_bug_is_one_line_exit_1(monkeypatch):
    from infomech import runs

    def boom(*a: Any, **k: Any) -> None:
        raise KeyError("bug")

    monkeypatch.delenv("INFOMECH_DEBUG", raising=False)
    monkeypatch.setattr(runs, "propagate", boom)
    line = one_error_line(cli("speed", "--size", "41"), code=1)
    assert "internal error" in line and "KeyError" in line


def test_ctrl_c_exits_130_with_one_line_and_no_file(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "infomech", "speed", "--kernel-size", "5",
                             "--size", "2001", "--steps", "400", "--json", "out.json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=tmp_path)
    first = proc.stderr.readline()  # the run is large: its one-line warning comes just before it starts
    assert "this run is large: expect about" in first, first
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert out == "" and "Traceback" not in err
    assert err.strip().splitlines() == ["infomech speed: interrupted (Ctrl-C); nothing was written"]
    assert list(tmp_path.iterdir()) == []


def test_progress_bar_on_a_terminal_only(tmp_path, monkeypatch):
    pty = pytest.importorskip("pty")
    np.save(tmp_path / "k.npy", np.random.default_rng(0).random((8, 5, 5)))  # not separable: 2-D path
    args = ["speed", "--kernel", str(tmp_path / "k.npy"), "--size", "101", "--steps", "20"]
    # INFOMECH_PROGRESS_DELAY=0: the bar is due at once, so a short run shows it whatever the CPU's
    # speed (with the run's own delay of 1 s, a run finishing sooner would show none)
    env = {k: v for k, v in ENV.items() if k != "INFOMECH_QUIET"}
    env["INFOMECH_PROGRESS_DELAY"] = "0"
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 0-column pty: no bar
    proc = subprocess.Popen([sys.executable, "-m", "infomech", *args], stdout=subprocess.PIPE,
                            stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=300)
    os.close(master)
    err = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0
    assert "propagate" in err and "step" in err and "%" in err, err[-500:]
    # not a terminal (standard error captured, as by a pipe): no bar, under the same settings
    monkeypatch.delenv("INFOMECH_QUIET", raising=False)
    monkeypatch.setenv("INFOMECH_PROGRESS_DELAY", "0")
    plain = cli(*args)
    assert plain.returncode == 0 and "%" not in plain.stderr and plain.stderr == "", plain.stderr


def test_progress_delay_setting_is_checked(monkeypatch):
    from infomech import progress

    monkeypatch.delenv("INFOMECH_PROGRESS_DELAY", raising=False)
    assert progress._delay_override() is None
    monkeypatch.setenv("INFOMECH_PROGRESS_DELAY", " 0.5 ")
    assert progress._delay_override() == 0.5
    for bad in ("soon", "-1", "nan", "inf"):
        monkeypatch.setenv("INFOMECH_PROGRESS_DELAY", bad)
        with pytest.raises(ValueError, match="INFOMECH_PROGRESS_DELAY"):
            progress._delay_override()


def test_atomic_write_leaves_the_old_file_and_no_temp_when_it_fails(tmp_path, monkeypatch):
    from infomech import _io
    from infomech.cli import _output

    target = tmp_path / "out.json"
    _output.atomic_write(target, "old\n")
    assert target.read_text() == "old\n"

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(_io.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        _output.atomic_write(target, b"new, half written")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_real_allocation_failure_is_one_line(tmp_path):
    resource = pytest.importorskip("resource")
    limit = 3 * 2**30  # address space: enough for the interpreter and torch, not for a 20001^2 image

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    proc = cli_process("speed", "--size", "20001", "--steps", "1", "--beta2", "0,1", "--json", "o.json",
                       cwd=tmp_path, preexec_fn=cap, timeout=300)
    if "not enough memory" not in proc.stderr:  # only then pay for a second interpreter: the probe
        probe = cli_process("-c", "import torch, infomech.cli, infomech.runs", command=[sys.executable],
                            preexec_fn=cap, timeout=120)
        if probe.returncode != 0:
            pytest.skip("torch does not even import within the address-space limit here")
    line = one_error_line(proc)
    assert "not enough memory" in line
    assert list(tmp_path.iterdir()) == []


def test_time_limit_refuses_and_force_lifts_it(monkeypatch):
    from infomech import runs

    monkeypatch.setattr(runs, "MAX_SECONDS", 1e-9)  # every run is "too long" now
    line = one_error_line(cli("speed", "--beta2", "1", "--size", "41"))
    assert "would take about" in line
    ok = cli("speed", "--beta2", "1", "--size", "41", "--force", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)[0]["speed"] == pytest.approx(1.0)
