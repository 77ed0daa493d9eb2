"""The sample model as a SeldonDeployment (serving: seldon), on the same server image as KServe's.

Seldon Core v1's operator runs KServe's sklearn server through the v2 implementation servebox
registers (components/platform/seldon.py), with the wiring its source at v1.17.1 gives such a
server: the model container must be named after the graph node and carry its own arguments (the
operator adds none), its `http` port is 9000 (operator/controllers/mlserver.go), its probes are
`/v2/health/ready` and `/v2/health/live` on that port, and the model arrives in `/mnt/models`
through the storage initializer (KServe's, by the chart's default), which gets the store's
environment from the Secret `envSecretRefName` names, where the store has keys. The executor in
the same pod takes `/v2/models/<model>/infer` (the VirtualService strips `/seldon/<ns>/<name>`)
and forwards it to localhost:9000 unchanged. V1 is not served: the executor speaks KServe V1 only
for its tensorflow protocol.
https://docs.seldon.io/projects/seldon-core/en/v1.17.1/servers/custom.html
"""

from __future__ import annotations

from components import versions
from components.config import ModelSettings
from components.model import runtime
from components.naming import standard_labels

HTTP_PORT = 9000
"""The model container's `http` port: predictiveUnit.httpPort's default, which the operator sets."""
GRPC_PORT = 9500
PREDICTOR = "default"
PROTOCOL = "v2"


def path_prefix(name: str, namespace: str) -> str:
    """The prefix the operator's VirtualService routes (and strips) for a SeldonDeployment."""
    return f"/seldon/{namespace}/{name}"


def container_arguments(model_name: str) -> list[str]:
    """KServe's sklearn server as the operator runs it: the graph node's name, /mnt/models, port 9000."""
    return [*runtime.server_arguments(model_name, runtime.MODEL_MOUNT_PATH, HTTP_PORT), f"--grpc_port={GRPC_PORT}"]


CANARY_PREDICTOR = "canary"


def seldon_deployment(
    settings: ModelSettings,
    storage_uri: str,
    service_account: str,
    env_secret: str | None,
    app_name: str = "mnist",
    *,
    canary: tuple[str, int] | None = None,
) -> dict:
    """The SeldonDeployment: one predictor, one model node, KServe's sklearn server, small resources;
    its objects carry app.kubernetes.io/name `app_name` (the sample's, or the model's own name).

    `canary` (its storage URI, its share of requests): a second predictor beside the first, the
    operator's VirtualService splitting requests between them by their `traffic` (at v1.17.1:
    weighted routes of one path, createIstioResources; the traffic of several predictors must
    add up to 100)."""
    model = settings
    predictors = [_predictor(PREDICTOR, model, storage_uri, service_account, env_secret)]
    if canary is not None:
        predictors[0]["traffic"] = 100 - canary[1]
        predictors.append({**_predictor(CANARY_PREDICTOR, model, canary[0], service_account, env_secret), "traffic": canary[1]})
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": {
            "name": model.name,
            "namespace": model.namespace,
            "labels": standard_labels(app_name),
            # The operator reports `Available` once every deployment of the graph is ready.
            "annotations": {"pulumi.com/waitFor": "jsonpath={.status.state}=Available"},
        },
        "spec": {"protocol": PROTOCOL, "predictors": predictors},
    }


def _predictor(name: str, model: ModelSettings, storage_uri: str, service_account: str, env_secret: str | None) -> dict:
    """One predictor: the model node and its server's pod."""
    graph: dict = {
        "name": model.name,
        "type": "MODEL",
        "implementation": versions.SELDON_SERVER_IMPLEMENTATION,
        "modelUri": storage_uri,
    }
    if env_secret:
        graph["envSecretRefName"] = env_secret
    component: dict = {
        "spec": {
            "serviceAccountName": service_account,
            "containers": [
                {
                    "name": model.name,
                    "image": versions.SKLEARN_SERVER.ref,
                    "args": container_arguments(model.name),
                    "resources": {
                        "requests": {"cpu": model.cpu_request, "memory": model.memory_request},
                        "limits": {"cpu": model.cpu_limit, "memory": model.memory_limit},
                    },
                    "securityContext": runtime.container_security_context(runtime.RUNTIME_NAME),
                    "volumeMounts": [runtime.SCRATCH_MOUNT],
                }
            ],
            "securityContext": runtime.pod_security_context(runtime.RUNTIME_NAME),
            # The operator's executor, the server and the storage initializer call no API server.
            "automountServiceAccountToken": False,
            "volumes": [runtime.SCRATCH_VOLUME],
        }
    }
    if model.max_replicas > model.min_replicas:
        component["hpaSpec"] = {
            "minReplicas": model.min_replicas,
            "maxReplicas": model.max_replicas,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}
            ],
        }
    return {"name": name, "replicas": model.min_replicas, "graph": graph, "componentSpecs": [component]}
