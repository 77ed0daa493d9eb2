"""The contract every model store meets, so the model layer never knows which store is behind it.

A store owns a private bucket, uploads files into it as tracked resources (content-addressed by the
caller's key, deleted by destroy) and says how the predictor may read them: a Secret of keys for the
predictor's ServiceAccount where the store needs keys (MinIO), nothing at all where the node's own
cloud identity reads the bucket (GCS on a GCP VM, S3 on an EC2 one), or an annotation on that
ServiceAccount that makes it a cloud principal of its own (Workload Identity on GKE, IRSA on EKS).
"""

from __future__ import annotations

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