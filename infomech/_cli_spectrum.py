"""``infomech spectrum SOURCE [--kernel-size 3] [--json]``: DCT energy spectrum of a network's kernels.

Imported by :mod:`infomech.cli`. Errors (unknown source, unreadable file, no kernels of that size)
are reported by :func:`run` itself as one line on stderr with exit code 2, no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

from .cli import int_at_least
from .weights import BUILTIN_SOURCES


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``spectrum`` sub-command."""
    p = subparsers.add_parser(
        "spectrum",
        help="per-basis DCT energy fractions of a network's kernels (the DCT-dominance test)",
        description=("Project every n x n convolution kernel on the n*n orthonormal DCT bases; per "
                     "layer divide each basis' energy by the layer's energy; average over layers. "
                     "SOURCE is a built-in name (" + ", ".join(BUILTIN_SOURCES) + ", random:NAME) "
                     "or a .pth/.pt/.onnx/.npz/.h5 file."),
    )
    p.add_argument("source", metavar="SOURCE", help="built-in name or weights file")
    p.add_argument("--kernel-size", type=int, default=3, help="kernel size n (default 3)")
    p.add_argument("--seed", type=int_at_least(0, "non-negative"), default=0,
                   help="seed of the random null model (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--no-layers", action="store_true", help="omit the per-layer list from the JSON")
    p.set_defaults(func=run)


def _table(d: dict) -> str:
    null = d["null"]
    lines = [f"{d['source']}: {d['n_layers']} layers, {d['n_kernels']} kernels of "
             f"{d['kernel_size']}x{d['kernel_size']}",
             f"{'basis':>10} {'(u,v)':>6} {'mean fraction':>14} {'null':>7}"]
    for label, (u, v), f in zip(d["basis_labels"], d["basis_uv"], d["mean_fractions"], strict=True):
        lines.append(f"{label:>10} {f'({u},{v})':>6} {f:14.3f} {null['per_basis']:7.3f}")
    lines += [f"{'DC + two gradients':>32} {d['dc_grad_share']:.3f} {null['dc_grad_share']:7.3f}",
              f"{'odd share (point)':>32} {d['odd_share_point']:.3f} {null['odd_share_point']:7.3f}",
              f"{'odd share (square)':>32} {d['odd_share_square']:.3f} "
              f"{null['odd_share_square']:7.3f}"]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Compute and print the spectrum; 0 on success, 2 (one line on stderr) on bad input."""
    from .spectrum import spectrum

    try:
        spec = spectrum(args.source, args.kernel_size, seed=args.seed)
    except ValueError as exc:
        print(f"infomech spectrum: error: {exc}", file=sys.stderr)
        return 2
    d = spec.to_dict(layers=not getattr(args, "no_layers", False))
    print(json.dumps(d, indent=1) if args.json else _table(d))
    return 0
