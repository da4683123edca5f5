"""Outputs of the subcommands: atomic files (never half-written) and standard output."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from .._io import atomic_write_bytes


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) atomically: :func:`infomech._io.atomic_write_bytes`.

    An interrupted or failed write leaves the previous file (or nothing) and no temporary file.
    """
    atomic_write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)


def emit(target: str | None, text: str) -> None:
    """``text`` to standard output (``target`` ``-``) or atomically to the file ``target``."""
    if target is None:
        return
    if target == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    else:
        atomic_write(target, text if text.endswith("\n") else text + "\n")


def json_text(obj: Any) -> str:
    """Indented JSON (NaN is written as null by the callers, never as the invalid ``NaN``)."""
    return json.dumps(obj, indent=1, allow_nan=False)


def csv_text(records: Sequence[dict[str, Any]]) -> str:
    """Records as CSV: the union of the keys (in first-seen order) as the header."""
    keys: list[str] = []
    for r in records:
        keys += [k for k in r if k not in keys]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    for r in records:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in keys})
    return buf.getvalue()


def figure_bytes(fig: Any, suffix: str) -> bytes:
    """Render a matplotlib figure to PNG/SVG/PDF bytes (in memory: nothing on disk yet)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=suffix.lstrip(".").lower(), dpi=150, bbox_inches="tight")
    return buf.getvalue()
