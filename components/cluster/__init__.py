"""Where Kubernetes runs: every target yields the same `Cluster` contract (see base.py)."""

from __future__ import annotations

import pulumi
import pulumi_aws
import pulumi_gcp

from components import host
from components.cluster.aws import AwsVmCluster, AwsVmClusterArgs
from components.cluster.base import Cluster, IngressExposure
from components.cluster.gcp import GcpVmCluster, GcpVmClusterArgs
from components.cluster.kind import KindCluster, KindClusterArgs
from components.config import Settings, Target
from components.naming import aws_tags, cloud_labels, gcp_service_account_id, kind_cluster_name, vm_name

__all__ = [
    "AwsVmCluster",
    "AwsVmClusterArgs",
    "Cluster",
    "GcpVmCluster",
    "GcpVmClusterArgs",
    "IngressExposure",
    "KindCluster",
    "KindClusterArgs",
    "aws_provider",
    "cloud_provider",
    "create_cluster",
    "gcp_provider",
]


def gcp_provider(settings: Settings) -> pulumi_gcp.Provider:
    """The one Google provider of a gcp stack: its project, region and zone, and the stack's labels
    on every resource that takes labels."""
    assert settings.gcp is not None
    return pulumi_gcp.Provider(
        "gcp",
        project=settings.gcp.project,
        region=settings.gcp.region,
        zone=settings.gcp.zone,
        default_labels=cloud_labels(settings.project, settings.stack),
    )


def aws_provider(settings: Settings) -> pulumi_aws.Provider:
    """The one AWS provider of an aws stack: its region, and the stack's tags on every resource."""
    assert settings.aws is not None
    return pulumi_aws.Provider(
        "aws",
        region=settings.aws.region,
        default_tags=pulumi_aws.ProviderDefaultTagsArgs(tags=aws_tags(settings.project, settings.stack)),
    )


def cloud_provider(settings: Settings) -> pulumi.ProviderResource | None:
    """The cloud provider a VM target's cluster and store share; None on kind."""
    if settings.target is Target.GCP:
        return gcp_provider(settings)
    if settings.target is Target.AWS:
        return aws_provider(settings)
    return None


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
        assert settings.gcp is not None and settings.vm is not None and cloud is not None
        base = vm_name(settings.project, settings.stack)
        return GcpVmCluster(
            "cluster",
            GcpVmClusterArgs(
                base_name=base,
                service_account_id=gcp_service_account_id(settings.project, settings.stack),
                context_name=base,
                gcp=settings.gcp,
                vm=settings.vm,
                labels=cloud_labels(settings.project, settings.stack),
                created_at=host.now(),
                timeout_seconds=settings.install_timeout_seconds,
            ),
            opts=pulumi.ResourceOptions(providers=[cloud]),
        )
    if settings.target is Target.AWS:
        assert settings.aws is not None and settings.vm is not None and cloud is not None
        base = vm_name(settings.project, settings.stack)
        return AwsVmCluster(
            "cluster",
            AwsVmClusterArgs(
                base_name=base,
                context_name=base,
                aws=settings.aws,
                vm=settings.vm,
                tags=aws_tags(settings.project, settings.stack),
                created_at=host.now(),
                timeout_seconds=settings.install_timeout_seconds,
            ),
            opts=pulumi.ResourceOptions(providers=[cloud]),
        )
    raise ValueError(f"target {settings.target.value!r} has no cluster implementation")
