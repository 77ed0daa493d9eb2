"""The Kubernetes objects a program run authors, as manifests: what servebox writes itself (not what
a Helm chart or an operator renders), for the audits that read manifests (tests/unit/test_checkov.py)."""

from __future__ import annotations

from typing import Any

# Helm releases carry the charts' objects, which their projects own. Custom resources stay: an audit
# without their kinds passes them by, and their CRDs check them elsewhere (tests/k8s_validation.py).
NOT_AUTHORED = ("kubernetes:helm.sh/",)


def _integers(value: Any) -> Any:
    """Whole numbers as ints: the engine's wire format (protobuf Struct) carries every number as a
    double, and the Kubernetes provider sends the API the integers its schema says they are."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integers(item) for item in value]
    return value


def authored_manifests(run: Any) -> dict[str, dict[str, Any]]:
    """Manifest by resource name, for every Kubernetes object the run registers itself."""
    manifests = {}
    for resource in run.resources.values():
        if not resource.custom or not resource.type.startswith("kubernetes:") or resource.type.startswith(NOT_AUTHORED):
            continue
        _, group_version, kind = resource.type.split(":")
        group, version = group_version.rsplit("/", 1)
        body = {key: value for key, value in resource.inputs.items() if key not in ("apiVersion", "kind")}
        manifests[resource.name] = {
            "apiVersion": version if group == "core" else group_version,
            "kind": kind,
            **_integers(body),
        }
    return manifests
