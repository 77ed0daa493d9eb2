"""Waits until an admission webhook really serves, by asking the API server to use it.

Run by a pulumi-command `Command` between a release that installs a webhook and the first object
that webhook must admit (`python -m components.platform.webhook_probe ...`). A Deployment can be
Ready while its webhook still refuses connections or while cert-manager has not yet injected the
CA into the webhook configuration (kserve#4182, #3102, #3748). So the probe server-side dry-runs a
harmless object the webhook validates, with backoff, until the API server accepts it: that call
goes API server -> Service endpoints -> webhook over TLS with the injected CA, the same path every
later object takes. Nothing is stored.

The kubeconfig comes in the SERVEBOX_KUBECONFIG environment variable and is never printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import yaml

from components.platform import probe
from components.platform.probe import ProbeFailed

# Answers that mean "the webhook (or the API behind it) is not serving yet": ask again later.
_NOT_YET = ("failed calling webhook", "no endpoints available", "connection refused", "x509", "context deadline")


@dataclass(frozen=True)
class Answer:
    """What one dry-run attempt came back with."""

    status: int
    """HTTP status; 0 when the API server itself could not be reached."""
    message: str


class Cluster(Protocol):
    """The two calls the probe makes; real ones in `_KubernetesCluster`, fakes in tests."""

    def dry_run_create(self, manifest: dict[str, Any], plural: str) -> Answer: ...

    def ready_endpoints(self, namespace: str, service: str) -> int: ...


def classify(answer: Answer) -> str:
    """`served`, `retry` or `fatal` for one answer."""
    if 200 <= answer.status < 300:
        return "served"
    text = answer.message.lower()
    if answer.status in (401, 403):
        return "fatal"
    if answer.status == 0 or answer.status >= 500 or answer.status == 404 or any(s in text for s in _NOT_YET):
        # 404: the CRD is not established yet; 5xx and transport errors: not serving yet.
        return "retry"
    if "admission webhook" in text and "denied" in text:
        # The webhook answered (and disliked the probe): it serves.
        return "served"
    return "fatal"


def wait_until_served(
    cluster: Cluster,
    manifest: dict[str, Any],
    *,
    plural: str,
    service: str,
    timeout_seconds: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> int:
    """Dry-run `manifest` until the webhook admits it; return the number of attempts.

    Backs off 1 s, 2 s, 4 s ... up to 10 s between attempts. Raises ProbeFailed on a fatal answer
    or when `timeout_seconds` pass, naming the last answer and the webhook Service's endpoints.
    """
    namespace, _, name = service.partition("/")
    kind = manifest.get("kind", "object")
    deadline = clock() + timeout_seconds
    delay = 1.0
    attempt = 0
    while True:
        attempt += 1
        answer = cluster.dry_run_create(manifest, plural)
        verdict = classify(answer)
        if verdict == "served":
            log(f"webhook for {kind} serves (attempt {attempt})")
            return attempt
        if verdict == "fatal":
            raise ProbeFailed(f"dry-run create of {kind} was refused with HTTP {answer.status}: {answer.message}")
        if clock() + delay > deadline:
            endpoints = cluster.ready_endpoints(namespace, name)
            raise ProbeFailed(
                f"the webhook behind Service {service} did not admit a dry-run {kind} within "
                f"{timeout_seconds:.0f}s ({attempt} attempts; {endpoints} ready endpoint(s)). Last answer: "
                f"HTTP {answer.status}: {answer.message}. Check `kubectl -n {namespace} get pods,endpoints` "
                f"and the logs of the webhook's Deployment there (`kubectl -n {namespace} get deploy`)."
            )
        log(f"webhook for {kind} not serving yet (attempt {attempt}: HTTP {answer.status}); retrying in {delay:.0f}s")
        sleep(delay)
        delay = min(delay * 2, 10.0)


class _KubernetesCluster:
    """The probe's calls through the official Kubernetes Python client."""

    def __init__(self, kubeconfig_text: str):
        from kubernetes import client, config  # imported here: only the real run needs them

        api_client = config.new_client_from_config_dict(yaml.safe_load(kubeconfig_text))
        self._custom = client.CustomObjectsApi(api_client)
        self._discovery = client.DiscoveryV1Api(api_client)
        self._api_exception = client.ApiException

    def dry_run_create(self, manifest: dict[str, Any], plural: str) -> Answer:
        import urllib3

        group, _, version = manifest["apiVersion"].partition("/")
        namespace = manifest.get("metadata", {}).get("namespace")
        try:
            if namespace:
                self._custom.create_namespaced_custom_object(group, version, namespace, plural, manifest, dry_run="All")
            else:
                self._custom.create_cluster_custom_object(group, version, plural, manifest, dry_run="All")
        except self._api_exception as error:
            return Answer(int(error.status or 0), str(error.body or error.reason))
        except urllib3.exceptions.HTTPError as error:
            return Answer(0, f"API server unreachable: {error}")
        return Answer(201, "created (dry run)")

    def ready_endpoints(self, namespace: str, service: str) -> int:
        try:
            slices = self._discovery.list_namespaced_endpoint_slice(
                namespace, label_selector=f"kubernetes.io/service-name={service}"
            )
        except Exception:  # diagnostics only: never hide the real failure behind this one
            return 0
        return sum(
            1
            for endpoint_slice in slices.items
            for endpoint in endpoint_slice.endpoints or []
            if endpoint.conditions is None or endpoint.conditions.ready
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plural", required=True, help="resource plural of the probe object, e.g. clusterservingruntimes")
    parser.add_argument("--service", required=True, help="namespace/name of the webhook Service (for diagnostics)")
    parser.add_argument("--timeout", type=float, required=True, help="seconds to wait at most")
    args = parser.parse_args(argv)

    manifest = yaml.safe_load(sys.stdin.read())
    return probe.run(
        "webhook_probe",
        lambda kubeconfig: wait_until_served(
            _KubernetesCluster(kubeconfig),
            manifest,
            plural=args.plural,
            service=args.service,
            timeout_seconds=args.timeout,
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
