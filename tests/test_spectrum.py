"""Tests of infomech.spectrum and the ``spectrum`` sub-command."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from infomech import _cli_spectrum
from infomech import spectrum as sp
from infomech.dct import basis, idct2
from infomech.weights import ConvLayer


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="infomech")
    sub = parser.add_subparsers(dest="cmd")
    _cli_spectrum.add_parser(sub)
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_null_values_from_the_maths() -> None:
    assert sp.null_fractions(3)[1, 2] == pytest.approx(1 / 9)
    assert sp.null_dc_grad_share(3) == pytest.approx(3 / 9)
    assert sp.null_dc_grad_share(5) == pytest.approx(3 / 25)
    assert sp.null_odd_share(3, "point") == pytest.approx(4 / 9)
    assert sp.null_odd_share(3, "square") == pytest.approx(6 / 9)
    assert sp.null_fractions(4).sum() == pytest.approx(1)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_iid_kernels_match_the_null_within_sampling_error(n) -> None:
    rng = np.random.default_rng(11)
    counts = [500, 2000, 300, 1000]
    spec = sp.spectrum_of_layers(
        [ConvLayer(f"l{i}", "full", (c, 1, n, n), rng.standard_normal((c, n, n)))
         for i, c in enumerate(counts)])
    tol1 = 4.5 * sp.null_sd(n, counts, 1)  # 4.5 sd: false alarm < 1e-5 per basis
    np.testing.assert_allclose(spec.mean_fractions, sp.null_fractions(n), atol=tol1)
    assert abs(spec.dc_grad_share - sp.null_dc_grad_share(n)) < 4.5 * spec.null_sd(3)
    d_odd = round(sp.null_odd_share(n, "point") * n * n)
    assert abs(spec.odd_share("point") - sp.null_odd_share(n)) < 4.5 * sp.null_sd(n, counts, d_odd)


def test_null_sd_matches_simulation() -> None:
    rng = np.random.default_rng(5)
    reps = np.array([sp.layer_fractions(rng.standard_normal((50, 3, 3)))[0, 1]
                     for _ in range(2000)])
    assert reps.std() == pytest.approx(sp.null_sd(3, [50]), rel=0.1)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.sampled_from([2, 3, 5]),
                                    st.just(0)).map(lambda t: (t[0], t[1], t[1])),
              elements=st.one_of(st.just(0.0), st.floats(0.01, 10), st.floats(-10, -0.01))))
def test_fractions_sum_to_one(k) -> None:
    if not k.any():
        with pytest.raises(ValueError):
            sp.layer_fractions(k)
        return
    f = sp.layer_fractions(k)
    assert f.shape == k.shape[1:]
    assert f.sum() == pytest.approx(1, abs=1e-9) and (f >= 0).all()


def test_torch_and_numpy_agree() -> None:
    k = np.random.default_rng(2).standard_normal((7, 10, 3, 3))
    np.testing.assert_allclose(sp.layer_fractions(torch.from_numpy(k)).numpy(),
                               sp.layer_fractions(k), atol=1e-12)
    np.testing.assert_allclose(sp.layer_odd_share(torch.from_numpy(k), "square").numpy(),
                               sp.layer_odd_share(k, "square"), atol=1e-12)


def test_known_kernels_give_known_fractions(tmp_path) -> None:
    # layer 1: 3 DC kernels and 1 x-gradient of twice the amplitude -> energy 3 : 4
    # layer 2: one (1,1) saddle -> all energy in (1,1)
    l1 = np.stack([basis(0, 0)] * 3 + [2 * basis(0, 1)]).reshape(4, 1, 3, 3)
    l2 = basis(1, 1).reshape(1, 1, 3, 3)
    path = tmp_path / "known.pth"
    torch.save({"l1.weight": torch.from_numpy(l1), "l2.weight": torch.from_numpy(l2)}, path)
    spec = sp.spectrum(path)
    expect1 = np.zeros((3, 3))
    expect1[0, 0], expect1[0, 1] = 3 / 7, 4 / 7
    np.testing.assert_allclose(spec.layers[0].fractions, expect1, atol=1e-12)
    expect = (expect1 + np.outer(np.eye(3)[1], np.eye(3)[1])) / 2
    np.testing.assert_allclose(spec.mean_fractions, expect, atol=1e-12)
    assert spec.dc_grad_share == pytest.approx(0.5)
    assert spec.layers[0].odd_point == pytest.approx(4 / 7)
    assert spec.layers[1].odd_point == pytest.approx(0)       # the saddle is point-even ...
    assert spec.layers[1].odd_square == pytest.approx(1)      # ... but not square-symmetric
    # a bare state dict has no groups: (C, 1, n, n) with C > 1 reads as depthwise
    assert [la.kind for la in spec.layers] == ["depthwise", "full"]


def test_select_and_reported_table() -> None:
    rng = np.random.default_rng(0)
    layers = [ConvLayer("a", "full", (5, 2, 3, 3), rng.standard_normal((10, 3, 3))),
              ConvLayer("b", "depthwise", (5, 1, 3, 3), idct2(np.eye(3)[None].repeat(5, 0)))]
    spec = sp.spectrum_of_layers(layers)
    assert spec.select("depthwise").dc_grad_share == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        spec.select("grouped")
    vgg = sp.reported_fractions("VGG16")
    assert vgg.sum() == pytest.approx(1, abs=0.01)
    for name, rep in sp.REPORTED_BY_AUTHORS.items():
        assert sp.dc_grad_share(sp.reported_fractions(name)) == pytest.approx(
            rep["dc_grad_share"], abs=1e-9)


def test_cli_json_equals_library(tmp_path, capsys) -> None:
    path = tmp_path / "w.pth"
    g = torch.Generator().manual_seed(0)
    torch.save({"c1.weight": torch.randn(8, 3, 3, 3, generator=g),
                "c2.weight": torch.randn(8, 1, 3, 3, generator=g)}, path)
    assert _cli("spectrum", str(path), "--json") == 0
    out = json.loads(capsys.readouterr().out)
    spec = sp.spectrum(path)
    np.testing.assert_allclose(out["mean_fractions"], spec.mean_fractions.ravel(), rtol=0, atol=0)
    assert out["dc_grad_share"] == spec.dc_grad_share
    assert out["per_basis"]["nabla_x"] == spec.mean_fractions[0, 1]
    assert [la["kind"] for la in out["layers"]] == ["full", "depthwise"]
    assert out["null"]["dc_grad_share"] == pytest.approx(1 / 3)
    assert _cli("spectrum", str(path)) == 0
    assert "DC + two gradients" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [("spectrum", "not_a_network"),
                                  ("spectrum", "random", "--kernel-size", "5")])
def test_cli_errors_one_line_exit_2(argv, capsys) -> None:
    assert _cli(*argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1


def test_cli_corrupt_file(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    assert _cli("spectrum", str(bad)) == 2
    assert "bad.pt" in capsys.readouterr().err


def test_top3_is_dcgrad() -> None:
    f = np.full((3, 3), 0.05)
    f[0, 0], f[0, 1], f[1, 0] = 0.3, 0.2, 0.15
    assert sp.top3_is_dcgrad(f)
    f[2, 2] = 0.16                      # a checkerboard overtakes nabla_y
    assert not sp.top3_is_dcgrad(f)
    assert sp.top3_is_dcgrad(sp.reported_fractions("VGG16"))
    assert sp.top3_is_dcgrad(np.pad(np.array([[3, 2], [1, 0.5]]), ((0, 3), (0, 3))))  # n = 5
    with pytest.raises(ValueError):
        sp.top3_is_dcgrad(np.ones(9))


def test_reported_order_is_public_and_complete() -> None:
    order = sp.reported_order()
    assert order[:3] == sp.DC_GRAD and sorted(order) == [(u, v) for u in range(3) for v in range(3)]
    rep = sp.reported_fractions("ResNet50")
    assert [rep[uv] for uv in order] == list(sp.REPORTED_BY_AUTHORS["ResNet50"]["fractions"])


def _layers(kernels: np.ndarray, name: str = "l") -> sp.Spectrum:
    return sp.spectrum_of_layers([ConvLayer(name, "full", (len(kernels), 1, 3, 3), kernels)], "test")


def test_enriched_and_dominated_rules() -> None:
    rng = np.random.default_rng(0)
    iid = _layers(rng.standard_normal((4000, 3, 3)))
    assert abs(sp.dc_grad_z(iid)) < 4 and not sp.is_dominated(iid)
    mask = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0]])
    low = idct2(np.pad(rng.standard_normal((4000, 2, 2)), ((0, 0), (0, 1), (0, 1))) * mask)
    low = low + 0.1 * rng.standard_normal(low.shape)   # DC + gradients plus a little noise
    s = _layers(low)
    assert sp.dc_grad_z(s) > 100 and sp.is_enriched(s) and sp.is_dominated(s)
    saddle = _layers(basis(1, 1, 3)[None] + 0.01 * rng.standard_normal((50, 3, 3)))
    assert sp.dc_grad_z(saddle) < 0 and not sp.is_enriched(saddle) and not sp.is_dominated(saddle)


def test_mobilenet_v2_strides() -> None:
    st = sp.mobilenet_v2_depthwise_strides()
    assert len(st) == 17
    assert sorted(int(k.split(".")[1]) for k, v in st.items() if v == 2) == [2, 4, 7, 14]
    assert "features.1.conv.0.0.weight" in st and "features.17.conv.1.0.weight" in st
