"""A small client for any model a servebox stack serves: KServe V1 and Open Inference Protocol (V2).

Standard library only (urllib), so a notebook needs nothing extra, and it can send the Host header
an Istio ingress routes by. Rows go out as they are: V1 as `{"instances": rows}`, V2 as one tensor
whose shape and datatype are read from the rows (booleans BOOL, integers INT64, floats FP64 so that
nothing is rounded on the way, strings BYTES). The answer comes back as a plain list: V1's
`predictions`, or V2's first output reshaped to its `shape`. Every failure is an InferenceError
naming the URL, the HTTP status and the server's own error text.
https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol
"""

from __future__ import annotations

import ipaddress
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from components.model import auth

PROTOCOLS = ("v1", "v2")
DEFAULT_TIMEOUT = 30.0
_EXCERPT_CHARS = 500


class InferenceError(Exception):
    """A prediction request failed; the message names the URL, the status and the server's text."""

    def __init__(self, message: str, *, url: str, status: int | None = None, server_error: str = "") -> None:
        self.url = url
        self.status = status
        self.server_error = server_error
        super().__init__(message)


def v1_url(url_base: str, model_name: str) -> str:
    """`<base>/v1/models/<model>:predict`."""
    return f"{url_base.rstrip('/')}/v1/models/{model_name}:predict"


def v2_url(url_base: str, model_name: str) -> str:
    """`<base>/v2/models/<model>/infer`."""
    return f"{url_base.rstrip('/')}/v2/models/{model_name}/infer"


def predict(
    url_base: str,
    model_name: str,
    rows: Any,
    protocol: str = "v1",
    host_header: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    datatype: str | None = None,
    api_key: str | None = None,
) -> list:
    """Send `rows` (a list of rows, a list of values, a numpy array or a DataFrame) in one request;
    returns the model's answer as a list, one entry per row."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol: got {protocol!r}; allowed: {', '.join(PROTOCOLS)}. Fix: protocol='v2'")
    if hasattr(rows, "to_numpy"):  # a pandas DataFrame: its rows, not its column names
        rows = rows.to_numpy()
    rows = rows.tolist() if hasattr(rows, "tolist") else list(rows)
    if protocol == "v1":
        url = v1_url(url_base, model_name)
        answer = _post(url, v1_request(rows), host_header, timeout, api_key)
        predictions = answer.get("predictions") if isinstance(answer, dict) else None
        if not isinstance(predictions, list):
            raise InferenceError(f"{url} answered without a 'predictions' list: {_excerpt(json.dumps(answer))}", url=url)
        return predictions
    url = v2_url(url_base, model_name)
    answer = _post(url, v2_request(rows, datatype), host_header, timeout, api_key)
    return parse_v2_answer(answer, url)


def v1_request(rows: Sequence[Any]) -> dict[str, Any]:
    """`{"instances": rows}`."""
    return {"instances": list(rows)}


def v2_request(rows: Sequence[Any], datatype: str | None = None) -> dict[str, Any]:
    """One input tensor `input-0` holding `rows`, row-major, with their shape and datatype."""
    shape, flat = _shape_and_data(rows)
    return {"inputs": [{"name": "input-0", "shape": shape, "datatype": datatype or _datatype(flat), "data": flat}]}


def parse_v2_answer(answer: Any, url: str) -> list:
    """The first output's data, reshaped to its `shape` (a [n] output stays a flat list)."""
    outputs = answer.get("outputs") if isinstance(answer, dict) else None
    if not isinstance(outputs, list) or not outputs or not isinstance(outputs[0], dict):
        raise InferenceError(f"{url} answered without a V2 'outputs' list: {_excerpt(json.dumps(answer))}", url=url)
    data, shape = outputs[0].get("data"), outputs[0].get("shape")
    if not isinstance(data, list) or not isinstance(shape, list) or math.prod(shape) != len(data):
        excerpt = _excerpt(json.dumps(outputs[0]))
        raise InferenceError(f"{url} answered an output whose data does not fit its shape: {excerpt}", url=url)
    return _reshape(data, shape)


def _shape_and_data(rows: Sequence[Any]) -> tuple[list[int], list[Any]]:
    if not rows:
        raise ValueError("rows: got none; allowed: one or more rows. Fix: pass at least one row")
    if not isinstance(rows[0], (list, tuple)):
        return [len(rows)], list(rows)
    widths = {len(row) if isinstance(row, (list, tuple)) else -1 for row in rows}
    if len(widths) != 1 or -1 in widths:
        raise ValueError(
            f"rows: got rows of different lengths ({', '.join(str(w) for w in sorted(widths) if w >= 0)}); allowed: "
            "rows of one length (a V2 tensor is rectangular). Fix: pad the rows, or use protocol='v1'"
        )
    if any(isinstance(value, (list, tuple)) for row in rows for value in row):
        raise ValueError("rows: got nested values inside a row; allowed: rows of numbers, booleans or strings. "
                         "Fix: flatten each row, or use protocol='v1'")
    return [len(rows), widths.pop()], [value for row in rows for value in row]


def _datatype(values: list[Any]) -> str:
    kinds = {type(v) for v in values}
    if kinds <= {bool}:
        return "BOOL"
    if kinds <= {int}:
        return "INT64"
    if kinds <= {int, float}:
        return "FP64"
    if kinds <= {str}:
        return "BYTES"
    names = ", ".join(sorted(k.__name__ for k in kinds))
    raise ValueError(f"rows: got values of types {names}; allowed: one kind per V2 tensor (numbers, booleans or "
                     "strings). Fix: convert them, pass datatype=..., or use protocol='v1'")


def _reshape(data: list[Any], shape: list[int]) -> list:
    if len(shape) <= 1:
        return data
    step = math.prod(shape[1:])
    return [_reshape(data[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def gateway_request(url: str, host_header: str | None, api_key: str | None, body: bytes | None = None) -> urllib.request.Request:
    """A request to a model through the gateway, with its Host header and key: a POST of the JSON
    `body` when there is one, else a GET."""
    request = urllib.request.Request(url, data=body, method="GET" if body is None else "POST")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if host_header:
        request.add_header("Host", host_header)
    if api_key:
        request.add_header(auth.HEADER, api_key)
    return request


def _post(url: str, payload: dict[str, Any], host_header: str | None, timeout: float, api_key: str | None = None) -> Any:
    request = gateway_request(url, host_header, api_key, json.dumps(payload).encode())
    try:
        with opener_for(url).open(request, timeout=timeout) as response:
            text = response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", errors="replace")
        server_error = _server_error(body)
        raise InferenceError(
            f"{url} answered HTTP {error.code}: {server_error or '(no body)'}", url=url, status=error.code,
            server_error=server_error,
        ) from None
    except urllib.error.URLError as error:
        raise InferenceError(f"{url} is unreachable ({error.reason}). Check that the model is up and the URL "
                             "and Host header are the stack's", url=url) from None
    except TimeoutError:
        raise InferenceError(f"{url} gave no answer within {timeout:g} s (the model may still be starting)",
                             url=url) from None
    try:
        return json.loads(text)
    except ValueError:
        raise InferenceError(f"{url} answered with something that is not JSON: {_excerpt(text)}", url=url) from None


def _server_error(body: str) -> str:
    """KServe answers errors as `{"error": "..."}` (FastAPI validation: `{"detail": ...}`)."""
    try:
        document = json.loads(body)
    except ValueError:
        return _excerpt(body)
    if isinstance(document, dict):
        for field in ("error", "detail"):
            if field in document:
                value = document[field]
                return _excerpt(value if isinstance(value, str) else json.dumps(value))
    return _excerpt(body)


def opener_for(url: str) -> urllib.request.OpenerDirector:
    # A proxy from the environment can never reach a loopback address (kind, local servers).
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return urllib.request.build_opener(urllib.request.ProxyHandler({})) if loopback else urllib.request.build_opener()


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT_CHARS else flat[:_EXCERPT_CHARS] + "…"
