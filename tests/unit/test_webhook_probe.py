"""The webhook probe's control flow against a scripted cluster (a fake: no API server exists here).

What is proven: which answers mean "retry", "served" or "give up", the backoff, the time limit and
the messages. What is not: that a real API server answers this way (the answer texts are the ones
upstream issues quote, e.g. kserve#3102 and #3748).
"""

from __future__ import annotations

import io

import pytest
import yaml

from components.platform import kserve, probe, webhook_probe
from components.platform.webhook_probe import Answer, ProbeFailed, classify, wait_until_served

PROBE = yaml.safe_load(kserve.webhook_probe_manifest())
REFUSED = Answer(
    500,
    'Internal error occurred: failed calling webhook "clusterservingruntime.kserve-webhook-server.validator": '
    'Post "https://kserve-webhook-server-service.kserve.svc:443/validate": dial tcp: connect: connection refused',
)


class ScriptedCluster:
    def __init__(self, answers: list[Answer], endpoints: int = 0):
        self.answers = list(answers)
        self.endpoints = endpoints
        self.calls: list[tuple[str, str]] = []

    def dry_run_create(self, manifest, plural):
        self.calls.append((manifest["kind"], plural))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def ready_endpoints(self, namespace, service):
        self.calls.append(("endpoints", f"{namespace}/{service}"))
        return self.endpoints


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    "answer, verdict",
    [
        (Answer(201, "created (dry run)"), "served"),
        (REFUSED, "retry"),
        (Answer(500, 'failed calling webhook "x": no endpoints available for service "kserve-webhook-server-service"'), "retry"),
        (Answer(500, "x509: certificate signed by unknown authority"), "retry"),
        (Answer(0, "API server unreachable: connection reset"), "retry"),
        (Answer(404, "the server could not find the requested resource"), "retry"),
        (Answer(503, "service unavailable"), "retry"),
        (Answer(400, 'admission webhook "clusterservingruntime.kserve-webhook-server.validator" denied the request'), "served"),
        (Answer(403, "clusterservingruntimes is forbidden: User cannot create"), "fatal"),
        (Answer(401, "Unauthorized"), "fatal"),
        (Answer(422, "spec.containers: Required value"), "fatal"),
    ],
)
def test_classify(answer, verdict):
    assert classify(answer) == verdict


def test_retries_with_backoff_until_the_webhook_admits_the_probe():
    time = FakeTime()
    logs: list[str] = []
    cluster = ScriptedCluster([REFUSED] * 5 + [Answer(201, "created (dry run)")])
    attempts = wait_until_served(
        cluster, PROBE, plural="clusterservingruntimes", service="kserve/kserve-webhook-server-service",
        timeout_seconds=300, clock=time.clock, sleep=time.sleep, log=logs.append,
    )
    assert attempts == 6
    assert time.sleeps == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert cluster.calls == [("ClusterServingRuntime", "clusterservingruntimes")] * 6
    assert logs[-1] == "webhook for ClusterServingRuntime serves (attempt 6)"
    assert logs[0] == "webhook for ClusterServingRuntime not serving yet (attempt 1: HTTP 500); retrying in 1s"


def test_gives_up_at_the_time_limit_naming_service_endpoints_and_last_answer():
    time = FakeTime()
    cluster = ScriptedCluster([REFUSED], endpoints=0)
    with pytest.raises(ProbeFailed) as error:
        wait_until_served(
            cluster, PROBE, plural="clusterservingruntimes", service="kserve/kserve-webhook-server-service",
            timeout_seconds=30, clock=time.clock, sleep=time.sleep, log=lambda _: None,
        )
    assert sum(time.sleeps) <= 30
    assert str(error.value) == (
        "the webhook behind Service kserve/kserve-webhook-server-service did not admit a dry-run "
        f"ClusterServingRuntime within 30s (6 attempts; 0 ready endpoint(s)). Last answer: HTTP 500: {REFUSED.message}. "
        "Check `kubectl -n kserve get pods,endpoints` and the logs of the webhook's Deployment there (`kubectl -n kserve get deploy`)."
    )
    assert cluster.calls[-1] == ("endpoints", "kserve/kserve-webhook-server-service")


def test_fails_at_once_on_an_answer_that_waiting_cannot_fix():
    time = FakeTime()
    with pytest.raises(ProbeFailed, match="refused with HTTP 403: clusterservingruntimes is forbidden"):
        wait_until_served(
            ScriptedCluster([Answer(403, "clusterservingruntimes is forbidden")]), PROBE,
            plural="clusterservingruntimes", service="kserve/x", timeout_seconds=300,
            clock=time.clock, sleep=time.sleep, log=lambda _: None,
        )
    assert time.sleeps == []


def test_main_refuses_to_run_without_a_kubeconfig(monkeypatch, capsys):
    monkeypatch.delenv(probe.KUBECONFIG_ENV, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(kserve.webhook_probe_manifest()))
    code = webhook_probe.main(["--plural", "clusterservingruntimes", "--service", "kserve/x", "--timeout", "5"])
    assert code == 2
    assert capsys.readouterr().err == "webhook_probe: SERVEBOX_KUBECONFIG is not set\n"


def test_main_against_an_unreachable_api_server_times_out_cleanly(monkeypatch, capsys):
    # A kubeconfig pointing at a closed loopback port: the real client, no cluster, bounded time.
    kubeconfig = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9", "insecure-skip-tls-verify": True}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "x",
        }
    )
    monkeypatch.setenv(probe.KUBECONFIG_ENV, kubeconfig)
    monkeypatch.setattr("sys.stdin", io.StringIO(kserve.webhook_probe_manifest()))
    code = webhook_probe.main(["--plural", "clusterservingruntimes", "--service", "kserve/x", "--timeout", "2"])
    assert code == 1
    err = capsys.readouterr().err
    assert "did not admit a dry-run ClusterServingRuntime within 2s" in err
    assert "Last answer: HTTP 0: API server unreachable" in err
    assert "token" not in err and kubeconfig not in err
