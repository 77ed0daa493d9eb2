"""Knative Serving, installed by the Knative Operator: the serverless layer of KServe's Knative mode.

The operator chart goes in first (it needs nothing); the `KnativeServing` resource follows once the
operator serves and Istio's CRDs exist (the operator applies net-istio's Gateways). It is awaited
until its `Ready` condition is true (`pulumi.com/waitFor`), which the operator sets when every
Serving deployment is available. Its domain is `<ingress ip>.sslip.io`, so model URLs resolve with
no DNS setup.
https://knative.dev/docs/install/operator/knative-with-operators/
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import kube, versions
from components.naming import component_type, standard_labels
from components.platform import helm

OPERATOR_NAMESPACE = "knative-operator"
SERVING_NAMESPACE = "knative-serving"

ACTIVATOR_POD_LABELS = {"app": "activator"}
AUTOSCALER_POD_LABELS = {"app": "autoscaler"}
# The queue-proxy beside every Knative revision's container (knative.dev/networking constants):
# requests over HTTP/1 and h2c, and the autoscaler's metrics. Its admin port (8022) serves the
# kubelet's probes only, which come from the pod's node.
QUEUE_PROXY_REQUEST_PORTS = (8012, 8013)
QUEUE_PROXY_METRICS_PORT = 9090

# Knative's defaults plus Docker Hub and NVIDIA's registry (as KServe's installer does): the
# controller would otherwise resolve every image tag to a digest from inside the cluster, which
# fails offline, behind proxies and under Docker Hub's rate limits (kserve#3372, serving#9090).
REGISTRIES_SKIPPING_TAG_RESOLVING = "kind.local,ko.local,dev.local,index.docker.io,nvcr.io"

# Every Deployment the operator creates for Serving 1.21 with Istio, and its container.
SERVING_WORKLOADS = (
    ("activator", "activator"),
    ("autoscaler", "autoscaler"),
    ("autoscaler-hpa", "autoscaler-hpa"),
    ("controller", "controller"),
    ("webhook", "webhook"),
    ("net-istio-controller", "controller"),
    ("net-istio-webhook", "webhook"),
)
WORKLOAD_RESOURCES = {"requests": {"cpu": "5m", "memory": "32Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}


def operator_values() -> dict:
    """Small requests for the operator and its webhook."""
    small = {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
    return {"knative_operator": {"knative_operator": {"resources": small}, "operator_webhook": {"resources": small}}}


def knative_serving(domain: str) -> dict:
    """The KnativeServing resource for a cluster whose services get hosts under `domain`."""
    return {
        "apiVersion": "operator.knative.dev/v1beta1",
        "kind": "KnativeServing",
        "metadata": {
            "name": "knative-serving",
            "namespace": SERVING_NAMESPACE,
            "labels": standard_labels("knative-serving", versions.KNATIVE_VERSION),
            "annotations": {"pulumi.com/waitFor": "condition=Ready"},
        },
        "spec": {
            "version": versions.KNATIVE_VERSION,
            "ingress": {"istio": {"enabled": True}},
            "config": {
                "domain": {domain: ""},
                "deployment": {"registries-skipping-tag-resolving": REGISTRIES_SKIPPING_TAG_RESOLVING},
            },
            "workloads": [
                {"name": workload, "resources": [{"container": container, **WORKLOAD_RESOURCES}]}
                for workload, container in SERVING_WORKLOADS
            ],
        },
    }


@dataclass(frozen=True)
class KnativeArgs:
    """Inputs of the Knative Serving install."""

    domain: pulumi.Input[str]
    """The serving domain (<ingress ip>.sslip.io, or an existing cluster's)."""
    istio_crds: pulumi.Resource
    """The Istio release that provides the networking.istio.io CRDs (net-istio creates Gateways)."""
    timeout_seconds: int
    """Time limit of the operator release and of the KnativeServing wait."""


class Knative(pulumi.ComponentResource):
    """The Knative Operator and a KnativeServing, done when Serving is Ready."""

    serving: k8s.apiextensions.CustomResource
    """The KnativeServing resource; depend on it before anything that needs Knative Serving."""

    def __init__(self, name: str, args: KnativeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("platform", "Knative"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        operator_ns = kube.namespace(
            f"{name}-operator-namespace", OPERATOR_NAMESPACE, standard_labels("knative-operator"), child, enforce=kube.BASELINE
        )
        operator = helm.release(
            f"{name}-operator",
            versions.KNATIVE_OPERATOR,
            operator_ns,
            values=operator_values(),
            timeout_seconds=args.timeout_seconds,
            opts=child,
        )
        serving_ns = kube.namespace(
            f"{name}-serving-namespace", SERVING_NAMESPACE, standard_labels("knative-serving"), child, enforce=kube.BASELINE
        )
        self.serving = kube.custom_resource(
            f"{name}-serving",
            pulumi.Output.from_input(args.domain).apply(knative_serving),
            api_version="operator.knative.dev/v1beta1",
            kind="KnativeServing",
            namespace=serving_ns.metadata.name,
            opts=pulumi.ResourceOptions.merge(
                kube.after(child, operator, args.istio_crds),
                pulumi.ResourceOptions(
                    custom_timeouts=pulumi.CustomTimeouts(
                        create=f"{args.timeout_seconds}s", update=f"{args.timeout_seconds}s"
                    )
                ),
            ),
        )
        self.register_outputs({"serving": self.serving.id})
