"""One exit-code table (servebox/outcomes.py, the README's table) for every command and script: bad
input or a missing prerequisite is 2, before the Pulumi CLI is looked for where no CLI is needed, and
never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from servebox.outcomes import Outcome
from tests.cli.conftest import Fake
from tests.harness import REPO

BAD_INPUT = Outcome.BAD_INPUT.code


def _run(fake: Fake, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=cwd, env=fake.env, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def no_cli(fake: Fake, tmp_path: Path) -> Path:
    """PATH without the Pulumi CLI (nor kind or docker): inputs must be judged without them."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    fake.env["PATH"] = str(empty)
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ephemeral", "--stack", "BAD"], "servebox ephemeral: error: --stack:"),
        (["ephemeral", "--prefix", "Not_Valid"], "servebox ephemeral: error: --prefix:"),
        (["reap", "--now", "yesterday"], "servebox reap: error: --now: got 'yesterday'"),
        (["predict", "kind", "--url", "http://x"], "servebox predict takes the stack as its argument"),
        (["smoke", "kind", "--stack", "gcp"], "servebox smoke takes the stack as its argument"),
        (["workshop", "up", "--roster", "missing.csv"], "servebox workshop: error: --roster missing.csv: cannot read it"),
        (["serve", "missing.joblib"], "servebox serve: error: missing.joblib: no such file or directory"),
        (["nonsense"], "invalid choice: 'nonsense'"),
    ],
)
def test_bad_input_is_2_before_the_cli_is_looked_for(fake: Fake, no_cli: Path, argv: list[str], message: str) -> None:
    done = _run(fake, no_cli, sys.executable, "-m", "servebox", *argv)
    assert done.returncode == BAD_INPUT, done.stderr
    assert message in done.stderr
    assert "pulumi CLI is not on PATH" not in done.stderr and "Traceback" not in done.stderr


def test_a_roster_that_is_not_utf8_is_bad_input_not_a_traceback(fake: Fake, no_cli: Path) -> None:
    roster = no_cli / "attendees.csv"
    roster.write_bytes("attendee,name\nana,Ana Mu\xf1oz\n".encode("latin-1"))
    done = _run(fake, no_cli, sys.executable, "-m", "servebox", "workshop", "up", "--roster", str(roster))
    assert done.returncode == BAD_INPUT
    assert done.stderr.strip() == (
        f"servebox workshop: error: --roster {roster}: not UTF-8 text (byte 24: b'\\xf1'); save the CSV as UTF-8 "
        "(Excel: CSV UTF-8)"
    )


def test_preflight_with_a_missing_prerequisite_is_2(fake: Fake, no_cli: Path) -> None:
    done = _run(fake, REPO, sys.executable, "-m", "servebox", "preflight", "kind")
    assert done.returncode == BAD_INPUT
    assert "FAIL  pulumi" in done.stdout


@pytest.mark.parametrize("script", ["scripts/ssh.sh", "scripts/up.sh", "scripts/down.sh"])
def test_the_scripts_refuse_bad_input_with_2(fake: Fake, script: str) -> None:
    fake.env["PATH"] = "/usr/bin:/bin"
    argv = ["bash", str(REPO / script)]
    if script == "scripts/ssh.sh":
        done = _run(fake, REPO, *argv, "gcp")  # no pulumi on this PATH
        assert done.returncode == BAD_INPUT and "pulumi is not installed" in done.stderr
    else:
        # A Python out of range: the venv cannot be made, which is a missing prerequisite.
        fake.env["PYTHON"] = "/nonexistent/python3"
        copy = fake.root / "repo-copy"
        copy.mkdir()
        for part in ("scripts", "requirements.txt", "pyproject.toml"):
            source = REPO / part
            target = copy / part
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                target.write_bytes(source.read_bytes())
        done = _run(fake, copy, "bash", str(copy / script))
        assert done.returncode == BAD_INPUT, done.stderr
        assert "PYTHON=/nonexistent/python3 is not on PATH" in done.stderr
