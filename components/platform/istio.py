"""Istio: the ingress gateway every model request comes through, and the CRDs Knative uses.

Order inside: `base` (CRDs, fail-open validation webhook) -> `istiod` -> the `gateway` chart released
as `istio-ingressgateway`. The gateway must wait for istiod: its image is `auto`, filled in by
istiod's injection webhook when the pod is created. The release name gives the pods the label
`istio: ingressgateway`, which Knative's gateways and Istio's Ingress support select.
https://istio.io/latest/docs/setup/install/helm/
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import kube, versions
from components.cluster.base import IngressExposure
from components.naming import component_type, standard_labels
from components.platform import helm

NAMESPACE = "istio-system"
GATEWAY_RELEASE = "istio-ingressgateway"
GATEWAY_SERVICE = f"{NAMESPACE}/{GATEWAY_RELEASE}"
"""The gateway's Service: the release name, in Istio's namespace (also where an existing Istio has it)."""
INGRESS_CLASS = "istio"
GATEWAY_POD_LABELS = {"istio": "ingressgateway"}
"""What the gateway chart labels its pods with (`istio: <release without istio->`), as Istio's
Gateway objects and KServe select them, on an existing cluster's Istio too."""


def base_values() -> dict:
    """Values of the `base` chart."""
    return {"defaultRevision": "default"}


def istiod_values() -> dict:
    """One small istiod: no autoscaling, no automatic sidecars (KServe runs without them)."""
    return {
        "autoscaleEnabled": False,
        "replicaCount": 1,
        "resources": {"requests": {"cpu": "25m", "memory": "128Mi"}},
        "global": {"proxy": {"autoInject": "disabled"}},
    }


def gateway_values(exposure: IngressExposure) -> dict:
    """One small gateway, exposed the way the target can reach it."""
    service: dict = {"type": exposure.service_type}
    if exposure.service_type == "NodePort":
        # Helm replaces lists whole, so all three of the chart's ports are restated.
        service["ports"] = [
            {"name": "status-port", "port": 15021, "protocol": "TCP", "targetPort": 15021},
            {"name": "http2", "port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": exposure.http_node_port},
            {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443},
        ]
    return {
        "service": service,
        "autoscaling": {"enabled": False},
        "replicaCount": 1,
        "resources": {"requests": {"cpu": "25m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
    }


def ingress_class() -> dict:
    """The IngressClass Istio serves; no Istio chart creates it, and without it Istio ignores
    Ingresses that name class `istio` (KServe's Standard mode creates such Ingresses)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": INGRESS_CLASS, "labels": standard_labels("istio", versions.ISTIO_VERSION)},
        "spec": {"controller": "istio.io/ingress-controller"},
    }


@dataclass(frozen=True)
class IstioArgs:
    """Inputs of the Istio install."""

    exposure: IngressExposure
    """How the gateway Service is exposed on this target (NodePort on kind)."""
    timeout_seconds: int
    """Time limit of each release."""


class Istio(pulumi.ComponentResource):
    """Istio base, istiod and the ingress gateway, each released once the one before serves."""

    base: k8s.helm.v3.Release
    """CRDs; Knative's gateways need them."""
    istiod: k8s.helm.v3.Release
    """Control plane (and the injection webhook the gateway needs)."""
    gateway: k8s.helm.v3.Release
    """The ingress gateway; ready means requests can reach the cluster."""

    def __init__(self, name: str, args: IstioArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("platform", "Istio"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = kube.namespace(f"{name}-namespace", NAMESPACE, standard_labels("istio"), child, enforce=kube.BASELINE)

        def step(
            role: str, chart: versions.Chart, release_name: str, values: dict, after: list, skip_await: bool = False
        ) -> k8s.helm.v3.Release:
            return helm.release(
                f"{name}-{role}",
                chart,
                ns,
                release_name=release_name,
                values=values,
                timeout_seconds=args.timeout_seconds,
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=after)),
                skip_await=skip_await,
            )

        self.base = step("base", versions.ISTIO_BASE, "istio-base", base_values(), [])
        self.istiod = step("istiod", versions.ISTIOD, "istiod", istiod_values(), [self.base])
        # Helm would wait for a load-balancer address without saying why it waits; where the address
        # comes from the cloud, the platform's address probe waits instead and says what to check.
        self.gateway = step(
            "gateway",
            versions.ISTIO_GATEWAY,
            GATEWAY_RELEASE,
            gateway_values(args.exposure),
            [self.istiod],
            skip_await=args.exposure.address_from_status,
        )
        manifest = ingress_class()
        k8s.networking.v1.IngressClass(
            f"{name}-ingress-class",
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=child,
        )
        self.register_outputs({"gateway": self.gateway.status})
