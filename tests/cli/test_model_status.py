"""`servebox status STACK` reads the models' state through the real Kubernetes Python client from a
local stand-in of the API server, which answers the two lists the command makes (the models'
custom objects and the pods of their namespace) with objects in the pinned versions' shapes
(tests/unit/test_diagnosis.py says whose). What this cannot prove: a real API server's
authentication and its paging (the lists here fit one page)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml

from servebox import model_status
from tests import local_http
from tests.unit.test_diagnosis import IMAGE, _initializer, _pod

READY_POD = {
    "metadata": {"name": "churn-predictor-abc", "labels": {"serving.kserve.io/inferenceservice": "churn"}},
    "spec": {"containers": [{"name": "kserve-container", "image": IMAGE}]},
    "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
}
BROKEN_POD = _pod(init=[_initializer({"terminated": {"reason": "Error", "exitCode": 1, "message":
    "RuntimeError: Failed to fetch model. No model found in s3://servebox-kind-models/mnist/abc."}})])


def _isvc(name: str, ready: bool) -> dict:
    condition = {"type": "Ready", "status": "True" if ready else "False", "reason": "" if ready else "RevisionMissing"}
    return {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": {"name": name, "namespace": "models"},
            "spec": {"predictor": {"model": {"runtime": "kserve-sklearnserver", "modelFormat": {"name": "sklearn"}}}},
            "status": {"conditions": [condition]}}


@pytest.fixture
def api() -> Iterator[tuple[str, list[str]]]:
    """The stand-in API server: its kubeconfig, and the paths it was asked for."""
    asked: list[str] = []
    answers = {
        "/apis/serving.kserve.io/v1beta1/namespaces/models/inferenceservices": {
            "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceServiceList", "metadata": {},
            "items": [_isvc("churn", True), _isvc("mnist", False)],
        },
        "/api/v1/namespaces/models/pods": {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [READY_POD, BROKEN_POD]},
    }

    def respond(method: str, path: str, headers, body: bytes) -> tuple[int, bytes]:
        path = path.split("?", 1)[0]
        asked.append(path)
        return (200, json.dumps(answers[path]).encode()) if path in answers else (404, b'{"kind": "Status", "code": 404}')

    with local_http.serving(respond) as url:
        kubeconfig = yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "c", "cluster": {"server": url}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
        })
        yield kubeconfig, asked


def test_each_model_with_its_state_and_reason_in_two_requests(api) -> None:
    kubeconfig, asked = api
    models = model_status.read_models(kubeconfig, "models", "kserve")
    assert asked == ["/apis/serving.kserve.io/v1beta1/namespaces/models/inferenceservices", "/api/v1/namespaces/models/pods"]
    assert [(m.name, m.ready, m.replicas, m.runtime) for m in models] == [
        ("churn", True, "1/1", "kserve-sklearnserver"),
        ("mnist", False, "0/1", "kserve-sklearnserver"),
    ]
    assert models[1].reason == (
        "the model download failed: nothing is at the model's URI (RuntimeError: Failed to fetch model. No model found "
        "in s3://servebox-kind-models/mnist/abc.)"
    )
    table = model_status.render(models, as_json=False).splitlines()
    assert table[1].split()[:3] == ["churn", "ready", "1/1"]
    assert table[2].startswith("mnist            NOT READY 0/1") and "Fix: check models[].uri" in table[2]
    assert "not-a-real-token" not in model_status.render(models, as_json=True)


def test_a_cluster_that_does_not_answer_is_an_error(api) -> None:
    kubeconfig, _ = api
    with pytest.raises(Exception, match="404"):
        model_status.read_models(kubeconfig, "other", "kserve")


def test_servebox_status_stack_prints_the_models_and_exits_11_when_one_is_not_ready(api, fake) -> None:
    kubeconfig, _ = api
    path = fake.state / ".pulumi" / "stacks" / "servebox" / "kind.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"config": {}, "tags": {}, "resources": 40, "urns": [],
                                "outputs": {"serving": "kserve", "kubeconfig": kubeconfig}, "secret_outputs": ["kubeconfig"]}))
    done = fake.servebox("status", "kind")
    assert done.returncode == 11, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["model", "state", "pods", "runtime", "why"]
    assert lines[1].split()[:2] == ["churn", "ready"] and lines[2].split()[:3] == ["mnist", "NOT", "READY"]
    assert "not-a-real-token" not in done.stdout + done.stderr
    as_json = json.loads(fake.servebox("status", "kind", "--json").stdout)
    assert [(m["name"], m["ready"]) for m in as_json] == [("churn", True), ("mnist", False)]
