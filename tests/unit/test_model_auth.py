"""modelAuth: the API key the gateway demands, and the clients that send it.

The AuthorizationPolicy is evaluated with Istio's documented semantics
(https://istio.io/latest/docs/reference/config/security/authorization-policy/): a DENY policy on
the workloads its selector matches denies a request when any rule matches; a rule matches when one
of its `to` operations matches (each listed field: `hosts`/`paths` an exact value, a `prefix*` or a
`*suffix`) and every `when` condition does (`notValues`: the attribute is none of them; a header the
request lacks is none of them). What this cannot show: Envoy applying it on a cluster.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from components import outputs
from components.config import ConfigError
from components.model import auth
from servebox import inference, mnist_client, serving
from tests import harness, local_http
from tests.engine import project_settings
from tests.harness import ProgramRun, run_program, secret_value

GATEWAY = {"app": "istio-ingressgateway", "istio": "ingressgateway"}
KEY = "p" * 32  # the mocks' RandomPassword result
POLICY_TYPE = "kubernetes:security.istio.io/v1:AuthorizationPolicy"


def _matches(pattern: str, value: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return value == pattern


def denied(policy: Mapping, workload: Mapping[str, str], host: str, path: str, headers: Mapping[str, str]) -> bool:
    """Whether Istio denies the request at a workload labelled `workload`."""
    spec = policy["spec"]
    assert spec["action"] == "DENY"
    if not all(workload.get(k) == v for k, v in spec["selector"]["matchLabels"].items()):
        return False
    for rule in spec["rules"]:
        operations = [to["operation"] for to in rule.get("to", [])]
        to_matches = not operations or any(
            all(any(_matches(p, value) for p in op[field]) for field, value in (("hosts", host), ("paths", path)) if field in op)
            for op in operations
        )
        when = rule.get("when", [])
        conditions = []
        for condition in when:
            header = condition["key"].removeprefix("request.headers[").removesuffix("]")
            assert condition["key"] == f"request.headers[{header}]" and set(condition) == {"key", "notValues"}
            conditions.append(headers.get(header) not in condition["notValues"])
        if to_matches and all(conditions):
            return True
    return False


def _policy(run: ProgramRun) -> dict:
    (resource,) = run.of_type(POLICY_TYPE)
    assert resource.inputs["metadata"]["namespace"] == "istio-system"
    return {"spec": secret_value(resource.inputs["spec"])}


@pytest.fixture(scope="module")
def kind_run() -> ProgramRun:
    return run_program({"target": "kind", "modelAuth": "apikey"}, stack="kind")


HOST = "mnist.models.127.0.0.1.sslip.io"


@pytest.mark.parametrize(
    ("host", "path", "headers", "refused"),
    [
        pytest.param(f"{HOST}:8080", "/v2/models/mnist/infer", {"x-api-key": KEY}, False, id="the-key"),
        pytest.param(f"{HOST}:8080", "/v2/models/mnist/infer", {}, True, id="no-key"),
        pytest.param(f"{HOST}:8080", "/v2/models/mnist/infer", {"x-api-key": "guess"}, True, id="a-wrong-key"),
        pytest.param(HOST, "/v1/models/mnist:predict", {}, True, id="no-key-without-a-port"),
        pytest.param(HOST, "/v2/models/mnist/infer", {"x-api-key": KEY}, False, id="the-key-without-a-port"),
        pytest.param("grafana.example.com", "/", {}, False, id="another-host-is-not-touched"),
        # Knative publishes the predictor's own route, and a canary's tagged revisions, at the
        # same gateway: without these hosts in the policy they answered without the key.
        pytest.param("mnist-predictor.models.127.0.0.1.sslip.io:8080", "/v2/models/mnist/infer", {}, True, id="predictor-host"),
        pytest.param("prev-mnist-predictor.models.127.0.0.1.sslip.io", "/v2/models/mnist/infer", {}, True, id="prev-revision"),
        pytest.param("latest-mnist-predictor.models.127.0.0.1.sslip.io:8080", "/", {}, True, id="latest-revision"),
        pytest.param("latest-mnist-predictor.models.127.0.0.1.sslip.io:8080", "/", {"x-api-key": KEY}, False, id="revision-with-key"),
    ],
)
def test_the_gateway_takes_only_requests_with_the_key(kind_run: ProgramRun, host, path, headers, refused) -> None:
    assert denied(_policy(kind_run), GATEWAY, host, path, headers) is refused


def test_the_policy_is_on_the_gateway_pods_only(kind_run: ProgramRun) -> None:
    assert not denied(_policy(kind_run), {"app": "activator"}, f"{HOST}:8080", "/", {})


@pytest.mark.parametrize(
    ("path", "headers", "refused"),
    [
        ("/seldon/models/mnist/v2/models/mnist/infer", {}, True),
        ("/seldon/models/mnist/v2/models/mnist/infer", {"x-api-key": KEY}, False),
        ("/seldon/other-team/model/v2/models/x/infer", {}, False),
    ],
)
def test_on_seldon_the_models_path_prefix_takes_the_key(path: str, headers: dict, refused: bool) -> None:
    run = run_program({"target": "kind", "serving": "seldon", "modelAuth": "apikey"}, stack="kind")
    assert denied(_policy(run), GATEWAY, "127.0.0.1:8080", path, headers) is refused


def test_the_key_is_a_secret_output_the_smoke_test_gets_from_its_environment(kind_run: ProgramRun) -> None:
    assert kind_run.outputs[outputs.API_KEY] == KEY and outputs.API_KEY in kind_run.secret_outputs
    smoke = kind_run["model-smoke-test"]
    environment = secret_value(smoke.inputs["environment"])
    assert environment[auth.ENV] == KEY and set(environment) == {auth.ENV, "SERVEBOX_KUBECONFIG"}
    assert KEY not in smoke.inputs["create"]
    assert "model-api-key-policy" in smoke.depends_on  # the proof at the end of up goes through the check
    assert kind_run["model-api-key"].inputs["length"] == 32


def test_the_curl_line_carries_a_placeholder_never_the_key(kind_run: ProgramRun) -> None:
    curl = kind_run.outputs[outputs.CURL]
    assert curl.startswith('curl -sS -H "x-api-key: $SERVEBOX_API_KEY" -H ')
    assert KEY not in curl and KEY not in str(kind_run.outputs[outputs.MODELS])


@pytest.mark.parametrize(
    ("stack", "config", "on"),
    [
        ("kind", {"target": "kind"}, False),
        ("kind", {"target": "kind", "modelAuth": "apikey"}, True),
        ("gcp", harness.GCP_STACK, False),
        ("gcp", {**harness.GCP_STACK, "modelCidrs": "0.0.0.0/0"}, True),
        ("gcp", {**harness.GCP_STACK, "modelCidrs": "0.0.0.0/0", "modelAuth": "none"}, False),
        ("aws", {**harness.AWS_STACK, "modelCidrs": "0.0.0.0/1,128.0.0.0/1"}, True),
    ],
)
def test_auto_means_a_key_where_the_endpoint_may_face_the_internet(stack: str, config: dict, on: bool) -> None:
    settings = project_settings(stack, config, environ={}, public_ipv4=lambda: harness.FAKE_PUBLIC_IPV4)
    assert settings.model_api_key is on


def test_a_bad_modelAuth_is_refused_with_the_exact_message() -> None:
    with pytest.raises(ConfigError) as error:
        project_settings("kind", {"modelAuth": "token"})
    assert error.value.problems == ["modelAuth: got 'token'; allowed: auto, none, apikey. Fix: pulumi config set modelAuth auto"]


def test_without_a_key_there_is_no_policy_and_no_output() -> None:
    run = run_program({"target": "kind"}, stack="kind")
    assert run.of_type(POLICY_TYPE) == [] and run.outputs[outputs.API_KEY] is None
    assert "x-api-key" not in run.outputs[outputs.CURL]
    assert set(secret_value(run["model-smoke-test"].inputs["environment"])) == {"SERVEBOX_KUBECONFIG"}


# --- the clients send it -------------------------------------------------------------------------


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A local HTTP server that records each request's headers and answers a V2 prediction."""
    seen: list[dict[str, str]] = []

    def respond(method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        seen.append(dict(headers))
        return 200, b'{"outputs": [{"name": "output-0", "shape": [1], "datatype": "INT64", "data": [7]}]}'

    with local_http.serving(respond) as url:
        yield url, seen


def test_servebox_predict_and_smoke_send_the_key_from_the_environment(recorder, monkeypatch) -> None:
    url, seen = recorder
    monkeypatch.setenv(auth.ENV, "k" * 32)
    endpoint = mnist_client.resolve_endpoint(url=url, stack=None, host_header=None, model_name="mnist", protocol="v2")
    assert mnist_client.predict(endpoint, [[0.0] * 784]) == [7]
    assert seen[-1]["x-api-key"] == "k" * 32
    assert "k" * 32 not in repr(endpoint)


def test_a_stack_whose_key_is_hidden_in_its_outputs_is_asked_for_it_once(monkeypatch) -> None:
    monkeypatch.delenv(auth.ENV, raising=False)
    calls: list[bool] = []
    shown = {outputs.INFER_URL: "http://x/v2/models/mnist/infer", outputs.PROTOCOL: "v2", outputs.API_KEY: "[secret]"}

    def read(stack, *, show_secrets=False, cwd=None):
        calls.append(show_secrets)
        return {**shown, outputs.API_KEY: KEY} if show_secrets else shown

    monkeypatch.setattr(mnist_client, "read_stack_outputs", read)
    endpoint = mnist_client.resolve_endpoint(url=None, stack="kind", host_header=None, model_name=None, protocol=None)
    assert endpoint.api_key == KEY and calls == [False, True]


def test_a_handle_and_inference_predict_send_the_key(recorder) -> None:
    url, seen = recorder
    handle = serving.ModelHandle(
        name="churn", stack="kind", url=url, protocol="v2", host_header="churn.models.example", address_url=url,
        format="sklearn", curl="", api_key="h" * 32,
    )
    handle.predict([[1.0, 2.0]])
    assert seen[-1]["x-api-key"] == "h" * 32 and seen[-1]["host"] == "churn.models.example"
    inference.predict(url, "churn", [[1.0]], protocol="v2")
    assert "x-api-key" not in seen[-1]
    assert "h" * 32 not in repr(handle)
