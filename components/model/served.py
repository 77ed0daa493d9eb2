"""Serving one model, whichever it is: its files in the store, its identity, its InferenceService (or
SeldonDeployment) and its endpoint. The sample and a user's own models are served by this code.

What a model needs is a `ModelSpec`: name, namespace, scale and resources (ModelSettings), the
format and the runtime that serves it, the protocol, and either local files to upload or a bucket URI
it already lives at. What it gets: a ServiceAccount of its own (listing the store's read-only Secret
where the store has keys, carrying the store's annotations where the cluster makes it a cloud
principal), the serving resource awaited until Ready, and an `Endpoint`. The store behind the
contract is not this module's business.
https://kserve.github.io/website/docs/model-serving/storage/
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components import kube
from components.config import DeploymentMode, ModelSettings, Serving
from components.model import auth, runtime, seldon
from components.naming import predictor_service_account, standard_labels
from components.platform.kserve import REVISION_TAGS, gateway_hosts, model_host, revision_host
from components.storage.base import ModelStore


@dataclass(frozen=True)
class Version:
    """A model's artifact: files to upload, or a bucket URI it is already at."""

    files: tuple[tuple[Path, str], ...] = ()
    """(local file, store key) to upload; empty when the model is already at `uri`."""
    directory_key: str = ""
    """The store key of the uploaded files' directory (storageUri points at directories)."""
    uri: str | None = None
    """A bucket URI the model already lives at, instead of uploading files."""


@dataclass(frozen=True)
class ModelSpec:
    """One model to serve."""

    settings: ModelSettings
    """Name, namespace, replicas, scaling and resources."""
    model_format: Mapping[str, str]
    """The InferenceService's modelFormat (name, version)."""
    runtime: str
    """The ClusterServingRuntime that serves the format (named: KServe 0.20 would otherwise pick
    kserve-mlserver for sklearn, xgboost and lightgbm with protocol v2)."""
    protocol: str
    """The InferenceService's protocolVersion (v1 or v2): what clients speak unless told otherwise."""
    version: Version
    """What it serves: files to upload, or a bucket URI it already lives at."""
    component: str = "model"
    """The app.kubernetes.io/name its objects carry."""
    labels: Mapping[str, str] = field(default_factory=dict)
    canary: Version | None = None
    """A new version beside this one: KServe serves it as the predictor's latest revision, Seldon as
    a second predictor; this spec's files stay stored, for the version still serving."""
    canary_percent: int | None = None
    """KServe's canaryTrafficPercent: the latest revision's share (0: every request stays on the
    revision rolled out last); None: the latest revision takes every request once ready."""


@dataclass(frozen=True)
class Endpoint:
    """Where a model answers, as a user calls it."""

    host: str
    """Virtual host of the model at the ingress gateway."""
    base_url: str
    """http://<host>[:port] — resolves to the ingress with no DNS setup (sslip.io)."""
    ingress_url: str
    """http://<ingress address>:<port>: the same gateway by address, for use with the Host header."""
    path_prefix: str = ""
    """What the serving stack routes before the protocol's path (Seldon: /seldon/<ns>/<name>)."""
    gateway_hosts: tuple[str, ...] = ()
    """Every host the gateway routes to the model (kserve.gateway_hosts): what its key guards."""
    revision_hosts: Mapping[str, str] = field(default_factory=dict)
    """Knative mode: each tagged revision's host (`latest`: the newest, a canary; `prev`: the one
    rolled out last), where each version answers on its own."""

    def infer_url(self, model_name: str) -> str:
        """The Open Inference Protocol (V2) URL."""
        return f"{self.base_url}{self.path_prefix}{inference_path('v2', model_name)}"

    def predict_url(self, model_name: str) -> str:
        """The KServe V1 URL."""
        return f"{self.base_url}{self.path_prefix}{inference_path('v1', model_name)}"

    def by_address(self, protocol: str, model_name: str) -> str:
        """The protocol's URL at the gateway's address, to be called with the Host header."""
        return f"{self.ingress_url}{self.path_prefix}{inference_path(protocol, model_name)}"


def inference_path(protocol: str, model_name: str) -> str:
    """The path a protocol serves a model's predictions at."""
    return f"/v2/models/{model_name}/infer" if protocol == "v2" else f"/v1/models/{model_name}:predict"


def endpoint(
    name: str, namespace: str, ingress_address: str, ingress_port: int, domain: str, path_prefix: str = ""
) -> Endpoint:
    """A model's endpoint behind an ingress at ingress_address:ingress_port, with hosts under `domain`."""
    host = model_host(name, namespace, domain)
    port = "" if ingress_port == 80 else f":{ingress_port}"
    return Endpoint(
        host=host,
        base_url=f"http://{host}{port}",
        ingress_url=f"http://{ingress_address}{port}",
        path_prefix=path_prefix,
        gateway_hosts=gateway_hosts(name, namespace, domain),
        revision_hosts={tag: revision_host(tag, name, namespace, domain) for tag in REVISION_TAGS},
    )


def curl_command(endpoint: Endpoint, model_name: str, protocol: str, request: Mapping | None, *, api_key: bool = False) -> str:
    """A ready-to-paste request: with `request` as its body, or reading request.json; with the API
    key as a placeholder for the shell to fill (`export SERVEBOX_API_KEY=...`), never the key itself."""
    body = json.dumps(request, separators=(",", ":")) if request is not None else "@request.json"
    command = shlex.join(
        [
            "curl",
            "-sS",
            "-H",
            "Content-Type: application/json",
            "-H",
            f"Host: {endpoint.host}",
            endpoint.by_address(protocol, model_name),
            "-d",
            body,
        ]
    )
    if not api_key:
        return command
    # Double quotes, so that the shell expands the variable: shlex would quote it away.
    return command.replace("curl -sS ", f'curl -sS -H "{auth.HEADER}: ${auth.ENV}" ', 1)


TAG_ROUTING_ANNOTATION = "serving.kserve.io/enable-tag-routing"
"""KServe tags the latest revision `latest` (the one rolled out last is always `prev`), so each of a
canary's versions answers at a host of its own: `<tag>-<model>-predictor.<namespace>.<domain>`."""


def inference_service(spec: ModelSpec, mode: DeploymentMode, storage_uri: str, service_account: str) -> dict:
    """The InferenceService: the runtime named, the protocol, the store's directory (the canary's,
    when there is one: KServe's canary is the predictor's latest revision), small resources, and as
    much of Pod Security's "restricted" profile as the runtime's image takes."""
    model = spec.settings
    writes_only_scratch = spec.runtime in runtime.NON_ROOT_RUNTIMES
    on_knative = mode is DeploymentMode.KNATIVE
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": model.name,
            "namespace": model.namespace,
            "labels": {**standard_labels(spec.component), **spec.labels},
            "annotations": {
                "serving.kserve.io/deploymentMode": mode.kserve_name,
                "pulumi.com/waitFor": "condition=Ready",
                # Always on in Knative mode: turning it on with the first canary would change the
                # revision template, so promoting would make one more revision of the same files.
                **({TAG_ROUTING_ANNOTATION: "true"} if on_knative else {}),
            },
        },
        "spec": {
            "predictor": {
                **({"canaryTrafficPercent": spec.canary_percent} if spec.canary_percent is not None else {}),
                "minReplicas": model.min_replicas,
                "maxReplicas": model.max_replicas,
                **({"scaleMetric": model.scale_metric.value} if model.scale_metric else {}),
                **({"scaleTarget": model.scale_target} if model.scale_target else {}),
                "serviceAccountName": service_account,
                # Neither the servers nor the storage initializer call the API server.
                "automountServiceAccountToken": False,
                "securityContext": runtime.pod_security_context(spec.runtime),
                **({"volumes": [runtime.SCRATCH_VOLUME]} if writes_only_scratch else {}),
                "model": {
                    "modelFormat": dict(spec.model_format),
                    "protocolVersion": spec.protocol,
                    "runtime": spec.runtime,
                    "storageUri": storage_uri,
                    "resources": {
                        "requests": {"cpu": model.cpu_request, "memory": model.memory_request},
                        "limits": {"cpu": model.cpu_limit, "memory": model.memory_limit},
                    },
                    "securityContext": runtime.container_security_context(spec.runtime),
                    **({"volumeMounts": [runtime.SCRATCH_MOUNT]} if writes_only_scratch else {}),
                },
            }
        },
    }


@dataclass(frozen=True)
class ServingArgs:
    """What every served model of a stack shares."""

    serving: Serving
    deployment_mode: DeploymentMode
    store: ModelStore
    namespace: k8s.core.v1.Namespace
    """The models' namespace (created once for all of them)."""
    ingress_address: pulumi.Input[str]
    ingress_port: pulumi.Input[int]
    ingress_domain: pulumi.Input[str]
    serving_ready: pulumi.Resource
    """The serving stack's webhook serving (and KServe's runtimes installed)."""
    timeout_seconds: int


@dataclass(frozen=True)
class Served:
    """A model once deployed."""

    name: str
    resource: pulumi.Resource
    """The InferenceService or SeldonDeployment, Ready when created."""
    endpoint: pulumi.Output[Endpoint]
    model_uri: pulumi.Output[str]
    service_account: pulumi.Output[str]
    protocol: str
    format: str
    """The model format (its modelFormat's name)."""
    definition: dict
    """The serving resource as authored, without its store URI (what a re-check keys on)."""
    canary_uri: pulumi.Output[str] | None = None
    """The canary's directory (ModelSpec.canary), or None."""
    canary_percent: int | None = None
    """The canary's share of requests (ModelSpec.canary_percent), or None."""
    revisions_answer_alone: bool = False
    """Each version answers at a host of its own (KServe in Knative mode: tagged revisions)."""


def serve(prefix: str, spec: ModelSpec, shared: ServingArgs, parent: pulumi.Resource) -> Served:
    """Deploy `spec` under `parent`; its resources are named `<prefix>-<role>`."""
    child = pulumi.ResourceOptions(parent=parent)
    model = spec.settings
    store = shared.store
    uri, uploads = _stored(prefix, spec.version, store, parent, legacy_names=True)
    canary_uri: pulumi.Output[str] | None = None
    if spec.canary is not None:
        canary_uri, canary_uploads = _stored(prefix, spec.canary, store, parent, legacy_names=False)
        uploads += canary_uploads
    on_seldon = shared.serving is Serving.SELDON
    credentials = None
    keys = store.predictor_credentials
    if keys is not None:
        # KServe's injector reads the keys and the store's annotations from a Secret the
        # ServiceAccount lists; Seldon's operator hands a Secret of environment variables to the
        # storage initializer by name.
        credentials = k8s.core.v1.Secret(
            f"{prefix}-storage-credentials",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{model.name}-storage",
                namespace=shared.namespace.metadata.name,
                labels=standard_labels(spec.component),
                annotations=None if on_seldon else keys.annotations,
            ),
            string_data=keys.environment if on_seldon else keys.data,
            opts=child,
        )
    # The predictor's identity: read access to the one bucket, through that Secret, the node's own
    # cloud identity or the cluster's workload identity, and nothing else (no API token mounted).
    account = k8s.core.v1.ServiceAccount(
        f"{prefix}-service-account",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=predictor_service_account(model.name),
            namespace=shared.namespace.metadata.name,
            labels=standard_labels(spec.component),
            annotations=store.service_account_annotations,
        ),
        secrets=[k8s.core.v1.ObjectReferenceArgs(name=credentials.metadata.name)] if credentials and not on_seldon else None,
        automount_service_account_token=False,
        opts=child,
    )
    awaited = pulumi.ResourceOptions.merge(
        kube.after(child, shared.serving_ready, credentials, *uploads),
        pulumi.ResourceOptions(
            custom_timeouts=pulumi.CustomTimeouts(create=f"{shared.timeout_seconds}s", update=f"{shared.timeout_seconds}s")
        ),
    )
    # The resource that serves the model: its kind, and its manifest for a bucket URI and an account.
    render: Callable[[str, str], dict]
    if on_seldon:
        secret_name = f"{model.name}-storage" if credentials else None

        def render(uri: str, account: str, canary: str | None = None) -> dict:
            split = (canary, spec.canary_percent or 0) if canary is not None else None
            return seldon.seldon_deployment(model, uri, account, secret_name, spec.component, canary=split)

        suffix, api_version, kind = "sdep", "machinelearning.seldon.io/v1", "SeldonDeployment"
        path_prefix, protocol = seldon.path_prefix(model.name, model.namespace), seldon.PROTOCOL
    else:

        def render(uri: str, account: str, canary: str | None = None) -> dict:
            return inference_service(spec, shared.deployment_mode, canary if canary is not None else uri, account)

        suffix, api_version, kind = "isvc", "serving.kserve.io/v1beta1", "InferenceService"
        path_prefix, protocol = "", spec.protocol
    resource = kube.custom_resource(
        f"{prefix}-{suffix}",
        pulumi.Output.all(uri, account.metadata.name, canary_uri).apply(lambda values: render(*values)),
        api_version=api_version,
        kind=kind,
        namespace=shared.namespace.metadata.name,
        opts=awaited,
    )
    definition = render("", "", None if spec.canary is None else "")
    where = pulumi.Output.all(shared.ingress_address, shared.ingress_port, shared.ingress_domain).apply(
        lambda address: endpoint(model.name, model.namespace, address[0], int(address[1]), address[2], path_prefix)
    )
    return Served(
        name=model.name,
        resource=resource,
        endpoint=where,
        model_uri=uri,
        service_account=account.metadata.name,
        protocol=protocol,
        format=spec.model_format["name"],
        definition=definition,
        canary_uri=canary_uri,
        canary_percent=spec.canary_percent if spec.canary is not None else None,
        revisions_answer_alone=not on_seldon and shared.deployment_mode is DeploymentMode.KNATIVE,
    )


def _stored(
    prefix: str, version: Version, store: ModelStore, parent: pulumi.Resource, *, legacy_names: bool
) -> tuple[pulumi.Output[str], list[pulumi.Resource]]:
    """The URI of a version's directory, and the uploads that put it there (none for a URI).

    Each upload is named after the version's content key, so that a canary's objects and the
    current version's are distinct resources, and promoting a canary keeps its objects as they
    are (same names, same keys) while the old version's are deleted. `legacy_names`: the current
    version's uploads were once named `<prefix>-upload[-i]`; the alias keeps them, not remade."""
    if version.uri is not None:
        return pulumi.Output.from_input(version.uri), []
    content = version.directory_key.rsplit("/", 1)[-1]
    stored = []
    for index, (path, key) in enumerate(version.files):
        suffix = "" if index == 0 else f"-{index}"
        aliases = [f"{prefix}-upload{suffix}"] if legacy_names else []
        stored.append(store.upload(f"{prefix}-upload-{content}{suffix}", str(path), key, parent, aliases))
    if len(stored) == 1:
        return stored[0].uri, [stored[0].resource]
    return pulumi.Output.concat(stored[0].uri.apply(_scheme_bucket), version.directory_key), [item.resource for item in stored]


def _scheme_bucket(directory_uri: str) -> str:
    """s3://bucket/dir/sub -> s3://bucket/ (a directory's URI is the bucket's plus directory_key)."""
    scheme, _, rest = directory_uri.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/"
