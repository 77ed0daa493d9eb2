"""The contract every model store meets, so the model layer never knows which store is behind it.

A store owns a private bucket, uploads files into it as tracked resources (content-addressed by the
caller's key, deleted by destroy) and says how the predictor may read them: a Secret of keys for the
predictor's ServiceAccount where the store needs keys (MinIO), nothing at all where the node's own
cloud identity reads the bucket (GCS on a GCP VM, S3 on an EC2 one), or an annotation on that
ServiceAccount that makes it a cloud principal of its own (Workload Identity on GKE, IRSA on EKS).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi


@dataclass(frozen=True)
class StoredObject:
    """An object uploaded to the store."""

    resource: pulumi.Resource
    """The tracked upload; depend on it before anything reads the object."""
    uri: pulumi.Output[str]
    """<scheme>://bucket/key of the object's directory (KServe's storageUri points at directories)."""


@dataclass(frozen=True)
class PredictorCredentials:
    """Keys the predictor reads the store with, as KServe's storage initializer takes them: the data
    of a Secret its ServiceAccount lists, and that Secret's annotations."""

    data: pulumi.Output[dict[str, str]]
    """The Secret's data; always a Pulumi secret."""
    annotations: dict[str, str]
    """How the storage initializer reaches the store (KServe's serving.kserve.io/s3-* keys)."""
    environment: pulumi.Output[dict[str, str]]
    """The same, as the environment of an init container that reads the store (what KServe's
    injector derives from data and annotations; Seldon passes a Secret of it by `envSecretRefName`).
    Always a Pulumi secret."""


class ModelStore(Protocol):
    """What the model layer needs of a store (read-only: a store may narrow each type)."""

    @property
    def bucket(self) -> pulumi.Output[str]:
        """The private bucket."""
        ...

    @property
    def predictor_credentials(self) -> PredictorCredentials | None:
        """Keys for the predictor, or None where it reads keyless."""
        ...

    @property
    def service_account_annotations(self) -> pulumi.Input[dict[str, str]] | None:
        """What makes the predictor's ServiceAccount the store's reader (Workload Identity, IRSA), or None."""
        ...

    @property
    def predictor_egress(self) -> tuple[dict[str, Any], ...]:
        """NetworkPolicy egress rules a predictor needs to read the store (components/network_policy.py)."""
        ...

    def upload(
        self, resource_name: str, local_path: str, key: str, parent: pulumi.Resource, aliases: Sequence[str] = ()
    ) -> StoredObject:
        """Upload `local_path` as `key`; the tracked object and the URI of its directory. `aliases`:
        names the same object had before (kept by the engine as this resource, not made anew)."""
        ...


def prefix_read_policy(bucket: str, prefix: str) -> str:
    """An S3 IAM policy (MinIO's and AWS's alike) that lists and reads the objects under `prefix/`
    of `bucket`, and nothing else: ListBucket only with an s3:prefix inside it (KServe's storage
    initializer lists the model's directory, then gets each object)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": [f"arn:aws:s3:::{bucket}"]},
                {
                    "Effect": "Allow",
                    "Action": ["s3:ListBucket"],
                    "Resource": [f"arn:aws:s3:::{bucket}"],
                    "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/*"]}},
                },
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/{prefix}/*"]},
            ],
        },
        sort_keys=True,
    )


class PrefixStore:
    """A store narrowed to one prefix and one reader: the store contract for one attendee of a
    shared workshop. Uploads go under `<prefix>/`; the reader (keys, or a cloud identity named on
    the predictor's ServiceAccount) reads that prefix only."""

    def __init__(
        self,
        store: ModelStore,
        prefix: str,
        credentials: PredictorCredentials | None = None,
        annotations: pulumi.Input[dict[str, str]] | None = None,
    ) -> None:
        self._store, self.prefix = store, prefix
        self.predictor_credentials = credentials
        self.service_account_annotations = annotations

    @property
    def bucket(self) -> pulumi.Output[str]:
        return self._store.bucket

    @property
    def predictor_egress(self) -> tuple[dict[str, Any], ...]:
        return self._store.predictor_egress

    def upload(
        self, resource_name: str, local_path: str, key: str, parent: pulumi.Resource, aliases: Sequence[str] = ()
    ) -> StoredObject:
        """Upload under the prefix: `key` becomes `<prefix>/<key>`."""
        return self._store.upload(resource_name, local_path, f"{self.prefix}/{key}", parent, aliases)


class SharedStore(ModelStore, Protocol):
    """A store a shared workshop's attendees can each have a corner of."""

    def prefix_reader(
        self, name: str, prefix: str, reader_namespace: str, service_accounts: tuple[str, ...], parent: pulumi.Resource
    ) -> PrefixStore:
        """The store as one attendee sees it: uploads under `prefix/`, read by an identity of their own
        that reaches that prefix only, from `reader_namespace` (its predictors' ServiceAccounts
        `service_accounts`). Every resource is the attendee's own, named `<name>-...`."""
        ...
