"""One set of versions for tests and users, and only the providers a stack needs in its venv.

The locks: requirements.txt (every target), requirements-gcp.txt and requirements-aws.txt (a cloud's
provider), requirements-dev.txt (the tests: all of them and the test tools), resolved by
scripts/lock.sh so that a package both a runtime lock and the dev lock pin is pinned the same.
scripts/venv.sh `stack_locks` picks a stack's locks from its stack file and `--set` values.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import recording_python
from tests.engine import REPO

RUNTIME = ("requirements.txt", "requirements-gcp.txt", "requirements-aws.txt")


def pins(lock: str) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)", (REPO / lock).read_text(), re.M)
    return {name.lower().replace("_", "-"): version for name, version in found}


@pytest.mark.parametrize("lock", RUNTIME)
def test_every_runtime_pin_is_the_dev_locks_pin(lock: str) -> None:
    dev, runtime = pins("requirements-dev.txt"), pins(lock)
    assert runtime, lock
    differ = {name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version}
    assert differ == {}, f"{lock} and requirements-dev.txt disagree (run scripts/lock.sh): {differ}"


def test_the_cloud_providers_live_in_their_own_locks() -> None:
    assert "pulumi-gcp" not in pins("requirements.txt") and "pulumi-aws" not in pins("requirements.txt")
    assert "pulumi-gcp" in pins("requirements-gcp.txt") and "pulumi-aws" not in pins("requirements-gcp.txt")
    assert "pulumi-aws" in pins("requirements-aws.txt") and "pulumi-gcp" not in pins("requirements-aws.txt")


def stack_locks(tmp_path: Path, stack_file: str | None, *args: str, stack: str = "s") -> list[str]:
    (tmp_path / "stacks").mkdir(exist_ok=True)
    if stack_file is not None:
        (tmp_path / "stacks" / f"Pulumi.{stack}.yaml").write_text(stack_file)
    script = f'source "{REPO / "scripts" / "venv.sh"}" && stack_locks "$@"'
    done = subprocess.run(["bash", "-c", script, "bash", *args], cwd=tmp_path, capture_output=True, text=True, check=True)
    return done.stdout.split()


@pytest.mark.parametrize(
    ("stack_file", "args", "locks"),
    [
        ("config: {}\n", ["s"], ["requirements.txt"]),
        (None, ["s"], ["requirements.txt"]),
        ("config:\n  servebox:target: gcp\n  gcp:project: p\n", ["s"], ["requirements.txt", "requirements-gcp.txt"]),
        ("config:\n  servebox:target: 'aws'\n", ["s", "--ttl-hours", "2"], ["requirements.txt", "requirements-aws.txt"]),
        ("config:\n  servebox:target: existing\n", ["s"], ["requirements.txt"]),
        ("config:\n  servebox:target: existing\n  servebox:store: gcs\n", ["s"], ["requirements.txt", "requirements-gcp.txt"]),
        ("config:\n  servebox:target: existing\n  servebox:store: s3 # EKS\n", ["s"], ["requirements.txt", "requirements-aws.txt"]),
        ("config: {}\n", ["s", "--set", "target=aws"], ["requirements.txt", "requirements-aws.txt"]),
        ("config: {}\n", ["s", "--set=servebox:target=gcp"], ["requirements.txt", "requirements-gcp.txt"]),
    ],
)
def test_a_stack_gets_the_locks_of_its_target(tmp_path: Path, stack_file: str | None, args: list[str], locks: list[str]) -> None:
    assert stack_locks(tmp_path, stack_file, *args) == locks


def test_no_stack_argument_is_the_kind_stack(tmp_path: Path) -> None:
    assert stack_locks(tmp_path, "config:\n  servebox:target: gcp\n", "--set", "vmSpot=true", stack="kind") == [
        "requirements.txt",
        "requirements-gcp.txt",
    ]


@pytest.mark.parametrize("stack", ["kind", "gcp", "aws", "existing"])
def test_the_shipped_stacks_get_only_their_clouds_provider(stack: str) -> None:
    script = f'source scripts/venv.sh && stack_locks {stack}'
    done = subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    expected = {"kind": [], "gcp": ["requirements-gcp.txt"], "aws": ["requirements-aws.txt"], "existing": []}[stack]
    assert done.stdout.split() == ["requirements.txt", *expected]


def _venv_with_a_recording_pip(tmp_path: Path) -> Path:
    """A project copy whose .venv/bin/python runs Python for `-c` and records every `-m pip` call."""
    for name in (*RUNTIME, "requirements-dev.txt", "pyproject.toml"):
        (tmp_path / name).write_bytes((REPO / name).read_bytes())
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    recording_python(bin_dir / "python", tmp_path / "pip.log")
    (bin_dir / "servebox").write_text("#!/bin/sh\n")
    (bin_dir / "servebox").chmod(0o755)
    return tmp_path


def _ensure(project: Path, *locks: str) -> list[str]:
    log = project / "pip.log"
    log.unlink(missing_ok=True)
    script = f'source "{REPO / "scripts" / "venv.sh"}" && ensure_venv 13 "$@"'
    subprocess.run(["bash", "-c", script, "bash", *locks], cwd=project, capture_output=True, text=True, check=True)
    return log.read_text().splitlines() if log.exists() else []


def test_a_kind_venv_drops_the_cloud_providers_the_tests_installed(tmp_path: Path) -> None:
    project = _venv_with_a_recording_pip(tmp_path)
    dev = _ensure(project, "requirements-dev.txt")
    assert dev[0].startswith("-m pip install --quiet --disable-pip-version-check -r requirements-dev.txt")
    assert not any("uninstall" in call for call in dev)
    kind = _ensure(project, "requirements.txt")  # after the tests, a kind stack's up
    assert kind[0].startswith("-m pip install --quiet --disable-pip-version-check -r requirements.txt")
    assert kind[1] == "-m pip uninstall --quiet --disable-pip-version-check -y pulumi-gcp pulumi-aws"
    assert _ensure(project, "requirements.txt") == []  # the same locks again: nothing to do
    gcp = _ensure(project, "requirements.txt", "requirements-gcp.txt")
    assert gcp[0].endswith("-r requirements.txt -r requirements-gcp.txt")
    assert gcp[1] == "-m pip uninstall --quiet --disable-pip-version-check -y pulumi-aws"


def _requirements(name: str) -> list[str]:
    lines = [line.split("#", 1)[0].strip() for line in (REPO / name).read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("-")]


def test_the_package_declares_the_runtime_ranges() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["dependencies"] == _requirements("requirements.in")
    assert project["optional-dependencies"] == {"gcp": _requirements("requirements-gcp.in"), "aws": _requirements("requirements-aws.in")}


def test_the_install_benchmark_reports_only_the_targets_plugins(capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    import json

    import bench_install

    assert bench_install.main(["--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [p.split()[0] for p in rows["kind"]["after"]["plugins"]] == ["command", "kubernetes", "minio", "random", "tls"]
    assert "gcp" in " ".join(rows["gcp"]["after"]["plugins"]) and "aws" not in " ".join(rows["gcp"]["after"]["plugins"])
    assert rows["kind"]["after"]["not_measured"] == [] and rows["kind"]["after"]["size_mb"] > 100
