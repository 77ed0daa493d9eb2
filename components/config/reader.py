"""Reading a stack's config into Settings: every rule applied, every problem reported at once."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

import pulumi

from components import host
from components.config.existing import _existing_settings
from components.config.models import _own_models, _SampleModel, _ScaleMetricOrAuto
from components.config.networks import _vm_settings, too_wide
from components.config.quantities import _CPU_ALLOWED, _MEMORY_ALLOWED, cpu_millicores, memory_bytes
from components.config.schema import AUTO, ConfigError, ConfigKey, _Reader, _unknown_keys, config_schema, known
from components.config.settings import (
    AVAILABLE_SERVING,
    AVAILABLE_TARGETS,
    TARGET_STORES,
    VM_TARGETS,
    DeploymentMode,
    KindSettings,
    ModelSettings,
    OwnModel,
    ScaleMetric,
    Serving,
    Settings,
    SmokeTestSettings,
    StoreKind,
    Target,
    TerminationAction,
)
from components.config.targets import (
    _aws_settings,
    _gcp_settings,
    _keys_of_other_serving,
    _keys_of_other_targets,
    _seldon_needs_amd64,
    aws_architecture,
    gcp_architecture,
)
from components.config.uris import OwnBucket, read_uri_buckets, uri_problem
from components.config.workshop import read_workshop
from components.naming import bucket_name, dns_label, gcs_bucket_name, s3_bucket_prefix

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
        "seldon-system",
        "model-store",
    }
)
"""Namespaces a chart, the platform or Kubernetes owns (every one the program creates besides the
model namespace: tests/unit/test_reserved_namespaces.py). A model namespace of one of these names
would be a second Namespace resource of it, and destroy would delete the owner's."""

STACK_NAME_MAX_FOR_NAMES = 40
"""The longest physical name derived from <project>-<stack> (naming.kind_cluster_name, vm_name)."""


_DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DNS_1123 = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


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
        lambda v: len(v) <= 40 and bool(_DNS_1123.fullmatch(v)) and v not in RESERVED_NAMESPACES and not v.startswith("kube-"),
        "a DNS label (lower-case letters, digits, '-') of at most 40 characters that does not start with kube- "
        "and is not one of " + ", ".join(sorted(RESERVED_NAMESPACES)),
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
    if cpu_request and cpu_limit and known(cpu_millicores(cpu_limit)) < known(cpu_millicores(cpu_request)):
        read.problem("modelCpuLimit", cpu_limit, f"at least modelCpuRequest ({cpu_request})", cpu_request)
    if memory_request and memory_limit and known(memory_bytes(memory_limit)) < known(memory_bytes(memory_request)):
        read.problem(
            "modelMemoryLimit", memory_limit, f"at least modelMemoryRequest ({memory_request})", memory_request
        )

    sample_setting = read.enum("sampleModel", _SampleModel)
    own_models: tuple[OwnModel, ...] = ()
    defaults: ModelSettings | None = None
    if None not in (serving, mode, model_name, namespace, min_replicas, max_replicas, cpu_request, cpu_limit, memory_request, memory_limit):
        defaults = ModelSettings(
            name=known(model_name),
            namespace=known(namespace),
            min_replicas=known(min_replicas),
            max_replicas=known(max_replicas),
            cpu_request=known(cpu_request),
            memory_request=known(memory_request),
            cpu_limit=known(cpu_limit),
            memory_limit=known(memory_limit),
            scale_metric=None if scale_metric in (None, _ScaleMetricOrAuto.AUTO) else ScaleMetric(scale_metric.value),
            scale_target=scale_target or None,
        )
        arch = gcp_architecture(gcp.machine_type) if gcp else aws_architecture(aws.instance_type) if aws else None
        serve_sample_now = sample_setting is _SampleModel.TRUE or (sample_setting is _SampleModel.AUTO and read.is_default("models"))
        own_models = _own_models(read, serving, mode, defaults, arch, model_name if serve_sample_now else None)
    # Models served for a shared workshop's attendees go in their namespaces, not the stack's own.
    stacks_own = [model for model in own_models if model.attendee is None]
    serve_sample = sample_setting is _SampleModel.TRUE or (sample_setting is _SampleModel.AUTO and not stacks_own)
    if sample_setting is _SampleModel.FALSE and not stacks_own and not read.problems:
        read.problems.append(
            "sampleModel: got 'false', but models is empty; allowed: false only with at least one model of your own. "
            "Fix: pulumi config set sampleModel auto (or add a model: servebox serve <path>)"
            if not own_models else
            "sampleModel: got 'false', but every model in models is an attendee's; allowed: false only with at least "
            "one model served in the stack's own namespace. Fix: pulumi config set sampleModel auto"
        )
    for index, model in enumerate(own_models):
        if serve_sample and model.attendee is not None and model.settings.name == model_name:
            read.problems.append(
                f"models[{index}].name: got {model_name!r}, which the sample model (modelName) already uses in "
                f"{model.attendee}'s namespace; allowed: another name, or sampleModel false. Fix: pulumi config set "
                f"--path 'models[{index}].name' {model_name}-2"
            )

    store = _store_kind(read, target)
    machine = (("gcp", "gcpMachineType", gcp.machine_type) if gcp else ("aws", "awsInstanceType", aws.instance_type) if aws else None)
    workshop = read_workshop(read, target, store, namespace, serving, mode, defaults, machine, serve_sample, own_models)
    attendee_ids = workshop.attendees if workshop else ()
    for index, model in enumerate(own_models):
        if model.attendee is not None and model.attendee not in attendee_ids:
            read.problems.append(
                f"models[{index}].attendee: got {model.attendee!r}; allowed: one of the attendees "
                f"({', '.join(attendee_ids) or 'none: attendees is empty'}). Fix: pulumi config rm --path 'models[{index}].attendee' "
                f"(or add {model.attendee} to attendees)"
            )
    if workshop is not None and vm is not None:
        # One VM shares one identity among its pods: the attendees' keys are MinIO's, on the VM.
        store = StoreKind.MINIO
        vm = dataclasses.replace(vm, store_api=True)
    network_policies = read.boolean("networkPolicies")
    model_auth = read.enum("modelAuth", ModelAuth)
    world_open_model = too_wide(vm.model_cidrs) if vm else None
    api_key = model_auth is ModelAuth.APIKEY or (
        model_auth is ModelAuth.AUTO and (target is Target.EXISTING or world_open_model is not None)
    )
    if world_open_model:
        # Allowed: a workshop's attendees call from anywhere. Said at every up, so it is a choice.
        guard = "each request must carry the stack's API key" if api_key else "with no key (modelAuth none)"
        read.warnings.append(
            f"modelCidrs: {read.value('modelCidrs')!r} opens the model's HTTP endpoint to {world_open_model:,} public "
            f"addresses; anyone among them can send it predictions ({guard}). Narrow it unless that is the point: "
            "pulumi config set modelCidrs auto"
        )
    uri_buckets = read_uri_buckets(read, store)
    given_uris = [
        (f"models[{index}].{key}", uri)
        for index, model in enumerate(own_models)
        for key, uri in (("uri", model.uri), ("canaryUri", model.canary.uri if model.canary else None))
        if uri
    ]
    if store is not None and uri_buckets is not None and given_uris:
        own = _own_bucket(store, project, stack, gcp.project if gcp else existing.gcp_project if existing else None)
        for at, uri in given_uris:
            problem = uri_problem(at, uri, store, own, uri_buckets)
            if problem:
                read.problems.append(problem)

    if read.problems:
        raise ConfigError(read.problems)
    store = known(store)
    return Settings(
        project=project,
        stack=stack,
        target=target,
        serving=serving,
        deployment_mode=mode,
        install_timeout_seconds=known(timeout),
        # Where the stack runs: the target's own settings (None for the other targets) and its store.
        kind=KindSettings(host_port=known(host_port), store_host_port=known(store_host_port)),
        vm=vm,
        gcp=gcp,
        aws=aws,
        existing=existing,
        store=store,
        # What it serves, and how it guards it.
        model=known(defaults),  # the sample's settings, and every own model's defaults
        serve_sample=serve_sample,
        own_models=own_models,
        smoke_test=SmokeTestSettings(digits=known(digits), min_accuracy=known(min_accuracy) / 100),
        model_api_key=api_key,
        network_policies=known(network_policies),
        workshop=workshop,
        warnings=tuple(read.warnings),
    )


class ModelAuth(str, Enum):
    AUTO = AUTO
    NONE = "none"
    APIKEY = "apikey"


def _store_kind(read: _Reader, target: Target | None) -> StoreKind | None:
    if target is Target.EXISTING:
        return read.enum("store", StoreKind)
    return TARGET_STORES[target.value] if target is not None else None


def _own_bucket(store: StoreKind, project: str, stack: str, gcp_project: str | None) -> OwnBucket:
    """The stack's bucket as the store layer will name it (components/storage/__init__.py)."""
    if store is StoreKind.GCS:
        return OwnBucket(gcs_bucket_name(gcp_project or "", project, stack))
    if store is StoreKind.S3:
        return OwnBucket(s3_bucket_prefix(project, stack), is_prefix=True)
    return OwnBucket(bucket_name(project, stack))


def load_settings() -> Settings:
    """Read this stack's config through the Pulumi runtime and validate it (see settings_from_config)."""
    every_key = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    secret = frozenset(key for key in every_key if pulumi.runtime.config.is_config_secret(key))
    settings = settings_from_config(every_key, project=pulumi.get_project(), stack=pulumi.get_stack(), secret_keys=secret)
    for warning in settings.warnings:
        pulumi.log.warn(warning)
    return settings


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
