"""A canary under mocks, step by step: the `models` entry as servebox serve --canary, promote and
rollback leave it (servebox/serving.py), and at each step the InferenceService (valid for the
v0.20.0 CRD) or SeldonDeployment (v1.17.1), the uploads kept, the end-of-up check and outputs.

What KServe does with the spec is read from its source at v0.20.0 (ksvc_reconciler.go: with
canaryTrafficPercent and a rolled-out revision, the latest revision takes that share and `prev`
the rest; PropagateStatus moves latestRolledoutRevision only at 100 %). What no test here can
prove is a cluster doing it: tests/model/test_canary_split.py runs two real servers behind a
stand-in of the split.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from components.config import ConfigError
from components.model.layout import artifact_files, content_key
from servebox import serving
from tests.harness import ProgramRun, run_program
from tests.k8s_validation import validate


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("versions")
    rng = np.random.default_rng(11)
    X = rng.normal(size=(50, 3))
    found = {}
    for name, column in (("v1", 0), ("v2", 1)):
        path = root / f"{name}.joblib"
        joblib.dump(LogisticRegression().fit(X, X[:, column] > 0), path)
        found[name] = path
    return found


def _key(path: Path) -> str:
    return content_key(artifact_files(path))[:16]


def _isvc(run: ProgramRun) -> dict:
    inputs = run["model-churn-isvc"].inputs
    manifest = {key: inputs[key] for key in ("apiVersion", "kind", "metadata", "spec")}
    validate(manifest)
    return manifest


STEPS = ("served", "canary", "promoted", "rolled-back")


@pytest.fixture(scope="module")
def steps(versions: dict[str, Path]) -> dict[str, list[dict]]:
    """The entry after each command, as the commands write it."""
    served = [{"name": "churn", "path": str(versions["v1"])}]
    canary = serving.with_canary(served, "churn", versions["v2"], 10)
    return {
        "served": served,
        "canary": canary,
        "promoted": serving.promoted(canary, "churn"),
        "rolled-back": serving.rolled_back(canary, "churn"),
    }


@pytest.fixture(scope="module")
def runs(steps: dict[str, list[dict]]) -> dict[str, ProgramRun]:
    return {step: run_program({"models": models}, stack="kind") for step, models in steps.items()}


def test_the_config_edits(steps: dict[str, list[dict]], versions: dict[str, Path]) -> None:
    v1, v2 = str(versions["v1"].resolve()), str(versions["v2"].resolve())
    assert steps["canary"] == [{"name": "churn", "path": str(versions["v1"]), "canaryPath": v2, "canaryPercent": 10}]
    assert steps["promoted"] == [{"name": "churn", "path": v2}]
    assert steps["rolled-back"] == [{"name": "churn", "path": str(versions["v1"]), "canaryPercent": 0}]
    assert v1  # the current version's path is kept as the user gave it


def test_the_inference_service_at_each_step(runs: dict[str, ProgramRun], versions: dict[str, Path]) -> None:
    uri = {name: f"s3://servebox-kind-models/churn/{_key(path)}" for name, path in versions.items()}
    predictor = {step: _isvc(run)["spec"]["predictor"] for step, run in runs.items()}
    assert [(step, p["model"]["storageUri"], p.get("canaryTrafficPercent")) for step, p in predictor.items()] == [
        ("served", uri["v1"], None),
        # The canary is the predictor's latest revision; KServe keeps the one rolled out last at 90 %.
        ("canary", uri["v2"], 10),
        # The same storageUri, the split gone: the ready revision takes everything, none is made anew.
        ("promoted", uri["v2"], None),
        # The current version's files again, and 0 %: every request on the rolled-out revision at
        # once, while KServe makes a revision of them (never a moment of 100 % on the canary).
        ("rolled-back", uri["v1"], 0),
    ]
    for run in runs.values():
        assert _isvc(run)["metadata"]["annotations"]["serving.kserve.io/enable-tag-routing"] == "true"


def test_both_versions_stay_stored_while_the_canary_runs_and_only_the_kept_one_after(
    runs: dict[str, ProgramRun], versions: dict[str, Path]
) -> None:
    def uploads(run: ProgramRun) -> dict[str, str]:
        return {name: r.inputs["objectName"] for name, r in run.resources.items() if name.startswith("model-churn-upload-")}

    v1, v2 = _key(versions["v1"]), _key(versions["v2"])
    name = {key: f"model-churn-upload-{key}" for key in (v1, v2)}
    assert uploads(runs["served"]) == {name[v1]: f"churn/{v1}/v1.joblib"}
    assert uploads(runs["canary"]) == {name[v1]: f"churn/{v1}/v1.joblib", name[v2]: f"churn/{v2}/v2.joblib"}
    # Promoting keeps the canary's upload as it is (same name, same key: nothing deleted under it);
    # the old version's goes with the next up.
    assert uploads(runs["promoted"]) == {name[v2]: f"churn/{v2}/v2.joblib"}
    assert uploads(runs["rolled-back"]) == {name[v1]: f"churn/{v1}/v1.joblib"}
    # The current version's upload is the same resource, unchanged, with its canary beside it.
    assert runs["canary"][name[v1]].inputs == runs["served"][name[v1]].inputs
    assert {name[v1], name[v2]} <= set(runs["canary"]["model-churn-isvc"].depends_on)


def test_the_end_of_up_proof_asks_each_version_at_its_own_host(runs: dict[str, ProgramRun]) -> None:
    checks = {step: [n for n in run.resources if n.endswith("-canary-check")] for step, run in runs.items()}
    assert checks == {"served": [], "canary": ["model-churn-canary-check"], "promoted": [], "rolled-back": []}
    check = runs["canary"]["model-churn-canary-check"]
    argv = shlex.split(check.inputs["create"])
    assert argv[1:] == [
        "scripts/canary_check.py", "--url", "http://127.0.0.1:8080", "--model", "churn", "--protocol", "v2",
        "--host", "prev-churn-predictor.models.127.0.0.1.sslip.io",
        "--host", "latest-churn-predictor.models.127.0.0.1.sslip.io",
        "--timeout", argv[-1],
    ]
    assert {"model-churn-isvc", "platform-istio-gateway"} <= set(check.depends_on)
    canary = runs["canary"].outputs["models"]["churn"]["canary"]
    assert canary == {
        "percent": 10,
        "model_uri": canary["model_uri"],
        "host_header": "latest-churn-predictor.models.127.0.0.1.sslip.io",
        "current_host_header": "prev-churn-predictor.models.127.0.0.1.sslip.io",
    }
    assert runs["promoted"].outputs["models"]["churn"]["canary"] is None


def test_on_seldon_the_canary_is_a_second_predictor_with_its_share(versions: dict[str, Path]) -> None:
    models = serving.with_canary([{"name": "churn", "path": str(versions["v1"])}], "churn", versions["v2"], 25)
    run = run_program({"serving": "seldon", "models": models}, stack="kind")
    inputs = run["model-churn-sdep"].inputs
    manifest = {key: inputs[key] for key in ("apiVersion", "kind", "metadata", "spec")}
    validate(manifest)
    predictors = manifest["spec"]["predictors"]
    assert [(p["name"], p["traffic"], p["graph"]["modelUri"].rsplit("/", 1)[1]) for p in predictors] == [
        ("default", 75, _key(versions["v1"])),
        ("canary", 25, _key(versions["v2"])),
    ]
    # One weighted route: no host of its own per version, so no per-version check.
    assert not [n for n in run.resources if n.endswith("-canary-check")]
    assert run.outputs["models"]["churn"]["canary"]["host_header"] is None


def _problems(models: list[dict], **config: str) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        run_program({"models": models, **config}, stack="kind")
    return refused.value.problems


def test_standard_mode_refuses_a_canary_with_the_reason(versions: dict[str, Path]) -> None:
    models = serving.with_canary([{"name": "churn", "path": str(versions["v1"])}], "churn", versions["v2"], 10)
    assert _problems(models, deploymentMode="standard") == [
        "models[0].canaryPercent: got a canary in deploymentMode standard; allowed: a canary with serving kserve in "
        "deploymentMode knative (whose revisions keep the current version serving beside the new one) or serving "
        "seldon (two predictors); in Standard mode KServe replaces the one Deployment. Fix: pulumi config rm --path "
        "'models[0].canaryPath' and 'models[0].canaryPercent' (or serve it as a model of its own)"
    ]


@pytest.mark.parametrize(
    ("canary", "problem"),
    [
        pytest.param({"canaryPercent": 100}, "models[0].canaryPercent: got '100'; allowed: a whole number from 1 to 99 with "
                     "canaryPath or canaryUri (the share of requests the new version answers; servebox promote gives it "
                     "all). Fix: pulumi config set --path 'models[0].canaryPercent' 10", id="all-of-it"),
        pytest.param({"canaryPercent": None}, "models[0].canaryPercent: got 'nothing'; allowed: a whole number from 1 to 99 "
                     "with canaryPath or canaryUri (the share of requests the new version answers; servebox promote gives "
                     "it all). Fix: pulumi config set --path 'models[0].canaryPercent' 10", id="no-share"),
        pytest.param({"canaryPath": None, "canaryPercent": 10}, "models[0].canaryPercent: got '10'; allowed: 0 alone (all "
                     "requests on the version rolled out last, what servebox rollback leaves), or a share from 1 to 99 with "
                     "canaryPath or canaryUri. Fix: pulumi config set --path 'models[0].canaryPercent' 0", id="no-version"),
        pytest.param({"canaryUri": "s3://servebox-kind-models/churn/v2"}, "models[0]: got both canaryPath and canaryUri; "
                     "allowed: one of them, the new version's file or bucket URI. Fix: pulumi config rm --path "
                     "'models[0].canaryUri'", id="both"),
    ],
)
def test_bad_canaries_are_refused_before_any_resource(versions: dict[str, Path], canary: dict, problem: str) -> None:
    entry = {"name": "churn", "path": str(versions["v1"]), "canaryPath": str(versions["v2"]), "canaryPercent": 10}
    entry.update(canary)
    assert _problems([{k: v for k, v in entry.items() if v is not None}]) == [problem]


def test_a_canary_of_the_same_files_or_another_format_is_refused(versions: dict[str, Path], tmp_path: Path) -> None:
    same = [{"name": "churn", "path": str(versions["v1"]), "canaryPath": str(versions["v1"]), "canaryPercent": 10}]
    assert _problems(same) == [
        f"models[0].canaryPath: got {str(versions['v1'])!r}, the same files as the model's path; allowed: a new version. "
        "Fix: pulumi config rm --path 'models[0].canaryPath' (or save the new version there)"
    ]
    booster = tmp_path / "ranker.json"
    booster.write_text('{"learner": {"attributes": {}, "feature_names": [], "gradient_booster": {}}, "version": [2, 1, 0]}')
    other = [{"name": "churn", "path": str(versions["v1"]), "canaryPath": str(booster), "canaryPercent": 10}]
    assert _problems(other) == [
        "models[0].canaryPath: got a xgboost model; allowed: a sklearn model, as the current version (a canary shares "
        f"its runtime). Fix: serve it as a model of its own: servebox serve {booster} --name <another name>"
    ]


def test_a_canary_uri_is_held_to_the_stacks_buckets(versions: dict[str, Path]) -> None:
    models = [{"name": "churn", "path": str(versions["v1"]), "canaryUri": "s3://someone-elses/churn", "canaryPercent": 10}]
    [problem] = _problems(models)
    assert problem.startswith("models[0].canaryUri: got 's3://someone-elses/churn'")
