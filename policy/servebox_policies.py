"""servebox's security rules as Pulumi policies: each a check of the resources a preview plans.

`pulumi preview --policy-pack policy` runs them against a stack (policy/__main__.py makes the pack);
every one is mandatory. Each reads resources as the engine hands them over: the provider's
property names (camelCase) and values. The world check is the program's own
(components/config/networks.py): one rule, one implementation.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from components.config.networks import WORLD_BOUND_PREFIX, too_wide  # noqa: E402 (after the path)

ADMIN_PORTS = (22, 6443)
# Resources that are long-lived cloud keys: servebox reads buckets through identities, never keys.
KEY_TYPES = ("gcp:serviceaccount/key:Key", "aws:iam/accessKey:AccessKey", "gcp:storage/hmacKey:HmacKey")
# What a secret looks like in text a VM's metadata or user-data carries.
_SECRET_TEXT = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|AKIA[0-9A-Z]{16}|\baws_secret_access_key\b|\"private_key\"\s*:|client-key-data:",
    re.IGNORECASE,
)
WORKLOAD_TYPES = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:core/v1:Pod",
)
MODEL_TYPES = ("kubernetes:serving.kserve.io/v1beta1:InferenceService", "kubernetes:machinelearning.seldon.io/v1:SeldonDeployment")


def _ports_of_gcp_rule(rule: Mapping[str, Any]) -> set[int] | None:
    """The TCP ports a firewall rule allows; None for all of them."""
    ports: set[int] = set()
    for allow in rule.get("allows") or []:
        if allow.get("protocol") not in ("tcp", "all"):
            continue
        if not allow.get("ports") or allow.get("protocol") == "all":
            return None
        for entry in allow["ports"]:
            low, _, high = str(entry).partition("-")
            ports.update(range(int(low), int(high or low) + 1))
    return ports


def _world_open(cidrs: Iterable[str]) -> int | None:
    try:
        return too_wide(tuple(cidrs))
    except ValueError:  # not IPv4 CIDRs (an IPv6 range, say): counted as the world
        return 2**32


def no_world_open_admin_port(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = args.props
    if args.resource_type == "gcp:compute/firewall:Firewall":
        if props.get("direction", "INGRESS") != "INGRESS" or not props.get("allows"):
            return
        ports = _ports_of_gcp_rule(props)
        opened = ADMIN_PORTS if ports is None else tuple(p for p in ADMIN_PORTS if p in ports)
        if opened and (count := _world_open(props.get("sourceRanges") or [])):
            report_violation(
                f"firewall {args.name} opens {', '.join(map(str, opened))} to {count:,} public addresses "
                f"(more than a /{WORLD_BOUND_PREFIX}); narrow sourceRanges (adminCidrs)", None
            )
    if args.resource_type == "aws:ec2/securityGroup:SecurityGroup":
        for rule in props.get("ingress") or []:
            everything = str(rule.get("protocol")) in ("-1", "all")
            opened = [p for p in ADMIN_PORTS if everything or int(rule.get("fromPort", 0)) <= p <= int(rule.get("toPort", 0))]
            if opened and (count := _world_open(rule.get("cidrBlocks") or [])):
                report_violation(
                    f"security group {args.name} opens {', '.join(map(str, opened))} to {count:,} public addresses "
                    f"(more than a /{WORLD_BOUND_PREFIX}); narrow cidrBlocks (adminCidrs)", None
                )


def no_long_lived_cloud_key(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type in KEY_TYPES:
        report_violation(f"{args.resource_type} {args.name} is a long-lived key; read through an identity instead", None)


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def no_secret_in_instance_metadata(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    carried = {
        "gcp:compute/instance:Instance": ("metadata", "metadataStartupScript"),
        "aws:ec2/instance:Instance": ("userData", "userDataBase64"),
    }.get(args.resource_type, ())
    for key in carried:
        if any(_SECRET_TEXT.search(text) for text in _texts(args.props.get(key))):
            report_violation(f"{args.name}'s {key} holds what looks like a secret; every process on the VM can read it", None)


def _pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if resource_type == "kubernetes:core/v1:Pod":
        return props.get("spec") or {}
    return ((props.get("spec") or {}).get("template") or {}).get("spec") or {}


def restricted_security_context(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Pods servebox authors: seccomp RuntimeDefault, non-root, and every container without privilege
    escalation or capabilities on a read-only root. Models: what every runtime takes (seccomp, no
    escalation, no capabilities)."""
    if args.resource_type in WORKLOAD_TYPES:
        spec = _pod_spec(args.resource_type, args.props) or {}
        pod = spec.get("securityContext") or {}
        problems = []
        if (pod.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append("no seccompProfile RuntimeDefault")
        if not pod.get("runAsNonRoot"):
            problems.append("runAsNonRoot is not true")
        for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
            problems += [f"container {container.get('name')}: {p}" for p in _container_problems(container, read_only=True)]
        if problems:
            report_violation(f"{args.name}: {'; '.join(problems)}", None)
    if args.resource_type in MODEL_TYPES:
        for where, pod, containers in _model_pods(args.resource_type, args.props):
            problems = []
            if ((pod.get("securityContext") or {}).get("seccompProfile") or {}).get("type") != "RuntimeDefault":
                problems.append("no seccompProfile RuntimeDefault")
            for container in containers:
                problems += [f"container {container.get('name', where)}: {p}" for p in _container_problems(container, read_only=False)]
            if problems:
                report_violation(f"{args.name} ({where}): {'; '.join(problems)}", None)


def _container_problems(container: Mapping[str, Any], *, read_only: bool) -> list[str]:
    context = container.get("securityContext") or {}
    problems = []
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
        problems.append("capabilities are not all dropped")
    if context.get("privileged"):
        problems.append("privileged")
    if read_only and not context.get("readOnlyRootFilesystem"):
        problems.append("the root filesystem is writable")
    return problems


def _model_pods(resource_type: str, props: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any], list]]:
    spec = props.get("spec") or {}
    if resource_type.endswith(":InferenceService"):
        predictor = spec.get("predictor") or {}
        yield "predictor", predictor, [predictor.get("model") or {}, *(predictor.get("containers") or [])]
        return
    for predictor in spec.get("predictors") or []:
        for component in predictor.get("componentSpecs") or []:
            pod = component.get("spec") or {}
            yield predictor.get("name", "predictor"), pod, list(pod.get("containers") or [])


def network_policy_present(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every namespace the stack runs its own workloads or models in denies by default: a
    NetworkPolicy selecting all of its pods, isolating both directions."""
    namespaces_with_work = set()
    for resource in args.resources:
        if resource.resource_type in WORKLOAD_TYPES or resource.resource_type in MODEL_TYPES:
            namespace = (resource.props.get("metadata") or {}).get("namespace")
            if namespace:
                namespaces_with_work.add(namespace)
    denied = set()
    for resource in args.resources:
        if resource.resource_type != "kubernetes:networking.k8s.io/v1:NetworkPolicy":
            continue
        spec = resource.props.get("spec") or {}
        if spec.get("podSelector") in ({}, None) and set(spec.get("policyTypes") or []) == {"Ingress", "Egress"}:
            if not spec.get("ingress") and not spec.get("egress"):
                denied.add((resource.props.get("metadata") or {}).get("namespace"))
    for namespace in sorted(namespaces_with_work - denied):
        report_violation(f"namespace {namespace} runs the stack's pods but has no deny-all NetworkPolicy", None)


def _resource_policy(name: str, description: str, validate: Callable) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(name=name, description=description, validate=validate, enforcement_level=EnforcementLevel.MANDATORY)


POLICIES = [
    _resource_policy(
        "no-world-open-admin-port",
        f"SSH (22) and the Kubernetes API (6443) open to no more than a /{WORLD_BOUND_PREFIX} of public addresses.",
        no_world_open_admin_port,
    ),
    _resource_policy("no-long-lived-cloud-key", "No service-account key, access key or HMAC key.", no_long_lived_cloud_key),
    _resource_policy(
        "no-secret-in-instance-metadata",
        "No private key or cloud credential in a VM's metadata or user-data.",
        no_secret_in_instance_metadata,
    ),
    _resource_policy(
        "restricted-security-context",
        "Pods with seccomp RuntimeDefault, non-root, no privilege escalation or capabilities, read-only root.",
        restricted_security_context,
    ),
    StackValidationPolicy(
        name="network-policy-present",
        description="Every namespace that runs the stack's pods has a deny-all NetworkPolicy.",
        validate=network_policy_present,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
]
