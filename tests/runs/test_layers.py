"""The run store is plain data: it imports no UI library and nothing from core or view."""

from __future__ import annotations

import ast
from pathlib import Path

import nnlab.runs

FORBIDDEN = ("rich", "typer", "textual", "nnlab.core", "nnlab.view", "nnlab.cli", "nnlab.tui")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_runs_imports_no_ui_and_nothing_from_core():
    folder = Path(nnlab.runs.__file__).parent
    files = sorted(folder.glob("*.py"))
    assert len(files) >= 5
    for path in files:
        bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN or m.startswith(FORBIDDEN[3:])}
        assert not bad, f"{path.name} imports {sorted(bad)}"
