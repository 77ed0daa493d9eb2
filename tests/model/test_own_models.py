"""Users' own models, round trip: trained here on generated data, saved by `servebox.save`, checked
by the layout and format checks, served by KServe's library on 127.0.0.1, answered through
`servebox.inference.predict` over V1 and V2, and compared with the model in this process.

KServe's part is its library at the images' release (`kserve==0.20.0`): the model server, the V1
and V2 REST handlers, their decoding, encoding, errors and status codes. Ours is the model classes,
written after kserve/kserve python/sklearnserver, xgbserver and lgbserver `model.py` at v0.20.0
(scripts/local_modelserver.py and local_sklearnserver.py), and the loopback socket. The frameworks
are the images' releases (requirements-dev.in); the servers start with the arguments their
ClusterServingRuntimes give the containers (components/model/formats.py).
Not proven here: that the images themselves, on a cluster, behave as this library does here.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest


def _required(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI"):
            raise  # CI installs requirements-dev.txt: a missing library there is a broken install, not a skip
        pytest.skip(f"{module} is not installed (scripts/test.sh installs requirements-dev.txt)", allow_module_level=True)


_required("kserve")
xgb = _required("xgboost")
lgb = _required("lightgbm")

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from components.model import formats, layout  # noqa: E402
from servebox import inference, save  # noqa: E402
from tests.model import local_servers  # noqa: E402

SERVER = Path(__file__).resolve().parents[2] / "scripts" / "local_modelserver.py"
ROWS = 6


@dataclass(frozen=True)
class Served:
    """A saved model served on 127.0.0.1, and what the same model answers in this process."""

    name: str
    format: str
    artifact: Path
    base_url: str
    expected: list[Any]
    rows: list[list[float]]


def _generated(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    features = rng.normal(size=(400, 6))
    labels = (features[:, 0] + 0.5 * features[:, 1] - features[:, 3] + rng.normal(scale=0.3, size=400) > 0).astype(int)
    return features, labels


def _sklearn() -> tuple[Any, list[Any], np.ndarray]:
    X, y = _generated(1)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    return model, model.predict(X[:ROWS]).tolist(), X[:ROWS]


def _xgboost() -> tuple[Any, list[Any], np.ndarray]:
    X, y = _generated(2)
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1).fit(X, y)
    # The server answers with the Booster's predict: probabilities of the positive class.
    return model, model.get_booster().predict(xgb.DMatrix(X[:ROWS])).tolist(), X[:ROWS]


def _lightgbm() -> tuple[Any, list[Any], np.ndarray]:
    X, y = _generated(3)
    model = lgb.LGBMClassifier(n_estimators=20, num_leaves=7, n_jobs=1, verbose=-1).fit(X, y)
    return model, model.booster_.predict(X[:ROWS]).tolist(), X[:ROWS]


TRAIN = {"sklearn": _sklearn, "xgboost": _xgboost, "lightgbm": _lightgbm}
NAMES = {"sklearn": "churn", "xgboost": "fraud", "lightgbm": "uplift"}
FILES = {"sklearn": "model.joblib", "xgboost": "model.json", "lightgbm": "model.bst"}


def _server_argv(fmt: str, name: str, model_dir: Path) -> list[str]:
    return [sys.executable, str(SERVER), f"--format={fmt}", *formats.server_arguments(fmt, name, str(model_dir), "{port}")]


@pytest.fixture(scope="module", params=list(TRAIN))
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    fmt = request.param
    model, expected, rows = TRAIN[fmt]()
    model_dir = tmp_path_factory.mktemp(f"own-{fmt}")
    artifact, saved_format = save.save_model(model, model_dir)
    work_dir = tmp_path_factory.mktemp(f"own-{fmt}-server")
    env = {key: value for key, value in os.environ.items() if key != "PREDICT_PROBA"}
    with local_servers.serving(_server_argv(fmt, NAMES[fmt], model_dir), work_dir, env=env, timeout=90) as port:
        yield Served(NAMES[fmt], saved_format, artifact, f"http://127.0.0.1:{port}", expected, rows.tolist())


def test_the_artifact_is_the_runtimes_native_file_and_passes_the_checks(served: Served) -> None:
    assert (served.artifact.name, served.format) == (FILES[served.format], served.format)
    assert layout.detect_format(served.artifact.parent) == served.format
    assert layout.check_layout(served.format, served.artifact.parent, model_name=served.name) == []
    if served.format == "sklearn":
        assert layout.check_sklearn_version(served.artifact) == []


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_the_server_answers_what_the_model_answers_here(served: Served, protocol: str) -> None:
    answer = inference.predict(served.base_url, served.name, served.rows, protocol=protocol)
    assert answer == served.expected


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_the_handle_serve_returns_answers_through_the_gateway_address_with_the_host_header(served: Served, protocol: str) -> None:
    from servebox import serving

    # The stack's outputs as the program publishes them (components/model/models.py), with the
    # gateway's address being this server: handle.predict() is what a notebook calls.
    host = f"{served.name}.models.127.0.0.1.sslip.io"
    address = served.base_url.removeprefix("http://")
    model = {
        "endpoint": f"http://{host}:{address.rsplit(':', 1)[1]}", "infer_url": "", "predict_url": "", "protocol": protocol,
        "host_header": host, "curl": "", "model_uri": "", "format": served.format,
    }
    handle = serving.handle_from_outputs(served.name, "dev", {"ingress_address": address, "models": {served.name: model}})
    assert handle.address_url == served.base_url
    assert handle.predict(served.rows) == served.expected


def test_numpy_arrays_and_dataframes_go_out_as_their_rows(served: Served) -> None:
    import pandas as pd

    assert inference.predict(served.base_url, served.name, np.array(served.rows), protocol="v2") == served.expected
    assert inference.predict(served.base_url, served.name, pd.DataFrame(served.rows), protocol="v1") == served.expected


def test_a_request_the_model_cannot_take_comes_back_with_the_servers_error(served: Served) -> None:
    # One column more than the models were trained on: every framework refuses that (XGBoost 2.1
    # accepts fewer columns and treats the rest as missing).
    messages = {
        "sklearn": "X has 7 features, but StandardScaler is expecting 6 features as input.",
        "xgboost": "Check failed: learner_model_param_.num_feature >= p_fmat->Info().num_col_ (6 vs. 7) : Number of "
        "columns does not match number of features in booster.",
        "lightgbm": "The number of features in data (7) is not the same as it was in training data (6). You can set "
        "``predict_disable_shape_check=true`` to discard this error, but please be aware what you are doing.",
    }
    url = inference.v2_url(served.base_url, served.name)
    with pytest.raises(inference.InferenceError) as raised:
        inference.predict(served.base_url, served.name, [[0.5] * 7], protocol="v2")
    error = raised.value
    assert error.status == 500
    if served.format == "xgboost":  # the library's message starts with a timestamp and its source line
        assert messages["xgboost"] in error.server_error
    else:
        assert error.server_error == messages[served.format]
    assert str(error) == f"{url} answered HTTP 500: {error.server_error}"


def test_the_server_refuses_the_directory_the_layout_check_refuses(tmp_path: Path) -> None:
    model, _, _ = _xgboost()
    save.save_model(model, tmp_path)
    (tmp_path / "metrics.json").write_text("{}")
    assert layout.check_layout("xgboost", tmp_path, "models[0].path")[0].startswith(
        f"models[0].path: got '{tmp_path}', a directory with 2 files the server would load (metrics.json, model.json)"
    )
    argv = [part.replace("{port}", "0") for part in _server_argv("xgboost", "fraud", tmp_path)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode != 0
    assert "RuntimeError: More than one model file is detected, Only one is allowed within model_dir" in result.stderr
