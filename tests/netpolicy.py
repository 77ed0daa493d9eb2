"""Kubernetes NetworkPolicy semantics, evaluated over the policies a program run registers.

Written from the API's documentation
(https://kubernetes.io/docs/concepts/services-networking/network-policies/): a pod is isolated in a
direction once a policy of its namespace selects it with that direction in `policyTypes`; an
isolated pod takes only what some selecting policy's rules allow (rules add up, there is no deny
rule); a connection needs the source's egress and the destination's ingress both to allow it; a
peer's `namespaceSelector` matches the namespace's labels (every namespace carries
`kubernetes.io/metadata.name`), a bare `podSelector` means the policy's own namespace, an `ipBlock`
matches addresses (pods included, as Calico does: the strictest reading for a denial); a rule
without `ports` allows every port, without `from`/`to` every peer; and a pod always takes
connections from its own node.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Pod:
    """A pod: its namespace, its labels (what selectors read) and its address (what ipBlocks read)."""

    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ip: str = "10.244.0.50"

    def __hash__(self) -> int:
        return hash((self.namespace, tuple(sorted(self.labels.items())), self.ip))


@dataclass(frozen=True)
class Address:
    """Something outside the cluster's pods: an address on the internet, or a node (`node=True`)."""

    ip: str
    node: bool = False


Endpoint = Pod | Address


@dataclass(frozen=True, slots=True)
class Flow:
    """A connection from `source` to `destination`'s `port`, and why the stack has it (or must not)."""

    source: Endpoint
    destination: Endpoint
    port: int
    protocol: str = "TCP"
    why: str = ""


def _selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    if set(selector) - {"matchLabels"}:
        raise ValueError(f"this evaluator reads matchLabels only, got {selector}")
    return all(labels.get(key) == value for key, value in (selector.get("matchLabels") or {}).items())


def _peer_matches(peer: Mapping[str, Any], policy_namespace: str, endpoint: Endpoint) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        address = ipaddress.ip_address(endpoint.ip)
        inside = address in ipaddress.ip_network(block["cidr"])
        return inside and not any(address in ipaddress.ip_network(cidr) for cidr in block.get("except", []))
    if not isinstance(endpoint, Pod):
        return False
    if "namespaceSelector" in peer:
        if not _selects(peer["namespaceSelector"], {NAME_LABEL: endpoint.namespace}):
            return False
    elif endpoint.namespace != policy_namespace:
        return False
    return _selects(peer.get("podSelector") or {}, endpoint.labels)


def _ports_match(ports: list[Mapping[str, Any]] | None, flow: Flow) -> bool:
    if not ports:
        return True
    return any(p.get("protocol", "TCP") == flow.protocol and int(p["port"]) == flow.port for p in ports)


def _allowed(policies: Iterable[Mapping[str, Any]], pod: Pod, other: Endpoint, flow: Flow, direction: str) -> bool:
    kind, rules_key, peers_key = ("Ingress", "ingress", "from") if direction == "in" else ("Egress", "egress", "to")
    selecting = [
        p for p in policies if p["namespace"] == pod.namespace and kind in p["spec"]["policyTypes"]
        and _selects(p["spec"]["podSelector"], pod.labels)
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get(rules_key) or []:
            peers = rule.get(peers_key)
            if (not peers or any(_peer_matches(peer, policy["namespace"], other) for peer in peers)) and _ports_match(
                rule.get("ports"), flow
            ):
                return True
    return False


def allows(policies: list[Mapping[str, Any]], flow: Flow) -> bool:
    """Whether the policies let `flow` through (policies: {"namespace", "spec"} each)."""
    source, destination = flow.source, flow.destination
    if isinstance(source, Pod) and not _allowed(policies, source, destination, flow, "out"):
        return False
    if isinstance(destination, Pod):
        if isinstance(source, Address) and source.node:
            return True  # a pod always takes connections from its own node
        return _allowed(policies, destination, source, flow, "in")
    return True


def policies_of(run: Any) -> list[dict[str, Any]]:
    """The NetworkPolicies a ProgramRun registered, as {"name", "namespace", "spec"}."""
    return [
        {"name": r.name, "namespace": r.inputs["metadata"]["namespace"], "spec": r.inputs["spec"]}
        for r in run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    ]
