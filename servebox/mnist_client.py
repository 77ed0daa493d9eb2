"""The project's own client for the MNIST endpoint, shared by predict.py, smoke_test.py and tests.

It builds Open Inference Protocol (V2) and KServe V1 requests, sends them with the standard
library only (so it behaves like curl: optional Host header for an Istio ingress), checks the
answers, and turns every way a call can go wrong into an `EndpointError` that names the URL,
the HTTP status and body excerpt, and what to check. It also loads held-out sample digits (the
same split and seed as training, so they were never trained on) and draws them as text.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import os
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components import training as train_mnist
from components.model import auth
from components.model.digits import Sample as Sample  # re-exported: the client's public names
from components.model.digits import load_samples as load_samples
from components.model.digits import v2_request as v2_request
from servebox.inference import gateway_request, opener_for

PROTOCOLS = ("v2", "v1")
DEFAULT_MODEL_NAME = "mnist"
REQUEST_TIMEOUT = 10.0
# The stack output names, defined once for the program, the scripts and the tests.
OUTPUTS_MODULE = train_mnist.REPO_ROOT / "components" / "outputs.py"
CLI_SECRET = "[secret]"
"""How `pulumi stack output` shows a secret value without --show-secrets."""
_EXCERPT_CHARS = 300
_SHADES = " ░▒▓█"


class EndpointError(Exception):
    """A call to the model endpoint failed or gave an answer the client cannot use."""

    def __init__(self, problem: str, *, url: str, check: str, status: int | None = None, body: str = "") -> None:
        self.problem = problem
        self.url = url
        self.check = check
        self.status = status
        self.body = body
        answer = f" -> HTTP {status}" if status is not None else ""
        excerpt = f": {_excerpt(body)}" if body else ""
        super().__init__(f"{problem} (calling {url}{answer}{excerpt}). Check: {check}")


class StackOutputsError(Exception):
    """The endpoint could not be read from the Pulumi stack outputs."""


@dataclass(frozen=True)
class Endpoint:
    """Where and how to send digits: the full inference URL, its protocol and Host header."""

    url: str
    protocol: str = "v2"
    host_header: str | None = None
    api_key: str | None = field(default=None, repr=False)
    """The stack's key (modelAuth apikey), sent in x-api-key; never printed."""


def render_digit(pixels: Sequence[int]) -> str:
    """Draw a 28x28 digit as 14 text lines: each 2x2 pixel block becomes two shade characters."""
    side = 28
    lines = []
    for row in range(0, side, 2):
        cells = []
        for col in range(0, side, 2):
            block = [pixels[(row + dr) * side + col + dc] for dr in (0, 1) for dc in (0, 1)]
            shade = _SHADES[min(len(_SHADES) - 1, sum(block) * len(_SHADES) // (4 * 256))]
            cells.append(shade * 2)  # two characters per cell keep the digit's aspect ratio
        lines.append("".join(cells))
    return "\n".join(lines)


def v2_infer_url(base_url: str, model_name: str) -> str:
    """`<base>/v2/models/<model>/infer`."""
    return f"{base_url.rstrip('/')}/v2/models/{model_name}/infer"


def v1_predict_url(base_url: str, model_name: str) -> str:
    """`<base>/v1/models/<model>:predict`."""
    return f"{base_url.rstrip('/')}/v1/models/{model_name}:predict"


def v2_ready_url(infer_url: str) -> str:
    """The model-ready URL that belongs to a V2 infer URL."""
    base, found, _ = infer_url.rpartition("/infer")
    if not found:
        raise ValueError(f"not a V2 infer URL (no /infer): {infer_url}")
    return f"{base}/ready"


def v1_request(rows: Sequence[Sequence[float]]) -> dict[str, Any]:
    """A KServe V1 predict request: `{"instances": [[784 values], ...]}`."""
    return {"instances": [list(row) for row in rows]}


def parse_v2_answer(answer: Any, count: int, url: str) -> list[int]:
    """The predicted labels in a V2 answer: output `predict` (or the only output), one per digit."""
    outputs = answer.get("outputs") if isinstance(answer, dict) else None
    if not isinstance(outputs, list) or not outputs:
        raise _shape_error(url, f"expected a V2 answer with an 'outputs' list, got {_excerpt(json.dumps(answer))}")
    chosen = next((o for o in outputs if isinstance(o, dict) and o.get("name") == "predict"), outputs[0])
    data = chosen.get("data") if isinstance(chosen, dict) else None
    return _labels(data, count, url)


def parse_v1_answer(answer: Any, count: int, url: str) -> list[int]:
    """The predicted labels in a V1 answer: `{"predictions": [label, ...]}`."""
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    return _labels(predictions, count, url)


def send_json(
    url: str,
    payload: Any = None,
    *,
    host_header: str | None = None,
    api_key: str | None = None,
    timeout: float = REQUEST_TIMEOUT,
    raw_body: bytes | None = None,
) -> Any:
    """POST a JSON payload (or GET when there is no body) and return the decoded JSON answer.

    `raw_body` sends bytes as they are, for testing how the server treats malformed requests.
    """
    body = raw_body if raw_body is not None else (None if payload is None else json.dumps(payload).encode())
    status, text = _call(gateway_request(url, host_header, api_key, body), url, timeout)
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise EndpointError(
            "the answer is not JSON",
            url=url,
            status=status,
            body=text,
            check="the URL may reach a web page or proxy instead of the model server; use the stack's "
            "infer_url/predict_url (and --host-header when going through the ingress)",
        ) from None


def predict(endpoint: Endpoint, rows: Sequence[Sequence[float]], *, timeout: float = REQUEST_TIMEOUT) -> list[int]:
    """Send digits (already scaled) in one request and return one predicted label per digit."""
    if endpoint.protocol == "v2":
        answer = send_json(
            endpoint.url, v2_request(rows), host_header=endpoint.host_header, api_key=endpoint.api_key, timeout=timeout
        )
        return parse_v2_answer(answer, len(rows), endpoint.url)
    if endpoint.protocol == "v1":
        answer = send_json(
            endpoint.url, v1_request(rows), host_header=endpoint.host_header, api_key=endpoint.api_key, timeout=timeout
        )
        return parse_v1_answer(answer, len(rows), endpoint.url)
    raise ValueError(f"protocol: got {endpoint.protocol!r}; expected one of {', '.join(PROTOCOLS)}")


def local_backend_env(environ: Mapping[str, str], repo: Path = train_mnist.REPO_ROOT) -> dict[str, str]:
    """What scripts/pulumi-backend.sh sets when there is no Pulumi login, or {} when there is one.

    Without a login, scripts/up.sh keeps state in .pulumi-state/ with a passphrase file beside it;
    reading outputs must look in the same place.
    """
    if environ.get("PULUMI_BACKEND_URL") or environ.get("PULUMI_ACCESS_TOKEN"):
        return {}
    credentials = Path(environ.get("PULUMI_HOME") or Path.home() / ".pulumi") / "credentials.json"
    try:
        if '"current"' in credentials.read_text():
            return {}
    except OSError:
        pass
    state = repo / ".pulumi-state"
    if not state.is_dir():
        return {}
    env = {"PULUMI_BACKEND_URL": f"file://{state}"}
    passphrase = state / "passphrase"
    if not (environ.get("PULUMI_CONFIG_PASSPHRASE") or environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")) and passphrase.is_file():
        env["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(passphrase)
    return env


def add_endpoint_arguments(parser: argparse.ArgumentParser, url_help: str) -> None:
    """The options that say where the model is: a stack's outputs or a URL (resolve_endpoint)."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stack", help="Pulumi stack to read the endpoint from (default: the selected stack)")
    where.add_argument("--url", help=url_help)
    parser.add_argument("--host-header", help="Host header to send (needed through the Istio ingress)")
    parser.add_argument("--model", help=f"model name that completes a base --url (default {DEFAULT_MODEL_NAME})")
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        help="inference protocol (default: the stack's `protocol` output; for --url, the URL's path, else v2)",
    )


def read_stack_outputs(
    stack: str | None = None, *, cwd: Path = train_mnist.REPO_ROOT, show_secrets: bool = False
) -> dict[str, Any]:
    """`pulumi stack output --json` for the given (or the selected) stack, secrets left hidden
    unless `show_secrets` (then held in memory only, never printed)."""
    command = ["pulumi", "stack", "output", "--json", "--show-secrets" if show_secrets else "--show-secrets=false"]
    if stack:
        command += ["--stack", stack]
    env = {**os.environ, **local_backend_env(os.environ, cwd)}
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False, env=env)
    except FileNotFoundError:
        raise StackOutputsError("the pulumi CLI is not on PATH; install it, or pass --url instead of --stack") from None
    except subprocess.TimeoutExpired:
        raise StackOutputsError(f"`{' '.join(command)}` did not finish within 120 s") from None
    if result.returncode != 0:
        raise StackOutputsError(
            f"`{' '.join(command)}` failed with exit code {result.returncode}: {_excerpt(result.stderr)}. "
            "Check the stack name (`pulumi stack ls`) and that you are logged in to its backend."
        )
    try:
        outputs = json.loads(result.stdout)
    except ValueError:
        raise StackOutputsError(f"`{' '.join(command)}` printed no JSON: {_excerpt(result.stdout)}") from None
    if not isinstance(outputs, dict):
        raise StackOutputsError(f"`{' '.join(command)}` printed {type(outputs).__name__}, not an object")
    return outputs


def url_protocol(url: str) -> str | None:
    """The protocol a full inference URL's path speaks; None for a base URL."""
    path = urllib.parse.urlsplit(url).path
    if "/v2/models/" in path:
        return "v2"
    if "/v1/models/" in path:
        return "v1"
    return None


def resolve_endpoint(
    *,
    url: str | None,
    stack: str | None,
    host_header: str | None,
    model_name: str | None,
    protocol: str | None,
) -> Endpoint:
    """The endpoint from --url (a full inference URL or a base URL) or from the stack outputs.

    The protocol is the one asked for, else what the URL's path speaks, else the stack's
    `protocol` output (the model's own), else V2. A base URL is completed with that protocol's
    path for `model_name` (default mnist); the stack outputs already hold full URLs. An explicit
    Host header wins over the stack's.
    """
    if protocol is not None and protocol not in PROTOCOLS:
        raise ValueError(f"--protocol: got {protocol!r}; allowed: {', '.join(PROTOCOLS)}")
    if url:
        spoken = url_protocol(url)
        if protocol and spoken and protocol != spoken:
            raise ValueError(
                f"--protocol {protocol} does not match --url {url}, whose path is a {spoken.upper()} path. "
                f"Drop --protocol, or pass the base URL and let --protocol complete it"
            )
        protocol = protocol or spoken or "v2"
        if not spoken:
            model = model_name or DEFAULT_MODEL_NAME
            url = v2_infer_url(url, model) if protocol == "v2" else v1_predict_url(url, model)
        return Endpoint(url=url, protocol=protocol, host_header=host_header, api_key=os.environ.get(auth.ENV) or None)
    outputs = read_stack_outputs(stack)
    endpoint = endpoint_from_outputs(outputs, stack=stack, host_header=host_header, protocol=protocol)
    if endpoint.api_key is None and takes_a_key(outputs):
        # Read the key (and only keep it): the models take one and the environment has none.
        shown = read_stack_outputs(stack, show_secrets=True).get(_names().API_KEY)
        endpoint = dataclasses.replace(endpoint, api_key=str(shown) if shown else None)
    return endpoint


def takes_a_key(outputs: Mapping[str, Any]) -> bool:
    """Whether the stack's models want an API key (its `api_key` output is set, shown or hidden)."""
    return bool(outputs.get(_names().API_KEY))


def _names() -> Any:
    return train_mnist.load_repo_module(OUTPUTS_MODULE)


def endpoint_from_outputs(
    outputs: Mapping[str, Any], *, stack: str | None, host_header: str | None = None, protocol: str | None = None
) -> Endpoint:
    """The endpoint a stack's outputs publish (its `infer_url` or `predict_url`, and `host_header`)."""
    names = train_mnist.load_repo_module(OUTPUTS_MODULE)
    stack_protocol = outputs.get(names.PROTOCOL)
    protocol = protocol or (stack_protocol if stack_protocol in PROTOCOLS else "v2")
    key = names.INFER_URL if protocol == "v2" else names.PREDICT_URL
    stack_url = outputs.get(key)
    if not isinstance(stack_url, str) or not stack_url:
        other = "v1" if protocol == "v2" else "v2"
        raise StackOutputsError(
            f"stack {stack or '(selected)'} has no '{key}' output for {protocol.upper()}. Has `pulumi up` "
            f"finished for this stack? If its runtime does not serve {protocol.upper()}, try --protocol {other}."
        )
    stack_host = outputs.get(names.HOST_HEADER)
    stack_key = outputs.get(names.API_KEY)
    return Endpoint(
        url=stack_url,
        protocol=protocol,
        host_header=host_header or (stack_host if isinstance(stack_host, str) and stack_host else None),
        # The environment's key first; the stack's when the outputs show it (never the CLI's mask).
        api_key=os.environ.get(auth.ENV) or (str(stack_key) if stack_key and stack_key != CLI_SECRET else None),
    )


def _call(request: urllib.request.Request, url: str, timeout: float) -> tuple[int, str]:
    try:
        with opener_for(url).open(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", errors="replace")
        raise _http_error(url, error.code, body) from None
    except (OSError, http.client.HTTPException) as error:  # URLError and TimeoutError are OSErrors
        raise _no_answer_error(url, error, timeout) from None


_MAY_BE_STARTING = (
    "the model may still be starting (Knative scales it from zero) or overloaded; wait and retry, or raise the timeout"
)
_IS_IT_RUNNING = (
    "that the server or cluster is running and the URL's host and port are right "
    "(for a stack: `pulumi stack output infer_url` and the ingress address)"
)
# What an HTTP status means for a prediction, and what to check; any other status is a rejection.
_STATUS_MEANINGS = {
    403: (
        "the gateway refused the request: the stack's models take an API key (modelAuth)",
        f"that {auth.ENV} holds the stack's key: "
        f'export {auth.ENV}="$(pulumi stack output api_key --show-secrets --stack <stack>)"',
    ),
    404: (
        "wrong URL: nothing answers at this path",
        "the path is /v2/models/<model>/infer (V2) or /v1/models/<model>:predict (V1), <model> "
        "is the InferenceService name, the runtime serves that protocol, and through the ingress "
        "the Host header (--host-header) is the InferenceService's host",
    ),
    **dict.fromkeys(
        (502, 503, 504),
        (
            "the model is not serving yet",
            "the InferenceService may still be starting or scaling from zero; wait and retry "
            "(`kubectl get inferenceservice -A`)",
        ),
    ),
}
_REJECTED = (
    "the server rejected the request",
    "the body excerpt says why; requests must be FP32 tensors shaped [n, 784] scaled by metrics.json's input_scale",
)


def _no_answer_error(url: str, error: Exception, timeout: float) -> EndpointError:
    """Nothing, or half an answer, came back: too slow, unreachable, or cut off."""
    # A connect timeout arrives wrapped in URLError; a read timeout arrives bare.
    if isinstance(getattr(error, "reason", error), TimeoutError):
        return EndpointError(f"no answer within {timeout:g} s", url=url, check=_MAY_BE_STARTING)
    reason = str(error.reason) if isinstance(error, urllib.error.URLError) else f"connection failed mid-answer: {error!r}"
    return EndpointError(f"the endpoint is unreachable ({reason})", url=url, check=_IS_IT_RUNNING)


def _http_error(url: str, status: int, body: str) -> EndpointError:
    problem, check = _STATUS_MEANINGS.get(status, _REJECTED)
    return EndpointError(problem, url=url, status=status, body=body, check=check)


def _labels(values: Any, count: int, url: str) -> list[int]:
    if not isinstance(values, list) or len(values) != count:
        got = f"{len(values)} values" if isinstance(values, list) else _excerpt(json.dumps(values))
        raise _shape_error(url, f"expected {count} predicted labels, got {got}")
    labels = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise _shape_error(url, f"expected integer labels 0-9, got {_excerpt(json.dumps(value))}")
        labels.append(int(value))
    return labels


def _shape_error(url: str, detail: str) -> EndpointError:
    return EndpointError(
        f"the answer has the wrong shape: {detail}",
        url=url,
        check="that the URL serves the MNIST model (one label per digit) and --protocol matches the runtime",
    )


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT_CHARS else flat[:_EXCERPT_CHARS] + "…"
