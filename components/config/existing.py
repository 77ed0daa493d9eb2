"""The existing target: the kubeconfig and context, the platform parts the cluster has, the ingress,
and the store that fits the cluster (keyless on GKE and EKS)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from components import kubeconfig
from components.config.networks import _resolve_auto, too_wide, world_problem
from components.config.schema import _Reader, _shell_word, config_schema, known
from components.config.settings import DeploymentMode, ExistingSettings, StoreKind
from components.config.targets import AWS_REGION_ENV, GCP_PROJECT_ENV, GCP_REGION_ENV, provider_setting
from components.naming import is_ip_address

_HOST_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*")


def is_host_name(text: str) -> bool:
    """True for a DNS name of lower-case labels (RFC 1123), such as a load balancer's."""
    return bool(_HOST_NAME.fullmatch(text)) and not re.fullmatch(r"[0-9.]+", text)


def _kubeconfig(read: _Reader, secret_keys: frozenset[str]) -> tuple[dict, str] | None:
    """(the parsed kubeconfig, the context to use), or None with the problems recorded."""
    path = read.value("kubeconfigPath").strip()
    inline = read.value("kubeconfig")
    context = read.value("kubeContext").strip()
    if path and inline.strip():
        read.problems.append(
            "kubeconfig: set together with kubeconfigPath; allowed: one of them (a kubeconfig file with "
            "kubeContext, or the whole kubeconfig as a secret value). Fix: pulumi config rm kubeconfig"
        )
        return None
    if not path and not inline.strip():
        read.problems.append(
            "kubeconfigPath: not set, and kubeconfig is not set either; allowed: on target existing, a "
            "kubeconfig file with its context, or the whole kubeconfig as a secret value. Fix: pulumi config "
            "set kubeconfigPath ~/.kube/config && pulumi config set kubeContext <context> (or: pulumi config "
            "set --secret kubeconfig \"$(cat <file>)\")"
        )
        return None
    if inline.strip():
        if "kubeconfig" not in secret_keys:
            read.problems.append(
                "kubeconfig: set in plain text; allowed: a secret value (it holds the cluster's credentials). "
                "Fix: pulumi config set --secret kubeconfig \"$(cat <file>)\""
            )
            return None
        text, source, given = inline, "kubeconfig", "a secret value"
    else:
        if not context:
            read.problems.append(
                "kubeContext: not set; allowed: with kubeconfigPath, the name of one of the file's contexts "
                "(kubectl config get-contexts). Fix: pulumi config set kubeContext <context>"
            )
        file = Path(path).expanduser()
        source, given = "kubeconfigPath", repr(path)
        try:
            text = file.read_text()
        except FileNotFoundError:
            read.problems.append(
                f"kubeconfigPath: got {path!r}, but there is no file at {file.absolute()}; allowed: the path of "
                "a kubeconfig file on this machine. Fix: pulumi config set kubeconfigPath ~/.kube/config"
            )
            return None
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
            read.problems.append(
                f"kubeconfigPath: got {path!r}, but {file.absolute()} cannot be read ({reason}); allowed: a "
                "readable kubeconfig file. Fix: pulumi config set kubeconfigPath ~/.kube/config"
            )
            return None
    try:
        document = kubeconfig.parse(text)
    except kubeconfig.KubeconfigError as error:
        fix = (
            "pulumi config set kubeconfigPath ~/.kube/config"
            if source == "kubeconfigPath"
            else "pulumi config set --secret kubeconfig \"$(cat ~/.kube/config)\""
        )
        read.problems.append(f"{source}: got {given}, but {error}; allowed: a kubeconfig file. Fix: {fix}")
        return None
    names = kubeconfig.context_names(document)
    listed = ", ".join(names) if names else "none"
    if not context:
        if source == "kubeconfigPath":
            return None  # already reported: a file needs its context named
        context = str(document.get("current-context") or "")
        if not context:
            read.problems.append(
                f"kubeContext: not set, and the kubeconfig has no current-context; allowed: one of its contexts "
                f"({listed}). Fix: pulumi config set kubeContext {names[0] if names else '<context>'}"
            )
            return None
    if context not in names:
        read.problems.append(
            f"kubeContext: got {context!r}, but the kubeconfig ({source}) has no such context; allowed: one of "
            f"its contexts ({listed}). Fix: pulumi config set kubeContext {_shell_word(names[0]) if names else '<context>'}"
        )
        return None
    return document, context


def kubeconfig_problems(raw: Mapping[str, Any], secret_keys: frozenset[str] = frozenset()) -> tuple[str, list[str]]:
    """(the context it names, every problem) of an existing stack's kubeconfigPath, kubeContext and
    kubeconfig, exactly as the program reports them: for preflight, before any Pulumi runs."""
    read = _Reader(raw, config_schema())
    access = _kubeconfig(read, secret_keys)
    if access is None:
        return "", read.problems
    _cluster(read, *access)
    return access[1], read.problems


def _cluster(read: _Reader, document: dict, context: str) -> kubeconfig.ClusterEntry | None:
    """The chosen context's cluster, or None with the problem recorded (a context with no server)."""
    try:
        return kubeconfig.cluster_entry(document, context)
    except kubeconfig.KubeconfigError as error:
        read.problems.append(
            f"kubeContext: got {context!r}, but {error}; allowed: a context whose cluster has a server. "
            "Fix: kubectl config view --minify (then pulumi config set kubeContext <context>)"
        )
        return None


def _existing_settings(
    read: _Reader,
    provider_config: Mapping[str, Any],
    environ: Mapping[str, str],
    public_ipv4: Callable[[], str],
    secret_keys: frozenset[str],
    mode: DeploymentMode | None,
) -> ExistingSettings | None:
    access = _kubeconfig(read, secret_keys)
    cluster = _cluster(read, *access) if access is not None else None
    parts = {key: read.boolean(key) for key in ("installCertManager", "installIstio", "installKnative")}
    if not read.is_default("installKnative") and mode is DeploymentMode.STANDARD:
        read.problems.append(
            f"installKnative: got {read.value('installKnative')!r}, but deploymentMode standard installs no "
            "Knative; allowed: unset with deploymentMode standard. Fix: pulumi config rm installKnative"
        )
    address = read.matching(
        "ingressAddress",
        lambda v: v == "" or is_ip_address(v) or is_host_name(v),
        "empty (read from the gateway's load balancer), or an IP address or DNS name without scheme, port "
        "or path, such as 203.0.113.7 or models.example.com",
    )
    domain = read.matching(
        "ingressDomain",
        lambda v: v == "" or (is_host_name(v) and "." in v),
        "empty (derived from the gateway's address), or a DNS domain such as models.example.com",
    )
    if parts["installKnative"] is False and mode is DeploymentMode.KNATIVE and domain == "":
        read.problems.append(
            "ingressDomain: not set, but installKnative is false; allowed: the domain the cluster's Knative "
            "Serving gives services (kubectl -n knative-serving get configmap config-domain -o yaml). "
            "Fix: pulumi config set ingressDomain <domain>"
        )
    store = read.enum("store", StoreKind)
    settings: dict[str, Any] = {}
    if store is StoreKind.GCS and cluster is not None:
        settings.update(_existing_gcs(read, cluster, provider_config, environ))
    if store is StoreKind.S3 and cluster is not None:
        settings.update(_existing_s3(read, cluster, provider_config, environ))
    if not read.is_default("adminCidrs") and store not in (StoreKind.MINIO, None):
        read.problems.append(
            f"adminCidrs: got {read.value('adminCidrs')!r}, but on existing clusters it guards MinIO's load "
            f"balancer and this stack's store is {store.value}; allowed: unset with store {store.value}. "
            "Fix: pulumi config rm adminCidrs"
        )
    if store is StoreKind.MINIO:
        (cidrs,) = _resolve_auto(read, {"adminCidrs": read.cidrs("adminCidrs")}, public_ipv4)
        if isinstance(cidrs, tuple):
            if count := too_wide(cidrs):
                read.problems.append(world_problem("adminCidrs", read.value("adminCidrs"), count, "MinIO's S3 API", None))
            settings["admin_cidrs"] = cidrs
    if access is None or cluster is None or None in parts.values() or address is None or domain is None or store is None:
        return None
    document, context = access
    return ExistingSettings(
        kubeconfig=kubeconfig.only_context(document, context),
        cluster=cluster,
        install_cert_manager=known(parts["installCertManager"]),
        install_istio=known(parts["installIstio"]),
        install_knative=known(parts["installKnative"]) and mode is DeploymentMode.KNATIVE,
        ingress_address=address or None,
        ingress_domain=domain or None,
        **settings,
    )


def _existing_gcs(
    read: _Reader, cluster: kubeconfig.ClusterEntry, provider_config: Mapping[str, Any], environ: Mapping[str, str]
) -> dict[str, Any]:
    if not _store_fits(read, cluster, StoreKind.GCS):
        return {}
    project, _ = provider_setting("gcp:project", GCP_PROJECT_ENV, provider_config, environ)
    project = project or cluster.gcp_project or ""
    region, _ = provider_setting("gcp:region", GCP_REGION_ENV, provider_config, environ)
    if not project:
        read.problems.append(
            "gcp:project: not set, and the kubeconfig's context does not name one; allowed: the id of the GCP "
            "project of the bucket and the GKE cluster. Fix: pulumi config set gcp:project <project-id>"
        )
    if not region:
        read.problems.append(
            "gcp:region: not set; allowed: the region to keep the bucket in, the GKE cluster's (such as "
            f"us-central1; or one of {', '.join(GCP_REGION_ENV)} in the environment). "
            "Fix: pulumi config set gcp:region us-central1"
        )
    if not project or not region:
        return {}
    return {"gcp_project": project, "gcp_region": region, "workload_pool": f"{cluster.gcp_project or project}.svc.id.goog"}


def _existing_s3(
    read: _Reader, cluster: kubeconfig.ClusterEntry, provider_config: Mapping[str, Any], environ: Mapping[str, str]
) -> dict[str, Any]:
    if not _store_fits(read, cluster, StoreKind.S3):
        return {}
    region, _ = provider_setting("aws:region", AWS_REGION_ENV, provider_config, environ)
    region = region or cluster.eks_region or ""
    name = read.value("eksClusterName").strip() or cluster.eks_cluster or ""
    if not region:
        read.problems.append(
            "aws:region: not set, and the kubeconfig does not say it; allowed: the EKS cluster's region, such "
            "as us-east-1. Fix: pulumi config set aws:region us-east-1"
        )
    if not name:
        read.problems.append(
            "eksClusterName: not set, and the kubeconfig's context names no EKS cluster; allowed: the EKS "
            "cluster's name (aws eks list-clusters). Fix: pulumi config set eksClusterName <cluster>"
        )
    elif not re.fullmatch(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}", name):
        read.problem("eksClusterName", name, "an EKS cluster name (letters, digits, '-' and '_', up to 100)", "<cluster>")
        name = ""
    if not region or not name:
        return {}
    return {"aws_region": region, "eks_cluster": name}


# The keyless stores and the one managed cluster whose workload identity reads each of them.
_KEYLESS_STORES = {
    StoreKind.GCS: (kubeconfig.Flavour.GKE, "GKE's Workload Identity"),
    StoreKind.S3: (kubeconfig.Flavour.EKS, "EKS's IAM roles for service accounts"),
}


def _store_fits(read: _Reader, cluster: kubeconfig.ClusterEntry, store: StoreKind) -> bool:
    """True when `store` can be read keyless on `cluster`; else the problem is recorded."""
    flavour, identity = _KEYLESS_STORES[store]
    if cluster.flavour is flavour:
        return True
    fits = [kind.value for kind, (needs, _) in _KEYLESS_STORES.items() if needs is cluster.flavour] + [StoreKind.MINIO.value]
    read.problems.append(
        f"store: got {store.value!r}, but context {cluster.context!r} is {_flavour_phrase(cluster)}; allowed: "
        f"{' or '.join(fits)} there ({store.value} is read keyless through {identity}). "
        f"Fix: pulumi config set store {fits[0]}"
    )
    return False


def _flavour_phrase(cluster: kubeconfig.ClusterEntry) -> str:
    if cluster.flavour is kubeconfig.Flavour.OTHER:
        return "neither GKE nor EKS by its kubeconfig entry"
    return f"an {cluster.flavour.value} cluster" if cluster.flavour is kubeconfig.Flavour.EKS else "a GKE cluster"
