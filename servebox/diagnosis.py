"""Why a served model is not ready, in one line with its fix, from the objects the cluster holds.

Reads the shapes the pinned versions write: a Pod's `status` (core/v1: `initContainerStatuses`,
`containerStatuses` with `state` and `lastState`, the `PodScheduled` condition), and an
InferenceService's (KServe v0.20.0 `pkg/apis/serving/v1beta1/inference_service_status.go`: the
`Ready` condition, `modelStatus.lastFailureInfo`). The storage initializer ends with
`terminationMessagePolicy: FallbackToLogsOnError` (KServe `pkg/utils/storage.go`), so its
termination message is its last log lines: the storage library's own error, read from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

STORAGE_INITIALIZER = "storage-initializer"
SERVER = "kserve-container"
_PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName")
# What the storage library's last lines say, and what it means (kserve-storage at v0.20.0 raises
# botocore's and google-cloud-storage's errors as they come, and RuntimeError for an empty prefix).
_DOWNLOAD_CAUSES = (
    (("403", "AccessDenied", "Forbidden", "does not have storage.objects"), "the predictor's identity may not read the bucket",
     "check the store's read grant (docs/security.md: the VM's identity, Workload Identity or IRSA) and modelUriBuckets"),
    (("NoSuchKey", "NoSuchBucket", "404", "No model found", "No such object", "does not exist"), "nothing is at the model's URI",
     "check models[].uri (or run up again to upload the model)"),
    (("Could not connect", "Connection refused", "timed out", "EndpointConnectionError", "Name or service not known"),
     "the predictor cannot reach the store", "check the store is running and that a NetworkPolicy allows the download"),
)


@dataclass(frozen=True)
class Diagnosis:
    """A model's state: ready, or why not and what to do."""

    ready: bool
    reason: str = ""
    fix: str = ""

    def line(self) -> str:
        return "ready" if self.ready else f"{self.reason}. Fix: {self.fix}"


def _condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no message)"


def _statuses(pod: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    return list((pod.get("status") or {}).get(key) or [])


def _limit(pod: Mapping[str, Any], container: str) -> str:
    for spec in (pod.get("spec") or {}).get("containers") or []:
        if spec.get("name") == container:
            return str(((spec.get("resources") or {}).get("limits") or {}).get("memory") or "none")
    return "none"


def _pod_diagnosis(pod: Mapping[str, Any]) -> Diagnosis | None:
    scheduled = _condition(pod, "PodScheduled")
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        return Diagnosis(False, f"no node can run the predictor: {scheduled.get('message', '')}".strip(),
                         "lower the model's cpuRequest/memoryRequest, or give the cluster more room")
    for status in _statuses(pod, "initContainerStatuses") + _statuses(pod, "containerStatuses"):
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in _PULL_FAILURES:
            return Diagnosis(False, f"the image {status.get('image')} cannot be pulled ({waiting.get('reason')})",
                             "check the image exists for the node's architecture and that the node may pull it "
                             "(registry rate limits: docker login, or load the image)")
    for status in _statuses(pod, "initContainerStatuses"):
        if status.get("name") != STORAGE_INITIALIZER:
            continue
        state, last = status.get("state") or {}, status.get("lastState") or {}
        ended = state.get("terminated") if (state.get("terminated") or {}).get("reason") == "Error" else None
        if ended is None and (state.get("waiting") or {}).get("reason") == "CrashLoopBackOff":
            ended = last.get("terminated")
        if ended:
            message = ended.get("message") or ""
            for needles, cause, fix in _DOWNLOAD_CAUSES:
                if any(needle in message for needle in needles):
                    return Diagnosis(False, f"the model download failed: {cause} ({_last_line(message)})", fix)
            return Diagnosis(False, f"the model download failed: {_last_line(message)}",
                             "read the storage initializer's log (kubectl logs <pod> -c storage-initializer)")
    for status in _statuses(pod, "containerStatuses"):
        last = (status.get("lastState") or {}).get("terminated") or {}
        now = (status.get("state") or {}).get("terminated") or {}
        if "OOMKilled" in (last.get("reason"), now.get("reason")):
            limit = _limit(pod, str(status.get("name")))
            return Diagnosis(False, f"{status.get('name')} ran out of memory (limit {limit})",
                             f"raise the model's memoryLimit above {limit} (modelMemoryLimit, or models[].memoryLimit)")
        if (status.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff" or now.get("reason") == "Error":
            ended = now or last
            return Diagnosis(False, f"{status.get('name')} keeps crashing: {_last_line(ended.get('message', ''))}",
                             f"read its log (kubectl logs <pod> -c {status.get('name')} --previous)")
    return None


def diagnose(model: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> Diagnosis:
    """The model's state from its InferenceService (or SeldonDeployment) and its predictor pods."""
    ready = _condition(model, "Ready")
    state = str((model.get("status") or {}).get("state") or "")  # a SeldonDeployment's
    if ready.get("status") == "True" or state == "Available":
        return Diagnosis(True)
    for pod in pods:
        found = _pod_diagnosis(pod)
        if found:
            return found
    failure = ((model.get("status") or {}).get("modelStatus") or {}).get("lastFailureInfo") or {}
    if failure.get("reason") in ("NoSupportingRuntime", "RuntimeNotRecognized", "RuntimeDisabled"):
        return Diagnosis(False, f"no serving runtime takes this model ({failure['reason']}: {failure.get('message', '')})".strip(),
                         "check the model's format and protocol against docs/own-models.md")
    if ready:
        reason = ready.get("reason") or "NotReady"
        return Diagnosis(False, f"not ready: {reason}: {_last_line(ready.get('message', ''))}",
                         "wait for it, or read the InferenceService's events (kubectl describe isvc)")
    return Diagnosis(False, "not ready yet: no status", "wait for the controller to pick it up; if it never does, check the platform")
