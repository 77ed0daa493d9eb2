"""Where Kubernetes runs: every target yields the same `Cluster` contract (see base.py).

A cloud's SDK (pulumi_gcp, pulumi_aws) is imported only on that cloud's path: a stack's venv holds
only the provider packages its target uses (scripts/venv.sh), since the engine installs a plugin for
every one it finds there (tests/ENGINE.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pulumi

from components import host
from components.cluster.base import Cluster, IngressExposure
from components.cluster.existing import ExistingCluster, ExistingClusterArgs
from components.cluster.kind import KindCluster, KindClusterArgs
from components.config import Settings, StoreKind, Target
from components.naming import aws_tags, cloud_labels, gcp_service_account_id, kind_cluster_name, vm_name

if TYPE_CHECKING:
    import pulumi_aws
    import pulumi_gcp

__all__ = [
    "Cluster",
    "ExistingCluster",
    "ExistingClusterArgs",
    "IngressExposure",
    "KindCluster",
    "KindClusterArgs",
    "aws_provider",
    "cloud_provider",
    "create_cluster",
    "gcp_provider",
]


def gcp_provider(settings: Settings) -> pulumi_gcp.Provider:
    """The one Google provider of a stack on Google Cloud: its project, region (and a VM's zone), and
    the stack's labels on every resource that takes labels."""
    pulumi_gcp = _cloud_sdk("pulumi_gcp", "pulumi-gcp", "requirements-gcp.txt", settings)

    if settings.gcp is not None:
        project, region, zone = settings.gcp.project, settings.gcp.region, settings.gcp.zone
    else:
        existing = settings.existing
        assert existing is not None and existing.gcp_project and existing.gcp_region
        project, region, zone = existing.gcp_project, existing.gcp_region, None
    return pulumi_gcp.Provider(
        "gcp", project=project, region=region, zone=zone, default_labels=cloud_labels(settings.project, settings.stack)
    )


def aws_provider(settings: Settings) -> pulumi_aws.Provider:
    """The one AWS provider of a stack on AWS: its region, and the stack's tags on every resource."""
    pulumi_aws = _cloud_sdk("pulumi_aws", "pulumi-aws", "requirements-aws.txt", settings)

    region = settings.aws.region if settings.aws is not None else settings.existing.aws_region if settings.existing else None
    return pulumi_aws.Provider(
        "aws",
        region=region,
        default_tags=pulumi_aws.ProviderDefaultTagsArgs(tags=aws_tags(settings.project, settings.stack)),
    )


def _cloud_sdk(module: str, package: str, lock: str, settings: Settings) -> Any:
    """A cloud's SDK, or a clear error where the venv lacks it: a venv holds only the providers of the
    stacks it was made for (scripts/venv.sh), and this stack's cloud may not be one of them."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        raise pulumi.RunError(
            f"stack {settings.stack} runs on {package.removeprefix('pulumi-')}, but its provider package {package} is "
            f"not in this venv. Fix: scripts/up.sh {settings.stack} (it installs what the stack needs), or "
            f".venv/bin/pip install -r {lock}"
        ) from None


def cloud_provider(settings: Settings) -> pulumi.ProviderResource | None:
    """The cloud provider a stack's cluster and store share: a VM target's, or an existing cluster's
    cloud where its store lives there (gcs, s3); None on kind and with MinIO."""
    if settings.target is Target.GCP or (settings.target is Target.EXISTING and settings.store is StoreKind.GCS):
        return gcp_provider(settings)
    if settings.target is Target.AWS or (settings.target is Target.EXISTING and settings.store is StoreKind.S3):
        return aws_provider(settings)
    return None


def _vm_args(settings: Settings) -> dict[str, Any]:
    """What both VM targets' args take alike: the VM's name (also the kube context's), its TTL and
    network settings, when it is created, and how long each step may take."""
    assert settings.vm is not None
    base = vm_name(settings.project, settings.stack)
    return {"base_name": base, "context_name": base, "vm": settings.vm, "created_at": host.now(),
            "timeout_seconds": settings.install_timeout_seconds}


def create_cluster(settings: Settings, cloud: pulumi.ProviderResource | None = None) -> Cluster:
    """The cluster of the configured target (config.py has already refused targets not built yet)."""
    if settings.target is Target.KIND:
        return KindCluster(
            "cluster",
            KindClusterArgs(
                cluster_name=kind_cluster_name(settings.project, settings.stack),
                host_port=settings.kind.host_port,
                store_host_port=settings.kind.store_host_port,
            ),
        )
    if settings.target is Target.GCP:
        from components.cluster.gcp import GcpVmCluster, GcpVmClusterArgs

        assert settings.gcp is not None and cloud is not None
        return GcpVmCluster(
            "cluster",
            GcpVmClusterArgs(
                **_vm_args(settings),
                service_account_id=gcp_service_account_id(settings.project, settings.stack),
                gcp=settings.gcp,
                labels=cloud_labels(settings.project, settings.stack),
            ),
            opts=pulumi.ResourceOptions(providers=[cloud]),
        )
    if settings.target is Target.AWS:
        from components.cluster.aws import AwsVmCluster, AwsVmClusterArgs

        assert settings.aws is not None and cloud is not None
        return AwsVmCluster(
            "cluster",
            AwsVmClusterArgs(**_vm_args(settings), aws=settings.aws, tags=aws_tags(settings.project, settings.stack)),
            opts=pulumi.ResourceOptions(providers=[cloud]),
        )
    if settings.target is Target.EXISTING:
        existing = settings.existing
        assert existing is not None
        return ExistingCluster(
            "cluster",
            ExistingClusterArgs(
                kubeconfig=existing.kubeconfig,
                context=existing.cluster.context,
                server=existing.cluster.server,
                ingress_address=existing.ingress_address,
                gke_workload_pool=existing.workload_pool if settings.store is StoreKind.GCS else None,
                eks_cluster=existing.eks_cluster if settings.store is StoreKind.S3 else None,
            ),
            opts=pulumi.ResourceOptions(providers=[cloud]) if cloud is not None else None,
        )
    raise ValueError(f"target {settings.target.value!r} has no cluster implementation")
