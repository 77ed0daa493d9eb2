"""Every model of a stack: the sample MNIST model, a user's own models, or both, in one namespace.

Needs the platform (the serving webhook serving, the ingress gateway proven) and a store. Creates
the models' namespace once, serves each model with the same code (served.py: its files in the
store, its own ServiceAccount, its InferenceService or SeldonDeployment), and ends with the sample's
proof: held-out digits sent through the published endpoint from where the user stands. The sample's
resources keep the names they always had (`model-isvc`, ...); a model of the user's is
`model-<name>-isvc`, ...
"""

from __future__ import annotations

import copy
import functools
import json
import shlex
from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import kube, network_policy
from components.config import DeploymentMode, ModelSettings, Serving, SmokeTestSettings
from components.local import PROJECT_DIR, project_python
from components.model import auth, mnist
from components.model.artifact import Artifact
from components.model.served import Endpoint, ModelSpec, Served, ServingArgs, curl_command, serve
from components.naming import component_type, standard_labels
from components.outputs import MODEL_FIELDS
from components.platform.platform import ModelAccess
from components.platform.probe import KUBECONFIG_ENV
from components.storage.base import ModelStore


@dataclass(frozen=True)
class ModelsArgs:
    """Inputs of a stack's models."""

    namespace: str
    """The namespace created for the models."""
    sample: ModelSettings | None
    """The sample's settings when it is served; None when the user's models replace it."""
    artifact: Artifact | None
    """The trained sample artifact (with `sample`)."""
    own: tuple[ModelSpec, ...]
    """The user's own models."""
    serving: Serving
    deployment_mode: DeploymentMode
    store: ModelStore
    ingress_address: pulumi.Input[str]
    ingress_port: pulumi.Input[int]
    ingress_domain: pulumi.Input[str]
    """Where the gateway is reached and the domain model hosts are under (the platform's)."""
    serving_ready: pulumi.Resource
    """The serving stack's webhook serving (and KServe's runtimes installed)."""
    ingress_gateway: pulumi.Resource
    """What proves the ingress gateway serves; the sample's smoke test goes through it."""
    smoke_test: SmokeTestSettings
    timeout_seconds: int
    access: ModelAccess = ModelAccess(())
    """Who sends the predictors requests, and where the gateway's pods are (Platform.model_access)."""
    api_key: bool = False
    """Every request must carry the stack's API key, checked at the gateway (modelAuth)."""
    kubeconfig: pulumi.Input[str] | None = None
    """Secret kubeconfig: the smoke test reads why the sample is not serving, should it not."""
    network_policies: bool = True
    """Deny every other flow in and out of the namespace (networkPolicies)."""


class Models(pulumi.ComponentResource):
    """The stack's models, served and (the sample) proven to answer."""

    namespace_resource: k8s.core.v1.Namespace
    """The models' namespace; what goes in it besides them depends on this."""
    served: dict[str, Served]
    """Every served model by name, the sample first."""
    curls: dict[str, pulumi.Output[str]]
    """A ready-to-paste request per model (the sample's with one real digit)."""
    outputs: pulumi.Output[dict[str, dict]]
    """The `models` output: per model, where it answers and how to call it (outputs.MODEL_FIELDS)."""
    api_key: pulumi.Output[str] | None
    """The key requests must carry (a Pulumi secret), or None without modelAuth."""

    def __init__(self, name: str, args: ModelsArgs, opts: pulumi.ResourceOptions | None = None):
        # Stacks made before own models were served by a MnistModel component of the same name.
        opts = copy.copy(opts) if opts is not None else pulumi.ResourceOptions()
        opts.aliases = [*(opts.aliases or []), pulumi.Alias(type_=component_type("model", "MnistModel"))]
        super().__init__(component_type("model", "Models"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Baseline, not restricted: KServe's storage initializer (injected at v0.20.0 without a
        # securityContext of its own, pkg/utils/storage.go) sets no capabilities or privilege
        # escalation; warnings and audit entries show it at every rollout.
        namespace = kube.namespace(f"{name}-namespace", args.namespace, standard_labels("models"), child, enforce=kube.BASELINE)
        self.namespace_resource = namespace
        if args.network_policies:
            network_policy.deny_all(f"{name}-deny-all", namespace, child)
            network_policy.allow(f"{name}-allow-requests", namespace, "allow-requests", {}, ingress=args.access.request_sources, opts=child)
            network_policy.allow(
                f"{name}-allow-model-download",
                namespace,
                "allow-model-download",
                {},
                egress=[network_policy.DNS_EGRESS, *args.store.predictor_egress],
                opts=child,
            )
        shared = ServingArgs(
            serving=args.serving,
            deployment_mode=args.deployment_mode,
            store=args.store,
            namespace=namespace,
            ingress_address=args.ingress_address,
            ingress_port=args.ingress_port,
            ingress_domain=args.ingress_domain,
            serving_ready=args.serving_ready,
            timeout_seconds=args.timeout_seconds,
        )
        self.served = {}
        self.curls = {}
        sample: Served | None = None
        if args.sample is not None:
            assert args.artifact is not None
            sample = serve(name, mnist.sample_spec(args.sample, args.artifact), shared, self)
            self.served[sample.name] = sample
            request = args.artifact.sample_request
            self.curls[sample.name] = sample.endpoint.apply(
                lambda e: curl_command(e, sample.name, "v2", request, api_key=args.api_key)
            )
        for spec in args.own:
            own = serve(f"{name}-{spec.settings.name}", spec, shared, self)
            self.served[own.name] = own
            self.curls[own.name] = own.endpoint.apply(functools.partial(_own_curl, own.name, own.protocol, args.api_key))
        self.api_key = None
        policy = self._api_key_policy(name, args, child) if args.api_key else None
        if sample is not None and args.smoke_test.digits:
            self._smoke_test(name, sample, args, policy, child)
        for model in self.served.values():
            if model.canary_uri is not None and model.revisions_answer_alone:
                self._canary_check(f"{name}-{model.name}", model, args, policy, child)
        on_seldon = args.serving is Serving.SELDON
        self.outputs = pulumi.Output.all(
            **{
                model_name: pulumi.Output.all(model.endpoint, model.model_uri, self.curls[model_name], model.canary_uri).apply(
                    functools.partial(_outputs_of, model, on_seldon)
                )
                for model_name, model in self.served.items()
            }
        )
        self.register_outputs({"models": self.outputs, "api_key": self.api_key})

    def _api_key_policy(self, name: str, args: ModelsArgs, child: pulumi.ResourceOptions) -> pulumi.Resource:
        """A random key, and the gateway's AuthorizationPolicy that demands it for every served model."""
        key = random.RandomPassword(f"{name}-api-key", length=32, special=False, opts=child)
        self.api_key = pulumi.Output.secret(key.result)
        hosts = pulumi.Output.all(*(model.endpoint for model in self.served.values())).apply(
            lambda endpoints: [host for endpoint in endpoints for host in endpoint.gateway_hosts]
        )
        metadata = auth.policy_metadata(args.access.gateway_namespace, args.namespace)
        # Only the spec holds the key: the name and namespace stay readable in the state.
        policy_spec = pulumi.Output.all(self.api_key, hosts).apply(
            lambda values: auth.policy_spec(
                gateway_labels=args.access.gateway_labels,
                model_namespace=args.namespace,
                hosts=values[1],
                on_seldon=args.serving is Serving.SELDON,
                key=values[0],
            )
        )
        return k8s.apiextensions.CustomResource(
            f"{name}-api-key-policy",
            api_version=auth.POLICY_API_VERSION,
            kind=auth.POLICY_KIND,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=metadata["name"], namespace=metadata["namespace"], labels=metadata["labels"]),
            spec=pulumi.Output.secret(policy_spec),
            opts=kube.after(child, args.serving_ready),
        )

    def _canary_check(
        self, prefix: str, model: Served, args: ModelsArgs, policy: pulumi.Resource | None, child: pulumi.ResourceOptions
    ) -> None:
        """Both versions of a canary answer, each on its own (KServe's tagged revisions)."""
        assert model.canary_uri is not None
        command.local.Command(
            f"{prefix}-canary-check",
            create=model.endpoint.apply(lambda e: canary_check_command(e, model.name, model.protocol, args.timeout_seconds)),
            dir=str(PROJECT_DIR),
            environment={auth.ENV: self.api_key} if self.api_key is not None else None,
            # Again whenever either version or the split changes.
            triggers=[model.model_uri, model.canary_uri, str(model.canary_percent)],
            opts=kube.after(child, model.resource, args.ingress_gateway, policy),
        )

    def _smoke_test(
        self, name: str, sample: Served, args: ModelsArgs, policy: pulumi.Resource | None, child: pulumi.ResourceOptions
    ) -> None:
        environment: dict[str, pulumi.Input[str]] = {}
        if self.api_key is not None:
            environment[auth.ENV] = self.api_key
        if args.kubeconfig is not None:
            environment[KUBECONFIG_ENV] = pulumi.Output.secret(args.kubeconfig)
        diagnose = (args.namespace, args.serving.value) if args.kubeconfig is not None else None
        command.local.Command(
            f"{name}-smoke-test",
            create=sample.endpoint.apply(
                lambda e: mnist.smoke_test_command(
                    e, sample.name, args.smoke_test, args.timeout_seconds, sample.protocol, diagnose=diagnose
                )
            ),
            dir=str(PROJECT_DIR),
            # The key and the kubeconfig, as the client reads them (never on the command line).
            environment=environment or None,
            # Runs again whenever what is served changes; otherwise once.
            triggers=[sample.model_uri, json.dumps(sample.definition, sort_keys=True)],
            opts=kube.after(child, sample.resource, args.ingress_gateway, policy),
        )


def canary_check_command(endpoint: Endpoint, model_name: str, protocol: str, timeout_seconds: int) -> str:
    """The end-of-up proof of a canary: both versions ready, each at its tagged revision's host
    (servebox/canary_check.py), through the ingress by address."""
    hosts = [arg for tag in ("prev", "latest") for arg in ("--host", endpoint.revision_hosts[tag])]
    return shlex.join([
        project_python(), "scripts/canary_check.py", "--url", endpoint.ingress_url, "--model", model_name,
        "--protocol", protocol, *hosts, "--timeout", str(timeout_seconds),
    ])


def _own_curl(model_name: str, protocol: str, api_key: bool, endpoint: Endpoint) -> str:
    """The ready request of one of the user's models (its body read from request.json)."""
    return curl_command(endpoint, model_name, protocol, None, api_key=api_key)


def _outputs_of(model: Served, on_seldon: bool, values: list) -> dict:
    """The `models` output entry of one model, from its (endpoint, model URI, curl, canary URI)."""
    return _model_outputs(model, values[0], values[1], values[2], on_seldon, values[3])


def _model_outputs(model: Served, where, model_uri: str, curl: str, on_seldon: bool, canary_uri: str | None) -> dict:
    canary = None
    if canary_uri is not None:
        # Where each version answers alone (KServe's tagged revisions); Seldon splits one route only.
        alone = model.revisions_answer_alone
        canary = {
            "percent": model.canary_percent,
            "model_uri": canary_uri,
            "host_header": where.revision_hosts["latest"] if alone else None,
            "current_host_header": where.revision_hosts["prev"] if alone else None,
        }
    fields = {
        "endpoint": where.base_url,
        "infer_url": where.infer_url(model.name),
        # Seldon's executor routes V2 only.
        "predict_url": None if on_seldon else where.predict_url(model.name),
        "protocol": model.protocol,
        "host_header": where.host,
        "curl": curl,
        "model_uri": model_uri,
        "format": model.format,
        "canary": canary,
    }
    assert tuple(fields) == MODEL_FIELDS
    return fields
