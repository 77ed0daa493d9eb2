"""The model store on GCP: a private GCS bucket that the VM's own service account can read, keyless.

The bucket has uniform bucket-level access and public access prevention enforced; the VM's
dedicated service account gets `roles/storage.objectViewer` on this bucket and nothing else. The
predictor carries no key and no Secret: KServe's storage initializer falls back to application
default credentials, which on a Compute Engine VM come from the metadata server as the VM's
service account (kserve/kserve python/storage/kserve_storage/kserve_storage.py@v0.20.0
`_download_gcs`). Every object is a resource of the stack, so destroy empties the bucket and
removes it.
https://cloud.google.com/storage/docs/uniform-bucket-level-access
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.naming import component_type
from components.storage.base import PredictorCredentials, StoredObject

READER_ROLE = "roles/storage.objectViewer"
"""storage.objects.get and storage.objects.list: what the storage initializer calls, nothing more."""


@dataclass(frozen=True)
class GcsStoreArgs:
    """Inputs of the GCS model store."""

    bucket: str
    """Bucket name: globally unique (naming.gcs_bucket_name), 3-63 characters."""
    location: str
    """The VM's region: reads stay in-region and cost no egress."""
    reader: pulumi.Input[str]
    """Email of the service account that may read the bucket (the VM's)."""
    labels: dict[str, str]
    """Labels naming the project and the stack."""


class GcsStore(pulumi.ComponentResource):
    """A private bucket and a read-only grant for the VM's service account."""

    bucket: pulumi.Output[str]
    predictor_credentials: PredictorCredentials | None = None
    """Keyless: the node's identity reads the bucket, so the predictor gets no credentials at all."""

    def __init__(self, name: str, args: GcsStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("storage", "GcsStore"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            name=args.bucket,
            location=args.location.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            # Every object is a tracked resource; this only matters for objects someone added by hand.
            force_destroy=True,
            labels=args.labels,
            opts=child,
        )
        self._grant = gcp.storage.BucketIAMMember(
            f"{name}-reader",
            bucket=bucket.name,
            role=READER_ROLE,
            member=pulumi.Output.concat("serviceAccount:", args.reader),
            opts=child,
        )
        self._provider = self.get_provider("gcp::")
        self.bucket = bucket.name
        self.register_outputs({"bucket": self.bucket})

    def upload(self, resource_name: str, local_path: str, key: str, parent: pulumi.Resource) -> StoredObject:
        """Upload `local_path` as `key`; readable by the VM once the object exists (the grant comes first)."""
        stored = gcp.storage.BucketObject(
            resource_name,
            bucket=self.bucket,
            name=key,
            source=pulumi.FileAsset(local_path),
            content_type="application/octet-stream",
            # The object belongs to the model, but is created with the store's provider.
            opts=pulumi.ResourceOptions(parent=parent, provider=self._provider, depends_on=[self._grant]),
        )
        directory = key.rsplit("/", 1)[0]
        return StoredObject(stored, pulumi.Output.concat("gs://", self.bucket, "/", directory))
