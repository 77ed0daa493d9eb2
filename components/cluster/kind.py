"""The kind target: a local single-node cluster that `pulumi up` creates and `pulumi destroy` deletes.

Needs Docker, kind and (for users) kubectl on the machine running Pulumi; scripts/preflight.py checks
them first. The cluster is created with pulumi-command from a rendered kind config
(manifests/kind/cluster.yaml.tmpl) and is replaced only when that config changes.
https://kind.sigs.k8s.io/docs/user/configuration/
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s

from components import versions
from components.cluster.base import IngressExposure
from components.manifests import render
from components.naming import component_type

LOOPBACK = "127.0.0.1"

# NodePorts inside the node that the kind config publishes on the host's loopback: the ingress
# gateway's HTTP port, and the model store's S3 API (so Pulumi can upload from the host).
GATEWAY_HTTP_NODE_PORT = 31080
STORE_NODE_PORT = 31900


@dataclass(frozen=True)
class KindClusterArgs:
    """Inputs of a kind cluster."""

    cluster_name: str
    """kind cluster name, unique per stack (naming.kind_cluster_name); the kube context is kind-<name>."""
    host_port: int
    """Port on 127.0.0.1 that reaches the ingress gateway's HTTP NodePort."""
    store_host_port: int
    """Port on 127.0.0.1 that reaches the model store's S3 NodePort."""
    node_image: str = versions.KIND_NODE.ref
    """Pinned kindest/node image (tag and digest); change it in versions.py only."""
    create_timeout: str = "5m"
    """How long `kind create cluster --wait` waits for the control plane to be Ready."""


def render_kind_config(args: KindClusterArgs) -> str:
    """The kind cluster config for these args."""
    return render(
        "kind/cluster.yaml.tmpl",
        name=args.cluster_name,
        node_image=args.node_image,
        http_node_port=GATEWAY_HTTP_NODE_PORT,
        host_port=args.host_port,
        store_node_port=STORE_NODE_PORT,
        store_host_port=args.store_host_port,
    )


class KindCluster(pulumi.ComponentResource):
    """A kind cluster with its kubeconfig (secret) and a Kubernetes provider bound to it."""

    provider: k8s.Provider
    """Kubernetes provider for this cluster; pass it once to each component above."""
    kubeconfig: pulumi.Output[str]
    """Admin kubeconfig from `kind get kubeconfig`; a Pulumi secret."""
    context: pulumi.Output[str]
    """kubectl context kind writes into the user's kubeconfig."""
    ingress_address: pulumi.Output[str]
    """Where users reach the ingress: the host's loopback."""
    ingress_port: pulumi.Output[int]
    """The host port mapped to the gateway's HTTP NodePort."""
    exposure: IngressExposure
    """kind hands out no load-balancer IPs, so the gateway is a NodePort behind the port mapping."""

    def __init__(self, name: str, args: KindClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("cluster", "KindCluster"), name, None, opts)
        kind_config = render_kind_config(args)
        cluster_flag = f"--name {args.cluster_name}"
        read_kubeconfig = f"kind get kubeconfig {cluster_flag}"

        cluster = command.local.Command(
            f"{name}-cluster",
            create=(
                f"kind create cluster {cluster_flag} --config - --wait {args.create_timeout} 1>&2"
                f" && {read_kubeconfig}"
            ),
            # Runs when an input that is not part of the cluster's identity changes (the delete
            # command, say): the cluster stays and the kubeconfig is read again.
            update=read_kubeconfig,
            delete=f"kind delete cluster {cluster_flag}",
            stdin=kind_config,
            triggers=[hashlib.sha256(kind_config.encode()).hexdigest()],
            # stdout is the kubeconfig: keep it out of the logs, store it encrypted.
            logging=command.local.Logging.STDERR,
            opts=pulumi.ResourceOptions(
                parent=self,
                additional_secret_outputs=["stdout"],
                # A new config means a new cluster; the name stays the same, so the old one goes first.
                replace_on_changes=["triggers"],
                delete_before_replace=True,
            ),
        )

        self.kubeconfig = pulumi.Output.secret(cluster.stdout)
        self.context = pulumi.Output.from_input(f"kind-{args.cluster_name}")
        self.ingress_address = pulumi.Output.from_input(LOOPBACK)
        self.ingress_port = pulumi.Output.from_input(args.host_port)
        self.exposure = IngressExposure(service_type="NodePort", http_node_port=GATEWAY_HTTP_NODE_PORT)
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            # After `kind delete cluster` (by hand or by destroy) the API is gone; let destroy
            # drop what lived in it instead of failing on an unreachable server.
            delete_unreachable=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs(
            {
                "kubeconfig": self.kubeconfig,
                "context": self.context,
                "ingress_address": self.ingress_address,
                "ingress_port": self.ingress_port,
            }
        )
