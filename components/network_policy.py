"""NetworkPolicies: a namespace denies every flow, then allows exactly the ones the stack uses.

Rules are plain dicts in the Kubernetes NetworkPolicy shape (networking.k8s.io/v1), built here and
evaluated by tests/netpolicy.py over a table of the stack's flows, so that what the cluster enforces
is what the tests read. Pods are always reachable from their own node (the kubelet's probes, and a
NodePort's traffic, which kube-proxy masquerades to the node's address): Kubernetes exempts it
(https://kubernetes.io/docs/concepts/services-networking/network-policies/#the-two-sorts-of-pod-isolation),
as kindnet's and k3s's (kube-router's) enforcers do.

Layers meet here without knowing each other: the store says what a predictor must reach to read a
model (`ModelStore.predictor_egress`), the platform who sends it requests (ingress_sources), and the
model layer puts both on its namespace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.naming import standard_labels

Rule = dict[str, Any]
"""One NetworkPolicy ingress or egress rule: {"from"/"to": [peers], "ports": [...]}."""

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""The label the API server puts on every namespace: its name (Kubernetes 1.22+)."""

# Where no cluster-internal or special-purpose traffic goes: the public internet, for a cloud
# store's API. Private, shared, link-local and loopback space is cut out, so a rule to "the
# internet" never opens another pod, a node, or the metadata server by accident.
PUBLIC_INTERNET = {
    "cidr": "0.0.0.0/0",
    "except": ["10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"],
}


def pods(namespace: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A peer: the pods of `namespace` (those with `labels`, or all of them)."""
    peer: dict[str, Any] = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}}}
    peer["podSelector"] = {"matchLabels": dict(labels)} if labels else {}
    return peer


def tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


# Every pod resolves names through the cluster's DNS: CoreDNS (kind, k3s, EKS) and kube-dns (GKE)
# both carry k8s-app=kube-dns in kube-system.
DNS_EGRESS: Rule = {
    "to": [pods("kube-system", {"k8s-app": "kube-dns"})],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}


def https_to_the_internet() -> Rule:
    return {"to": [{"ipBlock": PUBLIC_INTERNET}], "ports": tcp(443)}


def to_address(cidr: str, *ports: int) -> Rule:
    return {"to": [{"ipBlock": {"cidr": cidr}}], "ports": tcp(*ports)}


def deny_all(resource_name: str, namespace: k8s.core.v1.Namespace, opts: pulumi.ResourceOptions) -> k8s.networking.v1.NetworkPolicy:
    """Nothing in or out of the namespace's pods but what another policy allows (and their node)."""
    return allow(resource_name, namespace, "deny-all", {}, ingress=(), egress=(), opts=opts)


def allow(
    resource_name: str,
    namespace: k8s.core.v1.Namespace,
    name: str,
    pod_labels: Mapping[str, str],
    *,
    ingress: Sequence[Rule] | None = None,
    egress: Sequence[Rule] | None = None,
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """A policy for the pods with `pod_labels` ({}: all) in `namespace`: the directions given are
    isolated and allow exactly `ingress` / `egress` (an empty list allows nothing)."""
    types = [kind for kind, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
    spec: dict[str, Any] = {"podSelector": {"matchLabels": dict(pod_labels)} if pod_labels else {}, "policyTypes": types}
    if ingress:
        spec["ingress"] = [dict(rule) for rule in ingress]
    if egress:
        spec["egress"] = [dict(rule) for rule in egress]
    return k8s.networking.v1.NetworkPolicy(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name, namespace=namespace.metadata.name, labels=standard_labels("network-policy")
        ),
        # The spec in the API's own (camelCase) shape, which the SDK sends unchanged: it translates
        # only the snake_case names it knows (pulumi/runtime/rpc.py, serialize_property).
        spec=cast(Any, spec),
        opts=opts,
    )
