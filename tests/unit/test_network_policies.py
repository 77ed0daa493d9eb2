"""Every flow a stack uses is allowed, and the flows it must not allow are denied, with Kubernetes'
NetworkPolicy semantics (tests/netpolicy.py) evaluated over the policies each program run registers.

The pods' labels are those the upstream components give them at the pinned tags: the Istio gateway
chart's `istio: ingressgateway` (manifests/charts/gateway/templates/_helpers.tpl), Knative's
`app: activator` and `app: autoscaler`, CoreDNS/kube-dns's `k8s-app: kube-dns`, and the store's own.
What this cannot show: that a cluster's network plugin enforces the policies as the API says
(kindnet and k3s's kube-router do; docs/security.md).
"""

from __future__ import annotations

import pytest

from tests import harness
from tests.harness import FAKE_PUBLIC_IPV4, run_program
from tests.netpolicy import Address, Flow, Pod, allows, policies_of

GATEWAY = Pod("istio-system", {"app": "istio-ingressgateway", "istio": "ingressgateway"}, "10.244.0.10")
ACTIVATOR = Pod("knative-serving", {"app": "activator"}, "10.244.0.11")
AUTOSCALER = Pod("knative-serving", {"app": "autoscaler"}, "10.244.0.12")
KNATIVE_CONTROLLER = Pod("knative-serving", {"app": "controller"}, "10.244.0.13")
DNS = Pod("kube-system", {"k8s-app": "kube-dns"}, "10.244.0.2")
PREDICTOR = Pod("models", {"serving.kserve.io/inferenceservice": "mnist", "component": "predictor"}, "10.244.0.20")
STORE = Pod("model-store", {"app.kubernetes.io/name": "minio", "app.kubernetes.io/instance": "store"}, "10.244.0.30")
OTHER = Pod("default", {"app": "curl"}, "10.244.0.40")
NODE = Address("172.18.0.2", node=True)
THIS_MACHINE = Address(FAKE_PUBLIC_IPV4)
STRANGER = Address("203.0.113.99")
INTERNET = Address("142.250.80.27")  # a public address: a cloud API's
METADATA = Address("169.254.169.254")
GKE_METADATA = Address("169.254.169.252")
NEIGHBOUR_VM = Address("10.128.0.5")

DNS_FLOWS = [Flow(PREDICTOR, DNS, 53, "UDP", "name lookups"), Flow(PREDICTOR, DNS, 53, "TCP", "name lookups")]
MINIO_FLOWS = [
    Flow(PREDICTOR, STORE, 9000, why="the storage initializer downloads the model"),
    Flow(NODE, STORE, 9000, why="the upload and the bucket through the NodePort (kind)"),
]
NOT_EVER = [
    Flow(OTHER, PREDICTOR, 8080, why="another namespace to the predictor"),
    Flow(OTHER, PREDICTOR, 8012, why="another namespace to the predictor"),
    Flow(KNATIVE_CONTROLLER, PREDICTOR, 8012, why="a platform pod that sends no requests"),
    Flow(PREDICTOR, OTHER, 80, why="the predictor to another namespace"),
    Flow(PREDICTOR, NEIGHBOUR_VM, 443, why="the predictor to a private address"),
    Flow(PREDICTOR, INTERNET, 80, why="the predictor over plain HTTP"),
]
NOT_EVER_TO_MINIO = [
    Flow(OTHER, STORE, 9000, why="another namespace to the store"),
    Flow(GATEWAY, STORE, 9000, why="the gateway to the store"),
    Flow(PREDICTOR, STORE, 9001, why="the predictor to MinIO's console port"),
    Flow(STORE, INTERNET, 443, why="the store calls out to nothing"),
    Flow(STORE, DNS, 53, "UDP", "the store resolves nothing"),
]

VARIANTS = {
    "kind": (
        {"target": "kind"},
        "kind",
        [
            Flow(GATEWAY, PREDICTOR, 8012, why="requests to the queue-proxy"),
            Flow(ACTIVATOR, PREDICTOR, 8012, why="requests while scaling, and its probes"),
            Flow(AUTOSCALER, PREDICTOR, 9090, why="the autoscaler's metrics"),
            Flow(NODE, PREDICTOR, 8022, why="the kubelet's probes"),
            *DNS_FLOWS,
            *MINIO_FLOWS,
        ],
        [
            *NOT_EVER,
            *NOT_EVER_TO_MINIO,
            Flow(PREDICTOR, INTERNET, 443, why="nothing on kind needs the internet"),
            Flow(GATEWAY, PREDICTOR, 8080, why="past the queue-proxy to the model container"),
            Flow(AUTOSCALER, PREDICTOR, 8012, why="the autoscaler sends no requests"),
        ],
    ),
    "kind-standard": (
        {"target": "kind", "deploymentMode": "standard"},
        "kind",
        [Flow(GATEWAY, PREDICTOR, 8080, why="requests to KServe's container"), *DNS_FLOWS, *MINIO_FLOWS],
        [
            *NOT_EVER,
            *NOT_EVER_TO_MINIO,
            Flow(ACTIVATOR, PREDICTOR, 8080, why="no Knative in standard mode"),
            Flow(GATEWAY, PREDICTOR, 8012, why="no queue-proxy in standard mode"),
        ],
    ),
    "kind-seldon": (
        {"target": "kind", "serving": "seldon"},
        "kind",
        [Flow(GATEWAY, PREDICTOR, 8000, why="requests to Seldon's executor"), *DNS_FLOWS, *MINIO_FLOWS],
        [*NOT_EVER, *NOT_EVER_TO_MINIO, Flow(GATEWAY, PREDICTOR, 9000, why="past the executor to the model container")],
    ),
    "gcp": (
        harness.GCP_STACK,
        "gcp",
        [
            Flow(GATEWAY, PREDICTOR, 8012),
            Flow(PREDICTOR, INTERNET, 443, why="GCS's API"),
            Flow(PREDICTOR, METADATA, 80, why="the VM's token"),
            *DNS_FLOWS,
        ],
        [*NOT_EVER, Flow(PREDICTOR, GKE_METADATA, 988, why="no GKE here"), Flow(PREDICTOR, STORE, 9000, why="no MinIO")],
    ),
    "aws": (
        harness.AWS_STACK,
        "aws",
        [
            Flow(GATEWAY, PREDICTOR, 8012),
            Flow(PREDICTOR, INTERNET, 443, why="S3's API"),
            Flow(PREDICTOR, METADATA, 80, why="the instance profile's credentials"),
            *DNS_FLOWS,
        ],
        NOT_EVER,
    ),
}


def _existing_variants(kubeconfig: str) -> dict:
    from tests.unit.test_existing import EKS, GKE, LAB

    base = {"target": "existing", "kubeconfigPath": kubeconfig}
    return {
        "existing-minio": (
            {**base, "kubeContext": LAB},
            [
                Flow(GATEWAY, PREDICTOR, 8012),
                Flow(PREDICTOR, STORE, 9000),
                Flow(THIS_MACHINE, STORE, 9000, why="the upload through the load balancer, from adminCidrs"),
                *DNS_FLOWS,
            ],
            [*NOT_EVER, *NOT_EVER_TO_MINIO, Flow(STRANGER, STORE, 9000, why="the load balancer from anywhere else")],
        ),
        "existing-gcs": (
            {**base, "kubeContext": GKE, "store": "gcs", "gcp:region": "us-central1"},
            [
                Flow(PREDICTOR, INTERNET, 443),
                Flow(PREDICTOR, METADATA, 80, why="Workload Identity's token"),
                Flow(PREDICTOR, GKE_METADATA, 988, why="GKE's metadata server"),
                *DNS_FLOWS,
            ],
            NOT_EVER,
        ),
        "existing-s3": (
            {**base, "kubeContext": EKS, "store": "s3"},
            [Flow(PREDICTOR, INTERNET, 443, why="S3 and STS (IRSA)"), *DNS_FLOWS],
            [*NOT_EVER, Flow(PREDICTOR, METADATA, 80, why="IRSA needs no instance credentials")],
        ),
    }


def _check(config: dict, stack: str, allowed: list[Flow], denied: list[Flow], **options) -> None:
    policies = policies_of(run_program(config, stack=stack, **options))
    assert {p["namespace"] for p in policies} >= {"models"}
    assert [f for f in allowed if not allows(policies, f)] == []
    assert [f for f in denied if allows(policies, f)] == []


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_exactly_the_stacks_flows_pass(variant: str) -> None:
    config, stack, allowed, denied = VARIANTS[variant]
    _check(config, stack, allowed, denied)


@pytest.mark.parametrize("variant", ["existing-minio", "existing-gcs", "existing-s3"])
def test_exactly_the_stacks_flows_pass_on_existing_clusters(variant: str, tmp_path) -> None:
    from tests.unit.test_existing import KUBECONFIG_TEXT

    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(KUBECONFIG_TEXT)
    config, allowed, denied = _existing_variants(str(kubeconfig))[variant]
    _check(config, "team", allowed, denied)


def test_without_the_policies_every_flow_passes_so_the_table_can_fail() -> None:
    _, _, _, denied = VARIANTS["kind"]
    assert len(denied) == len(NOT_EVER) + len(NOT_EVER_TO_MINIO) + 3
    assert all(allows([], flow) for flow in denied)


def test_networkPolicies_false_registers_none() -> None:
    run = run_program({"target": "kind", "networkPolicies": "false"}, stack="kind")
    assert policies_of(run) == []


def test_the_deny_all_policies_isolate_both_directions_of_every_pod() -> None:
    policies = {p["name"]: p for p in policies_of(run_program({"target": "kind"}, stack="kind"))}
    for name in ("model-deny-all", "store-deny-all"):
        assert policies[name]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
