"""The ground floor imports nothing above it: no module of the program (components/, __main__.py)
imports the users' tools (servebox/) or the scripts (scripts/)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.engine import REPO

PROGRAM = sorted([*(REPO / "components").rglob("*.py"), REPO / "__main__.py"])


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", PROGRAM, ids=lambda p: str(p.relative_to(REPO)))
def test_the_program_imports_neither_the_tools_nor_the_scripts(path: Path) -> None:
    upward = sorted(name for name in imported(path) if name.split(".")[0] in ("servebox", "scripts"))
    assert upward == [], f"{path.relative_to(REPO)} imports {upward}"


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from servebox import training\n    import scripts.bench_model\n")
    assert imported(module) == {"servebox", "scripts.bench_model"}


def test_the_tools_old_name_for_training_is_the_programs_module() -> None:
    from components import training
    from servebox import training as old_name

    assert old_name is training
