import numpy as np
import pytest

from infomech import diffusion as D
from infomech import patterns as P
from infomech.decomposition import even_odd


def test_zoo_covers_four_categories_and_is_even_with_unit_norm():
    zoo = D.even_kernels(3)
    cats = {k.category for k in zoo}
    assert cats == {"square-symmetric, non-negative", "point-even, non-negative",
                    "square-symmetric, signed", "point-even, signed"}
    for k in zoo:
        assert np.abs(even_odd(k.kernel)[1]).max() < 1e-12
        assert np.linalg.norm(k.kernel) == pytest.approx(1.0)
    dc = {k.name: k for k in zoo}["DC"].kernel
    np.testing.assert_allclose(dc, 1 / 3)
    assert len(D.even_kernels(5)) == len(zoo)
    with pytest.raises(ValueError):
        D.even_kernels(4)


def test_symmetry_class():
    assert D.symmetry_class(np.ones((3, 3))) == "square-symmetric"
    assert D.symmetry_class(np.eye(3)) == "point-even"
    k = np.zeros((3, 3))
    k[1, 0] = 1
    assert D.symmetry_class(k) == "not even"


def test_spread_exponent():
    t = np.arange(21.0)[:, None]
    s = np.hstack([3 + 0.5 * t, 1 + 0.2 * t**2, np.full_like(t, 2.0)])
    a = D.spread_exponent(s)
    assert a[0] == pytest.approx(1.0) and a[1] == pytest.approx(2.0) and np.isnan(a[2])
    with pytest.raises(ValueError):
        D.spread_exponent(s[:2])


def test_verdicts():
    assert D.centre_verdict(0.0, 20) == "exact"
    assert D.centre_verdict(0.1, 20) == "approximate"
    assert D.centre_verdict(0.3, 20) == "fails"
    assert D.centre_verdict(np.nan, 20) == "fails"
    assert D.isotropy_verdict(1.0) == "exact"
    assert D.isotropy_verdict(0.95) == "approximate"
    assert D.isotropy_verdict(0.5) == "fails"
    assert D.isotropy_verdict(np.nan) == "no spread"
    assert D.verdict(0.0, 0.95, 20) == "approximate"
    assert D.verdict(0.3, 1.0, 20) == "fails"
    assert D.verdict(0.0, 1.0, 20) == "exact"


@pytest.fixture(scope="module")
def small_study():
    zoo = D.even_kernels(3)
    pats = {"delta": P.delta(41), "natural": np.pad(P.natural_image(24), 14)}
    return D.study(zoo, pats, ("relu", "none"), steps=10)


def test_study_records_and_law(small_study):
    s = small_study
    assert len(s.records) == 12 * 2 * 2
    assert set(s.trajectories) == {("delta", "relu"), ("delta", "none"),
                                   ("natural", "relu"), ("natural", "none")}
    nonneg = s.select(nonnegative=True)
    assert nonneg
    for r in nonneg:  # the exact law: no drift, slope tr C / 2, isotropy of C
        assert r["drift_max"] < 1e-9
        assert r["sigma2_slope"] == pytest.approx(r["sigma2_slope_law"], abs=1e-9)
        assert r["isotropy"] == pytest.approx(r["isotropy_law"], abs=1e-9)
    assert s.select(kernel="DC", pattern="delta", activation="relu")[0]["sigma2_slope"] == \
        pytest.approx(2 / 3)
    assert s.column("isotropy", kernel="bar").max() < 1e-9
    assert all(r["verdict"] == "exact" for r in s.select(symmetry="square-symmetric", nonnegative=True))


def test_signed_even_kernels_drift_on_an_asymmetric_input_under_relu(small_study):
    drift = small_study.column("drift_max", pattern="natural", activation="relu", nonnegative=False)
    assert drift.max() > 1.0
    # ...but a symmetric input keeps its centre under any even kernel
    assert small_study.column("drift_max", pattern="delta").max() < 1e-9


def test_by_name_picks_the_named_kernel():
    zoo = D.even_kernels(3)
    assert D.by_name(zoo, "sharpen").name == "sharpen"
    assert np.allclose(D.by_name(zoo, "DC").kernel, 1 / 3)
    sad = D.by_name(zoo, "saddle (1,1)").kernel
    assert np.allclose(sad, -sad[:, ::-1])  # the saddle changes sign under a horizontal flip
    with pytest.raises(KeyError, match="sharpen"):
        D.by_name(zoo, "no such kernel")


def test_support_extent():
    x = np.zeros((3, 11, 11))
    x[0, 5, 5] = 1.0                     # centre pixel
    x[1, 2:5, 5:9] = -2.0                # rows y = -3..-1, columns x = 0..3
    ext = D.support_extent(x)
    assert ext[0].tolist() == [[0, 0], [0, 0]]
    assert ext[1].tolist() == [[0, 3], [-3, -1]]
    assert ext[2].tolist() == [[0, -1], [0, -1]]     # empty frame
    assert D.support_extent(x[1], tol=2.0).tolist() == [[[0, -1], [0, -1]]]
    with pytest.raises(ValueError):
        D.support_extent(np.zeros(5))


def test_directional_kurtosis_of_a_box_walk_matches_the_cumulant_law():
    from infomech.propagation import propagate

    k = np.ones((1, 3, 3)) / 3
    tr = propagate(P.delta(41), k, 6, activation="relu", frames=[3, 6])
    g = D.directional_kurtosis(np.stack([tr.frames[3], tr.frames[6]]))
    law = D.kurtosis_law(k, np.array([3, 6]))
    np.testing.assert_allclose(g, law, atol=1e-12)
    np.testing.assert_allclose(law[0, 0], [-0.5, -0.25])  # -3/2 / t and -3/4 / t at t = 3


def test_contour_radii_of_a_gaussian_are_round():
    y, x = np.mgrid[-20:21, -20:21]
    g = np.exp(-(x**2 + y**2) / (2 * 3.0**2))
    r = D.contour_radii(g, 0.5)
    np.testing.assert_allclose(r, 3.0 * np.sqrt(2 * np.log(2)), rtol=1e-9)
    sq = np.exp(-(np.abs(x) ** 4 + np.abs(y) ** 4) / 500.0)  # a squarish blob: axis != diagonal
    assert abs(D.contour_radii(sq)[0] / D.contour_radii(sq)[1] - 1) > 0.05
    with pytest.raises(ValueError):
        D.contour_radii(g, 1.5)


def test_drift_cause_separates_signed_and_abs_centres():
    rng = np.random.default_rng(0)
    img = np.pad(rng.random((12, 12)), 12)
    zoo = D.even_kernels(3)
    ks = np.stack([D.by_name(zoo, "sharpen").kernel, D.by_name(zoo, "saddle (1,1)").kernel])
    c = D.drift_cause(img, ks, 6)
    assert c["none_signed"][0] < 1e-9 and np.isnan(c["none_signed"][1])
    assert c["relu_signed_step"][0] < 1e-9
    assert c["none_abs"].max() > 0.1


def test_diffusion_rates_follow_the_law_where_kernels_are_non_negative():
    r = D.diffusion_rates([("dct", 3), ("translation", 3)], np.array([0.0, 0.2]), steps=8, size=41)
    for v in r.values():
        np.testing.assert_allclose(v["rate"], v["law"], atol=1e-9)
        np.testing.assert_allclose(v["second_moment"], v["second_moment"][0], atol=1e-9)
    np.testing.assert_allclose(D.rate_spread(r), [2 / 3 - 0.5, np.ptp([r[k]["rate"][1] for k in r])])
