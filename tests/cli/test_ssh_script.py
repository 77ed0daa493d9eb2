"""scripts/ssh.sh against the fake Pulumi CLI (tests/cli/fake_pulumi.py) and a recording stand-in for
ssh on PATH: what it writes (the key, mode 0600; the pinned host key) and how it calls ssh. This
proves the control flow only; that the key opens the VM is proven on the user's first `scripts/ssh.sh`."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys

from tests.cli.conftest import Fake
from tests.harness import FAKE_HOST_KEY, FAKE_SSH_PRIVATE_KEY, REPO

OUTPUTS = {
    "ingress_address": "203.0.113.10:80",
    "ssh_private_key": FAKE_SSH_PRIVATE_KEY,
    "ssh_host_key": FAKE_HOST_KEY,
}


def _run(fake: Fake, outputs: dict, *args: str) -> subprocess.CompletedProcess[str]:
    stack = args[0]
    fake.seed_stack(stack, {})
    data = fake.stack(stack)
    data.update(outputs=outputs, secret_outputs=["ssh_private_key"])
    (fake.state / ".pulumi" / "stacks" / "servebox" / f"{stack}.json").write_text(json.dumps(data))
    # ssh itself: records how it was called and the key file's mode, connects nowhere.
    ssh = fake.root / "bin" / "ssh"
    ssh.write_text(
        f"#!{sys.executable}\nimport json, os, stat, sys\n"
        "key = sys.argv[sys.argv.index('-i') + 1]\n"
        f"open({str(fake.root / 'ssh.json')!r}, 'w').write(json.dumps({{'argv': sys.argv[1:], 'mode': stat.S_IMODE(os.stat(key).st_mode)}}))\n"
    )
    ssh.chmod(ssh.stat().st_mode | stat.S_IXUSR)
    (fake.root / "home").mkdir(exist_ok=True)
    return subprocess.run(
        [shutil.which("bash") or "/bin/bash", "scripts/ssh.sh", *args],
        cwd=REPO,
        env=fake.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_ssh_writes_the_key_0600_pins_the_host_key_and_connects(fake: Fake) -> None:
    tmp_path = fake.root
    done = _run(fake, OUTPUTS, "gcp", "--", "sudo", "k3s", "kubectl", "get", "nodes")
    assert done.returncode == 0, done.stderr
    assert fake.commands() == [["whoami"], ["stack", "output", "--json", "--show-secrets", "--stack", "gcp"]]
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


def test_ssh_on_a_stack_without_a_vm_says_so(fake: Fake) -> None:
    tmp_path = fake.root
    done = _run(fake, {"ingress_address": "127.0.0.1:8080", "ssh_private_key": None}, "kind")
    assert done.returncode == 2
    assert "stack kind has no VM outputs (ingress_address, ssh_private_key)" in done.stderr
    assert not (tmp_path / "ssh.json").exists()
