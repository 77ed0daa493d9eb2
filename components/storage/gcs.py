"""The model store on GCP: a private GCS bucket that the VM's own service account can read, keyless.

The bucket has uniform bucket-level access and public access prevention enforced; the VM's
dedicated service account gets `roles/storage.objectViewer` on this bucket and nothing else. The
predictor carries no key and no Secret: KServe's storage initializer falls back to application
default credentials, which on a Compute Engine VM come from the metadata server as the VM's
service account (kserve/kserve python/storage/kserve_storage/kserve_storage.py@v0.20.0
`_download_gcs`). Every object is a resource of the stack, so destroy empties the bucket and
removes it.

On an existing GKE cluster the reader is a Google service account of the stack's own instead, which
exactly one Kubernetes ServiceAccount (the predictor's) may act as through Workload Identity
(`roles/iam.workloadIdentityUser` for `serviceAccount:<pool>[<namespace>/<name>]`), named by the
`iam.gke.io/gcp-service-account` annotation on it; the storage initializer's default credentials
then come from GKE's metadata server as that account.
https://cloud.google.com/storage/docs/uniform-bucket-level-access
https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components import network_policy
from components.cluster.base import GkeWorkloadIdentity
from components.naming import component_type
from components.storage.base import PredictorCredentials, StoredObject

METADATA_SERVER = "169.254.169.254/32"
"""Where a Compute Engine VM (and a GKE pod) gets its access tokens."""
GKE_METADATA_SERVER = "169.254.169.252/32"
READER_ROLE = "roles/storage.objectViewer"
"""storage.objects.get and storage.objects.list: what the storage initializer calls, nothing more."""
WORKLOAD_IDENTITY_ROLE = "roles/iam.workloadIdentityUser"
"""Lets the named Kubernetes ServiceAccount act as the Google service account, nothing more."""
SERVICE_ACCOUNT_ANNOTATION = "iam.gke.io/gcp-service-account"


@dataclass(frozen=True)
class WorkloadIdentityReader:
    """An existing GKE cluster's predictor, as the reader of the bucket."""

    identity: GkeWorkloadIdentity
    """The cluster's Workload Identity pool."""
    service_accounts: tuple[tuple[str, str], ...]
    """(namespace, name) of each served model's Kubernetes ServiceAccount."""
    account_id: str
    """Id of the Google service account created for it (naming.gcp_reader_account_id)."""


@dataclass(frozen=True)
class GcsStoreArgs:
    """Inputs of the GCS model store."""

    bucket: str
    """Bucket name: globally unique (naming.gcs_bucket_name), 3-63 characters."""
    location: str
    """The VM's region: reads stay in-region and cost no egress."""
    reader: pulumi.Input[str] | WorkloadIdentityReader
    """Who may read the bucket: the email of the VM's service account, or an existing GKE
    cluster's predictor through Workload Identity."""
    labels: dict[str, str]
    """Labels naming the project and the stack."""


class GcsStore(pulumi.ComponentResource):
    """A private bucket and a read-only grant for the VM's service account (or the predictor's own)."""

    bucket: pulumi.Output[str]
    predictor_credentials: PredictorCredentials | None = None
    """Keyless: no key exists, so the predictor gets no credentials at all."""
    service_account_annotations: pulumi.Output[dict[str, str]] | None = None
    """With Workload Identity: the annotation naming the Google service account."""
    predictor_egress: tuple[network_policy.Rule, ...]
    """GCS's API over HTTPS, and the metadata server the token comes from: the VM's, or on GKE the
    node's gke-metadata-server, which Workload Identity also reaches on 169.254.169.252:988
    (https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity#network-policy)."""

    def __init__(self, name: str, args: GcsStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("storage", "GcsStore"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.predictor_egress = (network_policy.https_to_the_internet(), network_policy.to_address(METADATA_SERVER, 80))
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
        reader = args.reader
        self._ready: list[pulumi.Resource] = []
        if isinstance(reader, WorkloadIdentityReader):
            account = gcp.serviceaccount.Account(
                f"{name}-reader-account",
                account_id=reader.account_id,
                display_name=f"servebox predictor: reads {args.bucket}",
                opts=child,
            )
            # Exactly the predictors' Kubernetes ServiceAccounts may act as it; no key is ever made.
            for namespace, service_account in reader.service_accounts:
                self._ready.append(
                    gcp.serviceaccount.IAMMember(
                        f"{name}-workload-identity-{service_account}",
                        service_account_id=account.name,
                        role=WORKLOAD_IDENTITY_ROLE,
                        member=reader.identity.member(namespace, service_account),
                        opts=child,
                    )
                )
            reader_email: pulumi.Input[str] = account.email
            self.service_account_annotations = account.email.apply(lambda email: {SERVICE_ACCOUNT_ANNOTATION: email})
            self.predictor_egress = (*self.predictor_egress, network_policy.to_address(GKE_METADATA_SERVER, 988))
        else:
            reader_email = reader
        self._grant = gcp.storage.BucketIAMMember(
            f"{name}-reader",
            bucket=bucket.name,
            role=READER_ROLE,
            member=pulumi.Output.concat("serviceAccount:", reader_email),
            opts=child,
        )
        self._ready.append(self._grant)
        self._provider = self.get_provider("gcp::")
        self.bucket = bucket.name
        self.register_outputs({"bucket": self.bucket})

    def upload(
        self, resource_name: str, local_path: str, key: str, parent: pulumi.Resource, aliases: Sequence[str] = ()
    ) -> StoredObject:
        """Upload `local_path` as `key`; readable by the VM once the object exists (the grant comes first)."""
        stored = gcp.storage.BucketObject(
            resource_name,
            bucket=self.bucket,
            name=key,
            source=pulumi.FileAsset(local_path),
            content_type="application/octet-stream",
            # The object belongs to the model, but is created with the store's provider.
            opts=pulumi.ResourceOptions(parent=parent, provider=self._provider, depends_on=self._ready, aliases=[pulumi.Alias(name=alias) for alias in aliases]),
        )
        directory = key.rsplit("/", 1)[0]
        return StoredObject(stored, pulumi.Output.concat("gs://", self.bucket, "/", directory))
