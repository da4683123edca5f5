"""``infomech spectrum SOURCE``: the DCT energy spectrum of a network's kernels, tested against the null.

Flags map to :func:`infomech.spectrum.spectrum` (SOURCE, ``--kernel-size``, ``--seed``), the
weighting of the pooled shares (``--weighting energy|kernel``), and the outputs: a table on stdout
(default), ``--json``/``--csv`` (stdout or a file), ``--plot`` (the chapter's heatmap and per-layer
figure for this network), ``--layers`` (per-layer rows and verdicts). ``--list`` shows the built-in
networks and whether their weights are installed here. Library errors become one line and exit 2
(:mod:`infomech.cli._errors`).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from ..networks import BUILTIN_SOURCES, FILE_SUFFIXES
from ._args import int_at_least, output_path
from ._output import atomic_write, csv_text, emit, figure_bytes, json_text

FLAGS = {"kernel_size": "--kernel-size", "weighting": "--weighting", "seed": "--seed",
         "source": "SOURCE"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``spectrum`` sub-command."""
    p = subparsers.add_parser(
        "spectrum",
        help="per-basis DCT energy shares of a network's kernels, tests against the null, verdict",
        description=("Project every n x n convolution kernel on the n*n orthonormal DCT bases; per "
                     "layer pool the energy of each basis (--weighting energy: the authors', by "
                     "kernel energy; kernel: every kernel scaled to unit energy); average over "
                     "layers; test DC and each gradient against the i.i.d. null (i.i.d. z and a "
                     "t-test over layers) and give the verdict dominated / enriched / neither. "
                     "SOURCE is a built-in name (" + ", ".join(BUILTIN_SOURCES) + ", random:NAME; "
                     "see --list) or a weights file (" + ", ".join(FILE_SUFFIXES) + ")."))
    p.add_argument("source", metavar="SOURCE", nargs="?", default=None,
                   help="built-in name or weights file")
    p.add_argument("--list", action="store_true",
                   help="list the built-in networks and whether they are available on this machine")
    p.add_argument("--kernel-size", type=int_at_least(2, "kernel size (>= 2)", 31), default=3,
                   help="kernel size n (default 3)")
    p.add_argument("--weighting", choices=["energy", "kernel"], default="energy",
                   help="pool a layer's kernels by energy (default, the authors') or per kernel")
    p.add_argument("--seed", type=int_at_least(0, "non-negative"), default=0,
                   help="seed of the random null model (default 0)")
    p.add_argument("--layers", action="store_true", help="per-layer shares and verdicts too")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   type=output_path((".json",)), help="JSON (to FILE, or stdout)")
    p.add_argument("--csv", nargs="?", const="-", default=None, metavar="FILE",
                   type=output_path((".csv",)),
                   help="CSV: one row per basis test (with --layers: one row per layer)")
    p.add_argument("--plot", default=None, metavar="OUT", type=output_path((".png", ".svg", ".pdf")),
                   help="heatmap of the mean shares and per-layer DC + gradient shares (.png/.svg/.pdf)")
    p.add_argument("--no-layers", action="store_true", help=argparse.SUPPRESS)  # old flag: no-op


def _f(x: Any, fmt: str = ".3f") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return format(x, fmt)


def _p(x: Any) -> str:
    if x is None:
        return "-"
    return "< 1e-4" if x < 1e-4 else f"{x:.4f}"


def table_text(d: dict[str, Any]) -> str:
    """The human-readable table of :meth:`Spectrum.to_dict`'s output."""
    null = d["null"]
    n = d["kernel_size"]
    lines = [f"{d['source']}: {d['n_layers']} layers, {d['n_kernels']} kernels of {n}x{n}, "
             f"{d['weighting']} weighting",
             f"{'basis':>10} {'(u,v)':>6} {'mean share':>11} {'null':>7}"]
    for label, (u, v), f in zip(d["basis_labels"], d["basis_uv"], d["mean_fractions"], strict=True):
        lines.append(f"{label:>10} {f'({u},{v})':>6} {f:11.3f} {null['per_basis']:7.3f}")
    lines += [f"{'DC + two gradients':>18} {d['dc_grad_share']:11.3f} {null['dc_grad_share']:7.3f}",
              f"{'odd share (point)':>18} {d['odd_share_point']:11.3f} {null['odd_share_point']:7.3f}",
              f"{'odd share (square)':>18} {d['odd_share_square']:11.3f} "
              f"{null['odd_share_square']:7.3f}"]
    if "tests" in d:
        lines += ["", "tests against the i.i.d. null (z: i.i.d. kernels; t, p: layers as the unit, "
                  "one-sided; CI: bootstrap over layers)",
                  f"{'basis':>8} {'share':>7} {'null':>6} {'z':>7} {'t':>7} {'p':>7} "
                  f"{'95% CI':>15}  enriched"]
        for t in d["tests"][:4]:
            ci = f"[{t['ci95_layers'][0]:.3f}, {t['ci95_layers'][1]:.3f}]"
            lines.append(f"{t['basis']:>8} {t['share']:7.3f} {t['null']:6.3f} {_f(t['z_iid'], '.1f'):>7}"
                         f" {_f(t['t_layers'], '.2f'):>7} {_p(t['p_layers']):>7} {ci:>15}  "
                         f"{'yes' if t['enriched'] else 'no'}")
        v = d["verdict"]
        lines += ["", f"verdict: {v['verdict']} ({v['detail']})"]
    if "layers" in d:
        lines += ["", "per layer (i.i.d. test only: a single layer has no between-layer spread)",
                  f"{'layer':40} {'kind':9} {'kernels':>7} {'DC+grad':>7}  verdict"]
        for la in d["layers"]:
            verdict = la.get("verdict", {})
            lines.append(f"{la['name'][:40]:40} {la['kind']:9} {la['count']:7d} "
                         f"{la['dc_grad_share']:7.3f}  {verdict.get('verdict', '-')}"
                         f"{' (' + verdict['detail'] + ')' if verdict else ''}")
    return "\n".join(lines)


def csv_records(d: dict[str, Any]) -> list[dict[str, Any]]:
    """CSV rows: one per basis test, or (when the JSON has layers) one per layer."""
    if "layers" in d:
        labels = d["basis_labels"]
        return [{"layer": la["name"], "kind": la["kind"], "kernels": la["count"],
                 **dict(zip(labels, la["fractions"], strict=True)),
                 "dc_grad_share": la["dc_grad_share"],
                 "verdict": la.get("verdict", {}).get("verdict"),
                 "detail": la.get("verdict", {}).get("detail")} for la in d["layers"]]
    return [{"source": d["source"], "weighting": d["weighting"], **t,
             "ci95_low": t["ci95_layers"][0], "ci95_high": t["ci95_layers"][1],
             "ci95_layers": None} for t in d.get("tests", [])]


def plot_figure(spec: Any, weighting: str):
    """Heatmap of the layer-mean shares and the DC + gradient share of every layer."""
    import matplotlib.pyplot as plt
    import numpy as np

    from ..spectrum import dc_grad_share, null_dc_grad_share

    f = spec.mean_fractions_for(weighting)
    per = dc_grad_share(spec.per_layer_for(weighting))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6), gridspec_kw={"width_ratios": [1, 1.6]})
    im = a1.imshow(f, cmap="viridis", vmin=0)
    for (u, v), val in np.ndenumerate(f):
        a1.text(v, u, f"{val:.2f}", ha="center", va="center", fontsize=8,
                color="w" if val < 0.6 * f.max() else "k")
    a1.set_xticks(range(spec.n))
    a1.set_yticks(range(spec.n))
    a1.set_xlabel("v (horizontal frequency)")
    a1.set_ylabel("u (vertical frequency)")
    a1.set_title(f"mean share per DCT basis ({weighting})", fontsize=9)
    fig.colorbar(im, ax=a1, shrink=0.8, label="energy share")
    a2.bar(np.arange(per.size), per, color=["C1" if k == "full" else "C0" for k in spec.kinds])
    a2.axhline(null_dc_grad_share(spec.n), color="k", ls="--", lw=1, label="i.i.d. null")
    a2.set_xlabel("layer (order of the weights file; orange: full, blue: depthwise)")
    a2.set_ylabel(r"$\Sigma + \nabla_x + \nabla_y$ share")
    a2.set_ylim(0, 1)
    a2.legend(fontsize=8)
    fig.suptitle(str(spec.source), fontsize=9)
    fig.tight_layout()
    return fig


def list_text(rows: list[dict[str, Any]]) -> str:
    """The ``--list`` table."""
    w = max(len(r["name"]) for r in rows)
    out = [f"{'name':{w}}  available  description / how to get it"]
    for r in rows:
        out.append(f"{r['name']:{w}}  {'yes' if r['available'] else 'no ':9}  {r['description']}")
        if not r["available"]:
            out.append(f"{'':{w}}             -> {r['how_to_get']}")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    """Compute, then write every output (files atomically); 0 on success."""
    from ..networks import availability
    from ..spectrum import spectrum

    if args.list:
        rows = availability()
        emit("-" if args.json is None else None, list_text(rows))
        if args.json is not None:
            emit(args.json, json_text(rows))
        return 0
    if args.source is None:
        raise ValueError("give a SOURCE (a built-in name, see --list, or a weights file)")
    spec = spectrum(args.source, args.kernel_size, seed=args.seed)
    d = spec.to_dict(layers=args.layers, weighting=args.weighting)
    outputs: list[tuple[str, str | bytes]] = []
    if args.json is not None:
        outputs.append((args.json, json_text(d)))
    if args.csv is not None:
        outputs.append((args.csv, csv_text(csv_records(d))))
    if args.plot is not None:
        import matplotlib.pyplot as plt

        fig = plot_figure(spec, args.weighting)
        try:
            outputs.append((args.plot, figure_bytes(fig, args.plot.rsplit(".", 1)[-1])))
        finally:
            plt.close(fig)
    if not any(target == "-" for target, _ in outputs):
        outputs.insert(0, ("-", table_text(d)))
    for target, data in outputs:
        if isinstance(data, bytes):
            atomic_write(target, data)
        else:
            emit(target, data)
    return 0
