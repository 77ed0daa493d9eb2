"""The sample MNIST model: uploaded to the private store, served by KServe (or Seldon Core), proven by a prediction.

Needs the platform (KServe's webhook serving and runtimes installed, the ingress gateway ready) and
a store (components/storage/base.py; which one is not this module's business). Creates the model
namespace, the predictor's identity (a ServiceAccount that lists the store's read-only Secret where
the store has keys, and nothing where the node reads keyless) and the
InferenceService on KServe's own sklearn server (components/model/runtime.py), awaited until
Ready; with Seldon, a SeldonDeployment on the same server image (components/model/seldon.py). Last, a command sends held-out digits through the published endpoint from where the user
stands and fails the update when the answers are wrong.
https://kserve.github.io/website/docs/model-serving/storage/
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s

from components import kube
from components.config import DeploymentMode, ModelSettings, Serving, SmokeTestSettings
from components.local import PROJECT_DIR, project_python
from components.model import runtime, seldon
from components.model.artifact import Artifact
from components.naming import component_type, predictor_service_account, standard_labels
from components.platform.kserve import model_host
from components.storage.base import ModelStore


def inference_service(
    settings: ModelSettings, mode: DeploymentMode, storage_uri: str, service_account: str
) -> dict:
    """The InferenceService: KServe's sklearn server named, V2, the store's directory, small resources."""
    model = settings
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": model.name,
            "namespace": model.namespace,
            "labels": standard_labels("mnist"),
            "annotations": {
                "serving.kserve.io/deploymentMode": mode.kserve_name,
                "pulumi.com/waitFor": "condition=Ready",
            },
        },
        "spec": {
            "predictor": {
                "minReplicas": model.min_replicas,
                "maxReplicas": model.max_replicas,
                **({"scaleMetric": model.scale_metric.value} if model.scale_metric else {}),
                **({"scaleTarget": model.scale_target} if model.scale_target else {}),
                "serviceAccountName": service_account,
                "model": {
                    "modelFormat": dict(runtime.MODEL_FORMAT),
                    "protocolVersion": runtime.PROTOCOL,
                    # Named, because KServe 0.20 picks kserve-mlserver for sklearn + v2 otherwise.
                    "runtime": runtime.RUNTIME_NAME,
                    "storageUri": storage_uri,
                    "resources": {
                        "requests": {"cpu": model.cpu_request, "memory": model.memory_request},
                        "limits": {"cpu": model.cpu_limit, "memory": model.memory_limit},
                    },
                },
            }
        },
    }


@dataclass(frozen=True)
class Endpoint:
    """Where the model answers, as a user calls it."""

    host: str
    """Virtual host of the InferenceService at the ingress gateway."""
    base_url: str
    """http://<host>[:port] — resolves to the ingress with no DNS setup (sslip.io)."""
    ingress_url: str
    """http://<ingress ip>:<port>: the same gateway by address, for use with the Host header."""
    path_prefix: str = ""
    """What the serving stack routes before the protocol's path (Seldon: /seldon/<ns>/<name>)."""

    def infer_url(self, model_name: str) -> str:
        """The Open Inference Protocol (V2) URL."""
        return f"{self.base_url}{self.path_prefix}{inference_path('v2', model_name)}"

    def predict_url(self, model_name: str) -> str:
        """The KServe V1 URL."""
        return f"{self.base_url}{self.path_prefix}{inference_path('v1', model_name)}"


def inference_path(protocol: str, model_name: str) -> str:
    """The path a protocol serves a model's predictions at."""
    return f"/v2/models/{model_name}/infer" if protocol == "v2" else f"/v1/models/{model_name}:predict"


def endpoint(
    name: str, namespace: str, ingress_address: str, ingress_port: int, domain: str, path_prefix: str = ""
) -> Endpoint:
    """The model's endpoint behind an ingress at ingress_address:ingress_port, with hosts under `domain`."""
    host = model_host(name, namespace, domain)
    port = "" if ingress_port == 80 else f":{ingress_port}"
    return Endpoint(
        host=host, base_url=f"http://{host}{port}", ingress_url=f"http://{ingress_address}{port}", path_prefix=path_prefix
    )


def smoke_test_command(
    endpoint: Endpoint, model_name: str, smoke: SmokeTestSettings, timeout_seconds: int, protocol: str = runtime.PROTOCOL
) -> str:
    """The last step of `pulumi up`: real digits through the published endpoint.

    It calls the ingress by address with the Host header, so a resolver that refuses to answer
    sslip.io names with 127.0.0.1 (DNS rebinding protection) cannot fail a working platform.
    """
    return shlex.join(
        [
            project_python(),
            "scripts/smoke_test.py",
            "--url",
            f"{endpoint.ingress_url}{endpoint.path_prefix}{inference_path(protocol, model_name)}",
            "--protocol",
            protocol,
            "--host-header",
            endpoint.host,
            "--count",
            str(smoke.digits),
            "--min-accuracy",
            f"{smoke.min_accuracy:g}",
            "--timeout",
            str(timeout_seconds),
        ]
    )


def curl_command(endpoint: Endpoint, model_name: str, digit_request: dict) -> str:
    """A ready-to-paste request with one real held-out digit."""
    return shlex.join(
        [
            "curl",
            "-sS",
            "-H",
            "Content-Type: application/json",
            "-H",
            f"Host: {endpoint.host}",
            f"{endpoint.ingress_url}{endpoint.path_prefix}{inference_path('v2', model_name)}",
            "-d",
            json.dumps(digit_request, separators=(",", ":")),
        ]
    )


@dataclass(frozen=True)
class MnistModelArgs:
    """Inputs of the sample model."""

    settings: ModelSettings
    """Name, namespace, replicas and resources (from config)."""
    serving: Serving
    """KServe (an InferenceService) or Seldon Core (a SeldonDeployment)."""
    deployment_mode: DeploymentMode
    """KServe mode; decides the InferenceService annotation."""
    artifact: Artifact
    """The trained artifact to upload (components.model.artifact)."""
    store: ModelStore
    """Where the artifact is stored and the read-only identity the predictor uses."""
    ingress_address: pulumi.Input[str]
    """Address of the ingress gateway as users reach it."""
    ingress_port: pulumi.Input[int]
    """HTTP port of the ingress gateway as users reach it."""
    ingress_domain: pulumi.Input[str]
    """The domain model hosts are under (the platform's)."""
    serving_ready: pulumi.Resource
    """The serving stack's webhook serving (and KServe's runtimes installed)."""
    ingress_gateway: pulumi.Resource
    """What proves the ingress gateway serves; the smoke test goes through it."""
    smoke_test: SmokeTestSettings
    """How many digits the last step sends and how many must come back right."""
    timeout_seconds: int
    """How long the InferenceService and the smoke test may take."""


class MnistModel(pulumi.ComponentResource):
    """The sample model, served and proven to answer."""

    endpoint: pulumi.Output[Endpoint]
    """Where the model answers."""
    infer_url: pulumi.Output[str]
    """V2 inference URL (resolves with no DNS setup)."""
    predict_url: pulumi.Output[str | None]
    """V1 predict URL (the same server, the same port); None with Seldon, whose executor does not route V1."""
    protocol: str
    """The model's own protocol (its protocolVersion): what clients speak unless told otherwise."""
    curl: pulumi.Output[str]
    """A ready-to-paste request with one real digit, sent to the ingress by address with a Host header."""
    model_uri: pulumi.Output[str]
    """storageUri: the model's directory in the store."""
    service_account: pulumi.Output[str]
    """The predictor's ServiceAccount."""

    def __init__(self, name: str, args: MnistModelArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("model", "MnistModel"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        model = args.settings

        ns = kube.namespace(f"{name}-namespace", model.namespace, standard_labels("models"), child)
        stored = args.store.upload(
            f"{name}-upload", str(args.artifact.model_path), f"mnist/{args.artifact.key[:16]}/model.joblib", self
        )
        on_seldon = args.serving is Serving.SELDON
        credentials = None
        keys = args.store.predictor_credentials
        if keys is not None:
            # KServe's injector reads the keys and the store's annotations from a Secret the
            # ServiceAccount lists; Seldon's operator hands a Secret of environment variables to the
            # storage initializer by name.
            credentials = k8s.core.v1.Secret(
                f"{name}-storage-credentials",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"{model.name}-storage",
                    namespace=ns.metadata.name,
                    labels=standard_labels("mnist"),
                    annotations=None if on_seldon else keys.annotations,
                ),
                string_data=keys.environment if on_seldon else keys.data,
                opts=child,
            )
        # The predictor's identity: read access to the one bucket, through that Secret or through the
        # node's own cloud identity, and nothing else (no token mounted: it never calls the API server).
        account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=predictor_service_account(model.name),
                namespace=ns.metadata.name,
                labels=standard_labels("mnist"),
                # Where the cluster makes it a cloud principal (Workload Identity, IRSA).
                annotations=args.store.service_account_annotations,
            ),
            secrets=[k8s.core.v1.ObjectReferenceArgs(name=credentials.metadata.name)]
            if credentials and not on_seldon
            else None,
            automount_service_account_token=False,
            opts=child,
        )
        awaited = pulumi.ResourceOptions.merge(
            kube.after(child, args.serving_ready, stored.resource, credentials),
            pulumi.ResourceOptions(
                custom_timeouts=pulumi.CustomTimeouts(create=f"{args.timeout_seconds}s", update=f"{args.timeout_seconds}s")
            ),
        )
        if on_seldon:
            secret_name = f"{model.name}-storage" if credentials else None
            manifest = pulumi.Output.all(stored.uri, account.metadata.name).apply(
                lambda values: seldon.seldon_deployment(model, values[0], values[1], secret_name)
            )
            served = kube.custom_resource(
                f"{name}-sdep",
                manifest,
                api_version="machinelearning.seldon.io/v1",
                kind="SeldonDeployment",
                namespace=ns.metadata.name,
                opts=awaited,
            )
            prefix = seldon.path_prefix(model.name, model.namespace)
            protocol = seldon.PROTOCOL
            definition = seldon.seldon_deployment(model, "", "", secret_name)
        else:
            manifest = pulumi.Output.all(stored.uri, account.metadata.name).apply(
                lambda values: inference_service(model, args.deployment_mode, values[0], values[1])
            )
            served = kube.custom_resource(
                f"{name}-isvc",
                manifest,
                api_version="serving.kserve.io/v1beta1",
                kind="InferenceService",
                namespace=ns.metadata.name,
                opts=awaited,
            )
            prefix = ""
            protocol = runtime.PROTOCOL
            definition = inference_service(model, args.deployment_mode, "", "")

        self.endpoint = pulumi.Output.all(args.ingress_address, args.ingress_port, args.ingress_domain).apply(
            lambda address: endpoint(model.name, model.namespace, address[0], int(address[1]), address[2], prefix)
        )
        self.infer_url = self.endpoint.apply(lambda e: e.infer_url(model.name))
        self.predict_url = (
            pulumi.Output.from_input(None) if on_seldon else self.endpoint.apply(lambda e: e.predict_url(model.name))
        )
        self.protocol = protocol
        self.curl = self.endpoint.apply(lambda e: curl_command(e, model.name, args.artifact.sample_request))
        if args.smoke_test.digits:
            command.local.Command(
                f"{name}-smoke-test",
                create=self.endpoint.apply(
                    lambda e: smoke_test_command(e, model.name, args.smoke_test, args.timeout_seconds, protocol)
                ),
                dir=str(PROJECT_DIR),
                # Runs again whenever what is served changes; otherwise once.
                triggers=[stored.uri, json.dumps(definition, sort_keys=True)],
                opts=kube.after(child, served, args.ingress_gateway),
            )
        self.model_uri = stored.uri
        self.service_account = account.metadata.name
        self.register_outputs(
            {"infer_url": self.infer_url, "predict_url": self.predict_url, "model_uri": self.model_uri, "service_account": self.service_account}
        )
