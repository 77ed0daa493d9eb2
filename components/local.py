"""Commands that servebox runs on the user's machine, beside Pulumi (readiness probes, smoke test)."""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def project_python() -> str:
    """This program's Python, relative to the project when it is the project's virtualenv, so that
    a command naming it (an input of its resource) reads the same from one checkout to another."""
    python = Path(sys.executable)
    return str(python.relative_to(PROJECT_DIR) if python.is_relative_to(PROJECT_DIR) else python)
