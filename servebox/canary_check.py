"""The end-of-`up` proof of a canary: each version of the model answers, at its own host.

KServe in Knative mode tags the predictor's revisions (`latest`: the new version; `prev`: the one
rolled out last), and Knative routes each tag's host to its revision alone
(`<tag>-<model>-predictor.<namespace>.<domain>`, components/platform/kserve.py). Through the
ingress by address, with each host in turn, this asks the model server whether the model is
ready (V2 `GET /v2/models/<model>/ready`, V1 `GET /v1/models/<model>`: KServe's data plane answers
200 once the model loaded its files), until every version says so or the time is up.

    python scripts/canary_check.py --url http://<ingress> --model churn --protocol v2 \
        --host prev-churn-predictor.models.<domain> --host latest-churn-predictor.models.<domain>

The API key, where the stack has one, comes from SERVEBOX_API_KEY (never an argument). Exit codes
are servebox's (servebox/outcomes.py): 0 every version answers, 11 one does not in time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
from collections.abc import Callable, Sequence

from components.model import auth
from servebox.inference import gateway_request, opener_for
from servebox.outcomes import Outcome


def ready_url(url_base: str, model: str, protocol: str) -> str:
    """Where the protocol says whether a model is ready."""
    base = url_base.rstrip("/")
    return f"{base}/v2/models/{model}/ready" if protocol == "v2" else f"{base}/v1/models/{model}"


def answers(url: str, host: str, protocol: str, api_key: str | None, timeout: float = 10.0) -> str | None:
    """None when the model behind `host` is ready; else what was wrong, in a few words."""
    try:
        with opener_for(url).open(gateway_request(url, host, api_key), timeout=timeout) as response:
            body = response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        return f"no answer ({getattr(error, 'reason', error)})"
    if protocol == "v1":
        try:
            ready = json.loads(body).get("ready")
        except (ValueError, AttributeError):
            return "an answer that is not KServe's V1 model status"
        return None if ready in (True, "True", "true") else f"not ready ({body[:80]})"
    return None


def wait_for_versions(
    url: str,
    hosts: Sequence[str],
    protocol: str,
    *,
    timeout: float,
    api_key: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, str | None]:
    """Each host's last verdict (None: ready), polling the ones not ready yet until `timeout`."""
    deadline = clock() + timeout
    verdicts: dict[str, str | None] = {host: "not asked" for host in hosts}
    delay = 1.0
    while True:
        for host in hosts:
            if verdicts[host] is not None:
                verdicts[host] = answers(url, host, protocol, api_key)
        if all(verdict is None for verdict in verdicts.values()) or clock() >= deadline:
            return verdicts
        sleep(min(delay, max(0.0, deadline - clock())))
        delay = min(delay * 2, 16.0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check that every version of a model answers at its own host.")
    parser.add_argument("--url", required=True, help="the ingress by address: http://<address>[:port]")
    parser.add_argument("--model", required=True)
    parser.add_argument("--protocol", choices=("v1", "v2"), default="v2")
    parser.add_argument("--host", action="append", required=True, help="a version's host (repeat for each)")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    url = ready_url(args.url, args.model, args.protocol)
    verdicts = wait_for_versions(url, args.host, args.protocol, timeout=args.timeout, api_key=os.environ.get(auth.ENV))
    print(json.dumps({"model": args.model, "versions": {h: v or "ready" for h, v in verdicts.items()}}, indent=2))
    failing = {host: verdict for host, verdict in verdicts.items() if verdict is not None}
    if failing:
        for host, verdict in failing.items():
            print(f"canary check: {args.model} at {host} does not answer: {verdict}", file=sys.stderr)
        return Outcome.SMOKE_FAILED.code
    print(f"canary check: every version of {args.model} answers ({len(verdicts)})", file=sys.stderr)
    return Outcome.PASSED.code
