"""Platform footprint: the CPU and memory every platform workload requests, with the sample model on
top, and the longest chain of readiness waits in the install graph.

(Why one file of 800 lines: it is one measurement, most of it the table of every platform workload
with the chart value that sets its requests and that value's source at the pinned tag; split, the
table and the arithmetic over it would have to be read side by side.)

    python scripts/bench_footprint.py           # tables, totals, chains and targets
    python scripts/bench_footprint.py --json    # the same figures for machines

Requests are those each workload runs with: our values over the chart's defaults at the pinned
version, resource by resource (`cpu`, `memory`). That per-key merge is what every install path here
does: Helm coalesces user values over values.yaml key by key; Istio's charts `mustMergeOverwrite`
the user's values over `_internal_defaults_do_not_set` (templates/zzz_profile.yaml); the Knative
Operator's workload override sets each resource it is given over the manifest's
(pkg/reconciler/common/resources.go `merge`); kserve-resources deep-merges its deployment patch,
which reads our values, over its base manifest (templates/_utils.tpl). Our values come from the
component modules' own functions; the chart defaults are upstream facts kept in `WORKLOADS`, each
with the file and tag it was read from. Every workload runs one replica: istiod and the gateway
with our `replicaCount: 1` and autoscaling off, Knative's activator and webhook at their HPAs'
`minReplicas: 1`, the rest have no replica setting or `1` at the pinned versions.

On kind the platform includes the model store: MinIO (components/storage/minio.py), installed in
both modes. It is our own Deployment, not a chart, so it has no default: its requests are
`minio.SERVER_RESOURCES` as they are, and they count in the platform totals. The sample model's
predictor runs on the same node: its `kserve-container`, KServe's sklearn server, with the resources
components/model/mnist.py puts on the InferenceService from the model config at its Pulumi.yaml
defaults (modelCpuRequest, modelMemoryRequest; one replica, modelMinReplicas' default). KServe merges
the InferenceService's container over the ClusterServingRuntime's, so these replace the runtime's own
1 CPU / 2 GiB (kserve-runtime-configs v0.20.0, `kserve-sklearnserver`). It
is not platform: it is reported on a line of its own and in "with the sample model" totals, and the
targets apply to the platform totals.
What the predictor pod runs besides that container is left out: KServe's storage-initializer is an
init container (done before the predictor starts) and, in Knative mode, Knative injects its
queue-proxy sidecar with Knative's own defaults, which nothing here sets.

Jobs (cert-manager's startupapicheck hook, Knative Serving's post-install jobs) finish during the
install: they are listed as transient and left out of the totals.

A readiness wait is a step `pulumi up` blocks on until something serves: each Helm release (all are
`--wait`ed and atomic), each custom resource annotated `pulumi.com/waitFor`, and each readiness-probe
Command (`*-webhook-ready`). The chain is the longest path of waits through explicit dependencies,
read from the program run under mocks (tests/harness.py). The kind cluster Command is cluster
creation, not a platform wait, and is left out. Model-layer waits (`*-smoke-test`, InferenceService)
are reported as a second chain when the program has them.

This prints figures; it is not a test. It exits 0 even when a target is missed (printed as MISS).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

# Run as a file from anywhere: import the project's modules as the program does.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components import versions
from components.cluster import kind
from components.cluster.base import IngressExposure
from components.config import DeploymentMode, config_schema, cpu_millicores, memory_bytes, parse_settings, project_name
from components.model import mnist
from components.model import seldon as seldon_model
from components.naming import component_type, sslip_domain
from components.platform import cert_manager, istio, knative, kserve, seldon
from components.storage import minio

MODES = (DeploymentMode.KNATIVE, DeploymentMode.STANDARD)

# --- Targets (the issue's) ---------------------------------------------------------------------
TARGET_CPU_MILLICORES = Decimal(1000)
TARGET_MEMORY_BYTES = Decimal(2 * 2**30)
TARGET_CHAIN = 5

# What the component functions are called with: the kind target (loopback ingress, NodePort gateway,
# as components/cluster/kind.py builds them). Resources do not depend on either.
INGRESS_DOMAIN = sslip_domain(kind.LOOPBACK)
KIND_EXPOSURE = IngressExposure(service_type="NodePort", http_node_port=kind.GATEWAY_HTTP_NODE_PORT)

# The sample model as the program builds it from config left at the Pulumi.yaml defaults (what
# parse_settings fills in for every key not set; the stack name plays no part in it).
SAMPLE_MODEL = parse_settings({}, project=project_name(), stack="kind").model

# Our values, by the function that builds them: the only place the figures are read from.
OUR_VALUES: dict[str, Callable[[DeploymentMode], Mapping[str, Any]]] = {
    "cert_manager.chart_values()": lambda mode: cert_manager.chart_values(),
    "istio.istiod_values()": lambda mode: istio.istiod_values(),
    "istio.gateway_values(kind)": lambda mode: istio.gateway_values(KIND_EXPOSURE),
    "knative.operator_values()": lambda mode: knative.operator_values(),
    "knative.knative_serving(ip)": lambda mode: knative.knative_serving(INGRESS_DOMAIN),
    "kserve.resources_values(mode, ip)": lambda mode: kserve.resources_values(mode, INGRESS_DOMAIN),
    "minio.SERVER_RESOURCES": lambda mode: minio.SERVER_RESOURCES,
    "mnist.inference_service(config defaults)": lambda mode: mnist.inference_service(SAMPLE_MODEL, mode, "", ""),
}


# --- Quantities --------------------------------------------------------------------------------

def _parsed(quantity: str | None, parse: Callable[[str], Decimal | None], what: str) -> Decimal:
    """A Kubernetes quantity as a number (0 when not set), or a ValueError naming what it should be."""
    if quantity is None:
        return Decimal(0)
    value = parse(quantity)
    if value is None:
        raise ValueError(f"not a {what} quantity: {quantity!r}")
    return value

@dataclass(frozen=True)
class Requests:
    """A container's CPU and memory requests as Kubernetes quantities; None where not set."""

    cpu: str | None = None
    memory: str | None = None

    @classmethod
    def of(cls, resources: Mapping[str, Any] | None) -> Requests:
        """The `requests` of a `resources` block (a container's, a chart value's or an override's)."""
        requests = (resources or {}).get("requests") or {}
        cpu, memory = requests.get("cpu"), requests.get("memory")
        return cls(None if cpu is None else str(cpu), None if memory is None else str(memory))

    @property
    def millicores(self) -> Decimal:
        """CPU in millicores; 0 when not set (a container without a request asks for nothing)."""
        return _parsed(self.cpu, cpu_millicores, "CPU")

    @property
    def bytes(self) -> Decimal:
        """Memory in bytes; 0 when not set."""
        return _parsed(self.memory, memory_bytes, "memory")

    def __str__(self) -> str:
        return f"{self.cpu or '-'}/{self.memory or '-'}"


def effective(ours: Requests, default: Requests) -> Requests:
    """What the container runs with: ours for each resource we set, else the chart's default."""
    return Requests(
        ours.cpu if ours.cpu is not None else default.cpu,
        ours.memory if ours.memory is not None else default.memory,
    )


@dataclass(frozen=True)
class Sum:
    """Summed requests."""

    millicores: Decimal = Decimal(0)
    bytes: Decimal = Decimal(0)

    def __add__(self, other: Sum | Requests) -> Sum:
        return Sum(self.millicores + other.millicores, self.bytes + other.bytes)


def total(requests: Iterable[Requests | Sum]) -> Sum:
    result = Sum()
    for item in requests:
        result = result + item
    return result


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def cpu_text(millicores: Decimal) -> str:
    return f"{_number(millicores)}m ({_number(millicores / 1000)} vCPU)"


def memory_text(size: Decimal) -> str:
    return f"{_number(size / 2**20)} MiB ({float(size / 2**30):.2f} GiB)"


# --- Values paths ------------------------------------------------------------------------------
_PART = re.compile(r"(?P<key>[\w-]+)(?:\[(?P<field>\w+)=(?P<value>[^\]]+)\])?")


def lookup(document: Any, path: str) -> Any | None:
    """The node at `path` in `document`, or None where any step is absent.

    `a.b` walks mappings; `items[name=x]` picks the list entry whose `name` is `x` (how Knative's
    `spec.workloads[...].resources[...]` override entries are addressed); `""` is the document itself.
    """
    node = document
    if path == "":
        return node
    for part in path.split("."):
        match = _PART.fullmatch(part)
        if not match:
            raise ValueError(f"bad values path {path!r} at {part!r}")
        if not isinstance(node, Mapping) or match["key"] not in node:
            return None
        node = node[match["key"]]
        if match["field"]:
            if not isinstance(node, list):
                return None
            node = next((e for e in node if isinstance(e, Mapping) and e.get(match["field"]) == match["value"]), None)
            if node is None:
                return None
    return node


# --- The workloads: upstream facts at the pinned versions --------------------------------------
# Chart/manifest defaults below were read at these tags. Moving a pin means reading them again.
FACTS_READ_AT = {
    "cert-manager": ("v1.17.0", versions.CERT_MANAGER_VERSION),
    "istio": ("1.27.1", versions.ISTIO_VERSION),
    "knative": ("1.21.1", versions.KNATIVE_VERSION),
    "kserve": ("v0.20.0", versions.KSERVE_VERSION),
    "seldon": ("1.17.1", versions.SELDON_VERSION),
}

_CERT_MANAGER = "cert-manager/cert-manager:deploy/charts/cert-manager/values.yaml@v1.17.0"
_ISTIOD = "istio/istio:manifests/charts/istio-control/istio-discovery/values.yaml@1.27.1"
_GATEWAY = "istio/istio:manifests/charts/gateway/values.yaml@1.27.1"
_KNATIVE_OPERATOR = "knative/operator:config/charts/knative-operator/values.yaml@knative-v1.21.1"
_SERVING = "knative/operator:cmd/operator/kodata/knative-serving/1.21.1/{}@knative-v1.21.1"
_NET_ISTIO = "knative/operator:cmd/operator/kodata/ingress/1.21/istio/net-istio.yaml@knative-v1.21.1"
_KSERVE = "kserve/kserve:charts/kserve-resources/values.yaml@v0.20.0"


@dataclass(frozen=True)
class Workload:
    """One container of a platform workload: where our values set its requests, and the default."""

    component: str
    """The servebox component that installs it."""
    kind: str
    """`Deployment` (long-running, counted) or `Job` (transient, listed only)."""
    name: str
    """Workload name as installed (a Job's generateName for Knative's jobs)."""
    container: str
    values: str
    """Key of OUR_VALUES: the function whose result holds our setting."""
    path: str
    """Where in that result the container's `resources` are (see `lookup`)."""
    default: Requests
    """The chart's (or manifest's) requests at the pinned version; empty where it sets none."""
    source: str
    """Where `default` was read: owner/repo:path@tag; for our own manifests, the module building it."""
    knative_only: bool = False
    own: bool = False
    """Our own manifest, not a chart's: there is no default (`default` stays empty)."""

    def ours(self, mode: DeploymentMode) -> Requests:
        return Requests.of(lookup(OUR_VALUES[self.values](mode), self.path))

    def effective(self, mode: DeploymentMode) -> Requests:
        return effective(self.ours(mode), self.default)

    def in_mode(self, mode: DeploymentMode) -> bool:
        return mode is DeploymentMode.KNATIVE or not self.knative_only


def _own(component: str, name: str, container: str, values: str, path: str, source: str) -> Workload:
    return Workload(component, "Deployment", name, container, values, path, Requests(), source, own=True)


def _serving(name: str, container: str, default: Requests, source: str, kind_: str = "Deployment") -> Workload:
    return Workload(
        "knative",
        kind_,
        name,
        container,
        "knative.knative_serving(ip)",
        f"spec.workloads[name={name}].resources[container={container}]",
        default,
        source,
        knative_only=True,
    )


WORKLOADS: tuple[Workload, ...] = (
    # cert-manager v1.17.0: `resources: {}` for every component, so no requests by default.
    Workload("cert-manager", "Deployment", "cert-manager", "cert-manager-controller",
             "cert_manager.chart_values()", "resources", Requests(), _CERT_MANAGER),
    Workload("cert-manager", "Deployment", "cert-manager-webhook", "cert-manager-webhook",
             "cert_manager.chart_values()", "webhook.resources", Requests(), _CERT_MANAGER),
    Workload("cert-manager", "Deployment", "cert-manager-cainjector", "cert-manager-cainjector",
             "cert_manager.chart_values()", "cainjector.resources", Requests(), _CERT_MANAGER),
    # post-install hook Job; the release waits for it (wait_for_jobs), then it is done.
    Workload("cert-manager", "Job", "cert-manager-startupapicheck", "cert-manager-startupapicheck",
             "cert_manager.chart_values()", "startupapicheck.resources", Requests(), _CERT_MANAGER),
    # Istio 1.27.1: defaults live under `_internal_defaults_do_not_set`; users set them top-level.
    Workload("istio", "Deployment", "istiod", "discovery",
             "istio.istiod_values()", "resources", Requests("500m", "2048Mi"), _ISTIOD),
    # The gateway's pod gets its image from istiod's `gateway` injection template, which sets no
    # resources, so the chart's `resources` stand.
    Workload("istio", "Deployment", istio.GATEWAY_RELEASE, "istio-proxy",
             "istio.gateway_values(kind)", "resources", Requests("100m", "128Mi"), _GATEWAY),
    # Knative Operator chart knative-v1.21.1.
    Workload("knative", "Deployment", "knative-operator", "knative-operator",
             "knative.operator_values()", "knative_operator.knative_operator.resources",
             Requests("100m", "100Mi"), _KNATIVE_OPERATOR, knative_only=True),
    Workload("knative", "Deployment", "operator-webhook", "operator-webhook",
             "knative.operator_values()", "knative_operator.operator_webhook.resources",
             Requests("100m", "100Mi"), _KNATIVE_OPERATOR, knative_only=True),
    # Knative Serving 1.21.1 and net-istio 1.21 as the operator applies them (its kodata).
    _serving("activator", "activator", Requests("300m", "60Mi"), _SERVING.format("2-serving-core.yaml")),
    _serving("autoscaler", "autoscaler", Requests("100m", "100Mi"), _SERVING.format("2-serving-core.yaml")),
    _serving("controller", "controller", Requests("100m", "100Mi"), _SERVING.format("2-serving-core.yaml")),
    _serving("webhook", "webhook", Requests("100m", "100Mi"), _SERVING.format("2-serving-core.yaml")),
    _serving("autoscaler-hpa", "autoscaler-hpa", Requests("30m", "40Mi"), _SERVING.format("3-serving-hpa.yaml")),
    _serving("net-istio-controller", "controller", Requests("30m", "40Mi"), _NET_ISTIO),
    _serving("net-istio-webhook", "webhook", Requests("20m", "20Mi"), _NET_ISTIO),
    # Post-install Jobs; the operator matches a Job override by its generateName.
    _serving("storage-version-migration-serving-", "migrate", Requests("100m", "100Mi"),
             _SERVING.format("4-serving-post-install-jobs.yaml"), "Job"),
    _serving("cleanup-serving-", "cleanup", Requests("100m", "100Mi"),
             _SERVING.format("4-serving-post-install-jobs.yaml"), "Job"),
    # kserve-resources v0.20.0: values.yaml's requests replace the base manifest's (100m/200Mi for
    # manager) through files/kserve/deployment-patch.yaml, so values.yaml is the default that runs.
    Workload("kserve", "Deployment", "kserve-controller-manager", "manager",
             "kserve.resources_values(mode, ip)", "kserve.controller.resources",
             Requests("100m", "300Mi"), _KSERVE),
    Workload("kserve", "Deployment", "kserve-controller-manager", "kube-rbac-proxy",
             "kserve.resources_values(mode, ip)", "kserve.controller.rbacProxy.resources",
             Requests("100m", "300Mi"), _KSERVE),
    # The model store on kind, both modes: our own Deployment, its resources as minio.py sets them.
    _own("store", "minio", "minio", "minio.SERVER_RESOURCES", "", "components/storage/minio.py"),
)  # fmt: skip

# Not platform: the sample model's predictor, one replica, at the config defaults (both modes).
MODEL_WORKLOADS: tuple[Workload, ...] = (
    _own("model", f"{SAMPLE_MODEL.name}-predictor", "kserve-container", "mnist.inference_service(config defaults)",
         "spec.predictor.model.resources", "components/model/mnist.py"),
)  # fmt: skip


def stale_facts() -> list[str]:
    """Pins that moved since the defaults above were read."""
    return [
        f"{name}: chart defaults were read at {read}, but the pin is now {pinned}; read them again"
        for name, (read, pinned) in FACTS_READ_AT.items()
        if read != pinned
    ]


def footprint(
    mode: DeploymentMode, workloads: Iterable[Workload] = WORKLOADS, model: Iterable[Workload] = MODEL_WORKLOADS
) -> dict[str, Any]:
    """Rows, per-component sums and totals of one deployment mode; the sample model on top."""
    rows = [w for w in workloads if w.in_mode(mode)]
    deployments = [w for w in rows if w.kind == "Deployment"]
    components: dict[str, Sum] = {}
    for w in deployments:
        components[w.component] = components.get(w.component, Sum()) + w.effective(mode)
    platform = total(w.effective(mode) for w in deployments)
    model_rows = [w for w in model if w.in_mode(mode)]
    model_sum = total(w.effective(mode) for w in model_rows)
    return {
        "rows": rows,
        "transient": [w for w in rows if w.kind != "Deployment"],
        "components": components,
        "total": platform,
        "chart_defaults_total": total(w.default for w in deployments),
        "model_rows": model_rows,
        "model": model_sum,
        "total_with_model": platform + model_sum,
    }


# --- The VM (gcp) -----------------------------------------------------------------------------
# The published shapes of the machine types servebox suggests
# (https://cloud.google.com/compute/docs/general-purpose-machines#e2_machine_types,
# https://aws.amazon.com/ec2/instance-types/t3/).
MACHINE_SHAPES: dict[str, tuple[Decimal, Decimal]] = {
    "e2-standard-2": (Decimal(2000), Decimal(8 * 2**30)),
    "e2-standard-4": (Decimal(4000), Decimal(16 * 2**30)),
    "t2a-standard-2": (Decimal(2000), Decimal(8 * 2**30)),
    "t3.large": (Decimal(2000), Decimal(8 * 2**30)),
    "t3.xlarge": (Decimal(4000), Decimal(16 * 2**30)),
}
# k3s reserves nothing for itself by default (no kube-reserved or system-reserved), so the node's
# allocatable is its capacity less the kubelet's hard eviction threshold (memory.available<100Mi,
# the kubelet default). What k3s itself then uses beside the pods (server, kine/SQLite, containerd,
# its packaged pods): "K3s server with a workload", 6% of a core and 1596 M of RAM
# (https://docs.k3s.io/reference/resource-profiling, K3s v1.26.5 on an Intel 8375C).
K3S_EVICTION_BYTES = Decimal(100 * 2**20)
K3S_OWN = Sum(Decimal(60), Decimal(1596 * 10**6))
GCP_DEFAULT_MACHINE_TYPE = str(config_schema()["gcpMachineType"].default)
AWS_DEFAULT_INSTANCE_TYPE = str(config_schema()["awsInstanceType"].default)


def vm_headroom(machine_type: str, platform: Sum, model: Sum) -> dict[str, Sum]:
    """Capacity, allocatable, k3s's own share and what the platform and model leave on a VM."""
    cpu, memory = MACHINE_SHAPES[machine_type]
    capacity = Sum(cpu, memory)
    allocatable = Sum(cpu, memory - K3S_EVICTION_BYTES)
    used = platform + model
    return {
        "capacity": capacity,
        "allocatable": allocatable,
        "k3s_own": K3S_OWN,
        "platform": platform,
        "model": model,
        "headroom": Sum(
            allocatable.millicores - K3S_OWN.millicores - used.millicores,
            allocatable.bytes - K3S_OWN.bytes - used.bytes,
        ),
    }


def vm_footprint(mode: DeploymentMode, workloads: Iterable[Workload] = WORKLOADS) -> dict[str, Sum]:
    """The default machine type's headroom in `mode`: the platform without MinIO (a VM stores models
    in its cloud's bucket), the sample model on top."""
    on_vm = [w for w in workloads if w.component != "store"]
    figures = footprint(mode, on_vm)
    return vm_headroom(GCP_DEFAULT_MACHINE_TYPE, figures["total"], figures["model"])


# --- Seldon Core (serving: seldon) -------------------------------------------------------------
# seldon-core-operator 1.17.1 sets requests as flat keys (manager.cpuRequest, executor.resources.*),
# read here from values.yaml at the tag; the executor runs in every model pod, so it counts there.
_SELDON = "SeldonIO/seldon-core:helm-charts/seldon-core-operator/values.yaml@v1.17.1"
SELDON_MANAGER_DEFAULT = Requests("100m", "200Mi")
SELDON_EXECUTOR_DEFAULT = Requests("500m", "512Mi")


def _flat(block: Mapping[str, Any]) -> Requests:
    return Requests(block.get("cpuRequest"), block.get("memoryRequest"))


def seldon_footprint(workloads: Iterable[Workload] = WORKLOADS) -> dict[str, Any]:
    """The platform with Seldon (cert-manager, Istio, the operator, MinIO on kind) and the sample
    model's pod (KServe's sklearn server and Seldon's executor)."""
    values = seldon.operator_values()
    common = [w for w in workloads if w.component in ("cert-manager", "istio", "store") and w.kind == "Deployment"]
    manager = effective(_flat(values["manager"]), SELDON_MANAGER_DEFAULT)
    executor = effective(_flat(values["executor"]["resources"]), SELDON_EXECUTOR_DEFAULT)
    (container,) = seldon_model.seldon_deployment(SAMPLE_MODEL, "", "", None)["spec"]["predictors"][0][
        "componentSpecs"
    ][0]["spec"]["containers"]
    predictor = Requests.of(container["resources"])
    platform = total([*(w.effective(DeploymentMode.KNATIVE) for w in common), manager])
    return {
        "manager": manager,
        "executor": executor,
        "executor_chart_default": SELDON_EXECUTOR_DEFAULT,
        "predictor": predictor,
        "platform": platform,
        "model": total([predictor, executor]),
        "source": _SELDON,
    }


def seldon_chain() -> dict[str, Any]:
    """The chains of the program with serving: seldon, under mocks."""
    from tests.harness import run_program

    with contextlib.redirect_stdout(sys.stderr):
        return chains(run_program({"serving": "seldon"}))


# --- Readiness waits ---------------------------------------------------------------------------
RELEASE = "kubernetes:helm.sh/v3:Release"
COMMAND = "command:local:Command"
WAIT_FOR = "pulumi.com/waitFor"
PROBE_SUFFIX = "-webhook-ready"
SMOKE_TEST_SUFFIX = "-smoke-test"
MODEL_COMPONENT_PREFIX = component_type("model", "")
CLUSTER_COMPONENT_PREFIX = component_type("cluster", "")


def _annotations(resource: Any) -> Mapping[str, Any]:
    metadata = (resource.inputs or {}).get("metadata") or {}
    return (metadata.get("annotations") or {}) if isinstance(metadata, Mapping) else {}


def is_model(run: Any, name: str) -> bool:
    """Whether a resource belongs to the model layer (served model, smoke test)."""
    resource = run.resources[name]
    return (
        name.endswith(SMOKE_TEST_SUFFIX)
        or resource.type.endswith(":InferenceService")
        or any(run.resources[a].type.startswith(MODEL_COMPONENT_PREFIX) for a in run.ancestors(name))
    )


def classify(run: Any) -> tuple[dict[str, str], dict[str, str]]:
    """(waits, left_out): each readiness wait with what it is, and each Command left out with why."""
    waits: dict[str, str] = {}
    left_out: dict[str, str] = {}
    for name, resource in run.resources.items():
        if resource.type == RELEASE:
            waits[name] = "Helm release"
        elif resource.type == COMMAND:
            if name.endswith(PROBE_SUFFIX):
                waits[name] = "readiness probe"
            elif name.endswith(SMOKE_TEST_SUFFIX):
                waits[name] = "smoke test"
            elif any(run.resources[a].type.startswith(CLUSTER_COMPONENT_PREFIX) for a in run.ancestors(name)):
                left_out[name] = "cluster creation (kind), not a platform wait"
            else:
                left_out[name] = "a Command that is not a readiness probe"
        elif resource.custom and WAIT_FOR in _annotations(resource):
            waits[name] = f"awaited {resource.type.rsplit(':', 1)[-1]} ({_annotations(resource)[WAIT_FOR]})"
        elif resource.custom and resource.type.endswith(":InferenceService"):
            waits[name] = "awaited InferenceService"
    return waits, left_out


def longest_chain(waits: Iterable[str], waits_on: Callable[[str], set[str]]) -> list[str]:
    """The longest path of waits, each waiting on the one before (first by name among equals)."""
    nodes = sorted(set(waits))
    before = {n: sorted((waits_on(n) & set(nodes)) - {n}) for n in nodes}
    best: dict[str, list[str]] = {}
    visiting: set[str] = set()

    def ending_at(node: str) -> list[str]:
        if node in best:
            return best[node]
        if node in visiting:
            raise ValueError(f"dependency cycle through {node}")
        visiting.add(node)
        chain = [node]
        for previous in before[node]:
            candidate = [*ending_at(previous), node]
            if len(candidate) > len(chain):
                chain = candidate
        visiting.discard(node)
        best[node] = chain
        return chain

    result: list[str] = []
    for node in nodes:
        chain = ending_at(node)
        if len(chain) > len(result):
            result = chain
    return result


def chains(run: Any) -> dict[str, Any]:
    """The platform chain, the chain including the model layer (None without one), and what was left out."""
    waits, left_out = classify(run)
    platform = [w for w in waits if not is_model(run, w)]
    has_model = len(platform) < len(waits)
    return {
        "platform": longest_chain(platform, run.waits_on),
        "with_model": longest_chain(waits, run.waits_on) if has_model else None,
        "waits": waits,
        "left_out": left_out,
    }


def program_chains() -> dict[DeploymentMode, dict[str, Any]]:
    """Run the program under mocks in each mode and compute its chains."""
    from tests.harness import run_program  # the program's own mock runner

    result = {}
    for mode in MODES:
        config = {} if mode is DeploymentMode.KNATIVE else {"deploymentMode": mode.value}
        with contextlib.redirect_stdout(sys.stderr):  # keep stdout for the report
            run = run_program(config)
        result[mode] = chains(run)
    return result


# --- Report ------------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(figures: dict[DeploymentMode, dict[str, Any]], waits: dict[DeploymentMode, dict[str, Any]]) -> dict:
    """Everything as plain data (the --json output)."""

    def requests(r: Requests) -> dict[str, Any]:
        return {
            "cpu": r.cpu,
            "memory": r.memory,
            "cpu_millicores": _number(r.millicores),
            "memory_bytes": _number(r.bytes),
        }

    def sums(s: Sum) -> dict[str, Any]:
        return {
            "cpu_millicores": _number(s.millicores),
            "vcpu": _number(s.millicores / 1000),
            "memory_bytes": _number(s.bytes),
            "memory_mib": _number(s.bytes / 2**20),
            "memory_gib": round(float(s.bytes / 2**30), 4),
        }

    def row(w: Workload, mode: DeploymentMode) -> dict[str, Any]:
        return {
            "component": w.component,
            "kind": w.kind,
            "workload": w.name,
            "container": w.container,
            "values": w.values,
            "values_path": w.path,
            "ours": requests(w.ours(mode)),
            "chart_default": None if w.own else requests(w.default),
            "chart_default_source": None if w.own else w.source,
            "own_manifest": w.source if w.own else None,
            "effective": requests(w.effective(mode)),
        }

    modes = {}
    for mode in MODES:
        f, c = figures[mode], waits[mode]
        chain = c["platform"]
        modes[mode.value] = {
            "workloads": [row(w, mode) for w in f["rows"] if w.kind == "Deployment"],
            "transient": [row(w, mode) for w in f["transient"]],
            "components": {name: sums(s) for name, s in f["components"].items()},
            "total": sums(f["total"]),
            "chart_defaults_total": sums(f["chart_defaults_total"]),
            "model": {"workloads": [row(w, mode) for w in f["model_rows"]], "total": sums(f["model"])},
            "total_with_model": sums(f["total_with_model"]),
            "chain": {"length": len(chain), "chain": chain},
            "chain_with_model": None
            if c["with_model"] is None
            else {"length": len(c["with_model"]), "chain": c["with_model"]},
            "waits": c["waits"],
            "left_out_of_chain": c["left_out"],
            "targets": {
                "cpu": {
                    "limit_millicores": _number(TARGET_CPU_MILLICORES),
                    "value_millicores": _number(f["total"].millicores),
                    "result": verdict(f["total"].millicores <= TARGET_CPU_MILLICORES),
                },
                "memory": {
                    "limit_bytes": _number(TARGET_MEMORY_BYTES),
                    "value_bytes": _number(f["total"].bytes),
                    "result": verdict(f["total"].bytes <= TARGET_MEMORY_BYTES),
                },
                "chain": {"limit": TARGET_CHAIN, "value": len(chain), "result": verdict(len(chain) <= TARGET_CHAIN)},
            },
        }
    vm = {
        mode.value: {part: sums(value) for part, value in vm_footprint(mode).items()} for mode in MODES
    }
    seldon_figures = seldon_footprint()
    seldon_chains = seldon_chain()
    return {
        "seldon": {
            **{key: sums(value) if isinstance(value, Sum) else requests(value) if isinstance(value, Requests) else value
               for key, value in seldon_figures.items()},
            "chain": {"length": len(seldon_chains["platform"]), "chain": seldon_chains["platform"]},
            "chain_with_model": {"length": len(seldon_chains["with_model"] or []), "chain": seldon_chains["with_model"]},
        },
        "versions": versions.summary(),
        "stale_facts": stale_facts(),
        "modes": modes,
        "vm": {"machine_type": GCP_DEFAULT_MACHINE_TYPE, "aws_instance_type": AWS_DEFAULT_INSTANCE_TYPE, "modes": vm},
    }


def render_text(data: dict) -> str:
    """The report for people."""
    lines: list[str] = []
    out = lines.append
    knative_mode, standard_mode = data["modes"]["knative"], data["modes"]["standard"]
    pins = data["versions"]
    out(
        f"servebox platform footprint - cert-manager {pins['cert_manager']}, Istio {pins['istio']}, "
        f"Knative {pins['knative_serving']}, KServe {pins['kserve']}; store {pins['minio'].rsplit('/', 1)[-1]}"
    )
    for problem in data["stale_facts"]:
        out(f"WARNING: {problem}")
    out("")
    out("Requests per container, one replica each: ours over the chart's default (- = not set).")
    sources: list[str] = []
    own: dict[str, str] = {}

    def table(rows: list[dict], title: str) -> None:
        header = ("component", "workload", "container", "ours", "default", "effective", "set at (our values)")
        cells = []
        for r in rows:
            if r["chart_default"] is None:
                own[f"{r['component']} {r['workload']}/{r['container']}"] = r["own_manifest"]
                default = "none (own)"
            else:
                if r["chart_default_source"] not in sources:
                    sources.append(r["chart_default_source"])
                ref = sources.index(r["chart_default_source"]) + 1
                default = f"{r['chart_default']['cpu'] or '-'}/{r['chart_default']['memory'] or '-'} [{ref}]"
            cells.append(
                (
                    r["component"],
                    r["workload"],
                    r["container"],
                    f"{r['ours']['cpu'] or '-'}/{r['ours']['memory'] or '-'}",
                    default,
                    f"{r['effective']['cpu'] or '-'}/{r['effective']['memory'] or '-'}",
                    f"{r['values']} {r['values_path']}",
                )
            )
        widths = [max(len(str(c[i])) for c in [header, *cells]) for i in range(len(header))]
        out(title)
        for c in [header, *cells]:
            out("  " + "  ".join(str(v).ljust(widths[i]) for i, v in enumerate(c)).rstrip())
        out("")

    table(knative_mode["workloads"], "Long-running workloads (Deployments), Knative mode:")
    table(knative_mode["transient"], "Transient (Jobs, done once installed; not in the totals):")
    table(
        knative_mode["model"]["workloads"],
        "The sample model (not platform; in the totals with the sample model), both modes:",
    )

    out(f"Per component (long-running):  {'Knative mode':<22}Standard mode")
    for name, s in knative_mode["components"].items():
        std = standard_mode["components"].get(name)
        std_text = f"{std['cpu_millicores']:>5}m {std['memory_mib']:>6} MiB" if std else "  not installed"
        out(f"  {name:<28} {s['cpu_millicores']:>5}m {s['memory_mib']:>6} MiB      {std_text}")
    k, s = knative_mode["model"]["total"], standard_mode["model"]["total"]
    out(
        f"  {'model (sample, not platform)':<28} {k['cpu_millicores']:>5}m {k['memory_mib']:>6} MiB      "
        f"{s['cpu_millicores']:>5}m {s['memory_mib']:>6} MiB"
    )
    out("")
    out("Totals (requests of long-running workloads; the platform includes the store):")
    for label, mode in (("Knative mode", knative_mode), ("Standard mode", standard_mode)):
        t, d, m = mode["total"], mode["chart_defaults_total"], mode["total_with_model"]
        out(
            f"  {label:<14} {cpu_text(Decimal(str(t['cpu_millicores'])))}, "
            f"{memory_text(Decimal(str(t['memory_bytes'])))}   "
            f"[chart defaults alone: {d['cpu_millicores']}m, {d['memory_mib']} MiB]"
        )
        out(
            f"  {'':<14} with the sample model: {cpu_text(Decimal(str(m['cpu_millicores'])))}, "
            f"{memory_text(Decimal(str(m['memory_bytes'])))}"
        )
    out("")
    out("Longest chain of readiness waits (Helm releases, awaited custom resources, readiness probes):")
    for label, mode in (("Knative mode", knative_mode), ("Standard mode", standard_mode)):
        chain = mode["chain"]
        out(f"  {label:<14} {chain['length']}: {' -> '.join(chain['chain'])}")
        if mode["chain_with_model"] is None:
            out(f"  {'':<14} with the model layer: no model-layer waits in the program yet")
        else:
            with_model = mode["chain_with_model"]
            out(f"  {'':<14} with the model layer {with_model['length']}: {' -> '.join(with_model['chain'])}")
    left_out = {**knative_mode["left_out_of_chain"], **standard_mode["left_out_of_chain"]}
    for name, why in sorted(left_out.items()):
        out(f"  left out: {name}: {why}")
    out("")
    out(f"Targets: platform requests <= {_number(TARGET_CPU_MILLICORES / 1000)} vCPU and <= "
        f"{_number(TARGET_MEMORY_BYTES / 2**30)} GiB, chain <= {TARGET_CHAIN} "
        "(the issue: KServe's own install script runs 9 waits one after another):")  # fmt: skip
    for label, mode in (("Knative mode", knative_mode), ("Standard mode", standard_mode)):
        t = mode["targets"]
        out(
            f"  {label:<14} cpu {t['cpu']['value_millicores']}m {t['cpu']['result']}, "
            f"memory {_number(Decimal(t['memory']['value_bytes']) / 2**20)} MiB {t['memory']['result']}, "
            f"chain {t['chain']['value']} {t['chain']['result']}"
        )
    out("")
    vm = data["vm"]
    out(
        f"On the default GCP VM ({vm['machine_type']}; the AWS default {vm['aws_instance_type']} has the same "
        "2 vCPU / 8 GiB), k3s, no MinIO (the bucket is the cloud's):"
    )
    for label, mode in (("Knative mode", "knative"), ("Standard mode", "standard")):
        f = vm["modes"][mode]
        out(
            f"  {label:<14} allocatable {f['allocatable']['cpu_millicores']}m / {f['allocatable']['memory_mib']} MiB; "
            f"k3s itself {f['k3s_own']['cpu_millicores']}m / {round(f['k3s_own']['memory_mib'])} MiB; "
            f"platform {f['platform']['cpu_millicores']}m / {f['platform']['memory_mib']} MiB; "
            f"model {f['model']['cpu_millicores']}m / {f['model']['memory_mib']} MiB; "
            f"headroom {f['headroom']['cpu_millicores']}m / {round(f['headroom']['memory_mib'])} MiB "
            f"({round(100 * f['headroom']['cpu_millicores'] / f['allocatable']['cpu_millicores'])}% / "
            f"{round(100 * f['headroom']['memory_bytes'] / f['allocatable']['memory_bytes'])}%)"
        )
    out("  (k3s's share: docs.k3s.io/reference/resource-profiling; allocatable: capacity less the kubelet's")
    out("  100Mi eviction threshold, as k3s reserves nothing by default)")
    out("")
    sd = data["seldon"]
    out("With serving: seldon (cert-manager, Istio, the Seldon operator, MinIO on kind; no Knative or KServe):")
    out(
        f"  platform {sd['platform']['cpu_millicores']}m / {sd['platform']['memory_mib']} MiB "
        f"(operator {sd['manager']['cpu']}/{sd['manager']['memory']}); the model's pod "
        f"{sd['model']['cpu_millicores']}m / {sd['model']['memory_mib']} MiB = predictor "
        f"{sd['predictor']['cpu']}/{sd['predictor']['memory']} + executor {sd['executor']['cpu']}/{sd['executor']['memory']} "
        f"(the chart's executor default: {sd['executor_chart_default']['cpu']}/{sd['executor_chart_default']['memory']})"
    )
    out(f"  chain {sd['chain']['length']}: {' -> '.join(sd['chain']['chain'])}")
    out(f"  with the model layer {sd['chain_with_model']['length']}: {' -> '.join(sd['chain_with_model']['chain'] or [])}")
    out(f"  (Seldon defaults read from {sd['source']})")
    out("")
    out("Chart defaults read from:")
    for i, source in enumerate(sources, 1):
        out(f"  [{i}] {source}")
    out("Our own manifests (no chart, so no default):")
    for container, source in own.items():
        out(f"  {container}: {source}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    figures = {mode: footprint(mode) for mode in MODES}
    data = report(figures, program_chains())
    print(json.dumps(data, indent=2) if args.json else render_text(data))
    return 0  # figures, not a test: a missed target is printed as MISS


if __name__ == "__main__":
    sys.exit(main())
