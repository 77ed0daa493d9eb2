"""The resources every shipped stack and every variant the suite plans register (type, name, parent,
inputs), against tests/golden/plans.json: a refactoring that changes none of them leaves it
identical. Regenerate deliberately with SERVEBOX_UPDATE_GOLDEN=1 and review the diff.

Paths of this checkout and of the interpreter are written as <repo> and <python>, so the golden is
the same in any clone.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.harness import FAKE_GCP_PROJECT, REPO, run_program

GOLDEN = REPO / "tests" / "golden" / "plans.json"
KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- {name: lab, cluster: {server: 'https://10.0.0.5:6443'}}
- {name: gke_servebox-test-1_us-central1_team, cluster: {server: 'https://34.70.1.2'}}
- {name: 'arn:aws:eks:eu-west-1:123456789012:cluster/team', cluster: {server: 'https://5C0FFEE.gr7.eu-west-1.eks.amazonaws.com'}}
contexts:
- {name: lab, context: {cluster: lab, user: u}}
- {name: gke_servebox-test-1_us-central1_team, context: {cluster: gke_servebox-test-1_us-central1_team, user: u}}
- {name: 'arn:aws:eks:eu-west-1:123456789012:cluster/team', context: {cluster: 'arn:aws:eks:eu-west-1:123456789012:cluster/team', user: u}}
users:
- {name: u, user: {token: not-a-real-token}}
"""
GCP = {"gcp:project": FAKE_GCP_PROJECT}
AWS = {"aws:region": "us-east-1"}
EKS = "arn:aws:eks:eu-west-1:123456789012:cluster/team"
GKE = "gke_servebox-test-1_us-central1_team"

VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "kind": ("kind", {}),
    "kind-standard": ("kind", {"deploymentMode": "standard"}),
    "kind-seldon": ("kind", {"serving": "seldon"}),
    "gcp": ("gcp", GCP),
    "gcp-spot-create-static": ("gcp", {**GCP, "vmSpot": True, "gcpNetwork": "create", "gcpStaticIp": True, "vmTerminationAction": "stop"}),
    "gcp-seldon": ("gcp", {**GCP, "serving": "seldon"}),
    "aws": ("aws", AWS),
    "aws-spot-create-eip": ("aws", {**AWS, "vmSpot": True, "awsNetwork": "create", "awsElasticIp": True}),
    "aws-seldon": ("aws", {**AWS, "serving": "seldon"}),
    "existing-minio": ("existing", {"kubeContext": "lab"}),
    "existing-gcs": ("existing", {"kubeContext": GKE, "store": "gcs", "gcp:region": "us-central1"}),
    "existing-s3": ("existing", {"kubeContext": EKS, "store": "s3"}),
    "existing-parts-off": ("existing", {"kubeContext": "lab", "installCertManager": False, "installIstio": False,
                                         "installKnative": False, "ingressDomain": "models.example.com"}),
    # A shared workshop of two on one VM: each corner, MinIO on the VM, its port open to adminCidrs.
    "gcp-shared": ("gcp", {**GCP, "attendees": "ada,bob"}),
}


def _plain(value: Any) -> Any:
    """An asset or archive as what it is and where it points (its repr holds a memory address)."""
    for attribute in ("path", "text", "uri", "assets"):
        if hasattr(value, attribute):
            return {type(value).__name__: str(getattr(value, attribute))}
    return str(value)


def _normalise(value: Any, kubeconfig: str) -> Any:
    text = json.dumps(value, sort_keys=True, default=_plain)
    for path, name in ((kubeconfig, "<kubeconfig>"), (str(REPO), "<repo>"), (sys.executable, "<python>")):
        text = text.replace(path, name)
    return json.loads(text)


def plan(variant: str, home: Path) -> list[dict[str, Any]]:
    stack, config = VARIANTS[variant]
    kubeconfig = home / ".kube" / "config"
    if stack == "existing":
        config = {"kubeconfigPath": str(kubeconfig), **config}
    run = run_program(config, stack=stack)
    rows = [
        {"type": r.type, "name": r.name, "parent": r.parent, "inputs": r.inputs}
        for r in sorted(run.resources.values(), key=lambda r: r.name)
    ]
    return _normalise(rows, str(kubeconfig))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("home")
    (directory / ".kube").mkdir()
    (directory / ".kube" / "config").write_text(KUBECONFIG)
    return directory


@pytest.fixture(scope="module")
def plans(home: Path) -> dict[str, list[dict[str, Any]]]:
    found = {variant: plan(variant, home) for variant in VARIANTS}
    if os.environ.get("SERVEBOX_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    return found


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_planned_resources_are_the_golden(plans: dict[str, list[dict[str, Any]]], variant: str) -> None:
    golden = json.loads(GOLDEN.read_text())
    assert variant in golden, f"no golden for {variant}: regenerate with SERVEBOX_UPDATE_GOLDEN=1"
    assert plans[variant] == golden[variant]


def test_the_golden_holds_exactly_the_variants() -> None:
    assert sorted(json.loads(GOLDEN.read_text())) == sorted(VARIANTS)
