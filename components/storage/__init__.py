"""Where models are stored: a private bucket and an identity that can only read it (base.py)."""

from __future__ import annotations

from typing import Any, cast

import pulumi

from components.cluster.base import Cluster, EksOidcProvider, ExistingCluster, GkeWorkloadIdentity, VmCluster
from components.config import Settings, StoreKind, Target
from components.naming import (
    bucket_name,
    cloud_labels,
    gcp_reader_account_id,
    gcs_bucket_name,
    predictor_role_name,
    s3_bucket_prefix,
)
from components.storage.base import ModelStore, PredictorCredentials, StoredObject
from components.storage.minio import MinioLoadBalancer, MinioStore, MinioStoreArgs

# gcs.py and s3.py import their cloud's SDK: they are imported on their own path only.
__all__ = [
    "MinioStore",
    "MinioStoreArgs",
    "ModelStore",
    "PredictorCredentials",
    "StoredObject",
    "create_store",
]


def create_store(
    settings: Settings, cluster: Cluster, cloud_provider: pulumi.ProviderResource | None = None
) -> ModelStore:
    """The store of the configured target: MinIO in a kind cluster, GCS beside a GCP VM, S3 beside an
    EC2 one; on an existing cluster the `store` key's, read keyless through the cluster's identity."""
    if settings.target is Target.EXISTING:
        return _existing_store(settings, cast(ExistingCluster, cluster), cloud_provider)
    if settings.target is Target.KIND:
        return _minio(settings, cluster, host_port=settings.kind.store_host_port)
    vm_cluster = cast(VmCluster, cluster)  # on the VM targets below, the cluster is a VM
    if settings.store is StoreKind.MINIO:
        # A shared workshop: MinIO on the VM, its S3 API at the NodePort, open to adminCidrs only.
        return _minio(settings, cluster, node_address=vm_cluster.ingress_address)
    if settings.target is Target.GCP:
        from components.storage.gcs import GcsStore, GcsStoreArgs

        assert settings.gcp is not None
        return GcsStore(
            "store",
            GcsStoreArgs(
                bucket=gcs_bucket_name(settings.gcp.project, settings.project, settings.stack),
                location=settings.gcp.region,
                reader=vm_cluster.node_identity,
                labels=cloud_labels(settings.project, settings.stack),
            ),
            opts=pulumi.ResourceOptions(providers=[cloud_provider] if cloud_provider else None),
        )
    if settings.target is Target.AWS:
        from components.storage.s3 import S3Store, S3StoreArgs

        return S3Store(
            "store",
            S3StoreArgs(
                bucket_prefix=s3_bucket_prefix(settings.project, settings.stack),
                reader_role=vm_cluster.node_identity,
            ),
            opts=pulumi.ResourceOptions(providers=[cloud_provider] if cloud_provider else None),
        )
    raise ValueError(f"target {settings.target.value!r} has no store implementation")


def _existing_store(
    settings: Settings, cluster: ExistingCluster, cloud_provider: pulumi.ProviderResource | None
) -> ModelStore:
    existing = settings.existing
    assert existing is not None
    on_cloud = pulumi.ResourceOptions(providers=[cloud_provider] if cloud_provider else None)
    predictors = settings.predictor_service_accounts
    identity = cluster.workload_identity
    if settings.store is StoreKind.GCS:
        from components.storage.gcs import GcsStore, GcsStoreArgs, WorkloadIdentityReader

        assert isinstance(identity, GkeWorkloadIdentity) and existing.gcp_project and existing.gcp_region
        return GcsStore(
            "store",
            GcsStoreArgs(
                bucket=gcs_bucket_name(existing.gcp_project, settings.project, settings.stack),
                location=existing.gcp_region,
                reader=WorkloadIdentityReader(
                    identity, predictors, account_id=gcp_reader_account_id(settings.project, settings.stack)
                ),
                labels=cloud_labels(settings.project, settings.stack),
            ),
            opts=on_cloud,
        )
    if settings.store is StoreKind.S3:
        from components.storage.s3 import IrsaReader, S3Store, S3StoreArgs

        assert isinstance(identity, EksOidcProvider) and existing.aws_region
        return S3Store(
            "store",
            S3StoreArgs(
                bucket_prefix=s3_bucket_prefix(settings.project, settings.stack),
                reader_role=IrsaReader(
                    identity, predictors, role_name=predictor_role_name(settings.project, settings.stack), region=existing.aws_region
                ),
            ),
            opts=on_cloud,
        )
    return _minio(
        settings,
        cluster,
        load_balancer=MinioLoadBalancer(
            source_ranges=existing.admin_cidrs, kubeconfig=cluster.kubeconfig, timeout_seconds=settings.install_timeout_seconds
        ),
    )


def _minio(settings: Settings, cluster: Cluster, **exposure: Any) -> MinioStore:
    """MinIO in the cluster, reached from outside as `exposure` says (kind's host port, or a load balancer)."""
    return MinioStore(
        "store",
        MinioStoreArgs(
            bucket=bucket_name(settings.project, settings.stack),
            reader_namespace=settings.model.namespace,
            network_policies=settings.network_policies,
            **exposure,
        ),
        opts=pulumi.ResourceOptions(providers=[cluster.provider]),
    )
