"""scripts/bench_status.py measures what `servebox status` asks of the cluster: one list per object
kind and namespace whatever the number of models (its time is printed, never asserted)."""

from __future__ import annotations

import importlib.util

from tests.harness import REPO

_SPEC = importlib.util.spec_from_file_location("bench_status", REPO / "scripts" / "bench_status.py")
assert _SPEC and _SPEC.loader
bench_status = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench_status)


def test_ten_models_take_one_list_per_kind_and_namespace_and_metrics_one_request_per_ready_pod() -> None:
    plain, with_metrics = (bench_status.measure(10, 1, metrics) for metrics in (False, True))
    assert plain["requests_by_kind_and_namespace"] == {
        "deployments in cert-manager": 1, "deployments in istio-system": 1, "deployments in knative-serving": 1,
        "deployments in kserve": 1, "inferenceservices in models": 1, "pods in models": 1,
    }
    assert plain["at_most_one_list_per_kind_and_namespace"] and with_metrics["at_most_one_list_per_kind_and_namespace"]
    assert with_metrics["requests_by_kind_and_namespace"]["pods/proxy in models"] == 9  # the 9 ready models' pods
