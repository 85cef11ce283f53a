"""The layer rules of docs/architecture.md, checked on the source with the standard `ast`.

Every import counts, at module level or inside a function: a lazy import keeps `nnlab --help`
fast, but it still couples two modules, so it may not close a cycle or cross a layer either.
Only imports under `if TYPE_CHECKING:` are left out: they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "nnlab"
UI_LIBRARIES = ("typer", "rich", "textual")
NO_UI_LAYERS = ("nnlab.experiments", "nnlab.core", "nnlab.tools", "nnlab.runs")
SHARED_EXPERIMENT_MODULES = {"nnlab.experiments", "nnlab.experiments.base", "nnlab.experiments.clustering"}

# Imports that break a rule, each with who removes it and when. Keep this tiny; empty is the goal.
ALLOWED: dict[tuple[str, str], str] = {
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside `if TYPE_CHECKING:` blocks."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    return skipped


def _in_functions(tree: ast.AST) -> set[int]:
    """ids of the nodes inside function bodies: what runs only when the function is called."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inside |= {id(n) for n in ast.walk(node) if n is not node}
    return inside


def imports_of(name: str, *, at_import_only: bool = False) -> set[str]:
    """Every module `name` imports (nnlab modules resolved to the module, others by top name);
    with `at_import_only`, only those that run when the module is imported."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skipped = _type_checking_blocks(tree) | (_in_functions(tree) if at_import_only else set())
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
    return {m if m.startswith("nnlab") else m.split(".")[0] for m in found}


GRAPH = {name: imports_of(name) for name in MODULES}


def violations(rule) -> list[str]:
    """The imports (importer, imported) for which `rule` is true, less the allowed ones."""
    return [f"{a} imports {b}" for a, targets in GRAPH.items() for b in sorted(targets)
            if rule(a, b) and (a, b) not in ALLOWED]


def _in(module: str, layer: str) -> bool:
    return module == layer or module.startswith(layer + ".")


def family_of(module: str) -> str | None:
    """The experiment family a module belongs to (its package under nnlab.experiments), if any."""
    if not _in(module, "nnlab.experiments") or module in SHARED_EXPERIMENT_MODULES:
        return None
    return module.split(".")[2]


def test_no_import_cycles():
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in GRAPH or (node, target) in ALLOWED:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(" <-> ".join(sorted(component)))

    for name in GRAPH:
        if name not in index:
            visit(name)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("layer", NO_UI_LAYERS)
def test_lower_layers_import_no_ui_library(layer):
    assert not violations(lambda a, b: _in(a, layer) and b in UI_LIBRARIES)


def test_the_run_store_imports_nothing_from_core():
    assert not violations(lambda a, b: _in(a, "nnlab.runs") and _in(b, "nnlab.core"))


def test_no_experiment_family_imports_another():
    assert not violations(lambda a, b: family_of(a) is not None and family_of(b) not in (None, family_of(a)))


def test_only_the_cli_imports_the_tui():
    assert not violations(lambda a, b: _in(b, "nnlab.tui") and not _in(a, "nnlab.tui") and not _in(a, "nnlab.cli"))


HEAVY = ("torch", "numpy")  # seconds and half a second of `nnlab --help` on a loaded machine
HEAVY_ALLOWED: dict[str, str] = {}  # config modules still allowed to load torch or numpy, each with who removes it


def test_config_modules_load_without_torch_or_numpy():
    """The CLI imports every config to build its commands: `nnlab --help` must not wait for torch."""
    eager = {name: imports_of(name, at_import_only=True) for name in MODULES}
    heavy = []
    for config in (name for name in MODULES if name.startswith("nnlab.experiments.") and name.endswith(".config")):
        seen, todo = set(), [config]
        while todo:
            module = todo.pop()
            if module in seen:
                continue
            seen.add(module)
            for target in eager.get(module, ()):
                if target in HEAVY and config not in HEAVY_ALLOWED:
                    heavy.append(f"{config} ({target} through {module})")
                todo.append(target)
    assert not heavy, "config modules that import torch or numpy when loaded: " + ", ".join(heavy)


def test_the_checker_sees_what_it_checks():
    """The graph holds the imports it must: a rule that found nothing because it read nothing would pass."""
    assert "nnlab.experiments.base" in GRAPH["nnlab.experiments.kmeans.config"]
    assert "typer" in GRAPH["nnlab.cli.app"] and "nnlab.cli.process" in GRAPH["nnlab.cli.app"]
    assert family_of("nnlab.experiments.kmeans.run") == "kmeans" and family_of("nnlab.experiments.base") is None
    assert "nnlab.core.data" in GRAPH["nnlab.experiments.base"], "function-level imports must be seen"
    assert "nnlab.core.data" not in imports_of("nnlab.experiments.base", at_import_only=True)
    assert "torch" in imports_of("nnlab.experiments.kmeans.run", at_import_only=True)
    assert "nnlab.runs.recorder" not in GRAPH["nnlab.experiments.base"], "TYPE_CHECKING imports never run"


def test_the_allow_list_holds_only_imports_that_exist():
    """An exception whose import is gone must leave the list, so that it only shrinks."""
    stale = [f"{a} -> {b}" for a, b in ALLOWED if b not in GRAPH.get(a, ())]
    assert not stale, "remove from ALLOWED in tests/test_architecture.py: " + ", ".join(stale)
