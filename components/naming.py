"""Names and labels shared by every component.

The type prefix is part of every child URN, so it must stay stable; physical names derived from the
stack keep one stack's objects apart from another's on the same machine or account.
"""

from __future__ import annotations

import ipaddress
import re

TYPE_PREFIX = "servebox"
PART_OF = "servebox"

# kind cluster names become Docker container names and kubeconfig contexts ("kind-<name>").
_KIND_NAME_MAX = 40


def component_type(module: str, cls: str) -> str:
    """The Pulumi type token of a servebox component, e.g. `servebox:platform:Istio`."""
    return f"{TYPE_PREFIX}:{module}:{cls}"


def dns_label(text: str, max_length: int = 63) -> str:
    """Lower-case `text` into a DNS label: runs of other characters become one '-'."""
    label = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return label[:max_length].rstrip("-") or "x"


def kind_cluster_name(project: str, stack: str) -> str:
    """A kind cluster name unique to the stack, so two stacks on one laptop never share a cluster."""
    return dns_label(f"{project}-{stack}", _KIND_NAME_MAX)


def bucket_name(project: str, stack: str) -> str:
    """The model bucket's name: S3/GCS rules (3-63 lower-case characters), unique per stack."""
    return dns_label(f"{project}-{stack}", 63 - len("-models")) + "-models"


def vm_name(project: str, stack: str) -> str:
    """The base name of a VM target's cloud resources: a DNS label unique to the stack (<= 40)."""
    return dns_label(f"{project}-{stack}", 40)


def gcp_service_account_id(project: str, stack: str) -> str:
    """A service account id (6-30 characters: lower-case letters, digits, '-'; starts with a letter)."""
    account = dns_label(f"{project}-{stack}", 30)
    return account if len(account) >= 6 else f"{account}-node"


def gcs_bucket_name(gcp_project: str, project: str, stack: str) -> str:
    """A GCS bucket name: global across all of GCS, so it carries the (globally unique) project id."""
    return dns_label(f"{gcp_project}-{project}-{stack}", 63 - len("-models")) + "-models"


def gcp_reader_account_id(project: str, stack: str) -> str:
    """The id of the Google service account an existing cluster's predictor acts as (6-30 characters)."""
    return dns_label(f"{project}-{stack}", 30 - len("-reader")) + "-reader"


def predictor_role_name(project: str, stack: str) -> str:
    """The IAM role an EKS predictor assumes through IRSA (role names are unique per account)."""
    return dns_label(f"{project}-{stack}", 64 - len("-predictor")) + "-predictor"


ATTENDEE_ACCOUNT = "attendee"
"""A shared workshop's attendee's ServiceAccount in their namespace (its Role and binding too)."""
ATTENDEE_NAMESPACE_PREFIX = "ws-"


def attendee_namespace(attendee: str) -> str:
    """A shared workshop's attendee's namespace."""
    return f"{ATTENDEE_NAMESPACE_PREFIX}{attendee}"


def predictor_service_account(model_name: str) -> str:
    """The predictor's Kubernetes ServiceAccount: the model layer creates it, stores bind identities to it."""
    return f"{model_name}-predictor"


def s3_bucket_prefix(project: str, stack: str) -> str:
    """The start of an S3 bucket name: the AWS provider adds a 26-character unique suffix and takes
    prefixes of at most 37 characters."""
    return dns_label(f"{project}-{stack}", 37 - len("-models-")) + "-models-"


def cloud_labels(project: str, stack: str) -> dict[str, str]:
    """Labels every cloud resource of a stack carries (lower-case, digits, '-', <= 63 characters)."""
    return {"servebox-project": dns_label(project), "servebox-stack": dns_label(stack)}


def aws_tags(project: str, stack: str) -> dict[str, str]:
    """Tags every AWS resource of a stack carries."""
    return {"servebox:project": project, "servebox:stack": stack}


def standard_labels(component: str, version: str = "") -> dict[str, str]:
    """The app.kubernetes.io labels every object servebox authors carries."""
    labels = {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }
    if version:
        labels["app.kubernetes.io/version"] = version
    return labels


def sslip_domain(ip: str) -> str:
    """A wildcard DNS domain that resolves to `ip` with no DNS setup (sslip.io)."""
    return f"{ip}.sslip.io"


# The domain of models behind a load balancer that has a host name (EKS): no wildcard DNS serves
# it, so clients reach the gateway by its address with the Host header (`.internal` is reserved for
# private use and never resolves publicly).
HOST_HEADER_DOMAIN = "servebox.internal"


def is_ip_address(text: str) -> bool:
    """True for an IPv4 or IPv6 address (a load balancer's, a configured ingressAddress)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def ingress_domain(address: str) -> str:
    """The domain model hosts get behind an ingress at `address`: <ip>.sslip.io for an IP address
    (resolves with no DNS setup), HOST_HEADER_DOMAIN for a host name."""
    return sslip_domain(address) if is_ip_address(address) else HOST_HEADER_DOMAIN


__all__ = [
    "TYPE_PREFIX",
    "aws_tags",
    "bucket_name",
    "cloud_labels",
    "gcp_service_account_id",
    "gcs_bucket_name",
    "vm_name",
    "component_type",
    "dns_label",
    "kind_cluster_name",
    "sslip_domain",
    "HOST_HEADER_DOMAIN",
    "ingress_domain",
    "is_ip_address",
    "s3_bucket_prefix",
    "gcp_reader_account_id",
    "predictor_role_name",
    "predictor_service_account",
    "standard_labels",
]
