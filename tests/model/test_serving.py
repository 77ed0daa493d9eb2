"""The trained artifact served by the real runtime (MLServer + mlserver-sklearn) on 127.0.0.1.

The server runs with the environment servebox's ServingRuntime gives the container on the cluster,
and every request goes through the project's own client code and scripts. MLServer serves the Open
Inference Protocol (V2) only; V1 requests are shown to fail clearly. Skipped, with the reason,
only when MLServer is not installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import bench_model
import mnist_client
import predict
import pytest
import smoke_test

REPO = Path(__file__).resolve().parents[2]


def _good_request_still_answers(server: bench_model.LocalServer, sample: mnist_client.Sample) -> None:
    endpoint = mnist_client.Endpoint(url=server.infer_url)
    assert mnist_client.predict(endpoint, [sample.inputs()]) == [sample.label]


def test_model_is_ready_under_its_name(server: bench_model.LocalServer) -> None:
    assert mnist_client.send_json(mnist_client.v2_ready_url(server.infer_url)) is None  # 200, empty body
    metadata = mnist_client.send_json(f"{server.base_url}/v2/models/mnist")
    assert metadata["name"] == "mnist"


def test_v2_batch_answers_are_mostly_right(server: bench_model.LocalServer, samples: list[mnist_client.Sample]) -> None:
    endpoint = mnist_client.Endpoint(url=server.infer_url, host_header="mnist.models.127.0.0.1.sslip.io")
    answers = mnist_client.predict(endpoint, [sample.inputs() for sample in samples])
    correct = sum(answer == sample.label for answer, sample in zip(answers, samples, strict=True))
    assert correct >= 0.9 * len(samples)


def test_v2_answer_has_the_shape_the_client_expects(
    server: bench_model.LocalServer, samples: list[mnist_client.Sample]
) -> None:
    answer = mnist_client.send_json(server.infer_url, mnist_client.v2_request([s.inputs() for s in samples[:3]]))
    (output,) = answer["outputs"]
    assert (output["name"], output["datatype"], output["shape"]) == ("predict", "INT64", [3, 1])
    assert answer["model_name"] == "mnist"


def test_v1_is_not_served_by_mlserver_and_the_client_says_so(
    server: bench_model.LocalServer, samples: list[mnist_client.Sample]
) -> None:
    endpoint = mnist_client.Endpoint(url=mnist_client.v1_predict_url(server.base_url, "mnist"), protocol="v1")
    with pytest.raises(
        mnist_client.EndpointError, match=r"^wrong URL: nothing answers at this path .*HTTP 404"
    ) as caught:
        mnist_client.predict(endpoint, [samples[0].inputs()])
    assert "the runtime serves that protocol" in str(caught.value)


# Status codes are MLServer 1.6.1's own: the request envelope is validated by FastAPI (422),
# the codec rejects tensors it cannot decode (400), and errors the model itself raises come back
# as 500 with the model's message. The same image answers the same way on the cluster.
BAD_REQUESTS = [
    pytest.param(b"", 422, "Field required", id="empty-body"),
    pytest.param(b"<html>not json</html>", 422, "JSON decode error", id="non-json-body"),
    pytest.param(b'{"instances": [[0.0]]}', 422, "Field required", id="v1-body-on-v2-path"),
    pytest.param(
        json.dumps({"inputs": [{"name": "x", "shape": [1, 784], "datatype": "FP99", "data": [0.0] * 784}]}).encode(),
        422,
        "Input should be 'BOOL'",
        id="unknown-datatype",
    ),
    pytest.param(b'{"inputs": []}', 400, "only supports a single input tensor (0 were received)", id="no-tensor"),
    pytest.param(
        json.dumps({"inputs": [{"name": "x", "shape": [1, 10], "datatype": "FP32", "data": [0.0] * 10}]}).encode(),
        500,
        "X has 10 features, but PCA is expecting 784 features as input",
        id="wrong-shape",
    ),
    pytest.param(
        json.dumps({"inputs": [{"name": "x", "shape": [2, 784], "datatype": "FP32", "data": [0.0] * 784}]}).encode(),
        500,
        "cannot reshape array of size 784 into shape (2,784)",
        id="data-does-not-fill-shape",
    ),
    pytest.param(
        json.dumps({"inputs": [{"name": "x", "shape": [1, 784], "datatype": "BYTES", "data": ["a"] * 784}]}).encode(),
        500,
        "could not convert string to float: 'a'",
        id="wrong-datatype",
    ),
]


@pytest.mark.parametrize(("body", "status", "says"), BAD_REQUESTS)
def test_bad_request_gets_a_clear_error_and_the_server_keeps_serving(
    server: bench_model.LocalServer, samples: list[mnist_client.Sample], body: bytes, status: int, says: str
) -> None:
    with pytest.raises(mnist_client.EndpointError) as caught:
        mnist_client.send_json(server.infer_url, raw_body=body)
    assert caught.value.status == status
    assert says in caught.value.body
    assert f"calling {server.infer_url} -> HTTP {status}" in str(caught.value)
    _good_request_still_answers(server, samples[0])


def test_unknown_model_is_a_clear_404(server: bench_model.LocalServer, samples: list[mnist_client.Sample]) -> None:
    url = mnist_client.v2_infer_url(server.base_url, "no-such-model")
    with pytest.raises(
        mnist_client.EndpointError, match=r"^wrong URL: .*HTTP 404: \{\"error\":\"Model no-such-model not found\"\}"
    ):
        mnist_client.predict(mnist_client.Endpoint(url=url), [samples[0].inputs()])
    _good_request_still_answers(server, samples[0])


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


def test_predict_script_explains_v1_is_not_served(
    server: bench_model.LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert predict.main(["--url", server.base_url, "--protocol", "v1", "--count", "1"]) == 2
    assert capsys.readouterr().err.startswith("error: wrong URL: nothing answers at this path")


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
        smoke_test.main(["--url", server.infer_url, "--count", "5", "--min-accuracy", "1.01", "--timeout", "30"]) == 1
    )
    captured = capsys.readouterr()
    assert json.loads(captured.out)["ok"] is False
    assert "smoke test FAILED: accuracy" in captured.err and "is below --min-accuracy 1.01" in captured.err


def test_smoke_test_gives_up_on_a_closed_port_within_its_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    (port,) = bench_model.free_ports(1)
    url = f"http://127.0.0.1:{port}/v2/models/mnist/infer"
    assert smoke_test.main(["--url", url, "--count", "1", "--timeout", "2", "--max-attempts", "3"]) == 2
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
