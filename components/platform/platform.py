"""The serving platform, the same on every target: cert-manager, Istio, and Knative Serving with
KServe, or Seldon Core v1 instead of both (serving: seldon).

Install order is encoded as dependencies, and only where one step really needs another, so that
independent installs run in parallel (cert-manager does not wait for Istio, KServe's CRDs wait for
nothing). The longest chain of readiness waits in Knative mode is five:
istio-base -> KnativeServing -> kserve-resources -> webhook probe -> kserve-runtime-configs.
Standard mode installs no Knative. With Seldon: cert-manager ∥ istio-base -> seldon-core-operator ->
webhook probe, and istiod -> the Seldon Gateway.

On an existing cluster each of cert-manager, Istio and Knative can be the cluster's own
(PlatformParts): then a probe checks it is there, in the place of its install, so that what needs it
waits on the check and a missing part fails with its name and key. Where the cloud hands the gateway
its address, an address probe waits for the load balancer and gives the address the model hosts
and the Knative domain are built from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components import network_policy
from components.cluster.base import IngressExposure
from components.config import DeploymentMode, Serving
from components.naming import component_type, ingress_domain
from components.platform import istio, knative
from components.platform.cert_manager import CertManager, CertManagerArgs
from components.platform.istio import GATEWAY_SERVICE, Istio, IstioArgs
from components.platform.knative import Knative, KnativeArgs
from components.platform.kserve import KServe, KServeArgs
from components.platform.readiness import part_present, service_address
from components.platform.seldon import Seldon, SeldonArgs

# Where requests reach a predictor pod: KServe's container in Standard mode (the Service's target
# port), the queue-proxy in Knative mode, Seldon's executor (its `http` port in the same pod, which
# forwards to the model container on localhost).
KSERVE_STANDARD_PORT = 8080
SELDON_EXECUTOR_PORT = 8000


def model_ingress_rules(serving: Serving, mode: DeploymentMode) -> tuple[network_policy.Rule, ...]:
    """Who sends a predictor requests, on which ports: the ingress gateway always; in Knative mode
    also the activator (requests while scaling, and its probes) and the autoscaler (metrics)."""
    gateway = network_policy.pods(istio.NAMESPACE, istio.GATEWAY_POD_LABELS)
    if serving is Serving.SELDON:
        return ({"from": [gateway], "ports": network_policy.tcp(SELDON_EXECUTOR_PORT)},)
    if mode is DeploymentMode.STANDARD:
        return ({"from": [gateway], "ports": network_policy.tcp(KSERVE_STANDARD_PORT)},)
    activator = network_policy.pods(knative.SERVING_NAMESPACE, knative.ACTIVATOR_POD_LABELS)
    autoscaler = network_policy.pods(knative.SERVING_NAMESPACE, knative.AUTOSCALER_POD_LABELS)
    return (
        {"from": [gateway, activator], "ports": network_policy.tcp(*knative.QUEUE_PROXY_REQUEST_PORTS)},
        {"from": [autoscaler], "ports": network_policy.tcp(knative.QUEUE_PROXY_METRICS_PORT)},
    )


@dataclass(frozen=True)
class ModelAccess:
    """How requests reach the models: who of the platform sends them (NetworkPolicy ingress rules)
    and the gateway's pods, where an API key is checked."""

    request_sources: tuple[network_policy.Rule, ...]
    gateway_namespace: str = istio.NAMESPACE
    gateway_labels: Mapping[str, str] = field(default_factory=lambda: dict(istio.GATEWAY_POD_LABELS))


@dataclass(frozen=True)
class PlatformParts:
    """Which parts servebox installs; False = the (existing) cluster has it, and it is checked."""

    cert_manager: bool = True
    istio: bool = True
    knative: bool = True


@dataclass(frozen=True)
class PlatformArgs:
    """Inputs of the platform; the Kubernetes provider comes once, in the component's opts."""

    serving: Serving
    """KServe (with Knative in Knative mode) or Seldon Core."""
    deployment_mode: DeploymentMode
    """KServe mode; Knative mode also installs Knative Serving. Unused with Seldon."""
    exposure: IngressExposure
    """How the target exposes the ingress gateway."""
    ingress_address: pulumi.Input[str] | None
    """Address users reach the ingress at; None = read from the gateway's load-balancer status
    (exposure.address_from_status)."""
    kubeconfig: pulumi.Input[str]
    """Secret kubeconfig, for the probes that run beside the provider."""
    timeout_seconds: int
    """Time limit of each install step."""
    ingress_domain: str | None = None
    """Domain of the model hosts; None = naming.ingress_domain(address) (<ip>.sslip.io)."""
    install: PlatformParts = PlatformParts()
    """Which parts to install rather than check."""


class Platform(pulumi.ComponentResource):
    """Everything a model needs to be served, installed (or checked) in order and awaited until it serves."""

    ingress_gateway: pulumi.Resource
    """What proves the ingress gateway serves; a model's endpoint works once it is done."""
    serving_ready: pulumi.Resource
    """The serving stack's webhook serving (and KServe's runtimes installed); create models after it."""
    ingress_address: pulumi.Output[str]
    """Where users reach the gateway: the target's address, or the load balancer's."""
    ingress_domain: pulumi.Output[str]
    """The domain model hosts are under."""
    model_access: ModelAccess
    """Who sends the models requests, and where the gateway's pods are (installed or the cluster's own)."""

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("platform", "Platform"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        install = args.install
        kserve_standard = args.serving is Serving.KSERVE and args.deployment_mode is DeploymentMode.STANDARD
        self.model_access = ModelAccess(model_ingress_rules(args.serving, args.deployment_mode))

        def check(part: str, after: list[pulumi.Resource] | None = None, **flags) -> pulumi.Resource:
            return part_present(
                f"{name}-{part}-present",
                part=part,
                kubeconfig=args.kubeconfig,
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=after or [])),
                **flags,
            )

        cert_manager = (
            CertManager(f"{name}-cert-manager", CertManagerArgs(args.timeout_seconds), child).release
            if install.cert_manager
            else check("cert-manager")
        )
        istio_crds: pulumi.Resource
        istiod: pulumi.Resource
        gateway: pulumi.Resource
        if install.istio:
            istio = Istio(f"{name}-istio", IstioArgs(args.exposure, args.timeout_seconds), child)
            istio_crds, istiod, gateway = istio.base, istio.istiod, istio.gateway
        else:
            istio_crds = istiod = gateway = check("istio", ingress_class=kserve_standard)

        if args.exposure.address_from_status:
            probe = service_address(
                f"{name}-ingress-address",
                service=GATEWAY_SERVICE,
                from_status=args.ingress_address is None,
                kubeconfig=args.kubeconfig,
                timeout_seconds=args.timeout_seconds,
                missing_key=None if install.istio else "installIstio",
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[gateway])),
            )
            self.ingress_gateway = probe
            address = pulumi.Output.from_input(
                args.ingress_address if args.ingress_address is not None else probe.stdout.apply(str.strip)
            )
        else:
            assert args.ingress_address is not None, "a target that does not read its address must give it"
            self.ingress_gateway = gateway
            address = pulumi.Output.from_input(args.ingress_address)
        self.ingress_address = address
        self.ingress_domain = address.apply(lambda value: args.ingress_domain or ingress_domain(value))

        if args.serving is Serving.SELDON:
            seldon = Seldon(
                f"{name}-seldon",
                SeldonArgs(
                    kubeconfig=args.kubeconfig,
                    cert_manager=cert_manager,
                    istio_crds=istio_crds,
                    istiod=istiod,
                    timeout_seconds=args.timeout_seconds,
                ),
                child,
            )
            self.serving_ready = seldon.webhook_ready
        else:
            knative_serving = None
            if args.deployment_mode is DeploymentMode.KNATIVE:
                knative_serving = (
                    Knative(
                        f"{name}-knative",
                        KnativeArgs(domain=self.ingress_domain, istio_crds=istio_crds, timeout_seconds=args.timeout_seconds),
                        child,
                    ).serving
                    if install.knative
                    else check("knative", after=[istio_crds], domain=args.ingress_domain)
                )
            kserve = KServe(
                f"{name}-kserve",
                KServeArgs(
                    deployment_mode=args.deployment_mode,
                    domain=self.ingress_domain,
                    kubeconfig=args.kubeconfig,
                    cert_manager=cert_manager,
                    istio_crds=istio_crds,
                    knative_serving=knative_serving,
                    timeout_seconds=args.timeout_seconds,
                ),
                child,
            )
            self.serving_ready = kserve.runtimes
        self.register_outputs(
            {"ingress_address": self.ingress_address, "ingress_domain": self.ingress_domain, "serving_ready": self.serving_ready.urn}
        )
