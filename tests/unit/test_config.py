"""Config: every bad value is refused with key, value, what is allowed and the fix; good ones parse."""

from __future__ import annotations

import json

import pytest
import yaml

from components import config
from components.config import ConfigError, DeploymentMode, Serving, Target
from tests.engine import EngineError, project_settings
from tests.harness import REPO, run_program

KEYS = (
    "adminCidrs, allowWorldAdminAccess, attendeeCpu, attendeeMemory, attendees, awsDiskSizeGb, awsElasticIp, awsInstanceType, awsNetwork, "
    "deploymentMode, eksClusterName, gcpDiskSizeGb, gcpMachineType, gcpNetwork, gcpStaticIp, "
    "gcpZone, ingressAddress, ingressDomain, installCertManager, installIstio, installKnative, "
    "installTimeoutSeconds, kindHostPort, kindStoreHostPort, kubeContext, kubeconfig, kubeconfigPath, "
    "modelAuth, modelCidrs, modelCpuLimit, modelCpuRequest, "
    "modelMaxReplicas, modelMemoryLimit, modelMemoryRequest, modelMinReplicas, modelName, "
    "modelNamespace, modelScaleMetric, modelScaleTarget, modelUriBuckets, models, networkPolicies, sampleModel, serving, "
    "smokeTestDigits, "
    "smokeTestMinAccuracyPercent, store, target, vmSpot, vmTerminationAction, vmTtlHours"
)
RESERVED = (
    "cert-manager, default, istio-system, knative-operator, knative-serving, kserve, kube-node-lease, "
    "kube-public, kube-system, local-path-storage, model-store, seldon-system"
)
NAME_RULE = (
    "lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, "
    "at most 40 characters"
)
NAMESPACE_RULE = (
    "a DNS label (lower-case letters, digits, '-') of at most 40 characters that does not start with kube- "
    f"and is not one of {RESERVED}"
)
CPU = "a positive CPU quantity such as 100m, 0.5 or 1"
MEMORY = "a positive memory quantity such as 256Mi, 1Gi or 500M"
TARGETS = "kind, gcp, aws, existing"

BAD = [
    ({"target": "gke"}, f"target: got 'gke'; allowed: {TARGETS}. Fix: pulumi config set target kind"),
    ({"target": "KIND"}, f"target: got 'KIND'; allowed: {TARGETS}. Fix: pulumi config set target kind"),
    ({"target": ""}, f"target: got ''; allowed: {TARGETS}. Fix: pulumi config set target kind"),
    (
        {"serving": "seldon", "deploymentMode": "standard"},
        "deploymentMode: got 'standard', but it applies to serving kserve only and this stack's serving is seldon; "
        "allowed: unset on seldon stacks. Fix: pulumi config rm deploymentMode",
    ),
    (
        {"serving": "triton"},
        "serving: got 'triton'; allowed: kserve, seldon. Fix: pulumi config set serving kserve",
    ),
    (
        {"deploymentMode": "serverless"},
        "deploymentMode: got 'serverless'; allowed: knative, standard. Fix: pulumi config set deploymentMode knative",
    ),
    (
        {"deploymentMode": "RawDeployment"},
        "deploymentMode: got 'RawDeployment'; allowed: knative, standard. Fix: pulumi config set deploymentMode knative",
    ),
    (
        {"kindHostPort": "80"},
        "kindHostPort: got '80'; allowed: a whole number from 1024 to 65535. Fix: pulumi config set kindHostPort 8080",
    ),
    (
        {"kindHostPort": "70000"},
        "kindHostPort: got '70000'; allowed: a whole number from 1024 to 65535. Fix: pulumi config set kindHostPort 8080",
    ),
    (
        {"kindStoreHostPort": "8080"},
        "kindStoreHostPort: got '8080'; allowed: a port other than kindHostPort. "
        "Fix: pulumi config set kindStoreHostPort 8081",
    ),
    (
        {"kindStoreHostPort": "443"},
        "kindStoreHostPort: got '443'; allowed: a whole number from 1024 to 65535. "
        "Fix: pulumi config set kindStoreHostPort 8081",
    ),
    (
        {"installTimeoutSeconds": "30"},
        "installTimeoutSeconds: got '30'; allowed: a whole number from 60 to 3600. "
        "Fix: pulumi config set installTimeoutSeconds 900",
    ),
    ({"modelName": "MNIST"}, f"modelName: got 'MNIST'; allowed: {NAME_RULE}. Fix: pulumi config set modelName mnist"),
    ({"modelName": "9mnist"}, f"modelName: got '9mnist'; allowed: {NAME_RULE}. Fix: pulumi config set modelName mnist"),
    ({"modelName": "mnist-"}, f"modelName: got 'mnist-'; allowed: {NAME_RULE}. Fix: pulumi config set modelName mnist"),
    (
        {"modelName": "m" * 41},
        f"modelName: got '{'m' * 41}'; allowed: {NAME_RULE}. Fix: pulumi config set modelName mnist",
    ),
    (
        {"modelNamespace": "kserve"},
        f"modelNamespace: got 'kserve'; allowed: {NAMESPACE_RULE}. Fix: pulumi config set modelNamespace models",
    ),
    (
        {"modelNamespace": "kube-system"},
        f"modelNamespace: got 'kube-system'; allowed: {NAMESPACE_RULE}. Fix: pulumi config set modelNamespace models",
    ),
    (
        {"modelNamespace": "my_models"},
        f"modelNamespace: got 'my_models'; allowed: {NAMESPACE_RULE}. Fix: pulumi config set modelNamespace models",
    ),
    (
        {"modelMinReplicas": "-1"},
        "modelMinReplicas: got '-1'; allowed: a whole number from 0 to 10. Fix: pulumi config set modelMinReplicas 1",
    ),
    (
        {"modelMinReplicas": "0", "deploymentMode": "standard"},
        "modelMinReplicas: got '0'; allowed: 1-10 with deploymentMode standard (scale-to-zero needs knative). "
        "Fix: pulumi config set modelMinReplicas 1",
    ),
    (
        {"modelMaxReplicas": "0"},
        "modelMaxReplicas: got '0'; allowed: a whole number from 1 to 10. Fix: pulumi config set modelMaxReplicas 1",
    ),
    (
        {"modelMinReplicas": "3", "modelMaxReplicas": "2"},
        "modelMaxReplicas: got '2'; allowed: at least modelMinReplicas (3). Fix: pulumi config set modelMaxReplicas 3",
    ),
    (
        {"modelCpuRequest": "fast"},
        f"modelCpuRequest: got 'fast'; allowed: {CPU}. Fix: pulumi config set modelCpuRequest 100m",
    ),
    ({"modelCpuRequest": "0"}, f"modelCpuRequest: got '0'; allowed: {CPU}. Fix: pulumi config set modelCpuRequest 100m"),
    (
        {"modelCpuLimit": "50m"},
        "modelCpuLimit: got '50m'; allowed: at least modelCpuRequest (100m). Fix: pulumi config set modelCpuLimit 100m",
    ),
    (
        {"modelMemoryRequest": "256MB"},
        f"modelMemoryRequest: got '256MB'; allowed: {MEMORY}. Fix: pulumi config set modelMemoryRequest 256Mi",
    ),
    (
        {"modelMemoryLimit": "128Mi"},
        "modelMemoryLimit: got '128Mi'; allowed: at least modelMemoryRequest (256Mi). "
        "Fix: pulumi config set modelMemoryLimit 256Mi",
    ),
    (
        {"smokeTestDigits": "1000"},
        "smokeTestDigits: got '1000'; allowed: a whole number from 0 to 500. Fix: pulumi config set smokeTestDigits 20",
    ),
    (
        {"kindHostPrt": "9000"},
        f"kindHostPrt: got '9000' for a key servebox does not have (did you mean kindHostPort?); allowed: {KEYS}. "
        "Fix: pulumi config rm kindHostPrt",
    ),
    (
        {"region": "eu-west-1"},
        f"region: got 'eu-west-1' for a key servebox does not have; allowed: {KEYS}. Fix: pulumi config rm region",
    ),
]


@pytest.mark.parametrize("raw, message", BAD, ids=[message.split(":")[0] + f"-{i}" for i, (_, message) in enumerate(BAD)])
def test_bad_value_is_refused_with_key_value_allowed_and_fix(raw, message):
    with pytest.raises(ConfigError) as error:
        project_settings("kind", raw)
    assert error.value.problems == [message]
    assert str(error.value) == f"servebox configuration has 1 problem (nothing was created):\n  - {message}"


# Values of the wrong type never reach the program: `pulumi up` checks every typed key of Pulumi.yaml
# first and stops with its own message (pkg/workspace/config.go, validateStackConfigValue).
REFUSED_BY_THE_CLI = [
    ({"kindHostPort": "http"}, "Stack 'kind' with configuration key 'kindHostPort' must be of type 'integer'"),
    ({"kindHostPort": "8080.5"}, "Stack 'kind' with configuration key 'kindHostPort' must be of type 'integer'"),
    (
        {"smokeTestMinAccuracyPercent": "0.8"},
        "Stack 'kind' with configuration key 'smokeTestMinAccuracyPercent' must be of type 'integer'",
    ),
    ({"vmSpot": "yes"}, "Stack 'kind' with configuration key 'vmSpot' must be of type 'boolean'"),
    ({"installIstio": "True"}, "Stack 'kind' with configuration key 'installIstio' must be of type 'boolean'"),
    ({"models": json.dumps(["churn"])}, "Stack 'kind' with configuration key 'models' must be of type 'array<object>'"),
    ({"models": [{"name": "churn"}, "ranker"]}, "Stack 'kind' with configuration key 'models' must be of type 'array<object>'"),
    ({"modelName": ["mnist"]}, "Stack 'kind' with configuration key 'modelName' must be of type 'string'"),
]


@pytest.mark.parametrize("raw, message", REFUSED_BY_THE_CLI)
def test_a_value_of_the_wrong_type_is_refused_by_the_cli_before_the_program_runs(raw, message):
    with pytest.raises(EngineError) as error:
        project_settings("kind", raw)
    assert str(error.value) == message


def test_every_problem_is_reported_at_once_in_key_order():
    with pytest.raises(ConfigError) as error:
        project_settings("kind", {"target": "gke", "kindHostPort": "1", "modelName": "X", "typo": "1"})
    keys = [problem.split(":")[0] for problem in error.value.problems]
    assert keys == ["typo", "target", "kindHostPort", "modelName"]
    assert str(error.value).startswith("servebox configuration has 4 problems (nothing was created):\n")


def test_defaults_come_from_pulumi_yaml_and_parse():
    settings = project_settings("kind", {})
    assert settings.target is Target.KIND
    assert settings.serving is Serving.KSERVE
    assert settings.deployment_mode is DeploymentMode.KNATIVE
    assert settings.install_timeout_seconds == 900
    assert settings.kind.host_port == 8080
    assert settings.kind.store_host_port == 8081
    assert (settings.model.name, settings.model.namespace) == ("mnist", "models")
    assert (settings.model.min_replicas, settings.model.max_replicas) == (1, 1)
    assert (settings.model.cpu_request, settings.model.memory_request) == ("100m", "256Mi")
    assert (settings.model.cpu_limit, settings.model.memory_limit) == ("1", "1Gi")
    assert settings.smoke_test.digits == 20
    assert settings.smoke_test.min_accuracy == pytest.approx(0.8)


def test_good_values_parse_into_types():
    settings = project_settings(
        "dev",
        {
            "deploymentMode": "standard",
            "kindHostPort": 9090,
            "modelMinReplicas": "2",
            "modelMaxReplicas": "3",
            "modelCpuRequest": "0.25",
            "modelCpuLimit": "500m",
            "modelMemoryRequest": "0.5Gi",
            "modelMemoryLimit": "512Mi",
            "smokeTestMinAccuracyPercent": "100",
        },
    )
    assert settings.deployment_mode is DeploymentMode.STANDARD
    assert settings.deployment_mode.kserve_name == "Standard"
    assert settings.kind.host_port == 9090
    assert (settings.model.min_replicas, settings.model.max_replicas) == (2, 3)
    assert settings.smoke_test.min_accuracy == 1.0


def test_scale_to_zero_is_allowed_in_knative_mode():
    assert project_settings("kind", {"modelMinReplicas": "0"}).model.min_replicas == 0


@pytest.mark.parametrize(
    "quantity, millicores", [("100m", 100), ("1", 1000), ("0.5", 500), ("2", 2000), ("1.5m", 1.5), ("x", None)]
)
def test_cpu_quantities(quantity, millicores):
    assert config.cpu_millicores(quantity) == millicores


@pytest.mark.parametrize(
    "quantity, size", [("256Mi", 256 * 2**20), ("1Gi", 2**30), ("500M", 500 * 10**6), ("1024", 1024), ("1GB", None)]
)
def test_memory_quantities(quantity, size):
    assert config.memory_bytes(quantity) == size


def test_schema_is_pulumi_yaml_config_block_with_description_and_default_for_every_key():
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    schema = config.config_schema()
    assert set(schema) == set(project["config"])
    for key in schema.values():
        assert key.type in {"string", "integer", "boolean", "array"}, key
        assert key.description, key.name
        assert key.default is not None, key.name
    assert ", ".join(sorted(schema)) == KEYS


def test_bad_config_registers_no_resource_at_all():
    with pytest.raises(Exception) as error:
        run_program({"target": "gke", "kindHostPort": "80"})
    assert "servebox configuration has 2 problems" in str(error.value)
    from tests import harness

    assert harness.LAST_REGISTRATIONS == []


def test_a_stack_name_whose_cluster_name_would_be_cut_is_refused():
    stack = "workshop-2026-12-attendee-charlotte"
    with pytest.raises(ConfigError) as error:
        project_settings(stack, {})
    assert error.value.problems == [
        f"stack: got '{stack}' (35 characters); allowed: a stack name of at most 31 characters (servebox names the "
        "stack's cluster and VM servebox-<stack>, at most 40 characters). Fix: pulumi stack init <a shorter name>"
    ]
    assert project_settings("a" * 31, {}).stack == "a" * 31
