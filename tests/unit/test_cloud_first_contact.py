"""What the clouds' APIs refuse that mocks accept: each input the program sends checked against the rule
the real API applies, with the rule's source named.

Mocks return whatever they are given, so a machine type that takes no Persistent Disk, a scheduling
block the API rejects or a label value with a capital letter would plan here and fail at `pulumi up`.
What this cannot prove: a rule the sources below do not state; a real `pulumi up` on each cloud is the
only full proof.
"""

from __future__ import annotations

import re

import pytest

from tests.harness import FAKE_GCP_PROJECT, ProgramRun, run_program

GCP = {"target": "gcp", "gcp:project": FAKE_GCP_PROJECT}
AWS = {"target": "aws", "aws:region": "us-east-1"}
INSTANCE = "cluster-vm"


def _gcp(**config) -> ProgramRun:
    return run_program({**GCP, **config}, stack="gcp")


@pytest.fixture(scope="module")
def gcp_run() -> ProgramRun:
    return _gcp()


@pytest.fixture(scope="module")
def aws_run() -> ProgramRun:
    return run_program(AWS, stack="aws")


# --- boot disk: Hyperdisk-only machine series ------------------------------------------------------
# terraform-provider-google #20247 (c4a "doesn't support persistent disks"); linux-kdevops/kdevops #77
# ("C4, C4A, N4 require Hyperdisk for boot disks; they do not support ... pd-balanced");
# nextflow-io/nextflow #6614 (C4, C4D, C4A, N4, N4D, N4A: hyperdisk-balanced, -high-availability,
# -throughput only; C3 and C3D still take Persistent Disk).


@pytest.mark.parametrize(
    ("machine_type", "disk_type"),
    [
        ("e2-standard-2", "pd-balanced"),
        ("n2d-standard-4", "pd-balanced"),
        ("t2a-standard-2", "pd-balanced"),
        ("c3-standard-4", "pd-balanced"),
        ("c4-standard-2", "hyperdisk-balanced"),
        ("c4a-standard-2", "hyperdisk-balanced"),
        ("c4d-standard-2", "hyperdisk-balanced"),
        ("n4-standard-2", "hyperdisk-balanced"),
        ("n4a-standard-2", "hyperdisk-balanced"),
        ("n4d-standard-2", "hyperdisk-balanced"),
    ],
)
def test_the_boot_disk_is_a_type_the_machine_series_takes(machine_type: str, disk_type: str) -> None:
    run = _gcp(gcpMachineType=machine_type)
    assert run[INSTANCE].inputs["bootDisk"]["initializeParams"]["type"] == disk_type


def test_axion_series_get_the_arm64_image() -> None:
    from components.config import gcp_architecture

    assert [gcp_architecture(t) for t in ("c4a-standard-2", "n4a-standard-2", "n4d-standard-2")] == ["arm64", "arm64", "amd64"]


# --- scheduling: what Compute Engine accepts with a run duration -----------------------------------
# limit-vm-runtime "Restrictions" (https://cloud.google.com/compute/docs/instances/limit-vm-runtime):
# the action is STOP or DELETE, 30 s to 120 days, not legacy preemptible VMs (Spot instead), local
# SSD data is not kept on stop; nothing about automaticRestart or onHostMaintenance. e2 refuses
# TERMINATE on standard capacity: "e2 instances do not support onHostMaintenance=TERMINATE unless
# they are preemptible" (chainguard-dev/terraform-infra-common #935; scylladb/scylla-cluster-tests
# #15553 keeps e2 on MIGRATE for that reason). The provider's own acceptance tests choose
# automatic_restart false; that is their choice, not the API's rule.


def test_a_standard_vm_with_a_ttl_live_migrates_and_restarts(gcp_run: ProgramRun) -> None:
    scheduling = gcp_run[INSTANCE].inputs["scheduling"]
    assert scheduling == {
        "provisioningModel": "STANDARD",
        "automaticRestart": True,
        "onHostMaintenance": "MIGRATE",
        "instanceTerminationAction": "DELETE",
        "maxRunDuration": {"seconds": 8 * 3600},
    }
    assert 30 <= scheduling["maxRunDuration"]["seconds"] <= 120 * 24 * 3600


def test_the_longest_ttl_fits_the_apis_limit() -> None:
    scheduling = _gcp(vmTtlHours=720)[INSTANCE].inputs["scheduling"]
    assert scheduling["maxRunDuration"]["seconds"] == 720 * 3600 <= 120 * 24 * 3600


def test_a_spot_vm_terminates_on_maintenance_and_never_restarts_itself() -> None:
    scheduling = _gcp(vmSpot=True)[INSTANCE].inputs["scheduling"]
    assert scheduling == {
        "provisioningModel": "SPOT",
        "preemptible": True,
        "automaticRestart": False,
        "onHostMaintenance": "TERMINATE",
        "instanceTerminationAction": "DELETE",
        "maxRunDuration": {"seconds": 8 * 3600},
    }


def test_no_ttl_sends_no_termination_action() -> None:
    assert _gcp(vmTtlHours=0)[INSTANCE].inputs["scheduling"] == {
        "provisioningModel": "STANDARD",
        "automaticRestart": True,
        "onHostMaintenance": "MIGRATE",
    }


# --- names and labels ------------------------------------------------------------------------------
# Labels: keys 1-63 characters, lower-case letters, digits, '_' and '-', starting with a letter;
# values 0-63 of the same (https://cloud.google.com/compute/docs/labeling-resources#requirements).
# Compute resource names: RFC 1035, [a-z]([-a-z0-9]{0,61}[a-z0-9])?. Service account ids: 6-30
# characters of the same shape (iam.serviceAccounts.create). Bucket names: 3-63 of [a-z0-9._-],
# starting and ending with a letter or digit (https://cloud.google.com/storage/docs/buckets#naming).
_LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")
_RFC1035 = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]")


@pytest.mark.parametrize("config", [{}, {"gcpNetwork": "create", "gcpStaticIp": True, "vmSpot": True}])
def test_every_gcp_name_and_label_is_one_the_api_accepts(config: dict) -> None:
    run = _gcp(**config)
    checked = 0
    for resource in run.resources.values():
        if not resource.type.startswith("gcp:"):
            continue
        inputs = resource.inputs
        for key, value in (inputs.get("labels") or {}).items():
            assert _LABEL_KEY.fullmatch(key) and _LABEL_VALUE.fullmatch(value), (resource.name, key, value)
            checked += 1
        if resource.type == "gcp:storage/bucket:Bucket":
            assert _BUCKET.fullmatch(inputs["name"]), inputs["name"]
        elif resource.type == "gcp:serviceaccount/account:Account":
            assert 6 <= len(inputs["accountId"]) <= 30 and _RFC1035.fullmatch(inputs["accountId"])
        elif resource.type.startswith("gcp:compute/") and "name" in inputs:
            assert _RFC1035.fullmatch(inputs["name"]), (resource.type, inputs["name"])
    assert checked > 0


# AWS: S3 bucket names 3-63 of [a-z0-9.-] (bucket_prefix: at most 37, the provider adds 26);
# IAM role and instance profile names at most 64 / 128 of [\w+=,.@-]
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html,
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html).
def test_every_aws_name_is_one_the_api_accepts(aws_run: ProgramRun) -> None:
    kinds = set()
    for resource in aws_run.resources.values():
        inputs = resource.inputs
        if resource.type == "aws:s3/bucket:Bucket":
            assert len(inputs["bucketPrefix"]) <= 37 and re.fullmatch(r"[a-z0-9][a-z0-9.-]*", inputs["bucketPrefix"])
            kinds.add("bucket")
        if resource.type == "aws:iam/role:Role":
            assert len(inputs["name"]) <= 64 and re.fullmatch(r"[\w+=,.@-]+", inputs["name"])
            kinds.add("role")
        if resource.type == "aws:iam/instanceProfile:InstanceProfile":
            assert len(inputs["name"]) <= 128 and re.fullmatch(r"[\w+=,.@-]+", inputs["name"])
            kinds.add("profile")
    assert kinds == {"bucket", "role", "profile"}
