"""`servebox ephemeral` against the fake Pulumi CLI (tests/cli/fake_pulumi.py): the calls it makes,
cleanup on every failure path and signal, the exit codes and the JSON summary. The smoke test phase
is the real one, against KServe's sklearn server on 127.0.0.1 (conftest.model_server)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.cli.conftest import Fake, finish, serving_outputs

SECRET = "kubeconfig"
STACK = "ci-test"


def _script(fake: Fake, infer_url: str, **extra) -> None:
    fake.script(outputs=serving_outputs(infer_url), secret_outputs=[SECRET], resources=3, **extra)


def _summary(text: str) -> dict:
    return json.loads(text)


def _create_and_up(stack: str) -> list[list[str]]:
    return [
        ["stack", "init", stack, "--secrets-provider", "passphrase"],
        ["config", "set-all", "--stack", stack, "--plaintext", "target=kind", "--stack", stack],
    ]


def test_a_passing_run_creates_ups_smokes_destroys_and_removes(fake: Fake, model_server) -> None:
    _script(fake, model_server.infer_url)
    done = fake.servebox("ephemeral", "--stack", STACK, "--set", "target=kind", "--count", "5")
    assert done.returncode == 0, done.stderr
    summary = _summary(done.stdout)
    assert fake.verbs(STACK) == [
        "stack init", "config set-all", "stack tag set", "stack tag set", "stack tag set",
        "up", "stack output", "stack output", "stack history",
        "destroy", "stack history", "stack rm",
    ]
    assert set(summary["phases"]) == {"create", "up", "smoke", "cleanup"}
    assert all(isinstance(v, float) and v >= 0 for v in summary["phases"].values())
    del summary["phases"], summary["expires_at"], summary["smoke"]
    assert summary == {
        "stack": STACK,
        "outcome": "passed",
        "exit_code": 0,
        "endpoint": "http://mnist.models.127.0.0.1.sslip.io:8080",
        "accuracy": 1.0,
        "error": None,
        "kept": False,
        "remove_with": None,
        "cleanup": {"destroyed": True, "stack_removed": True, "work_dir_removed": True, "left": [], "error": None},
    }
    assert fake.stacks() == []
    assert not (fake.work_root / STACK).exists()
    assert "SECRET-TOKEN" not in done.stdout + done.stderr
