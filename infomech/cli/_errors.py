"""Library errors -> one line on stderr and an exit status, never a traceback.

=======================================================  ==========================================
``ParameterError`` (:mod:`infomech.validate`)             ``<prog>: error: --flag: <problem>``, 2
``ValueError``, ``OSError``, overflow                   ``<prog>: error: <message>``, 2
``MemoryError``, torch out-of-memory ``RuntimeError``     ``<prog>: error: not enough memory ...``, 2
``KeyboardInterrupt`` (Ctrl-C)                            ``<prog>: interrupted``, 130
``BrokenPipeError`` (``| head``)                          silent, 0
anything else (a bug, e.g. a ``TypeError``)               ``<prog>: internal error: ...``, 1
=======================================================  ==========================================

Every flag value is parsed and typed by argparse, so a ``TypeError`` reaching here is a bug, not bad
input: it is reported as an internal error. Set ``INFOMECH_DEBUG=1`` to get its traceback instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from ..validate import ParameterError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 1


def say(prog: str, message: str, kind: str = "error") -> None:
    """Print ``<prog>: <kind>: <message>`` as one line on stderr (newlines folded)."""
    text = " ".join(str(message).split())
    print(f"{prog}: {kind}: {text}" if kind else f"{prog}: {text}", file=sys.stderr, flush=True)


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is a torch (CPU or CUDA) allocation failure."""
    import torch

    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", ())
    if oom and isinstance(exc, oom):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(
        s in text for s in ("out of memory", "can't allocate memory", "not enough memory",
                            "failed to allocate"))


def flag_message(exc: ParameterError, flags: Mapping[str, str]) -> str:
    """``exc`` with the library's parameter name replaced by the command-line flag, when known."""
    flag = flags.get(exc.parameter)
    return f"{flag}: {exc.problem}" if flag else str(exc)


def guarded(prog: str, fn: Callable[[], int], flags: Mapping[str, str] | None = None) -> int:
    """Run ``fn`` and turn every exception into one line on stderr and an exit status."""
    flags = flags or {}
    try:
        return fn()
    except BrokenPipeError:  # e.g. `infomech speed --json | head`
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:  # pragma: no cover
            pass
        return 0
    except KeyboardInterrupt:
        say(prog, "interrupted (Ctrl-C); nothing was written", kind="")
        return EXIT_INTERRUPTED
    except MemoryError:
        say(prog, "not enough memory for this run (reduce --size, --steps or the number of kernels)")
        return EXIT_USAGE
    except ParameterError as exc:
        say(prog, flag_message(exc, flags))
        return EXIT_USAGE
    except (ValueError, OSError, ArithmeticError) as exc:
        say(prog, str(exc) or type(exc).__name__)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if is_out_of_memory(exc):
            say(prog, "not enough memory for this run (torch could not allocate; reduce --size, "
                "--steps or the number of kernels)")
            return EXIT_USAGE
        if os.environ.get("INFOMECH_DEBUG"):
            raise
        say(prog, f"{type(exc).__name__}: {exc} (a bug: please report it; INFOMECH_DEBUG=1 shows the "
            "traceback)", kind="internal error")
        return EXIT_INTERNAL


def flags_of(parser: Any) -> dict[str, str]:
    """Map each option's Python name (``kernel_size``) to its flag (``--kernel-size``)."""
    out = {}
    for action in getattr(parser, "_actions", []):
        longs = [s for s in action.option_strings if s.startswith("--")]
        if longs:
            out[action.dest] = longs[0]
        elif not action.option_strings and action.dest not in ("help",):
            out[action.dest] = action.metavar or action.dest.upper()
    return out
