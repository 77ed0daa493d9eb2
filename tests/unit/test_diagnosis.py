"""Why a model is not ready, one test per cause, on objects in the shapes the pinned versions write:
core/v1 Pod status, and KServe v0.20.0's InferenceService status (inference_service_status.go:
the Ready condition; modelStatus.lastFailureInfo with its FailureReason values). The storage
initializer's termination message is its last log lines (terminationMessagePolicy
FallbackToLogsOnError, pkg/utils/storage.go)."""

from __future__ import annotations

import pytest

from servebox.diagnosis import Diagnosis, diagnose

NOT_READY = {"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "RevisionMissing",
                                         "message": "Revision \"mnist-predictor-00001\" failed with message: ."}]}}
IMAGE = "docker.io/kserve/sklearnserver:v0.20.0"


def _pod(init: list | None = None, containers: list | None = None, conditions: list | None = None, limit: str = "1Gi") -> dict:
    return {
        "metadata": {"name": "mnist-predictor-00001-deployment-7d9f", "labels": {"serving.kserve.io/inferenceservice": "mnist"}},
        "spec": {"containers": [{"name": "kserve-container", "image": IMAGE, "resources": {"limits": {"memory": limit}}}]},
        "status": {"phase": "Pending", "conditions": conditions or [], "initContainerStatuses": init or [], "containerStatuses": containers or []},
    }


def _initializer(state: dict, last: dict | None = None) -> dict:
    return {"name": "storage-initializer", "image": "kserve/storage-initializer:v0.20.0", "ready": False, "restartCount": 3,
            "state": state, "lastState": last or {}}


def _download_failed(message: str) -> list[dict]:
    """A predictor pod whose storage initializer ended with `message` (its last log lines)."""
    return [_pod(init=[_initializer({"terminated": {"reason": "Error", "exitCode": 1, "message": message}})])]


def _server_crashing(last_end: dict, limit: str = "1Gi") -> list[dict]:
    """A predictor pod whose server is in CrashLoopBackOff, its last run having ended as `last_end`."""
    return [_pod(containers=[_server({"waiting": {"reason": "CrashLoopBackOff"}}, {"terminated": last_end})], limit=limit)]


def _server(state: dict, last: dict | None = None) -> dict:
    return {"name": "kserve-container", "image": IMAGE, "ready": False, "restartCount": 4, "state": state, "lastState": last or {}}


CAUSES = [
    pytest.param(
        [_pod(containers=[_server({"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}})])],
        f"the image {IMAGE} cannot be pulled (ImagePullBackOff)",
        "check the image exists for the node's architecture",
        id="image-pull",
    ),
    pytest.param(
        _download_failed(
            "Traceback (most recent call last):\nbotocore.exceptions.ClientError: An error occurred (403) when calling the "
            "ListObjectsV2 operation: Forbidden"
        ),
        "the model download failed: the predictor's identity may not read the bucket (botocore.exceptions.ClientError: "
        "An error occurred (403) when calling the ListObjectsV2 operation: Forbidden)",
        "check the store's read grant",
        id="download-forbidden",
    ),
    pytest.param(
        [_pod(init=[_initializer({"waiting": {"reason": "CrashLoopBackOff"}}, {"terminated": {"reason": "Error", "exitCode": 1,
            "message": "RuntimeError: Failed to fetch model. No model found in s3://servebox-kind-models/mnist/abc."}})])],
        "the model download failed: nothing is at the model's URI (RuntimeError: Failed to fetch model. No model found in "
        "s3://servebox-kind-models/mnist/abc.)",
        "check models[].uri",
        id="download-missing-object",
    ),
    pytest.param(
        _download_failed(
            'botocore.exceptions.EndpointConnectionError: Could not connect to the endpoint URL: "http://minio.model-store:9000/"'
        ),
        "the model download failed: the predictor cannot reach the store (botocore.exceptions.EndpointConnectionError: "
        "Could not connect to the endpoint URL: \"http://minio.model-store:9000/\")",
        "a NetworkPolicy allows the download",
        id="download-unreachable",
    ),
    pytest.param(
        _server_crashing({"reason": "OOMKilled", "exitCode": 137}, limit="512Mi"),
        "kserve-container ran out of memory (limit 512Mi)",
        "raise the model's memoryLimit above 512Mi",
        id="oom-killed",
    ),
    pytest.param(
        _server_crashing({"reason": "Error", "exitCode": 1, "message":
                          "INFO starting\nValueError: More than one model file is detected, Only one is allowed within model_dir"}),
        "kserve-container keeps crashing: ValueError: More than one model file is detected, Only one is allowed within model_dir",
        "--previous",
        id="crash-loop",
    ),
    pytest.param(
        [_pod(conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                           "message": "0/1 nodes are available: 1 Insufficient memory."}])],
        "no node can run the predictor: 0/1 nodes are available: 1 Insufficient memory.",
        "lower the model's cpuRequest/memoryRequest",
        id="pending-unschedulable",
    ),
]


@pytest.mark.parametrize(("pods", "reason", "fix"), CAUSES)
def test_each_cause_is_one_line_with_its_fix(pods: list, reason: str, fix: str) -> None:
    verdict = diagnose(NOT_READY, pods)
    assert (verdict.ready, verdict.reason) == (False, reason)
    assert fix in verdict.fix
    assert verdict.line() == f"{reason}. Fix: {verdict.fix}"


def test_no_runtime_for_the_format_is_said_from_the_failure_info() -> None:
    isvc = {"status": {**NOT_READY["status"], "modelStatus": {"transitionStatus": "InvalidSpec", "lastFailureInfo": {
        "reason": "NoSupportingRuntime", "message": "No runtime found to support specified framework/version"}}}}
    verdict = diagnose(isvc, [])
    assert verdict.reason == (
        "no serving runtime takes this model (NoSupportingRuntime: No runtime found to support specified framework/version)"
    )


def test_without_pods_the_condition_speaks() -> None:
    assert diagnose(NOT_READY, []) == Diagnosis(
        False,
        'not ready: RevisionMissing: Revision "mnist-predictor-00001" failed with message: .',
        "wait for it, or read the InferenceService's events (kubectl describe isvc)",
    )


def test_ready_is_ready_for_kserve_and_seldon() -> None:
    assert diagnose({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}, []).ready
    assert diagnose({"status": {"state": "Available"}}, []).ready
    assert diagnose({}, []).reason == "not ready yet: no status"
