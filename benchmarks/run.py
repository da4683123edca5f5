"""Benchmarks of infomech: speed-law sweep vs a scipy loop, bandwidth floor, chapters, book, memory.

Run from the repository root::

    python -m benchmarks.run            # sweep + bandwidth + chapters + memory (a few minutes)
    python -m benchmarks.run --quick    # sweep + bandwidth only (under a minute)
    python -m benchmarks.run --book     # also a cold and a cached jupyter-book build (minutes)

Results are printed and written atomically to ``benchmarks/results/latest.json`` (and a
time-stamped copy). This is a measurement, not a pass/fail test; see ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # ``python benchmarks/run.py``
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from scipy import ndimage  # noqa: E402

from infomech import kernels as K  # noqa: E402
from infomech import patterns as P  # noqa: E402
from infomech.propagation import propagate  # noqa: E402
from infomech.publish import atomic_write_text  # noqa: E402
from infomech.sweeps import DEFAULT_BETA2, speed_sweep  # noqa: E402

SIZES = (2, 3, 5)
STEPS = 10
IMAGE = 301


def _best(fn, repeats: int) -> tuple[float, float, Any]:
    """(min, median) wall time of ``repeats`` calls of ``fn`` and its last result."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times)), out


# --------------------------------------------------------------------------------------------
# memory bandwidth floor
# --------------------------------------------------------------------------------------------

def bandwidth(mbytes: int = 256, repeats: int = 5) -> dict[str, float]:
    """Copy a large float64 array: bytes moved (read + write) per second, and the float64
    pixel rate it allows (16 bytes per pixel: one read, one write)."""
    src = np.random.default_rng(0).random(mbytes * 2**20 // 8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    t, _, _ = _best(lambda: np.copyto(dst, src), repeats)
    bps = 2 * src.nbytes / t
    return {"copy_bytes": src.nbytes, "bytes_per_s": bps, "float64_px_per_s": bps / 16}


# --------------------------------------------------------------------------------------------
# the speed-law sweep: (a) infomech, (b) a scipy loop per kernel and step
# --------------------------------------------------------------------------------------------

def sweep_infomech() -> np.ndarray:
    """(a) ``speed_sweep`` for the three kernel sizes; speeds (3, 101)."""
    return np.stack([speed_sweep("dct", n, DEFAULT_BETA2, steps=STEPS, size=IMAGE)["speed"]
                     for n in SIZES])


def sweep_infomech_no_cone() -> np.ndarray:
    """(a) without the light cone: the same batched engine on the full 301x301 image."""
    x = P.delta(IMAGE)
    return np.stack([propagate(x, K.family("dct", DEFAULT_BETA2, n)[0], STEPS, rescale=True,
                               light_cone=False).speed() for n in SIZES])


def _centre(x: np.ndarray) -> np.ndarray:
    w = np.abs(x)
    h, wd = x.shape
    ys, xs = np.mgrid[0:h, 0:wd]
    m = w.sum()
    return np.array([(w * (xs - (wd - 1) / 2)).sum() / m, (w * (ys - (h - 1) / 2)).sum() / m])


def sweep_scipy() -> np.ndarray:
    """(b) A plain loop: for every kernel and step, ``x <- relu(correlate(x / std(x), k))`` with
    ``scipy.ndimage.correlate`` (zero padding) on the full image; speed |mu(T) - mu(0)| / T."""
    x0 = P.delta(IMAGE)
    mu0 = _centre(x0)
    out = np.empty((len(SIZES), len(DEFAULT_BETA2)))
    for i, n in enumerate(SIZES):
        schedule, _ = K.family("dct", DEFAULT_BETA2, n)
        for j in range(len(DEFAULT_BETA2)):
            x = x0
            for t in range(STEPS):
                s = x.std()
                x = x / s if s > 0 else x
                k = schedule[t % len(schedule)][j]
                x = np.maximum(ndimage.correlate(x, k, mode="constant", cval=0.0), 0.0)
            out[i, j] = np.linalg.norm(_centre(x) - mu0) / STEPS
    return out


def computed_pixels(light_cone: bool) -> int:
    """Pixel-steps the engine actually computes: K * sum_t |window(t)| over the three sizes."""
    total = 0
    for n in SIZES:
        r = 1 if n == 2 else n // 2  # 2x2 is embedded in 3x3
        for t in range(1, STEPS + 1):
            side = min(IMAGE, 1 + 2 * r * t) if light_cone else IMAGE
            total += len(DEFAULT_BETA2) * side * side
    return total


def bench_sweep(repeats: int, scipy_repeats: int, floor_px: float) -> dict[str, Any]:
    sweep_infomech()  # warm-up (imports, thread pool)
    ta, ta_med, va = _best(sweep_infomech, repeats)
    tb, tb_med, vb = _best(sweep_scipy, scipy_repeats)
    tc, tc_med, vc = _best(sweep_infomech_no_cone, 1)
    nominal = len(SIZES) * len(DEFAULT_BETA2) * STEPS * IMAGE * IMAGE
    return {
        "protocol": f"dct-beta kernels, beta^2 = 0..1 step 0.01 ({len(DEFAULT_BETA2)} values), sizes "
                    f"{SIZES}, {STEPS} steps, {IMAGE}x{IMAGE} delta, ReLU, x/std rescaling, float64",
        "infomech_s": ta, "infomech_median_s": ta_med,
        "infomech_no_cone_s": tc,
        "scipy_loop_s": tb, "scipy_loop_median_s": tb_med,
        "ratio": tb / ta, "ratio_median": tb_med / ta_med, "ratio_no_cone": tb / tc,
        "max_abs_speed_diff": float(np.max(np.abs(va - vb))),
        "max_abs_speed_diff_no_cone": float(np.max(np.abs(vc - vb))),
        "nominal_px_steps": nominal,
        "nominal_px_steps_per_s": nominal / ta,
        "computed_px_steps": computed_pixels(True),
        "computed_px_steps_per_s": computed_pixels(True) / ta,
        "no_cone_px_steps_per_s": nominal / tc,
        "scipy_px_steps_per_s": nominal / tb,
        "floor_fraction_no_cone": nominal / tc / floor_px,
    }


# --------------------------------------------------------------------------------------------
# chapters and the book
# --------------------------------------------------------------------------------------------

def _env() -> dict[str, str]:
    env = dict(os.environ, INFOMECH_QUIET="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _copy_repo(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(".git", "_build", ".venv", ".jupyter_cache", "results",
                                    "_ledger", "figures", "__pycache__", "*.egg-info")
    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def bench_chapters() -> dict[str, float]:
    """Execute every ``book/*.ipynb`` once (nbclient, in a temporary copy of book/), seconds each."""
    import nbformat
    from nbclient import NotebookClient

    out: dict[str, float] = {}
    notebooks = sorted((ROOT / "book").glob("*.ipynb"))
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "book"
        shutil.copytree(ROOT / "book", book, ignore=shutil.ignore_patterns("_ledger", "figures"))
        old = {k: os.environ.get(k) for k in ("INFOMECH_QUIET", "MPLBACKEND")}
        os.environ.update(INFOMECH_QUIET="1", MPLBACKEND="Agg")
        try:
            for nb_path in notebooks:
                nb = nbformat.read(book / nb_path.name, as_version=4)
                t0 = time.perf_counter()
                NotebookClient(nb, timeout=600, kernel_name="python3",
                               resources={"metadata": {"path": str(book)}}).execute()
                out[nb_path.stem] = time.perf_counter() - t0
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    return out


def bench_book() -> dict[str, float]:
    """``jupyter-book build .`` in a temporary copy of the repository: cold, then cached."""
    exe = Path(sys.executable).parent / "jupyter-book"
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        repo = _copy_repo(Path(tmp) / "repo")
        for label in ("cold_s", "cached_s"):
            t0 = time.perf_counter()
            proc = subprocess.run([str(exe), "build", "."], cwd=repo, env=_env(),
                                  capture_output=True, text=True)
            out[label] = time.perf_counter() - t0
            if proc.returncode != 0:
                out[label.replace("_s", "_failed")] = proc.returncode
    return out


# --------------------------------------------------------------------------------------------
# memory: 1000 kernels on 512x512 for 100 steps, peak RSS in a fresh process
# --------------------------------------------------------------------------------------------

_PROBE = """
import json, resource, sys, time
import torch
from infomech import kernels as K, patterns as P
from infomech.propagation import propagate
def hwm():  # peak RSS of this process image in MiB (VmHWM is reset by exec; ru_maxrss is not)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
count, size, steps, batch, pattern = {count}, {size}, {steps}, {batch}, {pattern!r}
x = P.delta(size) if pattern == "delta" else P.noise(size, seed=0)
ks = K.random_kernels(count, 3, seed=0)
r0 = hwm()
t0 = time.perf_counter()
tr = propagate(x, ks, steps, dtype=torch.float32, batch_size=batch, rescale=True)
dt = time.perf_counter() - t0
print(json.dumps({{"baseline_mib": r0, "seconds": dt, "window": list(tr.window), "peak_mib": hwm(),
                  "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

#: Working-set factor of the documented bound (see README): peak RSS <= R0 + bytes * (K*H*W +
#: C_WORK * b * (H + 2r) * (W + 2r)).
C_WORK = 5


def memory_bound_mib(baseline_mib: float, count: int, size: int, batch: int, window: list[int],
                     nbytes: int = 4, r: int = 1) -> float:
    """The documented bound on peak RSS in MiB (see README)."""
    h = w = size  # the window never exceeds the image; growing windows fragment the heap
    return baseline_mib + nbytes * (count * size * size + C_WORK * batch * (h + 2 * r) * (w + 2 * r)
                                    ) / 2**20


def bench_memory(pattern: str = "delta", count: int = 1000, size: int = 512, steps: int = 100,
                 batch: int = 100) -> dict[str, Any]:
    """Peak RSS of a fresh subprocess running a float32 propagation with ``batch_size``.

    The peak is ``VmHWM`` of ``/proc/self/status`` in the child (``ru_maxrss`` is also recorded,
    but on Linux it inherits the parent's resident size at fork, which inflates it)."""
    code = _PROBE.format(count=count, size=size, steps=steps, batch=batch, pattern=pattern)
    proc = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True,
                          cwd=ROOT)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res.update(pattern=pattern, kernels=count, size=size, steps=steps, batch_size=batch,
               dtype="float32",
               bound_mib=memory_bound_mib(res["baseline_mib"], count, size, batch, res["window"]))
    res["within_bound"] = res["peak_mib"] <= res["bound_mib"]
    return res


# --------------------------------------------------------------------------------------------

def _machine() -> dict[str, Any]:
    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    return {"platform": platform.platform(), "python": platform.python_version(),
            "torch": torch.__version__, "numpy": np.__version__, "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "transparent_hugepages": thp.read_text().strip() if thp.exists() else None}


def report(res: dict[str, Any]) -> str:
    lines = [f"infomech benchmarks ({res['date']}, {res['machine']['cpus']} CPUs, "
             f"torch {res['machine']['torch']})"]
    bw = res["bandwidth"]
    lines.append(f"memory bandwidth floor: {bw['bytes_per_s'] / 1e9:.2f} GB/s (copy, read+write) "
                 f"= {bw['float64_px_per_s'] / 1e6:.0f} M float64 px/s")
    s = res["sweep"]
    lines += [
        f"speed-law sweep: {s['protocol']}",
        f"  (a) infomech batched, light cone   {s['infomech_s']:8.3f} s  "
        f"(median {s['infomech_median_s']:.3f})",
        f"  (a) infomech batched, no cone      {s['infomech_no_cone_s']:8.3f} s",
        f"  (b) scipy.ndimage.correlate loop   {s['scipy_loop_s']:8.3f} s  "
        f"(median {s['scipy_loop_median_s']:.3f})",
        f"  ratio (b)/(a): {s['ratio']:.1f}x best-of, {s['ratio_median']:.1f}x median "
        f"(target >= 30x: {'met' if s['ratio'] >= 30 else 'NOT met'}); without the light cone "
        f"{s['ratio_no_cone']:.2f}x",
        f"  agreement: max |v_a - v_b| = {s['max_abs_speed_diff']:.1e} px/step "
        f"(no cone {s['max_abs_speed_diff_no_cone']:.1e})",
        f"  px-steps/s: nominal (full 301x301) {s['nominal_px_steps_per_s'] / 1e6:.0f} M, "
        f"computed (light-cone windows) {s['computed_px_steps_per_s'] / 1e6:.1f} M, "
        f"no cone {s['no_cone_px_steps_per_s'] / 1e6:.1f} M "
        f"({100 * s['floor_fraction_no_cone']:.0f}% of the bandwidth floor), "
        f"scipy {s['scipy_px_steps_per_s'] / 1e6:.1f} M",
    ]
    if "chapters" in res:
        lines.append("chapter execution (nbclient, temp copy):")
        lines += [f"  {k:30s} {v:7.1f} s" for k, v in res["chapters"].items()] or ["  (no chapters)"]
    if "book" in res:
        b = res["book"]
        lines.append(f"book build: cold {b['cold_s']:.1f} s, cached {b['cached_s']:.1f} s"
                     + ("  (FAILED)" if any(k.endswith("_failed") for k in b) else ""))
    for m in res.get("memory", []):
        if "error" in m:
            lines.append(f"memory: ERROR {m['error']}")
            continue
        lines.append(
            f"memory: {m['kernels']} kernels, {m['size']}x{m['size']} {m['pattern']}, {m['steps']} steps,"
            f" float32, batch_size {m['batch_size']}: peak RSS {m['peak_mib']:.0f} MiB (baseline "
            f"{m['baseline_mib']:.0f}), bound {m['bound_mib']:.0f} MiB "
            f"({'within' if m['within_bound'] else 'EXCEEDED'}), {m['seconds']:.0f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="sweep and bandwidth only")
    ap.add_argument("--book", action="store_true", help="also time a cold and a cached book build")
    ap.add_argument("--memory-full", action="store_true",
                    help="also the worst case for memory: 1000 kernels on 512x512 noise (no light "
                         "cone), 5 steps")
    ap.add_argument("--repeats", type=int, default=7, help="repeats of (a) (best-of)")
    ap.add_argument("--scipy-repeats", type=int, default=2, help="repeats of (b) (best-of)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)

    res: dict[str, Any] = {"date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "machine": _machine()}
    res["bandwidth"] = bandwidth()
    res["sweep"] = bench_sweep(args.repeats, args.scipy_repeats, res["bandwidth"]["float64_px_per_s"])
    if not args.quick:
        res["chapters"] = bench_chapters()
        res["memory"] = [bench_memory("delta")]
        if args.memory_full:
            res["memory"].append(bench_memory("noise", steps=5))
    if args.book:
        res["book"] = bench_book()
    text = json.dumps(res, indent=1, sort_keys=True) + "\n"
    stamp = res["date"].replace(":", "").replace("-", "")
    atomic_write_text(args.out / "latest.json", text)
    atomic_write_text(args.out / f"bench-{stamp}.json", text)
    print(report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
