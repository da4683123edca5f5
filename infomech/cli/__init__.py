"""The ``infomech`` command (also ``python -m infomech``): flags -> library calls, errors -> messages.

Subcommands, one module each exposing ``add_parser(subparsers)`` and ``run(args) -> int``:

- ``speed`` (:mod:`infomech.cli.speed`): the speed-law sweep, for a family or your kernels and image;
- ``decompose`` (:mod:`infomech.cli.decompose`): everything the paper says about one kernel;
- ``spectrum`` (:mod:`infomech.cli.spectrum`): the DCT energy spectrum of a network's kernels.

Bad input prints one line on stderr and exits with status 2 (no traceback); Ctrl-C exits with 130
(:mod:`infomech.cli._errors`). Warnings are printed as one line each.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

from .. import __version__
from ._args import int_at_least
from ._errors import EXIT_USAGE, flags_of, guarded, say

__all__ = ["build_parser", "int_at_least", "main"]

#: Subcommand modules in the order of ``infomech --help`` (missing ones are skipped).
SUBCOMMANDS: tuple[str, ...] = ("infomech.cli.speed", "infomech.cli.decompose", "infomech.cli.spectrum")
_LEGACY_SPECTRUM = "infomech._cli_spectrum"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_USAGE, f"{self.prog}: error: {' '.join(message.split())}\n")


def _modules() -> list[ModuleType]:
    mods = []
    for name in SUBCOMMANDS:
        try:
            mods.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the module exists but one of its imports is missing: a real error
                raise
            if name.endswith(".spectrum"):  # the older home of the spectrum subcommand
                try:
                    mods.append(importlib.import_module(_LEGACY_SPECTRUM))
                except ModuleNotFoundError as legacy:
                    if legacy.name != _LEGACY_SPECTRUM:
                        raise
    return mods


def build_parser() -> argparse.ArgumentParser:
    """The ``infomech`` argument parser (each subcommand knows its module as ``args._module``)."""
    parser = _Parser(prog="infomech", description="The mechanics of CNN filtering with "
                     "rectification: reproducible experiments.")
    parser.add_argument("--version", action="version", version=f"infomech {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                metavar="{" + ",".join(m.rsplit(".", 1)[-1] for m in SUBCOMMANDS) + "}")
    for mod in _modules():
        before = set(sub.choices)
        mod.add_parser(sub)
        for name in set(sub.choices) - before:
            sub.choices[name].set_defaults(_module=mod)
    return parser


def _one_line_warning(prog: str):
    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        say(prog, str(message), kind="warning")

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 2 bad input, 130 interrupted)."""
    prog = "infomech"

    def parse_and_run() -> int:
        nonlocal prog
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version, usage errors
            return int(exc.code or 0)
        prog = f"infomech {args.command}"
        mod = args._module
        flags = {**flags_of(parser._subparsers._group_actions[0].choices[args.command]),
                 **getattr(mod, "FLAGS", {})}
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _one_line_warning(prog)
            return guarded(prog, lambda: mod.run(args), flags)

    return guarded(prog, parse_and_run)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
