"""The book's own execution reproduces the committed outputs of every nbval-checked cell.

``make book`` executes every chapter natively (in the book extension's pool, during the build) and
keeps the executed notebooks in ``_build/jupyter_execute/book/``. This test compares, cell by cell,
the outputs of the cells tagged ``nbval-check-output`` in those executed notebooks with the outputs
committed in ``book/*.ipynb``, field by field exactly as nbval does (:func:`output_fields` mirrors
``nbval.plugin.IPyNbCell.compare_outputs`` with its default skips), so the native CPU path is
checked without executing every chapter a second time; ``make nbval-avx2`` (nbval itself) checks an
emulated older CPU, and ``make nbval`` remains the stand-alone native nbval run.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from site_env import ROOT, SITE

EXECUTED = SITE.parent / "jupyter_execute" / "book"
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
TAG = "nbval-check-output"
#: nbval's default ``skip_compare`` (without nbdime): never compared.
SKIP = {"metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
        "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg"}


def output_fields(outputs: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """A cell's outputs as nbval compares them: field -> values in order, streams keyed by name,
    MIME types of ``data`` flattened, the fields in :data:`SKIP` left out."""
    fields: dict[str, list[Any]] = defaultdict(list)
    for out in outputs:
        if out.get("output_type") == "stream":
            out = {"output_type": "stream", out["name"]: out["text"]}
        for key, value in out.items():
            if key in SKIP:
                continue
            if key == "data":
                for mime, payload in value.items():
                    if mime not in SKIP:
                        fields[mime].append(payload)
            else:
                fields[key].append(value)
    return dict(fields)


def checked_cells(nb: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """(index among code cells, cell) of every code cell tagged ``nbval-check-output``."""
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return [(i, c) for i, c in enumerate(code) if TAG in c.get("metadata", {}).get("tags", [])]


def differences(committed: dict[str, Any], executed: dict[str, Any]) -> list[str]:
    """The checked cells whose executed outputs differ from the committed ones (empty: all agree)."""
    code = [c for c in executed["cells"] if c["cell_type"] == "code"]
    problems = []
    for i, cell in checked_cells(committed):
        if i >= len(code) or code[i]["source"] != cell["source"]:
            problems.append(f"code cell {i}: not the same cell in the executed notebook")
            continue
        want, got = output_fields(cell["outputs"]), output_fields(code[i]["outputs"])
        if want != got:
            keys = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
            problems.append(f"code cell {i}: outputs differ in {keys}")
    return problems


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_native_execution_matches_committed_outputs(chapter: Path) -> None:
    executed = EXECUTED / chapter.name
    assert executed.is_file(), f"{executed} missing: run `make book`"
    committed = _read(chapter)
    assert checked_cells(committed), f"{chapter.name}: no cell is tagged {TAG}"
    problems = differences(committed, _read(executed))
    assert not problems, f"{chapter.name} executed natively differs from its committed outputs:\n" + \
        "\n".join(problems)


def test_comparison_negative_control() -> None:
    """A changed digit in a checked cell's output, or a missing output, must be reported."""
    chapter = CHAPTERS[0]
    committed = _read(chapter)
    i, cell = next((i, c) for i, c in checked_cells(committed) if c["outputs"])
    assert differences(committed, copy.deepcopy(committed)) == []
    changed = copy.deepcopy(committed)
    target = [c for c in changed["cells"] if c["cell_type"] == "code"][i]
    out = target["outputs"][-1]
    if out["output_type"] == "stream":
        text = "".join(out["text"])
        out["text"] = text[:-2] + ("1" if text[-2:-1] != "1" else "2") + text[-1:]
    else:
        mime = next(k for k in out["data"] if k not in SKIP)
        out["data"][mime] = "".join(out["data"][mime]) + "0"
    assert differences(committed, changed), "a changed output went unnoticed"
    target["outputs"] = target["outputs"][:-1]
    assert differences(committed, changed), "a missing output went unnoticed"

