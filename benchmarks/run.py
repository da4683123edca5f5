"""Benchmarks of infomech against the strongest baselines, side by side, with targets.

Run from the repository root::

    python -m benchmarks.run               # every workload, baselines, memory, contention (minutes)
    python -m benchmarks.run --quick       # fewer rounds, no full-image scipy loop, no long baselines
    python -m benchmarks.run --device cuda # the sweeps on a GPU: time and max |GPU - CPU|

Every method runs in this one process with ONE thread (``torch.set_num_threads(1)``; scipy is
single-threaded), after one warm-up call, for several rounds interleaved across the methods of a
workload (so that a slow spell of a shared machine hits them all); min and median are reported. All
results of a workload are checked against infomech's (tolerance per precision); throughput counts
only the pixel-steps a 2-D light-cone computation touches, next to the machine's floor for that
work (FLOPs over the measured float64 matmul rate, bytes over the measured copy bandwidth).
Results are printed and written atomically to ``benchmarks/results/latest.json``. See
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # ``python benchmarks/run.py``
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from scipy import ndimage  # noqa: E402

from infomech import kernels as K  # noqa: E402
from infomech import patterns as P  # noqa: E402
from infomech.propagation import propagate  # noqa: E402
from infomech.sweeps import DEFAULT_BETA2, speed_sweep  # noqa: E402

#: Agreement required between methods, on speeds in px/step, per precision.
TOL = {"float64": 1e-10, "float32": 1e-4}

#: Targets of issue 14.
TARGET_AUTHORS_VS_BASELINE = 2.0    # >= 2x faster than the best float64 baseline
TARGET_FLOOR = 5.0                  # within 5x of the floor
TARGET_GENERAL_VS_TORCH64 = 1.5     # >= 1.5x faster than batched torch float64 on the crop
TARGET_CONTENTION = 1.5             # at most 1.5x slower with a CPU hog running


# --------------------------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------------------------

def timed(fn: Callable[[], Any], rounds: int, warmup: bool = True) -> dict[str, Any]:
    """Wall and CPU time of ``rounds`` calls of ``fn`` (after one warm-up call): min and median."""
    if warmup:
        fn()
    wall, cpu, out = [], [], None
    for _ in range(rounds):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"min_s": min(wall), "median_s": float(np.median(wall)), "cpu_min_s": min(cpu),
            "rounds": rounds, "result": out}


# --------------------------------------------------------------------------------------------
# the machine's floor
# --------------------------------------------------------------------------------------------

def machine_floor(mbytes: int = 128) -> dict[str, float]:
    """Copy bandwidth (read + write bytes per second, array larger than the caches) and the
    float64 matmul rate of one thread (FLOP/s): the two rates the floor is computed from."""
    src = np.random.default_rng(0).random(mbytes * 2**20 // 8)
    dst = np.empty_like(src)
    bw = timed(lambda: np.copyto(dst, src), 10)
    a = torch.rand(1024, 1024, dtype=torch.float64)
    mm = timed(lambda: a @ a, 10)
    # rates from CPU time (time on a core; a loaded machine's wall clock understates the rates and
    # so overstates the floor); the wall-clock rates are kept for the record
    return {"copy_bytes_per_s": 2 * src.nbytes / bw["cpu_min_s"],
            "float64_flop_per_s": 2 * 1024**3 / mm["cpu_min_s"],
            "copy_bytes_per_s_wall": 2 * src.nbytes / bw["min_s"],
            "float64_flop_per_s_wall": 2 * 1024**3 / mm["min_s"]}


def light_cone_px(steps: int, r: int, size: int, support: int = 1) -> int:
    """Pixel-steps of one kernel in a light-cone run: sum over t = 1..T of the window of step t."""
    return sum(min(size, support + 2 * r * t) ** 2 for t in range(1, steps + 1))


def floor_s(px_steps: float, taps: int, machine: dict[str, float]) -> float:
    """Floor of a 2-D correlation over ``px_steps`` pixel-steps with ``taps`` taps each: the larger of
    ``2*taps`` FLOPs at the matmul rate and 16 bytes (read + write a float64 state) at the copy rate."""
    return max(2 * taps * px_steps / machine["float64_flop_per_s"],
               16 * px_steps / machine["copy_bytes_per_s"])


# --------------------------------------------------------------------------------------------
# baselines: what a competent user writes (speed |mu(T) - mu(0)| / T of the |x|-weighted centre)
# --------------------------------------------------------------------------------------------

def _crop_box(x0: np.ndarray, r: int, steps: int) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(x0)
    m = r * steps
    H, W = x0.shape
    return (max(0, ys.min() - m), min(H, ys.max() + 1 + m), max(0, xs.min() - m), min(W, xs.max() + 1 + m))


def _centre(x: np.ndarray, box: tuple[int, int, int, int], shape: tuple[int, int]) -> np.ndarray:
    """|x|-weighted centre (x, y) of states (..., h, w) on ``box``, origin at the image centre."""
    w = np.abs(x)
    xs = np.arange(box[2], box[3]) - (shape[1] - 1) / 2
    ys = np.arange(box[0], box[1]) - (shape[0] - 1) / 2
    m = w.sum(axis=(-2, -1))
    return np.stack([(w.sum(-2) * xs).sum(-1) / m, (w.sum(-1) * ys).sum(-1) / m], -1)


def speeds_torch_crop(x0: np.ndarray, schedule: list[np.ndarray], steps: int,
                      dtype: torch.dtype = torch.float64, device: str = "cpu") -> np.ndarray:
    """Batched ``conv2d(groups=K)`` on the light-cone crop, ``x <- relu(conv(x/std(x), k))``."""
    n = schedule[0].shape[-1]
    r = n // 2
    box = _crop_box(x0, r, steps)
    npix = x0.size
    kk = len(schedule[0])
    ks = [torch.as_tensor(k, dtype=dtype, device=device)[:, None] for k in schedule]
    x = torch.as_tensor(x0[box[0]:box[1], box[2]:box[3]], dtype=dtype, device=device)
    x = x.expand(kk, -1, -1).contiguous()
    mu0 = _centre(x0[None, box[0]:box[1], box[2]:box[3]], box, x0.shape)
    for t in range(steps):
        s1 = x.sum(dim=(-2, -1), keepdim=True)
        s2 = (x * x).sum(dim=(-2, -1), keepdim=True)
        x = x / torch.sqrt(s2 / npix - (s1 / npix) ** 2)
        x = torch.relu(F.conv2d(x[None], ks[t % len(ks)], padding=r, groups=kk)[0])
    mu = _centre(x.double().cpu().numpy(), box, x0.shape)
    return np.linalg.norm(mu - mu0, axis=-1) / steps


def speeds_scipy(x0: np.ndarray, schedule: list[np.ndarray], steps: int, crop: bool = True) -> np.ndarray:
    """A loop per kernel and step: ``x <- relu(ndimage.correlate(x/std(x), k))`` (zero padding), on
    the light-cone crop (``crop``) or the full image."""
    n = schedule[0].shape[-1]
    box = _crop_box(x0, n // 2, steps) if crop else (0, x0.shape[0], 0, x0.shape[1])
    npix = x0.size
    start = x0[box[0]:box[1], box[2]:box[3]]
    mu0 = _centre(start, box, x0.shape)
    out = np.empty(len(schedule[0]))
    for j in range(len(schedule[0])):
        x = start
        for t in range(steps):
            s1, s2 = x.sum(), (x * x).sum()
            x = x / np.sqrt(s2 / npix - (s1 / npix) ** 2)
            x = np.maximum(ndimage.correlate(x, schedule[t % len(schedule)][j], mode="constant"), 0.0)
        out[j] = np.linalg.norm(_centre(x, box, x0.shape) - mu0) / steps
    return out


def speeds_infomech(x0: np.ndarray, schedule: list[np.ndarray], steps: int, device: str = "cpu",
                    **kw: Any) -> np.ndarray:
    return propagate(x0, schedule, steps, rescale=True, device=device, **kw).speed()


# --------------------------------------------------------------------------------------------
# workloads
# --------------------------------------------------------------------------------------------

def authors_sweep(device: str = "cpu") -> np.ndarray:
    """The authors' sweep through the public API: speeds (3, 101) for kernel sizes 2, 3, 5."""
    return np.stack([speed_sweep("dct", n, DEFAULT_BETA2, steps=10, size=301, device=device)["speed"]
                     for n in (2, 3, 5)])


def _authors_inputs() -> list[tuple[np.ndarray, list[np.ndarray]]]:
    return [(P.delta(301), K.family("dct", DEFAULT_BETA2, n)[0]) for n in (2, 3, 5)]


def timed_interleaved(fns: dict[str, Callable[[], Any]], rounds: dict[str, int]
                      ) -> dict[str, dict[str, Any]]:
    """:func:`timed` for several methods, their rounds interleaved (round 1 of every method, then
    round 2, ...), so that a slow spell of a shared machine falls on all of them alike rather than
    on whichever method happened to run then. A method with ``rounds > 1`` gets one warm-up call."""
    for label, fn in fns.items():
        if rounds[label] > 1:
            fn()
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    out: dict[str, Any] = {}
    for i in range(max(rounds.values())):
        for label, fn in fns.items():
            if i < rounds[label]:
                c0, t0 = time.process_time(), time.perf_counter()
                out[label] = fn()
                wall[label].append(time.perf_counter() - t0)
                cpu[label].append(time.process_time() - c0)
    return {k: {"min_s": min(wall[k]), "median_s": float(np.median(wall[k])), "cpu_min_s": min(cpu[k]),
                "rounds": rounds[k], "result": out[k]} for k in fns}


def compare(name: str, methods: dict[str, tuple[Callable[[], Any], str]], rounds: dict[str, int],
            px_steps: float, taps: float, machine: dict[str, float], reference: str = "infomech"
            ) -> dict[str, Any]:
    """Time every method (rounds interleaved), check agreement with ``reference`` and attach
    throughput and floor."""
    res: dict[str, Any] = {"workload": name, "px_steps": px_steps,
                           "floor_s": floor_s(px_steps, taps, machine), "methods": {}}
    ref = None
    times = timed_interleaved({k: fn for k, (fn, _) in methods.items()},
                              {k: rounds.get(k, rounds["default"]) for k in methods})
    for label, (_, precision) in methods.items():
        r = times[label]
        val = np.asarray(r.pop("result"), dtype=float)
        if label == reference:
            ref = val
        r["precision"] = precision
        r["px_steps_per_s"] = px_steps / r["cpu_min_s"]
        r["x_floor"] = r["cpu_min_s"] / res["floor_s"]
        r["_val"] = val
        res["methods"][label] = r
    for r in res["methods"].values():
        val = r.pop("_val")
        r["max_abs_diff"] = float(np.max(np.abs(val - ref)))
        r["agrees"] = bool(r["max_abs_diff"] <= TOL[r["precision"]])
    return res


def bench_authors(machine: dict[str, float], quick: bool) -> dict[str, Any]:
    inputs = _authors_inputs()
    px = sum(101 * light_cone_px(10, max(1, n // 2), 301) for n in (2, 3, 5))
    taps = sum(101 * light_cone_px(10, max(1, n // 2), 301) * n * n for n in (2, 3, 5)) / px

    def each(fn: Callable[..., np.ndarray], **kw: Any) -> Callable[[], np.ndarray]:
        return lambda: np.stack([fn(x, s, 10, **kw) for x, s in inputs])

    methods = {
        "infomech": (authors_sweep, "float64"),
        "infomech_2d": (each(speeds_infomech, separable=False), "float64"),
        "scipy_crop": (each(speeds_scipy), "float64"),
        "torch64_crop": (each(speeds_torch_crop), "float64"),
        "torch32_crop": (each(speeds_torch_crop, dtype=torch.float32), "float32"),
    }
    if not quick:
        methods["scipy_full"] = (each(speeds_scipy, crop=False), "float64")
    rounds = {"default": 5 if quick else 25, "scipy_crop": 2 if quick else 10, "scipy_full": 1}
    res = compare("authors' sweep: dct-beta, 101 beta^2 x sizes 2/3/5, 10 steps, 301x301 delta, ReLU, "
                  "x/std, float64", methods, rounds, px, taps, machine)
    base = [v for k, v in res["methods"].items()
            if k not in ("infomech", "infomech_2d") and v["precision"] == "float64"]
    me = res["methods"]["infomech"]
    res["targets"] = [
        target(f"infomech >= {TARGET_AUTHORS_VS_BASELINE}x faster than the best float64 baseline",
               min(v["cpu_min_s"] for v in base) / me["cpu_min_s"], ">=", TARGET_AUTHORS_VS_BASELINE,
               wall=min(v["min_s"] for v in base) / me["min_s"]),
        target(f"infomech within {TARGET_FLOOR}x of the 2-D floor", me["cpu_min_s"] / res["floor_s"],
               "<=", TARGET_FLOOR, wall=me["min_s"] / res["floor_s"]),
    ]
    return res


def bench_general(machine: dict[str, float], quick: bool) -> list[dict[str, Any]]:
    out = []
    x = P.delta(301)
    for name, sched in (("101 random 3x3 kernels", [K.random_kernels(101, 3, seed=0)]),
                        ("translation-beta 3x3, 101 beta^2", K.family("translation", DEFAULT_BETA2, 3)[0])):
        methods = {
            "infomech": (lambda s=sched: speeds_infomech(x, s, 50), "float64"),
            "torch64_crop": (lambda s=sched: speeds_torch_crop(x, s, 50), "float64"),
            "torch32_crop": (lambda s=sched: speeds_torch_crop(x, s, 50, torch.float32), "float32"),
            "scipy_crop": (lambda s=sched: speeds_scipy(x, s, 50), "float64"),
        }
        px = 101 * light_cone_px(50, 1, 301)
        res = compare(f"general sweep: {name}, 50 steps, 301x301 delta, ReLU, x/std, float64", methods,
                      {"default": 2 if quick else 5, "scipy_crop": 1}, px, 9, machine)
        t64, me = res["methods"]["torch64_crop"], res["methods"]["infomech"]
        res["targets"] = [target(f"infomech >= {TARGET_GENERAL_VS_TORCH64}x faster than torch64_crop",
                                 t64["cpu_min_s"] / me["cpu_min_s"], ">=", TARGET_GENERAL_VS_TORCH64,
                                 wall=t64["min_s"] / me["min_s"])]
        out.append(res)
    return out


def bench_long(machine: dict[str, float], quick: bool) -> list[dict[str, Any]]:
    out = []
    x = P.delta(1001)
    b2 = np.round(np.linspace(0, 1, 11), 2)
    for fam in ("translation", "dct"):
        sched = K.family(fam, b2, 3)[0]
        methods = {"infomech": (lambda s=sched: speeds_infomech(x, s, 200), "float64")}
        if not quick:
            methods["torch64_crop"] = (lambda s=sched: speeds_torch_crop(x, s, 200), "float64")
        px = 11 * light_cone_px(200, 1, 1001)
        res = compare(f"long run: {fam}-beta 3x3, 11 beta^2, 200 steps, 1001x1001 delta, ReLU, x/std, "
                      "float64", methods, {"default": 2 if quick else 3, "torch64_crop": 1}, px, 9, machine)
        me = res["methods"]["infomech"]
        res["targets"] = [target(f"infomech within {TARGET_FLOOR}x of the 2-D floor",
                                 me["cpu_min_s"] / res["floor_s"], "<=", TARGET_FLOOR,
                                 wall=me["min_s"] / res["floor_s"])]
        out.append(res)
    return out


def target(text: str, value: float, op: str, bound: float, wall: float | None = None) -> dict[str, Any]:
    """A target ``value op bound``; ``wall`` is the same quantity on the wall clock, if it differs."""
    def ok(v: float) -> bool:
        return bool(v >= bound if op == ">=" else v <= bound)

    out = {"target": text, "value": float(value), "op": op, "bound": bound, "met": ok(value)}
    if wall is not None:
        out.update(wall_value=float(wall), met_wall=ok(wall))
    return out


# --------------------------------------------------------------------------------------------
# contention: the authors' sweep with a CPU-bound process running
# --------------------------------------------------------------------------------------------

def bench_contention(rounds: int) -> dict[str, Any]:
    """The authors' sweep quiet and with one busy-looping process, interleaved (quiet, busy, ...).

    Wall clock (the target) and CPU time: a CPU time that stays put while the wall clock grows
    means the process is only waiting for a core (scheduling), not doing extra work (spinning
    threads)."""
    authors_sweep()
    quiet, busy, qcpu, bcpu = [], [], [], []
    for _ in range(rounds):
        r = timed(authors_sweep, 3, warmup=False)
        quiet.append(r["min_s"])
        qcpu.append(r["cpu_min_s"])
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(0.2)
            r = timed(authors_sweep, 3, warmup=False)
            busy.append(r["min_s"])
            bcpu.append(r["cpu_min_s"])
        finally:
            hog.kill()
            hog.wait()
    q, b = min(quiet), min(busy)
    qm, bm = float(np.median(quiet)), float(np.median(busy))
    return {"quiet_min_s": q, "busy_min_s": b, "quiet_median_s": qm, "busy_median_s": bm,
            "ratio_min": b / q, "ratio_median": bm / qm,
            "quiet_cpu_median_s": float(np.median(qcpu)), "busy_cpu_median_s": float(np.median(bcpu)),
            "targets": [target(f"busy/quiet <= {TARGET_CONTENTION} (medians)", bm / qm, "<=",
                               TARGET_CONTENTION)]}


# --------------------------------------------------------------------------------------------
# memory: peak RSS of a fresh process, many kernels on a large image
# --------------------------------------------------------------------------------------------

_PROBE = """
import json, sys, time
import torch
from infomech import kernels as K, patterns as P
from infomech.propagation import propagate
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
count, size, steps = {count}, {size}, {steps}
x = P.delta(size)
ks = K.random_kernels(count, 3, seed=0)
r0 = hwm()
t0 = time.perf_counter()
tr = propagate(x, ks, steps, rescale=True)
dt = time.perf_counter() - t0
print(json.dumps({{"baseline_mib": r0, "seconds": dt, "window": list(tr.window), "peak_mib": hwm()}}))
"""


def memory_bound_mib(baseline_mib: float, count: int, window: list[int], steps: int, r: int = 1,
                     nbytes: int = 8, chunk_bytes: int = 3 * 2**20) -> float:
    """The documented bound (MiB): ``R0 + bytes*K*(h+2r)*(w+2r)`` (each chunk's last padded window)
    ``+ (4 + ceil(log2 K))*CPU_CHUNK_BYTES`` (working buffers; one pending sibling state per level
    of the light-cone chunk tree) ``+ 192*K*(T+1)`` (records and their copies) ``+ 32 MiB``
    (allocator)."""
    h, w = window[1] - window[0], window[3] - window[2]
    levels = int(np.ceil(np.log2(max(count, 1))))
    return baseline_mib + (nbytes * count * (h + 2 * r) * (w + 2 * r) + (4 + levels) * chunk_bytes
                           + 192 * count * (steps + 1)) / 2**20 + 32


def bench_memory(count: int = 1000, size: int = 512, steps: int = 50) -> dict[str, Any]:
    code = _PROBE.format(count=count, size=size, steps=steps)
    env = dict(os.environ, INFOMECH_QUIET="1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res.update(kernels=count, size=size, steps=steps, dtype="float64",
               full_state_mib=8 * count * size * size / 2**20,
               bound_mib=memory_bound_mib(res["baseline_mib"], count, res["window"], steps))
    res["targets"] = [target("peak RSS within the documented bound (no full-size array per kernel)",
                             res["peak_mib"], "<=", res["bound_mib"])]
    return res


# --------------------------------------------------------------------------------------------
# CUDA
# --------------------------------------------------------------------------------------------

def bench_device(device: str, rounds: int) -> dict[str, Any]:
    """The authors' and a general sweep on ``device``: times and max |device - CPU| of the speeds."""
    name = torch.cuda.get_device_name() if device == "cuda" else device
    out: dict[str, Any] = {"device": device, "name": name}
    x = P.delta(301)
    rnd = [K.random_kernels(101, 3, seed=0)]
    for label, fn in (("authors_sweep", authors_sweep),
                      ("random_3x3_50_steps",
                       lambda device="cpu": speeds_infomech(x, rnd, 50, device=device))):
        cpu = fn()

        def on_dev(fn: Callable[..., np.ndarray] = fn) -> np.ndarray:
            v = fn(device=device)
            if device == "cuda":
                torch.cuda.synchronize()
            return v

        r = timed(on_dev, rounds)
        out[label] = {"min_s": r["min_s"], "median_s": r["median_s"],
                      "max_abs_diff_vs_cpu": float(np.max(np.abs(np.asarray(r["result"]) - cpu)))}
    return out


# --------------------------------------------------------------------------------------------

def _lscpu_model() -> str:
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _machine() -> dict[str, Any]:
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {"cpu_model": _lscpu_model(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "torch_threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "load_average_1min": load}


def _fmt_workload(res: dict[str, Any]) -> list[str]:
    lines = [res["workload"],
             f"  computed px-steps {res['px_steps'] / 1e6:.2f} M; floor {res['floor_s'] * 1e3:.2f} ms",
             f"  {'method':14s} {'min s':>9s} {'median s':>9s} {'cpu min':>9s} {'Mpx-st/s':>9s}"
             f" {'x floor':>8s} {'max|dv|':>9s}  agrees"]
    for k, v in res["methods"].items():
        lines.append(f"  {k:14s} {v['min_s']:9.4f} {v['median_s']:9.4f} {v['cpu_min_s']:9.4f} "
                     f"{v['px_steps_per_s'] / 1e6:9.1f} {v['x_floor']:8.1f} {v['max_abs_diff']:9.1e}  "
                     f"{'yes' if v['agrees'] else 'NO'} ({v['precision']}, tol {TOL[v['precision']]:g})")
    return lines


def _fmt_targets(res: dict[str, Any]) -> list[str]:
    out = []
    for t in res.get("targets", []):
        line = f"  TARGET {t['target']}: {t['value']:.2f} {t['op']} {t['bound']:g} -> " \
               f"{'met' if t['met'] else 'NOT met'}"
        if "wall_value" in t:
            line += f"  (CPU time; wall clock {t['wall_value']:.2f}: {'met' if t['met_wall'] else 'NOT met'})"
        out.append(line)
    return out


def _fmt_contention(c: dict[str, Any]) -> str:
    return (f"contention (authors' sweep, one busy-loop process): quiet {c['quiet_median_s']:.4f} s, "
            f"busy {c['busy_median_s']:.4f} s (medians; mins {c['quiet_min_s']:.4f} / "
            f"{c['busy_min_s']:.4f}); "
            f"CPU time quiet {c.get('quiet_cpu_median_s', float('nan')):.4f} s, busy "
            f"{c.get('busy_cpu_median_s', float('nan')):.4f} s")


def _fmt_memory(mm: dict[str, Any]) -> str:
    if "error" in mm:
        return f"memory: ERROR {mm['error']}"
    return (f"memory: {mm['kernels']} random 3x3 kernels, {mm['size']}x{mm['size']} delta, {mm['steps']} "
            f"steps, float64: peak RSS {mm['peak_mib']:.0f} MiB (baseline {mm['baseline_mib']:.0f}; a full "
            f"(K, H, W) state alone would be {mm['full_state_mib']:.0f} MiB), bound {mm['bound_mib']:.0f} "
            f"MiB, {mm['seconds']:.1f} s")


def report(res: dict[str, Any]) -> str:
    m = res["machine"]
    fl = res["floor"]
    lines = [f"infomech benchmarks {res['date']}: {m['cpu_model']}, {m['cpus']} cores, torch {m['torch']} "
             f"({m['cpu_capability']}), 1 thread per method, load average {m['load_average_1min']}",
             f"floor rates (CPU time): copy {fl['copy_bytes_per_s'] / 1e9:.1f} GB/s (read+write), float64 "
             f"matmul {fl['float64_flop_per_s'] / 1e9:.1f} GFLOP/s (1 thread); throughput and 'x floor' "
             "use CPU time"]
    for res_w in [res["authors"], *res.get("general", []), *res.get("long", [])]:
        lines += _fmt_workload(res_w) + _fmt_targets(res_w)
    for key, fmt in (("contention", _fmt_contention), ("memory", _fmt_memory)):
        if key in res:
            lines += [fmt(res[key]), *_fmt_targets(res[key])]
    if "device" in res:
        d = res["device"]
        lines.append(f"device {d['device']} ({d['name']}):")
        for k in ("authors_sweep", "random_3x3_50_steps"):
            lines.append(f"  {k}: {d[k]['min_s']:.4f} s min, {d[k]['median_s']:.4f} s median, "
                         f"max |v_device - v_cpu| = {d[k]['max_abs_diff_vs_cpu']:.1e} px/step")
    allt = [t for w in [res["authors"], *res.get("general", []), *res.get("long", []),
                        res.get("contention", {}), res.get("memory", {})] for t in w.get("targets", [])]
    lines.append(f"targets met: {sum(t['met'] for t in allt)} of {len(allt)}")
    return "\n".join(lines)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer rounds; no full-image scipy loop, no long-run baseline, no memory probe")
    ap.add_argument("--device", default=None,
                    help="also run the sweeps on this torch device (e.g. cuda) and compare with the CPU")
    ap.add_argument("--no-contention", action="store_true", help="skip the busy-machine measurement")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    if args.device is not None:
        try:
            dev = torch.device(args.device)
        except RuntimeError:
            print(f"--device: unknown torch device {args.device!r}", file=sys.stderr)
            return 2
        if dev.type == "cuda" and not torch.cuda.is_available():
            print("--device cuda: no CUDA device is available here", file=sys.stderr)
            return 2

    os.environ.setdefault("INFOMECH_QUIET", "1")
    torch.set_num_threads(1)
    res: dict[str, Any] = {"date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "machine": _machine(), "quick": args.quick}
    res["floor"] = machine_floor()
    res["authors"] = bench_authors(res["floor"], args.quick)
    res["general"] = bench_general(res["floor"], args.quick)
    res["long"] = bench_long(res["floor"], args.quick)
    if not args.no_contention:
        res["contention"] = bench_contention(2 if args.quick else 4)
    if not args.quick:
        res["memory"] = bench_memory()
    if args.device is not None:
        res["device"] = bench_device(args.device, 3)
    text = json.dumps(res, indent=1, sort_keys=True, default=float) + "\n"
    stamp = res["date"].replace(":", "").replace("-", "")
    _write(args.out / "latest.json", text)
    _write(args.out / f"bench-{stamp}.json", text)
    print(report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
