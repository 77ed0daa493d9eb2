"""The models' API key (modelAuth apikey): a random key, checked at the Istio ingress gateway.

An Istio AuthorizationPolicy on the gateway's pods denies every request to the stack's models whose
`x-api-key` header is not the key: the models' hosts (KServe: `<model>.<namespace>.<domain>`, the
predictor's `<model>-predictor.<namespace>.<domain>` that Knative publishes too, and the tagged
revisions' `latest-`/`prev-<model>-predictor...`; each with or without a port) or, on Seldon, their path prefix (`/seldon/<namespace>/`). Requests for anything
else the gateway serves are not touched. The key is a Pulumi secret; it sits in the policy's spec,
so whoever may read AuthorizationPolicies in the gateway's namespace may read it too. Over plain
HTTP anyone on the path can read it as well: it keeps strangers off, not eavesdroppers.
https://istio.io/latest/docs/reference/config/security/authorization-policy/
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from components.naming import standard_labels

HEADER = "x-api-key"
ENV = "SERVEBOX_API_KEY"
"""Where servebox's clients (the smoke test, `servebox predict`, a handle) look for the key first."""


POLICY_API_VERSION = "security.istio.io/v1"
POLICY_KIND = "AuthorizationPolicy"


def policy_metadata(gateway_namespace: str, model_namespace: str) -> dict:
    """The policy's metadata: in the gateway's namespace (nothing secret)."""
    return {
        "name": f"servebox-{model_namespace}-api-key",
        "namespace": gateway_namespace,
        "labels": standard_labels("model-auth"),
    }


def policy_spec(
    *, gateway_labels: Mapping[str, str], model_namespace: str, hosts: Iterable[str], on_seldon: bool, key: str
) -> dict:
    """The policy's spec: DENY a model's request unless it carries `key` in HEADER."""
    if on_seldon:
        operation = {"paths": [f"/seldon/{model_namespace}/*"]}
    else:
        # A Host header carries the port when it is not 80 (kind's 8080): each host with any port too.
        operation = {"hosts": sorted({pattern for host in hosts for pattern in (host, f"{host}:*")})}
    return {
        "selector": {"matchLabels": dict(gateway_labels)},
        "action": "DENY",
        "rules": [{"to": [{"operation": operation}], "when": [{"key": f"request.headers[{HEADER}]", "notValues": [key]}]}],
    }
