"""The layer map of ARCHITECTURE.md holds: imports only point down (or sideways), no cycles."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "infomech"


def layer_map() -> dict[str, int]:
    """``{module: rank}`` from ARCHITECTURE.md's layer block (rank 0 = top layer)."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    block = text.split("```text", 1)[1].split("```", 1)[0]
    ranks: dict[str, int] = {}
    rank = -1
    for line in block.splitlines()[2:]:
        if not line.strip():
            continue
        head, mods = line[:13].strip(), line[13:58]
        if head:
            rank += 1
        for mod in re.findall(r"[a-z_]+/?", mods):
            ranks[mod.rstrip("/")] = rank
    return ranks


def _unit(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> set[str]:
    """Top-level infomech units imported by ``path`` (relative or absolute imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    depth_pkg = len(path.relative_to(PKG).parts) - 1
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level - 1 > depth_pkg:
                    continue
                base = list(path.relative_to(PKG).parts[:-1])[: depth_pkg - (node.level - 1)]
                parts = base + (node.module.split(".") if node.module else [])
                if parts:
                    out.add(parts[0])
                else:
                    out |= {alias.name for alias in node.names}
            elif node.module and node.module.startswith("infomech"):
                parts = node.module.split(".")[1:]
                out |= {parts[0]} if parts else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("infomech."):
                    out.add(alias.name.split(".")[1])
    return out


@functools.cache
def _graph() -> dict[str, set[str]]:
    """``{unit: units it imports}`` (parsed once per run; the tests only read it)."""
    graph: dict[str, set[str]] = {}
    for path in PKG.rglob("*.py"):
        unit = _unit(path)
        if unit in ("__init__", "__main__"):
            continue
        graph.setdefault(unit, set()).update(u for u in _imports(path) if u not in (unit, "__init__"))
    return graph


def test_every_module_has_a_layer():
    ranks = layer_map()
    missing = sorted(set(_graph()) - set(ranks))
    assert not missing, f"modules missing from ARCHITECTURE.md's layer map: {missing}"


def test_imports_point_down():
    ranks = layer_map()
    upward = [f"{a} ({ranks[a]}) imports {b} ({ranks[b]})" for a, deps in _graph().items()
              for b in deps if a in ranks and b in ranks and ranks[b] < ranks[a]]
    assert not upward, "imports that point up the layers:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    graph = _graph()
    cycles = []
    for a, deps in graph.items():
        for b in deps:
            if a in graph.get(b, set()):
                cycles.append(tuple(sorted((a, b))))
    assert not cycles, f"import cycles: {sorted(set(cycles))}"


def _module_level_imports(tree: ast.Module) -> set[str]:
    """Modules imported when a module is imported: its statements outside functions (``if``,
    ``try`` and ``with`` blocks included; ``if TYPE_CHECKING:`` blocks excluded)."""
    out: set[str] = set()
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo += node.orelse
        elif isinstance(node, ast.If | ast.Try | ast.With | ast.ClassDef):
            for field in ("body", "orelse", "finalbody", "handlers"):
                todo += getattr(node, field, [])
        elif isinstance(node, ast.ExceptHandler):
            todo += node.body
    return out


#: Imported only inside the functions that need them (a module import stays cheap: scipy.stats
#: alone costs ~1 s; the CLI checks flags and files before paying for torch).
LAZY = {"scipy.stats": "infomech", "torch": "infomech/activations.py"}


def test_slow_imports_are_deferred():
    slow = []
    for path in sorted(PKG.rglob("*.py")):
        mods = _module_level_imports(ast.parse(path.read_text(encoding="utf-8")))
        rel = path.relative_to(ROOT).as_posix()
        for mod, where in LAZY.items():
            if rel.startswith(where) and any(m == mod or m.startswith(mod + ".") for m in mods):
                slow.append(f"{rel} imports {mod} at import time")
    assert not slow, "\n".join(slow)


def test_the_deferred_import_check_can_fail():
    """Negative control: module-level imports are seen (in an ``if`` or ``try`` too), imports inside
    functions and under ``TYPE_CHECKING`` are not."""
    src = ("from scipy import stats\ntry:\n    import torch.nn\nexcept ImportError:\n    pass\n"
           "if TYPE_CHECKING:\n    import matplotlib\ndef f():\n    import PIL\n")
    mods = _module_level_imports(ast.parse(src))
    assert {"scipy", "scipy.stats", "torch.nn"} <= mods and not mods & {"matplotlib", "PIL"}


def test_the_checks_can_fail(tmp_path, monkeypatch):
    """Negative control: an upward import is reported."""
    ranks = layer_map()
    assert ranks["propagation"] > ranks["publish"]
    fake = {"propagation": {"publish"}}
    upward = [a for a, deps in fake.items() for b in deps if ranks[b] < ranks[a]]
    assert upward == ["propagation"]
