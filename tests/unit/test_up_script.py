"""scripts/up.sh on VM stacks against a fake Pulumi CLI: the order of what it asks Pulumi to do.

It runs in a copy of the repository whose .venv is this interpreter with the lock's stamp already
in place, so that nothing is installed. A fake proves the control flow only (refresh the VM, then
up; a stack without a VM yet is not refreshed); what Pulumi and the cloud then do is proven by a
real `up` after a TTL has fired.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import REPO

VM_URN = {
    "gcp": "urn:pulumi:gcp::servebox::servebox:cluster:GcpVmCluster$gcp:compute/instance:Instance::cluster-vm",
    "aws": "urn:pulumi:aws::servebox::servebox:cluster:AwsVmCluster$aws:ec2/instance:Instance::cluster-vm",
}


def _repository_copy(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for part in ("scripts", "components", "stacks", "manifests"):
        shutil.copytree(REPO / part, repo / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("Pulumi.yaml", "requirements.txt"):
        shutil.copy(REPO / part, repo / part)
    venv_bin = repo / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    # This interpreter, with its packages: a wrapper, since a symlink would lose the venv.
    (venv_bin / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (venv_bin / "python").chmod(0o755)
    digest = hashlib.sha256((repo / "requirements.txt").read_bytes()).hexdigest()
    (repo / ".venv" / ".requirements.sha256").write_text(digest + "\n")
    return repo


def _fake_pulumi(bin_dir: Path, calls: Path, state_has_vm: bool, urn: str) -> None:
    export = {"deployment": {"resources": [{"urn": urn}] if state_has_vm else []}}
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"with open({str(calls)!r}, 'a') as log:\n    log.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "command = sys.argv[1:3]\n"
        "if sys.argv[1:2] == ['version']:\n    print('v3.272.0')\n"
        "elif sys.argv[1:2] == ['whoami']:\n    print('tester')\n"
        f"elif command == ['stack', 'export']:\n    print(json.dumps({export!r}, indent=2))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize("stack", ["gcp", "aws"])
@pytest.mark.parametrize("state_has_vm", [True, False])
def test_up_on_a_vm_stack_refreshes_only_the_vm_then_runs_up(tmp_path: Path, stack: str, state_has_vm: bool) -> None:
    repo = _repository_copy(tmp_path)
    calls = tmp_path / "calls.jsonl"
    _fake_pulumi(tmp_path / "bin", calls, state_has_vm, VM_URN[stack])
    env = {
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        # What preflight needs to find on a VM stack, as the providers would.
        "GOOGLE_CREDENTIALS": "{}",
        "GOOGLE_PROJECT": "servebox-test-1",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "example",
        "AWS_REGION": "us-east-1",
    }
    done = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "scripts/up.sh", stack],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    commands = [json.loads(line) for line in calls.read_text().splitlines()]
    # version (preflight) and whoami (backend) first; then the stack, the refresh, the up, the outputs.
    after_login = [c for c in commands if c[:1] not in (["version"], ["whoami"])]
    expected = [["stack", "select", "--create", stack], ["stack", "export", "--stack", stack]]
    if state_has_vm:
        expected.append(["refresh", "--yes", "--stack", stack, "--target", VM_URN[stack]])
    expected += [["up", "--yes", "--stack", stack], ["stack", "output", "--stack", stack]]
    assert after_login == expected
