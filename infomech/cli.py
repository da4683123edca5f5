"""Command line: ``infomech speed ...`` and ``infomech spectrum ...`` (also ``python -m infomech``).

Bad flags or values print one line on stderr and exit with status 2 (no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

import numpy as np

from . import __version__


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def int_at_least(minimum: int, what: str) -> Callable[[str], int]:
    """An argparse ``type`` accepting integers >= ``minimum`` (``what`` names them in errors)."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            v = minimum - 1
        if v < minimum:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}")
        return v

    return parse


_positive_int = int_at_least(1, "positive")


def _beta2_list(text: str) -> list[float]:
    parts = text.split(",")
    if any(not t.strip() for t in parts):
        raise argparse.ArgumentTypeError(f"empty value in the beta^2 list {text!r}")
    try:
        vals = [float(t) for t in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers in [0, 1], got {text!r}") from None
    if not vals:
        raise argparse.ArgumentTypeError("expected at least one beta^2 value")
    if any(not np.isfinite(v) or v < 0 or v > 1 for v in vals):
        raise argparse.ArgumentTypeError(f"beta^2 values must lie in [0, 1], got {text!r}")
    return vals


def _times_list(text: str) -> list[int]:
    parts = text.split(",")
    if any(not t.strip() for t in parts):
        raise argparse.ArgumentTypeError(f"empty value in the list of times {text!r}")
    try:
        vals = [int(t) for t in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers, got {text!r}") from None
    if not vals or min(vals) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}")
    return vals


def _add_speed(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("speed", help="speed-law sweep: speed against beta^2 for a kernel family",
                       description="Run the authors' speed-law experiment: one batched "
                       "propagation over all beta^2 values.")
    p.add_argument("--family", choices=["dct", "translation"], default="dct")
    p.add_argument("--kernel-size", type=_positive_int, default=3,
                   help="2, 3, 5, ... (2 uses the alternating 2x2 placement; translation: odd)")
    p.add_argument("--beta2", type=_beta2_list, default=None,
                   help="comma-separated beta^2 values (default 0, 0.01, ..., 1)")
    p.add_argument("--steps", type=_positive_int, default=None, help="number of steps (default 10)")
    p.add_argument("--times", type=_times_list, default=None,
                   help="report speeds after each of these step counts from one run, e.g. 1,25,100 "
                   "(instead of --steps)")
    p.add_argument("--pattern", choices=["delta", "disc"], default="delta")
    p.add_argument("--size", type=_positive_int, default=301)
    p.add_argument("--activation", choices=["relu", "none", "abs"], default="relu")
    p.add_argument("--measure", choices=["2d", "row"], default="2d",
                   help="2-D centre of mass, or the authors' central-row measurement")
    p.add_argument("--no-rescale", action="store_true", help="skip x <- x/std(x) before each step")
    p.add_argument("--float32", action="store_true", help="compute in float32 (default float64)")
    p.add_argument("--json", action="store_true", help="print a JSON list of records")


def _run_speed(args: argparse.Namespace) -> int:
    import torch

    from .sweeps import DEFAULT_BETA2, records, speed_sweep

    if args.times is not None and args.steps is not None:
        raise ValueError("give either --steps or --times, not both")
    if args.steps is None:
        args.steps = 10
    if args.size > 20001:
        raise ValueError(f"--size {args.size} is too large (at most 20001)")
    if args.family == "translation" and args.kernel_size % 2 == 0:
        raise ValueError("--kernel-size must be odd for the translation family")
    if args.kernel_size < 2:
        raise ValueError("--kernel-size must be >= 2")
    if args.size % 2 == 0:
        raise ValueError("--size must be odd so that the pattern has a centre pixel")
    sweep = speed_sweep(
        args.family, args.kernel_size, DEFAULT_BETA2 if args.beta2 is None else args.beta2,
        steps=args.steps, pattern=args.pattern, size=args.size, activation=args.activation,
        rescale=not args.no_rescale, measure=args.measure, times=args.times,
        dtype=torch.float32 if args.float32 else torch.float64,
    )
    recs = records(sweep, family=args.family, kernel_size=args.kernel_size,
                   steps=max(args.times) if args.times else args.steps, pattern=args.pattern,
                   size=args.size, activation=args.activation,
                   measure=args.measure)
    if args.json:
        print(json.dumps(recs, indent=1))
    else:
        print(f"{'t':>4} {'beta2':>6} {'speed':>8} {'(v/c)^2':>8} {'steady':>8}   "
              f"[{args.family} {args.kernel_size}x{args.kernel_size}, {args.pattern} "
              f"{args.size}, {recs[0]['steps']} steps, {args.activation}, c={recs[0]['c']:g}]")
        def num(v: float | None) -> str:
            return f"{v + 0.0:8.4f}".replace("-0.0000", " 0.0000") if v is not None else f"{'nan':>8}"

        for r in recs:
            print(f"{r['t']:4d} {r['beta2']:6.2f} {num(r['speed'])} {num(r['v_over_c_sq'])} "
                  f"{num(r['steady_speed'])}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``infomech`` argument parser."""
    parser = _Parser(prog="infomech", description="The mechanics of CNN filtering with "
                     "rectification: reproducible experiments.")
    parser.add_argument("--version", action="version", version=f"infomech {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_speed(sub)
    try:
        from . import _cli_spectrum
    except ImportError:  # pragma: no cover - optional module
        _cli_spectrum = None
    if _cli_spectrum is not None:
        _cli_spectrum.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "speed":
            return _run_speed(args)
        if args.command == "spectrum":
            from . import _cli_spectrum

            return _cli_spectrum.run(args)
    except BrokenPipeError:  # e.g. `infomech speed --json | head`
        sys.stderr.close()
        return 0
    except MemoryError:
        print(f"infomech {args.command}: error: not enough memory for this run (reduce --size or the "
              "number of kernels)", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as exc:
        print(f"infomech {args.command}: error: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
