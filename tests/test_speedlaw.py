import numpy as np
import pytest

from infomech import kernels as K
from infomech import patterns as P
from infomech import speedlaw as S
from infomech.observables import steady_state_speed
from infomech.propagation import propagate
from infomech.sweeps import family_run, speed_sweep


def test_exact_curve_matches_closed_forms():
    b = np.linspace(0, 0.4, 9)
    e3 = S.exact_speed("dct", b, 3)
    assert e3["valid"].all()
    np.testing.assert_allclose(e3["speed"], np.sqrt(6) / 3 * np.sqrt(b / (1 - b)), atol=1e-12)
    e2 = S.exact_speed("dct", np.linspace(0, 0.5, 6), 2)
    bb = np.linspace(0, 0.5, 6)
    np.testing.assert_allclose(e2["v_over_c_sq"], bb / (1 - bb), atol=1e-12)
    assert np.isnan(S.exact_speed("dct", [0.6], 3)["speed"][0])


def test_nonneg_limits_and_kappa():
    assert S.nonneg_limit("dct", 3) == pytest.approx(0.4, abs=1e-9)
    assert S.nonneg_limit("dct", 2) == pytest.approx(0.5, abs=1e-9)
    assert S.nonneg_limit("translation", 3) == pytest.approx(0.75, abs=1e-9)
    assert S.kappa("dct", 3) == pytest.approx(2 / 3)
    assert S.kappa("translation", 3) == pytest.approx(1 / 3)
    # kappa form holds across the valid range
    for fam, n in (("dct", 5), ("translation", 3)):
        lim = S.nonneg_limit(fam, n)
        b = np.linspace(0.01, lim * 0.99, 7)
        e = S.exact_speed(fam, b, n)
        np.testing.assert_allclose(e["v_over_c_sq"], S.kappa(fam, n) * b / (1 - b), rtol=1e-9)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_measured_relu_speed_equals_exact_curve_without_negative_weights(n):
    lim = S.nonneg_limit("dct", n)
    b = np.linspace(0, lim, 6) * (1 - 1e-9)
    sw = speed_sweep("dct", n, b, steps=10, pattern="delta", size=61)
    e = S.exact_speed("dct", b, n)
    np.testing.assert_allclose(sw["speed"], e["speed"], atol=1e-9)
    # just above the limit ReLU acts and the exact curve no longer applies
    assert np.isnan(S.exact_speed("dct", [min(1.0, lim + 0.05)], n)["speed"][0])


def test_schedule_drift_of_alternating_2x2_cancels_half_pixel():
    k = K.dct_beta(0.0, 2)[None]
    d = S.schedule_drift(K.alternating_2x2(k))
    np.testing.assert_allclose(d, 0, atol=1e-15)
    d1 = S.schedule_drift([K.embed(k, 3, (0, 0))])
    np.testing.assert_allclose(np.abs(d1), 0.5, atol=1e-15)


def test_saturation_onset_and_first_above():
    b = np.linspace(0, 1, 11)
    r = np.minimum(1, 2 * b)
    assert S.saturation_onset(b, r) == pytest.approx(0.5)
    assert np.isnan(S.saturation_onset(b, 0.5 * b))
    # a dip below saturation after the onset moves the onset later
    r2 = r.copy()
    r2[7] = 0.9
    assert S.saturation_onset(b, r2) == pytest.approx(0.8)
    assert S.first_above(b, 1.2 * b) == pytest.approx(0.9)
    assert np.isnan(S.first_above(b, b))


def test_predictor_comparison_prefers_the_true_predictor():
    b2 = np.linspace(0, 1, 21)
    pc = S.predictor_comparison(b2, np.sqrt(b2))
    assert pc["beta"].rmse < 1e-12 and pc["beta2"].rmse > 0.05
    pc2 = S.predictor_comparison(b2, b2)
    assert pc2["beta2"].rmse < 1e-12 and pc2["beta"].rmse > 0.05


def test_speeds_at_equals_separate_runs():
    b = np.array([0.2, 0.7])
    sched, _ = K.family("dct", b, 3)
    tr = propagate(P.disc(61, 5), sched, 6, rescale=True)
    v = S.speeds_at(tr.distance(), (1, 3, 6))
    for j, t in enumerate((1, 3, 6)):
        np.testing.assert_allclose(v[j], propagate(P.disc(61, 5), sched, t, rescale=True).speed(),
                                   atol=1e-12)
    with pytest.raises(ValueError):
        S.speeds_at(tr.distance(), (0,))


def test_family_run_equals_speed_sweep_and_periodic_steady_speed():
    b = np.array([0.0, 0.3, 0.6, 1.0])
    for n in (2, 3):
        tr, c, period = family_run("dct", n, b, steps=10, size=61)
        sw = speed_sweep("dct", n, b, steps=10, size=61)
        np.testing.assert_allclose(tr.speed(), sw["speed"], atol=1e-12)
        assert period == (2 if n == 2 else 1) and c == (n - 1) / 2
    # 2x2 at beta^2 = 0.5 is a pure shift: forward by 1 every other step, exactly c = 0.5 on average
    tr, c, period = family_run("dct", 2, np.array([0.5]), steps=10, size=61)
    assert steady_state_speed(tr.distance("row"), period)[0] == pytest.approx(0.5)
    assert abs(steady_state_speed(tr.distance("row"), 1)[0] - 0.5) > 0.02  # the zig-zag biases period 1
    with pytest.raises(ValueError):
        steady_state_speed(np.zeros((2, 1)), period=2)


def test_steady_speeds_at_equals_steady_speed_of_shorter_runs():
    b = np.array([0.3, 0.9, 1.0])
    long, c, period = family_run("dct", 3, b, steps=40, pattern="delta", size=101)
    est = S.steady_speeds_at(long.distance(), (10, 40), period)
    assert est.shape == (2, 3)
    short, _, _ = family_run("dct", 3, b, steps=10, pattern="delta", size=101)
    np.testing.assert_allclose(est[0], short.steady_state_speed(), atol=1e-12)
    np.testing.assert_allclose(est[1], long.steady_state_speed(), atol=1e-12)
    # non-negative kernel (beta^2 = 0.3): no transient, every window gives the exact drift
    np.testing.assert_allclose(est[:, 0], S.exact_speed("dct", b[:1], 3)["speed"][0], atol=1e-9)
    # beta^2 = 0.9 under ReLU: the window over steps 5..10 underestimates the longer-run slope
    assert est[1, 1] > est[0, 1] + 0.003
    # a linear distance curve of slope 2 (period 2, zig-zag on odd steps) is recovered exactly
    t = np.arange(21.0)
    d = (2 * t + 0.5 * (t % 2))[:, None]
    np.testing.assert_allclose(S.steady_speeds_at(d, (6, 20), period=2), 2.0)
    with pytest.raises(ValueError):
        S.steady_speeds_at(d, (21,))


def test_band_is_tie_robust_and_refuses_round_off():
    x = np.linspace(0, 1, 11)
    b = S.band(x, 1 - 4 * (x - 0.6) ** 2, 0.5)
    assert (b.lo, b.hi) == pytest.approx((0.3, 0.9)) and b.margin > 0.01
    # an argmax over a flat top flips with the last bit; the band does not
    flat = np.where((x > 0.25) & (x < 0.85), 1.0, 0.0)
    assert S.band(x, flat + 1e-16 * np.arange(11)).lo == S.band(x, flat - 1e-16 * np.arange(11)).lo
    assert np.isnan(S.band(x, np.full(11, 4e-16)).lo)


def test_row_reduction_reproduces_2d_runs():
    for n, b2 in ((3, 0.9), (5, 1.0)):
        k = K.dct_beta(b2, n)
        u, b = S.row_factor(k)
        np.testing.assert_allclose(u[0], np.full(n, n ** -0.5), atol=1e-15)
        for act in ("relu", "abs", "none"):
            tr, c, _ = family_run("dct", n, np.array([b2]), steps=30, pattern="delta",
                                    size=2 * (n // 2) * 30 + 3, activation=act)
            row = S.row_run(b[0], 30, act)
            np.testing.assert_allclose(row["centre"], tr.displacement()[:, 0, 0], atol=1e-9)
    with pytest.raises(ValueError):
        S.row_factor(K.translation_beta(0.5, 3))  # not rank one
    with pytest.raises(ValueError):
        S.row_run(b[0], 3, "tanh")


def _row_run_reference(b, steps, activation="relu"):
    """row_run written plainly (a padded copy, np.correlate, np.nonzero per step)."""
    act = {"relu": lambda z: np.maximum(z, 0.0), "abs": np.abs, "none": lambda z: z}[activation]
    n = b.size
    g, x0, cen, wid = np.ones(1), 0, [0.0], [1]
    for _ in range(steps):
        new = act(np.correlate(np.concatenate([np.zeros(n - 1), g, np.zeros(n - 1)]), b, "valid"))
        x0 -= n - 1 - (n - 1) // 2
        nz = np.nonzero(new)[0]
        g = new[nz[0]:nz[-1] + 1] / np.abs(new).max()
        x0 += int(nz[0])
        w, xs = np.abs(g), x0 + np.arange(g.size)
        cen.append(float((w * xs).sum() / w.sum()))
        wid.append(g.size)
    return np.array(cen), np.array(wid)


@pytest.mark.parametrize("activation", ["relu", "abs", "none"])
def test_row_run_is_the_plain_loop_bit_for_bit(activation):
    """The buffered loop (state in place, ends scanned for zeros) is the plain one exactly, also for
    kernels whose ReLU state opens long runs of zeros (the flatnonzero fallback)."""
    rng = np.random.default_rng(5)
    for b in [S.row_factor(K.dct_beta(0.9, 5))[1][0], np.array([1.0, -3.0, 1.0])] + \
            [rng.normal(size=m) for m in (2, 3, 4, 6, 7) for _ in range(3)]:
        try:
            cen, wid = _row_run_reference(b, 120, activation)
        except IndexError:  # the reference has no guard for a vanished state
            with pytest.raises(ValueError, match="vanished"):
                S.row_run(b, 120, activation)
            continue
        r = S.row_run(b, 120, activation)
        assert np.array_equal(r["centre"], cen) and np.array_equal(r["width"], wid)


def test_support_finds_both_ends():
    for z in ([0, 0, 1.0, 0, 2.0, 0], [3.0], [0.0] * 20 + [1.0] + [0.0] * 9, [1.0] + [0.0] * 30 + [2.0]):
        nz = np.flatnonzero(z)
        assert S._support(np.array(z)) == (nz[0], nz[-1] + 1)


def test_long_time_limit_brackets_the_limit():
    _, b = S.row_factor(K.dct_beta(1.0, 5))
    lim = S.long_time_limit(b[0], 2.0, (250, 500, 1000, 2000))
    assert np.all(np.diff(lim.estimates) > 0) and 0 < lim.ratio < 1
    assert lim.estimates[-1] < lim.limit < 0.96
    np.testing.assert_allclose(lim.front, 1.0, atol=1e-12)
    with pytest.raises(ValueError):
        S.long_time_limit(b[0], 2.0, (100, 300, 500, 700))


def test_authors_2x2_placement_is_the_y_mirror():
    k = K.dct_beta(np.array([0.3, 0.8]), 2)
    ours = propagate(P.delta(41), K.alternating_2x2(k), 6, rescale=True)
    theirs = propagate(P.delta(41), S.authors_2x2(k), 6, rescale=True)
    np.testing.assert_allclose(ours.centre[..., 0], theirs.centre[..., 0], atol=1e-12)
    np.testing.assert_allclose(ours.centre[..., 1], -theirs.centre[..., 1], atol=1e-12)
    a = S.authors_2x2(k)
    assert a[0][0, 2].sum() != 0 and a[0][0, 0].sum() == 0  # even steps: rows 1-2 (bottom)


def test_light_cone_and_direction_sweep():
    assert S.light_cone_speed(np.radians(45), 3) == pytest.approx(np.sqrt(2))
    assert S.light_cone_speed(0.0, 5) == pytest.approx(2.0)
    d = S.direction_sweep(np.array([0.1, 1.0]), np.array([0.0, 45.0]), steps=5, size=21)
    assert d["speed"].shape == (2, 2)
    assert abs(d["speed"][0, 0] - d["speed"][1, 0]) < 1e-12  # isotropic where k >= 0
    assert d["angle"][1, 1] == pytest.approx(45.0, abs=1e-9)


def test_beta2_grid():
    g = S.beta2_grid("0:1:0.01")
    assert g.size == 101 and g[0] == 0 and g[-1] == 1 and g[37] == 0.37
    assert S.beta2_grid("0:1:0.05").size == 21
    # a step with more decimals than its magnitude suggests is kept (was rounded to 0.2, 0.8)
    np.testing.assert_array_equal(S.beta2_grid("0:1:0.25"), [0.0, 0.25, 0.5, 0.75, 1.0])
    for bad in ("0:1", "0:1:0", "1:0:0.1", "a:b:c"):
        with pytest.raises(ValueError):
            S.beta2_grid(bad)


@pytest.mark.parametrize(("pattern", "match"), [
    (np.zeros((61, 61)), r"x has zero mass"),
    (np.ones((2, 61, 61)), r"pattern must be a 2-D image"),
])
def test_sweep_refuses_an_empty_or_stacked_pattern(pattern, match):
    with pytest.raises(ValueError, match=match):
        speed_sweep("dct", 3, [0.5], steps=5, pattern=pattern)
