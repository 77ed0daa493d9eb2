"""serving: seldon under mocks on every target: the exact platform resources and order, nothing of
KServe or Knative, the SeldonDeployment and the Gateway against the upstream schemas at the pinned
tags, the chart's value key paths against the chart at the pinned tag, the store wiring, outputs.

Not proven here: that the operator reconciles these objects as its source says it will (read at
v1.17.1 and cited in components/model/seldon.py), that its executor forwards V2 as read; the server
image itself is served for real in tests/model/test_serving_seldon.py.
"""

from __future__ import annotations

import pytest

from components import outputs, versions
from components.model import seldon as seldon_model
from components.platform import seldon
from components.storage.minio import storage_environment
from tests.engine import project_settings
from tests.harness import FAKE_GCP_PROJECT, ProgramRun, run_program, secret_value
from tests.k8s_validation import validate
from tests.model import kserve_credentials

TARGETS = {
    "kind": ({"serving": "seldon"}, "kind"),
    "gcp": ({"serving": "seldon", "target": "gcp", "gcp:project": FAKE_GCP_PROJECT}, "gcp"),
    "aws": ({"serving": "seldon", "target": "aws", "aws:region": "us-east-1"}, "aws"),
}
SELDON_PLATFORM = {
    "platform-seldon": "servebox:platform:Seldon",
    "platform-seldon-namespace": "kubernetes:core/v1:Namespace",
    "platform-seldon-gateway": "kubernetes:networking.istio.io/v1:Gateway",
    "platform-seldon-operator": "kubernetes:helm.sh/v3:Release",
    "platform-seldon-webhook-ready": "command:local:Command",
}
# Every key path of seldon-core-operator's values.yaml at v1.17.1 that servebox sets, as read there
# (helm-charts/seldon-core-operator/values.yaml@v1.17.1); predictor_servers is a map of server names.
CHART_VALUE_PATHS = {
    "istio.enabled",
    "istio.gateway",
    "certManager.enabled",
    "usageMetrics.enabled",
    "manager.cpuRequest",
    "manager.cpuLimit",
    "manager.memoryRequest",
    "manager.memoryLimit",
    "executor.resources.cpuRequest",
    "executor.resources.cpuLimit",
    "executor.resources.memoryRequest",
    "executor.resources.memoryLimit",
    "storageInitializer.image",
    "storageInitializer.cpuRequest",
    "storageInitializer.cpuLimit",
    "storageInitializer.memoryRequest",
    "storageInitializer.memoryLimit",
}


@pytest.fixture(scope="module", params=sorted(TARGETS))
def run(request: pytest.FixtureRequest) -> ProgramRun:
    config, stack = TARGETS[request.param]
    return run_program(config, stack=stack)


@pytest.fixture(scope="module")
def kind_run() -> ProgramRun:
    return run_program(*TARGETS["kind"])


def _manifest(run: ProgramRun, name: str) -> dict:
    inputs = run[name].inputs
    return {key: inputs[key] for key in ("apiVersion", "kind", "metadata", "spec")}


def test_seldon_replaces_knative_and_kserve_entirely(run: ProgramRun) -> None:
    platform = {n: r.type for n, r in run.resources.items() if n.startswith("platform-seldon")}
    assert platform == SELDON_PLATFORM
    assert not [n for n in run.resources if "kserve" in n or "knative" in n]
    assert not [r for r in run.resources.values() if "serving.kserve.io" in r.type or "knative.dev" in r.type]
    model = {n for n in run.by_role() if n.startswith("model-")}
    assert model - {"model-storage-credentials"} == {
        "model-namespace",
        "model-deny-all",
        "model-allow-requests",
        "model-allow-model-download",
        "model-upload",
        "model-service-account",
        "model-sdep",
        "model-smoke-test",
    }


def test_install_order(run: ProgramRun) -> None:
    assert set(run["platform-seldon-operator"].depends_on) == {"platform-cert-manager-release", "platform-istio-base"}
    assert run["platform-seldon-gateway"].depends_on == ["platform-istio-istiod"]
    assert set(run["platform-seldon-webhook-ready"].depends_on) == {"platform-seldon-operator", "platform-seldon-gateway"}
    assert {"platform-seldon-webhook-ready", run.upload_name()} <= set(run["model-sdep"].depends_on)
    assert {"model-sdep", "platform-istio-gateway"} <= run.waits_on("model-smoke-test")


def test_the_seldon_deployment_and_the_gateway_are_valid_for_the_pinned_schemas(run: ProgramRun) -> None:
    validate(_manifest(run, "model-sdep"))
    validate(_manifest(run, "platform-seldon-gateway"))


def test_the_seldon_deployment_runs_kserves_server_as_the_operator_wires_it(run: ProgramRun) -> None:
    spec = _manifest(run, "model-sdep")["spec"]
    assert spec["protocol"] == "v2"
    (predictor,) = spec["predictors"]
    graph = predictor["graph"]
    assert (graph["name"], graph["type"], graph["implementation"]) == ("mnist", "MODEL", versions.SELDON_SERVER_IMPLEMENTATION)
    assert graph["modelUri"] == run.outputs[outputs.MODEL_URI]
    (component,) = predictor["componentSpecs"]
    (container,) = component["spec"]["containers"]
    # Named after the graph node, its own arguments, port 9000: what the operator expects of a v2 server.
    assert container["name"] == graph["name"]
    assert container["image"] == versions.SKLEARN_SERVER.ref
    assert container["args"] == ["--model_name=mnist", "--model_dir=/mnt/models", "--http_port=9000", "--grpc_port=9500"]
    assert container["resources"] == {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    assert component["spec"]["serviceAccountName"] == "mnist-predictor"
    assert predictor["replicas"] == 1 and "hpaSpec" not in component
    assert _manifest(run, "model-sdep")["metadata"]["annotations"] == {"pulumi.com/waitFor": "jsonpath={.status.state}=Available"}


def test_more_replicas_allowed_means_an_hpa() -> None:
    run = run_program({"serving": "seldon", "modelMaxReplicas": "3"})
    (component,) = _manifest(run, "model-sdep")["spec"]["predictors"][0]["componentSpecs"]
    assert component["hpaSpec"] == {
        "minReplicas": 1,
        "maxReplicas": 3,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}],
    }


def test_chart_values_use_only_key_paths_the_chart_has(kind_run: ProgramRun) -> None:
    values = kind_run["platform-seldon-operator"].inputs["values"]

    def leaves(node: object, prefix: str = "") -> list[str]:
        if isinstance(node, dict):
            return [path for key, value in node.items() for path in leaves(value, f"{prefix}.{key}" if prefix else key)]
        return [prefix]

    ours = [path for path in leaves(values) if not path.startswith("predictor_servers.")]
    assert set(ours) <= CHART_VALUE_PATHS, set(ours) - CHART_VALUE_PATHS
    # predictor_servers entries take the shape the chart's own have: <NAME>.protocols.<protocol>.{image,defaultImageVersion}.
    assert values["predictor_servers"] == {
        versions.SELDON_SERVER_IMPLEMENTATION: {
            "protocols": {"v2": {"image": "docker.io/kserve/sklearnserver", "defaultImageVersion": "v0.20.0"}}
        }
    }


def test_chart_values_istio_cert_manager_metrics_and_small_requests(kind_run: ProgramRun) -> None:
    values = kind_run["platform-seldon-operator"].inputs["values"]
    assert values["istio"] == {"enabled": True, "gateway": "istio-system/seldon-gateway"}
    assert values["certManager"] == {"enabled": True} and values["usageMetrics"] == {"enabled": False}
    # The chart's default executor asks 500m CPU and 512Mi in every model pod.
    assert values["executor"]["resources"] == {"cpuRequest": "50m", "cpuLimit": "500m", "memoryRequest": "64Mi", "memoryLimit": "256Mi"}
    assert values["storageInitializer"]["image"] == "docker.io/kserve/storage-initializer:v0.20.0"
    chart = kind_run["platform-seldon-operator"].inputs
    assert (chart["chart"], chart["version"]) == ("seldon-core-operator", "1.17.1")
    assert chart["repositoryOpts"]["repo"] == "https://storage.googleapis.com/seldon-charts"


def test_the_gateway_is_http_on_our_ingress_gateway(kind_run: ProgramRun) -> None:
    gateway = _manifest(kind_run, "platform-seldon-gateway")
    assert (gateway["metadata"]["name"], gateway["metadata"]["namespace"]) == ("seldon-gateway", "istio-system")
    assert gateway["spec"] == {
        "selector": {"istio": "ingressgateway"},
        "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}],
    }


def test_the_webhook_probe_dry_runs_a_valid_seldon_deployment(kind_run: ProgramRun) -> None:
    import yaml

    probe = kind_run["platform-seldon-webhook-ready"].inputs
    assert "--plural seldondeployments --service seldon-system/seldon-webhook-service" in probe["create"]
    manifest = yaml.safe_load(probe["stdin"])
    validate({**manifest, "metadata": {**manifest["metadata"], "name": "probe"}})
    assert manifest["spec"]["predictors"][0]["graph"]["implementation"] == versions.SELDON_SERVER_IMPLEMENTATION
    secret_value(probe["environment"])


def test_on_kind_the_storage_initializer_gets_the_stores_environment_by_secret_name(kind_run: ProgramRun) -> None:
    secret = kind_run["model-storage-credentials"].inputs
    assert secret["metadata"].get("annotations") is None
    environment = secret_value(secret["stringData"])
    graph = _manifest(kind_run, "model-sdep")["spec"]["predictors"][0]["graph"]
    assert graph["envSecretRefName"] == secret["metadata"]["name"] == "mnist-storage"
    assert kind_run["model-service-account"].inputs.get("secrets") is None
    # The same environment KServe's injector derives from the KServe form of the same identity.
    endpoint = "minio.model-store.svc.cluster.local:9000"
    keys = {key: environment[key] for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    kserve_form = kserve_credentials.Secret(
        "mnist-storage",
        {
            "serving.kserve.io/s3-endpoint": endpoint,
            "serving.kserve.io/s3-usehttps": "0",
            "serving.kserve.io/s3-verifyssl": "0",
            "serving.kserve.io/s3-region": "us-east-1",
        },
        keys,
    )
    assert environment == kserve_credentials.predictor_env(["mnist-storage"], {"mnist-storage": kserve_form})
    assert environment == {**keys, **storage_environment(endpoint)}


@pytest.mark.parametrize("target", ["gcp", "aws"])
def test_on_a_vm_the_predictor_reads_keyless(target: str) -> None:
    run = run_program(*TARGETS[target])
    assert "model-storage-credentials" not in run.resources
    graph = _manifest(run, "model-sdep")["spec"]["predictors"][0]["graph"]
    assert "envSecretRefName" not in graph
    assert graph["modelUri"].startswith("gs://" if target == "gcp" else "s3://")


def test_outputs_with_seldon(run: ProgramRun) -> None:
    out = run.outputs
    assert list(out) == list(outputs.ALL_OUTPUTS)
    assert out[outputs.SERVING] == "seldon"
    assert out[outputs.DEPLOYMENT_MODE] is None
    assert out[outputs.PROTOCOL] == "v2"
    assert out[outputs.PREDICT_URL] is None  # the executor routes V1 only for its tensorflow protocol
    assert out[outputs.INFER_URL] == f"{out[outputs.ENDPOINT]}/seldon/models/mnist/v2/models/mnist/infer"
    assert "/seldon/models/mnist/v2/models/mnist/infer" in out[outputs.CURL]
    assert out[outputs.VERSIONS]["seldon_core"] == "1.17.1" and "kserve" not in out[outputs.VERSIONS]
    assert "/seldon/models/mnist/v2/models/mnist/infer --protocol v2" in run["model-smoke-test"].inputs["create"]


def test_the_path_prefix_is_what_the_operators_virtual_service_strips() -> None:
    assert seldon_model.path_prefix("mnist", "models") == "/seldon/models/mnist"
    assert seldon.operator_values()["istio"]["gateway"] == "istio-system/seldon-gateway"


def test_seldon_images_say_they_are_amd64_only_with_the_reason() -> None:
    for image in versions.SELDON_CORE_OPERATOR.images:
        assert image.architectures == {"amd64"}
        assert "no --platform" in image.architectures_source
    assert versions.SKLEARN_SERVER in versions.images("seldon")
    assert not [i for i in versions.images("seldon") if "knative" in i.repository or "kserve-controller" in i.repository]


@pytest.mark.parametrize(
    ("raw", "provider", "message"),
    [
        (
            {"target": "gcp", "gcpMachineType": "t2a-standard-2"},
            {"gcp:project": FAKE_GCP_PROJECT},
            "gcpMachineType: got 't2a-standard-2'; allowed: with serving seldon, an amd64 machine type such as "
            "e2-standard-2 (Seldon Core's operator and executor images are amd64-only). "
            "Fix: pulumi config set gcpMachineType e2-standard-2",
        ),
        (
            {"target": "aws", "awsInstanceType": "t4g.large"},
            {"aws:region": "us-east-1"},
            "awsInstanceType: got 't4g.large'; allowed: with serving seldon, an amd64 instance type such as "
            "t3.large (Seldon Core's operator and executor images are amd64-only). "
            "Fix: pulumi config set awsInstanceType t3.large",
        ),
    ],
)
def test_seldon_on_an_arm_vm_is_refused_before_anything_is_created(raw: dict, provider: dict, message: str) -> None:
    from components.config import ConfigError

    with pytest.raises(ConfigError) as error:
        project_settings("s", {"serving": "seldon", **raw, **provider}, environ={}, public_ipv4=lambda: "198.51.100.7")
    assert error.value.problems == [message]
