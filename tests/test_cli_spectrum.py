"""``infomech spectrum``: every behaviour of the subcommand, through the real ``main()``.

One home for the spectrum CLI (:mod:`infomech.cli.spectrum`): the JSON, text, CSV and plot outputs
equal the library (:func:`infomech.spectrum.spectrum`), ``--list``, and every bad source or flag
(the failure contract of ``tests/test_cli.py``: exactly one line on stderr naming the input, exit
status 2, no traceback, nothing on stdout). The exit status through a real process is checked
once for all subcommands in ``tests/test_cli.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_helpers import cli, one_error_line

from infomech import spectrum as sp
from infomech.networks import readers


def _weights(path: Path, seed: int | None = 0) -> Path:
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    torch.save({"c1.weight": torch.randn(8, 3, 3, 3, generator=g),
                "c2.weight": torch.randn(8, 1, 3, 3, generator=g)}, path)
    return path


def test_json_and_text_equal_the_library(tmp_path) -> None:
    path = _weights(tmp_path / "w.pth")
    proc = cli("spectrum", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    spec = sp.spectrum(path)
    np.testing.assert_allclose(out["mean_fractions"], spec.mean_fractions.ravel(), rtol=0, atol=0)
    assert out["dc_grad_share"] == spec.dc_grad_share
    assert out["per_basis"]["nabla_x"] == spec.mean_fractions[0, 1]
    assert "layers" not in out             # per-layer rows only with --layers
    assert out["null"]["dc_grad_share"] == pytest.approx(1 / 3)
    assert out["verdict"] == sp.network_verdict(spec).to_dict()
    assert [t["basis"] for t in out["tests"]][:4] == ["DC", "grad_x", "grad_y", "DC+grad"]
    text = cli("spectrum", str(path)).stdout
    assert "DC + two gradients" in text and "verdict: neither" in text
    out = json.loads(cli("spectrum", str(path), "--json", "--layers", "--weighting", "kernel").stdout)
    assert out["weighting"] == "kernel" and len(out["layers"]) == 2
    assert out["dc_grad_share"] == pytest.approx(spec.dc_grad_share_for("kernel"), abs=0)
    assert out["layers"][1]["verdict"]["verdict"] in sp.VERDICTS


def test_csv_plot_and_list(tmp_path) -> None:
    path = _weights(tmp_path / "w.pth", seed=None)
    csv_out, png = tmp_path / "s.csv", tmp_path / "s.png"
    proc = cli("spectrum", str(path), "--csv", str(csv_out), "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    assert "verdict:" in proc.stdout         # the table still goes to stdout
    lines = csv_out.read_text().splitlines()
    # header + DC, grad_x, grad_y, DC+grad + the 6 other bases
    assert lines[0].startswith("source,weighting,basis") and len(lines) == 1 + 4 + 6
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = cli("spectrum", str(path), "--csv", "--layers").stdout.splitlines()
    assert rows[0].startswith("layer,kind,kernels,Sigma") and len(rows) == 3
    listing = cli("spectrum", "--list").stdout
    assert "random" in listing and "vgg16" in listing
    rows = json.loads(cli("spectrum", "--list", "--json").stdout)
    assert {r["name"] for r in rows} >= {"random", "vgg16"} and all("how_to_get" in r for r in rows)


BAD_FLAGS = [
    # (args, text the line must contain)
    (["spectrum", "no_such_net"], "no_such_net"),
    (["spectrum", "/nonexistent/weights.pth"], "weights.pth"),
    (["spectrum", "random", "--kernel-size", "0"], "kernel size"),
    (["spectrum", "random", "--kernel-size", "x"], "--kernel-size"),
    (["spectrum", "random", "--kernel-size", "5"], "5x5"),
    (["spectrum", "vgg16", "--kernel-size", "1"], "kernel size"),
    (["spectrum", "random", "--weighting", "uniform"], "--weighting"),
    (["spectrum", ""], "error:"),
    (["spectrum", "random:"], "random:"),
    (["spectrum"], "SOURCE"),
]


@pytest.mark.parametrize(("args", "named"), BAD_FLAGS, ids=[" ".join(a) for a, _ in BAD_FLAGS])
def test_bad_source_or_flag_is_one_line(args, named) -> None:
    line = one_error_line(cli(*args))
    assert line.startswith("infomech") and "error:" in line and named in line, line


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BAD_FILES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("garbage .pth", lambda d: _write(d / "garbage.pth", b"\x00\x01garbage" * 20),
     "cannot read weights file"),
    ("directory", lambda d: d, "is a directory"),
    ("empty .onnx", lambda d: _write(d / "empty.onnx", b""), "the file is empty"),
    ("garbage .npz", lambda d: _write(d / "bad.npz", b"garbage"), "not a readable .npz"),
    ("meta tensors", lambda d: _save(d, torch.empty(4, 1, 3, 3, device="meta")), "meta tensor"),
    ("complex weights", lambda d: _save(d, torch.randn(4, 1, 3, 3, dtype=torch.complex128)), "complex"),
]


def _save(d: Path, w: torch.Tensor) -> Path:
    torch.save({"c.weight": w}, d / "w.pth")
    return d / "w.pth"


@pytest.mark.parametrize(("make", "match"), [(m, t) for _, m, t in BAD_FILES],
                         ids=[name for name, _, _ in BAD_FILES])
def test_bad_weight_file_is_one_specific_line(tmp_path, make, match) -> None:
    path = make(tmp_path)
    line = one_error_line(cli("spectrum", str(path)))
    assert line.startswith("infomech spectrum: error:") and match in line, line


def test_unreadable_weight_file_is_one_line(tmp_path, monkeypatch) -> None:
    path = _save(tmp_path, torch.randn(4, 1, 3, 3))
    monkeypatch.setattr(readers, "open", lambda *a, **k: (_ for _ in ()).throw(
        PermissionError(13, "Permission denied")), raising=False)
    line = one_error_line(cli("spectrum", str(path)))
    assert line.startswith("infomech spectrum: error:")
