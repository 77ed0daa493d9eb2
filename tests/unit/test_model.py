"""The store, the upload, the predictor's identity, the InferenceService on KServe's own sklearn
server, the runtimes the platform serves, and the smoke test, under mocks; the authored custom resources against KServe's CRD schemas at the pinned tag.

Not proven here: that MinIO, KServe and Knative act on these as intended on a real cluster; the
artifact itself is served for real on 127.0.0.1 in tests/model/.
"""

from __future__ import annotations

import json

import pytest

from components import outputs, versions
from components.config import DeploymentMode
from components.model import mnist, runtime
from components.storage.minio import read_only_policy
from tests.engine import project_settings
from tests.harness import ProgramRun, run_program, secret_value
from tests.k8s_validation import validate

SETTINGS = project_settings("kind").model


@pytest.fixture(scope="module")
def knative() -> ProgramRun:
    return run_program()


@pytest.fixture(scope="module")
def standard() -> ProgramRun:
    return run_program({"deploymentMode": "standard", "modelMinReplicas": "2", "modelMaxReplicas": "3"})


def isvc(run: ProgramRun) -> dict:
    inputs = run["model-isvc"].inputs
    return {"apiVersion": inputs["apiVersion"], "kind": inputs["kind"], "metadata": inputs["metadata"], "spec": inputs["spec"]}


@pytest.mark.parametrize("run_name, mode", [("knative", "Knative"), ("standard", "Standard")])
def test_inference_service_is_valid_for_the_pinned_kserve_crd(request, run_name, mode):
    manifest = isvc(request.getfixturevalue(run_name))
    validate(manifest)
    assert manifest["metadata"]["annotations"] == {
        "serving.kserve.io/deploymentMode": mode,
        "pulumi.com/waitFor": "condition=Ready",
        # Knative's revisions answer at tagged hosts (latest-/prev-<name>-predictor...): a canary's proof.
        **({"serving.kserve.io/enable-tag-routing": "true"} if mode == "Knative" else {}),
    }


def test_inference_service_serves_the_uploaded_directory_on_kserves_sklearn_server(knative):
    spec = isvc(knative)["spec"]["predictor"]
    assert spec["serviceAccountName"] == "mnist-predictor"
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 1)
    model = spec["model"]
    assert model["modelFormat"] == {"name": "sklearn", "version": "1"}
    assert model["protocolVersion"] == "v2"
    # Named: for sklearn over v2 with no runtime named, KServe 0.20 would pick kserve-mlserver.
    assert model["runtime"] == runtime.RUNTIME_NAME == "kserve-sklearnserver"
    assert model["storageUri"] == knative.outputs[outputs.MODEL_URI]
    assert model["storageUri"].startswith("s3://servebox-kind-models/mnist/")
    assert not model["storageUri"].endswith("model.joblib")  # KServe wants the directory
    assert model["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }


def test_replicas_come_from_config(standard):
    spec = isvc(standard)["spec"]["predictor"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 3)


def test_no_serving_runtime_of_our_own(knative):
    assert not knative.of_type("kubernetes:serving.kserve.io/v1alpha1:ServingRuntime")
    assert not knative.of_type("kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime")


def test_the_named_runtime_is_one_the_platform_serves_with_the_pinned_multi_arch_image(knative):
    values = knative["platform-kserve-runtime-configs"].inputs["values"]["kserve"]["servingruntime"]
    assert values["enabled"] is True
    assert values[versions.SKLEARN_SERVER_RUNTIME.values_key] == {"disabled": False}
    # The chart renders kserve/sklearnserver:<chart version> when no tag is given.
    assert "tag" not in values["sklearnserver"]
    assert versions.SKLEARN_SERVER_RUNTIME.image == "kserve/sklearnserver:v0.20.0"
    assert versions.SKLEARN_SERVER.ref == "docker.io/kserve/sklearnserver:v0.20.0"
    assert versions.SKLEARN_SERVER.architectures == {"amd64", "arm64"}
    assert "sklearnserver-docker-publish.yml@v0.20.0" in versions.SKLEARN_SERVER.architectures_source


def test_runtime_configs_serve_three_runtimes_and_switch_off_every_other(knative):
    values = knative["platform-kserve-runtime-configs"].inputs["values"]["kserve"]["servingruntime"]
    switches = {key: block["disabled"] for key, block in values.items() if isinstance(block, dict)}
    assert switches == {
        "sklearnserver": False,
        "xgbserver": False,
        "lgbserver": False,
        "mlserver": True,
        "tensorflow": True,
        "torchserve": True,
        "tritonserver": True,
        "pmmlserver": True,
        "predictiveserver": True,
        "paddleserver": True,
        "autogluonserver": True,
        "huggingfaceserver": True,
        "vllmserver": True,
    }


def test_no_runtime_object_carries_a_moving_tag(knative):
    values = knative["platform-kserve-runtime-configs"].inputs["values"]["kserve"]["servingruntime"]
    # The chart's own value for vLLM is `latest`; the disabled object still exists, so it is pinned.
    assert values["vllmserver"] == {"disabled": True, "tag": versions.VLLM_TAG}
    for served in versions.KSERVE_RUNTIMES:
        repository, _, tag = served.image.rpartition(":")
        assert repository and tag and tag != "latest", served


def test_predictor_identity_is_the_read_only_user_and_nothing_more(knative):
    secret = knative["model-storage-credentials"].inputs
    assert secret["metadata"]["annotations"] == {
        "serving.kserve.io/s3-endpoint": "minio.model-store.svc.cluster.local:9000",
        "serving.kserve.io/s3-usehttps": "0",
        "serving.kserve.io/s3-verifyssl": "0",
        "serving.kserve.io/s3-region": "us-east-1",
    }
    # The whole map is secret once one value is: the read-only user's key never shows in plain text.
    assert set(secret_value(secret["stringData"])) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    account = knative["model-service-account"].inputs
    assert account["secrets"] == [{"name": "mnist-storage"}]
    assert account["automountServiceAccountToken"] is False
    assert knative["store-reader"].inputs["name"] == "servebox-kind-models-reader"
    assert knative["store-reader-policy"].inputs["policy"] == read_only_policy("servebox-kind-models")
    policy = json.loads(read_only_policy("b"))
    assert {action for statement in policy["Statement"] for action in statement["Action"]} == {
        "s3:ListBucket",
        "s3:GetBucketLocation",
        "s3:GetObject",
    }


def test_store_credentials_are_generated_secrets(knative):
    for name in ("store-root-password", "store-reader-secret"):
        assert knative[name].inputs["length"] >= 32 and knative[name].inputs["special"] is False
    provider = knative["store-provider"].inputs
    assert provider["minioServer"] == "127.0.0.1:8081"
    assert provider["minioSsl"] == "false"
    secret_value(provider["minioPassword"])  # the root password reaches the provider only as a secret
    secret_value(knative["store-reader"].inputs["secret"])
    root = knative["store-root-credentials"].inputs["stringData"]
    assert secret_value(root)["MINIO_ROOT_USER"] == "servebox-admin"


def test_bucket_is_private_and_destroyable(knative):
    bucket = knative["store-bucket"].inputs
    assert bucket == {**bucket, "bucket": "servebox-kind-models", "acl": "private", "forceDestroy": True}


def test_minio_runs_pinned_on_a_volume_behind_the_store_nodeport(knative):
    deployment = knative["store-server"].inputs["spec"]
    (container,) = deployment["template"]["spec"]["containers"]
    assert container["image"] == versions.MINIO.ref
    assert deployment["strategy"] == {"type": "Recreate"}
    service = knative["store-service"].inputs["spec"]
    assert service["type"] == "NodePort" and service["ports"][0]["nodePort"] == 31900
    assert knative["store-data"].inputs["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}


def test_upload_is_content_addressed_and_tracked(knative):
    upload = knative.upload("model").inputs
    assert upload["objectName"].startswith("mnist/") and upload["objectName"].endswith("/model.joblib")
    assert upload["source"].endswith("build/model/model.joblib")
    assert knative.outputs[outputs.MODEL_URI] == "s3://servebox-kind-models/" + upload["objectName"].rsplit("/", 1)[0]


def test_order_store_before_model_runtimes_before_isvc_before_smoke_test(knative):
    assert knative["store-provider"].depends_on == ["store-server", "store-service"]
    isvc_waits = knative.waits_on("model-isvc")
    assert {
        "platform-kserve-runtime-configs",
        "platform-kserve-webhook-ready",
        knative.upload_name(),
        "model-storage-credentials",
    } <= isvc_waits
    assert "platform-istio-gateway" not in isvc_waits  # the ISVC does not wait for the gateway...
    smoke_waits = knative.waits_on("model-smoke-test")
    assert {"model-isvc", "platform-istio-gateway"} <= smoke_waits  # ...the request through it does


def test_inference_service_is_awaited_within_the_install_timeout(knative):
    timeouts = knative["model-isvc"].options.custom_timeouts
    assert (timeouts.create, timeouts.update) == ("900s", "900s")


def test_smoke_test_sends_digits_through_the_ingress_with_the_host_header(knative):
    smoke = knative["model-smoke-test"].inputs
    assert smoke["create"].endswith(
        "scripts/smoke_test.py --url http://127.0.0.1:8080/v2/models/mnist/infer --protocol v2 "
        "--host-header mnist.models.127.0.0.1.sslip.io --count 20 --min-accuracy 0.8 --timeout 900 "
        "--diagnose models/mnist --serving kserve"
    )
    assert smoke["triggers"][0] == knative.outputs[outputs.MODEL_URI]
    # The kubeconfig it asks the cluster why with, should the model not serve: secret, and in its environment only.
    assert "kind: Config" in secret_value(smoke["environment"])["SERVEBOX_KUBECONFIG"]


def test_smoke_test_can_be_turned_off():
    run = run_program({"smokeTestDigits": "0"})
    assert "model-smoke-test" not in run.resources


def test_model_outputs(knative):
    out = knative.outputs
    assert out[outputs.ENDPOINT] == "http://mnist.models.127.0.0.1.sslip.io:8080"
    assert out[outputs.INFER_URL] == "http://mnist.models.127.0.0.1.sslip.io:8080/v2/models/mnist/infer"
    assert out[outputs.PREDICT_URL] == "http://mnist.models.127.0.0.1.sslip.io:8080/v1/models/mnist:predict"
    assert out[outputs.PROTOCOL] == "v2"
    assert out[outputs.HOST_HEADER] == "mnist.models.127.0.0.1.sslip.io"
    assert out[outputs.MODEL_NAME] == "mnist"
    assert out[outputs.BUCKET] == "servebox-kind-models"
    assert out[outputs.SERVICE_ACCOUNT] == "mnist-predictor"
    assert out[outputs.CURL].startswith(
        "curl -sS -H 'Content-Type: application/json' -H 'Host: mnist.models.127.0.0.1.sslip.io' "
        "http://127.0.0.1:8080/v2/models/mnist/infer -d '"
    )
    body = json.loads(out[outputs.CURL].rsplit(" -d ", 1)[1].strip("'"))
    (tensor,) = body["inputs"]
    assert tensor["shape"] == [1, 784] and tensor["datatype"] == "FP32" and len(tensor["data"]) == 784


def test_endpoint_on_port_80_has_no_port_in_the_url():
    endpoint = mnist.endpoint("m", "ns", "203.0.113.7", 80, "203.0.113.7.sslip.io")
    assert endpoint.base_url == "http://m.ns.203.0.113.7.sslip.io"
    assert endpoint.ingress_url == "http://203.0.113.7"


def test_inference_service_builder_matches_schema_for_edge_settings():
    settings = project_settings(
        "kind", {"modelName": "m" * 40, "modelMinReplicas": "0", "modelCpuRequest": "0.5", "modelMemoryLimit": "2Gi"}
    ).model
    validate(mnist.inference_service(settings, DeploymentMode.KNATIVE, "s3://b/d", "sa"))
