"""`servebox status STACK` reads the models' state through the real Kubernetes Python client from a
local stand-in of the API server, which answers the two lists the command makes (the models'
custom objects and the pods of their namespace) with objects in the pinned versions' shapes
(tests/unit/test_diagnosis.py says whose). What this cannot prove: a real API server's
authentication and its paging (the lists here fit one page)."""

from __future__ import annotations

import datetime
import json
import urllib.parse
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
api_proxy: list = []
"""What the stand-in's pod proxy answers with: a function giving a model server's /metrics text."""
churn_isvc: list = []
"""What the stand-in answers as churn's InferenceService instead of a plain ready one (the last)."""
churn_pods: list = []
"""What the stand-in answers as churn's pods instead of READY_POD (the last list)."""
BROKEN_POD = _pod(init=[_initializer({"terminated": {"reason": "Error", "exitCode": 1, "message":
    "RuntimeError: Failed to fetch model. No model found in s3://servebox-kind-models/mnist/abc."}})])


def _isvc(name: str, ready: bool) -> dict:
    condition = {"type": "Ready", "status": "True" if ready else "False", "reason": "" if ready else "RevisionMissing"}
    return {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": {"name": name, "namespace": "models"},
            "spec": {"predictor": {"model": {"runtime": "kserve-sklearnserver", "modelFormat": {"name": "sklearn"}}}},
            "status": {"conditions": [condition]}}


def _deployments(*available: tuple[str, int]) -> dict:
    """A DeploymentList (apps/v1): each of one replica, with `available` of them available."""
    return {"apiVersion": "apps/v1", "kind": "DeploymentList", "metadata": {}, "items": [
        {"metadata": {"name": name}, "spec": {"replicas": 1}, "status": {"availableReplicas": count} if count else {}}
        for name, count in available
    ]}


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
        "/apis/apps/v1/namespaces/cert-manager/deployments": _deployments(("cert-manager", 1), ("cert-manager-webhook", 1)),
        "/apis/apps/v1/namespaces/istio-system/deployments": _deployments(("istiod", 1), ("istio-ingressgateway", 0)),
        "/apis/apps/v1/namespaces/kserve/deployments": _deployments(("kserve-controller-manager", 1)),
    }

    def respond(method: str, path: str, headers, body: bytes) -> tuple[int, bytes]:
        path, _, query = path.partition("?")
        path = urllib.parse.unquote(path)
        if path.endswith(":8080/proxy/metrics"):  # the pod proxy, to the model server's own /metrics
            asked.append(path)
            return 200, api_proxy[-1]().encode()
        asked.append(path + (f"?{query}" if "labelSelector" in query or path.endswith("/log") else ""))
        if path.endswith("/log") and path.startswith("/api/v1/namespaces/models/"):  # which container, how many lines
            pod = path.split("/")[-2]
            return 200, f"{query}\nline one of {pod}\nline two of {pod}".encode()
        if path.endswith("/pods") and churn_pods:
            pods = answers[path]
            return 200, json.dumps({**pods, "items": [*churn_pods[-1], *pods["items"][1:]]}).encode()
        if path.endswith("/inferenceservices") and churn_isvc:
            models = answers[path]
            return 200, json.dumps({**models, "items": [churn_isvc[-1], *models["items"][1:]]}).encode()
        if path.endswith("/deployments") and path not in answers:  # a namespace the cluster lacks: an empty list
            return 200, json.dumps(_deployments()).encode()
        if "labelSelector=" in query:
            wanted = urllib.parse.unquote(query.split("labelSelector=", 1)[1].split("&", 1)[0]).split("=", 1)
            items = [p for p in answers[path]["items"] if p["metadata"]["labels"].get(wanted[0]) == wanted[1]]
            return 200, json.dumps({**answers[path], "items": items}).encode()
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


# A canary as KServe v0.20.0 reports it: status.components.predictor.traffic is Knative's
# TrafficTarget list (serving/pkg/apis/serving/v1 traffic_types.go: tag, revisionName,
# latestRevision, percent, url) copied by PropagateStatus; `prev` always tagged by ksvc_reconciler.go.
CANARY_ISVC = {
    "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
    "metadata": {"name": "churn", "namespace": "models", "annotations": {"serving.kserve.io/enable-tag-routing": "true"}},
    "spec": {"predictor": {"minReplicas": 1, "maxReplicas": 3, "canaryTrafficPercent": 10,
                           "model": {"runtime": "kserve-sklearnserver", "modelFormat": {"name": "sklearn"}}}},
    "status": {
        "url": "http://churn.models.127.0.0.1.sslip.io",
        "conditions": [
            {"type": "PredictorReady", "status": "True", "lastTransitionTime": "2026-12-03T10:00:00Z"},
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-03T11:58:00Z"},
        ],
        "components": {"predictor": {
            "latestCreatedRevision": "churn-predictor-00002", "latestReadyRevision": "churn-predictor-00002",
            "latestRolledoutRevision": "churn-predictor-00001",
            "traffic": [
                {"tag": "latest", "revisionName": "churn-predictor-00002", "latestRevision": True, "percent": 10,
                 "url": "http://latest-churn-predictor.models.127.0.0.1.sslip.io"},
                {"tag": "prev", "revisionName": "churn-predictor-00001", "latestRevision": False, "percent": 90,
                 "url": "http://prev-churn-predictor.models.127.0.0.1.sslip.io"},
            ],
        }},
    },
}


def test_a_canary_shows_both_revisions_with_their_share_the_image_scale_and_age() -> None:
    pod = {**READY_POD, "metadata": {**READY_POD["metadata"], "name": "churn-predictor-00002-deployment-x"}}
    [state] = model_status.states([CANARY_ISVC], [pod], model_status.KSERVE[3])
    assert (state.endpoint, state.image, state.scale, state.changed) == (
        "http://churn.models.127.0.0.1.sslip.io", IMAGE, "1-3", "2026-12-03T11:58:00Z"
    )
    assert state.traffic == (
        model_status.Traffic("churn-predictor-00002", 10, "latest"), model_status.Traffic("churn-predictor-00001", 90, "prev")
    )
    now = datetime.datetime(2026, 12, 3, 12, 0, 30, tzinfo=datetime.UTC)
    table = model_status.render([state], as_json=False, now=now).splitlines()
    assert table[1].split()[:6] == ["churn", "ready", "1/1", "1-3", "kserve-sklearnserver", "2m"]
    assert table[2:] == [
        f"  churn: http://churn.models.127.0.0.1.sslip.io  image {IMAGE}",
        "    traffic: 10% churn-predictor-00002 (latest), 90% churn-predictor-00001 (prev)",
    ]


def test_a_seldon_canary_is_two_predictors_and_their_traffic() -> None:
    sdep = {"metadata": {"name": "churn"}, "spec": {"predictors": [
        {"name": "default", "replicas": 1, "traffic": 90}, {"name": "canary", "replicas": 1, "traffic": 10}]},
        "status": {"state": "Available", "address": {"url": "http://churn-default.models.svc.cluster.local:8000/api/v1.0/predictions"}}}
    [state] = model_status.states([sdep], [], model_status.SELDON[3])
    assert state.traffic == (model_status.Traffic("default", 90), model_status.Traffic("canary", 10))
    assert (state.scale, state.ready) == ("1+1", True)


@pytest.mark.parametrize(("seconds", "shown"), [(5, "5s"), (61, "1m"), (7200, "2h"), (3 * 86400 + 5, "3d")])
def test_ages_are_short(seconds: int, shown: str) -> None:
    now = datetime.datetime(2026, 12, 3, tzinfo=datetime.UTC)
    then = (now - datetime.timedelta(seconds=seconds)).isoformat()
    assert model_status.age(then, now) == shown
    assert model_status.age("", now) == model_status.age("yesterday", now) == "-"


def test_a_cluster_that_does_not_answer_is_an_error(api) -> None:
    kubeconfig, _ = api
    with pytest.raises(Exception, match="404"):
        model_status.read_models(kubeconfig, "other", "kserve")


def _stack_on_the_stand_in(fake, kubeconfig: str) -> None:
    """A kind stack in the fake backend, up, whose kubeconfig output points at the stand-in API."""
    path = fake.state / ".pulumi" / "stacks" / "servebox" / "kind.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"config": {}, "tags": {}, "resources": 40, "urns": [],
                                "outputs": {"serving": "kserve", "kubeconfig": kubeconfig}, "secret_outputs": ["kubeconfig"]}))


def test_servebox_status_stack_prints_the_models_and_exits_11_when_one_is_not_ready(api, fake) -> None:
    _stack_on_the_stand_in(fake, api[0])
    done = fake.servebox("status", "kind")
    assert done.returncode == 11, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["model", "state", "pods", "scale", "runtime", "changed", "why"]
    assert lines[1].split()[:2] == ["churn", "ready"] and lines[2].split()[:3] == ["mnist", "NOT", "READY"]
    assert "not-a-real-token" not in done.stdout + done.stderr
    assert lines[-4:] == [
        "platform         deployments ready",
        "cert-manager     2/2",
        "istio-system     1/2  (not available: istio-ingressgateway)",
        "kserve           1/1",
    ]
    as_json = json.loads(fake.servebox("status", "kind", "--json").stdout)
    assert [(m["name"], m["ready"]) for m in as_json["models"]] == [("churn", True), ("mnist", False)]
    assert [(p["namespace"], p["ready"], p["total"]) for p in as_json["platform"]] == [
        ("cert-manager", 2, 2), ("istio-system", 1, 2), ("kserve", 1, 1)
    ]


def test_logs_of_a_model_whose_download_failed_are_the_storage_initializers(api) -> None:
    kubeconfig, asked = api
    pods = model_status.model_pods(kubeconfig, "models", "kserve", "mnist")
    assert [p["metadata"]["name"] for p in pods] == ["mnist-predictor-00001-deployment-7d9f"]
    assert model_status.default_container(pods, "kserve", "mnist") == "storage-initializer"
    lines = model_status.logs(kubeconfig, "models", pods, "storage-initializer", since_seconds=600, tail=50)
    assert lines[1:] == [
        "[mnist-predictor-00001-deployment-7d9f] line one of mnist-predictor-00001-deployment-7d9f",
        "[mnist-predictor-00001-deployment-7d9f] line two of mnist-predictor-00001-deployment-7d9f",
    ]
    query = urllib.parse.parse_qs(lines[0].split("] ", 1)[1])
    assert query == {"container": ["storage-initializer"], "sinceSeconds": ["600"], "tailLines": ["50"]}
    assert asked[0] == "/api/v1/namespaces/models/pods?labelSelector=serving.kserve.io%2Finferenceservice%3Dmnist"


def test_a_ready_models_logs_are_its_servers(api) -> None:
    kubeconfig, _ = api
    pods = model_status.model_pods(kubeconfig, "models", "kserve", "churn")
    assert model_status.default_container(pods, "kserve", "churn") == "kserve-container"
    assert model_status.default_container(pods, "seldon", "churn") == "churn"


def test_servebox_logs_prints_every_pods_lines(api, fake) -> None:
    _stack_on_the_stand_in(fake, api[0])
    done = fake.servebox("logs", "kind", "mnist", "--tail", "20")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "# mnist: container storage-initializer, 1 pod(s)"
    assert "[mnist-predictor-00001-deployment-7d9f] line two of mnist-predictor-00001-deployment-7d9f" in done.stdout
    missing = fake.servebox("logs", "kind", "fraud")
    assert missing.returncode == 2 and "has no pods of model 'fraud' in namespace models" in missing.stderr


def test_the_smoke_test_says_why_when_the_model_never_serves(api, monkeypatch, capsys) -> None:
    from servebox import smoke

    kubeconfig, _ = api
    monkeypatch.setenv(smoke.DIAGNOSIS_KUBECONFIG_ENV, kubeconfig)
    closed = "http://127.0.0.1:9/v2/models/mnist/infer"
    code = smoke.main(["--url", closed, "--count", "1", "--timeout", "2", "--max-attempts", "2", "--diagnose", "models/mnist"])
    assert code == 11
    err = capsys.readouterr().err
    assert "why: the model download failed: nothing is at the model's URI (RuntimeError: Failed to fetch model." in err
    assert "Fix: check models[].uri" in err and "not-a-real-token" not in err


def test_a_diagnosis_that_cannot_be_read_does_not_hide_the_failure(monkeypatch, capsys) -> None:
    from servebox import smoke

    kubeconfig = yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                                 "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
                                 "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}], "users": [{"name": "u", "user": {}}]})
    monkeypatch.setenv(smoke.DIAGNOSIS_KUBECONFIG_ENV, kubeconfig)
    code = smoke.main(["--url", "http://127.0.0.1:9/v2/models/mnist/infer", "--count", "1", "--timeout", "2",
                       "--max-attempts", "2", "--diagnose", "models/mnist"])
    err = capsys.readouterr().err
    assert code == 11 and "smoke test FAILED" in err and "why: the cluster could not be asked" in err


# --- latency from the model servers' own metrics -----------------------------------------------


def test_quantiles_are_interpolated_inside_their_bucket_as_prometheus_does() -> None:
    buckets = {0.005: 2.0, 0.01: 4.0, 0.025: 8.0, float("inf"): 8.0}
    assert model_status.quantile_ms(buckets, 0.5) == 10.0
    assert model_status.quantile_ms(buckets, 0.95) == 23.5
    assert model_status.quantile_ms({0.005: 0.0, float("inf"): 3.0}, 0.99) == 5.0  # past the last bound: that bound
    assert model_status.quantile_ms({float("inf"): 0.0}, 0.5) is None


def test_predict_latency_is_read_from_a_real_kserve_servers_metrics_through_the_pod_proxy(server, api) -> None:
    """The stand-in API proxies a pod's :8080/metrics to KServe's real server on 127.0.0.1."""
    import urllib.request

    from servebox import mnist_client

    def metrics_text() -> str:
        with urllib.request.urlopen(f"{server.base_url}/metrics", timeout=10) as answer:
            return answer.read().decode()

    before = model_status.histogram_buckets(metrics_text(), "request_predict_seconds", "mnist").get(float("inf"), 0.0)
    endpoint = mnist_client.Endpoint(url=server.infer_url)
    for sample in mnist_client.load_samples(5):
        mnist_client.predict(endpoint, [sample.inputs()])
    after = model_status.histogram_buckets(metrics_text(), "request_predict_seconds", "mnist")
    assert after[float("inf")] == before + 5

    kubeconfig, asked = api
    api_proxy.append(metrics_text)
    pods = [{"metadata": {"name": "mnist-predictor-1"}}, {"metadata": {"name": "mnist-predictor-2"}}]
    latency = model_status.predict_latency(kubeconfig, "models", pods, "mnist")
    assert latency.requests == 2 * int(after[float("inf")])  # two replicas, here the same server twice
    assert latency.p50_ms is not None and 0 < latency.p50_ms <= latency.p95_ms <= latency.p99_ms
    assert asked[-2:] == [
        "/api/v1/namespaces/models/pods/mnist-predictor-1:8080/proxy/metrics",
        "/api/v1/namespaces/models/pods/mnist-predictor-2:8080/proxy/metrics",
    ]


def test_servebox_status_metrics_prints_each_ready_models_latency(api, fake) -> None:
    text = (
        "# HELP request_predict_seconds predict request latency\n# TYPE request_predict_seconds histogram\n"
        'request_predict_seconds_bucket{le="0.005",model_name="churn"} 2.0\n'
        'request_predict_seconds_bucket{le="0.01",model_name="churn"} 4.0\n'
        'request_predict_seconds_bucket{le="0.025",model_name="churn"} 8.0\n'
        'request_predict_seconds_bucket{le="+Inf",model_name="churn"} 8.0\n'
        'request_predict_seconds_count{model_name="churn"} 8.0\nrequest_predict_seconds_sum{model_name="churn"} 0.1\n'
    )
    api_proxy.append(lambda: text)
    _stack_on_the_stand_in(fake, api[0])
    done = fake.servebox("status", "kind", "--metrics")
    assert done.returncode == 11, done.stderr  # mnist is still not ready
    lines = done.stdout.splitlines()
    assert lines[-3].split() == ["latency", "requests", "p50", "ms", "p95", "ms", "p99", "ms"]
    assert lines[-2].split() == ["churn", "8", "10.0", "23.5", "24.7"]
    assert lines[-1].split() == ["mnist", "not", "ready"]


def test_following_prints_every_pods_lines_as_they_come(api) -> None:
    kubeconfig, asked = api
    pods = [{"metadata": {"name": "mnist-predictor-1"}}, {"metadata": {"name": "mnist-predictor-2"}}]
    printed: list[str] = []
    model_status.follow(kubeconfig, "models", pods, "kserve-container", printed.append, since_seconds=None, tail=5)
    for pod in ("mnist-predictor-1", "mnist-predictor-2"):
        mine = [line for line in printed if line.startswith(f"[{pod}] ")]
        assert mine[1:] == [f"[{pod}] line one of {pod}", f"[{pod}] line two of {pod}"]
        assert urllib.parse.parse_qs(mine[0].split("] ", 1)[1]) == {
            "container": ["kserve-container"], "follow": ["True"], "tailLines": ["5"]  # the client's spelling; ParseBool takes it
        }
    assert len(printed) == 6


def test_a_stream_that_fails_is_raised_in_the_caller(api) -> None:
    kubeconfig, _ = api
    with pytest.raises(Exception, match="404"):
        model_status.follow(kubeconfig, "other", [{"metadata": {"name": "x"}}], "c", print, since_seconds=None, tail=1)


def test_a_canarys_versions_have_their_latency_apart(api, fake) -> None:
    """Knative labels each pod with its revision: --metrics reads each version's pods on their own."""
    def pod(revision: str) -> dict:
        labels = {**READY_POD["metadata"]["labels"], "serving.knative.dev/revision": revision}
        return {**READY_POD, "metadata": {"name": f"{revision}-deployment-x", "labels": labels}}

    served = {"churn-predictor-00001-deployment-x": 40.0, "churn-predictor-00002-deployment-x": 4.0}
    # Asked in the traffic's order: the latest revision (10 %) first, then the one rolled out last.
    proxied = iter(["churn-predictor-00002-deployment-x", "churn-predictor-00001-deployment-x"])

    def metrics() -> str:  # each pod's own count
        count = served[next(proxied)]
        return ("# TYPE request_predict_seconds histogram\n"
                f'request_predict_seconds_bucket{{le="0.01",model_name="churn"}} {count}\n'
                f'request_predict_seconds_bucket{{le="+Inf",model_name="churn"}} {count}\n')

    api_proxy.append(metrics)
    churn_isvc.append(CANARY_ISVC)
    churn_pods.append([pod("churn-predictor-00001"), pod("churn-predictor-00002")])
    _stack_on_the_stand_in(fake, api[0])
    try:
        done = fake.servebox("status", "kind", "--metrics")
    finally:
        churn_isvc.clear()
        churn_pods.clear()
    rows = {line.split()[0]: line.split()[1] for line in done.stdout.splitlines()[-3:]}
    assert rows == {"churn@churn-predictor-00002": "4", "churn@churn-predictor-00001": "40", "mnist": "not"}
