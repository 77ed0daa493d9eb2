"""`servebox ephemeral` against the fake Pulumi CLI (tests/cli/fake_pulumi.py): the calls it makes,
cleanup on every failure path and signal, the exit codes and the JSON summary. The smoke test phase
is the real one, against KServe's sklearn server on 127.0.0.1 (conftest.server)."""

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


def test_a_passing_run_creates_ups_smokes_destroys_and_removes(fake: Fake, server) -> None:
    _script(fake, server.infer_url)
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


CLEANED = {"destroyed": True, "stack_removed": True, "work_dir_removed": True, "left": [], "error": None}
TEARDOWN = ["destroy", "stack history", "stack rm"]


def _assert_cleaned(fake: Fake, summary: dict) -> None:
    assert summary["cleanup"] == CLEANED
    assert fake.stacks() == []
    assert not (fake.work_root / STACK).exists()
    destroys = [c for c in fake.calls() if c["args"][:1] == ["destroy"]]
    # A cluster that is already gone must not fail the destroy (pulumi-kubernetes#2463).
    assert [c["env"].get("PULUMI_K8S_DELETE_UNREACHABLE") for c in destroys] == ["true"]


def test_a_failed_up_is_destroyed_and_removed_with_exit_10(fake: Fake) -> None:
    _script(fake, "http://127.0.0.1:9/v2/models/mnist/infer",
            rules=[{"command": "up", "action": "fail", "stderr": "error: helm release istiod failed: timed out"}])
    done = fake.servebox("ephemeral", "--stack", STACK)
    assert done.returncode == 10, done.stderr
    summary = _summary(done.stdout)
    assert summary["outcome"] == "up_failed" and summary["exit_code"] == 10
    assert "helm release istiod failed: timed out" in summary["error"]
    assert summary["endpoint"] is None and summary["accuracy"] is None
    assert fake.verbs(STACK)[-4:] == ["up", *TEARDOWN]
    _assert_cleaned(fake, summary)


def test_a_failed_smoke_test_is_destroyed_and_removed_with_exit_11(fake: Fake) -> None:
    # Nothing listens on port 9: the endpoint never serves.
    _script(fake, "http://127.0.0.1:9/v2/models/mnist/infer")
    done = fake.servebox("ephemeral", "--stack", STACK, "--smoke-timeout", "0.5", "--count", "3")
    assert done.returncode == 11, done.stderr
    summary = _summary(done.stdout)
    assert summary["outcome"] == "smoke_failed"
    assert summary["error"].startswith("the endpoint did not serve after")
    assert summary["smoke"]["ok"] is False and summary["accuracy"] == 0.0
    assert summary["endpoint"] == "http://mnist.models.127.0.0.1.sslip.io:8080"
    _assert_cleaned(fake, summary)


def test_the_timeout_cancels_the_running_up_then_cleans_up_with_exit_12(fake: Fake) -> None:
    _script(fake, "http://127.0.0.1:9/v2/models/mnist/infer", rules=[{"command": "up", "action": "hang"}])
    done = fake.servebox("ephemeral", "--stack", STACK, "--timeout", "1.5")
    assert done.returncode == 12, done.stderr
    summary = _summary(done.stdout)
    assert summary["outcome"] == "timeout"
    (up,) = [c for c in fake.calls() if c["args"][:1] == ["up"]]
    assert up["result"] == "interrupted:SIGINT"  # the CLI's graceful cancel, not a kill
    assert "update canceled" in summary["error"]
    assert fake.verbs(STACK)[-4:] == ["up", *TEARDOWN]
    _assert_cleaned(fake, summary)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_up_cancels_it_gracefully_then_cleans_up_with_exit_13(fake: Fake, signum: int) -> None:
    _script(fake, "http://127.0.0.1:9/v2/models/mnist/infer", rules=[{"command": "up", "action": "hang"}])
    process = fake.start("ephemeral", "--stack", STACK)
    fake.wait_for_call("up")
    process.send_signal(signum)
    code, out, err = finish(process)
    assert code == 13, err
    summary = _summary(out)
    assert summary["outcome"] == "interrupted"
    (up,) = [c for c in fake.calls() if c["args"][:1] == ["up"]]
    # servebox forwards one SIGINT to the CLI, which runs in a session of its own.
    assert up["result"] == "interrupted:SIGINT"
    assert "Traceback" not in err
    _assert_cleaned(fake, summary)


def test_a_second_signal_during_cleanup_does_not_stop_the_destroy(fake: Fake) -> None:
    _script(fake, "http://127.0.0.1:9/v2/models/mnist/infer",
            rules=[{"command": "up", "action": "hang"}, {"command": "destroy", "hold": 1.0}])
    process = fake.start("ephemeral", "--stack", STACK)
    fake.wait_for_call("up")
    process.send_signal(signal.SIGINT)
    fake.wait_for_call("destroy")
    process.send_signal(signal.SIGTERM)
    code, out, err = finish(process)
    assert code == 13, err
    summary = _summary(out)
    (destroy,) = [c for c in fake.calls() if c["args"][:1] == ["destroy"]]
    assert destroy["result"] == "ok"
    assert summary["cleanup"]["signals_ignored_while_cleaning_up"] == ["SIGTERM"]
    assert fake.stacks() == []


def test_a_signal_during_the_smoke_test_stops_it_and_cleans_up(fake: Fake) -> None:
    _script(fake, "http://127.0.0.1:9/v2/models/mnist/infer")
    process = fake.start("ephemeral", "--stack", STACK, "--smoke-timeout", "60")
    deadline = __import__("time").monotonic() + 20
    while "stack history" not in fake.verbs(STACK) and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.02)
    __import__("time").sleep(0.3)
    process.send_signal(signal.SIGINT)
    code, out, err = finish(process)
    assert code == 13, err
    summary = _summary(out)
    assert summary["outcome"] == "interrupted" and summary["phases"]["smoke"] < 10
    _assert_cleaned(fake, summary)


def test_keep_on_failure_keeps_the_stack_and_says_how_to_remove_it(fake: Fake) -> None:
    _script(fake, "http://127.0.0.1:9/v2/models/mnist/infer", rules=[{"command": "up", "action": "fail"}])
    done = fake.servebox("ephemeral", "--stack", STACK, "--keep-on-failure")
    assert done.returncode == 10
    summary = _summary(done.stdout)
    assert summary["kept"] is True and summary["remove_with"] == f"servebox down {STACK}"
    assert summary["cleanup"] is None
    assert "destroy" not in fake.verbs(STACK) and fake.stacks() == [STACK]
    # ... and that command removes it.
    down = fake.servebox("down", STACK)
    assert down.returncode == 0, down.stderr
    assert fake.stacks() == [] and not (fake.work_root / STACK).exists()


def test_a_failed_destroy_wins_with_exit_14_and_names_what_is_left(fake: Fake) -> None:
    _script(fake, "http://127.0.0.1:9/v2/models/mnist/infer",
            rules=[{"command": "up", "action": "fail"},
                   {"command": "destroy", "action": "fail", "stderr": "error: deleting bucket: AccessDenied"}])
    done = fake.servebox("ephemeral", "--stack", STACK)
    assert done.returncode == 14
    summary = _summary(done.stdout)
    assert summary["outcome"] == "cleanup_incomplete" and summary["exit_code"] == 14
    assert summary["cleanup"]["left"] == [f"the resources of stack {STACK} (pulumi destroy failed)",
                                          f"stack {STACK} in the backend"]
    assert "AccessDenied" in summary["cleanup"]["error"]
    assert summary["remove_with"] == f"servebox down {STACK}"
    assert fake.stacks() == [STACK]


def test_the_summary_goes_to_a_file_when_asked(fake: Fake, tmp_path: Path) -> None:
    _script(fake, "http://127.0.0.1:9/v2/models/mnist/infer", rules=[{"command": "up", "action": "fail"}])
    done = fake.servebox("ephemeral", "--stack", STACK, "--summary", str(tmp_path / "summary.json"))
    assert done.returncode == 10 and done.stdout == ""
    assert _summary((tmp_path / "summary.json").read_text())["outcome"] == "up_failed"
    assert f"servebox ephemeral: up_failed (exit 10), stack {STACK}, summary in {tmp_path / 'summary.json'}" in done.stderr


def test_a_generated_name_is_the_prefix_and_a_random_suffix_and_the_tags_carry_the_expiry(fake: Fake) -> None:
    _script(fake, "http://127.0.0.1:9/v2/models/mnist/infer", rules=[{"command": "up", "action": "fail"}])
    done = fake.servebox("ephemeral", "--prefix", "pr-42", "--ttl-hours", "3", "--keep-on-failure")
    summary = _summary(done.stdout)
    name = summary["stack"]
    assert name.startswith("pr-42-") and len(name) == len("pr-42-") + 6
    tags = fake.stack(name)["tags"]
    assert set(tags) == {"servebox:expires-at", "servebox:purpose", "servebox:created-by"}
    assert tags["servebox:expires-at"] == summary["expires_at"] and tags["servebox:purpose"] == "ci"


def test_an_existing_stack_of_that_name_is_refused_and_left_alone(fake: Fake) -> None:
    fake.seed_stack(STACK, {})
    done = fake.servebox("ephemeral", "--stack", STACK)
    assert done.returncode == 2
    summary = _summary(done.stdout)
    assert summary["outcome"] == "bad_input"
    assert summary["error"].startswith(f"stack {STACK} already exists and is not servebox ephemeral's to destroy")
    assert "destroy" not in fake.verbs() and fake.stacks() == [STACK]
    assert not (fake.work_root / STACK).exists()  # the stack keeps running where it ran before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "target"], "servebox ephemeral: error: --set 'target': expected KEY=VALUE, e.g. --set target=gcp"),
        (["--set", "tagret=gcp"], "servebox ephemeral: error: --set tagret: not a servebox config key; allowed: adminCidrs,"),
        (["--stack", "Bob_Smith"], "servebox ephemeral: error: --stack: 'Bob_Smith' is not a valid stack name: use lower-case letters"),
    ],
)
def test_bad_input_is_refused_before_pulumi_is_called(fake: Fake, args: list[str], message: str) -> None:
    done = fake.servebox("ephemeral", *args)
    assert done.returncode == 2
    assert done.stderr.startswith(message), done.stderr
    assert fake.commands() == []


def test_keep_on_failure_still_cleans_up_after_a_signal(fake: Fake) -> None:
    _script(fake, "http://127.0.0.1:9/v2/models/mnist/infer", rules=[{"command": "up", "action": "hang"}])
    process = fake.start("ephemeral", "--stack", STACK, "--keep-on-failure")
    fake.wait_for_call("up")
    process.send_signal(signal.SIGTERM)
    code, out, err = finish(process)
    assert code == 13, err
    summary = _summary(out)
    assert summary["kept"] is False
    _assert_cleaned(fake, summary)


def test_a_failed_update_reports_the_resources_errors_from_the_cli_output() -> None:
    from pulumi.automation._cmd import CommandResult
    from pulumi.automation.errors import CommandError

    from servebox.lifecycle import cli_error

    stdout = ("Updating (ci-test):\n  + kubernetes:helm.sh/v3:Release platform-istiod creating (300s) "
              "error: timed out waiting for the condition\nDiagnostics:\n  kubernetes:helm.sh/v3:Release (platform-istiod):\n"
              "    error: timed out waiting for the condition\n")
    error = CommandError(CommandResult(stdout=stdout, stderr="error: update failed", code=255))
    assert cli_error(error) == ("+ kubernetes:helm.sh/v3:Release platform-istiod creating (300s) error: timed out "
                                "waiting for the condition\nerror: timed out waiting for the condition\nerror: update failed")


def test_outputs_without_an_endpoint_fail_the_smoke_test_and_are_cleaned_up(fake: Fake) -> None:
    fake.script(outputs={"target": "kind", "protocol": "v2"}, resources=1)
    done = fake.servebox("ephemeral", "--stack", STACK)
    assert done.returncode == 11, done.stderr
    summary = _summary(done.stdout)
    assert summary["error"] == (f"stack {STACK} has no 'infer_url' output for V2. Has `pulumi up` finished for this "
                                "stack? If its runtime does not serve V2, try --protocol v1.")
    _assert_cleaned(fake, summary)
