"""What both VM targets promise alike, asserted once for each cloud: the outputs a user reads, the
secrets they hold, the one resource `servebox up` refreshes, the smoke test's path through the
public address, and a bad config that stops before any resource.

What each cloud does its own way (firewall or security group, identity, disk, spot) stays in
test_gcp.py and test_aws.py.
"""

from __future__ import annotations

import pytest
import yaml

from components import outputs, versions
from components.config import ConfigError
from servebox import refresh_targets
from tests import harness
from tests.engine import project_settings
from tests.harness import FAKE_EPHEMERAL_IP, FAKE_HOST_KEY, ProgramRun, run_program, secret_value

INSTANCE_TYPES = {
    "gcp": ("servebox:cluster:GcpVmCluster", "gcp:compute/instance:Instance"),
    "aws": ("servebox:cluster:AwsVmCluster", "aws:ec2/instance:Instance"),
}
STACKS = {"gcp": harness.GCP_STACK, "aws": harness.AWS_STACK}
CLOUD_RESOURCES = {
    "gcp": {
        "gcp": "pulumi:providers:gcp",
        "cluster": "servebox:cluster:GcpVmCluster",
        "cluster-allow-model": "gcp:compute/firewall:Firewall",
        "cluster-allow-admin": "gcp:compute/firewall:Firewall",
        "cluster-deny-others": "gcp:compute/firewall:Firewall",
        "cluster-node-identity": "gcp:serviceaccount/account:Account",
        "cluster-ssh-key": "tls:index/privateKey:PrivateKey",
        "cluster-vm": "gcp:compute/instance:Instance",
        **harness.K3S_ACCESS_RESOURCES,
        "store": "servebox:storage:GcsStore",
        "store-bucket": "gcp:storage/bucket:Bucket",
        "store-reader": "gcp:storage/bucketIAMMember:BucketIAMMember",
        "model-upload": "gcp:storage/bucketObject:BucketObject",
    },
    "aws": {
        "aws": "pulumi:providers:aws",
        "cluster": "servebox:cluster:AwsVmCluster",
        "cluster-firewall": "aws:ec2/securityGroup:SecurityGroup",
        "cluster-node-identity": "aws:iam/role:Role",
        "cluster-instance-profile": "aws:iam/instanceProfile:InstanceProfile",
        "cluster-ssh-key": "tls:index/privateKey:PrivateKey",
        "cluster-key-pair": "aws:ec2/keyPair:KeyPair",
        "cluster-vm": "aws:ec2/instance:Instance",
        **harness.K3S_ACCESS_RESOURCES,
        "store": "servebox:storage:S3Store",
        "store-bucket": "aws:s3/bucket:Bucket",
        "store-public-access-block": "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "store-encryption": "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "store-ownership": "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "store-reader": "aws:iam/rolePolicy:RolePolicy",
        "model-upload": "aws:s3/bucketObjectv2:BucketObjectv2",
    },
}


@pytest.fixture(params=sorted(STACKS))
def cloud(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def run(cloud: str, request: pytest.FixtureRequest) -> ProgramRun:
    return request.getfixturevalue(f"{cloud}_run")


def test_the_target_registers_exactly_these_cloud_resources(cloud: str, run: ProgramRun) -> None:
    assert run.cloud_resources() == CLOUD_RESOURCES[cloud]
    # No MinIO on a VM: the bucket is the cloud's, and nothing in the cluster holds model data.
    assert not [r for r in run.resources.values() if r.type.startswith(("minio:", "gcp:" if cloud == "aws" else "aws:"))]
    assert "model-storage-credentials" not in run.resources


def test_outputs_name_the_public_address_on_port_80(cloud: str, run: ProgramRun) -> None:
    out = run.outputs
    assert list(out) == list(outputs.ALL_OUTPUTS)
    assert (out[outputs.TARGET], out[outputs.INGRESS_ADDRESS]) == (cloud, f"{FAKE_EPHEMERAL_IP}:80")
    assert out[outputs.ENDPOINT] == f"http://mnist.models.{FAKE_EPHEMERAL_IP}.sslip.io"  # no port on 80
    assert out[outputs.INFER_URL] == f"http://mnist.models.{FAKE_EPHEMERAL_IP}.sslip.io/v2/models/mnist/infer"
    assert (out[outputs.SSH], out[outputs.KUBE_CONTEXT]) == (f"scripts/ssh.sh {cloud}", f"servebox-{cloud}")
    assert out[outputs.SSH_HOST_KEY] == FAKE_HOST_KEY
    assert out[outputs.VERSIONS] == versions.summary(on_vm=True)
    assert out[outputs.VERSIONS]["k3s"] == versions.K3S.version


def test_the_kubeconfig_and_the_ssh_key_are_secret_everywhere(run: ProgramRun) -> None:
    assert run.secret_outputs == {outputs.KUBECONFIG, outputs.SSH_PRIVATE_KEY}
    assert "stdout" in run["cluster-k3s-kubeconfig"].options.additional_secret_outputs
    assert run["cluster-k3s-kubeconfig"].inputs["logging"] == "stderr"
    secret_value(run["cluster-k3s-provider"].inputs["kubeconfig"])
    probe_env = secret_value(run["platform-kserve-webhook-ready"].inputs["environment"])
    assert "server: https://" in probe_env["SERVEBOX_KUBECONFIG"]
    for name in ("cluster-k3s-kubeconfig", "cluster-k3s-host-key"):
        # The whole connection is secret once the key in it is.
        connection = secret_value(run[name].inputs["connection"])
        assert "PRIVATE KEY" in connection["privateKey"]
        assert (connection["host"], connection["user"]) == (FAKE_EPHEMERAL_IP, "ubuntu")


def test_the_kubeconfig_points_at_the_public_address_under_the_stacks_name(cloud: str, run: ProgramRun) -> None:
    config = yaml.safe_load(run.outputs[outputs.KUBECONFIG])
    assert config["clusters"][0]["cluster"]["server"] == f"https://{FAKE_EPHEMERAL_IP}:6443"
    assert config["current-context"] == run.outputs[outputs.KUBE_CONTEXT] == f"servebox-{cloud}"


def test_a_new_vm_means_a_new_cluster_for_the_kubernetes_provider(run: ProgramRun) -> None:
    provider = run["cluster-k3s-provider"].inputs
    assert provider["clusterIdentifier"] == "cluster-vm-id"
    assert provider["deleteUnreachable"] == "true"


def test_the_gateway_is_a_loadbalancer_served_by_servicelb(run: ProgramRun) -> None:
    assert run["platform-istio-gateway"].inputs["values"]["service"] == {"type": "LoadBalancer"}


def test_the_smoke_test_goes_through_the_public_address_on_port_80(run: ProgramRun) -> None:
    command = run["model-smoke-test"].inputs["create"]
    assert f"--url http://{FAKE_EPHEMERAL_IP}/v2/models/mnist/infer --protocol v2" in command


def test_up_refreshes_exactly_the_instance_the_program_registers(cloud: str, run: ProgramRun) -> None:
    component, instance = INSTANCE_TYPES[cloud]
    vm = run["cluster-vm"]
    assert (vm.type, run[vm.parent].type) == (instance, component)
    assert refresh_targets.refresh_targets(cloud) == [f"urn:pulumi:{cloud}::servebox::{component}${instance}::cluster-vm"]
    assert refresh_targets.refresh_targets("kind") == []


def test_no_ttl_means_no_expiry(cloud: str) -> None:
    assert run_program({**STACKS[cloud], "vmTtlHours": "0"}, stack=cloud).outputs[outputs.EXPIRES_AT] is None


def test_a_bad_config_registers_no_resource(cloud: str) -> None:
    with pytest.raises(Exception, match="servebox configuration has 1 problem"):
        run_program({**STACKS[cloud], "vmTtlHours": "-1"}, stack=cloud)
    assert harness.LAST_REGISTRATIONS == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(
            {"adminCidrs": "0.0.0.0/0"},
            "adminCidrs: got '0.0.0.0/0', networks that together hold 3,702,258,688 public addresses; allowed: "
            "networks that together hold at most 16,777,216 (a /8) unless allowWorldAdminAccess is true (it would "
            "open SSH and the Kubernetes API of the VM to the whole internet). Fix: pulumi config set adminCidrs auto",
            id="world-open-admin",
        ),
        pytest.param(
            {"adminCidrs": "0.0.0.0/1,128.0.0.0/1"},
            "adminCidrs: got '0.0.0.0/1,128.0.0.0/1', networks that together hold 3,702,258,688 public addresses; "
            "allowed: networks that together hold at most 16,777,216 (a /8) unless allowWorldAdminAccess is true (it "
            "would open SSH and the Kubernetes API of the VM to the whole internet). Fix: pulumi config set adminCidrs auto",
            id="world-split-in-halves",
        ),
        pytest.param(
            {"adminCidrs": "20.0.0.0/8, 21.0.0.0/8"},
            "adminCidrs: got '20.0.0.0/8, 21.0.0.0/8', networks that together hold 33,554,432 public addresses; "
            "allowed: networks that together hold at most 16,777,216 (a /8) unless allowWorldAdminAccess is true (it "
            "would open SSH and the Kubernetes API of the VM to much of the internet). Fix: pulumi config set adminCidrs auto",
            id="two-public-slash-eights",
        ),
    ],
)
def test_bad_vm_config_is_refused_with_the_exact_message(cloud: str, raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        project_settings(cloud, {**STACKS[cloud], **raw}, environ={}, public_ipv4=lambda: harness.FAKE_PUBLIC_IPV4)
    assert error.value.problems == [message]


@pytest.mark.parametrize(
    "cidrs", ["10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16", "100.0.0.0/8", "203.0.113.0/24, 198.51.100.0/24"]
)
def test_private_space_or_at_most_a_slash_eight_of_public_space_is_no_world(cloud: str, cidrs: str) -> None:
    settings = project_settings(
        cloud, {**STACKS[cloud], "adminCidrs": cidrs}, environ={}, public_ipv4=lambda: harness.FAKE_PUBLIC_IPV4
    )
    assert settings.vm is not None and settings.vm.admin_cidrs == tuple(c.strip() for c in cidrs.split(","))
    assert settings.warnings == ()


def test_the_world_may_reach_the_model_with_a_warning_at_every_up(cloud: str) -> None:
    run = run_program({**STACKS[cloud], "modelCidrs": "0.0.0.0/1, 128.0.0.0/1"}, stack=cloud)
    assert run["cluster-vm"]  # planned, not refused
    assert run.warnings == [
        "modelCidrs: '0.0.0.0/1, 128.0.0.0/1' opens the model's HTTP endpoint to 3,702,258,688 public "
        "addresses; anyone among them can send it predictions (each request must carry the stack's API key). "
        "Narrow it unless that is the point: pulumi config set modelCidrs auto"
    ]
    assert outputs.API_KEY in run.secret_outputs and len(run.outputs[outputs.API_KEY]) == 32


def test_a_model_open_only_to_this_machine_warns_of_nothing(run: ProgramRun) -> None:
    assert run.warnings == []
