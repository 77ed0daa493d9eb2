"""`servebox up|down|status|outputs|smoke|predict` and scripts/up.sh on the workstation, against the
fake Pulumi CLI, in a copy of the repository (whose stacks/ the real CLI would write to)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Fake, serving_outputs

VM_URN = {
    "gcp": "urn:pulumi:gcp::servebox::servebox:cluster:GcpVmCluster$gcp:compute/instance:Instance::cluster-vm",
    "aws": "urn:pulumi:aws::servebox::servebox:cluster:AwsVmCluster$aws:ec2/instance:Instance::cluster-vm",
}
def _servebox(fake: Fake, repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "servebox", *args], cwd=repo, env=fake.env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("stack", ["gcp", "aws"])
@pytest.mark.parametrize("state_has_vm", [True, False])
def test_up_on_a_vm_stack_refreshes_only_the_vm_then_runs_up(fake: Fake, repo: Path, stack: str, state_has_vm: bool) -> None:
    fake.seed_stack(stack, {}, urns=[VM_URN[stack]] if state_has_vm else [])
    fake.script(outputs=serving_outputs("http://203.0.113.9/v2/models/mnist/infer"), secret_outputs=["kubeconfig"])
    done = _servebox(fake, repo, "up", stack)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = ["stack select", "stack tag ls", "stack tag set", "stack export"]
    if state_has_vm:
        expected += ["refresh", "stack history"]
    expected += ["up", "stack output", "stack output", "stack history"]
    assert fake.verbs(stack) == expected
    if state_has_vm:
        (refresh,) = [c for c in fake.commands(stack) if c[:1] == ["refresh"]]
        assert refresh[refresh.index("--target") + 1] == VM_URN[stack]
    assert {c["cwd"] for c in fake.calls() if stack in c["args"]} == {str(repo)}  # the repository's stacks/
    outputs = json.loads(done.stdout)
    assert outputs["kubeconfig"] == "[secret]" and outputs["endpoint"] == "http://mnist.models.127.0.0.1.sslip.io:8080"
    assert "SECRET-TOKEN" not in done.stdout + done.stderr


def test_scripts_up_sh_makes_the_venv_and_calls_servebox_up(fake: Fake, repo: Path) -> None:
    fake.seed_stack("gcp", {}, urns=[VM_URN["gcp"]])
    fake.script(outputs=serving_outputs("http://203.0.113.9/v2/models/mnist/infer"), secret_outputs=["kubeconfig"])
    done = subprocess.run([shutil.which("bash") or "/bin/bash", "scripts/up.sh", "gcp"], cwd=repo, env=fake.env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake.verbs("gcp") == ["stack select", "stack tag ls", "stack tag set", "stack export", "refresh", "stack history",
                                 "up", "stack output", "stack output", "stack history"]
    assert "servebox preflight for stack gcp" in done.stderr and json.loads(done.stdout)["target"] == "kind"
    # A gcp stack's venv: the kind locks were installed (the stamp), the Google provider's is added,
    # and the AWS provider removed.
    assert (repo / "pip.log").read_text().splitlines() == [
        "-m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-gcp.txt",
        "-m pip uninstall --quiet --disable-pip-version-check -y pulumi-aws",
    ]


def test_up_with_set_and_a_ttl_writes_config_and_the_expiry_tag(fake: Fake, repo: Path) -> None:
    fake.script(outputs=serving_outputs("http://203.0.113.9/v2/models/mnist/infer"))
    done = _servebox(fake, repo, "up", "dev", "--skip-preflight", "--set", "deploymentMode=standard", "--ttl-hours", "4")
    assert done.returncode == 0, done.stderr
    assert fake.verbs("dev")[:6] == ["stack select", "stack init", "config set-all", "stack tag ls", "stack tag set", "stack tag set"]
    data = fake.stack("dev")
    assert data["config"] == {"servebox:deploymentMode": "standard"}
    assert set(data["tags"]) == {"servebox:purpose", "servebox:expires-at"} and data["tags"]["servebox:purpose"] == "dev"
    # The real CLI writes config to the stack's file in the repository's stacks/ (stackConfigDir).
    assert json.loads((repo / "stacks" / "Pulumi.dev.yaml").read_text()) == {"config": {"servebox:deploymentMode": "standard"}}


def test_an_interrupted_up_is_cancelled_and_says_how_to_resume_or_remove(fake: Fake, repo: Path) -> None:
    import signal

    from tests.cli.conftest import finish

    fake.script(rules=[{"command": "up", "action": "hang"}])
    process = subprocess.Popen([sys.executable, "-m", "servebox", "up", "dev", "--skip-preflight"], cwd=repo,
                               env=fake.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    fake.wait_for_call("up")
    process.send_signal(signal.SIGINT)
    code, _out, err = finish(process)
    assert code == 13
    assert "Interrupted; the update was cancelled. `servebox up dev` resumes it, `servebox down dev` removes it." in err
    (up,) = [c for c in fake.calls() if c["args"][:1] == ["up"]]
    assert up["result"] == "interrupted:SIGINT"
    assert not list((fake.state / ".pulumi" / "locks").glob("**/*.json"))  # the CLI let go of its lock


def test_up_on_a_workshop_stack_runs_in_its_own_work_dir_and_keeps_its_purpose(fake: Fake, repo: Path) -> None:
    fake.script(outputs=serving_outputs("http://203.0.113.9/v2/models/mnist/infer"))
    roster = fake.root / "attendees.csv"
    roster.write_text("attendee\nada\n")
    made = _servebox(fake, repo, "workshop", "up", "--roster", str(roster), "--out", str(fake.root),
                     "--set", "target=gcp", "--set", "modelCidrs=0.0.0.0/0")
    assert made.returncode == 0, made.stderr
    done = _servebox(fake, repo, "up", "ws-ada")
    assert done.returncode == 0, done.stderr
    assert fake.stack("ws-ada")["tags"]["servebox:purpose"] == "workshop"
    assert {c["cwd"] for c in fake.calls() if "ws-ada" in c["args"]} == {str(fake.work_root / "ws-ada")}
    # Preflight read the stack's own file: a gcp stack, so the cloud's checks and not Docker's.
    assert "servebox preflight for stack ws-ada" in done.stderr and "gcp:project" in done.stderr
    assert "docker" not in done.stderr.lower()


def test_down_destroys_and_removes_the_stack_keeping_its_file(fake: Fake, repo: Path) -> None:
    fake.seed_stack("kind", {})
    done = _servebox(fake, repo, "down", "kind")
    assert done.returncode == 0, done.stderr
    assert fake.verbs("kind") == ["stack select", "destroy", "stack history", "stack rm"]
    (rm,) = [c for c in fake.commands("kind") if c[:2] == ["stack", "rm"]]
    assert rm == ["stack", "rm", "--yes", "--preserve-config", "kind"]
    assert fake.stacks() == [] and (repo / "stacks" / "Pulumi.kind.yaml").is_file()


def test_down_keep_stack_only_destroys(fake: Fake, repo: Path) -> None:
    fake.seed_stack("kind", {})
    done = _servebox(fake, repo, "down", "kind", "--keep-stack")
    assert done.returncode == 0, done.stderr
    assert fake.verbs("kind") == ["stack select", "destroy", "stack history"]
    assert fake.stacks() == ["kind"] and fake.stack("kind")["resources"] == 0


def test_status_and_outputs(fake: Fake, repo: Path) -> None:
    fake.seed_stack("kind", {"servebox:purpose": "dev"})
    fake.seed_stack("ci-1", {"servebox:purpose": "ci", "servebox:expires-at": "2026-12-01T12:00:00Z"})
    done = _servebox(fake, repo, "status", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        {"stack": "ci-1", "purpose": "ci", "expires_at": "2026-12-01T12:00:00Z", "workshop": None, "updating": False, "work_dir": None},
        {"stack": "kind", "purpose": "dev", "expires_at": None, "workshop": None, "updating": False, "work_dir": None},
    ]
    done = _servebox(fake, repo, "outputs", "kind")
    assert done.returncode == 0 and json.loads(done.stdout) == {"endpoint": "http://kind"}
    done = _servebox(fake, repo, "outputs", "nope")
    assert done.returncode == 2
    assert done.stderr.strip() == "servebox outputs: error: no stack named 'nope'; `servebox status` lists the stacks"


def test_smoke_and_predict_call_the_stacks_endpoint(fake: Fake, repo: Path, server) -> None:
    fake.script(outputs=serving_outputs(server.infer_url), secret_outputs=["kubeconfig"])
    assert _servebox(fake, repo, "up", "kind", "--skip-preflight").returncode == 0
    done = _servebox(fake, repo, "smoke", "kind", "--count", "5")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["url"] == server.infer_url and summary["ok"] is True and summary["count"] == 5
    done = _servebox(fake, repo, "predict", "kind", "--count", "2", "--protocol", "v1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith(f"2/2 right (100%) from {server.base_url}/v1/models/mnist:predict")


def test_servebox_without_the_pulumi_cli_says_how_to_install_it(fake: Fake, repo: Path) -> None:
    fake.env["PATH"] = "/usr/bin:/bin"
    done = _servebox(fake, repo, "status")
    assert done.returncode == 2
    assert done.stderr.strip() == ("servebox status: error: the pulumi CLI is not on PATH. Install it: "
                                   "curl -fsSL https://get.pulumi.com | sh (https://www.pulumi.com/docs/iac/download-install/)")


def test_an_old_pulumi_cli_is_refused_with_the_version_it_needs(fake: Fake, repo: Path) -> None:
    fake.script(version="3.200.0")
    done = _servebox(fake, repo, "status")
    assert done.returncode == 2
    assert "servebox keeps stack expiry in stack tags, which a file or bucket backend stores from Pulumi CLI v3.211.0 on" in done.stderr
    assert "your current CLI version is 3.200.0" in done.stderr


def test_up_without_cli_kind_or_docker_names_them_all_in_one_round(fake: Fake, repo: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    fake.env["PATH"] = str(empty)
    done = _servebox(fake, repo, "up", "kind")
    assert done.returncode == 2
    fails = [line.split()[1] for line in done.stderr.splitlines() if line.strip().startswith("FAIL")]
    assert {"pulumi", "docker", "kind"} <= set(fails), done.stderr
    assert "the pulumi CLI is not on PATH" not in done.stderr  # preflight spoke first, and for all of them
    for tool in ("pulumi", "kind"):  # the fetch was tried (the mirror is a closed port here), then the manual line
        assert f"==> Could not fetch {tool}: could not download http://127.0.0.1:9/" in done.stderr
    if sys.platform == "linux":  # the manual install lines are per OS
        assert "fix: curl -fsSL https://get.pulumi.com | sh" in done.stderr
        assert "fix: curl -Lo ./kind https://kind.sigs.k8s.io/dl/v0.32.0/kind-linux-" in done.stderr
        assert "install Docker Engine: https://docs.docker.com/engine/install/" in done.stderr
    assert "servebox up: error: preflight found problems" in done.stderr
    assert fake.calls() == []  # no CLI was asked anything


def test_serve_checks_the_model_before_it_looks_for_the_cli(fake: Fake, repo: Path, tmp_path: Path) -> None:
    fake.env["PATH"] = str(tmp_path)  # no pulumi here
    garbage = tmp_path / "model.joblib"
    garbage.write_bytes(b"not a pickle at all")
    done = _servebox(fake, repo, "serve", str(garbage), "--name", "churn")
    assert done.returncode == 2
    assert "pulumi CLI" not in done.stderr
    assert "models[0].path" in done.stderr, done.stderr
    done = _servebox(fake, repo, "serve", str(garbage), "--name", "Bad_Name")
    assert done.returncode == 2 and "models[0].name: got 'Bad_Name'" in done.stderr, done.stderr
    done = _servebox(fake, repo, "serve", str(tmp_path / "missing.joblib"))
    assert done.returncode == 2 and "no such file or directory" in done.stderr
