"""Small building blocks shared by the components that create Kubernetes objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import versions


def after(opts: pulumi.ResourceOptions, *resources: pulumi.Resource | None) -> pulumi.ResourceOptions:
    """`opts` plus explicit dependencies on `resources` (None entries are ignored)."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[r for r in resources if r is not None]))


RESTRICTED = "restricted"
BASELINE = "baseline"


def pod_security_labels(enforce: str) -> dict[str, str]:
    """Pod Security admission labels: `enforce` at the strictest level the namespace's pods meet
    (docs/security.md says which and why, per namespace), and warnings and audit entries for
    anything short of "restricted", judged by the Kubernetes minor servebox pins."""
    version = "v" + ".".join(versions.KUBERNETES_VERSION.split(".")[:2])
    labels = {}
    for mode, level in (("enforce", enforce), ("warn", RESTRICTED), ("audit", RESTRICTED)):
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = version
    return labels


def namespace(
    resource_name: str, name: str, labels: Mapping[str, str], opts: pulumi.ResourceOptions, *, enforce: str
) -> k8s.core.v1.Namespace:
    """A namespace owned by the stack (created by up, deleted by destroy), enforcing Pod Security
    level `enforce` (RESTRICTED or BASELINE)."""
    return k8s.core.v1.Namespace(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, labels={**labels, **pod_security_labels(enforce)}),
        opts=opts,
    )


def custom_resource(
    resource_name: str,
    manifest: pulumi.Input[Mapping[str, Any]],
    *,
    api_version: str,
    kind: str,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """A custom resource from a manifest built (and schema-tested) as a plain dict.

    `namespace` is passed separately so that the resource depends on the Namespace resource.
    """
    manifest = pulumi.Output.from_input(manifest)
    metadata = manifest["metadata"]
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=api_version,
        kind=kind,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=metadata["name"],
            namespace=namespace,
            labels=metadata["labels"],
            annotations=metadata["annotations"],
        ),
        spec=manifest["spec"],
        opts=opts,
    )
