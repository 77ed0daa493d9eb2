"""The contract every cluster target fulfils, so the platform and model layers are written once.

A target (kind, a GCP VM; an AWS VM and existing clusters next) creates or finds a cluster and
hands over: one Kubernetes provider, the kubeconfig as a secret, how the ingress gateway must be
exposed there, and the address users reach it at. VM targets add the node's cloud identity, SSH and
the TTL (VmCluster).
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


class Cluster(Protocol):
    """What a target gives the layers above it."""

    provider: k8s.Provider
    """The one Kubernetes provider every platform and model resource uses."""
    kubeconfig: pulumi.Output[str]
    """Admin kubeconfig; always a Pulumi secret."""
    context: pulumi.Output[str]
    """The kubeconfig context name, for `kubectl --context`."""
    ingress_ip: pulumi.Output[str]
    """IP address the ingress is reached at from where the user stands."""
    ingress_port: pulumi.Output[int]
    """Port the ingress answers HTTP on at ingress_ip."""
    exposure: IngressExposure
    """How the gateway Service must be exposed on this target."""


class VmCluster(Cluster, Protocol):
    """What a VM target (gcp, aws) gives on top: the node's cloud identity, SSH, and the TTL."""

    node_identity: pulumi.Output[str]
    """The cloud principal the node runs as (GCP: the VM's service account email); stores grant it
    read access to the model bucket."""
    ssh_private_key: pulumi.Output[str]
    """Private half of the SSH key that opens the VM; always a secret."""
    ssh_host_key: pulumi.Output[str]
    """The VM's SSH host key as read at first contact, for a pinned known_hosts."""
    expires_at: pulumi.Output[str | None]
    """When the TTL ends the VM (ISO 8601, UTC), or None without a TTL."""
