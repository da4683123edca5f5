"""Static rules for the chapter notebooks (what a reader must never see, what a chapter must not do).

- verdicts come from the library: a chapter never publishes a ``verdict-*`` key itself nor builds a
  ``Verdict``; it calls ``publish_verdict(claim.verdict(...))``;
- no ``matplotlib.use(...)`` (it replaced the inline backend and made figures vanish);
- regression markers are cell tags, never visible ``# NBVAL_CHECK_OUTPUT`` comments;
- no helper functions or classes defined in a chapter (they belong in ``infomech/``);
- the ledger check is the last cell, hidden from readers and checked by nbval.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


def _code_cells(path: Path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _src(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def problems(path: Path) -> list[str]:
    out = []
    cells = _code_cells(path)
    for i, cell in enumerate(cells):
        src = _src(cell)
        where = f"{path.name} code cell {i + 1}"
        if re.search(r"""\bpublish\(\s*f?["']verdict""", src):
            out.append(f"{where}: publishes a verdict key by hand (use publish_verdict)")
        if re.search(r"\bVerdict\(", src):
            out.append(f"{where}: builds a Verdict (verdicts come from infomech.claims)")
        if "matplotlib.use(" in src:
            out.append(f"{where}: calls matplotlib.use()")
        if "NBVAL_CHECK_OUTPUT" in src or "NBVAL_IGNORE_OUTPUT" in src:
            out.append(f"{where}: visible nbval comment (use the cell tag)")
        if re.search(r"^\s*(def|class)\s+\w+", src, re.M):
            out.append(f"{where}: defines a function or class (move it to infomech/)")
    if cells:
        last = cells[-1]
        tags = last.get("metadata", {}).get("tags", [])
        if "print_ledger(" not in _src(last):
            out.append(f"{path.name}: the last code cell is not the ledger check")
        elif not {"remove-cell", "nbval-check-output"} <= set(tags):
            out.append(f"{path.name}: the ledger cell must be tagged remove-cell and nbval-check-output")
    return out


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_follows_the_rules(path):
    found = problems(path)
    assert not found, "\n".join(found)


def test_the_rules_can_fail(tmp_path):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "# NBVAL_CHECK_OUTPUT\n"
                     "import matplotlib\nmatplotlib.use('Agg')\ndef r3(v):\n    return v\n"
                     "publish('verdict-x', 'holds', chapter='x')\n"},
                    {"cell_type": "code", "metadata": {}, "source": "print_ledger('x')"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(nb))
    kinds = " ".join(problems(path))
    for needle in ("verdict key by hand", "matplotlib.use", "nbval comment", "defines a function",
                   "tagged remove-cell"):
        assert needle in kinds, needle
