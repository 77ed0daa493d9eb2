"""The trained artifact served by the real runtime on 127.0.0.1: KServe's scikit-learn server.

KServe's part is its library at the image's release (`kserve==0.20.0`): the model server, the V1
and V2 REST handlers, their decoding, encoding, errors and status codes. Ours is the model class
(scripts/local_sklearnserver.py: what kserve/sklearnserver's model.py does at v0.20.0) and the
loopback socket. The server starts with the arguments the ClusterServingRuntime gives the
container, and every request goes through the project's own client code and scripts.
Not proven here: that the image itself, on a cluster, behaves as its library does on this machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import bench_model
import pytest

from servebox import mnist_client, predict
from servebox import smoke as smoke_test

REPO = Path(__file__).resolve().parents[2]


def _good_requests_still_answer(server: bench_model.LocalServer, sample: mnist_client.Sample) -> None:
    for endpoint in (
        mnist_client.Endpoint(url=server.infer_url),
        mnist_client.Endpoint(url=server.predict_url, protocol="v1"),
    ):
        assert mnist_client.predict(endpoint, [sample.inputs()]) == [sample.label]


def test_model_is_ready_under_its_name(server: bench_model.LocalServer) -> None:
    assert mnist_client.send_json(mnist_client.v2_ready_url(server.infer_url)) == {"name": "mnist", "ready": True}
    assert mnist_client.send_json(f"{server.base_url}/v1/models/mnist") == {"name": "mnist", "ready": True}
    assert mnist_client.send_json(f"{server.base_url}/v2/models/mnist")["name"] == "mnist"


def test_server_listens_on_loopback_only(server: bench_model.LocalServer) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("protocol", ["v2", "v1"])
def test_batch_answers_are_mostly_right_over_both_protocols(
    server: bench_model.LocalServer, samples: list[mnist_client.Sample], protocol: str
) -> None:
    url = server.infer_url if protocol == "v2" else server.predict_url
    endpoint = mnist_client.Endpoint(url=url, protocol=protocol, host_header="mnist.models.127.0.0.1.sslip.io")
    answers = mnist_client.predict(endpoint, [sample.inputs() for sample in samples])
    correct = sum(answer == sample.label for answer, sample in zip(answers, samples, strict=True))
    assert correct >= 0.9 * len(samples)


def test_both_protocols_give_the_same_answers(
    server: bench_model.LocalServer, samples: list[mnist_client.Sample]
) -> None:
    rows = [sample.inputs() for sample in samples[:10]]
    v2 = mnist_client.predict(mnist_client.Endpoint(url=server.infer_url), rows)
    v1 = mnist_client.predict(mnist_client.Endpoint(url=server.predict_url, protocol="v1"), rows)
    assert v1 == v2


def test_v2_answer_has_the_shape_kserve_gives(server: bench_model.LocalServer, samples: list[mnist_client.Sample]) -> None:
    answer = mnist_client.send_json(server.infer_url, mnist_client.v2_request([s.inputs() for s in samples[:3]]))
    (output,) = answer["outputs"]
    assert (output["name"], output["datatype"], output["shape"]) == ("output-0", "INT64", [3])
    assert answer["model_name"] == "mnist"


def test_v1_answer_has_the_shape_kserve_gives(server: bench_model.LocalServer, samples: list[mnist_client.Sample]) -> None:
    answer = mnist_client.send_json(server.predict_url, mnist_client.v1_request([s.inputs() for s in samples[:3]]))
    assert list(answer) == ["predictions"] and len(answer["predictions"]) == 3


# Status codes are KServe 0.20.0's own, pinned as the server gives them: FastAPI validates the V2
# envelope (422); the V1 handler rejects a body that is not a JSON object with a list of instances
# (400); everything the model or the tensor decoding raises comes back as an InferenceError, 500,
# with the underlying message (kserve/errors.py `inference_error_handler`). Some of those are the
# client's fault and would deserve a 4xx; the image answers the same way on the cluster.
_ZEROS = [0.0] * 784
BAD_REQUESTS = [
    pytest.param("v2", b"", 422, "Field required", id="v2-empty-body"),
    pytest.param("v2", b"<html>not json</html>", 422, "JSON decode error", id="v2-non-json-body"),
    pytest.param("v2", b'{"instances": [[0.0]]}', 422, "Field required", id="v1-body-on-v2-path"),
    pytest.param(
        "v2",
        json.dumps({"inputs": [{"name": "x", "shape": [1, 784], "datatype": "FP99", "data": _ZEROS}]}).encode(),
        500,
        "invalid datatype None in the input",
        id="v2-unknown-datatype",
    ),
    pytest.param("v2", b'{"inputs": []}', 500, "list index out of range", id="v2-no-tensor"),
    pytest.param(
        "v2",
        json.dumps({"inputs": [{"name": "x", "shape": [1, 10], "datatype": "FP32", "data": [0.0] * 10}]}).encode(),
        500,
        "X has 10 features, but PCA is expecting 784 features as input",
        id="v2-wrong-shape",
    ),
    pytest.param(
        "v2",
        json.dumps({"inputs": [{"name": "x", "shape": [2, 784], "datatype": "FP32", "data": _ZEROS}]}).encode(),
        500,
        "cannot reshape array of size 784 into shape (2,784)",
        id="v2-data-does-not-fill-shape",
    ),
    pytest.param(
        "v2",
        json.dumps({"inputs": [{"name": "x", "shape": [1, 2], "datatype": "BYTES", "data": ["a", "b"]}]}).encode(),
        500,
        "could not convert string to float: 'a'",
        id="v2-wrong-datatype",
    ),
    pytest.param("v1", b"", 400, "Unrecognized request format", id="v1-empty-body"),
    pytest.param("v1", b"<html>not json</html>", 400, "Unrecognized request format", id="v1-non-json-body"),
    pytest.param("v1", b'{"instances": "x"}', 400, 'Expected \\"instances\\" to be a list', id="v1-instances-not-a-list"),
    pytest.param("v1", b"{}", 500, "'instances'", id="v1-no-instances"),
    pytest.param(
        "v1", b'{"instances": [[0.0]]}', 500, "X has 1 features, but PCA is expecting 784", id="v1-wrong-shape"
    ),
    pytest.param(
        "v1", b'{"instances": [["a", "b"]]}', 500, "could not convert string to float", id="v1-wrong-datatype"
    ),
]


@pytest.mark.parametrize(("protocol", "body", "status", "says"), BAD_REQUESTS)
def test_bad_request_gets_a_clear_error_and_the_server_keeps_serving(
    server: bench_model.LocalServer,
    samples: list[mnist_client.Sample],
    protocol: str,
    body: bytes,
    status: int,
    says: str,
) -> None:
    url = server.infer_url if protocol == "v2" else server.predict_url
    with pytest.raises(mnist_client.EndpointError) as caught:
        mnist_client.send_json(url, raw_body=body)
    assert caught.value.status == status
    assert says in caught.value.body
    assert f"calling {url} -> HTTP {status}" in str(caught.value)
    _good_requests_still_answer(server, samples[0])


@pytest.mark.parametrize("protocol", ["v2", "v1"])
def test_unknown_model_is_a_clear_404(
    server: bench_model.LocalServer, samples: list[mnist_client.Sample], protocol: str
) -> None:
    if protocol == "v2":
        url = mnist_client.v2_infer_url(server.base_url, "no-such-model")
    else:
        url = mnist_client.v1_predict_url(server.base_url, "no-such-model")
    with pytest.raises(
        mnist_client.EndpointError,
        match=r"^wrong URL: .*HTTP 404: \{\"error\":\"Model with name no-such-model does not exist.\"\}",
    ):
        mnist_client.predict(mnist_client.Endpoint(url=url, protocol=protocol), [samples[0].inputs()])
    _good_requests_still_answer(server, samples[0])


def test_predict_script_shows_digits_answers_and_a_summary(
    server: bench_model.LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        predict.main(["--url", server.base_url, "--model", "mnist", "--count", "3", "--host-header", "mnist.local"])
        == 0
    )
    out = capsys.readouterr().out
    assert out.count("held-out digit #") == 3
    assert "█" in out
    assert "right (" in out and f"from {server.infer_url} (Host: mnist.local), V2, one request in" in out


def test_predict_script_speaks_v1_to_the_same_model(
    server: bench_model.LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert predict.main(["--url", server.base_url, "--protocol", "v1", "--count", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("held-out digit #") == 2
    assert f"from {server.predict_url}, V1, one request in" in out


def test_smoke_test_passes_above_the_threshold(
    server: bench_model.LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        smoke_test.main(["--url", server.infer_url, "--count", "20", "--min-accuracy", "0.8", "--timeout", "30"]) == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["ok"] is True
    assert summary["count"] == 20 and summary["correct"] >= 16
    assert summary["attempts"] == 1
    assert summary["latency_ms_p50"] > 0
    assert summary["url"] == server.infer_url


def test_smoke_test_fails_below_the_threshold(
    server: bench_model.LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        smoke_test.main(["--url", server.infer_url, "--count", "5", "--min-accuracy", "1.01", "--timeout", "30"]) == 11
    )
    captured = capsys.readouterr()
    assert json.loads(captured.out)["ok"] is False
    assert "smoke test FAILED: accuracy" in captured.err and "is below --min-accuracy 1.01" in captured.err


def test_smoke_test_gives_up_on_a_closed_port_within_its_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    (port,) = bench_model.free_ports(1)
    url = f"http://127.0.0.1:{port}/v2/models/mnist/infer"
    assert smoke_test.main(["--url", url, "--count", "1", "--timeout", "2", "--max-attempts", "3"]) == 11
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["ok"] is False and 1 <= summary["attempts"] <= 3
    assert "the endpoint did not serve after" in captured.err and "the endpoint is unreachable" in captured.err


def test_smoke_test_command_line_the_pulumi_program_runs(server: bench_model.LocalServer) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "scripts/smoke_test.py",
            "--url",
            server.infer_url,
            "--host-header",
            "mnist.models.example.com",
            "--count",
            "20",
            "--min-accuracy",
            "0.8",
            "--timeout",
            "300",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
    assert result.stderr.startswith("smoke test passed: ")


def test_smoke_test_speaks_v1_when_the_url_is_a_v1_url(
    server: bench_model.LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert smoke_test.main(["--url", server.predict_url, "--count", "10", "--min-accuracy", "0.8"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["ok"], summary["protocol"], summary["url"]) == (True, "v1", server.predict_url)


# --- the API key, proven enforced at the end of up ----------------------------------------------


@pytest.fixture
def key_checking_gateway(server: bench_model.LocalServer):  # noqa: ANN201  (a generator of a base URL)
    """A stand-in for the Istio gateway's AuthorizationPolicy in front of KServe's real server:
    403 without the key (as Envoy's RBAC filter answers), the server's own answer with it."""
    import urllib.request

    from tests import local_http

    def respond(method: str, path: str, headers, body: bytes) -> tuple[int, bytes]:
        if headers.get("x-api-key") != "k" * 32:
            return 403, b"RBAC: access denied"
        request = urllib.request.Request(server.base_url + path, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()

    with local_http.serving(respond) as url:
        yield f"{url}/v2/models/mnist/infer"


def test_the_smoke_test_proves_a_request_without_the_key_is_refused(key_checking_gateway, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SERVEBOX_API_KEY", "k" * 32)
    assert smoke_test.main(["--url", key_checking_gateway, "--count", "10", "--min-accuracy", "0.8", "--timeout", "30"]) == 0
    assert '"refused_without_key": true' in capsys.readouterr().out


def test_the_smoke_test_fails_where_the_key_is_not_enforced(server: bench_model.LocalServer, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SERVEBOX_API_KEY", "k" * 32)  # KServe's server itself checks no key
    assert smoke_test.main(["--url", server.infer_url, "--count", "5", "--min-accuracy", "0.5", "--timeout", "30"]) == 11
    assert "the model answered a request without the API key" in capsys.readouterr().err


def test_without_the_key_a_keyed_model_says_how_to_get_it(key_checking_gateway, monkeypatch) -> None:
    monkeypatch.delenv("SERVEBOX_API_KEY", raising=False)
    endpoint = mnist_client.Endpoint(url=key_checking_gateway)
    with pytest.raises(mnist_client.EndpointError) as error:
        mnist_client.predict(endpoint, [[0.0] * 784])
    assert error.value.status == 403
    assert "take an API key (modelAuth)" in str(error.value) and "pulumi stack output api_key --show-secrets" in str(error.value)
