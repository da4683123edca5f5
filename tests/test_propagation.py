import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from infomech import kernels as K
from infomech import observables as O
from infomech import patterns as P
from infomech.propagation import propagate


def kernel_moments(k):
    """Drift (x, y) and covariance of the transport a non-negative kernel performs (correlation)."""
    n = k.shape[-1]
    r = n // 2
    d = np.arange(n) - r
    w = k / k.sum()
    # content at p goes to p - d: displacement -d with probability w(d)
    dx = -(w.sum(0) * d).sum()
    dy = -(w.sum(1) * d).sum()
    vxx = (w.sum(0) * d * d).sum() - dx**2
    vyy = (w.sum(1) * d * d).sum() - dy**2
    vxy = (w * np.outer(d, d)).sum() - dx * dy
    return np.array([dx, dy]), np.array([[vxx, vxy], [vxy, vyy]])


nonneg = st.floats(0, 5, allow_nan=False, allow_infinity=False)


@given(
    k=st.sampled_from([3, 5]).flatmap(lambda n: arrays(np.float64, (n, n), elements=nonneg)),
    patch=arrays(np.float64, (7, 7), elements=nonneg),
    steps=st.integers(1, 6),
    rescale=st.booleans(),
)
def test_exact_drift_and_diffusion_without_activation(k, patch, steps, rescale):
    if k.sum() < 1e-3 or patch.sum() < 1e-3:
        return
    x = np.zeros((41, 41))
    x[17:24, 17:24] = patch
    tr = propagate(x, k, steps, activation="none", rescale=rescale)
    drift, cov = kernel_moments(k)
    t = np.arange(steps + 1)
    np.testing.assert_allclose(tr.centre[:, 0], tr.centre[0, 0] + t[:, None] * drift, atol=1e-10)
    np.testing.assert_allclose(tr.covariance[:, 0], tr.covariance[0, 0] + t[:, None, None] * cov,
                               atol=1e-10)


def test_exact_law_fails_with_negative_weights_and_relu():
    # guard against a tautological test: the law is not an identity of the code
    k = K.dct_beta(0.8)
    tr = propagate(P.delta(41), k, 5, activation="relu")
    drift, _ = kernel_moments(np.abs(k))
    assert not np.allclose(tr.centre[-1, 0, 0], 5 * drift[0], atol=1e-3)


@pytest.mark.parametrize("steps", [1, 3, 10])
def test_pure_gradient_with_relu_moves_delta_one_pixel_per_step(steps):
    tr = propagate(P.delta(61), K.dct_beta(1.0), steps, activation="relu", rescale=True)
    np.testing.assert_allclose(tr.centre[:, 0, 0], np.arange(steps + 1), atol=1e-12)
    np.testing.assert_allclose(tr.centre[:, 0, 1], 0, atol=1e-12)
    assert tr.speed()[0] == pytest.approx(1.0)
    assert tr.speed("row")[0] == pytest.approx(1.0)
    # all the mass sits in the column x = t
    col = tr.final[0].sum(0)
    assert col[30 + steps] == pytest.approx(col.sum())


@pytest.mark.parametrize("activation", ["relu", "none", "abs"])
def test_light_cone_is_exact(activation):
    ks = np.stack([K.dct_beta(0.4), K.steered_gradient(0.7), K.random_kernels(1, 3, seed=3)[0]])
    x = P.disc(61, 5)
    a = propagate(x, ks, 8, activation=activation, rescale=True)
    b = propagate(x, ks, 8, activation=activation, rescale=True, light_cone=False)
    assert a.window != b.window
    np.testing.assert_allclose(a.final, b.final, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.centre, b.centre, atol=1e-10)


def test_batched_equals_one_by_one_and_chunks():
    ks = K.random_kernels(6, 3, seed=1)
    x = P.gaussian_blob(31, 3)
    batch = propagate(x, ks, 5, activation="abs", rescale=True)
    chunked = propagate(x, ks, 5, activation="abs", rescale=True, batch_size=4)
    np.testing.assert_allclose(batch.centre, chunked.centre, atol=1e-12)
    for i in range(6):
        one = propagate(x, ks[i], 5, activation="abs", rescale=True)
        np.testing.assert_allclose(one.centre[:, 0], batch.centre[:, i], atol=1e-12)
        np.testing.assert_allclose(one.final[0], batch.final[i], rtol=1e-12, atol=1e-12)


def test_matches_scipy_correlate():
    from scipy.ndimage import correlate

    k = K.random_kernels(1, 5, seed=7)[0]
    x = P.noise(25, seed=2)
    tr = propagate(x, k, 3, activation="relu", light_cone=False)
    y = x
    for _ in range(3):
        y = np.maximum(correlate(y, k, mode="constant"), 0)
    np.testing.assert_allclose(tr.final[0], y, atol=1e-12)


def test_float32_and_frames_and_schedule():
    x = P.delta(41)
    tr64 = propagate(x, K.bipolar(K.dct_beta(0.5)), 6, frames=[0, 3, 6])
    tr32 = propagate(x, K.bipolar(K.dct_beta(0.5)), 6, frames=[0, 3, 6], dtype=torch.float32)
    np.testing.assert_allclose(tr32.centre, tr64.centre, atol=1e-4)
    assert sorted(tr64.frames) == [0, 3, 6] and tr64.frames[3].shape == (1, 41, 41)
    np.testing.assert_allclose(tr64.frames[6], tr64.final)
    # bipolar: the centre oscillates; after an even number of steps it is nearly back
    assert abs(tr64.centre[1, 0, 0]) > 0.3
    assert abs(tr64.centre[-1, 0, 0]) < 0.15 * abs(tr64.centre[1, 0, 0])


def test_callable_activation_not_zero_preserving_disables_light_cone():
    tr = propagate(P.delta(21), K.dct_beta(0.2), 2, activation=torch.sigmoid)
    assert tr.window == (0, 21, 0, 21)


def test_per_kernel_inputs():
    xs = np.stack([P.delta(21), P.disc(21, 3)])
    tr = propagate(xs, np.stack([K.dct_beta(0.0)] * 2), 1)
    assert tr.mass.shape == (2, 2)


@pytest.mark.parametrize("kwargs,err,match", [
    (dict(x=np.zeros((21, 21))), ValueError, "zero mass"),
    (dict(x=np.full((5, 5), np.nan)), ValueError, "NaN"),
    (dict(x=np.ones(5)), ValueError, "shape"),
    (dict(kernels=np.ones((2, 2))), ValueError, "odd size"),
    (dict(kernels=np.ones((3, 4))), ValueError, "square"),
    (dict(kernels=np.full((3, 3), np.inf)), ValueError, "NaN or Inf"),
    (dict(kernels=np.ones((0, 3, 3))), ValueError, "no kernels"),
    (dict(steps=-1), ValueError, "steps"),
    (dict(steps=1.5), TypeError, "integer"),
    (dict(activation="softplus"), ValueError, "unknown activation"),
    (dict(frames=[99]), ValueError, "frames"),
    (dict(x=np.ones((3, 9, 9))), ValueError, "3 images"),
])
def test_bad_inputs(kwargs, err, match):
    args = dict(x=P.delta(9), kernels=K.dct_beta(0.5), steps=2)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        propagate(args.pop("x"), args.pop("kernels"), args.pop("steps"), **args)


def test_observables_functions():
    x = P.gaussian_blob(41, 4, centre=(3.0, -2.0))
    np.testing.assert_allclose(O.centre_of_mass(x), [3.0, -2.0], atol=1e-3)
    cov = O.covariance(x)
    np.testing.assert_allclose(cov, 16 * np.eye(2), rtol=1e-3, atol=1e-6)
    assert O.isotropy(cov) == pytest.approx(1.0, abs=1e-3)
    assert O.spread2(cov) == pytest.approx(16, rel=1e-3)
    line = P.line(41, angle=0.0, length=30)
    assert O.isotropy(O.covariance(line)) < 0.01
    with pytest.raises(ValueError, match="zero mass"):
        O.centre_of_mass(np.zeros((5, 5)))
    with pytest.raises(ValueError, match="negative"):
        O.centre_of_mass(-P.delta(5), weights="signed")
    traj = np.array([[0.0, 0], [1, 0], [2, 0], [4, 0]])
    assert O.speed(traj) == pytest.approx(4 / 3)
    assert O.steady_state_speed(np.array([0, 1, 2, 4.0])) == pytest.approx(2.0)


def test_steady_state_speed_samples_once_per_schedule_cycle():
    # the alternating 2x2 placement zig-zags; fitted per cycle its steady speed is exactly c = 0.5
    sched, c = K.family("dct", [1.0], 2)
    tr = propagate(P.delta(61), sched, 10, rescale=True)
    assert tr.period == 2
    assert tr.steady_state_speed()[0] == pytest.approx(c, abs=1e-12)
    assert abs(O.steady_state_speed(tr.distance(), 1)[0] - c) > 0.01  # a per-step fit is biased


# ------------------------------------------------------------------------------------------
# fast paths against the straightforward reference: full image, torch conv2d, every step
# ------------------------------------------------------------------------------------------

def reference_run(x0, schedule, steps, activation="relu", rescale=True):
    """States (T+1, K, H, W) of ``x <- act(conv2d(x / std(x), k))`` on the full image, float64."""
    import torch.nn.functional as F

    acts = {"relu": torch.relu, "none": lambda t: t, "abs": torch.abs}
    act = activation if callable(activation) else acts[activation]
    sched = [torch.as_tensor(np.array(k, float)) for k in (schedule if isinstance(schedule, list)
                                                             else [schedule])]
    sched = [k[None] if k.ndim == 2 else k for k in sched]
    kk, n = sched[0].shape[0], sched[0].shape[-1]
    x = torch.as_tensor(np.asarray(x0, float))
    x = x.expand(kk, *x.shape[-2:]).clone()  # one image for all kernels, or one per kernel
    out = [x]
    for t in range(steps):
        if rescale:
            std = x.std(dim=(-2, -1), unbiased=False, keepdim=True)
            x = x / torch.where(std > 0, std, torch.ones_like(std))
        x = act(F.conv2d(x[None], sched[t % len(sched)][:, None], padding=n // 2, groups=kk)[0])
        out.append(x)
    return torch.stack(out).numpy()


def assert_matches_reference(tr, states, weights="abs"):
    np.testing.assert_allclose(tr.mass, O.mass(states, weights), rtol=1e-12)
    np.testing.assert_allclose(tr.centre, O.centre_of_mass(states, weights), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tr.covariance, O.covariance(states, weights), rtol=1e-11, atol=1e-11)
    row = O.weights_of(torch.as_tensor(states[..., states.shape[-2] // 2, :]), weights).numpy()
    xs = np.arange(states.shape[-1]) - (states.shape[-1] - 1) / 2
    with np.errstate(invalid="ignore"):
        rc = np.where(row.sum(-1) == 0, np.nan, (row * xs).sum(-1) / row.sum(-1))
    # a row holding only round-off (a cancellation that one path computes exactly) has no centre
    live = row.sum(-1) > 1e-12 * O.mass(states, weights)
    np.testing.assert_allclose(tr.row_centre[live], rc[live], rtol=1e-12, atol=1e-12)
    assert np.isnan(tr.row_centre[row.sum(-1) == 0]).all() or not (row.sum(-1) == 0).any()
    np.testing.assert_allclose(tr.final, states[-1], rtol=1e-12, atol=1e-13)


SEPARABLE_CASES = {
    "dct 3x3": lambda: K.dct_beta(np.linspace(0, 1, 6), 3),
    "dct 5x5": lambda: K.dct_beta(np.linspace(0, 1, 6), 5),
    "dct 2x2 alternating": lambda: K.family("dct", np.linspace(0, 1, 6), 2)[0],
    "vertical dct (act on rows)": lambda: np.swapaxes(K.dct_beta(np.linspace(0, 1, 4), 3), -1, -2),
    "negated dct (sign moved)": lambda: -K.dct_beta(np.array([0.8, 0.9, 1.0]), 3),
    "bipolar dct": lambda: K.bipolar(K.dct_beta(np.array([0.3, 0.8]), 3)),
}


@pytest.mark.parametrize("case", sorted(SEPARABLE_CASES))
@pytest.mark.parametrize("activation", ["relu", "none", "abs"])
def test_separable_path_matches_reference(case, activation):
    sched = SEPARABLE_CASES[case]()
    for x0 in (P.delta(41), P.square(41, 2), P.gaussian_blob(41, 2.0)):
        tr = propagate(x0, sched, 7, activation=activation, rescale=True)
        assert tr.separable.all(), "the exact separable path was not taken"
        assert_matches_reference(tr, reference_run(x0, sched, 7, activation))


def test_separable_and_dense_kernels_in_one_call():
    # rows-passive, cols-passive and non-separable kernels together; order is restored
    ks = np.stack([K.dct_beta(0.4), K.random_kernels(1, 3, seed=5)[0], K.dct_beta(0.7).T,
                   K.shift_kernel(3), K.random_kernels(1, 3, seed=6)[0]])
    x0 = P.delta(41)
    tr = propagate(x0, ks, 8, rescale=True, frames=[0, 3, 8])
    assert tr.separable.tolist() == [True, False, True, True, False]
    states = reference_run(x0, ks, 8)
    assert_matches_reference(tr, states)
    for t in (0, 3, 8):
        np.testing.assert_allclose(tr.frames[t], states[t], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("make", [
    lambda: (P.disc(41, 4), K.dct_beta(0.5)),                          # image not rank one
    lambda: (P.delta(41), np.outer([1.0, -1.0, 1.0], [1.0, -2.0, 0.5])),  # no factor of one sign
    lambda: (P.delta(41), K.random_kernels(1, 3, seed=2)[0]),           # kernel not rank one
])
def test_dense_path_where_separable_is_not_exact(make):
    x0, k = make()
    tr = propagate(x0, k, 6, rescale=True)
    assert not tr.separable.any()
    assert_matches_reference(tr, reference_run(x0, k, 6))


def test_relu_of_a_product_is_not_separable_without_the_sign_condition():
    # the guard of the fast path matters: forcing the factor recursion on a kernel whose factors
    # both change sign gives a wrong answer (relu(F G) != F relu(G) when F < 0 somewhere)
    import infomech.propagation as prop

    x0, k = P.delta(41), np.outer([1.0, -1.0, 1.0], [1.0, -2.0, 0.5])
    plan = prop.validate(x0, k, 6, rescale=True)
    boxes = prop.light_cone_windows(plan)
    t = torch.float64
    forced = prop.SeparableSplit(np.array([0]), np.array([[[1.0, -1.0, 1.0]]]),
                                 np.array([[[1.0, -2.0, 0.5]]]), np.array([False]), x0[:, 20], x0[20])
    run = prop.run_separable(plan, boxes, forced, prop._Coords(41, 41, t, torch.device("cpu")),
                             iter(()))
    wrong = prop.observables_from_sums(np.asarray(run.sums), np.asarray(run.row))[1]
    right = O.centre_of_mass(reference_run(x0, k, 6))
    assert np.abs(wrong - right).max() > 0.1


def test_rank1_tolerance():
    import infomech.propagation as prop

    k = K.dct_beta(0.3)
    assert prop.rank1(k)[2]
    assert not prop.rank1(k + 1e-12 * np.eye(3))[2]  # a perturbation far above round-off
    assert prop.rank1(k * (1 + 1e-16))[2]


@pytest.mark.parametrize("activation", ["relu", "none", "abs", "sigmoid"])
def test_dense_path_matches_reference(activation):
    # zero-tap skipping (2x2 placement in 3x3), folded rescaling and the double buffers
    ks = np.concatenate([K.random_kernels(3, 3, seed=9), K.family("dct", [0.2, 0.6], 2)[0][0]])
    x0 = P.disc(31, 3)
    act = torch.sigmoid if activation == "sigmoid" else activation
    tr = propagate(x0, ks, 5, activation=act, rescale=True, separable=False)
    assert_matches_reference(tr, reference_run(x0, ks, 5, act))


def test_final_window_and_full_final():
    tr = propagate(P.delta(41), K.random_kernels(2, 3, seed=1), 4)
    y0, y1, x0, x1 = tr.window
    assert (y0, y1, x0, x1) == (16, 25, 16, 25)
    assert tr.final_window.shape == (2, 9, 9) and tr.final.shape == (2, 41, 41)
    np.testing.assert_array_equal(tr.final[:, y0:y1, x0:x1], tr.final_window)
    assert not tr.final[:, :y0].any() and not tr.final[:, y1:].any()


def test_threads_restored_and_results_independent_of_threads():
    from infomech.propagation import torch_threads

    before = torch.get_num_threads()
    ks = K.random_kernels(4, 3, seed=3)
    a = propagate(P.disc(41, 4), ks, 5, rescale=True, threads=1)
    assert torch.get_num_threads() == before
    b = propagate(P.disc(41, 4), ks, 5, rescale=True, threads=2)
    assert torch.get_num_threads() == before
    np.testing.assert_allclose(a.centre, b.centre, rtol=1e-13, atol=1e-13)
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        propagate(P.delta(9), K.dct_beta(0.5), 1, threads=0)


@pytest.mark.parametrize("rows_first", [True, False])
def test_separable_path_at_the_image_border(rows_first):
    # the light cone is clipped by the border on one axis only (window h != w): zero padding there
    x0 = np.zeros((41, 45))
    x0[38, 22] = 1.0  # 2 px from the bottom (the end of the rows' window)
    ks = K.dct_beta(np.array([0.0, 0.3, 0.6]), 3)
    ks = np.swapaxes(ks, -1, -2) if rows_first else ks  # moving towards the border
    tr = propagate(x0 if rows_first else x0.T.copy(), ks, 6, rescale=True)
    assert tr.separable.all()
    h, w = tr.window[1] - tr.window[0], tr.window[3] - tr.window[2]
    assert h != w
    assert_matches_reference(tr, reference_run(x0 if rows_first else x0.T.copy(), ks, 6))


@pytest.mark.parametrize("scale", [1e-60, 1e60, 1.0])
def test_separable_rescaling_survives_tiny_and_huge_kernels(scale):
    # the separable path defers the rescaling (x_t = y_t / std(y_{t-1})); where the unscaled run
    # would under- or overflow it falls back to rescaling every step
    import infomech.propagation as prop

    ks = K.dct_beta(np.array([0.2, 0.9]), 3) * scale
    x0 = P.delta(41)
    tr = propagate(x0, ks, 9, rescale=True)
    assert tr.separable.all()
    assert_matches_reference(tr, reference_run(x0, ks, 9))
    plan = prop.validate(x0, ks, 9, rescale=True)
    split = prop.separable_split(plan)
    coords = prop._Coords(41, 41, torch.float64, torch.device("cpu"))
    boxes = prop.light_cone_windows(plan)
    a = prop.run_separable(plan, boxes, split, coords, iter(()), deferred=False)
    b = prop.run_separable(plan, boxes, split, coords, iter(()), deferred=True)
    torch.testing.assert_close(a.sums, b.sums, rtol=1e-12, atol=0)


def test_float32_long_linear_run_stays_finite():
    """A float32 run without activation over 100 steps: the factored (separable) run overflowed
    one 1-D factor and returned NaN masses from step ~50; float32 takes the 2-D path."""
    import torch

    from infomech.kernels import dct_beta
    from infomech.patterns import delta
    from infomech.propagation import propagate

    tr = propagate(delta(301), dct_beta([0.0, 0.5]), 100, activation="none", rescale=True,
                   dtype=torch.float32)
    ref = propagate(delta(301), dct_beta([0.0, 0.5]), 100, activation="none", rescale=True,
                    dtype=torch.float64)
    assert np.isfinite(np.asarray(tr.mass)).all()
    np.testing.assert_allclose(np.asarray(tr.centre), np.asarray(ref.centre), atol=1e-3)


def test_light_cone_chunk_tree_matches_reference(monkeypatch):
    # a tiny budget splits the chunk of kernels again and again as the light cone grows: records
    # are stitched across the splits; states, frames and observables match the reference
    import infomech.propagation as prop

    ks = np.concatenate([K.random_kernels(4, 3, seed=11), K.family("translation", [0.3], 3)[0][0]])
    xs = np.stack([P.delta(41), P.disc(41, 3), P.delta(41), P.gaussian_blob(41, 2.0), P.delta(41)])
    monkeypatch.setattr(prop, "CPU_CHUNK_BYTES", 8 * 5 * 7 * 7)
    plan = prop.validate(xs, ks, 8, rescale=True)
    boxes = prop.light_cone_windows(plan)
    b = boxes[0]
    leaves = prop.run_dense_tree(plan, boxes, plan.sched, plan.img[:, b[0]:b[1], b[2]:b[3]],
                                 prop._Coords(41, 41, torch.float64, torch.device("cpu")), iter(()),
                                 prop.CPU_CHUNK_BYTES)
    assert len(leaves) == 5 and [off for off, _ in leaves] == [0, 1, 2, 3, 4]
    tr = propagate(xs, ks, 8, rescale=True, frames=[0, 2, 5, 8])
    states = reference_run(xs, ks, 8)
    assert_matches_reference(tr, states)
    for t in (0, 2, 5, 8):
        np.testing.assert_allclose(tr.frames[t], states[t], rtol=1e-12, atol=1e-13)
    fixed = propagate(xs, ks, 8, rescale=True, batch_size=5)
    np.testing.assert_array_equal(tr.final, fixed.final)  # the split does not change the states
    np.testing.assert_allclose(tr.centre, fixed.centre, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("rows_first", [True, False])
def test_separable_path_at_the_start_border(rows_first):
    # the light cone is clipped at the top (or left) border: in window coordinates the two factors'
    # windows then start at different positions, and each step must cover both
    x0 = np.zeros((41, 45))
    x0[2, 22] = 1.0  # 2 px from the top (the start of the rows' window)
    ks = K.dct_beta(np.array([0.0, 0.3, 0.6]), 3)
    ks = np.ascontiguousarray(np.swapaxes(ks, -1, -2) if rows_first else ks)
    x = x0 if rows_first else x0.T.copy()
    tr = propagate(x, ks, 6, rescale=True)
    assert tr.separable.all()
    assert tr.window[0 if rows_first else 2] == 0
    assert_matches_reference(tr, reference_run(x, ks, 6))


def test_support_box_of_numpy_and_torch_images_and_of_an_empty_one():
    from infomech.propagation import support_box

    x = np.zeros((31, 41))
    x[4, 30], x[20, 7], x[27, 12] = 1.0, -2.0, 0.5  # the columns' extremes lie on different rows
    assert support_box(x) == support_box(torch.as_tensor(x)) == (4, 28, 7, 31)
    assert support_box(np.stack([np.zeros_like(x), x])) == (4, 28, 7, 31)
    with pytest.raises(ValueError, match="no non-zero pixel"):
        support_box(np.zeros((5, 5)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_pixel_away_from_the_content_is_refused(bad):
    x = P.delta(21)
    x[0, 20] = bad  # far from the delta: it widens the support box, and is checked there
    with pytest.raises(ValueError, match="x contains NaN or Inf"):
        propagate(x, K.dct_beta(0.5), 2)
