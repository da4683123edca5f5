import numpy as np
import pytest

from infomech import stats


def test_slope_is_batched_and_exact_on_lines():
    t = np.arange(5.0)
    y = np.stack([2 * t + 1, -t], axis=1)
    np.testing.assert_allclose(stats.slope(t, y), [2.0, -1.0])
    with pytest.raises(ValueError):
        stats.slope(np.ones(3), np.ones(3))


def test_line_and_loglog_slope():
    a, b = stats.line([0, 1, 2, np.nan], [1, 3, 5, 7])
    assert a == pytest.approx(2.0) and b == pytest.approx(1.0)
    x = np.array([1.0, 2, 4, 8])
    assert stats.loglog_slope(x, 3 * x**0.5)[0] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        stats.loglog_slope(x, -x)


def test_correlation_and_bootstrap():
    x = np.arange(10.0)
    assert stats.correlation(x, 2 * x + 1) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        stats.correlation([1, 2], [1, 2])
    m, lo, hi = stats.mean_interval(x)
    assert lo < m == 4.5 < hi
    assert stats.bootstrap_interval(x) == stats.bootstrap_interval(x)  # seeded
    with pytest.raises(ValueError):
        stats.bootstrap_interval([])


def test_fit_line_recovers_line_and_identity_deviation():
    x = np.linspace(0, 1, 11)
    f = stats.fit_line(x, 2 * x + 0.5)
    assert f.slope == pytest.approx(2) and f.intercept == pytest.approx(0.5)
    assert f.r2 == pytest.approx(1)
    assert f.max_dev == pytest.approx(1.5)  # |2x + 0.5 - x| at x = 1
    g = stats.fit_line(x, x)
    assert g.max_dev == 0 and g.rmse == 0 and g.r2_identity == pytest.approx(1)
    h = stats.fit_line(x, x + np.where(x > 0.5, 1.0, 0.0), mask=x <= 0.5)
    assert h.n == 6 and h.max_dev == 0
    with pytest.raises(ValueError):
        stats.fit_line([1.0, 1.0], [0.0, 1.0])
