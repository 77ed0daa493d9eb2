"""scripts/ssh.sh against a fake Pulumi CLI and a fake ssh on PATH: what it writes (the key, mode
0600; the pinned host key) and how it calls ssh. A fake proves the control flow only; that the key
opens the VM is proven on the user's first `scripts/ssh.sh`."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from tests.harness import FAKE_HOST_KEY, FAKE_SSH_PRIVATE_KEY, REPO

OUTPUTS = {
    "ingress_address": "203.0.113.10:80",
    "ssh_private_key": FAKE_SSH_PRIVATE_KEY,
    "ssh_host_key": FAKE_HOST_KEY,
}


def _fakes(tmp_path: Path, outputs: dict) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        "if sys.argv[1:2] == ['whoami']:\n    print('tester'); sys.exit(0)\n"
        f"print(json.dumps({outputs!r}))\n"
    )
    (bin_dir / "ssh").write_text(
        f"#!{sys.executable}\nimport json, os, stat, sys\n"
        "key = sys.argv[sys.argv.index('-i') + 1]\n"
        f"open({str(tmp_path / 'ssh.json')!r}, 'w').write(json.dumps({{'argv': sys.argv[1:], 'mode': stat.S_IMODE(os.stat(key).st_mode)}}))\n"
    )
    for tool in bin_dir.iterdir():
        tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    home = tmp_path / "home"
    home.mkdir()
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(home)}


def _run(tmp_path: Path, outputs: dict, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [shutil.which("bash") or "/bin/bash", "scripts/ssh.sh", *args],
        cwd=REPO,
        env=_fakes(tmp_path, outputs),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_ssh_writes_the_key_0600_pins_the_host_key_and_connects(tmp_path: Path) -> None:
    done = _run(tmp_path, OUTPUTS, "gcp", "--", "sudo", "k3s", "kubectl", "get", "nodes")
    assert done.returncode == 0, done.stderr
    key = tmp_path / "home" / ".ssh" / "servebox-gcp"
    assert key.read_text() == FAKE_SSH_PRIVATE_KEY
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (tmp_path / "home" / ".ssh" / "servebox-gcp.known_hosts").read_text() == f"203.0.113.10 {FAKE_HOST_KEY}\n"
    call = json.loads((tmp_path / "ssh.json").read_text())
    assert call["mode"] == 0o600
    assert call["argv"] == [
        "-i",
        str(key),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        f"UserKnownHostsFile={key}.known_hosts",
        "-o",
        "StrictHostKeyChecking=yes",
        "ubuntu@203.0.113.10",
        "sudo",
        "k3s",
        "kubectl",
        "get",
        "nodes",
    ]


def test_ssh_on_a_stack_without_a_vm_says_so(tmp_path: Path) -> None:
    done = _run(tmp_path, {"ingress_address": "127.0.0.1:8080", "ssh_private_key": None}, "kind")
    assert done.returncode == 1
    assert "stack kind has no VM outputs (ingress_address, ssh_private_key)" in done.stderr
    assert not (tmp_path / "ssh.json").exists()
