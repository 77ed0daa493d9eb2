"""The sample MNIST model: what makes it the sample, over the serving every model shares (served.py).

It is served by KServe's own sklearn server (components/model/runtime.py), or with Seldon by a
SeldonDeployment on the same server image (components/model/seldon.py), from the artifact the
program trains (artifact.py). Last, a command sends held-out digits through the published endpoint
from where the user stands and fails the update when the answers are wrong.
"""

from __future__ import annotations

import shlex

from components.config import DeploymentMode, ModelSettings, SmokeTestSettings
from components.local import project_python
from components.model import runtime, served
from components.model.artifact import Artifact
from components.model.served import Endpoint, ModelSpec, Version, curl_command, endpoint, inference_path

__all__ = ["Endpoint", "curl_command", "endpoint", "inference_path", "inference_service", "sample_spec", "smoke_test_command"]



def sample_spec(settings: ModelSettings, artifact: Artifact) -> ModelSpec:
    """The sample as a model to serve: its one file, content-addressed by its training key."""
    directory = f"mnist/{artifact.key[:16]}"
    return ModelSpec(
        settings=settings,
        model_format=runtime.MODEL_FORMAT,
        runtime=runtime.RUNTIME_NAME,
        protocol=runtime.PROTOCOL,
        version=Version(files=((artifact.model_path, f"{directory}/model.joblib"),), directory_key=directory),
        component="mnist",
    )


def inference_service(settings: ModelSettings, mode: DeploymentMode, storage_uri: str, service_account: str) -> dict:
    """The sample's InferenceService: KServe's sklearn server named, V2, the store's directory."""
    spec = ModelSpec(settings, runtime.MODEL_FORMAT, runtime.RUNTIME_NAME, runtime.PROTOCOL, Version(), component="mnist")
    return served.inference_service(spec, mode, storage_uri, service_account)


def smoke_test_command(
    endpoint: Endpoint,
    model_name: str,
    smoke: SmokeTestSettings,
    timeout_seconds: int,
    protocol: str = runtime.PROTOCOL,
    *,
    diagnose: tuple[str, str] | None = None,
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
            endpoint.by_address(protocol, model_name),
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
            # (namespace, serving): where to ask the cluster why, should the model never serve.
            *(["--diagnose", f"{diagnose[0]}/{model_name}", "--serving", diagnose[1]] if diagnose else []),
        ]
    )


