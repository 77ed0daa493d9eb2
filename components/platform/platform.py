"""The serving platform, the same on every target: cert-manager, Istio, and Knative Serving with
KServe, or Seldon Core v1 instead of both (serving: seldon).

Install order is encoded as dependencies, and only where one step really needs another, so that
independent installs run in parallel (cert-manager does not wait for Istio, KServe's CRDs wait for
nothing). The longest chain of readiness waits in Knative mode is five:
istio-base -> KnativeServing -> kserve-resources -> webhook probe -> kserve-runtime-configs.
Standard mode installs no Knative. With Seldon: cert-manager ∥ istio-base -> seldon-core-operator ->
webhook probe, and istiod -> the Seldon Gateway.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.cluster.base import IngressExposure
from components.config import DeploymentMode, Serving
from components.naming import component_type
from components.platform.cert_manager import CertManager, CertManagerArgs
from components.platform.istio import Istio, IstioArgs
from components.platform.knative import Knative, KnativeArgs
from components.platform.kserve import KServe, KServeArgs
from components.platform.seldon import Seldon, SeldonArgs


@dataclass(frozen=True)
class PlatformArgs:
    """Inputs of the platform; the Kubernetes provider comes once, in the component's opts."""

    serving: Serving
    """KServe (with Knative in Knative mode) or Seldon Core."""
    deployment_mode: DeploymentMode
    """KServe mode; Knative mode also installs Knative Serving. Unused with Seldon."""
    exposure: IngressExposure
    """How the target exposes the ingress gateway."""
    ingress_ip: pulumi.Input[str]
    """Address users reach the ingress at; model domains are <ingress_ip>.sslip.io."""
    kubeconfig: pulumi.Input[str]
    """Secret kubeconfig, for the readiness probes that run beside the provider."""
    timeout_seconds: int
    """Time limit of each install step."""


class Platform(pulumi.ComponentResource):
    """Everything a model needs to be served, installed in order and awaited until it serves."""

    ingress_gateway: pulumi.Resource
    """The Istio ingress gateway release; a model's endpoint works once it is ready."""
    serving_ready: pulumi.Resource
    """The serving stack's webhook serving (and KServe's runtimes installed); create models after it."""

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("platform", "Platform"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cert_manager = CertManager(f"{name}-cert-manager", CertManagerArgs(args.timeout_seconds), child)
        istio = Istio(f"{name}-istio", IstioArgs(args.exposure, args.timeout_seconds), child)
        if args.serving is Serving.SELDON:
            seldon = Seldon(
                f"{name}-seldon",
                SeldonArgs(
                    kubeconfig=args.kubeconfig,
                    cert_manager=cert_manager.release,
                    istio_crds=istio.base,
                    istiod=istio.istiod,
                    timeout_seconds=args.timeout_seconds,
                ),
                child,
            )
            self.serving_ready = seldon.webhook_ready
        else:
            knative = None
            if args.deployment_mode is DeploymentMode.KNATIVE:
                knative = Knative(
                    f"{name}-knative",
                    KnativeArgs(ingress_ip=args.ingress_ip, istio_crds=istio.base, timeout_seconds=args.timeout_seconds),
                    child,
                )
            kserve = KServe(
                f"{name}-kserve",
                KServeArgs(
                    deployment_mode=args.deployment_mode,
                    ingress_ip=args.ingress_ip,
                    kubeconfig=args.kubeconfig,
                    cert_manager=cert_manager.release,
                    istio_crds=istio.base,
                    knative_serving=knative.serving if knative else None,
                    timeout_seconds=args.timeout_seconds,
                ),
                child,
            )
            self.serving_ready = kserve.runtimes
        self.ingress_gateway = istio.gateway
        self.register_outputs({"ingress_gateway": istio.gateway.status, "serving_ready": self.serving_ready.urn})
