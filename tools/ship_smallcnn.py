"""Train the book's SmallCNN with the default settings and ship it in ``infomech/data/``.

Run after any change to ``infomech/smallcnn.py`` or to the torch/numpy pins (the shipped file's name
hashes them; ``tests/test_smallcnn.py`` fails until the matching file ships). Training is seeded and
single-threaded, and it runs here under the AVX2 emulation of the Makefile (``EMULATE_AVX2``; this
script re-runs itself with it when the environment lacks it): that is the code path on which
``make test`` retrains the model and checks every weight bit for bit. The SSE4 and native
AVX-512 paths differ from it in the last bits (up to 1.4e-13 and 1.1e-13, measured 2026-12-06 on an
AMD EPYC with AVX-512; far inside ``smallcnn.REPRODUCIBLE_ATOL``), so a model shipped from such a
path without the emulation would fail that check on every CPU.

Usage: python tools/ship_smallcnn.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

#: The Makefile's ``EMULATE_AVX2`` (``tests/test_smallcnn.py`` checks that the two agree).
EMULATE_AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
                "MKL_ENABLE_INSTRUCTIONS": "AVX2", "OPENBLAS_CORETYPE": "Haswell"}


def main() -> int:
    if any(os.environ.get(name) != value for name, value in EMULATE_AVX2.items()):
        # torch reads these when it is imported: run again in a process that has them from the start
        return subprocess.call([sys.executable, os.path.abspath(__file__), *sys.argv[1:]],
                               env={**os.environ, **EMULATE_AVX2})
    from infomech import smallcnn

    start = time.perf_counter()
    model = smallcnn.trained(use_cache=False)
    path = smallcnn.save_shipped(model)
    print(f"trained in {time.perf_counter() - start:.1f} s under the AVX2 emulation; metrics "
          f"{smallcnn.metrics(model)}; shipped {path.relative_to(smallcnn.SHIPPED_DIR.parents[1])} "
          f"({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
