"""Seldon Core v1 (serving: seldon): the operator, its Istio Gateway, and a wait for its webhook.

The chart `seldon-core-operator` at the pinned version, with Istio on and pointed at our own
`Gateway`, cert-manager issuing its webhook certificate (the chart would otherwise mint a new one at
every upgrade), usage metrics off, small requests for the operator and for the executor it injects
into every model pod (the chart's default executor asks 500m CPU and 512Mi per SeldonDeployment),
KServe's storage initializer as the default model initializer (multi-arch, and it reads GCS and S3
keyless through the node's identity, which rclone's does not), and KServe's sklearn server
registered as a v2 server (`predictor_servers`). No Knative and no KServe controller are installed.
The webhook probe then dry-runs a SeldonDeployment until the operator's webhook admits it.
https://docs.seldon.io/projects/seldon-core/en/v1.17.1/
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s

from components import kube, versions
from components.manifests import render
from components.naming import component_type, standard_labels
from components.platform import helm
from components.platform import istio as istio_platform
from components.platform.readiness import webhook_ready

NAMESPACE = "seldon-system"
RELEASE = "seldon-core"
GATEWAY = "seldon-gateway"
WEBHOOK_SERVICE = f"{NAMESPACE}/seldon-webhook-service"
STORAGE_INITIALIZER = versions.KSERVE_RESOURCES.images[1]


def operator_values() -> dict:
    """seldon-core-operator values (key paths as in its values.yaml at the pinned tag)."""
    return {
        "istio": {"enabled": True, "gateway": f"{istio_platform.NAMESPACE}/{GATEWAY}"},
        "certManager": {"enabled": True},
        "usageMetrics": {"enabled": False},
        "manager": {"cpuRequest": "50m", "cpuLimit": "500m", "memoryRequest": "128Mi", "memoryLimit": "300Mi"},
        "executor": {
            "resources": {"cpuRequest": "50m", "cpuLimit": "500m", "memoryRequest": "64Mi", "memoryLimit": "256Mi"}
        },
        "storageInitializer": {
            "image": STORAGE_INITIALIZER.ref,
            "cpuRequest": "50m",
            "cpuLimit": "1",
            "memoryRequest": "128Mi",
            "memoryLimit": "1Gi",
        },
        # The operator's config format at v1.17.1 (operator/apis/machinelearning.seldon.io/v1/prepack.go),
        # not the older "rest"/"grpc" one its doc/source/servers/custom.md still shows.
        "predictor_servers": {
            versions.SELDON_SERVER_IMPLEMENTATION: {
                "protocols": {
                    "v2": {
                        "image": versions.SKLEARN_SERVER.repository,
                        "defaultImageVersion": versions.SKLEARN_SERVER.tag,
                    }
                }
            }
        },
    }


def gateway() -> dict:
    """The Istio Gateway the operator's VirtualServices bind to: HTTP on port 80 of our gateway."""
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {
            "name": GATEWAY,
            "namespace": istio_platform.NAMESPACE,
            "labels": standard_labels("seldon", versions.SELDON_VERSION),
            "annotations": {},
        },
        "spec": {
            "selector": {"istio": "ingressgateway"},
            "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}],
        },
    }


def webhook_probe_manifest() -> str:
    """The object the probe dry-runs (manifests/seldon/webhook-probe.yaml)."""
    return render(
        "seldon/webhook-probe.yaml",
        namespace=NAMESPACE,
        implementation=versions.SELDON_SERVER_IMPLEMENTATION,
        image=versions.SKLEARN_SERVER.ref,
    )


@dataclass(frozen=True)
class SeldonArgs:
    """Inputs of the Seldon Core install."""

    kubeconfig: pulumi.Input[str]
    """Secret kubeconfig for the webhook probe, which runs outside the provider."""
    cert_manager: pulumi.Resource
    """cert-manager, serving: the chart's Certificate for the operator's webhook."""
    istio_crds: pulumi.Resource
    """Istio's CRDs: the operator fails without VirtualService and DestinationRule."""
    istiod: pulumi.Resource
    """istiod, whose webhook validates the Gateway."""
    timeout_seconds: int
    """Time limit of the release and of the webhook probe."""


class Seldon(pulumi.ComponentResource):
    """The Seldon Core v1 operator, done when its webhook admits SeldonDeployments."""

    webhook_ready: command.local.Command
    """Completes once the operator's webhook admits objects; create SeldonDeployments after it."""
    operator: k8s.helm.v3.Release

    def __init__(self, name: str, args: SeldonArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("platform", "Seldon"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = kube.namespace(f"{name}-namespace", NAMESPACE, standard_labels("seldon"), child, enforce=kube.BASELINE)
        manifest = gateway()
        routes = kube.custom_resource(
            f"{name}-gateway",
            manifest,
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            namespace=istio_platform.NAMESPACE,
            opts=kube.after(child, args.istiod),
        )
        self.operator = helm.release(
            f"{name}-operator",
            versions.SELDON_CORE_OPERATOR,
            ns,
            release_name=RELEASE,
            values=operator_values(),
            timeout_seconds=args.timeout_seconds,
            opts=kube.after(child, args.cert_manager, args.istio_crds),
        )
        self.webhook_ready = webhook_ready(
            f"{name}-webhook-ready",
            plural="seldondeployments",
            service=WEBHOOK_SERVICE,
            manifest=webhook_probe_manifest(),
            kubeconfig=args.kubeconfig,
            timeout_seconds=args.timeout_seconds,
            # Models come after this: the operator admits them and the Gateway routes to them.
            opts=kube.after(child, self.operator, routes),
        )
        self.register_outputs({"operator": self.operator.status})
