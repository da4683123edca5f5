"""Train the book's SmallCNN with the default settings and ship it in ``infomech/data/``.

Run after any change to ``infomech/smallcnn.py`` or to the torch/numpy pins (the shipped file's name
hashes them; ``tests/test_smallcnn.py`` fails until the matching file ships). Training is seeded,
single-threaded and bit-identical across CPUs, so any machine produces the same file contents.

Usage: python tools/ship_smallcnn.py
"""

from __future__ import annotations

import time

from infomech import smallcnn


def main() -> int:
    start = time.perf_counter()
    model = smallcnn.trained(use_cache=False)
    path = smallcnn.save_shipped(model)
    print(f"trained in {time.perf_counter() - start:.1f} s; metrics {smallcnn.metrics(model)}; "
          f"shipped {path.relative_to(smallcnn.SHIPPED_DIR.parents[1])} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
