"""tests/ENGINE.md stays true: every test it names exists, and every stand-in module it names is there."""

from __future__ import annotations

import re

from tests.engine import REPO

DOC = (REPO / "tests" / "ENGINE.md").read_text()


def test_every_test_the_engine_doc_names_exists():
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", DOC)
    assert len(named) >= 15
    for path, test in named:
        source = (REPO / path).read_text()
        assert re.search(rf"^def {test}\(", source, re.M), f"{path}::{test} is named in tests/ENGINE.md but does not exist"


def test_every_row_names_its_test():
    rows = [line for line in DOC.splitlines() if line.startswith("| ") and not line.startswith("| behaviour") and "---" not in line]
    assert rows
    for row in rows:
        assert "::test_" in row or "every program test" in row, row
