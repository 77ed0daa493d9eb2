"""Each policy of the pack on resources that pass and resources that fail, and on every resource
the program plans for each kind of stack (dumped by tests/unit/test_policy_pack.py, which runs
this file in the pack's own venv). Props reach a policy as the engine sends them: the dumps hold
the program's registered inputs in the wire form, read with the SDK's own deserialize_properties."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import servebox_policies as policies  # noqa: E402

PLANS = os.environ.get("SERVEBOX_PLANNED_RESOURCES")


def _options() -> PolicyResourceOptions:
    timeouts = PolicyCustomTimeouts(0, 0, 0)
    return PolicyResourceOptions(False, [], None, [], timeouts, [])


def _violations(validate, resource_type: str, props: dict, name: str = "r") -> list[str]:
    found: list[str] = []
    args = ResourceValidationArgs(resource_type, props, f"urn:pulumi:s::p::{resource_type}::{name}", name, _options(), None)
    validate(args, lambda message, urn=None: found.append(message))
    return found


def _stack_violations(resources: list[tuple[str, dict]]) -> list[str]:
    found: list[str] = []
    stack = StackValidationArgs([
        PolicyResource(t, p, f"urn:pulumi:s::p::{t}::r{i}", f"r{i}", _options(), None, None, [], {})
        for i, (t, p) in enumerate(resources)
    ])
    policies.network_policy_present(stack, lambda message, urn=None: found.append(message))
    return found


FIREWALL = "gcp:compute/firewall:Firewall"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"


@pytest.mark.parametrize(
    ("resource_type", "props", "violations"),
    [
        (FIREWALL, {"allows": [{"protocol": "tcp", "ports": ["22", "6443"]}], "sourceRanges": ["198.51.100.7/32"]}, 0),
        (FIREWALL, {"allows": [{"protocol": "tcp", "ports": ["80"]}], "sourceRanges": ["0.0.0.0/0"]}, 0),
        (FIREWALL, {"denies": [{"protocol": "all"}], "sourceRanges": ["0.0.0.0/0"]}, 0),
        (FIREWALL, {"allows": [{"protocol": "tcp", "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"]}, 1),
        (FIREWALL, {"allows": [{"protocol": "tcp", "ports": ["1-65535"]}], "sourceRanges": ["0.0.0.0/1", "128.0.0.0/1"]}, 1),
        (FIREWALL, {"allows": [{"protocol": "all"}], "sourceRanges": ["20.0.0.0/7"]}, 1),
        (SECURITY_GROUP, {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["198.51.100.7/32"]}]}, 0),
        (SECURITY_GROUP, {"ingress": [{"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"]}]}, 0),
        (SECURITY_GROUP, {"ingress": [{"protocol": "tcp", "fromPort": 6443, "toPort": 6443, "cidrBlocks": ["0.0.0.0/0"]}]}, 1),
        (SECURITY_GROUP, {"ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]}, 1),
    ],
)
def test_no_world_open_admin_port(resource_type: str, props: dict, violations: int) -> None:
    assert len(_violations(policies.no_world_open_admin_port, resource_type, props)) == violations


@pytest.mark.parametrize("resource_type", policies.KEY_TYPES)
def test_no_long_lived_cloud_key(resource_type: str) -> None:
    assert _violations(policies.no_long_lived_cloud_key, resource_type, {}) == [
        f"{resource_type} r is a long-lived key; read through an identity instead"
    ]
    assert _violations(policies.no_long_lived_cloud_key, "gcp:serviceaccount/account:Account", {}) == []


@pytest.mark.parametrize(
    ("resource_type", "props", "violations"),
    [
        ("gcp:compute/instance:Instance", {"metadata": {"user-data": "#cloud-config\n", "ssh-keys": "ubuntu:ssh-ed25519 AAAA x"}}, 0),
        ("gcp:compute/instance:Instance", {"metadata": {"user-data": "-----BEGIN OPENSSH PRIVATE KEY-----\nx"}}, 1),
        ("aws:ec2/instance:Instance", {"userData": "#cloud-config\nwrite_files: []\n"}, 0),
        ("aws:ec2/instance:Instance", {"userData": "export AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP"}, 1),
        ("aws:ec2/instance:Instance", {"userData": "users:\n- client-key-data: LS0t"}, 1),
    ],
)
def test_no_secret_in_instance_metadata(resource_type: str, props: dict, violations: int) -> None:
    assert len(_violations(policies.no_secret_in_instance_metadata, resource_type, props)) == violations


HARDENED_CONTAINER = {
    "name": "minio",
    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True},
}
HARDENED_POD = {"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}, "containers": [HARDENED_CONTAINER]}


def test_restricted_security_context_on_workloads() -> None:
    deployment = "kubernetes:apps/v1:Deployment"
    assert _violations(policies.restricted_security_context, deployment, {"spec": {"template": {"spec": HARDENED_POD}}}) == []
    loose = {"spec": {"template": {"spec": {"containers": [{"name": "app"}]}}}}
    assert _violations(policies.restricted_security_context, deployment, loose, name="app") == [
        "app: no seccompProfile RuntimeDefault; runAsNonRoot is not true; container app: allowPrivilegeEscalation is not "
        "false; container app: capabilities are not all dropped; container app: the root filesystem is writable"
    ]


def test_restricted_security_context_on_models() -> None:
    isvc = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
    model = {"securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}
    good = {"spec": {"predictor": {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "model": model}}}
    assert _violations(policies.restricted_security_context, isvc, good) == []
    assert len(_violations(policies.restricted_security_context, isvc, {"spec": {"predictor": {"model": {}}}})) == 1


def test_network_policy_present() -> None:
    deployment = ("kubernetes:apps/v1:Deployment", {"metadata": {"namespace": "model-store"}})
    deny = ("kubernetes:networking.k8s.io/v1:NetworkPolicy", {"metadata": {"namespace": "model-store"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
    allow_all = ("kubernetes:networking.k8s.io/v1:NetworkPolicy", {"metadata": {"namespace": "model-store"},
                 "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [{}]}})
    assert _stack_violations([deployment, deny]) == []
    assert _stack_violations([deployment, allow_all]) == [
        "namespace model-store runs the stack's pods but has no deny-all NetworkPolicy"
    ]
    assert len(_stack_violations([deployment])) == 1


# --- the program's own plans -----------------------------------------------------------------------


def _plans() -> dict[str, list[tuple[str, dict]]]:
    if not PLANS:
        pytest.skip("SERVEBOX_PLANNED_RESOURCES is not set (tests/unit/test_policy_pack.py sets it)")
    return {
        path.stem: [(r["type"], deserialize_properties(r["inputs"])) for r in json.loads(path.read_text())]
        for path in sorted(Path(PLANS).glob("*.json"))
    }


def test_every_planned_stack_passes_every_policy() -> None:
    plans = _plans()
    assert {"kind", "kind-seldon", "gcp", "aws", "existing"} <= set(plans)
    resource_checks = [p.validate for p in policies.POLICIES if isinstance(p, policies.ResourceValidationPolicy)]
    for variant, resources in plans.items():
        if variant.endswith("-loose"):
            continue
        found = [v for t, props in resources for check in resource_checks for v in _violations(check[0] if isinstance(check, list) else check, t, props)]
        assert found + _stack_violations(resources) == [], variant


def test_the_loose_stacks_are_caught() -> None:
    plans = _plans()
    assert _stack_violations(plans["kind-loose"]) == [
        "namespace model-store runs the stack's pods but has no deny-all NetworkPolicy",
        "namespace models runs the stack's pods but has no deny-all NetworkPolicy",
    ]
    found = [v for t, props in plans["gcp-loose"] for v in _violations(policies.no_world_open_admin_port, t, props, name="fw")]
    assert found == ["firewall fw opens 22, 6443 to 3,702,258,688 public addresses (more than a /8); narrow sourceRanges (adminCidrs)"]
