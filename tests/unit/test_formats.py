"""Users' own models: formats served per serving stack, artifact layouts, format detection, the
scikit-learn release of a pickle (read from its opcodes), names, and framework detection.

Every refusal is asserted with its exact message. The artifacts are real: written by scikit-learn,
joblib, XGBoost and LightGBM in the test, except where a file stands for a layout only (a
SavedModel's or a Triton repository's file names, whose content servebox does not read). The
checks are pure functions: that a refused `models` entry registers no resource is for the
configuration layer, which calls them before the program creates anything.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path

import joblib
import lightgbm as lgb
import numpy as np
import pytest
import sklearn
import xgboost as xgb
from joblib.numpy_pickle import NumpyPickler
from sklearn.base import BaseEstimator
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from components import versions
from components.model import checks, formats, layout, pickle_scan
from components.model.checks import ModelEntry
from servebox import inference, save

NAME_RULE = (
    "lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, at most 40 characters"
)
KSERVE_ALLOWED = "allowed with serving kserve: sklearn, xgboost, lightgbm"
SKLEARN_RULE = (
    "allowed: exactly one *.joblib, *.pkl or *.pickle file (at the top of a directory, or the file itself), "
    "pickled with scikit-learn 1.5.2"
)
XGB_RULE = "allowed: exactly one *.bst, *.json or *.ubj Booster file (Booster.save_model)"
LGB_RULE = "allowed: exactly one *.bst file in LightGBM's text model format (Booster.save_model)"
IMAGE = "docker.io/kserve/sklearnserver:v0.20.0"


def _data(rows: int = 80) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(7)
    features = rng.normal(size=(rows, 4))
    return features, (features[:, 0] - features[:, 2] > 0).astype(int)


@pytest.fixture(scope="module")
def fitted() -> dict[str, object]:
    X, y = _data()
    return {
        "pipeline": make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
        "xgb_classifier": xgb.XGBClassifier(n_estimators=3, max_depth=2).fit(X, y),
        "xgb_booster": xgb.train({"max_depth": 2}, xgb.DMatrix(X, label=y), num_boost_round=2),
        "lgb_regressor": lgb.LGBMRegressor(n_estimators=3, verbose=-1).fit(X, y),
        "lgb_booster": lgb.train({"verbose": -1}, lgb.Dataset(X, label=y), num_boost_round=2),
    }


class _SavedByAnotherRelease(NumpyPickler):
    """joblib's own pickler, with every estimator's state saying another scikit-learn wrote it:
    what `BaseEstimator.__getstate__` records under that release."""

    release = "1.6.1"

    def reducer_override(self, obj: object) -> object:
        if isinstance(obj, BaseEstimator):
            reduced = obj.__reduce_ex__(self.proto)
            return (reduced[0], reduced[1], {**reduced[2], "_sklearn_version": self.release}, *reduced[3:])
        return NotImplemented


def _dump_as_other_release(model: object, path: Path) -> Path:
    with path.open("wb") as handle:
        _SavedByAnotherRelease(handle).dump(model)
    return path


def _double(values: np.ndarray) -> np.ndarray:
    return values * 2


# --- formats served per serving stack ------------------------------------------------------------

def test_kserve_serves_the_three_runtimes_servebox_enables() -> None:
    assert formats.served_formats("kserve") == ("sklearn", "xgboost", "lightgbm")
    assert {formats.FORMATS[f].runtime for f in formats.served_formats("kserve")} == versions.SERVED_RUNTIMES
    assert formats.served_formats("seldon") == ("sklearn",)


def test_every_format_names_a_runtime_the_chart_installs_with_that_format() -> None:
    by_name = {runtime.name: runtime for runtime in versions.KSERVE_RUNTIMES}
    for spec in formats.FORMATS.values():
        assert spec.runtime in by_name
        declared = by_name[spec.runtime].formats
        assert not declared or spec.name in declared  # versions.py lists formats for the served ones


def test_first_class_formats_run_on_both_architectures_and_take_the_runtime_arguments() -> None:
    for name in ("sklearn", "xgboost", "lightgbm"):
        assert formats.FORMATS[name].architectures == versions.AMD64_ARM64
    assert formats.server_arguments("xgboost", "churn") == [
        "--model_name=churn", "--model_dir=/mnt/models", "--http_port=8080", "--nthread=1",
    ]
    assert formats.FORMATS["huggingface"].architectures == versions.AMD64_ONLY


FORMAT_REFUSALS = [
    ("keras", "kserve", f"models[0].format: got 'keras'; {KSERVE_ALLOWED}. Fix: set models[0].format to one of "
                        "them, or save the model with one of those frameworks"),
    ("onnx", "kserve", f"models[0].format: got 'onnx'; {KSERVE_ALLOWED}. KServe serves onnx with kserve-tritonserver, "
                       "whose image nvcr.io/nvidia/tritonserver:23.05-py3 runs on amd64 and arm64 and is over 10 GB "
                       "(CUDA and every Triton backend); servebox installs that runtime disabled "
                       "(components/versions.py SERVED_RUNTIMES). Fix: save the model as sklearn, xgboost or "
                       "lightgbm, or enable kserve-tritonserver by adding it to SERVED_RUNTIMES (and its image to "
                       "the pinned images) on a node that can run it"),
    ("huggingface", "kserve", f"models[0].format: got 'huggingface'; {KSERVE_ALLOWED}. KServe serves huggingface "
                              "with kserve-huggingfaceserver, whose image kserve/huggingfaceserver:v0.20.0 runs on "
                              "amd64 only and is several GB (PyTorch, CUDA libraries and vLLM); servebox installs "
                              "that runtime disabled (components/versions.py SERVED_RUNTIMES). Fix: save the model as "
                              "sklearn, xgboost or lightgbm, or enable kserve-huggingfaceserver by adding it to "
                              "SERVED_RUNTIMES (and its image to the pinned images) on a node that can run it"),
    ("xgboost", "seldon", "models[0].format: got 'xgboost'; allowed with serving seldon: sklearn (servebox registers "
                          "one server with Seldon Core, KServe's scikit-learn server as KSERVE_SKLEARN_SERVER, and "
                          "none of Seldon's own prepackaged servers, which are amd64-only and on the unmaintained "
                          "MLServer). Fix: pulumi config set serving kserve, or save the model with scikit-learn"),
]


@pytest.mark.parametrize(("fmt", "serving", "message"), FORMAT_REFUSALS, ids=[c[0] + "-" + c[1] for c in FORMAT_REFUSALS])
def test_a_format_the_serving_stack_does_not_serve_is_refused(fmt: str, serving: str, message: str) -> None:
    assert formats.check_format(fmt, serving, "models[0].format") == [message]


def test_an_amd64_only_runtime_is_refused_on_an_arm64_node_once_enabled() -> None:
    enabled = versions.SERVED_RUNTIMES | {"kserve-tensorflow-serving"}
    assert formats.check_format("tensorflow", "kserve", "models[2].format", node_architecture="amd64",
                                served_runtimes=enabled) == []
    assert formats.check_format("tensorflow", "kserve", "models[2].format", node_architecture="arm64",
                                served_runtimes=enabled) == [
        "models[2].format: got 'tensorflow'; its runtime kserve-tensorflow-serving runs on amd64 only, and this "
        "stack's node is arm64. Fix: choose a machine type of that architecture, or another format"
    ]


def test_onnx_takes_v2_only() -> None:
    assert formats.check_protocol("onnx", "v1", "models[0].protocol") == [
        "models[0].protocol: got 'v1'; allowed for format onnx (kserve-tritonserver): v2. Fix: set models[0].protocol to v2"
    ]
    assert formats.check_protocol("sklearn", "v1") == []


def test_seldon_takes_v2_only() -> None:
    assert formats.check_protocol("sklearn", "v1", "models[0].protocol", "seldon") == [
        "models[0].protocol: got 'v1'; allowed for serving seldon: v2. Fix: set models[0].protocol to v2"
    ]
    assert formats.check_protocol("sklearn", "v2", "models[0].protocol", "seldon") == []


# --- names ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "fix"),
    [("Churn_Model", "churn-model"), ("1st-model", "st-model"), ("churn-", "churn"), ("", "my-model"),
     ("a" * 41, "a" * 40), ("caf\u00e9", "caf")],
)
def test_a_name_that_is_not_a_dns_label_is_refused_with_a_fix(name: str, fix: str) -> None:
    assert formats.check_model_name(name, "models[1].name") == [
        f"models[1].name: got {name!r}; allowed: {NAME_RULE}. Fix: set models[1].name to {fix!r}"
    ]


def test_dns_labels_up_to_40_characters_pass() -> None:
    assert formats.check_model_name("churn") == formats.check_model_name("a" * 40) == formats.check_model_name("m-2") == []


def test_duplicate_names_name_both_entries() -> None:
    assert formats.check_unique_names(["churn", "fraud", "churn", "churn"]) == [
        "models[2].name: got 'churn', which models[0].name already uses; allowed: a name no other model has (each "
        "model is its own InferenceService). Fix: rename one of them",
        "models[3].name: got 'churn', which models[0].name already uses; allowed: a name no other model has (each "
        "model is its own InferenceService). Fix: rename one of them",
    ]


# --- detection ----------------------------------------------------------------------------------------

def _two_model_files(root: Path, fitted: dict) -> Path:
    (root / "two").mkdir()
    joblib.dump(fitted["pipeline"], root / "two" / "a.joblib")
    (root / "two" / "b.pkl").write_bytes(pickle.dumps(fitted["pipeline"]))
    return root / "two"


def _model_file_one_level_down(root: Path, fitted: dict) -> Path:
    (root / "nested" / "inner").mkdir(parents=True)
    joblib.dump(fitted["pipeline"], root / "nested" / "inner" / "model.joblib")
    return root / "nested"


def _upper_case_extension(root: Path, fitted: dict) -> Path:
    (root / "model.PKL").write_bytes(pickle.dumps(fitted["pipeline"]))
    return root / "model.PKL"


def _xgboost_model_beside_metrics(root: Path, fitted: dict) -> Path:
    (root / "xgb").mkdir()
    fitted["xgb_booster"].save_model(str(root / "xgb" / "model.json"))
    (root / "xgb" / "metrics.json").write_text("{}")  # xgbserver picks every *.json at the top level
    return root / "xgb"


def _xgboost_model_named_bst(root: Path, fitted: dict) -> Path:
    fitted["xgb_booster"].save_model(str(root / "not-lgb.bst"))
    return root / "not-lgb.bst"


LAYOUT_REFUSALS = [
    pytest.param(
        "sklearn",
        _two_model_files,
        "models[0].path: got '<path>', a directory with 2 files the server would load (a.joblib, b.pkl) and it "
        f"loads exactly one; {SKLEARN_RULE}. Fix: keep one of them there, or point models[0].path at the file itself",
        id="two-model-files",
    ),
    pytest.param(
        "sklearn",
        _model_file_one_level_down,
        "models[0].path: got '<path>', a directory with no *.joblib/*.pkl/*.pickle file (the server reads only "
        f"the top level, not inner/model.joblib); {SKLEARN_RULE}. Fix: put the model file at the top of the directory",
        id="nested",
    ),
    pytest.param(
        "sklearn",
        _upper_case_extension,
        f"models[0].path: got '<path>'; {SKLEARN_RULE}. Fix: save it with one of those extensions (.joblib, .pkl, "
        ".pickle, lower-case: the server matches them exactly)",
        id="upper-case-extension",
    ),
    pytest.param(
        "xgboost",
        _xgboost_model_beside_metrics,
        "models[0].path: got '<path>', a directory with 2 files the server would load (metrics.json, model.json) "
        f"and it loads exactly one; {XGB_RULE}. Fix: keep one of them there, or point models[0].path at the file itself",
        id="xgboost-beside-metrics",
    ),
    pytest.param(
        "lightgbm",
        _xgboost_model_named_bst,
        "models[0].path: not-lgb.bst is not a LightGBM text model (it does not start with 'tree' and 'version='); "
        f"{LGB_RULE}. Fix: booster.save_model('model.bst') (LGBMModel: model.booster_.save_model('model.bst'))",
        id="not-lightgbm",
    ),
    pytest.param(
        "sklearn",
        lambda root, fitted: root / "gone",
        "models[0].path: got '<path>', which does not exist; allowed: a model file or directory on this "
        "machine. Fix: point models[0].path at the saved model (or use uri for a model already in a bucket)",
        id="missing",
    ),
]


# A .bst that XGBoost writes is UBJSON, which it says in a warning: the point of these files.
@pytest.mark.filterwarnings("ignore:.*Saving model in the UBJSON format as default")
@pytest.mark.parametrize(("model_format", "make", "message"), LAYOUT_REFUSALS)
def test_layout_refusals_say_what_the_server_loads(
    tmp_path: Path, fitted: dict, model_format: str, make: Callable[[Path, dict], Path], message: str
) -> None:
    path = make(tmp_path, fitted)
    assert layout.check_layout(model_format, path, "models[0].path") == [message.replace("<path>", str(path))]


def test_directory_format_layouts(tmp_path: Path) -> None:
    flat_tf = tmp_path / "tf"
    flat_tf.mkdir()
    (flat_tf / "saved_model.pb").write_bytes(b"")
    triton = tmp_path / "triton"
    (triton / "style" / "1").mkdir(parents=True)
    (triton / "style" / "1" / "model.onnx").write_bytes(b"")
    assert layout.check_layout("tensorflow", flat_tf, "models[0].path") == [
        f"models[0].path: got '{flat_tf}', a SavedModel without a version directory; allowed: a SavedModel in a "
        f"numbered version directory: <dir>/<version>/saved_model.pb. Fix: move its contents into {flat_tf / '1'} "
        "(TensorFlow Serving loads numbered versions only)"
    ]
    assert layout.check_layout("onnx", triton, "models[0].path", model_name="churn") == [
        "models[0].path: the Triton model directory is 'style' but the model's name is 'churn'; Triton serves it at "
        "/v2/models/style, not at /v2/models/churn. Fix: rename the directory to churn"
    ]
    assert layout.check_layout("onnx", triton, "models[0].path", model_name="style") == []
    assert layout.check_layout("pytorch", tmp_path, "models[0].path")[0].startswith(
        f"models[0].path: '{tmp_path}' has no config/config.properties; allowed: TorchServe's layout"
    )


# --- the scikit-learn release of a pickle ------------------------------------------------------------------

@pytest.mark.parametrize("compress", [0, 3, ("gzip", 3), ("bz2", 3), ("xz", 3), ("lzma", 3)], ids=str)
def test_the_release_is_read_from_joblib_files_plain_or_compressed(tmp_path: Path, fitted: dict, compress: object) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump(fitted["pipeline"], path, compress=compress)
    assert layout.pickle_sklearn_version(path) == sklearn.__version__ == versions.SKLEARN_VERSION


def test_joblib_arrays_of_every_layout_are_stepped_over(tmp_path: Path) -> None:
    # Object arrays (string class labels) are nested pickles; the others are raw bytes of sizes
    # the dtype's pickled state gives: flexible, structured, sub-array, datetime, Fortran order.
    X, _ = _data()
    labels = np.where(X[:, 0] > 0, "yes", "no")
    bundle = {
        "first": LogisticRegression().fit(X, labels),
        "arrays": [np.array(["ab", "c"]), np.zeros(3, dtype=[("a", "f8"), ("b", "i4")]),
                   np.zeros(2, dtype=("f8", (3,))), np.array(["2020-01-01"], dtype="M8[ns]"),
                   np.asfortranarray(np.arange(12.0).reshape(3, 4)), np.float32(1.5), np.array([], dtype="f8")],
        "last": StandardScaler().fit(X),
    }
    path = tmp_path / "bundle.joblib"
    joblib.dump(bundle, path)
    facts = pickle_scan.scan(path)
    assert facts.sklearn_versions == {versions.SKLEARN_VERSION}
    assert "sklearn.preprocessing._data.StandardScaler" in facts.globals  # read after every array


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_the_release_is_read_from_plain_pickles_of_every_protocol(tmp_path: Path, fitted: dict, protocol: int) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(fitted["pipeline"], protocol=protocol))
    assert layout.pickle_sklearn_version(path) == versions.SKLEARN_VERSION


def test_a_pickle_from_another_release_is_refused_with_how_to_re_save(tmp_path: Path, fitted: dict) -> None:
    path = _dump_as_other_release(fitted["pipeline"], tmp_path / "model.joblib")
    # What scikit-learn itself reads from that file: the crafted state is the real thing.
    with pytest.warns(InconsistentVersionWarning) as caught:
        joblib.load(path)
    assert {w.message.original_sklearn_version for w in caught} == {"1.6.1"}  # type: ignore[union-attr]
    assert layout.pickle_sklearn_version(path) == "1.6.1"
    assert layout.check_sklearn_version(path, key="models[0].path") == [
        f"models[0].path: model.joblib was pickled with scikit-learn 1.6.1; allowed: scikit-learn 1.5.2, the release "
        f"in {IMAGE} (a pickle loads only with the release that wrote it). Fix: pip install scikit-learn==1.5.2, "
        "train the model again (or load it) under that release, and joblib.dump(model, 'model.joblib')"
    ]


def test_classes_the_image_lacks_are_refused(tmp_path: Path, fitted: dict) -> None:
    path = tmp_path / "model.joblib"
    X, y = _data()
    joblib.dump(make_pipeline(FunctionTransformer(_double), LogisticRegression()).fit(X, y), path)
    joblib.dump(fitted["xgb_classifier"], tmp_path / "xgb.joblib")
    allowed = "dateutil, joblib, numpy, pandas, pytz, scipy, sklearn, threadpoolctl, tzdata"
    assert layout.check_sklearn_version(path, key="models[0].path") == [
        f"models[0].path: model.joblib imports {__name__}._double when unpickled; allowed: the standard library and "
        f"{allowed} (what {IMAGE} installs; classes defined in a notebook or script live in __main__, which the server "
        "does not have). Fix: build the model from scikit-learn's own classes, or serve it with its own framework's format"
    ]
    # What else the pickle imports depends on the process (with dill imported by another test, pickle
    # writes types through dill._dill._load_type, which the image lacks too); the xgboost imports are always named.
    (message,) = layout.check_sklearn_version(tmp_path / "xgb.joblib", key="models[0].path")
    imports = message.removeprefix("models[0].path: xgb.joblib imports ").split(" when unpickled;")[0].split(", ")
    assert {"xgboost.core.Booster", "xgboost.sklearn.XGBClassifier"} <= set(imports), message


def test_files_the_scanner_cannot_read_are_refused(tmp_path: Path) -> None:
    (tmp_path / "text.pkl").write_text("hello")
    (tmp_path / "lz4.joblib").write_bytes(b"\x04\x22\x4d\x18rest")
    (tmp_path / "cut.pkl").write_bytes(pickle.dumps({"a": list(range(100))})[:20])
    assert layout.check_sklearn_version(tmp_path / "text.pkl", key="models[0].path") == [
        "models[0].path: text.pkl cannot be read as a pickle: it starts with the bytes b'hell', and a pickle starts "
        "with 0x80 (or a protocol 0 or 1 opcode), a compressed joblib dump with a zlib, gzip, bz2, xz or lzma header; "
        "allowed: a pickle or joblib dump, uncompressed or compressed with zlib, gzip, bz2, xz or lzma. Fix: save the "
        "model with joblib.dump(model, 'text.joblib')"
    ]
    with pytest.raises(pickle_scan.PickleScanError) as lz4:
        pickle_scan.scan(tmp_path / "lz4.joblib")
    assert str(lz4.value) == (
        "lz4.joblib cannot be read as a pickle: it is an lz4-compressed joblib dump, which needs the lz4 package to "
        "read (servebox reads uncompressed dumps and joblib's zlib, gzip, bz2, xz and lzma compression)"
    )
    with pytest.raises(pickle_scan.PickleScanError) as cut:
        pickle_scan.scan(tmp_path / "cut.pkl")
    assert str(cut.value).startswith("cut.pkl cannot be read as a pickle: it breaks off or is not a pickle where it "
                                      "claims to be (")


def test_the_scanner_never_unpickles(tmp_path: Path) -> None:
    path = tmp_path / "evil.pkl"
    marker = tmp_path / "ran"
    path.write_bytes(pickle.dumps(_Evil(str(marker))))
    facts = pickle_scan.scan(path)
    assert not marker.exists()
    assert facts.globals == frozenset({"io.open"}) and facts.sklearn_versions == frozenset()


class _Evil:
    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self) -> tuple:
        return (open, (self.target, "w"))


# --- the models list --------------------------------------------------------------------------------------

def test_the_models_list_collects_every_problem_and_passes_good_entries(tmp_path: Path, fitted: dict) -> None:
    good = tmp_path / "good"
    good.mkdir()
    joblib.dump(fitted["pipeline"], good / "model.joblib")
    old = _dump_as_other_release(fitted["pipeline"], tmp_path / "old.joblib")
    booster = tmp_path / "model.bst"
    fitted["lgb_booster"].save_model(str(booster))
    entries = [
        ModelEntry("churn", path=str(good)),
        ModelEntry("fraud", path=str(booster), protocol="v1"),
        ModelEntry("Old_One", path=str(old)),
        ModelEntry("churn", uri="gs://bucket/churn/", format="xgboost"),
        ModelEntry("both", path=str(good), uri="gs://bucket/x"),
    ]
    passed, problems = checks.check_models(entries, "kserve")
    assert [(c.entry.name, c.format, c.artifact) for c in passed] == [
        ("churn", "sklearn", good), ("fraud", "lightgbm", booster),
    ]
    assert problems == [
        f"models[2].name: got 'Old_One'; allowed: {NAME_RULE}. Fix: set models[2].name to 'old-one'",
        f"models[2].path: old.joblib was pickled with scikit-learn 1.6.1; allowed: scikit-learn 1.5.2, the release "
        f"in {IMAGE} (a pickle loads only with the release that wrote it). Fix: pip install scikit-learn==1.5.2, "
        "train the model again (or load it) under that release, and joblib.dump(model, 'old.joblib')",
        "models[3].name: got 'churn', which models[0].name already uses; allowed: a name no other model has (each "
        "model is its own InferenceService). Fix: rename one of them",
        "models[4]: got both path and uri; allowed: exactly one of path (a model on this machine) and uri (a model "
        "already in a bucket). Fix: set models[4].path or models[4].uri, not both",
    ]
    _, seldon = checks.check_models([ModelEntry("fraud", path=str(booster))], "seldon")
    assert seldon == [formats.check_format("lightgbm", "seldon", "models[0].format")[0]]


# --- framework detection and saving -------------------------------------------------------------------------

class _MyLogistic(LogisticRegression):
    pass


def test_framework_is_read_from_the_whole_mro(fitted: dict) -> None:
    X, y = _data()
    assert [save.framework_of(m) for m in (
        fitted["pipeline"], LogisticRegression(), _MyLogistic().fit(X, y), fitted["xgb_classifier"],
        fitted["xgb_booster"], xgb.XGBRegressor(), fitted["lgb_regressor"], fitted["lgb_booster"],
    )] == ["sklearn", "sklearn", "sklearn", "xgboost", "xgboost", "xgboost", "lightgbm", "lightgbm"]


def test_an_object_that_is_no_model_is_refused_naming_its_class() -> None:
    for obj, cls in ((json.JSONDecoder(), "json.decoder.JSONDecoder"), (np.zeros(3), "numpy.ndarray")):
        with pytest.raises(save.SaveError) as raised:
            save.framework_of(obj)
        assert str(raised.value) == (
            f"model: got an object of class {cls}; allowed: a fitted scikit-learn estimator or Pipeline "
            "(sklearn.base.BaseEstimator), an XGBoost Booster or XGBModel (XGBClassifier, XGBRegressor, ...), or a "
            "LightGBM Booster or LGBMModel (LGBMClassifier, ...). Fix: pass the fitted model itself, or save it "
            "yourself and pass the file's path"
        )


def test_save_refuses_unfitted_models(tmp_path: Path) -> None:
    with pytest.raises(save.SaveError, match=r"^model: the LogisticRegression is not fitted; allowed: a fitted "
                       r"estimator\. Fix: call \.fit\(X, y\) first$"):
        save.save_model(LogisticRegression(), tmp_path)
    with pytest.raises(save.SaveError, match=r"^model: the LGBMClassifier is not fitted, so it has no lightgbm "
                       r"Booster to save; allowed: a fitted model\. Fix: call \.fit\(X, y\) first$"):
        save.save_model(lgb.LGBMClassifier(), tmp_path)


def test_save_refuses_another_scikit_learn_in_this_environment(tmp_path: Path, fitted: dict,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Stands in for a notebook whose environment has another release; nothing is written.
    monkeypatch.setattr(sklearn, "__version__", "1.7.0")
    with pytest.raises(save.SaveError) as raised:
        save.save_model(fitted["pipeline"], tmp_path)
    assert str(raised.value) == (
        f"model: this environment has scikit-learn 1.7.0; allowed: scikit-learn 1.5.2, the release in {IMAGE} (a "
        "pickle loads only with the release that wrote it). Fix: pip install scikit-learn==1.5.2, fit the model "
        "again there, and serve it"
    )
    assert list(tmp_path.iterdir()) == []


def test_save_removes_a_pickle_the_server_could_not_load(tmp_path: Path) -> None:
    X, y = _data()
    with pytest.raises(save.SaveError, match=rf"^model: model\.joblib imports {__name__}\._double when unpickled;"):
        save.save_model(make_pipeline(FunctionTransformer(_double), LogisticRegression()).fit(X, y), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_save_writes_each_framework_in_its_native_format(tmp_path: Path, fitted: dict) -> None:
    saved = {name: save.save_model(fitted[name], tmp_path / name)
             for name in ("pipeline", "xgb_classifier", "xgb_booster", "lgb_regressor", "lgb_booster")}
    assert {name: (path.relative_to(tmp_path).as_posix(), fmt) for name, (path, fmt) in saved.items()} == {
        "pipeline": ("pipeline/model.joblib", "sklearn"),
        "xgb_classifier": ("xgb_classifier/model.json", "xgboost"),
        "xgb_booster": ("xgb_booster/model.json", "xgboost"),
        "lgb_regressor": ("lgb_regressor/model.bst", "lightgbm"),
        "lgb_booster": ("lgb_booster/model.bst", "lightgbm"),
    }
    for path, fmt in saved.values():
        assert layout.detect_format(path.parent) == fmt and layout.check_layout(fmt, path.parent) == []


# --- the inference client's requests ---------------------------------------------------------------------------

def test_v2_requests_carry_the_rows_shape_and_datatype() -> None:
    assert inference.v2_request([[1, 2], [3, 4]])["inputs"] == [
        {"name": "input-0", "shape": [2, 2], "datatype": "INT64", "data": [1, 2, 3, 4]}
    ]
    assert inference.v2_request([[0.5, 1]])["inputs"][0]["datatype"] == "FP64"
    assert inference.v2_request([True, False])["inputs"][0] | {"data": None} == {
        "name": "input-0", "shape": [2], "datatype": "BOOL", "data": None,
    }
    assert inference.v2_request([["a", "b"]])["inputs"][0]["datatype"] == "BYTES"
    assert inference.parse_v2_answer({"outputs": [{"shape": [2, 3], "data": [1, 2, 3, 4, 5, 6]}]}, "u") == [
        [1, 2, 3], [4, 5, 6],
    ]


def test_rows_a_tensor_cannot_hold_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^rows: got rows of different lengths \(1, 2\); allowed: rows of one length "
                       r"\(a V2 tensor is rectangular\)\. Fix: pad the rows, or use protocol='v1'$"):
        inference.v2_request([[1, 2], [3]])
    with pytest.raises(ValueError, match=r"^rows: got values of types float, str; allowed: one kind per V2 tensor"):
        inference.v2_request([[1.5, "a"]])
