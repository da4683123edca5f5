"""``infomech speed``: the speed-law experiment for a kernel family or your own kernels and image.

Examples::

    infomech speed --family dct --kernel-size 3 --beta2 0:1:0.05 --plot speed.png
    infomech speed --kernel "[[0,1,0],[0,1,1],[0,0,0]]" --kernel my_kernels.npy --json
    infomech speed --image photo.png --activation leaky_relu:0.1 --beta2 0,0.5,1 --csv out.csv
    infomech speed --family dct --odd-basis 1,2 --angle 0 --times 1,25,100

Only maps flags to :func:`infomech.runs.speed_run` and formats its result.
"""

from __future__ import annotations

import argparse
import math
import warnings
from typing import Any

import numpy as np

from .. import __version__, validate
from ._args import (
    activation_spec,
    beta2_list,
    finite_float,
    index_pair,
    output_path,
    positive_int,
    steps_int,
    times_list,
)
from ._output import csv_text, emit, figure_bytes, json_text

#: Library parameter names that are not spelled like their flag.
FLAGS = {"n": "--kernel-size", "theta": "--angle", "x": "--image", "image": "--image",
         "kernel": "--kernel", "beta2": "--beta2", "times": "--times"}

_DEFAULT_BETA2 = [round(i / 100, 2) for i in range(101)]


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``speed``."""
    p = subparsers.add_parser(
        "speed", help="speed-law sweep: speed against beta^2 for a kernel family or your kernels",
        description="Run the authors' speed-law experiment: one batched propagation "
        "x <- act(corr(x/std(x), k)) over all kernels, speeds v = |mu(t) - mu(0)|/t of the 2-D centre "
        "of mass in px/step. Kernels: a family (--family, --kernel-size, --beta2, --odd-basis, "
        "--angle) or your own (--kernel). Image: a built-in --pattern or your --image.")
    src = p.add_argument_group("kernels")
    src.add_argument("--family", choices=["dct", "translation"], default=None,
                     help="built-in family (default dct)")
    src.add_argument("--kernel", action="append", metavar="KERNEL", default=None,
                     help="your kernel(s): FILE.npy, FILE.txt or inline '[[0,1,0],[0,1,1],[0,0,0]]'; "
                     "repeat or give a (K, n, n) stack to run several at once")
    src.add_argument("--kernel-size", type=positive_int, default=None,
                     help="2, 3, 5, ... (default 3; 2 uses the alternating 2x2 placement; "
                     "translation: odd)")
    src.add_argument("--beta2", type=beta2_list, default=None,
                     help="beta^2 values: a list and/or ranges START:STOP:STEP, e.g. 0:1:0.05 or "
                     "0,0.5,0.9:1:0.02 (default 0:1:0.01)")
    src.add_argument("--odd-basis", type=index_pair, default=None, metavar="U,V",
                     help="dct family: DCT basis (U,V) as the odd part, U+V odd (default 0,1)")
    src.add_argument("--angle", type=finite_float, default=None, metavar="DEG",
                     help="dct family: steer the odd part cos(t) grad_x + sin(t) grad_y, t in degrees "
                     "from +x towards +y (default 0)")
    src.add_argument("--split", choices=["point", "square"], default="point",
                     help="--kernel: the split whose beta^2 is the 'beta2' column (both are recorded)")
    run = p.add_argument_group("run")
    run.add_argument("--steps", type=steps_int, default=None, help="number of steps (default 10)")
    run.add_argument("--times", type=times_list, default=None,
                     help="report speeds after each of these step counts from one run, e.g. 1,25,100 "
                     "(instead of --steps)")
    run.add_argument("--pattern", choices=["delta", "disc"], default=None,
                     help="built-in image (default delta)")
    run.add_argument("--image", default=None, metavar="FILE",
                     help="your image: PNG, JPEG or .npy; colour -> BT.709 luma; padded with zeros so "
                     "nothing reaches the border")
    run.add_argument("--size", type=positive_int, default=None, help="pattern size (odd, default 301)")
    run.add_argument("--activation", type=activation_spec, default="relu",
                     help="relu, none, abs, leaky_relu[:SLOPE], gelu, tanh, elu (default relu)")
    run.add_argument("--measure", choices=["2d", "row"], default="2d",
                     help="2-D centre of mass, or the authors' central-row measurement")
    run.add_argument("--no-rescale", action="store_true", help="skip x <- x/std(x) before each step")
    run.add_argument("--float32", action="store_true", help="compute in float32 (default float64)")
    run.add_argument("--force", action="store_true",
                     help="run even when the estimated time exceeds one hour")
    out = p.add_argument_group("output (files are written atomically, after the run)")
    out.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                     type=output_path((".json",)), help="JSON records (to FILE, or stdout)")
    out.add_argument("--csv", nargs="?", const="-", default=None, metavar="FILE",
                     type=output_path((".csv",)), help="CSV records (to FILE, or stdout)")
    out.add_argument("--plot", default=None, metavar="OUT", type=output_path((".png", ".svg", ".pdf")),
                     help="the speed-law figure of this run, (v/c)^2 against beta^2 (.png/.svg/.pdf)")


def _check_combinations(args: argparse.Namespace) -> None:
    """Refuse flags that do not apply together (one line each)."""
    own = args.kernel is not None
    if own:
        for flag, val in (("--family", args.family), ("--kernel-size", args.kernel_size),
                          ("--beta2", args.beta2), ("--odd-basis", args.odd_basis),
                          ("--angle", args.angle)):
            if val is not None:
                raise ValueError(f"{flag} describes a built-in family: it cannot be combined with --kernel")
    if args.times is not None and args.steps is not None:
        raise ValueError("give either --steps or --times, not both")
    if args.image is not None:
        if args.pattern is not None or args.size is not None:
            raise ValueError("--image replaces --pattern and --size: give one or the other")
    family = args.family or "dct"
    if not own and family == "translation" and (args.odd_basis is not None or args.angle is not None):
        raise ValueError("--odd-basis and --angle apply to --family dct only")
    if args.odd_basis is not None and args.angle is not None and tuple(args.odd_basis) != (0, 1):
        raise ValueError("--angle steers the gradients (0,1) and (1,0): it cannot be combined with "
                         f"--odd-basis {args.odd_basis[0]},{args.odd_basis[1]}")
    if sum(t == "-" for t in (args.json, args.csv)) > 1:
        raise ValueError("--json and --csv cannot both go to standard output: give one a FILE")


def _kernel_count_and_size(args: argparse.Namespace) -> tuple[int, int] | None:
    """(K, n) of a family run, known before any kernel is built (None for --kernel)."""
    if args.kernel is not None:
        return None
    n = 3 if args.kernel_size is None else args.kernel_size
    b = _DEFAULT_BETA2 if args.beta2 is None else args.beta2
    return len(b), (3 if n == 2 else n)


def _read_files(args: argparse.Namespace) -> tuple[np.ndarray | None, tuple[np.ndarray, list[str]] | None]:
    """The user's image and kernel stack (``None`` when not given), read before torch is imported:
    a bad file (or ``--size``) is refused in a fraction of a second, in the order of the flags' use."""
    from ..inputs import kernel_stack, read_image

    image = read_image(args.image) if args.image is not None else None
    if image is None:
        validate.size(301 if args.size is None else args.size, odd=True)
    return image, (kernel_stack(args.kernel) if args.kernel is not None else None)


def _image(args: argparse.Namespace, steps: int, image: np.ndarray | None
           ) -> tuple[np.ndarray, dict[str, Any]]:
    from .. import patterns
    from ..runs import MAX_SECONDS, check_work
    from ..sweeps import check_border

    if image is not None:
        x = image
        return x, {"pattern": None, "image": args.image, "size": None, "image_shape": list(x.shape)}
    pattern = args.pattern or "delta"
    size = validate.size(301 if args.size is None else args.size, odd=True)
    kn = _kernel_count_and_size(args)
    if kn is not None:  # refuse a huge run before allocating its image and kernels
        box = patterns.support_box(pattern, size)
        check_border(box, (size, size), kn[1] // 2, steps)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the warning comes once, from the run itself
            check_work(box, (size, size), kn[1], steps, kn[0], None if args.force else MAX_SECONDS)
    return patterns.make(pattern, size), {"pattern": pattern, "size": size}


def _kernels(args: argparse.Namespace, steps: int, x: np.ndarray, pad: bool,
             own: tuple[np.ndarray, list[str]] | None
             ) -> tuple[list[np.ndarray], float, dict[str, np.ndarray], dict[str, Any], np.ndarray, int]:
    """Schedule, c, per-kernel columns, run fields, prepared image and padding (``own``: the
    kernel stack and labels of ``--kernel``, read by :func:`_read_files`)."""
    from .. import decomposition, kernels
    from ..runs import MAX_SECONDS, prepare_image

    limit = None if args.force else MAX_SECONDS
    if own is not None:
        stack, labels = own
        n = stack.shape[-1]
        if n % 2 == 0 and n != 2:
            kernels.schedule_of(stack)  # raises the specific error
        xp, padding, _ = prepare_image(x, 3 if n == 2 else n, steps, stack.shape[0], pad=pad,
                                       max_seconds=limit)
        schedule, c = kernels.schedule_of(stack)
        b_point = decomposition.beta2(stack, "point")
        b_square = decomposition.beta2(stack, "square")
        cols = {"beta2": b_point if args.split == "point" else b_square, "beta2_point": b_point,
                "beta2_square": b_square}
        fields = {"kernel_source": labels, "kernel_values": stack.tolist(), "kernel_size": n,
                  "split": args.split}
        return schedule, c, cols, fields, xp, padding
    family = args.family or "dct"
    n = validate.kernel_size(3 if args.kernel_size is None else args.kernel_size, minimum=2,
                             odd=family == "translation")
    b = validate.beta2(_DEFAULT_BETA2 if args.beta2 is None else args.beta2)
    uv = (0, 1) if args.odd_basis is None else validate.odd_basis(args.odd_basis, n)
    angle = 0.0 if args.angle is None else float(args.angle)
    xp, padding, _ = prepare_image(x, 3 if n == 2 else n, steps, b.size, pad=pad, max_seconds=limit)
    schedule, c = kernels.family(family, b, n, odd_basis=uv, theta=math.radians(angle))
    fields = {"family": family, "kernel_size": n, "odd_basis": f"{uv[0]},{uv[1]}", "angle": angle}
    return schedule, c, {"beta2": b}, fields, xp, padding


def compute(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the sweep the flags describe; JSON-ready records, one per (time, kernel)."""
    _check_combinations(args)
    ts = validate.times(args.times if args.times is not None else [10 if args.steps is None else args.steps])
    image, own = _read_files(args)
    import torch  # only now: the flags and files above are checked without it

    from ..runs import speed_run
    from ..sweeps import records

    x, img_fields = _image(args, ts[-1], image)
    schedule, c, cols, fields, xp, padding = _kernels(args, ts[-1], x, pad=args.image is not None, own=own)
    dtype = torch.float32 if args.float32 else torch.float64
    res = speed_run(schedule, c, xp, times=ts, activation=args.activation, rescale=not args.no_rescale,
                    measure=args.measure, dtype=dtype, prepared=True)
    rows = dict(res.rows)
    idx = rows["kernel"].astype(int)
    table: dict[str, np.ndarray] = {"t": rows["t"]}
    for key, val in cols.items():
        table[key] = np.asarray(val, dtype=float)[idx]
    for key in ("speed", "steady_speed", "c", "v_over_c", "v_over_c_sq", "velocity_x", "velocity_y"):
        table[key] = rows[key]
    labels = fields.pop("kernel_source", None)
    values = fields.pop("kernel_values", None)
    extra = {**fields, "steps": ts[-1], **img_fields, "activation": args.activation.spec,
             "measure": args.measure, "rescale": not args.no_rescale,
             "dtype": "float32" if args.float32 else "float64",
             "times": ts if args.times is not None else None, "padding": padding,
             "infomech_version": __version__}
    recs = records(table, **extra)
    if labels is not None:
        for r, i in zip(recs, idx, strict=True):
            r["kernel"] = int(i)
            r["kernel_source"] = labels[i]
            r["kernel_values"] = values[i]
    return recs


def _num(v: float | None) -> str:
    return f"{v + 0.0:8.4f}".replace("-0.0000", " 0.0000") if v is not None else f"{'nan':>8}"


def table_text(recs: list[dict[str, Any]]) -> str:
    """The human-readable table."""
    r0 = recs[0]
    own = "kernel_source" in r0
    what = (f"{len({r['kernel'] for r in recs})} kernel(s) {r0['kernel_size']}x{r0['kernel_size']}" if own
            else f"{r0['family']} {r0['kernel_size']}x{r0['kernel_size']}")
    img = r0["image"] if r0.get("image") else f"{r0['pattern']} {r0['size']}"
    head = (f"{'t':>4} {'k':>3} {'beta2':>6} {'sq.':>6}" if own else f"{'t':>4} {'beta2':>6}")
    lines = [f"{head} {'speed':>8} {'(v/c)^2':>8} {'steady':>8}   [{what}, {img}, {r0['steps']} steps, "
             f"{r0['activation']}, c={r0['c']:g}]"]
    for r in recs:
        lead = (f"{r['t']:4d} {r['kernel']:3d} {r['beta2_point']:6.3f} {r['beta2_square']:6.3f}" if own
                else f"{r['t']:4d} {r['beta2']:6.2f}")
        lines.append(f"{lead} {_num(r['speed'])} {_num(r['v_over_c_sq'])} {_num(r['steady_speed'])}")
    return "\n".join(lines)


def plot_figure(recs: list[dict[str, Any]]):
    """The chapter's speed-law figure for these records: (v/c)^2 against beta^2 with y = x."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ..figures import speed_law_axes

    r0 = recs[0]
    fig, ax = plt.subplots(figsize=(5, 4))
    ys = [r["v_over_c_sq"] for r in recs if r["v_over_c_sq"] is not None]
    speed_law_axes(ax, ymax=max(1.1, 1.05 * max(ys, default=1.0)),
                   xlabel=r"$\beta^2$ (" + r0.get("split", "point") + " split)" if "kernel_source" in r0
                   else r"$\beta^2 = \|k_o\|^2/\|k\|^2$")
    for j, t in enumerate(sorted({r["t"] for r in recs})):
        sel = [r for r in recs if r["t"] == t and r["v_over_c_sq"] is not None]
        style = ({"marker": "osD^v<>"[j % 7], "ls": "none", "mfc": "none", "ms": 7}
                 if "kernel_source" in r0 else {"marker": ".", "lw": 1.2})
        ax.plot([r["beta2"] for r in sel], [r["v_over_c_sq"] for r in sel], label=f"t = {t}", **style)
    name = (f"{r0['family']} {r0['kernel_size']}x{r0['kernel_size']}" if "family" in r0
            else f"your kernels ({r0['kernel_size']}x{r0['kernel_size']})")
    src = r0["image"] if r0.get("image") else r0["pattern"]
    ax.set_title(f"{name}, {src}, {r0['activation']}, c = {r0['c']:g}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def run(args: argparse.Namespace) -> int:
    """Compute, then write every output (files atomically); 0 on success."""
    recs = compute(args)
    outputs = []
    if args.json is not None:
        outputs.append((args.json, json_text(recs)))
    if args.csv is not None:
        outputs.append((args.csv, csv_text(recs)))
    if args.plot is not None:
        import matplotlib.pyplot as plt

        fig = plot_figure(recs)
        try:
            data = figure_bytes(fig, args.plot.rsplit(".", 1)[-1])
        finally:
            plt.close(fig)
        outputs.append((args.plot, data))
    for target, data in outputs:
        if isinstance(data, bytes):
            from ._output import atomic_write

            atomic_write(target, data)
        else:
            emit(target, data)
    if not any(t == "-" for t, _ in outputs):
        print(table_text(recs))
    return 0
