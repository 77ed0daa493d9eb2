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

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components import network_policy
from components.cluster.base import GkeWorkloadIdentity
from components.naming import component_type
from components.storage.base import PredictorCredentials, PrefixStore, StoredObject

METADATA_SERVER = "169.254.169.254/32"
"""Where a Compute Engine VM (and a GKE pod) gets its access tokens."""
GKE_METADATA_SERVER = "169.254.169.252/32"
READER_ROLE = "roles/storage.objectViewer"
"""storage.objects.get and storage.objects.list: what the storage initializer calls, nothing more."""
WORKLOAD_IDENTITY_ROLE = "roles/iam.workloadIdentityUser"
LISTER_ROLE = "roles/storage.legacyBucketReader"
"""storage.buckets.get and storage.objects.list: what a prefix-limited reader needs beside its
objects (the storage initializer lists the model's directory first)."""


def prefix_condition(bucket: str, prefix: str) -> str:
    """The IAM condition that limits a grant to the objects under `prefix/` (CEL over the object's
    resource name, https://cloud.google.com/storage/docs/access-control/iam#conditions)."""
    return f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{prefix}/")'


def attendee_account_id(reader_account_id: str, attendee: str) -> str:
    """A Google service account id (6-30 characters) of its own per attendee: the stack's reader's
    stem, a digest of the attendee (ids may be up to 20 characters), the attendee's start."""
    digest = hashlib.sha256(f"{reader_account_id}/{attendee}".encode()).hexdigest()[:6]
    return f"{reader_account_id[:10].rstrip('-')}-{attendee[:12].rstrip('-')}-{digest}"
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
            self._ready += _workload_identity_users(name, account, reader.identity, reader.service_accounts, child)
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
        self._reader = reader
        self.bucket = bucket.name
        self.register_outputs({"bucket": self.bucket})

    def prefix_reader(
        self, name: str, prefix: str, reader_namespace: str, service_accounts: tuple[str, ...], parent: pulumi.Resource
    ) -> PrefixStore:
        """An attendee's corner (base.SharedStore), on GKE: a Google service account of their own
        that their predictors act as through Workload Identity, reading the objects under `prefix/`
        only (an IAM condition on the object's name). Listing is a bucket permission that IAM
        conditions cannot narrow by prefix, so it lists every object's name; GCS's own answer to
        that is managed folders, which servebox does not make."""
        reader = self._reader
        if not isinstance(reader, WorkloadIdentityReader):
            raise ValueError("a GCS store has attendees only on GKE, through Workload Identity")
        child = pulumi.ResourceOptions(parent=parent, provider=self._provider)
        account = gcp.serviceaccount.Account(
            f"{name}-reader-account",
            account_id=attendee_account_id(reader.account_id, prefix),
            display_name=f"servebox attendee {prefix}: reads its prefix",
            opts=child,
        )
        accounts = tuple((reader_namespace, service_account) for service_account in service_accounts)
        ready = _workload_identity_users(name, account, reader.identity, accounts, child)
        member = pulumi.Output.concat("serviceAccount:", account.email)
        ready.append(gcp.storage.BucketIAMMember(
            f"{name}-reader",
            bucket=self.bucket,
            role=READER_ROLE,
            member=member,
            condition=gcp.storage.BucketIAMMemberConditionArgs(
                title=f"servebox-{prefix}",
                description=f"objects under {prefix}/ only",
                expression=self.bucket.apply(lambda bucket: prefix_condition(bucket, prefix)),
            ),
            opts=child,
        ))
        ready.append(gcp.storage.BucketIAMMember(f"{name}-lister", bucket=self.bucket, role=LISTER_ROLE, member=member, opts=child))
        self._ready.extend(ready)
        return PrefixStore(self, prefix, annotations=account.email.apply(lambda email: {SERVICE_ACCOUNT_ANNOTATION: email}))

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


def _workload_identity_users(
    name: str,
    account: gcp.serviceaccount.Account,
    identity: GkeWorkloadIdentity,
    service_accounts: tuple[tuple[str, str], ...],
    opts: pulumi.ResourceOptions,
) -> list[pulumi.Resource]:
    """Exactly these Kubernetes ServiceAccounts ((namespace, name) each) may act as `account`; no
    key is ever made."""
    return [
        gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity-{service_account}",
            service_account_id=account.name,
            role=WORKLOAD_IDENTITY_ROLE,
            member=identity.member(namespace, service_account),
            opts=opts,
        )
        for namespace, service_account in service_accounts
    ]
