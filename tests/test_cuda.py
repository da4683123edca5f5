"""The CUDA path: runs only where a GPU is present, skips otherwise.

One command checks the GPU end to end: ``python -m benchmarks.run --quick --no-contention --device
cuda`` prints the sweep times on the GPU and ``max |v_gpu - v_cpu|``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infomech import kernels as K
from infomech import patterns as P
from infomech.propagation import propagate
from infomech.sweeps import speed_sweep

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-4)])
def test_dense_path_on_cuda_matches_cpu(dtype, tol):
    ks = K.random_kernels(16, 3, seed=0)
    x = P.disc(61, 4)
    cpu = propagate(x, ks, 10, rescale=True)
    gpu = propagate(x, ks, 10, rescale=True, device="cuda", dtype=dtype, frames=[10])
    assert not gpu.separable.any()
    np.testing.assert_allclose(gpu.centre, cpu.centre, atol=tol)
    np.testing.assert_allclose(gpu.frames[10], cpu.final, atol=tol * np.abs(cpu.final).max())


def test_separable_path_on_cuda_matches_cpu():
    sched = K.family("dct", np.linspace(0, 1, 11), 2)[0]
    cpu = propagate(P.delta(61), sched, 10, rescale=True)
    gpu = propagate(P.delta(61), sched, 10, rescale=True, device="cuda")
    assert gpu.separable.all()
    np.testing.assert_allclose(gpu.centre, cpu.centre, atol=1e-12)
    np.testing.assert_allclose(gpu.final_window, cpu.final_window, atol=1e-12)


def test_speed_sweep_on_cuda_matches_cpu():
    b = np.linspace(0, 1, 21)
    for n in (2, 3, 5):
        a = speed_sweep("dct", n, b, steps=10, size=101)
        g = speed_sweep("dct", n, b, steps=10, size=101, device="cuda")
        np.testing.assert_allclose(g["speed"], a["speed"], atol=1e-12)
    tr = speed_sweep("translation", 3, b, steps=10, size=101, device="cuda")
    np.testing.assert_allclose(tr["speed"], speed_sweep("translation", 3, b, steps=10, size=101)["speed"],
                               atol=1e-10)


def test_tensor_input_on_cuda_stays_there():
    x = torch.as_tensor(P.delta(31), device="cuda")
    tr = propagate(x, K.dct_beta(0.5), 3)
    assert tr.centre.shape == (4, 1, 2)
