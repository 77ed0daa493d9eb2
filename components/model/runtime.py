"""The serving runtime of the sample model: MLServer's sklearn runtime at a pinned image.

servebox authors its own ServingRuntime instead of using the chart's `kserve-mlserver`, whose image
(seldonio/mlserver:1.5.0 in kserve-runtime-configs v0.20.0) ships another scikit-learn than the one
the artifact is trained with; pickles do not load across scikit-learn versions. The environment
below is the one contract between this runtime and the offline tests, which start the same MLServer
release on 127.0.0.1 with it.
https://kserve.github.io/website/docs/model-serving/predictive-inference/frameworks/sklearn
"""

from __future__ import annotations

from components import versions
from components.naming import standard_labels

RUNTIME_NAME = "servebox-mlserver-sklearn"
HTTP_PORT = 8080
MODEL_MOUNT_PATH = "/mnt/models"  # where KServe's storage initializer puts the storageUri

# What MLServer reads at start-up (mlserver.settings, MLSERVER_ / MLSERVER_MODEL_ prefixes).
MLSERVER_ENV = {
    "MLSERVER_MODEL_IMPLEMENTATION": "mlserver_sklearn.SKLearnModel",
    "MLSERVER_HTTP_PORT": str(HTTP_PORT),
    "MLSERVER_GRPC_PORT": "9000",
    # One process: the default forks a worker pool, which doubles the memory of a tiny model.
    "MLSERVER_PARALLEL_WORKERS": "0",
    "MLSERVER_LOAD_MODELS_AT_STARTUP": "true",
}


def serving_runtime(namespace: str, cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str) -> dict:
    """The namespaced ServingRuntime the InferenceService names."""
    return {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "ServingRuntime",
        "metadata": {
            "name": RUNTIME_NAME,
            "namespace": namespace,
            "labels": standard_labels("mlserver", versions.MLSERVER_VERSION),
            # KServe applies its MLServer defaults by this annotation: MLSERVER_MODEL_NAME (the
            # InferenceService name) and MLSERVER_MODEL_URI (the mount path).
            "annotations": {"serving.kserve.io/server-type": "mlserver"},
        },
        "spec": {
            "supportedModelFormats": [{"name": "sklearn", "version": "1", "autoSelect": False}],
            "protocolVersions": ["v2"],
            "containers": [
                {
                    "name": "kserve-container",
                    "image": versions.MODEL_RUNTIME.ref,
                    "env": [
                        {"name": key, "value": value}
                        for key, value in {
                            **MLSERVER_ENV,
                            # KServe fills {{.Name}} with the InferenceService name.
                            "MLSERVER_MODEL_NAME": "{{.Name}}",
                            "MLSERVER_MODEL_URI": MODEL_MOUNT_PATH,
                        }.items()
                    ],
                    "ports": [{"containerPort": HTTP_PORT, "protocol": "TCP"}],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "privileged": False,
                        "runAsNonRoot": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                    "resources": {
                        "requests": {"cpu": cpu_request, "memory": memory_request},
                        "limits": {"cpu": cpu_limit, "memory": memory_limit},
                    },
                }
            ],
        },
    }
