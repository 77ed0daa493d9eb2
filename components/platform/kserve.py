"""KServe: the model-serving controller, its webhook and the serving runtimes.

Three charts in KServe's own order (kserve/kserve hack/setup/quick-install, v0.20.0):
`kserve-crd` (needs nothing) -> `kserve-resources` (needs cert-manager serving, because it creates
an Issuer and a Certificate; in Knative mode also Knative Serving, whose CRDs the controller looks
for when it starts) -> a webhook probe -> `kserve-runtime-configs` with the runtimes enabled (each
ClusterServingRuntime goes through the webhook). The probe is the real wait a Deployment's
readiness is not: see webhook_probe.py.
https://kserve.github.io/website/docs/admin-guide/serverless
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s

from components import kube, versions
from components.config import DeploymentMode
from components.manifests import render
from components.naming import component_type, standard_labels
from components.platform import helm
from components.platform.istio import INGRESS_CLASS
from components.platform.readiness import webhook_ready

NAMESPACE = "kserve"
WEBHOOK_SERVICE = f"{NAMESPACE}/kserve-webhook-server-service"
MODEL_HOST_TEMPLATE = "{{ .Name }}.{{ .Namespace }}.{{ .IngressDomain }}"


def model_host(name: str, namespace: str, domain: str) -> str:
    """The host an InferenceService answers on, in either mode (see MODEL_HOST_TEMPLATE)."""
    return f"{name}.{namespace}.{domain}"


REVISION_TAGS = ("latest", "prev")
"""The tags KServe gives a predictor's traffic targets in Knative mode (ksvc_reconciler.go at
v0.20.0): `latest` with serving.kserve.io/enable-tag-routing, `prev` whenever a canary splits."""


def revision_host(tag: str, name: str, namespace: str, domain: str) -> str:
    """A tagged revision's own host: Knative's default tag-template `{{.Tag}}-{{.Name}}` of the
    predictor's route (`<name>-predictor`), under its default domain-template."""
    return f"{tag}-{name}-predictor.{namespace}.{domain}"


def gateway_hosts(name: str, namespace: str, domain: str) -> tuple[str, ...]:
    """Every host the ingress gateway may route to a model: the InferenceService's, its
    predictor's (Knative publishes the predictor's route as well, and Standard mode's ingress
    names the component too) and its tagged revisions' (a canary's versions)."""
    return (
        model_host(name, namespace, domain),
        f"{name}-predictor.{namespace}.{domain}",
        *(revision_host(tag, name, namespace, domain) for tag in REVISION_TAGS),
    )


def resources_values(mode: DeploymentMode, domain: str) -> dict:
    """kserve-resources values: the mode, the sslip.io domain, Istio's ingress class, small requests."""
    return {
        "kserve": {
            "version": versions.KSERVE_VERSION,
            "controller": {
                "deploymentMode": mode.kserve_name,
                "gateway": {
                    "domain": domain,
                    # Knative's own template, so a model's host is <name>.<namespace>.<domain> in
                    # both modes (the chart's default joins name and namespace with '-').
                    "domainTemplate": MODEL_HOST_TEMPLATE,
                    "ingressGateway": {"className": INGRESS_CLASS},
                },
                "resources": {
                    "requests": {"cpu": "50m", "memory": "128Mi"},
                    "limits": {"cpu": "500m", "memory": "300Mi"},
                },
                "rbacProxy": {
                    "resources": {
                        "requests": {"cpu": "10m", "memory": "32Mi"},
                        "limits": {"cpu": "100m", "memory": "64Mi"},
                    }
                },
            },
        }
    }


def runtime_configs_values() -> dict:
    """kserve-runtime-configs values: the served runtimes on, every other one off, no moving tag.

    The chart's default is no runtime at all (`servingruntime.enabled: false`); with it on, the chart
    renders all of them, so each one is switched here (versions.SERVED_RUNTIMES) and the one image
    the chart leaves at `latest` is pinned (versions.ServingRuntime.tag_override).
    """
    per_runtime: dict[str, dict] = {}
    for runtime in versions.KSERVE_RUNTIMES:
        block = per_runtime.setdefault(runtime.values_key, {"disabled": True})
        if runtime.name in versions.SERVED_RUNTIMES:
            block["disabled"] = False
        if runtime.tag_override:
            block["tag"] = runtime.tag_override
    return {
        "kserve": {
            "version": versions.KSERVE_VERSION,
            "servingruntime": {"enabled": True, **per_runtime},
            "llmisvcConfigs": {"enabled": False},
        }
    }


def webhook_probe_manifest() -> str:
    """The object the probe dry-runs (manifests/kserve/webhook-probe.yaml)."""
    return render("kserve/webhook-probe.yaml", image=versions.PAUSE.ref)


@dataclass(frozen=True)
class KServeArgs:
    """Inputs of the KServe install."""

    deployment_mode: DeploymentMode
    """Knative (needs `knative_serving`) or Standard."""
    domain: pulumi.Input[str]
    """The domain model hosts are under (<ingress ip>.sslip.io, or an existing cluster's)."""
    kubeconfig: pulumi.Input[str]
    """Secret kubeconfig for the webhook probe, which runs outside the provider."""
    cert_manager: pulumi.Resource
    """cert-manager, serving: kserve-resources creates an Issuer and a Certificate."""
    istio_crds: pulumi.Resource
    """Istio's CRDs: the controller checks for VirtualService when it starts."""
    knative_serving: pulumi.Resource | None
    """KnativeServing, Ready; required in Knative mode, None in Standard mode."""
    timeout_seconds: int
    """Time limit of each release and of the webhook probe."""


class KServe(pulumi.ComponentResource):
    """KServe's CRDs, controller and runtimes, done when the runtimes are installed."""

    webhook_ready: command.local.Command
    """Completes once the KServe webhook admits objects; create InferenceServices after it."""
    runtimes: k8s.helm.v3.Release
    """The ClusterServingRuntimes."""

    def __init__(self, name: str, args: KServeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("platform", "KServe"), name, None, opts)
        if (args.deployment_mode is DeploymentMode.KNATIVE) != (args.knative_serving is not None):
            raise ValueError("KServeArgs.knative_serving is required in Knative mode and only there")
        child = pulumi.ResourceOptions(parent=self)

        ns = kube.namespace(f"{name}-namespace", NAMESPACE, standard_labels("kserve"), child, enforce=kube.BASELINE)
        crds = helm.release(f"{name}-crd", versions.KSERVE_CRD, ns, values={}, timeout_seconds=args.timeout_seconds, opts=child)
        values = pulumi.Output.from_input(args.domain).apply(
            lambda domain: resources_values(args.deployment_mode, domain)
        )
        controller = helm.release(
            f"{name}-resources",
            versions.KSERVE_RESOURCES,
            ns,
            values=values,
            timeout_seconds=args.timeout_seconds,
            opts=kube.after(child, crds, args.cert_manager, args.istio_crds, args.knative_serving),
        )
        self.webhook_ready = webhook_ready(
            f"{name}-webhook-ready",
            plural="clusterservingruntimes",
            service=WEBHOOK_SERVICE,
            manifest=webhook_probe_manifest(),
            kubeconfig=args.kubeconfig,
            timeout_seconds=args.timeout_seconds,
            opts=kube.after(child, controller),
        )
        self.runtimes = helm.release(
            f"{name}-runtime-configs",
            versions.KSERVE_RUNTIME_CONFIGS,
            ns,
            values=runtime_configs_values(),
            timeout_seconds=args.timeout_seconds,
            opts=kube.after(child, self.webhook_ready),
        )
        self.register_outputs({"runtimes": self.runtimes.status})
