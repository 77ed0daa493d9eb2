"""How long `servebox status STACK` takes on a stack of N models, and how many requests it makes.

A local stand-in of the Kubernetes API on 127.0.0.1 answers the lists the command makes (the
InferenceServices and pods of the models' namespace, the Deployments of each platform namespace)
with N models in the shapes KServe v0.20.0 and Kubernetes write (a ready canary among them, and a
model whose download failed), and counts each request by object kind and namespace. The command's
cluster half runs as it does for a user (servebox/model_status.py through the official client);
the stack's outputs are not read (that is the Pulumi CLI's part, timed by nothing here).

    python scripts/bench_status.py                 # 10 models, 5 runs
    python scripts/bench_status.py --models 50 --runs 3 --json

Targets (issue 21): interactive, ≤ 2 s, and ≤ 1 request per object kind per namespace. With
--metrics the command also reads each ready pod's /metrics (one proxied request per pod): that
figure is printed apart.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import http.server
import json
import statistics
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from servebox import model_status  # noqa: E402

NAMESPACE = "models"
IMAGE = "docker.io/kserve/sklearnserver:v0.20.0"
METRICS = (
    "# TYPE request_predict_seconds histogram\n"
    'request_predict_seconds_bucket{{le="0.005",model_name="{model}"}} 3.0\n'
    'request_predict_seconds_bucket{{le="0.01",model_name="{model}"}} 9.0\n'
    'request_predict_seconds_bucket{{le="+Inf",model_name="{model}"}} 10.0\n'
)


def objects(count: int) -> tuple[list[dict], list[dict]]:
    """`count` InferenceServices and their pods: all ready but the last (a failed download)."""
    models, pods = [], []
    for index in range(count):
        name = f"model-{index:02d}"
        ready = index < count - 1
        models.append({
            "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"predictor": {"minReplicas": 1, "maxReplicas": 2, "model": {"runtime": "kserve-sklearnserver"}}},
            "status": {
                "url": f"http://{name}.{NAMESPACE}.127.0.0.1.sslip.io",
                "conditions": [{"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": "2026-12-03T10:00:00Z"}],
                "components": {"predictor": {"traffic": [{"revisionName": f"{name}-predictor-00001", "latestRevision": True, "percent": 100}]}},
            },
        })
        initializer = {"name": "storage-initializer", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}
        if not ready:
            initializer = {"name": "storage-initializer", "state": {"terminated": {
                "reason": "Error", "exitCode": 1, "message": f"RuntimeError: Failed to fetch model. No model found in s3://b/{name}."}}}
        pods.append({
            "metadata": {"name": f"{name}-predictor-00001-deployment-abc", "labels": {model_status.KSERVE[3]: name}},
            "spec": {"containers": [{"name": "kserve-container", "image": IMAGE}]},
            "status": {"phase": "Running" if ready else "Pending", "initContainerStatuses": [initializer],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
        })
    return models, pods


@contextlib.contextmanager
def stand_in(count: int) -> Iterator[tuple[str, collections.Counter]]:
    """The API stand-in: its kubeconfig, and the requests it was asked by (kind, namespace)."""
    models, pods = objects(count)
    asked: collections.Counter = collections.Counter()
    deployments = {"apiVersion": "apps/v1", "kind": "DeploymentList", "items": [
        {"metadata": {"name": "controller"}, "spec": {"replicas": 1}, "status": {"availableReplicas": 1}}]}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            path = urllib.parse.unquote(self.path.split("?")[0])
            parts = path.strip("/").split("/")
            namespace = parts[parts.index("namespaces") + 1] if "namespaces" in parts else ""
            if path.endswith("/proxy/metrics"):
                asked[("pods/proxy", namespace)] += 1
                body = METRICS.format(model=parts[-3].split("-predictor")[0]).encode()
            else:
                kind = parts[-1]
                asked[(kind, namespace)] += 1
                found = {"inferenceservices": models, "pods": pods}.get(kind)
                body = json.dumps({"items": found} if found is not None else deployments).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "bench"}}],
    })
    try:
        yield kubeconfig, asked
    finally:
        server.shutdown()


def status_once(kubeconfig: str, metrics: bool) -> str:
    """What `servebox status STACK [--metrics]` does with the cluster, and its text."""
    models, pods = model_status.read_cluster(kubeconfig, NAMESPACE, "kserve")
    parts = model_status.platform_health(kubeconfig, "kserve")
    text = model_status.render(models, as_json=False) + model_status.render_platform(parts)
    if metrics:
        text += model_status.render_latency(model_status.latencies(kubeconfig, NAMESPACE, "kserve", models, pods))
    return text


def measure(count: int, runs: int, metrics: bool) -> dict:
    with stand_in(count) as (kubeconfig, asked):
        status_once(kubeconfig, metrics)  # warm: imports and the client's first connection
        asked.clear()
        seconds = []
        for _ in range(runs):
            start = time.perf_counter()
            status_once(kubeconfig, metrics)
            seconds.append(time.perf_counter() - start)
        per_run = {f"{kind} in {ns or '-'}": n / runs for (kind, ns), n in sorted(asked.items())}
    lists = {key: value for key, value in per_run.items() if not key.startswith("pods/proxy")}
    return {
        "models": count,
        "metrics": metrics,
        "runs": runs,
        "seconds": {"min": round(min(seconds), 3), "median": round(statistics.median(seconds), 3), "max": round(max(seconds), 3)},
        "requests_per_run": sum(per_run.values()),
        "requests_by_kind_and_namespace": per_run,
        "at_most_one_list_per_kind_and_namespace": all(value <= 1 for value in lists.values()),
        "within_2_seconds": max(seconds) <= 2.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = [measure(args.models, args.runs, metrics) for metrics in (False, True)]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for result in results:
        label = "status --metrics" if result["metrics"] else "status"
        s = result["seconds"]
        print(f"{label} on {result['models']} models: {s['median']} s median ({s['min']}-{s['max']} s over {result['runs']} runs), "
              f"{result['requests_per_run']:g} requests a run")
        for key, value in result["requests_by_kind_and_namespace"].items():
            print(f"  {key}: {value:g}")
        print(f"  at most one list per kind and namespace: {result['at_most_one_list_per_kind_and_namespace']}; "
              f"within 2 s: {result['within_2_seconds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
