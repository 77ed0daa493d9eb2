"""Asks an existing cluster what servebox must not take on trust, and says exactly what is missing.

Run by pulumi-command `Command`s beside the Kubernetes provider (`python -m
components.platform.cluster_probe ...`), with the kubeconfig in SERVEBOX_KUBECONFIG (never printed):

- `present --part P`: a platform part the stack was told the cluster has (installCertManager,
  installIstio or installKnative false) is there: its CRDs exist and are established, and for Knative
  it routes through Istio and serves the configured domain. It runs before the first object that
  needs the part, so a missing part fails `up` with the part and the key named, not with an opaque
  "no matches for kind" from the API server.
- `address --service NS/NAME`: waits until the Service has ready endpoints and, with `--from-status`,
  a load-balancer address (a host name also has to resolve, as EKS's take minutes to), then prints
  that address. A load balancer that never comes fails with what to check.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import yaml

from components.naming import is_ip_address
from components.platform import probe
from components.platform.probe import ProbeFailed


@dataclass(frozen=True)
class Part:
    """A platform part servebox can be told the cluster already has."""

    title: str
    key: str
    """The config key that turns servebox's own install of it off."""
    crds: tuple[str, ...]
    """CRDs whose presence proves the part is installed."""


PARTS = {
    "cert-manager": Part("cert-manager", "installCertManager", ("certificates.cert-manager.io", "issuers.cert-manager.io")),
    "istio": Part("Istio", "installIstio", ("gateways.networking.istio.io", "virtualservices.networking.istio.io")),
    "knative": Part("Knative Serving", "installKnative", ("services.serving.knative.dev", "configurations.serving.knative.dev")),
}

# net-istio's class: KServe's Knative mode routes model traffic through the Istio ingress gateway.
KNATIVE_ISTIO_INGRESS_CLASS = "istio.ingress.networking.knative.dev"
ISTIO_INGRESS_CONTROLLER = "istio.io/ingress-controller"


@dataclass(frozen=True)
class ServiceState:
    """What the address probe needs to know of a Service."""

    exists: bool
    service_type: str = ""
    addresses: tuple[str, ...] = ()
    """Load-balancer ingress IPs and host names, in status order."""
    ready_endpoints: int = 0


class Cluster(Protocol):
    """The reads the probe makes; `_KubernetesCluster` makes them for real, tests pass their own."""

    def crd_established(self, name: str) -> bool | None:
        """True when established, False when present but not established, None when absent."""
        ...

    def config_map(self, namespace: str, name: str) -> dict[str, str] | None: ...

    def ingress_class_controllers(self) -> list[str]: ...

    def service(self, namespace: str, name: str) -> ServiceState: ...


def check_present(cluster: Cluster, part_name: str, *, domain: str | None = None, ingress_class: bool = False) -> None:
    """Raise ProbeFailed unless `part_name` is installed and usable as servebox needs it."""
    part = PARTS[part_name]
    turned_off = f"{part.title} is turned off ({part.key}: false), but"
    let_servebox = f"pulumi config set {part.key} true"
    for crd in part.crds:
        state = cluster.crd_established(crd)
        if state is None:
            raise ProbeFailed(
                f"{turned_off} the cluster does not have it: there is no CustomResourceDefinition {crd}. "
                f"Install {part.title} there, or let servebox install it: {let_servebox}"
            )
        if state is False:
            raise ProbeFailed(
                f"{turned_off} its CustomResourceDefinition {crd} is not established yet "
                f"(kubectl get crd {crd} -o yaml shows why). Fix that, or: {let_servebox}"
            )
    if part_name == "istio" and ingress_class and ISTIO_INGRESS_CONTROLLER not in cluster.ingress_class_controllers():
        raise ProbeFailed(
            f"{turned_off} the cluster has no IngressClass with controller {ISTIO_INGRESS_CONTROLLER}, which "
            "KServe's standard mode creates its Ingresses for. Create one named istio, or: " + let_servebox
        )
    if part_name == "knative":
        network = cluster.config_map("knative-serving", "config-network") or {}
        chosen = network.get("ingress-class") or network.get("ingress.class") or ""
        if chosen != KNATIVE_ISTIO_INGRESS_CLASS:
            raise ProbeFailed(
                f"{turned_off} it does not route through Istio: knative-serving/config-network has ingress-class "
                f"{chosen or '(unset)'!r}, and KServe needs {KNATIVE_ISTIO_INGRESS_CLASS!r} (net-istio). "
                f"Install net-istio there, or: {let_servebox}"
            )
        domains = sorted(key for key in (cluster.config_map("knative-serving", "config-domain") or {}) if not key.startswith("_"))
        if domain and domain not in domains:
            raise ProbeFailed(
                f"{turned_off} its domain config (knative-serving/config-domain) does not serve ingressDomain "
                f"{domain!r} (it has: {', '.join(domains) or 'none'}), so model hosts would not route. "
                f"Fix: pulumi config set ingressDomain {domains[0] if domains else '<domain>'}"
            )


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 80, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    return True


def wait_for_address(
    cluster: Cluster,
    service: str,
    *,
    from_status: bool,
    timeout_seconds: float,
    missing_key: str | None = None,
    resolves: Callable[[str], bool] = _resolves,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> str:
    """Wait until `service` (namespace/name) serves and, with `from_status`, has a load-balancer
    address that resolves; return that address ("" without `from_status`)."""
    namespace, _, name = service.partition("/")
    deadline = clock() + timeout_seconds
    delay = 2.0
    state = ServiceState(exists=False)
    waiting_for = ""
    while True:
        state = cluster.service(namespace, name)
        if not state.exists and missing_key:
            raise ProbeFailed(
                f"{missing_key} is false, but the cluster has no Service {service}: servebox sends model "
                f"traffic through that gateway. Install Istio's ingress gateway as {service}, or: "
                f"pulumi config set {missing_key} true"
            )
        address = next(iter(state.addresses), "")
        if not state.exists:
            waiting_for = "the Service to exist"
        elif state.ready_endpoints == 0:
            waiting_for = "a ready gateway pod behind it"
        elif from_status and not address:
            waiting_for = "a load-balancer address in its status"
        elif from_status and not is_ip_address(address) and not resolves(address):
            waiting_for = f"its load balancer's host name {address} to resolve"
        else:
            log(f"{service} serves" + (f" at {address}" if from_status else ""))
            return address if from_status else ""
        if clock() + delay > deadline:
            break
        log(f"waiting for {waiting_for} ({service}); retrying in {delay:.0f}s")
        sleep(delay)
        delay = min(delay * 2, 15.0)
    hints = {
        "a load-balancer address in its status": (
            f"it is type {state.service_type or 'unknown'} and no load-balancer controller gave it an address. "
            "Check that the cluster can provision load balancers (GKE and EKS can; EKS in private subnets needs "
            "subnets tagged for load balancers; bare metal needs MetalLB or similar) and read the Service's "
            f"events: kubectl -n {namespace} describe service {name}. Or give the address that reaches the "
            "gateway: pulumi config set ingressAddress <ip-or-host>"
        ),
        "a ready gateway pod behind it": (
            f"no gateway pod is ready: kubectl -n {namespace} get pods and kubectl -n {namespace} describe pods show why"
        ),
    }
    hint = hints.get(waiting_for, f"check it: kubectl -n {namespace} describe service {name}")
    raise ProbeFailed(f"gave up after {timeout_seconds:.0f}s waiting for {waiting_for} of Service {service}: {hint}")


class _KubernetesCluster:
    """The probe's reads through the official Kubernetes Python client."""

    def __init__(self, kubeconfig_text: str):
        from kubernetes import client, config

        api_client = config.new_client_from_config_dict(yaml.safe_load(kubeconfig_text))
        self._extensions = client.ApiextensionsV1Api(api_client)
        self._core = client.CoreV1Api(api_client)
        self._networking = client.NetworkingV1Api(api_client)
        self._discovery = client.DiscoveryV1Api(api_client)
        self._not_found = lambda error: isinstance(error, client.ApiException) and error.status == 404

    def crd_established(self, name: str) -> bool | None:
        try:
            crd = self._extensions.read_custom_resource_definition(name)
        except Exception as error:
            if self._not_found(error):
                return None
            raise
        conditions = (crd.status.conditions if crd.status else None) or []
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    def config_map(self, namespace: str, name: str) -> dict[str, str] | None:
        try:
            return dict(self._core.read_namespaced_config_map(name, namespace).data or {})
        except Exception as error:
            if self._not_found(error):
                return None
            raise

    def ingress_class_controllers(self) -> list[str]:
        return [item.spec.controller for item in self._networking.list_ingress_class().items if item.spec]

    def service(self, namespace: str, name: str) -> ServiceState:
        try:
            service = self._core.read_namespaced_service(name, namespace)
        except Exception as error:
            if self._not_found(error):
                return ServiceState(exists=False)
            raise
        ingress = (service.status.load_balancer.ingress if service.status and service.status.load_balancer else None) or []
        slices = self._discovery.list_namespaced_endpoint_slice(namespace, label_selector=f"kubernetes.io/service-name={name}")
        ready = sum(
            1
            for endpoint_slice in slices.items
            for endpoint in endpoint_slice.endpoints or []
            if endpoint.conditions is None or endpoint.conditions.ready
        )
        return ServiceState(
            exists=True,
            service_type=service.spec.type if service.spec else "",
            addresses=tuple(entry.ip or entry.hostname for entry in ingress if entry.ip or entry.hostname),
            ready_endpoints=ready,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    present = commands.add_parser("present", help="check that a part the cluster should have is there")
    present.add_argument("--part", choices=sorted(PARTS), required=True)
    present.add_argument("--domain", help="Knative: the domain model hosts are under (ingressDomain)")
    present.add_argument("--ingress-class", action="store_true", help="Istio: also need its IngressClass")
    address = commands.add_parser("address", help="wait for a Service to serve, print its load-balancer address")
    address.add_argument("--service", required=True, help="namespace/name")
    address.add_argument("--from-status", action="store_true", help="wait for and print the load-balancer address")
    address.add_argument("--missing-key", help="the key that said the cluster has this Service already")
    address.add_argument("--timeout", type=float, required=True)
    args = parser.parse_args(argv)

    def present_or_address(kubeconfig: str) -> None:
        cluster = _KubernetesCluster(kubeconfig)
        if args.command == "present":
            check_present(cluster, args.part, domain=args.domain, ingress_class=args.ingress_class)
            return
        print(
            wait_for_address(
                cluster, args.service, from_status=args.from_status, timeout_seconds=args.timeout, missing_key=args.missing_key
            )
        )

    return probe.run("cluster_probe", present_or_address)


if __name__ == "__main__":
    sys.exit(main())
