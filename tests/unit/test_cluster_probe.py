"""The existing-cluster probes: what each missing or half-installed part fails with, and how the
address probe waits for a load balancer (and what it says when none comes).

The cluster is a table of answers in the shape the Kubernetes client gives them (`_KubernetesCluster`
turns real API responses into these); the clock and sleep are the test's, so waits take no time.
Not proven here: the real API calls against a live API server.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from components.platform import cluster_probe
from components.platform.cluster_probe import ProbeFailed, ServiceState, check_present, wait_for_address

CERT_CRDS = {"certificates.cert-manager.io": True, "issuers.cert-manager.io": True}
ISTIO_CRDS = {"gateways.networking.istio.io": True, "virtualservices.networking.istio.io": True}
KNATIVE_CRDS = {"services.serving.knative.dev": True, "configurations.serving.knative.dev": True}
NET_ISTIO = {"ingress-class": "istio.ingress.networking.knative.dev"}


@dataclass
class FakeCluster:
    crds: dict[str, bool] = field(default_factory=dict)
    config_maps: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    ingress_classes: list[str] = field(default_factory=list)
    services: list[ServiceState] = field(default_factory=list)
    """Successive answers for the one Service; the last repeats."""
    asked: int = 0

    def crd_established(self, name: str) -> bool | None:
        return self.crds.get(name)

    def config_map(self, namespace: str, name: str) -> dict[str, str] | None:
        return self.config_maps.get((namespace, name))

    def ingress_class_controllers(self) -> list[str]:
        return self.ingress_classes

    def service(self, namespace: str, name: str) -> ServiceState:
        answer = self.services[min(self.asked, len(self.services) - 1)]
        self.asked += 1
        return answer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_present_part_passes():
    cluster = FakeCluster(
        crds={**CERT_CRDS, **ISTIO_CRDS, **KNATIVE_CRDS},
        config_maps={("knative-serving", "config-network"): NET_ISTIO, ("knative-serving", "config-domain"): {"ml.example.com": "", "_example": "x"}},
        ingress_classes=["istio.io/ingress-controller"],
    )
    check_present(cluster, "cert-manager")
    check_present(cluster, "istio", ingress_class=True)
    check_present(cluster, "knative", domain="ml.example.com")


LACKING = [
    pytest.param(
        FakeCluster(),
        "cert-manager",
        {},
        "cert-manager is turned off (installCertManager: false), but the cluster does not have it: there is no "
        "CustomResourceDefinition certificates.cert-manager.io. Install cert-manager there, or let servebox install "
        "it: pulumi config set installCertManager true",
        id="missing-part-names-its-crd-and-key",
    ),
    pytest.param(
        FakeCluster(crds={**ISTIO_CRDS, "gateways.networking.istio.io": False}),
        "istio",
        {},
        "Istio is turned off (installIstio: false), but its CustomResourceDefinition gateways.networking.istio.io "
        "is not established yet (kubectl get crd gateways.networking.istio.io -o yaml shows why). Fix that, or: "
        "pulumi config set installIstio true",
        id="crd-not-yet-established",
    ),
    pytest.param(
        FakeCluster(
            crds=KNATIVE_CRDS,
            config_maps={("knative-serving", "config-network"): {"ingress-class": "kourier.ingress.networking.knative.dev"}},
        ),
        "knative",
        {"domain": "ml.example.com"},
        "Knative Serving is turned off (installKnative: false), but it does not route through Istio: "
        "knative-serving/config-network has ingress-class 'kourier.ingress.networking.knative.dev', and KServe needs "
        "'istio.ingress.networking.knative.dev' (net-istio). Install net-istio there, or: pulumi config set installKnative true",
        id="knative-on-another-networking-layer",
    ),
    pytest.param(
        FakeCluster(
            crds=KNATIVE_CRDS,
            config_maps={
                ("knative-serving", "config-network"): NET_ISTIO,
                ("knative-serving", "config-domain"): {"apps.corp.example": "", "_example": "…"},
            },
        ),
        "knative",
        {"domain": "ml.example.com"},
        "Knative Serving is turned off (installKnative: false), but its domain config (knative-serving/config-domain) "
        "does not serve ingressDomain 'ml.example.com' (it has: apps.corp.example), so model hosts would not route. "
        "Fix: pulumi config set ingressDomain apps.corp.example",
        id="knative-without-the-configured-domain-names-the-ones-it-has",
    ),
]


@pytest.mark.parametrize(("cluster", "part", "options", "message"), LACKING)
def test_a_part_the_cluster_lacks_is_refused_with_the_exact_message(
    cluster: FakeCluster, part: str, options: dict, message: str
) -> None:
    with pytest.raises(ProbeFailed) as error:
        check_present(cluster, part, **options)
    assert str(error.value) == message


def test_istio_without_its_ingress_class_fails_standard_mode_only():
    cluster = FakeCluster(crds=ISTIO_CRDS, ingress_classes=["k8s.io/ingress-nginx"])
    check_present(cluster, "istio")
    with pytest.raises(ProbeFailed) as error:
        check_present(cluster, "istio", ingress_class=True)
    assert str(error.value) == (
        "Istio is turned off (installIstio: false), but the cluster has no IngressClass with controller "
        "istio.io/ingress-controller, which KServe's standard mode creates its Ingresses for. Create one named "
        "istio, or: pulumi config set installIstio true"
    )


def _wait(cluster: FakeCluster, clock: Clock, **options) -> str:
    options.setdefault("from_status", True)
    options.setdefault("timeout_seconds", 60)
    return wait_for_address(cluster, "istio-system/istio-ingressgateway", clock=clock, sleep=clock.sleep, log=lambda _: None, **options)


def test_the_address_comes_once_the_gateway_serves_and_the_load_balancer_has_one():
    cluster = FakeCluster(
        services=[
            ServiceState(exists=False),
            ServiceState(exists=True, service_type="LoadBalancer"),
            ServiceState(exists=True, service_type="LoadBalancer", ready_endpoints=1),
            ServiceState(exists=True, service_type="LoadBalancer", ready_endpoints=1, addresses=("34.120.7.19",)),
        ]
    )
    clock = Clock()
    assert _wait(cluster, clock) == "34.120.7.19"
    assert (cluster.asked, clock.sleeps) == (4, [2.0, 4.0, 8.0])


def test_a_host_name_is_given_only_once_it_resolves():
    cluster = FakeCluster(services=[ServiceState(exists=True, ready_endpoints=2, addresses=("a1b2.elb.eu-west-1.amazonaws.com",))])
    answers = iter([False, False, True])
    clock = Clock()
    address = _wait(cluster, clock, resolves=lambda host: next(answers))
    assert address == "a1b2.elb.eu-west-1.amazonaws.com"
    assert cluster.asked == 3


def test_without_from_status_it_only_waits_for_the_gateway_to_serve():
    cluster = FakeCluster(services=[ServiceState(exists=True, ready_endpoints=0), ServiceState(exists=True, ready_endpoints=1)])
    assert _wait(cluster, Clock(), from_status=False) == ""


def test_a_load_balancer_that_never_comes_fails_with_what_to_check():
    cluster = FakeCluster(services=[ServiceState(exists=True, service_type="LoadBalancer", ready_endpoints=1)])
    with pytest.raises(ProbeFailed) as error:
        _wait(cluster, Clock(), timeout_seconds=30)
    assert str(error.value) == (
        "gave up after 30s waiting for a load-balancer address in its status of Service istio-system/istio-ingressgateway: "
        "it is type LoadBalancer and no load-balancer controller gave it an address. Check that the cluster can "
        "provision load balancers (GKE and EKS can; EKS in private subnets needs subnets tagged for load balancers; "
        "bare metal needs MetalLB or similar) and read the Service's events: kubectl -n istio-system describe service "
        "istio-ingressgateway. Or give the address that reaches the gateway: pulumi config set ingressAddress <ip-or-host>"
    )


def test_no_ready_gateway_pod_is_named_as_the_cause():
    cluster = FakeCluster(services=[ServiceState(exists=True, service_type="LoadBalancer", addresses=("34.1.2.3",))])
    with pytest.raises(ProbeFailed, match="waiting for a ready gateway pod behind it of Service istio-system/istio-ingressgateway: no gateway pod is ready"):
        _wait(cluster, Clock(), timeout_seconds=10)


def test_a_gateway_the_cluster_was_said_to_have_but_lacks_fails_at_once_naming_the_key():
    cluster = FakeCluster(services=[ServiceState(exists=False)])
    clock = Clock()
    with pytest.raises(ProbeFailed) as error:
        _wait(cluster, clock, missing_key="installIstio")
    assert str(error.value) == (
        "installIstio is false, but the cluster has no Service istio-system/istio-ingressgateway: servebox sends model "
        "traffic through that gateway. Install Istio's ingress gateway as istio-system/istio-ingressgateway, or: "
        "pulumi config set installIstio true"
    )
    assert clock.sleeps == []


def test_the_probe_refuses_to_run_without_a_kubeconfig(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.delenv("SERVEBOX_KUBECONFIG", raising=False)
    assert cluster_probe.main(["present", "--part", "istio"]) == 2
    assert capsys.readouterr().err == "cluster_probe: SERVEBOX_KUBECONFIG is not set\n"
