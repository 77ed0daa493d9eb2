"""Where models are stored: a private bucket and an identity that can only read it (base.py)."""

from __future__ import annotations

from typing import cast

import pulumi

from components.cluster.base import Cluster, VmCluster
from components.config import Settings, Target
from components.naming import bucket_name, cloud_labels, gcs_bucket_name, s3_bucket_prefix
from components.storage.base import ModelStore, PredictorCredentials, StoredObject
from components.storage.gcs import GcsStore, GcsStoreArgs
from components.storage.minio import MinioStore, MinioStoreArgs
from components.storage.s3 import S3Store, S3StoreArgs

__all__ = [
    "GcsStore",
    "GcsStoreArgs",
    "MinioStore",
    "MinioStoreArgs",
    "ModelStore",
    "PredictorCredentials",
    "S3Store",
    "S3StoreArgs",
    "StoredObject",
    "create_store",
]


def create_store(
    settings: Settings, cluster: Cluster, cloud_provider: pulumi.ProviderResource | None = None
) -> ModelStore:
    """The store of the configured target: MinIO in a kind cluster, GCS beside a GCP VM, S3 beside an EC2 one."""
    if settings.target is Target.KIND:
        return MinioStore(
            "store",
            MinioStoreArgs(bucket=bucket_name(settings.project, settings.stack), host_port=settings.kind.store_host_port),
            opts=pulumi.ResourceOptions(providers=[cluster.provider]),
        )
    vm_cluster = cast(VmCluster, cluster)  # on the VM targets below, the cluster is a VM
    if settings.target is Target.GCP:
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
        return S3Store(
            "store",
            S3StoreArgs(
                bucket_prefix=s3_bucket_prefix(settings.project, settings.stack),
                reader_role=vm_cluster.node_identity,
            ),
            opts=pulumi.ResourceOptions(providers=[cloud_provider] if cloud_provider else None),
        )
    raise ValueError(f"target {settings.target.value!r} has no store implementation")
