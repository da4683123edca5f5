"""The benchmark's baselines compute what infomech computes (a sceptic's first check), on a tiny run."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the benchmarks/ package

from benchmarks import run as B  # noqa: E402
from infomech import kernels as K  # noqa: E402
from infomech import patterns as P  # noqa: E402


@pytest.mark.parametrize("family,n", [("dct", 2), ("dct", 3), ("translation", 3)])
def test_baselines_agree_with_infomech(family, n):
    sched = K.family(family, np.linspace(0, 1, 5), n)[0]
    x = P.delta(41)
    ref = B.speeds_infomech(x, sched, 6)
    np.testing.assert_allclose(B.speeds_scipy(x, sched, 6), ref, atol=1e-12)
    np.testing.assert_allclose(B.speeds_scipy(x, sched, 6, crop=False), ref, atol=1e-12)
    np.testing.assert_allclose(B.speeds_torch_crop(x, sched, 6), ref, atol=1e-12)
    np.testing.assert_allclose(B.speeds_torch_crop(x, sched, 6, torch.float32), ref, atol=1e-4)


def test_baseline_crop_is_needed_exactly_as_large_as_the_light_cone():
    # negative control: a crop one step too small changes the answer (the crop is not a free lunch)
    sched = K.family("dct", np.array([0.0, 1.0]), 3)[0]
    x = P.delta(41)
    ref = B.speeds_infomech(x, sched, 6)
    box = B._crop_box(x, 1, 6)
    assert box == (14, 27, 14, 27)
    small = x[15:26, 15:26]
    assert not np.allclose(B.speeds_torch_crop(small, sched, 6), ref, atol=1e-6)


def test_floor_and_targets():
    machine = {"float64_flop_per_s": 1e10, "copy_bytes_per_s": 1e10}
    assert B.floor_s(1e6, 9, machine) == pytest.approx(max(18e6 / 1e10, 16e6 / 1e10))
    assert B.light_cone_px(2, 1, 301) == 9 + 25
    assert B.target("x", 2.0, ">=", 1.5)["met"] and not B.target("x", 2.0, "<=", 1.5)["met"]


def test_rounds_are_interleaved_across_methods() -> None:
    """A slow spell of a shared machine must fall on every method alike: round i of each method
    runs before round i + 1 of any (warm-up calls first, for methods timed more than once)."""
    calls: list[str] = []
    fns = {k: (lambda k=k: calls.append(k) or k) for k in ("a", "b", "c")}
    res = B.timed_interleaved(fns, {"a": 3, "b": 1, "c": 2})
    assert calls == ["a", "c", "a", "b", "c", "a", "c", "a"]
    assert {k: (v["rounds"], v["result"]) for k, v in res.items()} == {"a": (3, "a"), "b": (1, "b"),
                                                                       "c": (2, "c")}
    assert all(0 <= v["cpu_min_s"] and v["min_s"] <= v["median_s"] for v in res.values())
