"""`servebox dashboard STACK`: the model page, built from the stand-in Kubernetes API of
tests/cli/test_model_status.py (a ready canary whose pods' /metrics are KServe's real sklearn
server's, through the pod proxy, and a model whose download failed), opened in headless Chromium
(Debian's): every model's state and fix, request, traffic, each version's latency chart and log lines are in the
DOM the browser built; a screenshot is kept in test-artifacts/dashboard.png. `--serve` is read
anew at every load. What this cannot prove: a real cluster's answers (see that module)."""

from __future__ import annotations

import json
import threading
import urllib.request
from html.parser import HTMLParser

from servebox import dashboard, mnist_client
from tests.cli import test_model_status as stand_in
from tests.cli.test_model_status import api  # noqa: F401  (the stand-in API server, a fixture)
from tests.cli.test_roster_page import ARTIFACTS, _chromium, chrome_run


class _Page(HTMLParser):
    """Per model section (data-model): its texts by class, the chart's bars, the traffic rows."""

    def __init__(self) -> None:
        super().__init__()
        self.models: dict[str, dict] = {}
        self.platform: list[str] = []
        self._model: str | None = None
        self._capture: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and found.get("data-model"):
            self._model = str(found["data-model"])
            self.models[self._model] = {"ready": found.get("data-ready"), "text": "", "bars": [], "traffic": [], "revisions": [], "latency": []}
        if tag == "rect" and self._model and "data-count" in found:
            self.models[self._model]["bars"].append((found["data-le"], float(str(found["data-count"]))))
        if tag == "tr" and self._model and found.get("data-revision"):
            self.models[self._model]["traffic"].append(found["data-revision"])
        if tag == "div" and self._model and found.get("data-revision"):
            self.models[self._model]["revisions"].append(found["data-revision"])
        if tag == "p" and self._model and found.get("class") == "latency":
            self.models[self._model]["latency"].append("")
            self._capture = "latency"
        if tag == "tr" and found.get("data-namespace"):
            self.platform.append(str(found["data-namespace"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._model = None
        if tag == "p":
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._model:
            self.models[self._model]["text"] += data
            if self._capture == "latency":
                self.models[self._model]["latency"][-1] += data


def _seed(fake, kubeconfig: str) -> None:
    stand_in._stack_on_the_stand_in(fake, kubeconfig)
    path = fake.state / ".pulumi" / "stacks" / "servebox" / "kind.json"
    stack = json.loads(path.read_text())
    stack["outputs"]["models"] = {"churn": {"curl": 'curl -sS -H "x-api-key: $SERVEBOX_API_KEY" -H \'Host: churn.models\' '
                                                    "http://127.0.0.1:8080/v2/models/churn/infer -d @request.json"}}
    path.write_text(json.dumps(stack))


def test_the_page_shows_each_model_its_fix_request_traffic_latency_and_logs_in_a_browser(api, fake, server, tmp_path) -> None:  # noqa: F811
    kubeconfig, asked = api
    # churn: a ready canary; its pods' metrics are those of KServe's real server after 6 predictions.
    stand_in.api_proxy.append(lambda: _real_metrics(server).replace('model_name="mnist"', 'model_name="churn"'))
    endpoint = mnist_client.Endpoint(url=server.infer_url)
    for sample in mnist_client.load_samples(6):
        mnist_client.predict(endpoint, [sample.inputs()])
    _seed(fake, kubeconfig)
    stand_in.churn_isvc.append(stand_in.CANARY_ISVC)
    # One pod per version, labelled with its revision as Knative labels them.
    stand_in.churn_pods.append([
        {**stand_in.READY_POD, "metadata": {"name": f"{revision}-deployment-x", "labels": {
            **stand_in.READY_POD["metadata"]["labels"], "serving.knative.dev/revision": revision}}}
        for revision in ("churn-predictor-00001", "churn-predictor-00002")
    ])
    try:
        page = tmp_path / "dashboard.html"
        done = fake.servebox("dashboard", "kind", "--out", str(page))
    finally:
        stand_in.churn_isvc.clear()
        stand_in.churn_pods.clear()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"servebox dashboard: {page}"
    text = page.read_text()
    assert "<script" not in text and "not-a-real-token" not in text and "SECRET" not in text

    browser = _chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "dashboard.png"
    dom = chrome_run(browser, tmp_path, page, screenshot, window="1400,2000")
    parsed = _Page()
    parsed.feed(dom)
    assert list(parsed.models) == ["churn", "mnist"]
    churn, mnist = parsed.models["churn"], parsed.models["mnist"]
    assert churn["ready"] == "true" and mnist["ready"] == "false"
    assert "Fix: check models[].uri (or run up again to upload the model)" in " ".join(mnist["text"].split())
    assert '"x-api-key: $SERVEBOX_API_KEY"' in churn["text"]
    assert churn["traffic"] == ["churn-predictor-00002", "churn-predictor-00001"]
    assert "90%" in churn["text"] and "10%" in churn["text"]
    # Each version's chart, its bars adding up to the requests its server counted (at least the 6
    # sent here; both pods are the one real server, so both charts hold its counts).
    assert churn["revisions"] == ["churn-predictor-00002", "churn-predictor-00001"]  # the traffic's order
    requests = [int(text.split()[0]) for text in churn["latency"]]
    assert len(requests) == 2 and requests[0] == requests[1] >= 6
    assert sum(count for _, count in churn["bars"]) == sum(requests)
    assert "line one of churn-predictor-00001-deployment-x" in churn["text"]
    assert "Recent log lines (storage-initializer)" in mnist["text"]
    assert parsed.platform == ["cert-manager", "istio-system", "kserve"]
    assert any(path.split("?")[0].endswith("/log") for path in asked)


def _real_metrics(server) -> str:
    with urllib.request.urlopen(f"{server.base_url}/metrics", timeout=10) as answer:
        return answer.read().decode()


def test_served_the_page_is_read_anew_at_every_load_and_reloads_itself() -> None:
    loads: list[int] = []

    def page() -> str:
        loads.append(1)
        return dashboard.render(dashboard.Report((), (), "models", "kserve"), stack=f"load-{len(loads)}", refresh_seconds=10)

    urls: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=dashboard.serve_page, args=(page, 0, urls.append, stop), daemon=True)
    thread.start()
    try:
        for _ in range(50):
            if urls:
                break
            threading.Event().wait(0.05)
        bodies = [urllib.request.urlopen(urls[0], timeout=5).read().decode() for _ in range(2)]
    finally:
        stop.set()
        thread.join(5)
    assert urls[0].startswith("http://127.0.0.1:")
    assert "servebox stack load-1" in bodies[0] and "servebox stack load-2" in bodies[1]
    assert '<meta http-equiv="refresh" content="10">' in bodies[0]


def test_the_chart_draws_counts_per_bucket_over_the_span_that_holds_requests_and_one_either_side() -> None:
    svg = dashboard.histogram_svg([(0.001, 0.0), (0.005, 2.0), (0.01, 2.0), (0.025, 7.0), (0.05, 7.0), (float("inf"), 7.0)])
    parsed = _Page()
    parsed.feed(f'<section data-model="m">{svg}</section>')
    assert parsed.models["m"]["bars"] == [("1", 0.0), ("5", 2.0), ("10", 0.0), ("25", 5.0), ("50", 0.0)]
    assert "No predictions yet" in dashboard.histogram_svg([(0.005, 0.0), (float("inf"), 0.0)])
