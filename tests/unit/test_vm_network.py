"""Which packets reach the VM, with the clouds' firewall semantics (tests/firewalls.py) evaluated
over the rules the program registers, plus, on GCP, a default network's stock rules.

The one answer allowed: HTTP (80) from modelCidrs, SSH (22) and the Kubernetes API (6443) from
adminCidrs; nothing from anywhere else, on any port, whatever the network allows by itself.
"""

from __future__ import annotations

import pytest

from tests import harness
from tests.firewalls import GCP_DEFAULT_NETWORK_RULES, Packet, aws_reaches, gcp_reaches
from tests.harness import ProgramRun, run_program

MODEL_CLIENT = "192.0.2.10"  # inside modelCidrs below
ADMIN = harness.FAKE_PUBLIC_IPV4  # adminCidrs auto: this machine
STRANGER = "203.0.113.99"  # anywhere on the internet
NEIGHBOUR = "10.128.0.5"  # another VM on a default network's internal range
CIDRS = {"modelCidrs": "192.0.2.0/24", "adminCidrs": "auto"}

PORTS = (22, 80, 443, 3389, 6443, 8080, 9000, 10250, 30080, 32767)
PROBES = [
    *(Packet(source, "tcp", port) for source in (MODEL_CLIENT, ADMIN, STRANGER, NEIGHBOUR) for port in PORTS),
    *(Packet(source, "udp", port) for source in (MODEL_CLIENT, ADMIN, STRANGER, NEIGHBOUR) for port in (53, 8472)),
    *(Packet(source, "icmp") for source in (MODEL_CLIENT, ADMIN, STRANGER, NEIGHBOUR)),
]
INTENDED = {Packet(MODEL_CLIENT, "tcp", 80), Packet(ADMIN, "tcp", 22), Packet(ADMIN, "tcp", 6443)}


def _gcp_rules(run: ProgramRun) -> list[dict]:
    return [{**r.inputs, "name": r.name} for r in run.of_type("gcp:compute/firewall:Firewall")]


def _gcp_reached(rules: list[dict], run: ProgramRun) -> set[Packet]:
    tags = run["cluster-vm"].inputs["tags"]
    return {packet for packet in PROBES if gcp_reaches(rules, tags, packet)}


@pytest.mark.parametrize("network", ["default", "create"])
def test_on_gcp_exactly_the_intended_flows_reach_the_vm(network: str) -> None:
    run = run_program({**harness.GCP_STACK, **CIDRS, "gcpNetwork": network}, stack="gcp")
    stock = list(GCP_DEFAULT_NETWORK_RULES) if network == "default" else []
    assert _gcp_reached(_gcp_rules(run) + stock, run) == INTENDED


def test_on_gcp_the_deny_rule_is_what_shuts_out_the_default_networks_stock_rules() -> None:
    run = run_program({**harness.GCP_STACK, **CIDRS}, stack="gcp")
    allows_only = [rule for rule in _gcp_rules(run) if not rule.get("denies")]
    reached = _gcp_reached(allows_only + list(GCP_DEFAULT_NETWORK_RULES), run)
    # What the VM was open to before the deny rule: SSH, RDP and ping from anywhere, and every port
    # of every protocol to the VMs on the network's internal range.
    everyone = (MODEL_CLIENT, ADMIN, STRANGER, NEIGHBOUR)
    stock = {Packet(source, "tcp", port) for source in everyone for port in (22, 3389)}
    stock |= {Packet(source, "icmp") for source in everyone}
    stock |= {packet for packet in PROBES if packet.source == NEIGHBOUR}
    assert reached == INTENDED | stock


def test_on_gcp_the_deny_rule_covers_every_protocol_below_the_allows_and_above_the_stock_rules() -> None:
    run = run_program({**harness.GCP_STACK, **CIDRS}, stack="gcp")
    rules = {rule["name"]: rule for rule in _gcp_rules(run)}
    deny = rules["cluster-deny-others"]
    assert deny["denies"] == [{"protocol": "all"}] and deny["sourceRanges"] == ["0.0.0.0/0"]
    assert deny["targetTags"] == ["servebox-gcp"] == run["cluster-vm"].inputs["tags"][:1]
    assert rules["cluster-allow-model"]["priority"] < deny["priority"] < min(r["priority"] for r in GCP_DEFAULT_NETWORK_RULES)
    assert rules["cluster-allow-admin"]["priority"] == rules["cluster-allow-model"]["priority"]
    assert "cluster-deny-others" in run["cluster-vm"].depends_on


@pytest.mark.parametrize("network", ["default", "create"])
def test_on_aws_exactly_the_intended_flows_reach_the_instance(network: str) -> None:
    run = run_program({**harness.AWS_STACK, **CIDRS, "awsNetwork": network}, stack="aws")
    ingress = run["cluster-firewall"].inputs["ingress"]
    assert {packet for packet in PROBES if aws_reaches(ingress, packet)} == INTENDED
    assert run["cluster-vm"].inputs["vpcSecurityGroupIds"] == ["cluster-firewall-id"]  # that group, and only it
