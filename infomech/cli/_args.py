"""Argument types shared by the subcommands: integers, lists, ranges, bases, outputs.

Each is an ``argparse`` ``type``: it returns the parsed value or raises
``argparse.ArgumentTypeError``, which argparse reports as one line naming the flag.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..numbers import MAX_GRID, grid
from ..validate import MAX_STEPS, ParameterError


def int_at_least(minimum: int, what: str, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` accepting integers in ``[minimum, maximum]`` (``what`` names them)."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}")
        if maximum is not None and v > maximum:
            raise argparse.ArgumentTypeError(f"at most {maximum} allowed, got {text!r}")
        return v

    return parse


positive_int = int_at_least(1, "positive")
steps_int = int_at_least(1, "positive", MAX_STEPS)


def _number(text: str, where: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text.strip()!r} in {where!r}") from None
    if not np.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text.strip()!r} in {where!r}")
    return v


def number_range(text: str, where: str | None = None) -> list[float]:
    """``START:STOP:STEP`` -> START, START+STEP, ... up to STOP inclusive (within 1e-9 of a step).

    The values are :func:`infomech.numbers.grid`'s (exactly 0.05, 0.1, ... 1.0 for ``0:1:0.05``);
    the checks here only word the errors as flag errors.
    """
    where = where or text
    parts = text.split(":")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"a range is START:STOP:STEP, got {text!r}")
    a, b, s = (_number(p, where) for p in parts)
    if s <= 0:
        raise argparse.ArgumentTypeError(f"the STEP of range {text!r} must be > 0")
    if b < a:
        raise argparse.ArgumentTypeError(f"range {text!r} has STOP < START")
    count = int(np.floor((b - a) / s + 1e-9)) + 1
    if count > MAX_GRID:
        raise argparse.ArgumentTypeError(f"range {text!r} has {count} values (at most {MAX_GRID})")
    return grid(a, b, s).tolist()


def number_list(text: str, what: str = "value") -> list[float]:
    """Comma-separated numbers and ranges: ``0,0.5``, ``0:1:0.05``, ``0,0.25:0.75:0.25,1``."""
    parts = text.split(",")
    if any(not p.strip() for p in parts):
        raise argparse.ArgumentTypeError(f"empty value in the {what} list {text!r}")
    out: list[float] = []
    for p in parts:
        out += number_range(p.strip(), text) if ":" in p else [_number(p, text)]
    return out


def beta2_list(text: str) -> list[float]:
    """beta^2 values: a list and/or ranges (:func:`number_list`), each in [0, 1]."""
    vals = number_list(text, "beta^2")
    bad = [v for v in vals if v < 0 or v > 1]
    if bad:
        raise argparse.ArgumentTypeError(f"beta^2 values must lie in [0, 1], got {bad[0]:g} in {text!r}")
    return vals


def times_list(text: str) -> list[int]:
    """Comma-separated positive step counts (ranges ``1:100:10`` allowed)."""
    vals = number_list(text, "times")
    if any(v != int(v) or v < 1 for v in vals):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}")
    if max(vals) > MAX_STEPS:
        raise argparse.ArgumentTypeError(f"at most {MAX_STEPS} steps allowed, got {text!r}")
    return [int(v) for v in vals]


def index_pair(text: str) -> tuple[int, int]:
    """``U,V`` -> (U, V), non-negative integers."""
    parts = text.split(",")
    try:
        u, v = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two integers U,V such as 0,1; got {text!r}") from None
    if u < 0 or v < 0:
        raise argparse.ArgumentTypeError(f"expected non-negative U,V; got {text!r}")
    return u, v


def finite_float(text: str) -> float:
    """A finite number."""
    return _number(text, text)


def activation_spec(text: str):
    """An activation spec, parsed by :func:`infomech.activations.parse`."""
    from ..activations import parse

    try:
        return parse(text)
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(exc.problem) from None


def output_path(suffixes: tuple[str, ...]) -> Callable[[str], str]:
    """An output file whose suffix is one of ``suffixes`` (``-`` is standard output) and whose
    directory exists and is writable (checked before the run, so no time is lost)."""

    def parse(text: str) -> str:
        if text == "-":
            return text
        p = Path(text)
        if suffixes and p.suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(f"{text!r} must end in {' or '.join(suffixes)}")
        parent = p.parent if str(p.parent) else Path(".")
        if p.is_dir():
            raise argparse.ArgumentTypeError(f"{text!r} is a directory")
        if not parent.is_dir():
            raise argparse.ArgumentTypeError(f"directory {str(parent)!r} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise argparse.ArgumentTypeError(f"directory {str(parent)!r} is not writable")
        return text

    return parse
