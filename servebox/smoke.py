"""Check that a servebox model endpoint serves and is accurate enough; exit non-zero if not.

Waits with exponential backoff (bounded by --timeout and --max-attempts) until an inference
request answers (V2 or V1: --protocol, else the URL's path or the stack's `protocol` output), then
scores --count held-out digits one request each, prints a JSON summary on stdout and a verdict on
stderr. CI, workshops and the Pulumi program's last step call it:

    python scripts/smoke_test.py --url <infer_url> --host-header <h> --count 20 --min-accuracy 0.8 --timeout 300
    python scripts/smoke_test.py --stack dev          # or: servebox smoke dev
    python scripts/smoke_test.py --stack dev --protocol v1

Exit codes: 0 passed, 1 accuracy below --min-accuracy, 2 not serving in time or a request failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from components.platform.probe import KUBECONFIG_ENV
from servebox import mnist_client
from servebox.outcomes import Outcome

# servebox's one exit-code table (servebox/outcomes.py): a model that does not serve or answers below
# the threshold is a failed smoke test; an endpoint that cannot even be named is bad input.
DIAGNOSIS_KUBECONFIG_ENV = KUBECONFIG_ENV
"""The cluster's kubeconfig, for --diagnose (the probes' variable): never an argument."""
EXIT_OK = Outcome.PASSED.code
EXIT_INACCURATE = Outcome.SMOKE_FAILED.code
EXIT_NOT_SERVING = Outcome.SMOKE_FAILED.code
EXIT_BAD_INPUT = Outcome.BAD_INPUT.code


class NotServing(Exception):
    """The endpoint did not answer an inference request within the allowed time and attempts."""

    def __init__(self, attempts: int, waited: float, last_error: Exception) -> None:
        self.attempts = attempts
        super().__init__(
            f"the endpoint did not serve after {attempts} attempts in {waited:.0f} s; last error: {last_error}"
        )


def wait_until_serving(
    endpoint: mnist_client.Endpoint,
    probe: Sequence[float],
    *,
    timeout: float,
    max_attempts: int,
    initial_delay: float = 1.0,
    max_delay: float = 16.0,
    stop: threading.Event | None = None,
) -> int:
    """Send one digit until it is answered; return the number of attempts it took.

    The probe is a real inference request rather than a readiness GET, so it proves the whole
    path: ingress, Host routing, Knative activator and the model itself.
    """
    started = time.monotonic()
    deadline = started + timeout
    delay = initial_delay
    attempts = 0
    while True:
        attempts += 1
        remaining = deadline - time.monotonic()
        try:
            mnist_client.predict(endpoint, [probe], timeout=max(0.1, min(mnist_client.REQUEST_TIMEOUT, remaining)))
            return attempts
        except mnist_client.EndpointError as error:
            last_error = error
        remaining = deadline - time.monotonic()
        if attempts >= max_attempts or remaining <= 0 or (stop is not None and stop.is_set()):
            raise NotServing(attempts, time.monotonic() - started, last_error)
        # Progress on stderr, so a long wait in CI or `pulumi up` shows what it is waiting for.
        print(f"not serving yet (attempt {attempts}): {last_error.problem}; retrying", file=sys.stderr)
        # `servebox ephemeral` stops the wait on SIGINT, SIGTERM or its timeout.
        if stop is not None:
            stop.wait(min(delay, remaining))
        else:
            time.sleep(min(delay, remaining))
        delay = min(delay * 2, max_delay)


def run(
    endpoint: mnist_client.Endpoint,
    *,
    count: int,
    min_accuracy: float,
    timeout: float,
    max_attempts: int,
    stop: threading.Event | None = None,
) -> tuple[int, dict[str, Any]]:
    """Wait, score `count` digits and return (exit code, JSON summary)."""
    summary: dict[str, Any] = {
        "url": endpoint.url,
        "protocol": endpoint.protocol,
        "count": count,
        "correct": 0,
        "accuracy": 0.0,
        "latency_ms_p50": None,
        "attempts": 0,
        "min_accuracy": min_accuracy,
        "ok": False,
        "error": None,
    }
    samples = mnist_client.load_samples(count)
    try:
        summary["attempts"] = wait_until_serving(
            endpoint, samples[0].inputs(), timeout=timeout, max_attempts=max_attempts, stop=stop
        )
    except NotServing as error:
        summary["attempts"] = error.attempts
        summary["error"] = str(error)
        return EXIT_NOT_SERVING, summary

    latencies_ms: list[float] = []
    correct = 0
    try:
        for sample in samples:
            started = time.perf_counter()
            (answer,) = mnist_client.predict(endpoint, [sample.inputs()])
            latencies_ms.append((time.perf_counter() - started) * 1000)
            correct += answer == sample.label
    except mnist_client.EndpointError as error:
        summary["error"] = f"a request failed while scoring: {error}"
        return EXIT_NOT_SERVING, summary

    accuracy = correct / count
    summary.update(
        correct=correct,
        accuracy=accuracy,
        latency_ms_p50=round(statistics.median(latencies_ms), 2),
        ok=accuracy >= min_accuracy,
    )
    if not summary["ok"]:
        summary["error"] = f"accuracy {accuracy:.2f} is below --min-accuracy {min_accuracy:g}"
        return EXIT_INACCURATE, summary
    if endpoint.api_key:
        # The key is only worth something if a request without it is refused: ask once without.
        summary["refused_without_key"] = refused_without_key(endpoint, samples[0].inputs())
        if not summary["refused_without_key"]:
            summary["ok"] = False
            summary["error"] = (
                "the model answered a request without the API key: the gateway's AuthorizationPolicy is not "
                "enforced (check `kubectl -n istio-system get authorizationpolicy` and that this URL goes "
                "through the stack's Istio gateway)"
            )
            return EXIT_NOT_SERVING, summary
    return EXIT_OK, summary


def refused_without_key(endpoint: mnist_client.Endpoint, inputs: list[float]) -> bool:
    """Whether the endpoint refuses (HTTP 403) the same request sent without the key."""
    try:
        mnist_client.predict(dataclasses.replace(endpoint, api_key=None), [inputs])
    except mnist_client.EndpointError as error:
        return error.status == 403
    return False


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return one of the EXIT_* codes."""
    parser = argparse.ArgumentParser(description="Wait for the MNIST endpoint, score digits, fail below a threshold.")
    mnist_client.add_endpoint_arguments(parser, "infer/predict URL, or a base URL completed with --model and --protocol")
    parser.add_argument("--count", type=int, default=20, help="held-out digits to score (default 20)")
    parser.add_argument("--min-accuracy", type=float, default=0.8, help="fail below this accuracy (default 0.8)")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for the endpoint to serve (default 300)"
    )
    parser.add_argument("--max-attempts", type=int, default=60, help="attempts while waiting (default 60)")
    parser.add_argument("--serving", default="kserve", choices=("kserve", "seldon"), help="for --diagnose (default kserve)")
    parser.add_argument(
        "--diagnose",
        metavar="NAMESPACE/MODEL",
        help=f"when the model never serves, say why, read from the cluster ({DIAGNOSIS_KUBECONFIG_ENV} holds its kubeconfig)",
    )
    args = parser.parse_args(argv)

    try:
        endpoint = mnist_client.resolve_endpoint(
            url=args.url, stack=args.stack, host_header=args.host_header, model_name=args.model, protocol=args.protocol
        )
        code, summary = run(
            endpoint,
            count=args.count,
            min_accuracy=args.min_accuracy,
            timeout=args.timeout,
            max_attempts=args.max_attempts,
        )
    except (mnist_client.StackOutputsError, ValueError) as error:
        print(f"smoke test FAILED: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(summary))
    if code == EXIT_OK:
        print(
            f"smoke test passed: {summary['correct']}/{summary['count']} right "
            f"(>= {args.min_accuracy:g}), p50 {summary['latency_ms_p50']} ms, {endpoint.url}",
            file=sys.stderr,
        )
    else:
        print(f"smoke test FAILED: {summary['error']}", file=sys.stderr)
        if code == EXIT_NOT_SERVING and args.diagnose and os.environ.get(DIAGNOSIS_KUBECONFIG_ENV):
            print(f"why: {why_not_serving(os.environ[DIAGNOSIS_KUBECONFIG_ENV], args.diagnose, args.serving)}", file=sys.stderr)
    return code


def why_not_serving(kubeconfig: str, where: str, serving: str) -> str:
    """The model's diagnosis from the cluster (servebox status's), or why it could not be read."""
    from servebox import model_status

    namespace, _, model = where.partition("/")
    try:
        states = {state.name: state for state in model_status.read_models(kubeconfig, namespace, serving)}
    except Exception as error:  # the diagnosis is a courtesy: its own failure must not hide the smoke test's
        return f"the cluster could not be asked ({type(error).__name__}: {error})"
    state = states.get(model)
    if state is None:
        return f"there is no model {model!r} in namespace {namespace}"
    return "it is ready now: it only took longer than the smoke test waited" if state.ready else f"{state.reason}. Fix: {state.fix}"


if __name__ == "__main__":
    sys.exit(main())
