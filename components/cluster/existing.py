"""The existing target: a cluster the user already has (GKE, EKS, any conformant cluster).

servebox creates nothing here but the Kubernetes provider that reaches the cluster: no VM, no
network, no node. The kubeconfig was checked at plan time (components/config.py) and comes with the
chosen context as its current one; it stays a secret in the state and in the outputs. The gateway's
address is read later, from its Service's load-balancer status (IngressExposure.address_from_status),
unless the user configured it. For a store that reads keyless, the cluster also says how its
ServiceAccounts become cloud principals: GKE's Workload Identity pool, or EKS's IAM OIDC provider,
looked up from the cluster's name.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.base import EksOidcProvider, GkeWorkloadIdentity, IngressExposure
from components.naming import component_type

# A cloud load balancer forwards port 80 to the gateway Service's port 80.
HTTP_PORT = 80


@dataclass(frozen=True)
class ExistingClusterArgs:
    """Inputs of the existing-cluster target."""

    kubeconfig: str
    """The kubeconfig with the chosen context as current-context (made a secret here)."""
    context: str
    """The chosen context."""
    server: str
    """The API server URL: the provider's identity, so a refreshed token never replaces it."""
    ingress_address: str | None
    """The gateway's address when configured; None = from its load-balancer status."""
    gke_workload_pool: str | None = None
    """GKE with a gcs store: the cluster's Workload Identity pool."""
    eks_cluster: str | None = None
    """EKS with an s3 store: the cluster whose OIDC provider the predictor's role trusts."""


class ExistingCluster(pulumi.ComponentResource):
    """A Kubernetes provider bound to one context of a kubeconfig, and the cluster's identity facts."""

    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]
    """The kubeconfig, a Pulumi secret."""
    context: pulumi.Output[str]
    ingress_address: pulumi.Output[str] | None
    ingress_port: pulumi.Output[int]
    exposure: IngressExposure
    workload_identity: GkeWorkloadIdentity | EksOidcProvider | None

    def __init__(self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("cluster", "ExistingCluster"), name, None, opts)
        self.kubeconfig = pulumi.Output.secret(args.kubeconfig)
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            context=args.context,
            # The cluster is the API server: a kubeconfig rewritten by `gcloud`/`aws eks` (a new
            # token, another file) updates the provider instead of replacing everything in the cluster.
            cluster_identifier=args.server,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.context = pulumi.Output.from_input(args.context)
        self.ingress_address = pulumi.Output.from_input(args.ingress_address) if args.ingress_address else None
        self.ingress_port = pulumi.Output.from_input(HTTP_PORT)
        # The cloud's load balancer in front of the gateway; the platform waits for its address.
        self.exposure = IngressExposure(service_type="LoadBalancer", address_from_status=True)
        self.workload_identity = None
        if args.gke_workload_pool:
            self.workload_identity = GkeWorkloadIdentity(pool=args.gke_workload_pool)
        elif args.eks_cluster:
            import pulumi_aws as aws  # only on EKS with an S3 store: the venv holds pulumi-aws then

            invoke = pulumi.InvokeOptions(parent=self)
            eks = aws.eks.get_cluster_output(name=args.eks_cluster, opts=invoke)
            issuer_url = eks.identities.apply(lambda identities: identities[0].oidcs[0].issuer)
            oidc = aws.iam.get_open_id_connect_provider_output(url=issuer_url, opts=invoke)
            self.workload_identity = EksOidcProvider(
                arn=oidc.arn, issuer=issuer_url.apply(lambda url: url.removeprefix("https://"))
            )
        self.register_outputs({"context": self.context})
