"""The clouds' ingress semantics, evaluated over the rules a program run registers: which packets
reach the VM. Written from the clouds' documentation (each function names its page), not from
their code; what it cannot show is said in tests/ENGINE.md.

GCP VPC firewall (https://cloud.google.com/firewall/docs/firewalls): a rule applies to an instance
when it has no target tags or shares one with the instance; of the rules that match a packet, the
one with the lowest priority number decides, and at equal priority deny beats allow; no matching
rule means the implied deny-ingress rule (priority 65535).

AWS (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html): a security group
holds allow rules only and denies what none allows; a default VPC's network ACL allows all traffic
in and out (https://docs.aws.amazon.com/vpc/latest/userguide/default-network-acl.html), so the
instance's security group is the whole filter.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GCP_DEFAULT_PRIORITY = 1000
GCP_IMPLIED_PRIORITY = 65535

# A default network's stock ingress rules, as the GCP page "Pre-populated rules in the default
# network" lists them (https://cloud.google.com/firewall/docs/firewalls#more_rules_default_vpc):
# no target tags (every instance), priority 65534.
GCP_DEFAULT_NETWORK_RULES: tuple[dict[str, Any], ...] = (
    {
        "name": "default-allow-internal",
        "priority": 65534,
        "sourceRanges": ["10.128.0.0/9"],
        "allows": [{"protocol": "tcp", "ports": ["0-65535"]}, {"protocol": "udp", "ports": ["0-65535"]}, {"protocol": "icmp"}],
    },
    {"name": "default-allow-ssh", "priority": 65534, "sourceRanges": ["0.0.0.0/0"], "allows": [{"protocol": "tcp", "ports": ["22"]}]},
    {"name": "default-allow-rdp", "priority": 65534, "sourceRanges": ["0.0.0.0/0"], "allows": [{"protocol": "tcp", "ports": ["3389"]}]},
    {"name": "default-allow-icmp", "priority": 65534, "sourceRanges": ["0.0.0.0/0"], "allows": [{"protocol": "icmp"}]},
)


@dataclass(frozen=True)
class Packet:
    """One inbound packet: where from, which protocol, which port (None for icmp)."""

    source: str
    protocol: str
    port: int | None = None


def _in_ranges(source: str, ranges: Iterable[str]) -> bool:
    address = ipaddress.ip_address(source)
    return any(address in ipaddress.ip_network(cidr) for cidr in ranges)


def _port_matches(port: int | None, ports: Iterable[str] | None) -> bool:
    if ports is None or port is None:  # no ports: every port of the protocol
        return True
    for entry in ports:
        low, _, high = str(entry).partition("-")
        if int(low) <= port <= int(high or low):
            return True
    return False


def _gcp_matches(entries: Iterable[Mapping[str, Any]], packet: Packet) -> bool:
    return any(
        entry["protocol"] in ("all", packet.protocol) and _port_matches(packet.port, entry.get("ports")) for entry in entries
    )


def gcp_reaches(rules: Iterable[Mapping[str, Any]], instance_tags: Iterable[str], packet: Packet) -> bool:
    """Whether `packet` reaches an instance with `instance_tags` under these INGRESS rules."""
    tags = set(instance_tags)
    deciding: list[tuple[int, bool]] = []  # (priority, allows)
    for rule in rules:
        if rule.get("direction", "INGRESS") != "INGRESS" or rule.get("disabled"):
            continue
        if rule.get("targetTags") and not tags & set(rule["targetTags"]):
            continue
        if not _in_ranges(packet.source, rule.get("sourceRanges", [])):
            continue
        priority = int(rule.get("priority", GCP_DEFAULT_PRIORITY))
        if _gcp_matches(rule.get("denies", []), packet):
            deciding.append((priority, False))
        if _gcp_matches(rule.get("allows", []), packet):
            deciding.append((priority, True))
    if not deciding:
        return False  # the implied deny-ingress rule
    top = min(priority for priority, _ in deciding)
    return all(allows for priority, allows in deciding if priority == top)


def aws_reaches(ingress: Iterable[Mapping[str, Any]], packet: Packet) -> bool:
    """Whether `packet` reaches an instance whose security group has these ingress rules (in the
    provider's shape: protocol, fromPort, toPort, cidrBlocks), behind the default VPC's allow-all ACL."""
    for rule in ingress:
        protocol = str(rule["protocol"])
        if protocol not in ("-1", "all", packet.protocol):
            continue
        if protocol not in ("-1", "all") and packet.port is not None:
            if not int(rule["fromPort"]) <= packet.port <= int(rule["toPort"]):
                continue
        if _in_ranges(packet.source, rule.get("cidrBlocks") or []):
            return True
    return False
