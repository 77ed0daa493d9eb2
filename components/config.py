"""Typed stack configuration: the one module that reads Pulumi config.

`load_settings()` turns the stack's config into a frozen `Settings`, validated once, before any
resource exists. Every bad value is reported in the same error, each line naming the key, the value
given, what is allowed and the `pulumi config set` command that fixes it. Keys nobody declared are
errors too, so that a typo is never silently ignored.

The schema (keys, types, defaults, descriptions) lives in Pulumi.yaml's `config:` block only; this
module reads it from there rather than repeating it.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components import host, kubeconfig, versions
from components.naming import dns_label, is_ip_address

PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"

# Namespaces the platform installs into or Kubernetes owns: the model namespace is created and
# destroyed by the stack, so it must never be one of these.
RESERVED_NAMESPACES = frozenset(
    {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "local-path-storage",
        "cert-manager",
        "istio-system",
        "knative-operator",
        "knative-serving",
        "kserve",
        "model-store",
    }
)


class Target(str, Enum):
    """Where the Kubernetes cluster runs."""

    KIND = "kind"
    GCP = "gcp"
    AWS = "aws"
    EXISTING = "existing"


class Serving(str, Enum):
    """Which model-serving stack is installed."""

    KSERVE = "kserve"
    SELDON = "seldon"


class DeploymentMode(str, Enum):
    """KServe deployment mode: Knative (serverless) or Standard (plain Deployments)."""

    KNATIVE = "knative"
    STANDARD = "standard"

    @property
    def kserve_name(self) -> str:
        """The spelling KServe's chart and annotations use (`Knative`, `Standard`)."""
        return self.value.capitalize()


class TerminationAction(str, Enum):
    """What a VM's TTL does when it fires."""

    STOP = "stop"
    DELETE = "delete"


class StoreKind(str, Enum):
    """Where models are stored; the target decides, except on existing clusters."""

    MINIO = "minio"
    GCS = "gcs"
    S3 = "s3"


class ScaleMetric(str, Enum):
    """What KServe's predictor autoscales on (the InferenceService's scaleMetric)."""

    CONCURRENCY = "concurrency"
    RPS = "rps"
    CPU = "cpu"
    MEMORY = "memory"


# What each target stores models in; `existing` takes the `store` key.
TARGET_STORES = {"kind": StoreKind.MINIO, "gcp": StoreKind.GCS, "aws": StoreKind.S3}


class NetworkMode(str, Enum):
    """Which network a VM joins: the cloud's default VPC, or one created for the stack (GCP and AWS)."""

    DEFAULT = "default"
    CREATE = "create"


# What this version can build. The enums above list every value the design names, so that a
# planned value gets a message saying it is planned rather than "unknown".
AVAILABLE_TARGETS = (Target.KIND, Target.GCP, Target.AWS, Target.EXISTING)
AVAILABLE_SERVING = (Serving.KSERVE, Serving.SELDON)
VM_TARGETS = frozenset({Target.GCP, Target.AWS})

# The targets a key means something on; a key not listed here applies to every target. Setting one
# on a stack of another target is refused rather than silently ignored.
KEY_TARGETS: dict[str, frozenset[Target]] = {
    "kindHostPort": frozenset({Target.KIND}),
    "kindStoreHostPort": frozenset({Target.KIND}),
    "adminCidrs": VM_TARGETS | {Target.EXISTING},
    **{
        key: VM_TARGETS
        for key in ("modelCidrs", "allowWorldAdminAccess", "vmTtlHours", "vmTerminationAction", "vmSpot")
    },
    **{
        key: frozenset({Target.GCP})
        for key in ("gcpZone", "gcpMachineType", "gcpDiskSizeGb", "gcpNetwork", "gcpStaticIp")
    },
    **{key: frozenset({Target.AWS}) for key in ("awsInstanceType", "awsDiskSizeGb", "awsNetwork", "awsElasticIp")},
    **{
        key: frozenset({Target.EXISTING})
        for key in (
            "kubeconfigPath",
            "kubeContext",
            "kubeconfig",
            "installCertManager",
            "installIstio",
            "installKnative",
            "ingressAddress",
            "ingressDomain",
            "store",
            "eksClusterName",
        )
    },
}

# The serving stacks a key means something to; set with another one, it is refused.
KEY_SERVING: dict[str, frozenset[Serving]] = {
    key: frozenset({Serving.KSERVE}) for key in ("deploymentMode", "installKnative", "modelScaleMetric", "modelScaleTarget")
}

STACK_NAME_MAX_FOR_NAMES = 40
"""The longest physical name derived from <project>-<stack> (naming.kind_cluster_name, vm_name)."""

AUTO = "auto"
"""The CIDR keys' default: this machine's public address, looked up at run time (components/host.py)."""

# Where the Google provider finds its project when `gcp:project` is not set (its own env fallbacks).
GCP_PROJECT_ENV = ("GOOGLE_PROJECT", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT")
# Where the AWS provider finds its region when `aws:region` is not set.
AWS_REGION_ENV = ("AWS_REGION", "AWS_DEFAULT_REGION")
# Where the Google provider finds its region when `gcp:region` is not set.
GCP_REGION_ENV = ("GOOGLE_REGION", "GCLOUD_REGION", "CLOUDSDK_COMPUTE_REGION")



class ConfigError(pulumi.RunError):
    """Raised with every configuration problem at once; RunError prints without a traceback."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        super().__init__(f"servebox configuration has {count} (nothing was created):\n{lines}")


@dataclass(frozen=True)
class KindSettings:
    """Settings of the local kind target."""

    host_port: int
    """Host port (on 127.0.0.1) mapped to the ingress gateway's HTTP NodePort."""
    store_host_port: int
    """Host port (on 127.0.0.1) mapped to the model store's S3 API."""


@dataclass(frozen=True)
class VmSettings:
    """What every VM target (gcp, aws) shares: who may reach it, and when it ends."""

    admin_cidrs: tuple[str, ...]
    """IPv4 CIDRs allowed to SSH (22) and the Kubernetes API (6443); 'auto' already resolved."""
    model_cidrs: tuple[str, ...]
    """IPv4 CIDRs allowed to call the model over HTTP (80); 'auto' already resolved."""
    ttl_hours: int
    """Hours after each start at which the cloud ends the VM; 0 means never."""
    termination_action: TerminationAction
    """What the TTL (and a Spot preemption) does to the VM."""
    spot: bool
    """Run on Spot capacity."""


@dataclass(frozen=True)
class GcpSettings:
    """Settings of the GCP VM target."""

    project: str
    """The GCP project (gcp:project, or the provider's environment fallbacks)."""
    zone: str
    """Zone of the VM."""
    machine_type: str
    """Compute Engine machine type."""
    disk_size_gb: int
    """Boot disk size."""
    network: NetworkMode
    """The project's default network, or one created for this stack."""
    static_ip: bool
    """Reserve a static external IP instead of an ephemeral one."""

    @property
    def region(self) -> str:
        """The zone's region (us-central1-a -> us-central1)."""
        return self.zone.rsplit("-", 1)[0]


@dataclass(frozen=True)
class AwsSettings:
    """Settings of the AWS EC2 target."""

    region: str
    """The AWS region (aws:region, or the provider's environment fallbacks)."""
    instance_type: str
    disk_size_gb: int
    network: NetworkMode
    """The region's default VPC, or one created for this stack."""
    elastic_ip: bool


@dataclass(frozen=True)
class ExistingSettings:
    """Settings of the existing-cluster target: how to reach it, what it has, what it stores in."""

    kubeconfig: str
    """The kubeconfig with the chosen context as current-context; handled as a secret everywhere."""
    cluster: kubeconfig.ClusterEntry
    """The chosen context's cluster (server, and whether it is GKE or EKS)."""
    install_cert_manager: bool
    install_istio: bool
    install_knative: bool
    """False where the cluster has the part already (then it is checked, not installed)."""
    ingress_address: str | None
    """IP or DNS name of the ingress gateway; None = read from its load-balancer status."""
    ingress_domain: str | None
    """Domain of the model hosts; None = derived from the gateway's address."""
    gcp_project: str | None = None
    """store gcs: the project of the bucket and the Google service account."""
    gcp_region: str | None = None
    """store gcs: the bucket's location."""
    workload_pool: str | None = None
    """store gcs: the cluster's Workload Identity pool (<project>.svc.id.goog)."""
    aws_region: str | None = None
    """store s3: the bucket's region (and the cluster's)."""
    eks_cluster: str | None = None
    """store s3: the EKS cluster whose OIDC provider the predictor's role trusts."""
    admin_cidrs: tuple[str, ...] = ()
    """store minio: who may reach MinIO's S3 API through its load balancer."""


@dataclass(frozen=True)
class ModelSettings:
    """The sample model's identity, scale and resources."""

    name: str
    """InferenceService name; part of the model URL."""
    namespace: str
    """Namespace created for the model."""
    min_replicas: int
    """Minimum predictor replicas; 0 only in Knative mode."""
    max_replicas: int
    """Maximum predictor replicas, >= min_replicas and >= 1."""
    cpu_request: str
    """Predictor container CPU request (Kubernetes quantity)."""
    memory_request: str
    """Predictor container memory request (Kubernetes quantity)."""
    cpu_limit: str
    """Predictor container CPU limit (>= request)."""
    memory_limit: str
    """Predictor container memory limit (>= request)."""
    scale_metric: ScaleMetric | None = None
    """What the predictor autoscales on; None = KServe's default for the mode."""
    scale_target: int | None = None
    """Per-replica target of the scale metric; None = the autoscaler's default."""


@dataclass(frozen=True)
class OwnModel:
    """One of the user's own models, checked (components/model/checks.py) before any resource."""

    settings: ModelSettings
    """Name, namespace (the sample's), replicas, scaling and resources."""
    format: str
    """The model format (components/model/formats.py FORMATS), given or detected."""
    protocol: str
    """v1 or v2: the InferenceService's protocolVersion."""
    artifact: Path | None = None
    """The local file or directory to upload, or None with `uri`."""
    uri: str | None = None
    """Where the model already is (gs://, s3://), or None with `artifact`."""


@dataclass(frozen=True)
class SmokeTestSettings:
    """The prediction check that ends `pulumi up`."""

    digits: int
    """How many held-out digits are sent; 0 disables the check."""
    min_accuracy: float
    """Share of digits (0-1) that must come back right."""


@dataclass(frozen=True)
class Settings:
    """Everything the program needs from config, typed and validated."""

    project: str
    stack: str
    target: Target
    serving: Serving
    deployment_mode: DeploymentMode
    install_timeout_seconds: int
    """Time limit of each install step (Helm release, readiness wait)."""
    kind: KindSettings
    model: ModelSettings
    smoke_test: SmokeTestSettings
    store: StoreKind = StoreKind.MINIO
    """Where models are stored (the target's store, or the `store` key on existing)."""
    vm: VmSettings | None = None
    """Set on VM targets (gcp, aws) only."""
    gcp: GcpSettings | None = None
    """Set on the gcp target only."""
    aws: AwsSettings | None = None
    """Set on the aws target only."""
    existing: ExistingSettings | None = None
    """Set on the existing target only."""
    serve_sample: bool = True
    """Whether the sample MNIST model is served."""
    own_models: tuple[OwnModel, ...] = ()
    """The user's own models (the `models` list)."""

    @property
    def predictor_service_accounts(self) -> tuple[tuple[str, str], ...]:
        """(namespace, name) of every served model's ServiceAccount: whom a keyless store binds."""
        from components.naming import predictor_service_account

        names = ([self.model.name] if self.serve_sample else []) + [m.settings.name for m in self.own_models]
        return tuple((self.model.namespace, predictor_service_account(name)) for name in names)


@dataclass(frozen=True)
class ConfigKey:
    """One key of the Pulumi.yaml config schema."""

    name: str
    type: str
    default: Any
    description: str


@cache
def config_schema(project_file: Path = PROJECT_FILE) -> dict[str, ConfigKey]:
    """The project's declared config keys, read from Pulumi.yaml (the only place they live)."""
    project = yaml.safe_load(project_file.read_text())
    return {
        name: ConfigKey(name, spec["type"], spec.get("default"), spec.get("description", ""))
        for name, spec in project.get("config", {}).items()
    }


def project_name(project_file: Path = PROJECT_FILE) -> str:
    """The project name from Pulumi.yaml; config keys are namespaced by it."""
    return str(yaml.safe_load(project_file.read_text())["name"])


class _Reader:
    """Reads raw string values and collects problems instead of stopping at the first one."""

    def __init__(self, raw: Mapping[str, Any], schema: Mapping[str, ConfigKey]):
        self.raw = raw
        self.schema = schema
        self.problems: list[str] = []

    def value(self, key: str) -> str:
        value = self.raw.get(key, self.schema[key].default)
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    def is_default(self, key: str) -> bool:
        """True when `key` holds its Pulumi.yaml default. The Pulumi CLI sets every default the stack
        does not set before the program runs (pkg/workspace/config.go, mergeConfig), so a key is
        always present: whether the user chose something is told by its value, never its presence."""
        spec = self.schema[key]
        return _canonical(spec, self.raw.get(key, spec.default)) == _canonical(spec, spec.default)

    def problem(self, key: str, given: object, allowed: str, fix_value: object | None = None) -> None:
        fix = self.schema[key].default if fix_value is None else fix_value
        fix = str(fix).lower() if isinstance(fix, bool) else fix
        self.problems.append(
            f"{key}: got {given!r}; allowed: {allowed}. Fix: pulumi config set {key} {_shell_word(fix)}"
        )

    def enum(self, key: str, enum: type[Enum], available: tuple[Enum, ...] | None = None) -> Any:
        given = self.value(key)
        choices = available or tuple(enum)
        allowed = ", ".join(member.value for member in choices)
        planned = [member.value for member in enum if member not in choices]
        if planned:
            allowed += f" ({', '.join(planned)}: planned, not built yet)"
        member = next((m for m in enum if m.value == given), None)
        if member not in choices:
            self.problem(key, given, allowed)
            return None
        return member

    def integer(self, key: str, low: int, high: int) -> int | None:
        given = self.value(key)
        if not re.fullmatch(r"-?\d+", given.strip()):
            self.problem(key, given, f"a whole number from {low} to {high}")
            return None
        number = int(given)
        if not low <= number <= high:
            self.problem(key, given, f"a whole number from {low} to {high}")
            return None
        return number

    def boolean(self, key: str) -> bool | None:
        given = self.value(key)
        if given.strip().lower() not in ("true", "false"):
            self.problem(key, given, "true or false")
            return None
        return given.strip().lower() == "true"

    def cidrs(self, key: str) -> tuple[str, ...] | str | None:
        """AUTO, or the comma-separated IPv4 networks of `key`, each in canonical form."""
        given = self.value(key)
        if given.strip() == AUTO:
            return AUTO
        items = [item.strip() for item in given.split(",")]
        networks = []
        for item in items:
            try:
                networks.append(str(ipaddress.IPv4Network(item, strict=True)))
            except ValueError as error:
                reason = "host bits are set" if "has host bits set" in str(error) else "not an IPv4 CIDR"
                self.problem(
                    key, given, f"auto, or comma-separated IPv4 CIDRs such as 203.0.113.7/32 ({item!r}: {reason})"
                )
                return None
        return tuple(networks)

    def matching(self, key: str, check: Callable[[str], bool], allowed: str) -> str | None:
        given = self.value(key)
        if not check(given):
            self.problem(key, given, allowed)
            return None
        return given


def _canonical(spec: ConfigKey, value: Any) -> Any:
    """A config value in a form that compares equal however the CLI spelled it: a number for an
    integer key (8 and "8"), true/false for a boolean key, the parsed list or map for an array or
    object key (JSON text or a structure), the text itself for a string key."""
    if spec.type == "boolean":
        return str(value).strip().lower() if not isinstance(value, bool) else str(value).lower()
    if spec.type == "integer":
        text = str(value).strip()
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else text
    if spec.type in ("array", "object") and isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except json.JSONDecodeError:
            return value
    return "" if value is None else value


def _shell_word(value: object) -> str:
    text = str(value)
    return text if re.fullmatch(r"[A-Za-z0-9._/:-]+", text) else f"'{text}'"


_DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DNS_1123 = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_CPU = re.compile(r"(\d+(\.\d+)?)(m?)")
_MEMORY = re.compile(r"(\d+(\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?")
_MEMORY_FACTORS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def cpu_millicores(quantity: str) -> Decimal | None:
    """A CPU quantity ('250m', '1', '0.5') in millicores, or None when it is not one."""
    match = _CPU.fullmatch(quantity)
    if not match:
        return None
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        return None
    return number if match.group(3) else number * 1000


def memory_bytes(quantity: str) -> Decimal | None:
    """A memory quantity ('256Mi', '1Gi', '500M') in bytes, or None when it is not one."""
    match = _MEMORY.fullmatch(quantity)
    if not match:
        return None
    return Decimal(match.group(1)) * _MEMORY_FACTORS[match.group(3)]


def _unknown_keys(raw: Mapping[str, Any], schema: Mapping[str, ConfigKey]) -> list[str]:
    problems = []
    for key in sorted(set(raw) - set(schema)):
        close = difflib.get_close_matches(key, list(schema), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        problems.append(
            f"{key}: got {str(raw[key])!r} for a key servebox does not have{hint}; "
            f"allowed: {', '.join(sorted(schema))}. Fix: pulumi config rm {key}"
        )
    return problems


def parse_settings(
    raw: Mapping[str, Any],
    *,
    project: str,
    stack: str,
    schema: Mapping[str, ConfigKey] | None = None,
    provider_config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    public_ipv4: Callable[[], str] | None = None,
    secret_keys: frozenset[str] = frozenset(),
) -> Settings:
    """Validate raw project config (keys without the project prefix) into Settings.

    Missing keys take their Pulumi.yaml default. `provider_config` holds other namespaces' keys
    (`gcp:project`), `environ` the environment the providers read, and `public_ipv4` finds this
    machine's address for CIDR keys left at `auto` (components/host.py; asked only when needed),
    `secret_keys` the project keys the stack holds as secrets. Raises ConfigError listing every problem.
    """
    schema = config_schema() if schema is None else schema
    read = _Reader(raw, schema)
    read.problems.extend(_unknown_keys(raw, schema))
    longest = STACK_NAME_MAX_FOR_NAMES - len(dns_label(project)) - 1
    if len(dns_label(stack, 63)) > longest:
        # Physical names are <project>-<stack> cut to 40 (kind cluster, VM, ...): two longer stack
        # names could cut to one name and share a cluster.
        read.problems.append(
            f"stack: got {stack!r} ({len(stack)} characters); allowed: a stack name of at most {longest} characters "
            f"(servebox names the stack's cluster and VM {dns_label(project)}-<stack>, at most "
            f"{STACK_NAME_MAX_FOR_NAMES} characters). Fix: pulumi stack init <a shorter name>"
        )

    target = read.enum("target", Target, AVAILABLE_TARGETS)
    serving = read.enum("serving", Serving, AVAILABLE_SERVING)
    mode = read.enum("deploymentMode", DeploymentMode)
    host_port = read.integer("kindHostPort", 1024, 65535)
    store_host_port = read.integer("kindStoreHostPort", 1024, 65535)
    timeout = read.integer("installTimeoutSeconds", 60, 3600)

    model_name = read.matching(
        "modelName",
        lambda v: len(v) <= 40 and bool(_DNS_1035.fullmatch(v)),
        "lower-case letters, digits and '-', starting with a letter and ending with a letter or "
        "digit, at most 40 characters",
    )
    namespace = read.matching(
        "modelNamespace",
        lambda v: len(v) <= 40 and bool(_DNS_1123.fullmatch(v)) and v not in RESERVED_NAMESPACES,
        "a DNS label (lower-case letters, digits, '-') of at most 40 characters that is not one of "
        + ", ".join(sorted(RESERVED_NAMESPACES)),
    )
    min_replicas = read.integer("modelMinReplicas", 0, 10)
    max_replicas = read.integer("modelMaxReplicas", 1, 10)
    cpu_request = read.matching("modelCpuRequest", lambda v: bool(cpu_millicores(v)), _CPU_ALLOWED)
    cpu_limit = read.matching("modelCpuLimit", lambda v: bool(cpu_millicores(v)), _CPU_ALLOWED)
    memory_request = read.matching("modelMemoryRequest", lambda v: bool(memory_bytes(v)), _MEMORY_ALLOWED)
    memory_limit = read.matching("modelMemoryLimit", lambda v: bool(memory_bytes(v)), _MEMORY_ALLOWED)
    scale_metric = read.enum("modelScaleMetric", _ScaleMetricOrAuto)
    scale_target = read.integer("modelScaleTarget", 0, 10000)
    digits = read.integer("smokeTestDigits", 0, 500)
    min_accuracy = read.integer("smokeTestMinAccuracyPercent", 0, 100)
    if target is not None:
        _keys_of_other_targets(read, target)
    if serving is not None:
        _keys_of_other_serving(read, serving)
    if serving is Serving.SELDON and min_replicas == 0:
        read.problem("modelMinReplicas", "0", "1-10 with serving seldon (scale-to-zero needs Knative, i.e. kserve)", 1)
    vm = _vm_settings(read, public_ipv4 or host.public_ipv4) if target in VM_TARGETS else None
    environment = os.environ if environ is None else environ
    gcp = _gcp_settings(read, provider_config or {}, environment) if target is Target.GCP else None
    aws = _aws_settings(read, provider_config or {}, environment) if target is Target.AWS else None
    existing = (
        _existing_settings(read, provider_config or {}, environment, public_ipv4 or host.public_ipv4, secret_keys, mode)
        if target is Target.EXISTING
        else None
    )
    if serving is Serving.SELDON:
        _seldon_needs_amd64(read, gcp, aws)
    if target is Target.AWS and vm is not None and vm.termination_action is TerminationAction.STOP:
        read.problem(
            "vmTerminationAction",
            "stop",
            "delete on aws (its TTL is a shutdown from inside the VM at an absolute time, which a "
            "restarted VM would repeat at once)",
        )

    # Rules across keys, checked only where both sides parsed (their own errors are already listed).
    if host_port is not None and host_port == store_host_port:
        read.problem("kindStoreHostPort", str(store_host_port), "a port other than kindHostPort", host_port + 1)
    if mode is DeploymentMode.STANDARD and min_replicas == 0:
        read.problem(
            "modelMinReplicas", "0", "1-10 with deploymentMode standard (scale-to-zero needs knative)", 1
        )
    if mode is DeploymentMode.STANDARD and scale_metric in (_ScaleMetricOrAuto.CONCURRENCY, _ScaleMetricOrAuto.RPS):
        read.problem(
            "modelScaleMetric",
            scale_metric.value,
            "auto, cpu or memory with deploymentMode standard (concurrency and rps are Knative's autoscaler)",
            "cpu",
        )
    if min_replicas is not None and max_replicas is not None and max_replicas < min_replicas:
        read.problem("modelMaxReplicas", str(max_replicas), f"at least modelMinReplicas ({min_replicas})", min_replicas)
    if cpu_request and cpu_limit and cpu_millicores(cpu_limit) < cpu_millicores(cpu_request):  # type: ignore[operator]
        read.problem("modelCpuLimit", cpu_limit, f"at least modelCpuRequest ({cpu_request})", cpu_request)
    if memory_request and memory_limit and memory_bytes(memory_limit) < memory_bytes(memory_request):  # type: ignore[operator]
        read.problem(
            "modelMemoryLimit", memory_limit, f"at least modelMemoryRequest ({memory_request})", memory_request
        )

    sample_setting = read.enum("sampleModel", _SampleModel)
    own_models: tuple[OwnModel, ...] = ()
    defaults: ModelSettings | None = None
    if None not in (serving, mode, model_name, namespace, min_replicas, max_replicas, cpu_request, cpu_limit, memory_request, memory_limit):
        defaults = ModelSettings(
            name=model_name,  # type: ignore[arg-type]
            namespace=namespace,  # type: ignore[arg-type]
            min_replicas=min_replicas,  # type: ignore[arg-type]
            max_replicas=max_replicas,  # type: ignore[arg-type]
            cpu_request=cpu_request,  # type: ignore[arg-type]
            memory_request=memory_request,  # type: ignore[arg-type]
            cpu_limit=cpu_limit,  # type: ignore[arg-type]
            memory_limit=memory_limit,  # type: ignore[arg-type]
            scale_metric=None if scale_metric in (None, _ScaleMetricOrAuto.AUTO) else ScaleMetric(scale_metric.value),
            scale_target=scale_target or None,
        )
        arch = gcp_architecture(gcp.machine_type) if gcp else aws_architecture(aws.instance_type) if aws else None
        serve_sample_now = sample_setting is _SampleModel.TRUE or (sample_setting is _SampleModel.AUTO and read.is_default("models"))
        own_models = _own_models(read, serving, mode, defaults, arch, model_name if serve_sample_now else None)
    serve_sample = sample_setting is _SampleModel.TRUE or (sample_setting is _SampleModel.AUTO and not own_models)
    if sample_setting is _SampleModel.FALSE and not own_models and not read.problems:
        read.problems.append(
            "sampleModel: got 'false', but models is empty; allowed: false only with at least one model of your own. "
            "Fix: pulumi config set sampleModel auto (or add a model: servebox serve <path>)"
        )

    if read.problems:
        raise ConfigError(read.problems)
    store = read.enum("store", StoreKind) if target is Target.EXISTING else TARGET_STORES[target.value]
    return Settings(
        project=project,
        stack=stack,
        target=target,
        serving=serving,
        deployment_mode=mode,
        install_timeout_seconds=timeout,  # type: ignore[arg-type]
        kind=KindSettings(host_port=host_port, store_host_port=store_host_port),  # type: ignore[arg-type]
        model=defaults,  # the sample's settings, and every own model's defaults
        smoke_test=SmokeTestSettings(digits=digits, min_accuracy=min_accuracy / 100),  # type: ignore[arg-type,operator]
        store=store,
        vm=vm,
        gcp=gcp,
        aws=aws,
        existing=existing,
        serve_sample=serve_sample,
        own_models=own_models,
    )


def _keys_of_other_targets(read: _Reader, target: Target) -> None:
    for key in sorted(KEY_TARGETS):
        targets = KEY_TARGETS[key]
        if target not in targets and not read.is_default(key):
            names = ", ".join(sorted(t.value for t in targets))
            read.problems.append(
                f"{key}: got {read.value(key)!r}, but it applies to target {names} only and this stack's "
                f"target is {target.value}; allowed: unset on {target.value} stacks. Fix: pulumi config rm {key}"
            )


_GRAVITON_FAMILY = re.compile(r"[a-z-]+\d+([a-z-]*)")


def gcp_architecture(machine_type: str) -> str:
    """The CPU architecture of a Compute Engine machine type's series (t2a-standard-2 -> arm64)."""
    return "arm64" if machine_type.split("-", 1)[0] in versions.GCP_ARM_SERIES else "amd64"


def aws_architecture(instance_type: str) -> str:
    """arm64 for Graviton families (a `g` after the generation: t4g, m7g, c7gn, r8gd), else amd64."""
    match = _GRAVITON_FAMILY.fullmatch(instance_type.split(".", 1)[0])
    return "arm64" if match and "g" in match.group(1) else "amd64"


def _seldon_needs_amd64(read: _Reader, gcp: GcpSettings | None, aws: AwsSettings | None) -> None:
    allowed = "with serving seldon, an amd64 {} (Seldon Core's operator and executor images are amd64-only)"
    # Seldon Core v1.17.1's operator and executor images are built for amd64 only (components/versions.py).
    if gcp is not None and gcp_architecture(gcp.machine_type) == "arm64":
        read.problem("gcpMachineType", gcp.machine_type, allowed.format("machine type such as e2-standard-2"))
    if aws is not None and aws_architecture(aws.instance_type) == "arm64":
        read.problem("awsInstanceType", aws.instance_type, allowed.format("instance type such as t3.large"))


def _keys_of_other_serving(read: _Reader, serving: Serving) -> None:
    for key in sorted(KEY_SERVING):
        stacks = KEY_SERVING[key]
        if serving not in stacks and not read.is_default(key):
            names = ", ".join(sorted(s.value for s in stacks))
            read.problems.append(
                f"{key}: got {read.value(key)!r}, but it applies to serving {names} only and this stack's "
                f"serving is {serving.value}; allowed: unset on {serving.value} stacks. Fix: pulumi config rm {key}"
            )


def _resolve_auto(
    read: _Reader, values: dict[str, tuple[str, ...] | str | None], public_ipv4: Callable[[], str]
) -> list[tuple[str, ...] | str | None]:
    """The CIDR keys' values with AUTO replaced by this machine's address as a /32 (looked up once,
    only when a key asks for it), or None with the problem recorded when it cannot be found."""
    if AUTO not in values.values():
        return list(values.values())
    try:
        here: tuple[str, ...] | None = (f"{public_ipv4()}/32",)
    except host.PublicAddressError as error:
        for key, value in values.items():
            if value == AUTO:
                read.problems.append(
                    f"{key}: got 'auto', but the public IPv4 address of this machine could not be found "
                    f"({error}); allowed: auto when it can be looked up, or IPv4 CIDRs. "
                    f"Fix: pulumi config set {key} <your public IP>/32"
                )
        here = None
    return [here if value == AUTO else value for value in values.values()]


def _vm_settings(read: _Reader, public_ipv4: Callable[[], str]) -> VmSettings | None:
    admin = read.cidrs("adminCidrs")
    model = read.cidrs("modelCidrs")
    allow_world = read.boolean("allowWorldAdminAccess")
    ttl = read.integer("vmTtlHours", 0, 720)
    action = read.enum("vmTerminationAction", TerminationAction)
    spot = read.boolean("vmSpot")
    admin, model = _resolve_auto(read, {"adminCidrs": admin, "modelCidrs": model}, public_ipv4)
    if isinstance(admin, tuple) and allow_world is False:
        world = [cidr for cidr in admin if ipaddress.IPv4Network(cidr).prefixlen == 0]
        if world:
            read.problems.append(
                f"adminCidrs: got {read.value('adminCidrs')!r}; allowed: networks narrower than {world[0]} unless "
                "allowWorldAdminAccess is true (it would open SSH and the Kubernetes API of the VM to the "
                "whole internet). Fix: pulumi config set adminCidrs auto"
            )
    if None in (admin, model, allow_world, ttl, action, spot):
        return None
    return VmSettings(
        admin_cidrs=admin,  # type: ignore[arg-type]
        model_cidrs=model,  # type: ignore[arg-type]
        ttl_hours=ttl,  # type: ignore[arg-type]
        termination_action=action,
        spot=spot,  # type: ignore[arg-type]
    )


def provider_setting(
    key: str, fallbacks: tuple[str, ...], provider_config: Mapping[str, Any], environ: Mapping[str, str]
) -> tuple[str, str]:
    """(value, where it came from) of a provider key such as `gcp:project`, as the provider reads it:
    the stack's config, else the first of its environment fallbacks that is set; ("", "") when none is."""
    if provider_config.get(key):
        return str(provider_config[key]), f"{key} in the stack's config"
    for variable in fallbacks:
        if environ.get(variable):
            return environ[variable], variable
    return "", ""


_AWS_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]")
_AWS_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[0-9]*[a-z][a-z0-9-]*")


def _aws_settings(read: _Reader, provider_config: Mapping[str, Any], environ: Mapping[str, str]) -> AwsSettings | None:
    region, _ = provider_setting("aws:region", AWS_REGION_ENV, provider_config, environ)
    if not region:
        read.problems.append(
            "aws:region: not set; allowed: the AWS region to create the instance and the bucket in, such as "
            f"us-east-1 (or one of {', '.join(AWS_REGION_ENV)} in the environment). Fix: pulumi config set aws:region us-east-1"
        )
    elif not _AWS_REGION.fullmatch(region):
        read.problems.append(
            f"aws:region: got {region!r}; allowed: an AWS region such as us-east-1 or eu-west-1 (not a zone). "
            "Fix: pulumi config set aws:region us-east-1"
        )
        region = ""
    instance_type = read.matching(
        "awsInstanceType",
        lambda v: bool(_AWS_INSTANCE_TYPE.fullmatch(v)),
        "an EC2 instance type such as t3.large, m7i.large or t4g.large",
    )
    disk = read.integer("awsDiskSizeGb", 20, 500)
    network = read.enum("awsNetwork", NetworkMode)
    elastic_ip = read.boolean("awsElasticIp")
    if not region or None in (instance_type, disk, network, elastic_ip):
        return None
    return AwsSettings(
        region=region,
        instance_type=instance_type,  # type: ignore[arg-type]
        disk_size_gb=disk,  # type: ignore[arg-type]
        network=network,
        elastic_ip=elastic_ip,  # type: ignore[arg-type]
    )


_GCP_PROJECT = re.compile(r"([a-z0-9.-]+:)?[a-z][-a-z0-9]{4,28}[a-z0-9]")
_GCP_ZONE = re.compile(r"[a-z]+(-[a-z]+)*[0-9]+-[a-z]")
_GCP_MACHINE_TYPE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+){1,3}")


def _gcp_settings(read: _Reader, provider_config: Mapping[str, Any], environ: Mapping[str, str]) -> GcpSettings | None:
    project, _ = provider_setting("gcp:project", GCP_PROJECT_ENV, provider_config, environ)
    if not project:
        read.problems.append(
            "gcp:project: not set; allowed: the id of the GCP project to create the VM and the bucket in "
            f"(or one of {', '.join(GCP_PROJECT_ENV)} in the environment). Fix: pulumi config set gcp:project <project-id>"
        )
    elif not _GCP_PROJECT.fullmatch(project):
        read.problems.append(
            f"gcp:project: got {project!r}; allowed: a GCP project id (6-30 lower-case letters, digits and '-', "
            "starting with a letter). Fix: pulumi config set gcp:project <project-id>"
        )
        project = ""
    zone = read.matching("gcpZone", lambda v: bool(_GCP_ZONE.fullmatch(v)), "a Compute Engine zone such as us-central1-a")
    machine_type = read.matching(
        "gcpMachineType",
        lambda v: bool(_GCP_MACHINE_TYPE.fullmatch(v)),
        "a Compute Engine machine type such as e2-standard-2, n2d-standard-4 or t2a-standard-2",
    )
    disk = read.integer("gcpDiskSizeGb", 20, 500)
    network = read.enum("gcpNetwork", NetworkMode)
    static_ip = read.boolean("gcpStaticIp")
    if not project or None in (zone, machine_type, disk, network, static_ip):
        return None
    return GcpSettings(
        project=project,
        zone=zone,  # type: ignore[arg-type]
        machine_type=machine_type,  # type: ignore[arg-type]
        disk_size_gb=disk,  # type: ignore[arg-type]
        network=network,
        static_ip=static_ip,  # type: ignore[arg-type]
    )


class _SampleModel(str, Enum):
    AUTO = AUTO
    TRUE = "true"
    FALSE = "false"


# What a `models` entry may hold beyond name, path, uri, format and protocol: the sample's keys of
# the same meaning (their values are the defaults).
_MODEL_FIELDS = {
    "minReplicas": "modelMinReplicas",
    "maxReplicas": "modelMaxReplicas",
    "cpuRequest": "modelCpuRequest",
    "memoryRequest": "modelMemoryRequest",
    "cpuLimit": "modelCpuLimit",
    "memoryLimit": "modelMemoryLimit",
}
_MODEL_ENTRY_FIELDS = ("name", "path", "uri", "format", "protocol", *_MODEL_FIELDS)


def _models_list(read: _Reader) -> list[Any] | None:
    given = read.raw.get("models", read.schema["models"].default)
    if isinstance(given, str):
        try:
            given = json.loads(given) if given.strip() else []
        except json.JSONDecodeError:
            given = None
    if not isinstance(given, list):
        read.problems.append(
            f"models: got {str(read.raw.get('models'))[:60]!r}; allowed: a list of models, each an object with name "
            "and path or uri. Fix: servebox serve <path> (or pulumi config set --path 'models[0].name' <name> ...)"
        )
        return None
    return given


def _own_models(
    read: _Reader,
    serving: Serving,
    mode: DeploymentMode,
    defaults: ModelSettings,
    node_architecture: str | None,
    sample_name: str | None,
) -> tuple[OwnModel, ...]:
    """The `models` list, each entry checked for shape, scale, format, layout and pickle version."""
    from components.model import checks  # the model layer's pure checks; no resource is touched

    entries = _models_list(read)
    if not entries:
        return ()
    problems_before = len(read.problems)
    shaped: list[tuple[int, dict[str, Any], ModelSettings | None]] = []
    for index, entry in enumerate(entries):
        at = f"models[{index}]"
        if not isinstance(entry, dict):
            read.problems.append(
                f"{at}: got {entry!r}; allowed: an object with name and path or uri. "
                f"Fix: pulumi config set --path '{at}.name' <name>"
            )
            continue
        for field in sorted(set(entry) - set(_MODEL_ENTRY_FIELDS)):
            close = difflib.get_close_matches(field, _MODEL_ENTRY_FIELDS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            read.problems.append(
                f"{at}.{field}: got {entry[field]!r} for a field models do not have{hint}; allowed: "
                f"{', '.join(_MODEL_ENTRY_FIELDS)}. Fix: pulumi config rm --path '{at}.{field}'"
            )
        shaped.append((index, entry, _own_model_settings(read, at, entry, defaults, mode, serving)))
    model_entries = [
        checks.ModelEntry(
            name=str(entry.get("name", "")),
            path=str(Path(str(entry["path"])).expanduser()) if entry.get("path") else "",
            uri=str(entry.get("uri") or ""),
            format=str(entry.get("format") or ""),
            protocol=str(entry.get("protocol") or "v2"),
        )
        for _, entry, _ in shaped
    ]
    if len(shaped) < len(entries):
        return ()  # check_models numbers entries by position: only run it on a list of objects
    checked, problems = checks.check_models(model_entries, serving.value, node_architecture=node_architecture)
    read.problems.extend(problems)
    if sample_name is not None:
        for index, entry, _ in shaped:
            if entry.get("name") == sample_name:
                read.problems.append(
                    f"models[{index}].name: got {sample_name!r}, which the sample model (modelName) already uses; "
                    f"allowed: another name, or sampleModel false. Fix: pulumi config set --path 'models[{index}].name' "
                    f"{sample_name}-2"
                )
    if len(read.problems) > problems_before:
        return ()
    by_name = {item.entry.name: item for item in checked}
    return tuple(
        OwnModel(
            settings=settings,  # type: ignore[arg-type]
            format=by_name[str(entry["name"])].format,
            protocol=str(entry.get("protocol") or "v2"),
            artifact=by_name[str(entry["name"])].artifact,
            uri=str(entry["uri"]) if entry.get("uri") else None,
        )
        for _, entry, settings in shaped
    )


def _own_model_settings(
    read: _Reader, at: str, entry: dict[str, Any], defaults: ModelSettings, mode: DeploymentMode, serving: Serving
) -> ModelSettings | None:
    """The entry's scale and resources over the sample's, each checked as its model* key is."""
    values: dict[str, Any] = {}
    ok = True
    for field, key in _MODEL_FIELDS.items():
        if field not in entry:
            continue
        given = str(entry[field])
        if field.endswith("Replicas"):
            low = 0 if field == "minReplicas" else 1
            good = bool(re.fullmatch(r"\d+", given)) and low <= int(given) <= 10
            allowed = f"a whole number from {low} to 10"
        elif field.startswith("cpu"):
            good, allowed = bool(cpu_millicores(given)), _CPU_ALLOWED
        else:
            good, allowed = bool(memory_bytes(given)), _MEMORY_ALLOWED
        if not good:
            read.problems.append(
                f"{at}.{field}: got {given!r}; allowed: {allowed}. Fix: pulumi config set --path '{at}.{field}' "
                f"{read.schema[key].default}"
            )
            ok = False
        values[field] = int(given) if good and field.endswith("Replicas") else given
    if not ok:
        return None
    settings = ModelSettings(
        name=str(entry.get("name", "")),
        namespace=defaults.namespace,
        min_replicas=values.get("minReplicas", defaults.min_replicas),
        max_replicas=values.get("maxReplicas", defaults.max_replicas),
        cpu_request=values.get("cpuRequest", defaults.cpu_request),
        memory_request=values.get("memoryRequest", defaults.memory_request),
        cpu_limit=values.get("cpuLimit", defaults.cpu_limit),
        memory_limit=values.get("memoryLimit", defaults.memory_limit),
        scale_metric=defaults.scale_metric,
        scale_target=defaults.scale_target,
    )
    if settings.max_replicas < settings.min_replicas:
        read.problems.append(
            f"{at}.maxReplicas: got {settings.max_replicas}; allowed: at least its minReplicas ({settings.min_replicas}). "
            f"Fix: pulumi config set --path '{at}.maxReplicas' {settings.min_replicas}"
        )
        return None
    if settings.min_replicas == 0 and (mode is not DeploymentMode.KNATIVE or serving is Serving.SELDON):
        read.problems.append(
            f"{at}.minReplicas: got 0; allowed: 1-10 without Knative (scale-to-zero needs serving kserve in "
            "deploymentMode knative). "
            f"Fix: pulumi config set --path '{at}.minReplicas' 1"
        )
        return None
    return settings


class _ScaleMetricOrAuto(str, Enum):
    AUTO = AUTO
    CONCURRENCY = ScaleMetric.CONCURRENCY.value
    RPS = ScaleMetric.RPS.value
    CPU = ScaleMetric.CPU.value
    MEMORY = ScaleMetric.MEMORY.value


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
    document, context = access
    try:
        kubeconfig.cluster_entry(document, context)
    except kubeconfig.KubeconfigError as error:
        read.problems.append(
            f"kubeContext: got {context!r}, but {error}; allowed: a context whose cluster has a server. "
            "Fix: kubectl config view --minify (then pulumi config set kubeContext <context>)"
        )
    return context, read.problems


def _existing_settings(
    read: _Reader,
    provider_config: Mapping[str, Any],
    environ: Mapping[str, str],
    public_ipv4: Callable[[], str],
    secret_keys: frozenset[str],
    mode: DeploymentMode | None,
) -> ExistingSettings | None:
    access = _kubeconfig(read, secret_keys)
    cluster = None
    if access is not None:
        document, context = access
        try:
            cluster = kubeconfig.cluster_entry(document, context)
        except kubeconfig.KubeconfigError as error:
            read.problems.append(
                f"kubeContext: got {context!r}, but {error}; allowed: a context whose cluster has a server. "
                "Fix: kubectl config view --minify (then pulumi config set kubeContext <context>)"
            )
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
            if any(ipaddress.IPv4Network(cidr).prefixlen == 0 for cidr in cidrs):
                read.problems.append(
                    f"adminCidrs: got {read.value('adminCidrs')!r}; allowed: networks narrower than 0.0.0.0/0 (it "
                    "would open MinIO's S3 API to the whole internet). Fix: pulumi config set adminCidrs auto"
                )
            settings["admin_cidrs"] = cidrs
    if access is None or cluster is None or None in parts.values() or address is None or domain is None or store is None:
        return None
    document, context = access
    return ExistingSettings(
        kubeconfig=kubeconfig.with_current_context(document, context),
        cluster=cluster,
        install_cert_manager=parts["installCertManager"],  # type: ignore[arg-type]
        install_istio=parts["installIstio"],  # type: ignore[arg-type]
        install_knative=parts["installKnative"] and mode is DeploymentMode.KNATIVE,  # type: ignore[arg-type]
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


_CPU_ALLOWED = "a positive CPU quantity such as 100m, 0.5 or 1"
_MEMORY_ALLOWED = "a positive memory quantity such as 256Mi, 1Gi or 500M"


def load_settings() -> Settings:
    """Read this stack's config through the Pulumi runtime and validate it (see settings_from_config)."""
    every_key = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    secret = frozenset(key for key in every_key if pulumi.runtime.config.is_config_secret(key))
    return settings_from_config(every_key, project=pulumi.get_project(), stack=pulumi.get_stack(), secret_keys=secret)


def settings_from_config(
    every_key: Mapping[str, str], *, project: str, stack: str, secret_keys: frozenset[str] = frozenset(), **options: Any
) -> Settings:
    """Settings from the whole stack config as the program receives it: full keys (`servebox:target`,
    `gcp:project`) to their text, every Pulumi.yaml default already set by the CLI, `secret_keys`
    the full keys held as secrets. `options` go to parse_settings (environ, public_ipv4)."""
    prefix = f"{project}:"
    raw = {key[len(prefix) :]: value for key, value in every_key.items() if key.startswith(prefix)}
    others = {key: value for key, value in every_key.items() if not key.startswith(prefix)}
    secret = frozenset(key[len(prefix) :] for key in secret_keys if key.startswith(prefix))
    return parse_settings(raw, project=project, stack=stack, provider_config=others, secret_keys=secret, **options)
