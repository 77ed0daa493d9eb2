"""`servebox status STACK`: each served model's state, and why it is not ready, from the cluster.

Through the official Kubernetes Python client with the stack's own kubeconfig (its secret output,
held in memory), one list per object kind in the models' namespace: the InferenceServices (or
SeldonDeployments) and the pods, grouped by the labels KServe and Seldon put on a model's pods
(`serving.kserve.io/inferenceservice`, `seldon-deployment-id`). Nothing secret is printed.
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import yaml

from servebox.diagnosis import Diagnosis, diagnose

KSERVE = ("serving.kserve.io", "v1beta1", "inferenceservices", "serving.kserve.io/inferenceservice")
SELDON = ("machinelearning.seldon.io", "v1", "seldondeployments", "seldon-deployment-id")


@dataclass(frozen=True, slots=True)
class Traffic:
    """One revision (KServe in Knative mode) or predictor (Seldon) and its share of the requests."""

    revision: str
    percent: int
    tag: str = ""
    """KServe's `latest` (the newest revision) or `prev` (the last one rolled out to 100 %)."""


@dataclass(frozen=True)
class ModelState:
    """One model, as `servebox status STACK` shows it."""

    name: str
    ready: bool
    runtime: str
    replicas: str
    """ready/all of its pods."""
    reason: str
    fix: str
    endpoint: str = ""
    """The URL the serving stack reports (KServe's status.url; Seldon's status.address.url)."""
    image: str = ""
    """The model server's image, as its pods run it."""
    scale: str = ""
    """min-max replicas, as the spec asks."""
    traffic: tuple[Traffic, ...] = ()
    changed: str = ""
    """When its state last changed: the newest lastTransitionTime of its conditions (RFC 3339)."""


def read_models(kubeconfig: str, namespace: str, serving: str) -> list[ModelState]:
    """Every model in `namespace` with its diagnosis: one request per object kind."""
    return read_cluster(kubeconfig, namespace, serving)[0]


def read_cluster(kubeconfig: str, namespace: str, serving: str) -> tuple[list[ModelState], dict[str, list[dict[str, Any]]]]:
    """Every model in `namespace` with its diagnosis, and each model's pods (what --metrics reads
    next): one request per object kind."""
    from kubernetes import client

    api = _api_client(kubeconfig)
    group, version, plural, label = SELDON if serving == "seldon" else KSERVE
    # Raw JSON, not the client's models: the objects in the shapes the API writes them.
    models = _json(client.CustomObjectsApi(api).list_namespaced_custom_object(group, version, namespace, plural, _preload_content=False))
    pods = _json(client.CoreV1Api(api).list_namespaced_pod(namespace, _preload_content=False)).get("items") or []
    found = states(models.get("items") or [], pods, label)
    return found, {model.name: _pods_of(pods, label, model.name) for model in found}


def _api_client(kubeconfig: str) -> Any:
    """The Kubernetes client for the stack's kubeconfig (text, never a file on disk)."""
    from kubernetes import config

    return config.new_client_from_config_dict(yaml.safe_load(kubeconfig))


def _pods_of(pods: Sequence[Mapping[str, Any]], label: str, name: str) -> list[Any]:
    return [pod for pod in pods if ((pod.get("metadata") or {}).get("labels") or {}).get(label) == name]


def _json(response: Any) -> dict[str, Any]:
    return json.loads(response.data)


def states(models: list[Mapping[str, Any]], pods: list[Mapping[str, Any]], label: str) -> list[ModelState]:
    """The models' states from their objects and every pod of the namespace."""
    found = []
    for model in models:
        name = str(model["metadata"]["name"])
        own = _pods_of(pods, label, name)
        verdict: Diagnosis = diagnose(model, own)
        ready = sum(
            1 for pod in own
            if any(c.get("type") == "Ready" and c.get("status") == "True" for c in (pod.get("status") or {}).get("conditions") or [])
        )
        spec, status = model.get("spec") or {}, model.get("status") or {}
        predictor = (spec.get("predictor") or {}).get("model") or {}
        found.append(ModelState(
            name=name,
            ready=verdict.ready,
            runtime=str(predictor.get("runtime") or status.get("clusterServingRuntimeName") or "seldon"),
            replicas=f"{ready}/{len(own)}",
            reason=verdict.reason,
            fix=verdict.fix,
            endpoint=str(status.get("url") or (status.get("address") or {}).get("url") or ""),
            image=_server_image(own, name),
            scale=_scale(spec),
            traffic=_traffic(spec, status),
            changed=max((str(c.get("lastTransitionTime") or "") for c in status.get("conditions") or []), default=""),
        ))
    return found


def _server_image(pods: Sequence[Mapping[str, Any]], model: str) -> str:
    """The model server's image: KServe's kserve-container, or Seldon's container named after the model."""
    for pod in pods:
        for container in (pod.get("spec") or {}).get("containers") or []:
            if container.get("name") in ("kserve-container", model):
                return str(container.get("image") or "")
    return ""


def _scale(spec: Mapping[str, Any]) -> str:
    """min-max of the predictor (KServe), or the replicas of each predictor (Seldon)."""
    if "predictor" in spec:
        predictor = spec["predictor"] or {}
        low = predictor.get("minReplicas", 1)
        return f"{low}-{predictor.get('maxReplicas') or low}"
    return "+".join(str(p.get("replicas", 1)) for p in spec.get("predictors") or [])


def _traffic(spec: Mapping[str, Any], status: Mapping[str, Any]) -> tuple[Traffic, ...]:
    """Where the requests go: KServe's predictor traffic as Knative reports it (status.components.
    predictor.traffic: revisionName, percent, tag), or Seldon's predictors and their `traffic`
    (a lone predictor takes all of it)."""
    if "predictors" in spec:
        predictors = spec.get("predictors") or []
        return tuple(
            Traffic(str(p.get("name")), int(p.get("traffic") or (100 if len(predictors) == 1 else 0)))
            for p in predictors
            if not p.get("shadow")
        )
    targets = ((status.get("components") or {}).get("predictor") or {}).get("traffic") or []
    return tuple(
        Traffic(str(t.get("revisionName") or ""), int(t.get("percent") or 0), str(t.get("tag") or ""))
        for t in targets
    )


def render(models: list[ModelState], as_json: bool, now: datetime.datetime | None = None) -> str:
    """The table (or JSON) `servebox status STACK` prints."""
    if as_json:
        return json.dumps([asdict(model) for model in models], indent=2)
    if not models:
        return "no models in the stack's namespace"
    lines = [f"{'model':<16} {'state':<9} {'pods':<5} {'scale':<6} {'runtime':<24} {'changed':<10} why"]
    for model in models:
        why = "" if model.ready else f"{model.reason}. Fix: {model.fix}"
        lines.append(
            f"{model.name:<16} {'ready' if model.ready else 'NOT READY':<9} {model.replicas:<5} {model.scale:<6} "
            f"{model.runtime:<24} {age(model.changed, now):<10} {why}".rstrip()
        )
    for model in models:
        lines.append(f"  {model.name}: {model.endpoint or '(no URL yet)'}  image {model.image or '(no pod yet)'}")
        if len(model.traffic) > 1 or any(t.tag == "prev" for t in model.traffic):
            split = ", ".join(f"{t.percent}% {t.revision}" + (f" ({t.tag})" if t.tag else "") for t in model.traffic)
            lines.append(f"    traffic: {split}")
    return "\n".join(lines)


def age(timestamp: str, now: datetime.datetime | None = None) -> str:
    """How long ago an RFC 3339 time was, shortly (`45s`, `12m`, `3h`, `2d`); `-` when unknown."""
    if not timestamp:
        return "-"
    try:
        then = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "-"
    seconds = max(0, int(((now or datetime.datetime.now(datetime.UTC)) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def model_pods(kubeconfig: str, namespace: str, serving: str, model: str) -> list[dict[str, Any]]:
    """The pods of one model (one list request), in the shapes the API writes them."""
    from kubernetes import client

    api = _api_client(kubeconfig)
    label = (SELDON if serving == "seldon" else KSERVE)[3]
    pods = _json(client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=f"{label}={model}", _preload_content=False))
    return list(pods.get("items") or [])


def default_container(pods: Sequence[Mapping[str, Any]], serving: str, model: str) -> str:
    """Whose log to show: the storage initializer's when the download is what failed, else the server's."""
    for pod in pods:
        for status in (pod.get("status") or {}).get("initContainerStatuses") or []:
            state = status.get("state") or {}
            if status.get("name") == "storage-initializer" and not (state.get("terminated") or {}).get("reason") == "Completed":
                return "storage-initializer"
    return model if serving == "seldon" else "kserve-container"


def follow(
    kubeconfig: str,
    namespace: str,
    pods: Sequence[Mapping[str, Any]],
    container: str,
    write: Callable[[str], None],
    *,
    since_seconds: int | None,
    tail: int,
) -> None:
    """Every pod's lines as they come (one stream per pod, each prefixed), until all streams end."""
    from kubernetes import client

    core = client.CoreV1Api(_api_client(kubeconfig))
    lock = threading.Lock()
    errors: list[Exception] = []

    def stream(name: str) -> None:
        try:
            _stream(name)
        except Exception as error:  # raised again below, in the caller's thread
            errors.append(error)

    def _stream(name: str) -> None:
        response = core.read_namespaced_pod_log(
            name, namespace, container=container, follow=True, since_seconds=since_seconds, tail_lines=tail,
            _preload_content=False,
        )
        pending = b""
        for chunk in response.stream(4096):
            pending += chunk
            *complete, pending = pending.split(b"\n")
            with lock:
                for line in complete:
                    write(f"[{name}] {line.decode('utf-8', errors='replace')}")
        if pending:
            with lock:
                write(f"[{name}] {pending.decode('utf-8', errors='replace')}")

    threads = [threading.Thread(target=stream, args=(str(pod["metadata"]["name"]),), daemon=True) for pod in pods]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def logs(
    kubeconfig: str, namespace: str, pods: Sequence[Mapping[str, Any]], container: str, *, since_seconds: int | None, tail: int
) -> list[str]:
    """The last `tail` lines of `container` in every pod, each prefixed with its pod's name."""
    from kubernetes import client

    core = client.CoreV1Api(_api_client(kubeconfig))
    lines = []
    for pod in pods:
        name = str(pod["metadata"]["name"])
        text = core.read_namespaced_pod_log(
            name, namespace, container=container, since_seconds=since_seconds, tail_lines=tail, _preload_content=False
        ).data.decode("utf-8", errors="replace")
        lines += [f"[{name}] {line}" for line in text.splitlines()]
    return lines


# The platform's namespaces, and which serving stack needs each (None: both).
PLATFORM_NAMESPACES = (
    ("cert-manager", None),
    ("istio-system", None),
    ("knative-serving", "kserve"),
    ("kserve", "kserve"),
    ("seldon-system", "seldon"),
)


@dataclass(frozen=True, slots=True)
class PartHealth:
    """One platform namespace: how many of its Deployments have all their replicas available."""

    namespace: str
    ready: int
    total: int
    not_ready: tuple[str, ...]


def platform_health(kubeconfig: str, serving: str) -> list[PartHealth]:
    """Each platform namespace's Deployments, one list request per namespace (a namespace the
    cluster lacks, such as knative-serving in Standard mode, is left out)."""
    from kubernetes import client

    apps = client.AppsV1Api(_api_client(kubeconfig))
    found = []
    for namespace, needed_by in PLATFORM_NAMESPACES:
        if needed_by not in (None, serving):
            continue
        items = _json(apps.list_namespaced_deployment(namespace, _preload_content=False)).get("items") or []
        if not items:
            continue
        waiting = tuple(
            str(d["metadata"]["name"]) for d in items
            if int((d.get("status") or {}).get("availableReplicas") or 0) < int((d.get("spec") or {}).get("replicas", 1) or 0)
        )
        found.append(PartHealth(namespace, len(items) - len(waiting), len(items), waiting))
    return found


def render_platform(parts: list[PartHealth]) -> str:
    """The platform's lines under the models' table."""
    lines = ["", f"{'platform':<16} deployments ready"]
    for part in parts:
        late = f"  (not available: {', '.join(part.not_ready)})" if part.not_ready else ""
        lines.append(f"{part.namespace:<16} {part.ready}/{part.total}{late}")
    return "\n".join(lines)


# KServe's model server: Prometheus histograms on its HTTP port (python/kserve/kserve/metrics.py at
# v0.20.0: request_predict_seconds, by model_name), read through the API server's pod proxy.
SERVER_PORT = 8080
PREDICT_HISTOGRAM = "request_predict_seconds"


@dataclass(frozen=True, slots=True)
class Latency:
    """One model's predictions since its servers started, across its replicas."""

    requests: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    buckets: tuple[tuple[float, float], ...] = ()
    """(upper bound in seconds, cumulative count) of the summed histogram: the page's chart."""


def predict_latency(kubeconfig: str, namespace: str, pods: Sequence[Mapping[str, Any]], model: str) -> Latency:
    """Predict latency from each pod's /metrics (one proxied request per pod), buckets summed."""
    from kubernetes import client

    core = client.CoreV1Api(_api_client(kubeconfig))
    buckets: dict[float, float] = {}
    for pod in pods:
        text = core.connect_get_namespaced_pod_proxy_with_path(
            f"{pod['metadata']['name']}:{SERVER_PORT}", namespace, "metrics", _preload_content=False
        ).data.decode("utf-8", errors="replace")
        for bound, count in histogram_buckets(text, PREDICT_HISTOGRAM, model).items():
            buckets[bound] = buckets.get(bound, 0.0) + count
    total = int(buckets.get(float("inf"), 0.0))
    p50, p95, p99 = (quantile_ms(buckets, q) for q in (0.5, 0.95, 0.99))
    return Latency(total, p50, p95, p99, buckets=tuple(sorted(buckets.items())))


REVISION_LABEL = "serving.knative.dev/revision"


def pods_by_revision(model: ModelState, pods: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """The model's pods under one label (its name), or, while its traffic is split between
    revisions, under `<model>@<revision>` each (Knative's revision label on every pod)."""
    if len(model.traffic) < 2:
        return {model.name: list(pods)}
    split: dict[str, list[Mapping[str, Any]]] = {f"{model.name}@{t.revision}": [] for t in model.traffic}
    for pod in pods:
        revision = ((pod.get("metadata") or {}).get("labels") or {}).get(REVISION_LABEL)
        split.setdefault(f"{model.name}@{revision}", []).append(pod)
    return split


def model_latency(
    kubeconfig: str, namespace: str, serving: str, model: ModelState, pods: Sequence[Mapping[str, Any]]
) -> dict[str, Latency] | str:
    """A model's predict latency from its servers' /metrics (the pods already listed), under its
    name or, while a canary splits its traffic, per revision (pods_by_revision); or why there is none."""
    if serving == "seldon":
        return "not available: servebox reads KServe's model server metrics only"
    if not model.ready:
        return "not ready"
    return {
        label: predict_latency(kubeconfig, namespace, own, model.name)
        for label, own in pods_by_revision(model, pods).items()
    }


def latencies(
    kubeconfig: str, namespace: str, serving: str, models: Sequence[ModelState], pods: Mapping[str, Sequence[Mapping[str, Any]]]
) -> dict[str, Latency | str]:
    """Every model's model_latency, as render_latency lists them (a canary's versions apart)."""
    found: dict[str, Latency | str] = {}
    for model in models:
        latency = model_latency(kubeconfig, namespace, serving, model, pods[model.name])
        found.update({model.name: latency} if isinstance(latency, str) else latency)
    return found


def histogram_buckets(text: str, name: str, model: str) -> dict[float, float]:
    """Cumulative bucket counts (upper bound -> count) of histogram `name` for `model`."""
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != name:
            continue
        for sample in family.samples:
            if sample.name == f"{name}_bucket" and sample.labels.get("model_name") == model:
                found[float(sample.labels["le"])] = float(sample.value)
    return found


def quantile_ms(buckets: Mapping[float, float], q: float) -> float | None:
    """The q-quantile in milliseconds, interpolated inside its bucket as Prometheus's
    histogram_quantile does; None without requests."""
    bounds = sorted(buckets)
    total = buckets.get(float("inf"), 0.0)
    if not bounds or total <= 0:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == float("inf"):
                return round(lower * 1000, 2)  # past the last finite bucket: its bound, as Prometheus says
            inside = (rank - below) / (count - below) if count > below else 1.0
            return round((lower + (bound - lower) * inside) * 1000, 2)
        lower, below = bound, count
    return None


def render_latency(latencies: Mapping[str, Latency | str]) -> str:
    """The metrics lines under the models' table: per model its figures, or why there are none."""
    width = max([16, *(len(name) + 1 for name in latencies)])
    lines = ["", f"{'latency':<{width}} {'requests':>8} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9}"]
    for name, latency in latencies.items():
        if isinstance(latency, str):
            lines.append(f"{name:<{width}} {latency}")
            continue
        cells = [f"{value:>9}" if value is not None else f"{'-':>9}" for value in (latency.p50_ms, latency.p95_ms, latency.p99_ms)]
        lines.append(f"{name:<{width}} {latency.requests:>8} {' '.join(cells)}")
    return "\n".join(lines)
