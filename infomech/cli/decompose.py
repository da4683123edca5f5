"""``infomech decompose KERNEL``: splits, beta^2, DCT spectrum, first moment, exact law of a kernel.

Examples::

    infomech decompose "[[0,1,0],[0,1,1],[0,0,0]]"
    infomech decompose my_kernels.npy --json

Only maps the argument to :func:`infomech.inputs.kernel_stack` and
:func:`infomech.runs.describe_kernel` and formats the result.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .. import __version__
from ._args import output_path
from ._output import emit, json_text

FLAGS = {"kernel": "KERNEL"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``decompose``."""
    p = subparsers.add_parser(
        "decompose", help="even/odd and sym/anti splits, beta^2, DCT shares, first moment and exact "
        "drift/diffusion of a kernel",
        description="Decompose a kernel: point-reflection split (even/odd) and square-symmetry split "
        "(sym/anti) with beta^2 = ||k_o||^2/||k||^2 under each, the orthonormal DCT-II coefficients and "
        "energy shares, the first moment sum_d k(d) d and, for a non-negative kernel, the exact "
        "transport law per step (drift and diffusion).")
    p.add_argument("kernel", nargs="+", metavar="KERNEL",
                   help="FILE.npy, FILE.txt or inline '[[0,1,0],[0,1,1],[0,0,0]]' (stacks: every kernel)")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   type=output_path((".json",)), help="JSON (to FILE, or stdout)")


def compute(args: argparse.Namespace) -> list[dict[str, Any]]:
    """One description per kernel (:func:`infomech.runs.describe_kernel`) with its source."""
    from ..inputs import kernel_stack

    stack, labels = kernel_stack(args.kernel)  # a bad KERNEL is refused before torch is imported
    from ..runs import describe_kernel

    out = []
    for k, label in zip(stack, labels, strict=True):
        d = describe_kernel(k)
        out.append({"source": label, **d, "infomech_version": __version__})
    return out


def _mat(m: Any, fmt: str = "{:8.4f}") -> list[str]:
    return ["  " + " ".join(fmt.format(round(float(v), 10) + 0.0) for v in row) for row in np.asarray(m)]


def text(d: dict[str, Any]) -> str:
    """Human-readable report of one kernel."""
    n = d["size"]
    lines = [f"kernel {d['source']} ({n}x{n}), energy ||k||^2 = {d['energy']:.6g}"]
    lines += _mat(d["kernel"])
    for kind, (a, b), title in (("point", ("even", "odd"), "point reflection (paper's abstract)"),
                                ("square", ("sym", "anti"), "square symmetry D4 (authors' code)")):
        s = d[kind]
        lines.append(f"{title}: beta^2 = {s['beta2']:.6f}   ||k_{a[0]}||^2 = {s[f'{a}_energy']:.6g}, "
                     f"||k_{b[0]}||^2 = {s[f'{b}_energy']:.6g}")
        lines.append(f" {a}:")
        lines += _mat(s[a])
        lines.append(f" {b}:")
        lines += _mat(s[b])
    lines.append("DCT-II coefficients T[u,v] (u rows, v columns):")
    lines += _mat(d["dct"]["coefficients"])
    lines.append("energy shares T^2/sum T^2 (parity (-1)^(u+v)):")
    lines += _mat(d["dct"]["shares"], "{:8.4f}")
    lines.append(f" DC + two gradients: {d['dct']['dc_grad_share']:.4f}")
    fx, fy = d["first_moment"]
    lines.append(f"first moment sum_d k(d) d = ({fx + 0.0:.6g}, {fy + 0.0:.6g}) px (x right, y down)")
    law = d["exact_law"]
    if law is None:
        lines.append(f"exact law: not applicable ({d['exact_law_note']})")
    else:
        dx, dy = law["drift"]
        lines.append(f"exact law (non-negative kernel): mass K = {law['mass']:.6g}, drift = "
                     f"({dx + 0.0:.6g}, {dy + 0.0:.6g}) px/step, diffusion tr(C)/2 = "
                     f"{law['diffusion']:.6g} px^2/step")
        lines += ["  C = "] + _mat(law["covariance"])
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Describe every kernel; JSON (a list, one entry per kernel) or text."""
    descs = compute(args)
    if args.json is not None:
        emit(args.json, json_text(descs))
    if args.json != "-":
        print("\n\n".join(text(d) for d in descs))
    return 0
