"""Bad inputs to the library: every one gets a specific error that names the argument; nothing
half-written.

Library: ``ValueError``/``TypeError`` whose message names the offending argument. The command
line's contract (one line on stderr, exit status 2, no traceback, nothing on stdout) is tested in
``tests/test_cli.py`` (speed, decompose) and ``tests/test_cli_spectrum.py`` (spectrum).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from infomech import dct, networks, publish
from infomech import decomposition as D
from infomech import kernels as K
from infomech import observables as O
from infomech import patterns as P
from infomech.propagation import propagate
from infomech.sweeps import speed_sweep

X = P.delta(21)
K3 = np.ones((3, 3))


# --------------------------------------------------------------------------------------------
# propagate: shapes, kernels, values, sizes
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("x", "kernels", "steps", "kwargs", "exc", "match"), [
    (X, np.ones((1, 1, 3, 3)), 2, {}, ValueError, r"kernels must have shape \(n, n\) or \(K, n, n\)"),
    (X, np.ones((3, 5)), 2, {}, ValueError, r"kernels must be square; got 3 x 5"),
    (X, np.ones((0, 0)), 2, {}, ValueError, r"kernels are empty"),
    (X, np.ones((0, 3, 3)), 2, {}, ValueError, r"kernels: no kernels given"),
    (X, np.ones((2, 2)), 2, {}, ValueError, r"kernels must have odd size"),
    (X, [], 2, {}, ValueError, r"kernels: empty schedule"),
    (X, [np.ones((3, 3)), np.ones((5, 5))], 2, {}, ValueError, r"phases of a kernel schedule"),
    (X, np.full((3, 3), np.nan), 2, {}, ValueError, r"kernels contain NaN or Inf"),
    (X, np.full((3, 3), np.inf), 2, {}, ValueError, r"kernels contain NaN or Inf"),
    (np.ones(5), K3, 2, {}, ValueError, r"x must have shape \(H, W\) or \(K, H, W\)"),
    (np.ones((0, 5)), K3, 2, {}, ValueError, r"x must have shape"),
    (np.ones((2, 2, 5, 5)), K3, 2, {}, ValueError, r"x must have shape"),
    (np.ones((2, 5, 5)), np.ones((3, 3, 3)), 2, {}, ValueError, r"x has 2 images but there are 3 kernels"),
    (np.where(X > 0, np.nan, 0.0), K3, 2, {}, ValueError, r"x contains NaN or Inf"),
    (np.where(X > 0, -np.inf, 0.0), K3, 2, {}, ValueError, r"x contains NaN or Inf"),
    (np.zeros((9, 9)), K3, 2, {}, ValueError, r"x has zero mass"),
    (X, K3, -1, {}, ValueError, r"steps must be >= 0; got -1"),
    (X, K3, 1.5, {}, TypeError, r"steps must be an integer"),
    (X, K3, True, {}, TypeError, r"steps must be an integer"),
    (X, K3, 1, {"batch_size": 0}, ValueError, r"batch_size must be >= 1"),
    (X, K3, 1, {"batch_size": -4}, ValueError, r"batch_size must be >= 1"),
    (X, K3, 1, {"activation": "softplus"}, ValueError, r"activation.*'softplus'"),
    (X, K3, 1, {"weights": "foo"}, ValueError, r"unknown weights 'foo'"),
    (X, K3, 1, {"frames": (5,)}, ValueError, r"frames must lie in \[0, 1\]"),
    (X, K3, 1, {"frames": (-1,)}, ValueError, r"frames must lie in"),
    (X, K3, 1, {"dtype": torch.int32}, TypeError, r"dtype must be torch.float32 or torch.float64"),
])
def test_propagate_rejects(x, kernels, steps, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        propagate(x, kernels, steps, **kwargs)


def test_zero_mass_with_signed_weights_is_rejected():
    x = np.zeros((9, 9))
    x[4, 3], x[4, 5] = 1.0, -1.0  # non-zero pixels whose signed mass is zero
    with pytest.raises(ValueError, match="x has zero mass"):
        propagate(x, K3, 1, weights="signed")


def test_mass_dying_out_gives_nan_centre_and_a_warning_not_an_error():
    # ReLU of an all-negative correlation kills the state: the centre is NaN from then on
    with pytest.warns(RuntimeWarning, match="mass vanished for 1 of 1 kernels"):
        tr = propagate(X, -np.ones((3, 3)), 2, activation="relu")
    assert tr.mass[-1, 0] == 0
    assert np.isnan(tr.centre[-1, 0]).all()


# --------------------------------------------------------------------------------------------
# patterns, kernels, decompositions, DCT, observables
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("fn", "exc", "match"), [
    (lambda: P.delta(-3), ValueError, r"size must be >= 1; got -3"),
    (lambda: P.delta(0), ValueError, r"size must be >= 1; got 0"),
    (lambda: P.delta(3.5), TypeError, r"size must be an integer"),
    (lambda: P.disc(11, -1), ValueError, r"radius must be a finite number > 0"),
    (lambda: P.gaussian_blob(11, sigma=0), ValueError, r"sigma must be a finite number > 0"),
    (lambda: P.gaussian_blob(11, sigma=float("nan")), ValueError, r"sigma must be a finite number"),
    (lambda: P.disc(11, float("inf")), ValueError, r"radius must be a finite number"),
    (lambda: P.make("foo", 11), ValueError, r"pattern 'foo' is unknown"),
    (lambda: propagate(X, np.zeros((3, 3)), 1), ValueError, r"kernels \[0\] are all zeros"),
    (lambda: speed_sweep("dct", 5, [1.0], steps=100, size=301), ValueError, r"reach the image border"),
    (lambda: speed_sweep("dct", 3, [1.0], size=40), ValueError, r"size must be an odd positive integer"),
    (lambda: K.dct_beta(1.5), ValueError, r"beta2 must lie in \[0, 1\]"),
    (lambda: K.dct_beta(-0.1), ValueError, r"beta2 must lie in \[0, 1\]"),
    (lambda: K.dct_beta(np.nan), ValueError, r"beta2 must be finite"),
    (lambda: K.dct_beta(0.5, 0), ValueError, r"n must be >= 2"),
    (lambda: K.dct_beta(0.5, -3), ValueError, r"n must be >= 2"),
    (lambda: K.random_kernels(-1, 3), ValueError, r"count must be >= 1"),
    (lambda: K.family("foo", 0.5), ValueError, r"family 'foo' is an unknown kernel family"),
    (lambda: K.alternating_2x2(np.ones((3, 3))), ValueError, r"alternating_2x2 needs 2x2 kernels"),
    (lambda: D.beta2(np.ones((3, 4))), ValueError, r"kernel must be square .* got 3 x 4"),
    (lambda: D.beta2(np.zeros((3, 3))), ValueError, r"beta2 is undefined for a kernel with zero energy"),
    (lambda: D.beta2(np.full((3, 3), np.nan)), ValueError, r"kernel contains NaN or Inf"),
    (lambda: D.beta2(np.ones((3, 3)), kind="foo"), ValueError, r"unknown split 'foo'"),
    (lambda: D.even_odd(np.ones(3)), ValueError, r"kernel must have at least 2 dimensions"),
    (lambda: D.even_odd(np.ones((0, 0))), ValueError, r"kernel is empty"),
    (lambda: D.split(np.ones((3, 3)), "foo"), ValueError, r"unknown split 'foo'"),
    (lambda: dct.dct2(np.ones((3, 4))), ValueError, r"kernel must be square"),
    (lambda: dct.dct_basis(0), ValueError, r"n must be >= 1; got 0"),
    (lambda: dct.named_basis("foo", 3), ValueError, r"unknown basis 'foo'"),
    (lambda: dct.energy_fractions(np.zeros((3, 3))), ValueError, r"zero energy"),
    (lambda: O.centre_of_mass(np.zeros((5, 5))), ValueError, r"centre of mass is undefined: .*zero mass"),
    (lambda: O.centre_of_mass(np.full((5, 5), np.nan)), ValueError, r"x contains NaN or Inf"),
    (lambda: O.centre_of_mass(np.ones((0, 5))), ValueError, r"x is empty"),
    (lambda: O.central_row_centre(np.zeros((5, 5))), ValueError, r"central row has zero mass"),
    (lambda: O.mass(np.ones(4)), ValueError, r"x must have shape \(\.\.\., H, W\)"),
])
def test_library_rejects(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


# --------------------------------------------------------------------------------------------
# weight sources and corrupt weight files
# --------------------------------------------------------------------------------------------

def test_unknown_weight_source_names_it():
    with pytest.raises(ValueError, match=r"unknown source 'no_such_net': not a built-in name"):
        networks.conv_kernels("no_such_net")


def test_missing_weight_file_names_it(tmp_path):
    path = tmp_path / "absent.pth"
    with pytest.raises(ValueError, match=r"unknown source .*absent\.pth.* no such file"):
        networks.conv_kernels(path)


def test_weight_source_bad_kernel_size():
    with pytest.raises(ValueError, match=r"kernel size must be >= 1; got 0"):
        networks.conv_kernels("random", 0)
    with pytest.raises(ValueError, match=r"random:NAME needs a real source NAME"):
        networks.conv_kernels("random:random")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("name", "data", "match"), [
    ("garbage.pth", bytes(np.random.default_rng(0).integers(0, 256, 300, dtype=np.uint8)),
     r"cannot read weights file .*garbage\.pth"),
    ("empty.pth", b"", r"cannot read weights file .*empty\.pth"),
    ("garbage.pt", b"PK\x03\x04 not a zip at all", r"cannot read weights file .*garbage\.pt"),
    ("garbage.npz", b"PK\x03\x04garbage", r"cannot read weights file .*garbage\.npz"),
    ("weights.txt", b"1 2 3", r"unsupported weights file type '\.txt'"),
])
def test_corrupt_weight_files(tmp_path, name, data, match):
    path = _write(tmp_path / name, data)
    with pytest.raises(ValueError, match=match):
        networks.conv_kernels(path)


def test_pth_that_is_not_a_state_dict(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([1, 2, 3], path)
    with pytest.raises(ValueError, match=r"does not hold a state dict \(got list\)"):
        networks.conv_kernels(path)
    with pytest.raises(ValueError, match=r"does not hold a state dict"):
        networks.load_state_dict(path)


def _onnx_bytes() -> bytes:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.arange(36, dtype=np.float32).reshape(4, 1, 3, 3), "W")
    node = helper.make_node("Conv", ["X", "W"], ["Y"], group=1)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 4, 6, 6])], [w])
    return helper.make_model(graph).SerializeToString()


def test_truncated_onnx(tmp_path):
    data = _onnx_bytes()
    good = _write(tmp_path / "good.onnx", data)
    assert networks.conv_kernels(good)[0].count == 4  # the intact file reads: the test can fail
    bad = _write(tmp_path / "truncated.onnx", data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cannot read ONNX file .*truncated\.onnx"):
        networks.conv_kernels(bad)


def test_no_kernels_of_that_size(tmp_path):
    path = _write(tmp_path / "good.onnx", _onnx_bytes())
    with pytest.raises(ValueError, match=r"no 5x5 convolution kernels \(kernel sizes present: 3x3\)"):
        networks.conv_kernels(path, 5)


# --------------------------------------------------------------------------------------------
# no partial output files
# --------------------------------------------------------------------------------------------

def test_atomic_write_leaves_nothing_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "out" / "ledger.json"
    publish.atomic_write_text(target, "old\n")

    def boom(src, dst):
        raise OSError("disk full")

    from infomech import _io  # publish writes through it

    monkeypatch.setattr(_io.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        publish.atomic_write_text(target, "new\n")
    assert target.read_text() == "old\n"  # the previous content survives intact
    assert sorted(p.name for p in target.parent.iterdir()) == ["ledger.json"]  # no temp left


def test_save_figure_leaves_nothing_when_savefig_fails(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("INFOMECH_BOOK_DIR", str(tmp_path))
    out = tmp_path / "figs"
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    calls = {"n": 0}
    real = fig.savefig

    def half_then_raise(fname, **kw):
        calls["n"] += 1
        if calls["n"] == 2:  # PNG rendered, SVG fails mid-way after writing some bytes
            if hasattr(fname, "write"):  # rendered to memory first
                fname.write(b"<svg partial")
            else:
                Path(fname).write_bytes(b"<svg partial")
            raise RuntimeError("savefig exploded")
        return real(fname, **kw)

    monkeypatch.setattr(fig, "savefig", half_then_raise)
    with pytest.raises(RuntimeError, match="savefig exploded"):
        publish.save_figure(fig, "fig-robust", chapter="robustness", params={}, outdir=out)
    plt.close(fig)
    assert calls["n"] == 2
    names = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert names == [], names  # neither the PNG nor a partial SVG nor a temp file


def test_save_figure_rejects_bad_name(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setenv("INFOMECH_BOOK_DIR", str(tmp_path))
    fig = plt.figure()
    with pytest.raises(ValueError, match=r"name must be letters, digits"):
        publish.save_figure(fig, "bad name/..", chapter="robustness", params={})
    plt.close(fig)
    assert not (tmp_path / "_static").exists() or not any((tmp_path / "_static").rglob("*"))
