"""The typed settings the program is built from: one frozen dataclass per concern, and the enums of
the values each key allows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from components.kubeconfig import ClusterEntry
from components.naming import attendee_namespace

__all__ = [
    "AVAILABLE_SERVING",
    "AVAILABLE_TARGETS",
    "AwsSettings",
    "DeploymentMode",
    "ExistingSettings",
    "GcpSettings",
    "KindSettings",
    "ModelSettings",
    "Canary",
    "NetworkMode",
    "OwnModel",
    "ScaleMetric",
    "Serving",
    "Settings",
    "SmokeTestSettings",
    "StoreKind",
    "TARGET_STORES",
    "Target",
    "TerminationAction",
    "VM_TARGETS",
    "VmSettings",
    "WorkshopSettings",
]


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
    store_api: bool = False
    """MinIO's S3 API open to admin_cidrs at its NodePort (a shared workshop's store on the VM)."""


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
    cluster: ClusterEntry
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
    canary: Canary | None = None
    """A new version beside this one, taking a share of the requests (`servebox serve --canary`)."""
    hold_rolled_out: bool = False
    """All requests stay on the version last rolled out to 100 % (canaryPercent 0, what
    `servebox rollback` leaves): the old version takes the traffic back at once, before KServe has
    a new revision of it ready."""
    attendee: str | None = None
    """A shared workshop's attendee it is served for, in their namespace and from their prefix."""


@dataclass(frozen=True)
class Canary:
    """A model's next version on trial: its artifact (or URI) and its share of the requests."""

    percent: int
    """1-99: the share of requests the new version answers; the current version answers the rest."""
    artifact: Path | None = None
    uri: str | None = None


@dataclass(frozen=True)
class SmokeTestSettings:
    """The prediction check that ends `pulumi up`."""

    digits: int
    """How many held-out digits are sent; 0 disables the check."""
    min_accuracy: float
    """Share of digits (0-1) that must come back right."""


@dataclass(frozen=True)
class WorkshopSettings:
    """A shared workshop: the attendees, each with a namespace of their own, and each one's quota."""

    attendees: tuple[str, ...]
    cpu: str
    """The sum of an attendee's pods' CPU requests (attendeeCpu)."""
    memory: str
    """The sum of an attendee's pods' memory requests (attendeeMemory)."""

    def namespace(self, attendee: str) -> str:
        return attendee_namespace(attendee)


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
    model_api_key: bool = False
    """Requests to the models must carry the stack's API key (modelAuth, `auto` resolved)."""
    network_policies: bool = True
    """Default-deny NetworkPolicies in the model and store namespaces (networkPolicies)."""
    workshop: WorkshopSettings | None = None
    """A shared workshop's attendees (attendees), or None."""
    warnings: tuple[str, ...] = ()
    """What the config allows but `up` should say, such as a model open to the internet."""

    @property
    def predictor_service_accounts(self) -> tuple[tuple[str, str], ...]:
        """(namespace, name) of every served model's ServiceAccount: whom a keyless store binds."""
        from components.naming import predictor_service_account

        # Models served for a shared workshop's attendees are read by each attendee's own identity.
        names = ([self.model.name] if self.serve_sample else []) + [m.settings.name for m in self.own_models if m.attendee is None]
        return tuple((self.model.namespace, predictor_service_account(name)) for name in names)
