"""What servebox reads from a user's kubeconfig, offline: the contexts, the chosen one's server, and
which managed cluster (GKE, EKS) it points at.

The `existing` target checks the kubeconfig at plan time, before any resource, so that a wrong
path, a file that is not a kubeconfig or a context that is not in it fails with an exact message
instead of a provider error mid-update. Nothing here talks to the cluster; no value of the file is
ever put into a message except context names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

import yaml


class KubeconfigError(ValueError):
    """The text is not a usable kubeconfig; the message never quotes the file's content."""


class Flavour(str, Enum):
    """Which managed Kubernetes a context points at, as far as its kubeconfig entry tells."""

    GKE = "GKE"
    EKS = "EKS"
    OTHER = "another cluster"


@dataclass(frozen=True)
class ClusterEntry:
    """The chosen context's cluster, as the kubeconfig describes it."""

    context: str
    """The context name."""
    server: str
    """The API server URL."""
    flavour: Flavour
    """GKE, EKS or another cluster."""
    gcp_project: str | None = None
    """GKE: the project in a gcloud-written context name (gke_<project>_<location>_<cluster>)."""
    eks_cluster: str | None = None
    """EKS: the cluster name the `aws eks get-token` exec plugin asks for, or the ARN's last part."""
    eks_region: str | None = None
    """EKS: the region of the API server's host name."""


_EKS_SERVER = re.compile(r"https://[0-9A-Za-z.-]+\.([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9])\.eks\.amazonaws\.com(:\d+)?/?")
_EKS_ARN = re.compile(r"arn:aws[a-z-]*:eks:([a-z0-9-]+):\d{12}:cluster/([A-Za-z0-9_-]+)")
_GKE_CONTEXT = re.compile(r"gke_([a-z][-a-z0-9.:]{4,62})_([a-z0-9-]+)_([a-z0-9-]+)")


def parse(text: str) -> dict[str, Any]:
    """The kubeconfig as a mapping; raises KubeconfigError when it is not one."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise KubeconfigError(f"it is not YAML{where}") from None
    if not isinstance(document, dict) or document.get("kind") != "Config" or not isinstance(document.get("contexts"), list):
        raise KubeconfigError("it is YAML but not a kubeconfig (no `kind: Config` with a `contexts` list)")
    return document


def context_names(document: dict[str, Any]) -> list[str]:
    """Every context name in the kubeconfig, in file order."""
    return [str(entry.get("name")) for entry in document.get("contexts") or [] if isinstance(entry, dict) and entry.get("name")]


def _named(document: dict[str, Any], section: str, name: str) -> dict[str, Any]:
    for entry in document.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return {}


def cluster_entry(document: dict[str, Any], context: str) -> ClusterEntry:
    """The cluster of `context`; raises KubeconfigError when the context or its cluster is missing."""
    if context not in context_names(document):
        raise KubeconfigError(f"it has no context {context!r}")
    spec = _named(document, "contexts", context).get("context") or {}
    cluster_name = str(spec.get("cluster") or "")
    cluster = _named(document, "clusters", cluster_name).get("cluster") or {}
    server = str(cluster.get("server") or "")
    if not server:
        raise KubeconfigError(f"context {context!r} names cluster {cluster_name!r}, which has no server in the file")
    user = _named(document, "users", str(spec.get("user") or "")).get("user") or {}
    exec_spec = user.get("exec") or {}
    command = str(exec_spec.get("command") or "")
    arguments = [str(argument) for argument in exec_spec.get("args") or []]

    eks_server = _EKS_SERVER.fullmatch(server)
    arn = next((m for m in (_EKS_ARN.fullmatch(name) for name in (context, cluster_name)) if m), None)
    if eks_server or arn or (command.endswith("aws") and "get-token" in arguments):
        name = _argument(arguments, "--cluster-name") or (arn.group(2) if arn else None)
        region = eks_server.group(1) if eks_server else (arn.group(1) if arn else _argument(arguments, "--region"))
        return ClusterEntry(context, server, Flavour.EKS, eks_cluster=name, eks_region=region)
    gke = _GKE_CONTEXT.fullmatch(context) or _GKE_CONTEXT.fullmatch(cluster_name)
    if gke or command.endswith("gke-gcloud-auth-plugin"):
        return ClusterEntry(context, server, Flavour.GKE, gcp_project=gke.group(1) if gke else None)
    return ClusterEntry(context, server, Flavour.OTHER)


def _argument(arguments: list[str], flag: str) -> str | None:
    for index, argument in enumerate(arguments):
        if argument == flag and index + 1 < len(arguments):
            return arguments[index + 1]
        if argument.startswith(f"{flag}="):
            return argument.split("=", 1)[1]
    return None


def only_context(document: dict[str, Any], context: str) -> str:
    """The kubeconfig cut down to `context`, its cluster and its user, with `context` current: every
    reader (the provider, the probes beside it, a user's kubectl) talks to the one cluster the stack
    was configured for, and no other context's credentials reach the state, a command's environment
    or the stack's outputs. Top-level settings (`preferences`, `extensions`) are kept."""
    spec = _named(document, "contexts", context).get("context") or {}
    kept = {
        "contexts": [_named(document, "contexts", context)],
        "clusters": [entry for entry in [_named(document, "clusters", str(spec.get("cluster") or ""))] if entry],
        "users": [entry for entry in [_named(document, "users", str(spec.get("user") or ""))] if entry],
    }
    return yaml.safe_dump({**document, **kept, "current-context": context}, sort_keys=False)
