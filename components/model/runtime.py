"""The serving runtime of the sample model: KServe's own scikit-learn server.

It is the `kserve-sklearnserver` ClusterServingRuntime that kserve-runtime-configs installs
(components/platform/kserve.py), named explicitly by the InferenceService: with
`protocolVersion: v2` and no runtime named, KServe 0.20 would pick `kserve-mlserver` instead.
servebox authors no ServingRuntime of its own. The image is multi-arch and serves KServe's V1 and
the Open Inference Protocol (V2) on one port.

What is here is what the cluster runs, as facts of the chart and the image at the pinned tag; the
offline tests start KServe's library on 127.0.0.1 with the same arguments (tests/model).
https://kserve.github.io/website/docs/model-serving/predictive-inference/frameworks/sklearn
"""

from __future__ import annotations

from components import versions

RUNTIME_NAME = versions.SKLEARN_SERVER_RUNTIME.name
MODEL_FORMAT = {"name": "sklearn", "version": "1"}
PROTOCOL = "v2"
"""The InferenceService's protocolVersion; the server answers V1 on the same port as well."""
PROTOCOLS = ("v1", "v2")
"""What the server answers: KServe's ModelServer registers both REST protocols for every model."""
HTTP_PORT = 8080
MODEL_MOUNT_PATH = "/mnt/models"
"""Where KServe's storage initializer puts the storageUri's files before the server starts."""
MODEL_EXTENSIONS = (".joblib", ".pkl", ".pickle")
"""The server loads exactly one file with one of these extensions from the model directory
(kserve/kserve python/sklearnserver/sklearnserver/model.py@v0.20.0)."""


def server_arguments(model_name: str, model_dir: str = MODEL_MOUNT_PATH, http_port: int = HTTP_PORT) -> list[str]:
    """The container's arguments, as the chart's ClusterServingRuntime gives them (KServe fills
    `{{.Name}}` with the InferenceService name): kserve-runtime-configs
    files/runtimes/clusterservingruntimes-patch.yaml@v0.20.0, `kserve-sklearnserver`."""
    return [f"--model_name={model_name}", f"--model_dir={model_dir}", f"--http_port={http_port}"]


# KServe's own Python servers (python/{sklearn,xgb,lgb}.Dockerfile@v0.20.0: `USER 1000`), and its
# storage initializer (the same), run as a non-root uid and write nothing but /tmp: they take the
# whole "restricted" profile but the uid, which stays the images' (the owner of their home).
NON_ROOT_RUNTIMES = frozenset({"kserve-sklearnserver", "kserve-xgbserver", "kserve-lgbserver"})
SCRATCH_VOLUME = {"name": "scratch", "emptyDir": {"sizeLimit": "256Mi"}}
SCRATCH_MOUNT = {"name": "scratch", "mountPath": "/tmp"}


def pod_security_context(runtime: str) -> dict:
    """The predictor pod's: the runtime's default seccomp profile, and non-root where the image is."""
    return {"seccompProfile": {"type": "RuntimeDefault"}, **({"runAsNonRoot": True} if runtime in NON_ROOT_RUNTIMES else {})}


def container_security_context(runtime: str) -> dict:
    """The model container's: no privilege, no capability, and a read-only root where the server
    writes only /tmp (the scratch volume). Other runtimes' images (TensorFlow Serving, Triton,
    TorchServe) run as root or write beside their binaries; they keep a writable root and their uid."""
    context: dict = {"allowPrivilegeEscalation": False, "privileged": False, "capabilities": {"drop": ["ALL"]}}
    if runtime in NON_ROOT_RUNTIMES:
        context.update(runAsNonRoot=True, readOnlyRootFilesystem=True)
    return context
