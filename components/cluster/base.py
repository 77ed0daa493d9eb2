"""The contract every cluster target fulfils, so the platform and model layers are written once.

A target (kind, a GCP or AWS VM, an existing cluster) creates or finds a cluster and hands over:
one Kubernetes provider, the kubeconfig as a secret, how the ingress gateway must be exposed there,
and the address users reach it at (or that the platform must read it from the gateway's load
balancer). VM targets add the node's cloud identity, SSH and the TTL (VmCluster); existing clusters
add how their ServiceAccounts become cloud principals (Workload Identity, IRSA).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class IngressExposure:
    """How the Istio ingress gateway Service is exposed on this target."""

    service_type: str
    """`NodePort` where nothing hands out load-balancer IPs (kind), `LoadBalancer` where something does."""
    http_node_port: int | None = None
    """Fixed NodePort for HTTP when service_type is NodePort (the port the host mapping points at)."""
    address_from_status: bool = False
    """The gateway's address is not known to the target: the platform waits for the Service's
    load-balancer status (and for the gateway to serve) instead of Helm waiting on it."""


class Cluster(Protocol):
    """What a target gives the layers above it (read-only: a target may narrow each type, e.g. an
    ingress address that is never None)."""

    @property
    def provider(self) -> k8s.Provider:
        """The one Kubernetes provider every platform and model resource uses."""
        ...

    @property
    def kubeconfig(self) -> pulumi.Output[str]:
        """Admin kubeconfig; always a Pulumi secret."""
        ...

    @property
    def context(self) -> pulumi.Output[str]:
        """The kubeconfig context name, for `kubectl --context`."""
        ...

    @property
    def ingress_address(self) -> pulumi.Output[str] | None:
        """IP address (or DNS name) the ingress is reached at from where the user stands; None where the
        platform reads it from the gateway Service's load-balancer status (exposure.address_from_status)."""
        ...

    @property
    def ingress_port(self) -> pulumi.Output[int]:
        """Port the ingress answers HTTP on at ingress_address."""
        ...

    @property
    def exposure(self) -> IngressExposure:
        """How the gateway Service must be exposed on this target."""
        ...


class VmCluster(Cluster, Protocol):
    """What a VM target (gcp, aws) gives on top: the node's cloud identity, SSH, and the TTL."""

    @property
    def node_identity(self) -> pulumi.Output[str]:
        """The cloud principal the node runs as (GCP: the VM's service account email); stores grant it
        read access to the model bucket."""
        ...

    @property
    def ssh_private_key(self) -> pulumi.Output[str]:
        """Private half of the SSH key that opens the VM; always a secret."""
        ...

    @property
    def ssh_host_key(self) -> pulumi.Output[str]:
        """The VM's SSH host key as read at first contact, for a pinned known_hosts."""
        ...

    @property
    def expires_at(self) -> pulumi.Output[str | None]:
        """When the TTL ends the VM (ISO 8601, UTC), or None without a TTL."""
        ...


@dataclass(frozen=True)
class GkeWorkloadIdentity:
    """GKE's Workload Identity: a Kubernetes ServiceAccount acts as a Google service account that
    grants it `roles/iam.workloadIdentityUser` and that its annotation names."""

    pool: str
    """The cluster's workload pool, <project>.svc.id.goog."""

    def member(self, namespace: str, service_account: str) -> str:
        """The IAM member that is exactly one Kubernetes ServiceAccount of the cluster."""
        return f"serviceAccount:{self.pool}[{namespace}/{service_account}]"


@dataclass(frozen=True)
class EksOidcProvider:
    """EKS's IAM roles for service accounts: a role whose trust policy names the cluster's IAM OIDC
    provider, with the ServiceAccount as `sub` and STS as `aud`."""

    arn: pulumi.Output[str]
    """ARN of the cluster's IAM OIDC identity provider."""
    issuer: pulumi.Output[str]
    """The issuer without its scheme (oidc.eks.<region>.amazonaws.com/id/<id>): the condition keys' prefix."""


class ExistingCluster(Cluster, Protocol):
    """What an existing cluster gives on top: how its ServiceAccounts get a cloud identity."""

    @property
    def workload_identity(self) -> GkeWorkloadIdentity | EksOidcProvider | None:
        """GKE's Workload Identity or EKS's OIDC provider where the store reads keyless; else None."""
        ...