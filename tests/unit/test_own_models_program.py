"""A stack's own models under mocks: per model its upload, identity, InferenceService and outputs, on
kind and on each VM target; the sample beside them or replaced; and the bad `models` entries, each
with its exact message and no resource registered.

The artifacts are real files written in the test by scikit-learn and XGBoost (the versions the
serving images have). Serving them for real is tests/model/test_own_models.py; what no test here
can prove is that a cluster pulls and serves them.
"""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pytest
import xgboost
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from components import outputs
from components.config import ConfigError
from components.model.layout import artifact_files, content_key
from tests import harness
from tests.engine import EngineError, project_settings
from tests.harness import ProgramRun, run_program

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    churn = root / "churn"
    churn.mkdir()
    joblib.dump(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), churn / "model.joblib")
    booster = xgboost.train({"objective": "binary:logistic", "max_depth": 2}, xgboost.DMatrix(X, label=y), num_boost_round=3)
    fraud = root / "fraud.json"
    booster.save_model(fraud)
    return {"churn": churn, "fraud": fraud}


def two_models(artifacts: dict[str, Path], **extra) -> list[dict]:
    return [
        {"name": "churn", "path": str(artifacts["churn"]), "maxReplicas": 3, "cpuRequest": "200m", **extra},
        {"name": "fraud", "path": str(artifacts["fraud"]), "protocol": "v1"},
    ]


@pytest.fixture(scope="module")
def kind_run(artifacts: dict[str, Path]) -> ProgramRun:
    return run_program({"models": two_models(artifacts)}, stack="kind")


def test_each_model_is_uploaded_content_addressed_and_served_by_its_formats_runtime(kind_run: ProgramRun, artifacts):
    churn_key = content_key(artifact_files(artifacts["churn"]))[:16]
    fraud_key = content_key(artifact_files(artifacts["fraud"]))[:16]
    # Named after their content: a canary's upload and the current version's are two resources.
    assert kind_run[f"model-churn-upload-{churn_key}"].inputs["objectName"] == f"churn/{churn_key}/model.joblib"
    assert kind_run[f"model-fraud-upload-{fraud_key}"].inputs["objectName"] == f"fraud/{fraud_key}/fraud.json"
    # ...and the name they had before, aliased, so that an existing stack keeps its objects.
    assert kind_run[f"model-churn-upload-{churn_key}"].options.aliases[0].name == "model-churn-upload"
    churn = kind_run["model-churn-isvc"].inputs["spec"]["predictor"]
    assert churn["model"]["modelFormat"] == {"name": "sklearn", "version": "1"}
    assert churn["model"]["runtime"] == "kserve-sklearnserver"
    assert churn["model"]["protocolVersion"] == "v2"
    assert churn["model"]["storageUri"] == f"s3://servebox-kind-models/churn/{churn_key}"
    assert (churn["maxReplicas"], churn["model"]["resources"]["requests"]["cpu"]) == (3, "200m")
    assert churn["serviceAccountName"] == "churn-predictor"
    fraud = kind_run["model-fraud-isvc"].inputs["spec"]["predictor"]
    assert (fraud["model"]["modelFormat"]["name"], fraud["model"]["runtime"]) == ("xgboost", "kserve-xgbserver")
    assert fraud["model"]["protocolVersion"] == "v1"
    assert fraud["model"]["storageUri"] == f"s3://servebox-kind-models/fraud/{fraud_key}"


def test_each_model_has_its_own_identity_that_only_reads_the_store(kind_run: ProgramRun):
    for name in ("churn", "fraud"):
        account = kind_run[f"model-{name}-service-account"].inputs
        assert account["metadata"]["name"] == f"{name}-predictor"
        assert account["automountServiceAccountToken"] is False
        assert account["secrets"] == [{"name": f"{name}-storage"}]
        secret = kind_run[f"model-{name}-storage-credentials"].inputs
        assert harness.secret_value(secret["stringData"])["AWS_ACCESS_KEY_ID"] == "servebox-kind-models-reader"
        assert {kind_run.upload_name(f"model-{name}"), f"model-{name}-storage-credentials"} <= set(kind_run[f"model-{name}-isvc"].depends_on)


def test_the_list_replaces_the_sample_by_default(kind_run: ProgramRun):
    assert [n for n, r in kind_run.resources.items() if r.type == ISVC] == ["model-churn-isvc", "model-fraud-isvc"]
    assert "model-upload" not in kind_run.by_role() and "model-smoke-test" not in kind_run.resources
    assert kind_run["model-namespace"].inputs["metadata"]["name"] == "models"
    assert kind_run.outputs[outputs.MODEL_NAME] == "churn"


def test_the_models_output_has_every_models_urls(kind_run: ProgramRun):
    models = kind_run.outputs[outputs.MODELS]
    assert list(models) == ["churn", "fraud"]
    fraud = models["fraud"]
    assert fraud == {
        "endpoint": "http://fraud.models.127.0.0.1.sslip.io:8080",
        "infer_url": "http://fraud.models.127.0.0.1.sslip.io:8080/v2/models/fraud/infer",
        "predict_url": "http://fraud.models.127.0.0.1.sslip.io:8080/v1/models/fraud:predict",
        "protocol": "v1",
        "host_header": "fraud.models.127.0.0.1.sslip.io",
        "curl": "curl -sS -H 'Content-Type: application/json' -H 'Host: fraud.models.127.0.0.1.sslip.io' "
        "http://127.0.0.1:8080/v1/models/fraud:predict -d @request.json",
        "model_uri": fraud["model_uri"],
        "format": "xgboost",
        "canary": None,
    }
    assert fraud["model_uri"].startswith("s3://servebox-kind-models/fraud/")
    assert kind_run.outputs[outputs.ENDPOINT] == models["churn"]["endpoint"]


def test_sample_model_true_serves_the_sample_beside_them(artifacts):
    run = run_program({"models": two_models(artifacts), "sampleModel": "true"}, stack="kind")
    assert [n for n, r in run.resources.items() if r.type == ISVC] == ["model-isvc", "model-churn-isvc", "model-fraud-isvc"]
    assert list(run.outputs[outputs.MODELS]) == ["mnist", "churn", "fraud"]
    assert run.outputs[outputs.MODEL_NAME] == "mnist"
    assert "model-smoke-test" in run.resources


def test_a_model_already_in_a_bucket_is_not_uploaded():
    run = run_program({"models": [{"name": "ranker", "uri": "s3://servebox-kind-models/ranker/7", "format": "lightgbm"}]}, stack="kind")
    assert not [n for n in run.resources if n.startswith("model-ranker-upload")]
    model = run["model-ranker-isvc"].inputs["spec"]["predictor"]["model"]
    assert (model["storageUri"], model["runtime"]) == ("s3://servebox-kind-models/ranker/7", "kserve-lgbserver")


@pytest.mark.parametrize(
    "config, stack, upload_type, uri_prefix",
    [
        ({"target": "gcp", "gcp:project": harness.FAKE_GCP_PROJECT}, "gcp", "gcp:storage/bucketObject:BucketObject", "gs://"),
        ({"target": "aws", "aws:region": "us-east-1"}, "aws", "aws:s3/bucketObjectv2:BucketObjectv2", "s3://"),
    ],
)
def test_own_models_on_each_vm_target_go_to_its_bucket(artifacts, config, stack, upload_type, uri_prefix):
    run = run_program({**config, "models": two_models(artifacts)}, stack=stack)
    for name in ("churn", "fraud"):
        assert run.upload(f"model-{name}").type == upload_type
        account = run[f"model-{name}-service-account"].inputs
        assert "secrets" not in account  # keyless: the node's identity reads the bucket
        assert run[f"model-{name}-isvc"].inputs["spec"]["predictor"]["model"]["storageUri"].startswith(uri_prefix)


def test_a_keyless_existing_store_binds_every_models_service_account(artifacts, tmp_path: Path):
    from tests.unit.test_existing import GKE, KUBECONFIG_TEXT

    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(KUBECONFIG_TEXT)
    config = {
        "target": "existing", "kubeconfigPath": str(kubeconfig), "kubeContext": GKE, "store": "gcs",
        "gcp:region": "us-central1", "models": two_models(artifacts), "sampleModel": "true",
    }
    run = run_program(config, stack="team")
    members = sorted(r.inputs["member"] for r in run.resources.values() if r.type == "gcp:serviceaccount/iAMMember:IAMMember")
    assert members == [
        "serviceAccount:servebox-test-1.svc.id.goog[models/churn-predictor]",
        "serviceAccount:servebox-test-1.svc.id.goog[models/fraud-predictor]",
        "serviceAccount:servebox-test-1.svc.id.goog[models/mnist-predictor]",
    ]


def test_a_directory_artifact_is_uploaded_file_by_file_under_one_directory(tmp_path: Path):
    saved = tmp_path / "ranker"
    (saved / "1").mkdir(parents=True)
    (saved / "1" / "saved_model.pb").write_bytes(b"graph")
    (saved / "1" / "variables").mkdir()
    (saved / "1" / "variables" / "variables.index").write_bytes(b"index")
    (saved / ".DS_Store").write_bytes(b"junk")
    files = artifact_files(saved)
    assert [relative for _, relative in files] == ["1/saved_model.pb", "1/variables/variables.index"]


# --- bad entries, each with its exact message, before any resource -------------------------------


def problems(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as error:
        project_settings("kind", raw, environ={})
    return error.value.problems


def test_an_entry_that_is_not_an_object_is_refused_by_the_cli():
    # `models` is array<object> in Pulumi.yaml: the CLI refuses the stack before the program runs.
    with pytest.raises(EngineError, match=r"^Stack 'kind' with configuration key 'models' must be of type 'array<object>'$"):
        project_settings("kind", {"models": ["churn"]})


def test_an_unknown_field_is_refused_with_a_suggestion(artifacts):
    assert problems({"models": [{"name": "churn", "path": str(artifacts["churn"]), "maxReplica": 2}]}) == [
        "models[0].maxReplica: got 2 for a field models do not have (did you mean maxReplicas?); allowed: name, path, "
        "uri, format, protocol, minReplicas, maxReplicas, cpuRequest, memoryRequest, cpuLimit, memoryLimit, canaryPath, canaryUri, canaryPercent, attendee. "
        "Fix: pulumi config rm --path 'models[0].maxReplica'"
    ]


def test_a_path_that_does_not_exist_is_refused(tmp_path: Path):
    missing = tmp_path / "nope.joblib"
    found = problems({"models": [{"name": "churn", "path": str(missing)}]})
    assert len(found) == 1 and found[0].startswith(f"models[0].path: got '{missing}'")


def test_a_name_the_sample_uses_is_refused_when_the_sample_is_served(artifacts):
    assert problems({"sampleModel": "true", "models": [{"name": "mnist", "path": str(artifacts["churn"])}]}) == [
        "models[0].name: got 'mnist', which the sample model (modelName) already uses; allowed: another name, or "
        "sampleModel false. Fix: pulumi config set --path 'models[0].name' mnist-2"
    ]


def test_no_sample_and_no_models_is_refused():
    assert problems({"sampleModel": "false"}) == [
        "sampleModel: got 'false', but models is empty; allowed: false only with at least one model of your own. "
        "Fix: pulumi config set sampleModel auto (or add a model: servebox serve <path>)"
    ]


def test_bad_scale_in_an_entry_is_refused(artifacts):
    assert problems({"models": [{"name": "churn", "path": str(artifacts["churn"]), "minReplicas": 3, "maxReplicas": 2}]}) == [
        "models[0].maxReplicas: got 2; allowed: at least its minReplicas (3). Fix: pulumi config set --path 'models[0].maxReplicas' 3"
    ]
    assert problems({"models": [{"name": "churn", "path": str(artifacts["churn"]), "cpuRequest": "lots"}]}) == [
        "models[0].cpuRequest: got 'lots'; allowed: a positive CPU quantity such as 100m, 0.5 or 1. "
        "Fix: pulumi config set --path 'models[0].cpuRequest' 100m"
    ]


def test_a_format_seldon_does_not_serve_is_refused(artifacts):
    found = problems({"serving": "seldon", "models": [{"name": "fraud", "path": str(artifacts["fraud"])}]})
    assert len(found) == 1 and found[0].startswith("models[0].format: got 'xgboost'; allowed with serving seldon: sklearn (")


def test_a_bad_models_list_registers_no_resource(tmp_path: Path):
    with pytest.raises(Exception, match="models\\[0\\].path"):
        run_program({"models": [{"name": "churn", "path": str(tmp_path / "nope.joblib")}]}, stack="kind")
    assert harness.LAST_REGISTRATIONS == []


def test_own_models_on_seldon_are_seldon_deployments_labelled_with_their_names(artifacts):
    run = run_program({"serving": "seldon", "models": [{"name": "churn", "path": str(artifacts["churn"])}]}, stack="kind")
    sdep = run["model-churn-sdep"].inputs
    assert sdep["metadata"]["labels"]["app.kubernetes.io/name"] == "churn"
    assert sdep["spec"]["predictors"][0]["graph"]["modelUri"].startswith("s3://servebox-kind-models/churn/")
    assert run.outputs[outputs.MODELS]["churn"]["predict_url"] is None  # Seldon's executor routes V2 only
