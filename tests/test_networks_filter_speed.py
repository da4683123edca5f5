"""Tests of infomech.networks.filter_speed: delta propagation through trained depthwise kernels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infomech.kernels import dct_beta
from infomech.networks import filter_speed as fs


def _file(tmp_path, k: np.ndarray) -> str:
    path = tmp_path / "dw.pth"
    torch.save({"dw.weight": torch.from_numpy(k.reshape(-1, 1, 3, 3))}, path)
    return str(path)


def test_non_negative_kernels_move_exactly_by_their_first_moment(tmp_path) -> None:
    # exact law: for k >= 0, ReLU does nothing and the centre of mass moves by -sum d k / sum k
    k = np.random.default_rng(0).random((12, 3, 3))
    run = fs.run_filters(_file(tmp_path, k), steps=6)
    assert run.alive.all()
    np.testing.assert_allclose(run.velocity, run.drift, atol=1e-12)
    d = fs.first_moment_drift(np.array([[0, 0, 0], [0, 1, 1], [0, 0, 0.0]]))
    assert d[0] == pytest.approx(-0.5) and d[1] == 0  # cross-correlation: moves left (-x)


def test_vanishing_and_zero_kernels_are_counted(tmp_path) -> None:
    k = np.stack([-np.ones((3, 3)), np.zeros((3, 3)), np.ones((3, 3))])
    run = fs.run_filters(_file(tmp_path, k), steps=3)
    assert run.meta["zero_kernels"] == 1 and run.kernels.shape[0] == 2
    assert run.alive.tolist() == [False, True]
    s = fs.summary({"x": run}, n_boot=10)["x"]
    assert s["vanished"] == 1 and s["zero_kernels"] == 1


def test_predictors_of_dct_beta_kernels() -> None:
    b2 = np.array([0.0, 0.25, 0.5, 1.0])
    k = np.stack([dct_beta(b, 3) for b in b2])
    p = fs.predictors(k)
    np.testing.assert_allclose(p["beta_point"], np.sqrt(b2), atol=1e-12)
    np.testing.assert_allclose(p["beta_square"], np.sqrt(b2), atol=1e-12)   # splits agree here
    np.testing.assert_allclose(p["grad_share"], np.sqrt(b2), atol=1e-12)


def test_correlations_and_paired_difference(tmp_path) -> None:
    rng = np.random.default_rng(1)
    k = rng.random((60, 3, 3)) + 0.5 * rng.standard_normal((60, 3, 3))
    run = fs.run_filters(_file(tmp_path, k), steps=5)
    corr = fs.correlations(run, n_boot=200)
    for c in corr.values():
        assert -1 <= c.ci[0] <= c.rho <= c.ci[1] <= 1 or c.ci[0] <= c.rho <= c.ci[1]
        assert c.n == int(run.alive.sum())
    diff, (lo, hi) = fs.rho_difference(corr, "first_moment", "first_moment")
    assert diff == 0 and lo == hi == 0
    assert fs.spearman(np.arange(5.0), np.arange(5.0) ** 3) == pytest.approx(1)


def test_angle_between() -> None:
    a = np.array([[1.0, 0], [1, 0], [0, 1]])
    b = np.array([[1.0, 1], [-1, 0], [0, 2]])
    np.testing.assert_allclose(fs.angle_between(a, b), [45, 180, 0], atol=1e-12)


def test_no_depthwise_layers(tmp_path) -> None:
    path = tmp_path / "full.pth"
    torch.save({"c.weight": torch.randn(4, 3, 3, 3)}, path)
    with pytest.raises(ValueError, match="no 3x3 depthwise"):
        fs.run_filters(str(path))


def _boot_rhos_loop(preds, speed, n_boot, seed):
    """The bootstrap as first written: one draw, two rankdata and one corrcoef per resample."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    out = {name: np.empty(n_boot) for name in preds}
    for i in range(n_boot):
        idx = rng.integers(0, speed.size, speed.size)
        rs = stats.rankdata(speed[idx])
        for name, p in preds.items():
            out[name][i] = np.corrcoef(stats.rankdata(p[idx]), rs)[0, 1]
    return out


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("n", [1, 2, 7, 61, 300])
def test_batched_bootstrap_is_bit_identical_to_the_loop(n, monkeypatch) -> None:
    # draws (one call of shape (n_boot, n) = n_boot calls of n, odd n included), average ranks with
    # ties, NaN rows, constant resamples and the blocking: every value equal to the per-resample loop
    monkeypatch.setattr(fs, "_BLOCK_VALUES", 3 * n)           # several blocks, the last one short
    rng = np.random.default_rng(n)
    speed = rng.integers(0, 5, n).astype(float)              # many ties
    preds = {"cont": rng.standard_normal(n), "tied": np.round(rng.standard_normal(n), 1),
             "nan": np.where(rng.random(n) < 0.1, np.nan, rng.random(n)), "speed": speed.copy()}
    new = fs._boot_rhos(preds, speed, 37, n)
    old = _boot_rhos_loop(preds, speed, 37, n)
    for name in preds:
        assert np.array_equal(new[name], old[name], equal_nan=True), name


def test_resample_ranks_are_rankdata() -> None:
    from scipy import stats

    x = np.array([3.0, 1.0, 3.0, 2.0, 3.0, np.inf])
    idx = np.array([[0, 1, 2, 3, 4, 5], [0, 0, 0, 1, 1, 5], [5, 5, 5, 5, 5, 5]])
    want = np.stack([stats.rankdata(x[i]) for i in idx])
    assert np.array_equal(fs.resample_ranks(x, idx), want)
    assert np.isnan(fs.resample_ranks(np.array([1.0, np.nan]), np.array([[0, 1], [0, 0]]))[0]).all()
    with pytest.raises(ValueError, match="1-D"):
        fs.resample_ranks(x[None], idx)


@pytest.mark.filterwarnings("ignore:.*constant")
def test_spearman_is_scipy_spearmanr_without_scipy_stats(monkeypatch) -> None:
    import sys

    from scipy import stats

    rng = np.random.default_rng(4)
    pairs = []
    for i in range(300):
        n = int(rng.integers(2, 200))
        a = rng.standard_normal(n) if i % 2 else rng.integers(0, 6, n).astype(float)
        b = a * rng.random() + rng.standard_normal(n) if i % 3 else rng.integers(0, 3, n).astype(float)
        pairs.append((a, b))
    pairs += [(np.ones(4), np.arange(4.0)), (np.array([1.0, np.nan, 2]), np.arange(3.0))]
    want = [float(stats.spearmanr(a, b).statistic) for a, b in pairs]
    import scipy

    monkeypatch.setitem(sys.modules, "scipy.stats", None)     # any import of it now fails
    monkeypatch.delattr(scipy, "stats")
    got = [fs.spearman(a, b) for a, b in pairs]
    assert np.array_equal(got, want, equal_nan=True)
    assert np.isnan(fs.spearman([1.0], [2.0]))
    with pytest.warns(RuntimeWarning, match="constant"):
        fs.spearman(np.ones(3), np.arange(3.0))
    with pytest.raises(ValueError, match="same length"):
        fs.spearman(np.arange(3.0), np.arange(4.0))
