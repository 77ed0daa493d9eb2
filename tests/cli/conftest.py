"""Fixtures for the `servebox` command's tests: the fake Pulumi CLI on PATH, and the real model server.

`fake` writes tests/cli/fake_pulumi.py (the project's one fake, see its docstring) to
`<tmp>/bin/pulumi`, gives servebox a file backend, a passphrase and a work root under the test's
tmp directory, and reads back what the fake recorded. `servebox` itself runs as a child process
(`python -m servebox`), as a CI job runs it, so that signals reach it as they would there.

`server` (tests/conftest.py) is KServe's real sklearn server serving the trained sample on
127.0.0.1: the endpoint the fake's `up` publishes, so the smoke test phase is the real one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.harness import REPO

FAKE_SOURCE = Path(__file__).with_name("fake_pulumi.py")


@dataclass
class Fake:
    """The fake CLI of one test: its script, its record, its state."""

    root: Path
    env: dict[str, str]

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def work_root(self) -> Path:
        return self.root / "work"

    def script(self, **spec: Any) -> None:
        """What the fake answers (see fake_pulumi.py)."""
        (self.root / "script.json").write_text(json.dumps(spec))

    def calls(self) -> list[dict[str, Any]]:
        """Every call the fake answered, in the order they ended."""
        return [entry for entry in self._log() if entry["result"] != "running"]

    def _log(self) -> list[dict[str, Any]]:
        log = self.root / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []

    def commands(self, stack: str | None = None) -> list[list[str]]:
        """The recorded argv lists, without the SDK's `version` call; for one stack when given."""
        found = []
        for call in sorted(self.calls(), key=lambda c: c["start"]):
            args = call["args"]
            if args[:1] == ["version"]:
                continue
            if stack is not None and stack not in args:
                continue
            found.append(args)
        return found

    def verbs(self, stack: str | None = None) -> list[str]:
        """The recorded calls as command words (`stack init`, `up`, ...), for order assertions."""
        verbs = []
        for args in self.commands(stack):
            words = []
            for arg in args:
                if arg.startswith("-") or len(words) == (3 if words[:2] == ["stack", "tag"] else 2):
                    break
                words.append(arg)
            if words[:1] not in (["stack"], ["config"]):
                words = words[:1]
            verbs.append(" ".join(words))
        return verbs

    def stack(self, name: str) -> dict[str, Any] | None:
        """The fake backend's record of a stack, or None when it does not exist."""
        path = self.state / ".pulumi" / "stacks" / "servebox" / f"{name}.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def stacks(self) -> list[str]:
        directory = self.state / ".pulumi" / "stacks" / "servebox"
        return sorted(p.stem for p in directory.glob("*.json")) if directory.is_dir() else []

    def seed_stack(self, name: str, tags: dict[str, str], resources: int = 3, urns: list[str] | None = None) -> None:
        """A stack left in the backend by an earlier run (what the reaper and workshop down find)."""
        path = self.state / ".pulumi" / "stacks" / "servebox" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"config": {}, "tags": tags, "outputs": {"endpoint": f"http://{name}"},
                                    "resources": resources, "secret_outputs": [], "urns": urns or []}))

    def lock(self, name: str, pid: int, hostname: str) -> Path:
        """A lock file as the file backend writes it while an update runs."""
        directory = self.state / ".pulumi" / "locks" / "organization" / "servebox" / name
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "0b8c2f7e-lock.json"
        path.write_text(json.dumps({"pid": pid, "username": "tester", "hostname": hostname,
                                    "timestamp": "2026-12-01T10:00:00Z"}))
        return path

    def servebox(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run `servebox ARGS` to the end."""
        return subprocess.run([sys.executable, "-m", "servebox", *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start `servebox ARGS` (to signal it); read it with finish()."""
        return subprocess.Popen([sys.executable, "-m", "servebox", *args], cwd=self.root, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait_for_call(self, verb: str, timeout: float = 20.0) -> None:
        """Until an update (`up`, `destroy`) has taken its lock, or a call of `verb` was recorded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(entry["args"][:1] == [verb] for entry in self._log()) or verb in self.verbs():
                return
            time.sleep(0.02)
        raise AssertionError(f"no {verb} call within {timeout} s; calls: {self.verbs()}")


@pytest.fixture
def fake(tmp_path: Path) -> Fake:
    """The fake Pulumi CLI first on PATH, a file backend and a work root in tmp_path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable = bin_dir / "pulumi"
    executable.write_text(f"#!{sys.executable}\n" + FAKE_SOURCE.read_text())
    executable.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "test-passphrase",
        "SERVEBOX_WORK_ROOT": str(tmp_path / "work"),
        "FAKE_PULUMI_SCRIPT": str(tmp_path / "script.json"),
        "FAKE_PULUMI_LOG": str(tmp_path / "calls.jsonl"),
        "PYTHONPATH": str(REPO),
        "TERM": "dumb",
        # Where `servebox up` would fetch a missing CLI or kind from: a closed port here, so that no
        # test ever reaches the internet (tests/cli/test_toolfetch.py serves real releases locally).
        "SERVEBOX_RELEASE_MIRROR": "http://127.0.0.1:9",
    }
    (tmp_path / "state").mkdir()
    fake = Fake(tmp_path, env)
    fake.script()
    return fake


def finish(process: subprocess.Popen[str], timeout: float = 30) -> tuple[int, str, str]:
    """Wait for a started servebox; (exit code, stdout, stderr)."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        out, err = process.communicate()
        raise AssertionError(f"servebox did not finish in {timeout} s:\n{out}\n{err}") from None
    return process.returncode, out, err


def serving_outputs(infer_url: str) -> dict[str, Any]:
    """Stack outputs in the shape of components/outputs.py, pointing at `infer_url`."""
    base = infer_url.split("/v2/")[0]
    return {
        "target": "kind",
        "serving": "kserve",
        "endpoint": "http://mnist.models.127.0.0.1.sslip.io:8080",
        "infer_url": infer_url,
        "predict_url": f"{base}/v1/models/mnist:predict",
        "protocol": "v2",
        "host_header": "mnist.models.127.0.0.1.sslip.io",
        "curl": f"curl -sS -H 'Host: mnist.models.127.0.0.1.sslip.io' {infer_url} -d @digit.json",
        "model_name": "mnist",
        "kubeconfig": "apiVersion: v1\nkind: Config\nusers: [{name: admin, user: {token: SECRET-TOKEN}}]",
        "expires_at": None,
    }


# What preflight looks for on a VM stack, found as the providers would find it.
CLOUD_ENV = {
    "GOOGLE_CREDENTIALS": "{}",
    "GOOGLE_PROJECT": "servebox-test-1",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "example",
    "AWS_REGION": "us-east-1",
}


def recording_python(path: Path, log: Path) -> None:
    """A `python` for a venv under test: this interpreter for everything but `-m pip`, whose calls
    are appended to `log` and not run, so no test changes the packages of the venv running it."""
    path.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "$*" >> "{log}"; exit 0; fi\n'
        f'exec "{sys.executable}" "$@"\n'
    )
    path.chmod(0o755)


@pytest.fixture
def repo(fake: Fake, tmp_path: Path) -> Path:
    """A copy of the repository that servebox runs from; its .venv is this interpreter."""
    copy = tmp_path / "repo"
    for part in ("scripts", "components", "stacks", "manifests", "servebox"):
        shutil.copytree(REPO / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("Pulumi.yaml", "__main__.py", "requirements.txt", "requirements-gcp.txt", "requirements-aws.txt", "pyproject.toml"):
        shutil.copy(REPO / part, copy / part)
    venv_bin = copy / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    # This interpreter and its packages, through wrappers (a symlink would lose the venv). Its pip
    # is never run: scripts/venv.sh's installs are recorded in pip.log instead, so that no test
    # changes the packages of the venv running the tests; the stamps say the kind lock and the
    # project are installed.
    recording_python(venv_bin / "python", copy / "pip.log")
    (venv_bin / "servebox").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m servebox "$@"\n')
    for script in venv_bin.iterdir():
        script.chmod(0o755)
    for stamp, files in ((".locks.sha256", ["requirements.txt"]), (".project.sha256", ["pyproject.toml"])):
        digest = hashlib.sha256()
        for name in files:  # scripts/venv.sh _sha256_of: each file's name, a NUL, its bytes
            digest.update(name.encode() + b"\0" + (copy / name).read_bytes())
        (copy / ".venv" / stamp).write_text(digest.hexdigest() + "\n")
    fake.env.update(CLOUD_ENV, PYTHONPATH=str(copy))
    fake.root = fake.root  # the fake's state and record stay in tmp_path
    return copy
