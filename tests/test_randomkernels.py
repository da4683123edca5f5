import numpy as np
import pytest

from infomech import randomkernels as R
from infomech.decomposition import beta2_null_law


@pytest.mark.parametrize("n", [2, 3, 5])
@pytest.mark.parametrize("kind", ["point", "square"])
def test_gaussian_kernels_follow_the_beta_law(n, kind):
    s = R.sample_beta2(n, 20000, kind, seed=1)
    stat, _ = R.ks_beta(s, n, kind)
    assert stat < R.ks_critical(20000, alpha=0.001)
    a, b = beta2_null_law(n, kind)
    assert s.mean() == pytest.approx(a / (a + b), abs=0.01)


def test_ks_detects_the_wrong_law():
    s = R.sample_beta2(3, 20000, "square", seed=1)
    stat, p = R.ks_beta(s, 3, "point")  # the point law is wrong for the square split
    assert stat > 10 * R.ks_critical(20000) and p < 1e-6


def test_uniform_entries_break_the_law_for_2x2():
    s = R.sample_beta2(2, 20000, "point", seed=2, distribution="uniform")
    assert R.ks_beta(s, 2, "point")[0] > 2 * R.ks_critical(20000)


def test_pdf_integrates_to_one_and_errors():
    x = np.linspace(0, 1, 20001)[1:-1]
    assert np.trapezoid(R.beta_pdf(x, 5, "point"), x) == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="distribution"):
        R.sample_beta2(3, 10, distribution="cauchy")


def test_ks_critical_is_scipy_kstwobign_isf_without_scipy_stats(monkeypatch):
    # bit-identical to scipy.stats.kstwobign.isf(alpha) / sqrt(N), and scipy.stats not needed
    import sys

    from scipy import stats

    alphas = [1e-6, 0.001, 0.01, 0.05, 0.1, 0.5, 0.9]
    counts = [1, 7, 100, 2000, 20000]
    want = [float(stats.kstwobign.isf(a) / np.sqrt(c)) for a in alphas for c in counts]
    monkeypatch.setitem(sys.modules, "scipy.stats", None)  # any import of it now fails
    monkeypatch.delattr("scipy.stats", raising=False)      # and `from scipy import stats` too
    got = [R.ks_critical(c, alpha=a) for a in alphas for c in counts]
    assert got == want
