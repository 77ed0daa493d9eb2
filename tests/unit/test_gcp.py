"""The gcp target under mocks: exact resources, parents, dependency edges, and each security
property as its own assertion; its bad configs with their exact messages.

The mocks answer as the clouds would in shape (tests/harness.py: an ephemeral IP, a resolved image,
a service account email, k3s's kubeconfig over SSH). Not proven here: that Compute Engine, IAM and
GCS accept these inputs, that the VM boots and k3s installs; the cloud-init itself is checked in
test_cloud_init.py, the keyless read path in tests/model/test_storage_pull_gcs.py.
"""

from __future__ import annotations

import json

import pytest

from components import outputs, versions
from components.config import ConfigError
from tests import harness
from tests.engine import project_settings
from tests.harness import (
    FAKE_GCP_PROJECT,
    FAKE_IMAGE,
    FAKE_SSH_PUBLIC_KEY,
    FAKE_STATIC_IP,
    ProgramRun,
    run_program,
)

GCP = harness.GCP_STACK
HERE = f"{harness.FAKE_PUBLIC_IPV4}/32"
INSTANCE = "cluster-vm"
SA_EMAIL = f"servebox-gcp@{FAKE_GCP_PROJECT}.iam.gserviceaccount.com"


# --- Resources, parents, order ----------------------------------------------------------------------


def test_cluster_children_and_their_parents(gcp_run: ProgramRun) -> None:
    for name in ("cluster-allow-model", "cluster-allow-admin", "cluster-node-identity", "cluster-ssh-key", INSTANCE, "cluster-k3s"):
        assert gcp_run[name].parent == "cluster", name
    for name in ("cluster-k3s-kubeconfig", "cluster-k3s-host-key", "cluster-k3s-provider"):
        assert gcp_run[name].parent == "cluster-k3s", name
    assert gcp_run["store-bucket"].parent == "store" and gcp_run.upload("model").parent == "model"


def test_every_cloud_resource_uses_the_one_gcp_provider(gcp_run: ProgramRun) -> None:
    for name, resource in gcp_run.resources.items():
        if resource.type.startswith("gcp:"):
            assert resource.provider and "::gcp::" in resource.provider, name
    provider = gcp_run["gcp"].inputs
    assert (provider["project"], provider["region"], provider["zone"]) == (FAKE_GCP_PROJECT, "us-central1", "us-central1-a")
    assert json.loads(provider["defaultLabels"]) == {"servebox-project": "servebox", "servebox-stack": "gcp"}


def test_the_kubernetes_provider_comes_after_the_kubeconfig_and_serves_platform_and_model(gcp_run: ProgramRun) -> None:
    assert gcp_run["cluster-k3s-provider"].depends_on == ["cluster-k3s-kubeconfig"]
    assert gcp_run["cluster-k3s-kubeconfig"].depends_on == [INSTANCE]
    for name in ("platform-istio-base", "platform-kserve-resources", "model-isvc", "model-namespace"):
        assert "::cluster-k3s-provider::" in gcp_run[name].provider, name


def test_the_vm_waits_for_its_firewall_and_the_model_for_the_bucket_object(gcp_run: ProgramRun) -> None:
    assert set(gcp_run[INSTANCE].depends_on) == {"cluster-allow-model", "cluster-allow-admin", "cluster-deny-others"}
    assert gcp_run.upload("model").depends_on == ["store-reader"]  # readable once it exists
    assert {gcp_run.upload_name(), "platform-kserve-runtime-configs"} <= gcp_run.waits_on("model-isvc")


# --- Security, one property per test -----------------------------------------------------------------


def _rules(run: ProgramRun) -> dict[str, dict]:
    return {r.name: r.inputs for r in run.of_type("gcp:compute/firewall:Firewall")}


def test_ssh_and_the_api_are_open_only_to_this_machine_by_default(gcp_run: ProgramRun) -> None:
    admin = _rules(gcp_run)["cluster-allow-admin"]
    assert admin["sourceRanges"] == [HERE]
    assert admin["allows"] == [{"protocol": "tcp", "ports": ["22", "6443"]}]
    assert admin["direction"] == "INGRESS" and admin["targetTags"] == ["servebox-gcp"]


def test_http_is_open_only_to_this_machine_by_default(gcp_run: ProgramRun) -> None:
    model = _rules(gcp_run)["cluster-allow-model"]
    assert model["sourceRanges"] == [HERE]
    assert model["allows"] == [{"protocol": "tcp", "ports": ["80"]}]


def test_no_rule_opens_anything_to_the_world_by_default(gcp_run: ProgramRun) -> None:
    rules = _rules(gcp_run)
    assert set(rules) == {"cluster-allow-model", "cluster-allow-admin", "cluster-deny-others"}
    assert all("0.0.0.0/0" not in rule["sourceRanges"] for rule in rules.values() if "allows" in rule)
    assert "allows" not in rules["cluster-deny-others"]


def test_explicit_cidrs_override_auto_and_the_world_needs_the_opt_in() -> None:
    run = run_program(
        {**GCP, "adminCidrs": "0.0.0.0/0", "allowWorldAdminAccess": "true", "modelCidrs": "10.0.0.0/8, 192.0.2.0/24"},
        stack="gcp",
        public_ipv4=lambda: pytest.fail("no CIDR is auto: nothing may look the address up"),
    )
    rules = _rules(run)
    assert rules["cluster-allow-admin"]["sourceRanges"] == ["0.0.0.0/0"]
    assert rules["cluster-allow-model"]["sourceRanges"] == ["10.0.0.0/8", "192.0.2.0/24"]


def test_the_vm_runs_as_its_own_service_account_never_the_compute_default(gcp_run: ProgramRun) -> None:
    account = gcp_run[INSTANCE].inputs["serviceAccount"]
    assert account["email"] == SA_EMAIL
    assert "-compute@developer.gserviceaccount.com" not in account["email"]
    assert gcp_run["cluster-node-identity"].inputs["accountId"] == "servebox-gcp"


def test_the_vm_token_is_scoped_to_reading_storage(gcp_run: ProgramRun) -> None:
    assert gcp_run[INSTANCE].inputs["serviceAccount"]["scopes"] == ["https://www.googleapis.com/auth/devstorage.read_only"]


def test_the_only_grant_is_object_viewer_on_the_model_bucket(gcp_run: ProgramRun) -> None:
    grants = [r for r in gcp_run.resources.values() if "iam" in r.type.lower()]
    assert [g.type for g in grants] == ["gcp:storage/bucketIAMMember:BucketIAMMember"]
    grant = grants[0].inputs
    assert grant == {**grant, "role": "roles/storage.objectViewer", "member": f"serviceAccount:{SA_EMAIL}"}
    assert grant["bucket"] == gcp_run.outputs[outputs.BUCKET]


def test_no_project_level_or_basic_role_anywhere(gcp_run: ProgramRun) -> None:
    assert not [r for r in gcp_run.resources.values() if r.type.startswith("gcp:projects/")]
    text = json.dumps([r.inputs for r in gcp_run.resources.values()], default=str)
    for basic in ("roles/owner", "roles/editor", "roles/viewer"):
        assert basic not in text


def test_no_service_account_key_exists(gcp_run: ProgramRun) -> None:
    assert not gcp_run.of_type("gcp:serviceaccount/key:Key")
    assert not [r for r in gcp_run.resources.values() if "hmac" in r.type.lower()]


def test_the_predictor_carries_no_credentials_at_all(gcp_run: ProgramRun) -> None:
    account = gcp_run["model-service-account"].inputs
    assert account.get("secrets") is None and account["automountServiceAccountToken"] is False
    assert not gcp_run.of_type("kubernetes:core/v1:Secret")
    assert gcp_run.outputs[outputs.MODEL_URI].startswith(f"gs://{gcp_run.outputs[outputs.BUCKET]}/mnist/")


def test_the_bucket_is_private_uniform_and_destroyable(gcp_run: ProgramRun) -> None:
    bucket = gcp_run["store-bucket"].inputs
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["forceDestroy"] is True
    assert bucket["location"] == "US-CENTRAL1"  # the VM's region: no egress charge
    assert bucket["name"] == f"{FAKE_GCP_PROJECT}-servebox-gcp-models"


def test_the_vm_is_shielded(gcp_run: ProgramRun) -> None:
    assert gcp_run[INSTANCE].inputs["shieldedInstanceConfig"] == {
        "enableSecureBoot": True,
        "enableVtpm": True,
        "enableIntegrityMonitoring": True,
    }


def test_the_metadata_holds_user_data_and_this_stacks_key_only(gcp_run: ProgramRun) -> None:
    metadata = gcp_run[INSTANCE].inputs["metadata"]
    assert set(metadata) == {"user-data", "ssh-keys", "block-project-ssh-keys", "enable-oslogin", "serial-port-enable"}
    assert metadata["ssh-keys"] == f"ubuntu:{FAKE_SSH_PUBLIC_KEY} servebox"
    assert (metadata["block-project-ssh-keys"], metadata["enable-oslogin"], metadata["serial-port-enable"]) == (
        "TRUE",
        "FALSE",
        "FALSE",
    )


def test_nothing_secret_is_in_the_metadata(gcp_run: ProgramRun) -> None:
    text = json.dumps(gcp_run[INSTANCE].inputs["metadata"])
    assert "PRIVATE KEY" not in text and "client-key-data" not in text
    assert not [value for value in gcp_run[INSTANCE].inputs["metadata"].values() if isinstance(value, dict)]  # no secret wrapper


def test_the_image_is_ubuntu_2404_resolved_once_and_kept(gcp_run: ProgramRun) -> None:
    params = gcp_run[INSTANCE].inputs["bootDisk"]["initializeParams"]
    assert params == {"image": FAKE_IMAGE, "size": 30, "type": "pd-balanced"}
    assert gcp_run[INSTANCE].inputs["bootDisk"]["autoDelete"] is True
    assert "bootDisk.initializeParams.image" in gcp_run[INSTANCE].options.ignore_changes


def test_machine_type_zone_and_labels(gcp_run: ProgramRun) -> None:
    instance = gcp_run[INSTANCE].inputs
    assert (instance["machineType"], instance["zone"]) == ("e2-standard-2", "us-central1-a")
    assert instance["labels"] == {
        "servebox-project": "servebox",
        "servebox-stack": "gcp",
        "servebox-expires-at": "2026-12-01t17-30z",
    }
    assert 'labels["servebox-expires-at"]' in gcp_run[INSTANCE].options.ignore_changes


def test_the_ttl_deletes_the_vm_after_eight_hours_by_default(gcp_run: ProgramRun) -> None:
    scheduling = gcp_run[INSTANCE].inputs["scheduling"]
    assert scheduling["maxRunDuration"] == {"seconds": 8 * 3600}
    assert scheduling["instanceTerminationAction"] == "DELETE"
    assert scheduling["provisioningModel"] == "STANDARD"
    assert gcp_run[INSTANCE].inputs["desiredStatus"] == "RUNNING"  # a stopped VM is started by the next up
    assert gcp_run.outputs[outputs.EXPIRES_AT] == "2026-12-01T17:30:00Z"


def test_no_ttl_means_no_run_duration_and_no_expiry() -> None:
    run = run_program({**GCP, "vmTtlHours": "0"}, stack="gcp")
    scheduling = run[INSTANCE].inputs["scheduling"]
    assert "maxRunDuration" not in scheduling and "instanceTerminationAction" not in scheduling
    assert run.outputs[outputs.EXPIRES_AT] is None
    assert run[INSTANCE].inputs["labels"]["servebox-expires-at"] == "never"


def test_spot_static_ip_own_network_and_stop() -> None:
    variant = run_program(
        {**GCP, "gcpStaticIp": "true", "gcpNetwork": "create", "vmSpot": "true", "vmTerminationAction": "stop"},
        stack="gcp",
    )
    scheduling = variant[INSTANCE].inputs["scheduling"]
    assert scheduling == {
        "provisioningModel": "SPOT",
        "preemptible": True,
        "automaticRestart": False,
        "onHostMaintenance": "TERMINATE",
        "instanceTerminationAction": "STOP",
        "maxRunDuration": {"seconds": 28800},
    }
    address = variant["cluster-address"].inputs
    assert (address["addressType"], address["region"]) == ("EXTERNAL", "us-central1")
    (interface,) = variant[INSTANCE].inputs["networkInterfaces"]
    assert interface["accessConfigs"] == [{"natIp": FAKE_STATIC_IP}]
    assert variant.outputs[outputs.INGRESS_ADDRESS] == f"{FAKE_STATIC_IP}:80"
    subnet = variant["cluster-subnet"].inputs
    assert (subnet["region"], subnet["ipCidrRange"]) == ("us-central1", "10.128.64.0/24")
    assert variant["cluster-network"].inputs["autoCreateSubnetworks"] is False
    assert interface["network"] == "cluster-network-id" and interface["subnetwork"] == "cluster-subnet-id"
    assert all(rule["network"] == "cluster-network-id" for rule in _rules(variant).values())


def test_the_default_network_is_the_projects_own(gcp_run: ProgramRun) -> None:
    (interface,) = gcp_run[INSTANCE].inputs["networkInterfaces"]
    assert interface["network"] == "default" and "subnetwork" not in interface
    assert interface["accessConfigs"] == [{}]  # ephemeral: no address asked for, the cloud assigns one
    assert "cluster-address" not in gcp_run.resources


def test_arm_machine_types_get_the_arm64_image() -> None:
    from components.config import gcp_architecture as architecture

    assert [architecture(t) for t in ("e2-standard-2", "t2a-standard-2", "c4a-standard-4", "n2d-standard-2")] == [
        "amd64",
        "arm64",
        "arm64",
        "amd64",
    ]
    assert versions.GCP_IMAGE_FAMILIES["arm64"] == "ubuntu-2404-lts-arm64"


# --- Bad configs, refused before any resource ---------------------------------------------------------


def _problems(raw: dict, *, provider: dict | None = None, public_ipv4=lambda: harness.FAKE_PUBLIC_IPV4) -> list[str]:
    with pytest.raises(ConfigError) as error:
        project_settings(
            "gcp",
            {"target": "gcp", **raw, **({"gcp:project": FAKE_GCP_PROJECT} if provider is None else provider)},
            environ={},
            public_ipv4=public_ipv4,
        )
    return error.value.problems


BAD_GCP = [
    pytest.param(
        {},
        {},
        "gcp:project: not set; allowed: the id of the GCP project to create the VM and the bucket in (or one of "
        "GOOGLE_PROJECT, GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT, CLOUDSDK_CORE_PROJECT in the environment). "
        "Fix: pulumi config set gcp:project <project-id>",
        id="no-gcp-project",
    ),
    pytest.param(
        {},
        {"gcp:project": "My Project"},
        "gcp:project: got 'My Project'; allowed: a GCP project id (6-30 lower-case letters, digits and '-', "
        "starting with a letter). Fix: pulumi config set gcp:project <project-id>",
        id="malformed-gcp-project",
    ),
    pytest.param(
        {"adminCidrs": "10.0.0.300/32"},
        None,
        "adminCidrs: got '10.0.0.300/32'; allowed: auto, or comma-separated IPv4 CIDRs such as 203.0.113.7/32 "
        "('10.0.0.300/32': not an IPv4 CIDR). Fix: pulumi config set adminCidrs auto",
        id="malformed-cidr",
    ),
    pytest.param(
        {"modelCidrs": "192.0.2.0/24, 10.1.2.3/8"},
        None,
        "modelCidrs: got '192.0.2.0/24, 10.1.2.3/8'; allowed: auto, or comma-separated IPv4 CIDRs such as "
        "203.0.113.7/32 ('10.1.2.3/8': host bits are set). Fix: pulumi config set modelCidrs auto",
        id="cidr-with-host-bits",
    ),
    pytest.param(
        {"gcpMachineType": "e2_standard_2"},
        None,
        "gcpMachineType: got 'e2_standard_2'; allowed: a Compute Engine machine type such as e2-standard-2, "
        "n2d-standard-4 or t2a-standard-2. Fix: pulumi config set gcpMachineType e2-standard-2",
        id="malformed-machine-type",
    ),
    pytest.param(
        {"vmTtlHours": "721"},
        None,
        "vmTtlHours: got '721'; allowed: a whole number from 0 to 720. Fix: pulumi config set vmTtlHours 8",
        id="ttl-out-of-range",
    ),
    pytest.param(
        {"vmTerminationAction": "hibernate"},
        None,
        "vmTerminationAction: got 'hibernate'; allowed: stop, delete. Fix: pulumi config set vmTerminationAction delete",
        id="unknown-termination-action",
    ),
    pytest.param(
        {"kindHostPort": "9090"},
        None,
        "kindHostPort: got '9090', but it applies to target kind only and this stack's target is gcp; allowed: unset "
        "on gcp stacks. Fix: pulumi config rm kindHostPort",
        id="kind-key-on-gcp",
    ),
    pytest.param(
        {"gcpZone": "us-central1"},
        None,
        "gcpZone: got 'us-central1'; allowed: a Compute Engine zone such as us-central1-a. "
        "Fix: pulumi config set gcpZone us-central1-a",
        id="region-for-zone",
    ),
    pytest.param(
        {"gcpDiskSizeGb": "10"},
        None,
        "gcpDiskSizeGb: got '10'; allowed: a whole number from 20 to 500. Fix: pulumi config set gcpDiskSizeGb 30",
        id="disk-too-small",
    ),
]


@pytest.mark.parametrize(("raw", "provider", "message"), BAD_GCP)
def test_bad_gcp_config_is_refused_with_the_exact_message(raw: dict, provider: dict | None, message: str) -> None:
    assert _problems(raw, provider=provider) == [message]


def test_gcp_keys_on_a_kind_stack_are_refused() -> None:
    with pytest.raises(ConfigError) as error:
        project_settings("kind", {"gcpZone": "europe-west4-b", "vmSpot": "true"})
    assert error.value.problems == [
        "gcpZone: got 'europe-west4-b', but it applies to target gcp only and this stack's target is kind; "
        "allowed: unset on kind stacks. Fix: pulumi config rm gcpZone",
        "vmSpot: got 'true', but it applies to target aws, gcp only and this stack's target is kind; "
        "allowed: unset on kind stacks. Fix: pulumi config rm vmSpot",
    ]


def test_a_public_address_that_cannot_be_found_names_each_auto_key_and_the_fix() -> None:
    from components.host import PublicAddressError

    def offline() -> str:
        raise PublicAddressError("https://checkip.amazonaws.com: timed out")

    assert _problems({"modelCidrs": "0.0.0.0/0"}, public_ipv4=offline) == [
        "adminCidrs: got 'auto', but the public IPv4 address of this machine could not be found "
        "(https://checkip.amazonaws.com: timed out); allowed: auto when it can be looked up, or IPv4 CIDRs. "
        "Fix: pulumi config set adminCidrs <your public IP>/32"
    ]


def test_the_project_may_come_from_the_providers_environment() -> None:
    settings = project_settings(
        "gcp",
        {"target": "gcp"},
        environ={"GOOGLE_CLOUD_PROJECT": "from-env-42"},
        public_ipv4=lambda: harness.FAKE_PUBLIC_IPV4,
    )
    assert settings.gcp is not None and settings.gcp.project == "from-env-42"

