"""Tests of infomech.spectrum (its ``spectrum`` sub-command: ``tests/test_cli_spectrum.py``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from infomech import spectrum as sp
from infomech.dct import basis, idct2
from infomech.networks import ConvLayer, reference


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
    vgg = reference.reported_fractions("VGG16")
    assert vgg.sum() == pytest.approx(1, abs=0.01)
    for name, rep in reference.REPORTED_BY_AUTHORS.items():
        assert sp.dc_grad_share(reference.reported_fractions(name)) == pytest.approx(
            rep["dc_grad_share"], abs=1e-9)


def test_top3_is_dcgrad() -> None:
    f = np.full((3, 3), 0.05)
    f[0, 0], f[0, 1], f[1, 0] = 0.3, 0.2, 0.15
    assert sp.top3_is_dcgrad(f)
    f[2, 2] = 0.16                      # a checkerboard overtakes nabla_y
    assert not sp.top3_is_dcgrad(f)
    assert sp.top3_is_dcgrad(reference.reported_fractions("VGG16"))
    assert sp.top3_is_dcgrad(np.pad(np.array([[3, 2], [1, 0.5]]), ((0, 3), (0, 3))))  # n = 5
    with pytest.raises(ValueError):
        sp.top3_is_dcgrad(np.ones(9))


def test_reported_order_is_public_and_complete() -> None:
    order = reference.reported_order()
    assert order[:3] == sp.DC_GRAD and sorted(order) == [(u, v) for u in range(3) for v in range(3)]
    rep = reference.reported_fractions("ResNet50")
    assert [rep[uv] for uv in order] == list(reference.REPORTED_BY_AUTHORS["ResNet50"]["fractions"])


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
    st = reference.mobilenet_v2_depthwise_strides()
    assert len(st) == 17
    assert sorted(int(k.split(".")[1]) for k, v in st.items() if v == 2) == [2, 4, 7, 14]
    assert "features.1.conv.0.0.weight" in st and "features.17.conv.1.0.weight" in st


# ---------------------------------------------------------------------------------------------
# Weighting, per-basis tests and the computed verdict (issue 15 item 1)
# ---------------------------------------------------------------------------------------------

def _layers(*stacks: np.ndarray, kind: str = "full") -> sp.Spectrum:
    return sp.spectrum_of_layers(
        [ConvLayer(f"l{i}", kind, (len(k), 1, 3, 3), np.asarray(k, dtype=float))
         for i, k in enumerate(stacks)])


def test_kernel_weighting_gives_every_kernel_equal_say() -> None:
    # 1 DC kernel of norm 10 and 1 gradient of norm 1: energy weighting 100 : 1, kernel 1 : 1
    k = np.stack([10 * basis(0, 0), basis(0, 1), np.zeros((3, 3))])   # a pruned (zero) kernel too
    fe = sp.layer_fractions(k, "energy")
    fk = sp.layer_fractions(k, "kernel")
    assert fe[0, 0] == pytest.approx(100 / 101) and fe[0, 1] == pytest.approx(1 / 101)
    assert fk[0, 0] == pytest.approx(0.5) and fk[0, 1] == pytest.approx(0.5)   # zero kernel left out
    assert sp.layer_odd_share(k, "point", "kernel") == pytest.approx(0.5)
    assert sp.layer_odd_share(k, "point", "energy") == pytest.approx(1 / 101)
    np.testing.assert_allclose(sp.layer_fractions(torch.from_numpy(k), "kernel").numpy(), fk, atol=1e-15)
    with pytest.raises(ValueError, match="weighting"):
        sp.layer_fractions(k, "uniform")
    with pytest.raises(ValueError, match="zero energy"):
        sp.layer_fractions(np.zeros((2, 3, 3)), "kernel")
    s = _layers(k)
    assert s.layers[0].live == 2 and s.counts_for("kernel") == [2] and s.counts == [3]


def test_kernel_weighted_null_spread_matches_simulation() -> None:
    rng = np.random.default_rng(8)
    reps = np.array([sp.layer_fractions(rng.standard_normal((40, 3, 3)), "kernel")[0, 0]
                     for _ in range(3000)])
    assert reps.mean() == pytest.approx(1 / 9, abs=3 * reps.std() / np.sqrt(reps.size))
    assert reps.std() == pytest.approx(sp.null_sd(3, [40], 1, "kernel"), rel=0.08)


def test_iid_network_is_neither_under_both_weightings() -> None:
    rng = np.random.default_rng(3)
    s = _layers(*[rng.standard_normal((300, 3, 3)) for _ in range(6)])
    for w in ("energy", "kernel"):
        v = sp.network_verdict(s, w)
        assert v.word == "neither" and v.enriched == ()
        for t in sp.basis_tests(s, w):
            assert not t.enriched
            assert t.ci[0] < t.share < t.ci[1]


def test_dc_only_excess_is_not_dct_dominance() -> None:
    # the MobileNetV2 pattern: DC far above the null, gradients at the null
    rng = np.random.default_rng(4)
    stacks = []
    for _ in range(8):
        k = rng.standard_normal((400, 3, 3))
        k += 2.0 * basis(0, 0)          # strong mean, per kernel
        stacks.append(k)
    s = _layers(*stacks)
    v = sp.network_verdict(s)
    tests = {t.name: t for t in sp.basis_tests(s)}
    assert tests["DC"].enriched and tests["DC+grad"].enriched
    assert not tests["grad_x"].enriched and not tests["grad_y"].enriched
    assert v.word == "neither" and v.enriched == ("DC",) and v.detail == "DC only enriched"
    assert sp.is_enriched(s)   # the old combined z test calls this enriched: the defect of issue 15


def test_dc_and_gradients_dominate() -> None:
    rng = np.random.default_rng(5)
    stacks = [0.3 * rng.standard_normal((200, 3, 3)) + rng.choice([-1, 1], (200, 1, 1)) * basis(0, 0)
              + rng.standard_normal((200, 1, 1)) * basis(0, 1) + rng.standard_normal((200, 1, 1))
              * basis(1, 0) for _ in range(6)]
    s = _layers(*stacks)
    for w in ("energy", "kernel"):
        v = sp.network_verdict(s, w)
        assert v.word == "dominated", v
        assert v.enriched == ("DC", "grad_x", "grad_y") and not v.near_tie
    d = s.to_dict(layers=True)
    assert d["verdict"]["verdict"] == "dominated"
    assert {t["basis"] for t in d["tests"]} >= {"DC", "grad_x", "grad_y", "DC+grad", "(1,1)"}
    assert d["layers"][0]["verdict"]["verdict"] == "dominated"
    assert "one layer" not in d["layers"][0]["verdict"]["detail"]


def test_layer_as_unit_rejects_one_freak_layer() -> None:
    # one layer of pure DC among five i.i.d. layers: huge i.i.d. z, but no consistent excess
    rng = np.random.default_rng(6)
    stacks = [rng.standard_normal((500, 3, 3)) for _ in range(5)] + [np.stack([basis(0, 0)] * 500)]
    t = {t.name: t for t in sp.basis_tests(_layers(*stacks))}["DC"]
    assert t.z > 50 and t.p > sp.ALPHA and not t.enriched


def test_layer_t_test_and_bootstrap() -> None:
    from scipy import stats

    x = [0.2, 0.25, 0.3, 0.22]
    t, p = sp.layer_t_test(x, 0.1)
    ref = stats.ttest_1samp(x, 0.1, alternative="greater")
    assert t == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    assert np.isnan(sp.layer_t_test([0.3], 0.1)[1])
    assert sp.layer_t_test([0.3, 0.3], 0.1) == (np.inf, 0.0)
    lo, hi = sp.bootstrap_interval(x)
    assert min(x) <= lo < np.mean(x) < hi <= max(x)
    assert sp.bootstrap_interval(x) == (lo, hi)   # seeded


def test_layer_t_test_p_is_scipy_t_sf_without_scipy_stats(monkeypatch) -> None:
    # p-values bit-identical to scipy.stats.t.sf, and scipy.stats (~1.5 s to import) not needed
    import sys

    from scipy import stats

    rng = np.random.default_rng(3)
    samples = [rng.random(int(rng.integers(2, 60))) for _ in range(200)]
    want = [float(stats.t.sf(sp.layer_t_test(x, 0.5)[0], x.size - 1)) for x in samples]
    import scipy

    monkeypatch.setitem(sys.modules, "scipy.stats", None)     # any import of it now fails
    monkeypatch.delattr(scipy, "stats")
    assert [sp.layer_t_test(x, 0.5)[1] for x in samples] == want


def test_top3_margin_and_odd_share_test() -> None:
    f = np.full((3, 3), 0.05)
    f[0, 0], f[0, 1], f[1, 0], f[2, 2] = 0.3, 0.2, 0.15, 0.1
    assert sp.top3_margin(f) == pytest.approx(0.05)
    f[2, 2] = 0.16
    assert sp.top3_margin(f) == pytest.approx(-0.01)
    rng = np.random.default_rng(7)
    even = [rng.standard_normal((100, 3, 3)) for _ in range(4)]
    even = [k + k[:, ::-1, ::-1] for k in even]          # point-even: odd share 0
    share, _t, p = sp.odd_share_test(_layers(*even), "point")
    assert share == pytest.approx(0, abs=1e-12) and p == 0.0
    iid = _layers(*[rng.standard_normal((100, 3, 3)) for _ in range(4)])
    assert sp.odd_share_test(iid, "point")[2] > sp.ALPHA


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_layer_spectrum_shortcuts_equal_the_definitions(n) -> None:
    # layer_spectrum derives the split energies from the DCT; they must equal the direct splits
    k = np.random.default_rng(n).standard_normal((30, n, n))
    k[3] = 0.0
    ls = sp.layer_spectrum(ConvLayer("x", "full", (30, 1, n, n), k))
    for w in ("energy", "kernel"):
        np.testing.assert_allclose(ls.fractions_for(w), sp.layer_fractions(k, w), atol=1e-13)
        for split in ("point", "square"):
            assert ls.odd_for(split, w) == pytest.approx(sp.layer_odd_share(k, split, w), abs=1e-13)


def test_network_verdict_reuses_given_basis_tests() -> None:
    from dataclasses import replace

    rng = np.random.default_rng(8)
    s = _layers(*[rng.standard_normal((300, 3, 3)) + 2 * basis(0, 0) for _ in range(4)])
    tests = sp.basis_tests(s, "energy", all_bases=False)
    assert sp.network_verdict(s, tests=tests) == sp.network_verdict(s)
    assert "DC" in sp.network_verdict(s).enriched
    no_dc = [replace(t, enriched=False) if t.name == "DC" else t for t in tests]
    assert "DC" not in sp.network_verdict(s, tests=no_dc).enriched     # the given tests are used
