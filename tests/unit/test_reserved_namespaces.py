"""Every namespace the program creates besides the model namespace is reserved, so a model namespace
can never be a second Namespace resource of a chart's (destroy would delete the chart's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.config import RESERVED_NAMESPACES, ConfigError
from components.naming import ATTENDEE_NAMESPACE_PREFIX
from tests.engine import project_settings

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "plans.json"


def test_every_namespace_a_planned_stack_creates_but_the_models_is_reserved() -> None:
    created = {
        resource["inputs"]["metadata"]["name"]
        for resources in json.loads(GOLDEN.read_text()).values()
        for resource in resources
        if resource["type"] == "kubernetes:core/v1:Namespace"
    }
    # A shared workshop's attendees' namespaces are refused as modelNamespace while they exist
    # (tests/unit/test_shared_workshop.py); every other one is the platform's.
    attendees = {name for name in created if name.startswith(ATTENDEE_NAMESPACE_PREFIX)}
    assert attendees == {"ws-ada", "ws-bob"}
    assert created - {"models"} - attendees <= RESERVED_NAMESPACES
    assert {"seldon-system", "kserve", "knative-serving", "istio-system", "cert-manager", "model-store"} <= created


@pytest.mark.parametrize(("serving", "namespace"), [("seldon", "seldon-system"), ("kserve", "kserve"), ("kserve", "kube-flannel")])
def test_a_platform_namespace_is_refused_as_the_model_namespace(serving: str, namespace: str) -> None:
    with pytest.raises(ConfigError) as error:
        project_settings("kind", {"serving": serving, "modelNamespace": namespace})
    (problem,) = error.value.problems
    assert problem.startswith(f"modelNamespace: got {namespace!r}; allowed: a DNS label")
    assert "does not start with kube- and is not one of cert-manager, default, istio-system" in problem
