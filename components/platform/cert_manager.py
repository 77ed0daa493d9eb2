"""cert-manager: issues the serving certificates of KServe's webhook (and injects their CA).

Needs nothing but the cluster. Its release is the readiness gate for everything that creates
cert-manager objects: the chart's post-install hook `startupapicheck` dry-run-creates a Certificate
until the webhook answers, and the release waits for that hook.
https://cert-manager.io/docs/installation/helm/
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import kube, versions
from components.naming import component_type, standard_labels
from components.platform import helm

NAMESPACE = "cert-manager"

_SMALL = {"requests": {"cpu": "10m", "memory": "32Mi"}}


def chart_values() -> dict:
    """Values over the chart's defaults: CRDs owned by the release, small requests, patient check."""
    return {
        # keep=false: the CRDs belong to this release, so destroy removes them as well.
        "crds": {"enabled": True, "keep": False},
        "resources": _SMALL,
        "webhook": {"resources": _SMALL},
        "cainjector": {"resources": _SMALL},
        "startupapicheck": {"resources": _SMALL, "timeout": "5m"},
    }


@dataclass(frozen=True)
class CertManagerArgs:
    """Inputs of the cert-manager install."""

    timeout_seconds: int
    """Time limit of the release, its hook included."""


class CertManager(pulumi.ComponentResource):
    """cert-manager in its own namespace, done when its webhook serves."""

    release: k8s.helm.v3.Release
    """The Helm release; depend on it before creating Issuers or Certificates."""

    def __init__(self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("platform", "CertManager"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = kube.namespace(f"{name}-namespace", NAMESPACE, standard_labels("cert-manager"), child, enforce=kube.BASELINE)
        self.release = helm.release(
            f"{name}-release", versions.CERT_MANAGER, ns, values=chart_values(), timeout_seconds=args.timeout_seconds, opts=child
        )
        self.register_outputs({"release": self.release.status})
