"""Every stack file this repository ships runs clean as shipped, under the config the Pulumi CLI builds.

The CLI sets every Pulumi.yaml default on a stack before the program runs (tests/engine.py
`cli_config`), so the program must tell a user's choice from a default by value. Each shipped file
plus only what the README tells a user to add before the first `up` plans clean, with the same
resources as the target's own tests plan; another target's key set to something other than its
default is refused with the exact message, and left at its default is no choice at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components import config
from tests import engine
from tests.engine import project_settings
from tests.harness import FAKE_GCP_PROJECT, FAKE_PUBLIC_IPV4, ProgramRun, run_program

README = (engine.REPO / "README.md").read_text()

# What the README tells a user to add to each shipped stack before its first `up`, and the README
# line that says so. kind: nothing. existing: the stack file names ~/.kube/config and my-cluster;
# the tests give it a home whose ~/.kube/config has that context (the user names their own).
FIRST_RUN = {
    "kind": ({}, "scripts/up.sh          # stack \"kind\""),
    "gcp": ({"gcp:project": FAKE_GCP_PROJECT}, "scripts/up.sh gcp --set gcp:project=P"),
    "aws": ({"aws:region": "us-east-1"}, "scripts/up.sh aws --set aws:region=us-east-1"),
    "existing": ({}, "`stacks/Pulumi.existing.yaml` (`kubeconfigPath`, `kubeContext`)"),
}

# A valid value other than the default for every key that belongs to some targets or serving stacks.
NON_DEFAULT = {
    "kindHostPort": 9090,
    "kindStoreHostPort": 9091,
    "adminCidrs": "203.0.113.0/24",
    "modelCidrs": "0.0.0.0/0",
    "allowWorldAdminAccess": True,
    "vmTtlHours": 4,
    "vmTerminationAction": "stop",
    "vmSpot": True,
    "gcpZone": "europe-west4-b",
    "gcpMachineType": "n2d-standard-4",
    "gcpDiskSizeGb": 50,
    "gcpNetwork": "create",
    "gcpStaticIp": True,
    "awsInstanceType": "m7i.large",
    "awsDiskSizeGb": 50,
    "awsNetwork": "create",
    "awsElasticIp": True,
    "kubeconfigPath": "~/other.kubeconfig",
    "kubeContext": "prod",
    "kubeconfig": "apiVersion: v1",
    "installCertManager": False,
    "installIstio": False,
    "installKnative": False,
    "ingressAddress": "203.0.113.7",
    "ingressDomain": "models.example.com",
    "store": "gcs",
    "eksClusterName": "team",
    "deploymentMode": "standard",
    "modelScaleMetric": "cpu",
    "modelScaleTarget": 50,
}

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'https://10.0.0.1:6443'}}]
contexts: [{name: my-cluster, context: {cluster: c, user: u}}]
current-context: my-cluster
users: [{name: u, user: {token: not-a-real-token}}]
"""


@pytest.fixture
def home_with_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home directory whose ~/.kube/config has the context stacks/Pulumi.existing.yaml names."""
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text(KUBECONFIG)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def shipped_config(stack: str) -> dict:
    return (yaml.safe_load(engine.stack_file(stack).read_text()) or {}).get("config") or {}


def test_every_shipped_stack_file_has_a_first_run_test():
    assert engine.shipped_stacks() == sorted(FIRST_RUN), "a new stacks/Pulumi.*.yaml needs its FIRST_RUN entry here"


@pytest.mark.parametrize("stack", sorted(FIRST_RUN))
def test_the_readme_says_what_a_first_run_adds(stack: str):
    assert FIRST_RUN[stack][1] in README


@pytest.mark.parametrize("stack", sorted(FIRST_RUN))
def test_a_shipped_stack_file_holds_only_declared_keys(stack: str):
    ours = {key.split(":", 1)[1] for key in shipped_config(stack) if key.startswith("servebox:")}
    assert ours <= set(config.config_schema()), ours - set(config.config_schema())


@pytest.mark.parametrize("stack", sorted(FIRST_RUN))
def test_a_shipped_stack_plans_clean_as_shipped(stack: str, home_with_kubeconfig: Path):
    additions, _ = FIRST_RUN[stack]
    shipped = run_program(additions, stack=stack)
    # The same stack made by hand: `pulumi stack init`, then only the keys the shipped file sets.
    by_hand = run_program({**shipped_config(stack), **additions}, stack=stack, from_stack_file=False)
    assert plan(shipped) == plan(by_hand)
    assert shipped.outputs["target"] == (shipped_config(stack).get("servebox:target") or "kind")
    assert shipped.outputs["endpoint"].startswith("http://")


def plan(run: ProgramRun) -> list[tuple[str, str, str | None]]:
    return sorted((resource.type, resource.name, resource.parent) for resource in run.resources.values())


def test_the_kind_stack_as_shipped_gets_every_default():
    settings = project_settings("kind", public_ipv4=lambda: FAKE_PUBLIC_IPV4)
    assert settings.target is config.Target.KIND
    assert (settings.kind.host_port, settings.kind.store_host_port) == (8080, 8081)
    assert settings.vm is None and settings.gcp is None and settings.existing is None
    assert settings.serve_sample and settings.own_models == ()


def test_the_kind_stack_with_seldon_plans_clean():
    run = run_program({"serving": "seldon"}, stack="kind")
    assert run.outputs["serving"] == "seldon"


def _other_targets_keys(target: config.Target) -> list[str]:
    return sorted(key for key, targets in config.KEY_TARGETS.items() if target not in targets)


def test_every_target_or_serving_key_has_a_non_default_value_here():
    scoped = set(config.KEY_TARGETS) | set(config.KEY_SERVING)
    assert set(NON_DEFAULT) == scoped
    schema = config.config_schema()
    for key, value in NON_DEFAULT.items():
        assert str(value).lower() != str(schema[key].default).lower(), key


SCOPED_STACKS = {
    "kind": ({}, config.Target.KIND),
    "gcp": ({"gcp:project": FAKE_GCP_PROJECT}, config.Target.GCP),
    "aws": ({"aws:region": "us-east-1"}, config.Target.AWS),
    "existing": ({}, config.Target.EXISTING),
}


@pytest.mark.parametrize("stack", sorted(SCOPED_STACKS))
def test_another_targets_key_left_at_its_default_is_no_choice(stack: str, home_with_kubeconfig: Path):
    additions, target = SCOPED_STACKS[stack]
    schema = config.config_schema()
    # What `pulumi config set KEY <its default>` writes: the same as the CLI's merge would have.
    defaults = {key: str(schema[key].default).lower() if isinstance(schema[key].default, bool) else str(schema[key].default)
                for key in _other_targets_keys(target)}
    project_settings(stack, {**additions, **defaults}, environ={}, public_ipv4=lambda: FAKE_PUBLIC_IPV4)


@pytest.mark.parametrize(
    ("stack", "key"),
    [(stack, key) for stack, (_, target) in sorted(SCOPED_STACKS.items()) for key in _other_targets_keys(target)],
)
def test_another_targets_key_set_to_another_value_is_refused(stack: str, key: str, home_with_kubeconfig: Path):
    additions, target = SCOPED_STACKS[stack]
    value = NON_DEFAULT[key]
    secret = ("kubeconfig",) if key == "kubeconfig" else ()
    with pytest.raises(config.ConfigError) as error:
        project_settings(stack, {**additions, key: value}, secret_keys=secret, environ={}, public_ipv4=lambda: FAKE_PUBLIC_IPV4)
    given = str(value).lower() if isinstance(value, bool) else str(value)
    names = ", ".join(sorted(t.value for t in config.KEY_TARGETS[key]))
    assert error.value.problems == [
        f"{key}: got {given!r}, but it applies to target {names} only and this stack's target is {target.value}; "
        f"allowed: unset on {target.value} stacks. Fix: pulumi config rm {key}"
    ]


def test_the_exact_message_for_a_gcp_key_on_the_kind_stack():
    with pytest.raises(config.ConfigError) as error:
        project_settings("kind", {"gcpMachineType": "n2d-standard-4"})
    assert error.value.problems == [
        "gcpMachineType: got 'n2d-standard-4', but it applies to target gcp only and this stack's target is kind; "
        "allowed: unset on kind stacks. Fix: pulumi config rm gcpMachineType"
    ]


@pytest.mark.parametrize("key", sorted(config.KEY_SERVING))
def test_a_kserve_key_on_a_seldon_stack_is_refused_only_when_not_its_default(key: str, home_with_kubeconfig: Path):
    # On existing, where every target key applies: only the serving rule speaks.
    schema = config.config_schema()
    default = schema[key].default
    here = {"public_ipv4": lambda: FAKE_PUBLIC_IPV4}
    project_settings("existing", {"serving": "seldon", key: str(default).lower() if isinstance(default, bool) else str(default)}, **here)
    with pytest.raises(config.ConfigError) as error:
        project_settings("existing", {"serving": "seldon", key: NON_DEFAULT[key]}, **here)
    given = str(NON_DEFAULT[key]).lower() if isinstance(NON_DEFAULT[key], bool) else str(NON_DEFAULT[key])
    problems = [p for p in error.value.problems if p.startswith(f"{key}:")]
    assert problems == [
        f"{key}: got {given!r}, but it applies to serving kserve only and this stack's serving is seldon; "
        f"allowed: unset on seldon stacks. Fix: pulumi config rm {key}"
    ]


def test_install_knative_in_standard_mode_is_judged_by_value(home_with_kubeconfig: Path):
    project_settings("existing", {"deploymentMode": "standard"}, public_ipv4=lambda: FAKE_PUBLIC_IPV4)
    with pytest.raises(config.ConfigError) as error:
        project_settings("existing", {"deploymentMode": "standard", "installKnative": False}, public_ipv4=lambda: FAKE_PUBLIC_IPV4)
    assert error.value.problems == [
        "installKnative: got 'false', but deploymentMode standard installs no Knative; allowed: unset with "
        "deploymentMode standard. Fix: pulumi config rm installKnative"
    ]
