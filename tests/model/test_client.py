"""The client without a model server: request shapes, answer checks, and every way a call fails.

Failures that need something other than a model server (a closed port, a web page, a slow or
wrong answer) are produced by a tiny stdlib HTTP server on 127.0.0.1; it stands in for the
network, not for the runtime, which test_serving.py exercises for real.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import bench_model
import pytest

from servebox import mnist_client
from servebox import training as train_mnist


@dataclass
class Reply:
    """What the fake server answers on one path."""

    status: int = 200
    body: bytes = b"{}"
    content_type: str = "application/json"
    delay: float = 0.0


@dataclass
class FakeServer:
    """Replies by path, and the requests it received."""

    base_url: str
    replies: dict[str, Reply] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    fake = FakeServer(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            fake.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": self.rfile.read(length),
                }
            )
            reply = fake.replies.get(self.path, Reply(404, b"<html>404 page not found</html>", "text/html"))
            time.sleep(reply.delay)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _rows(count: int) -> list[list[float]]:
    return [[0.0] * 784 for _ in range(count)]


def test_v2_request_is_one_fp32_tensor_n_by_784_row_major() -> None:
    rows = [[float(i)] * 784 for i in range(3)]
    request = mnist_client.v2_request(rows)
    (tensor,) = request["inputs"]
    assert tensor["shape"] == [3, 784]
    assert tensor["datatype"] == "FP32"
    assert tensor["data"] == [0.0] * 784 + [1.0] * 784 + [2.0] * 784


def test_v1_request_lists_one_instance_per_digit() -> None:
    assert mnist_client.v1_request([[1.0, 2.0], [3.0, 4.0]]) == {"instances": [[1.0, 2.0], [3.0, 4.0]]}


def test_urls_follow_the_protocols() -> None:
    assert mnist_client.v2_infer_url("http://h:8080/", "mnist") == "http://h:8080/v2/models/mnist/infer"
    assert mnist_client.v1_predict_url("http://h:8080", "mnist") == "http://h:8080/v1/models/mnist:predict"
    assert mnist_client.v2_ready_url("http://h/v2/models/mnist/infer") == "http://h/v2/models/mnist/ready"


def test_parse_v2_answer_reads_the_predict_output() -> None:
    answer = {
        "outputs": [
            {"name": "predict_proba", "shape": [2, 10], "datatype": "FP64", "data": [0.1] * 20},
            {"name": "predict", "shape": [2, 1], "datatype": "INT64", "data": [7, 2]},
        ]
    }
    assert mnist_client.parse_v2_answer(answer, 2, "http://h") == [7, 2]


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        ({"outputs": [{"name": "predict", "data": [7]}]}, "expected 2 predicted labels, got 1 values"),
        ({"outputs": [{"name": "predict", "data": [0.2, 0.8]}]}, "expected integer labels 0-9, got 0.2"),
        ({"predictions": [7, 2]}, "expected a V2 answer with an 'outputs' list"),
        ([7, 2], "expected a V2 answer with an 'outputs' list"),
    ],
)
def test_parse_v2_answer_rejects_wrong_shapes(answer: object, detail: str) -> None:
    with pytest.raises(mnist_client.EndpointError, match="the answer has the wrong shape") as caught:
        mnist_client.parse_v2_answer(answer, 2, "http://h/v2/models/mnist/infer")
    assert detail in str(caught.value)
    assert "calling http://h/v2/models/mnist/infer" in str(caught.value)
    assert "--protocol matches the runtime" in str(caught.value)


def test_parse_v1_answer() -> None:
    assert mnist_client.parse_v1_answer({"predictions": [3, 1]}, 2, "http://h") == [3, 1]
    with pytest.raises(mnist_client.EndpointError, match="expected 2 predicted labels"):
        mnist_client.parse_v1_answer({"outputs": []}, 2, "http://h")


def test_render_digit_draws_14_lines_of_28_shades() -> None:
    blank = mnist_client.render_digit([0] * 784)
    full = mnist_client.render_digit([255] * 784)
    assert blank.splitlines() == [" " * 28] * 14
    assert full.splitlines() == ["█" * 28] * 14


def test_samples_are_held_out_digits_in_split_order() -> None:
    samples = mnist_client.load_samples(3)
    images, labels = train_mnist.load_digits("bundled")
    _, held_out_images, _, held_out_labels = train_mnist.split_digits(images, labels)
    assert [s.label for s in samples] == [int(v) for v in held_out_labels[:3]]
    assert samples[0].pixels == tuple(int(v) for v in held_out_images[0])
    assert samples[0].inputs() == pytest.approx([v / 255 for v in held_out_images[0]])


def test_load_samples_bounds_the_count() -> None:
    with pytest.raises(ValueError, match="count: got 1001; expected 1 to 1000"):
        mnist_client.load_samples(1001)


def test_v2_call_sends_json_and_the_host_header(fake_server: FakeServer) -> None:
    fake_server.replies["/v2/models/mnist/infer"] = Reply(body=b'{"outputs":[{"name":"predict","data":[4]}]}')
    endpoint = mnist_client.Endpoint(
        url=f"{fake_server.base_url}/v2/models/mnist/infer", host_header="mnist.models.example.com"
    )
    assert mnist_client.predict(endpoint, _rows(1)) == [4]
    (request,) = fake_server.requests
    assert request["headers"]["Host"] == "mnist.models.example.com"
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == mnist_client.v2_request(_rows(1))


def test_v1_call_posts_instances_to_predict(fake_server: FakeServer) -> None:
    fake_server.replies["/v1/models/mnist:predict"] = Reply(body=b'{"predictions":[1,9]}')
    endpoint = mnist_client.Endpoint(url=f"{fake_server.base_url}/v1/models/mnist:predict", protocol="v1")
    assert mnist_client.predict(endpoint, _rows(2)) == [1, 9]
    assert json.loads(fake_server.requests[0]["body"]) == {"instances": _rows(2)}


def test_unreachable_endpoint_is_a_clear_error() -> None:
    (port,) = bench_model.free_ports(1)  # nothing listens there
    url = f"http://127.0.0.1:{port}/v2/models/mnist/infer"
    with pytest.raises(mnist_client.EndpointError) as caught:
        mnist_client.predict(mnist_client.Endpoint(url=url), _rows(1), timeout=2)
    message = str(caught.value)
    assert message.startswith("the endpoint is unreachable (")
    assert f"calling {url})" in message
    assert "Check: that the server or cluster is running" in message


def test_wrong_path_is_a_clear_404_error(fake_server: FakeServer) -> None:
    url = f"{fake_server.base_url}/v2/models/mnist/predict"
    with pytest.raises(mnist_client.EndpointError) as caught:
        mnist_client.predict(mnist_client.Endpoint(url=url), _rows(1))
    assert caught.value.status == 404
    assert str(caught.value).startswith(
        f"wrong URL: nothing answers at this path (calling {url} -> HTTP 404: <html>404 page not found</html>)"
    )
    assert "the path is /v2/models/<model>/infer (V2)" in str(caught.value)


def test_non_json_answer_is_a_clear_error(fake_server: FakeServer) -> None:
    fake_server.replies["/v2/models/mnist/infer"] = Reply(
        body=b"<html><body>Welcome to nginx!</body></html>", content_type="text/html"
    )
    url = f"{fake_server.base_url}/v2/models/mnist/infer"
    with pytest.raises(mnist_client.EndpointError) as caught:
        mnist_client.predict(mnist_client.Endpoint(url=url), _rows(1))
    assert str(caught.value) == (
        f"the answer is not JSON (calling {url} -> HTTP 200: <html><body>Welcome to nginx!</body></html>). "
        "Check: the URL may reach a web page or proxy instead of the model server; use the stack's "
        "infer_url/predict_url (and --host-header when going through the ingress)"
    )


def test_slow_answer_is_a_clear_timeout(fake_server: FakeServer) -> None:
    fake_server.replies["/v2/models/mnist/infer"] = Reply(delay=1.5)
    url = f"{fake_server.base_url}/v2/models/mnist/infer"
    with pytest.raises(
        mnist_client.EndpointError, match=r"^no answer within 0.3 s \(calling .*Knative scales it from zero"
    ):
        mnist_client.predict(mnist_client.Endpoint(url=url), _rows(1), timeout=0.3)


def test_unavailable_model_says_it_is_not_serving_yet(fake_server: FakeServer) -> None:
    fake_server.replies["/v2/models/mnist/infer"] = Reply(503, b"no healthy upstream", "text/plain")
    with pytest.raises(
        mnist_client.EndpointError, match=r"^the model is not serving yet .*HTTP 503: no healthy upstream"
    ):
        mnist_client.predict(mnist_client.Endpoint(url=f"{fake_server.base_url}/v2/models/mnist/infer"), _rows(1))


@pytest.fixture
def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `pulumi` executable first on PATH that records its arguments and prints stack outputs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    outputs = {
        "infer_url": "http://127.0.0.1:31080/v2/models/mnist/infer",
        "predict_url": "http://127.0.0.1:31080/v1/models/mnist:predict",
        "protocol": "v1",
        "host_header": "mnist.models.127.0.0.1.sslip.io",
        "model_name": "mnist",
        "kubeconfig": "[secret]",
    }
    script = bin_dir / "pulumi"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, pathlib\n"
        f"pathlib.Path({str(tmp_path / 'args.json')!r}).write_text(json.dumps(sys.argv[1:]))\n"
        f"print(json.dumps({outputs!r}))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path / "args.json"


def test_endpoint_from_stack_outputs(fake_pulumi: Path) -> None:
    endpoint = mnist_client.resolve_endpoint(url=None, stack="dev", host_header=None, model_name=None, protocol="v2")
    assert endpoint == mnist_client.Endpoint(
        url="http://127.0.0.1:31080/v2/models/mnist/infer",
        protocol="v2",
        host_header="mnist.models.127.0.0.1.sslip.io",
    )
    assert json.loads(fake_pulumi.read_text()) == [
        "stack",
        "output",
        "--json",
        "--show-secrets=false",
        "--stack",
        "dev",
    ]


def test_the_stack_protocol_output_is_the_default(fake_pulumi: Path) -> None:
    endpoint = mnist_client.resolve_endpoint(url=None, stack="dev", host_header=None, model_name=None, protocol=None)
    assert (endpoint.protocol, endpoint.url) == ("v1", "http://127.0.0.1:31080/v1/models/mnist:predict")


def test_a_stack_without_the_protocols_url_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist_client, "read_stack_outputs", lambda stack: {"infer_url": "http://h/v2/models/m/infer"})
    with pytest.raises(
        mnist_client.StackOutputsError,
        match=re.escape(
            "stack dev has no 'predict_url' output for V1. Has `pulumi up` finished for this stack? "
            "If its runtime does not serve V1, try --protocol v2."
        ),
    ):
        mnist_client.resolve_endpoint(url=None, stack="dev", host_header=None, model_name=None, protocol="v1")


def test_a_stack_from_before_the_protocol_output_defaults_to_v2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist_client, "read_stack_outputs", lambda stack: {"infer_url": "http://h/v2/models/m/infer"})
    endpoint = mnist_client.resolve_endpoint(url=None, stack=None, host_header=None, model_name=None, protocol=None)
    assert (endpoint.protocol, endpoint.url) == ("v2", "http://h/v2/models/m/infer")


def test_base_url_is_completed_for_the_protocol() -> None:
    v1 = mnist_client.resolve_endpoint(
        url="http://h:8080", stack=None, host_header="x", model_name="digits", protocol="v1"
    )
    assert v1.url == "http://h:8080/v1/models/digits:predict"
    v2 = mnist_client.resolve_endpoint(url="http://h:8080", stack=None, host_header=None, model_name=None, protocol=None)
    assert (v2.protocol, v2.url) == ("v2", "http://h:8080/v2/models/mnist/infer")
    full = "http://h/v2/models/mnist/infer"
    assert (
        mnist_client.resolve_endpoint(url=full, stack=None, host_header=None, model_name=None, protocol="v2").url
        == full
    )


def test_a_full_url_says_its_protocol() -> None:
    endpoint = mnist_client.resolve_endpoint(
        url="http://h/v1/models/mnist:predict", stack=None, host_header=None, model_name=None, protocol=None
    )
    assert endpoint.protocol == "v1"


def test_a_protocol_that_contradicts_the_url_is_refused() -> None:
    with pytest.raises(
        ValueError,
        match=re.escape(
            "--protocol v1 does not match --url http://h/v2/models/mnist/infer, whose path is a V2 path. "
            "Drop --protocol, or pass the base URL and let --protocol complete it"
        ),
    ):
        mnist_client.resolve_endpoint(
            url="http://h/v2/models/mnist/infer", stack=None, host_header=None, model_name=None, protocol="v1"
        )


# --- Which Pulumi backend the client reads outputs from -------------------------------------------


def _state(tmp_path: Path, passphrase: bool = True) -> Path:
    state = tmp_path / ".pulumi-state"
    state.mkdir()
    if passphrase:
        (state / "passphrase").write_text("x\n")
    return tmp_path


def test_without_a_login_outputs_come_from_the_repo_state(tmp_path):
    repo = _state(tmp_path)
    env = mnist_client.local_backend_env({"PULUMI_HOME": str(tmp_path / "home")}, repo)
    assert env == {
        "PULUMI_BACKEND_URL": f"file://{repo / '.pulumi-state'}",
        "PULUMI_CONFIG_PASSPHRASE_FILE": str(repo / ".pulumi-state" / "passphrase"),
    }


@pytest.mark.parametrize(
    "environ",
    [
        {"PULUMI_BACKEND_URL": "s3://bucket"},
        {"PULUMI_ACCESS_TOKEN": "pul-x"},
    ],
)
def test_a_chosen_backend_is_left_alone(tmp_path, environ):
    assert mnist_client.local_backend_env({**environ, "PULUMI_HOME": str(tmp_path)}, _state(tmp_path)) == {}


def test_a_pulumi_login_is_left_alone(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "credentials.json").write_text('{"current": "https://api.pulumi.com"}')
    assert mnist_client.local_backend_env({"PULUMI_HOME": str(home)}, _state(tmp_path)) == {}


def test_a_passphrase_the_user_set_wins(tmp_path):
    env = mnist_client.local_backend_env(
        {"PULUMI_HOME": str(tmp_path / "home"), "PULUMI_CONFIG_PASSPHRASE": "mine"}, _state(tmp_path)
    )
    assert set(env) == {"PULUMI_BACKEND_URL"}


def test_no_repo_state_means_no_change(tmp_path):
    assert mnist_client.local_backend_env({"PULUMI_HOME": str(tmp_path)}, tmp_path) == {}
