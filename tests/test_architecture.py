"""The layer map of ARCHITECTURE.md holds: imports only point down (or sideways), no cycles."""

from __future__ import annotations

import ast
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


def _graph() -> dict[str, set[str]]:
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


def test_the_checks_can_fail(tmp_path, monkeypatch):
    """Negative control: an upward import is reported."""
    ranks = layer_map()
    assert ranks["propagation"] > ranks["publish"]
    fake = {"propagation": {"publish"}}
    upward = [a for a, deps in fake.items() for b in deps if ranks[b] < ranks[a]]
    assert upward == ["propagation"]
