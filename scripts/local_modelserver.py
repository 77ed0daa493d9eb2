"""KServe's scikit-learn, XGBoost or LightGBM server, run on this machine for a user's own model.

The cluster runs `kserve/sklearnserver`, `kserve/xgbserver` or `kserve/lgbserver` at v0.20.0
(components/versions.py) with the arguments their ClusterServingRuntimes give them
(components/model/formats.py `server_arguments`). Those images' server packages are not on PyPI;
the library they are built on is, with the same framework releases (requirements-dev.in). This
serves a model directory the way they do, for the round-trip tests of users' own models:

    python scripts/local_modelserver.py --format=xgboost --model_name=churn --model_dir=DIR --http_port=8080 --nthread=1

Which part is whose:
- KServe's library (`kserve==0.20.0`, `kserve-storage==0.20.0`): the argument parser the images'
  entry points extend, `kserve.Model`, the model repository and data plane, the V1 and V2 REST
  handlers with their errors and status codes, `get_predict_input` / `get_predict_response`, the
  uvicorn server, and `Storage.download`.
- Ours, written after kserve/kserve python/xgbserver/xgbserver/model.py and
  python/lgbserver/lgbserver/model.py at v0.20.0 (the sklearn one is scripts/local_sklearnserver.py):
  `XGBoostModel` and `LightGBMModel` load the one top-level *.bst/*.json/*.ubj (XGBoost, read as
  bytes into `xgb.Booster(params={"nthread": n}, model_file=bytearray(...))`) or *.bst (LightGBM,
  `Booster(params={"nthread": n}, model_file=path)`) file and fail on none or several, and predict
  with `Booster.predict` (XGBoost through a `DMatrix`; LightGBM on the input named by the booster's
  feature names); every model error becomes an InferenceError, as there. Also ours: one HTTP
  worker (the lgbserver image's own setting, and enough here), gRPC off, and a socket bound to
  127.0.0.1 instead of the images' 0.0.0.0.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import kserve
from kserve.errors import InferenceError, ModelMissingError
from kserve.protocol.infer_type import InferRequest, InferResponse
from kserve.utils.utils import get_predict_input, get_predict_response
from kserve_storage import Storage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_sklearnserver import SklearnModel, serve_model  # noqa: E402

# The servers' constants at the pinned tag.
XGBOOST_EXTENSIONS = (".bst", ".json", ".ubj")
LIGHTGBM_EXTENSIONS = ".bst"
DEFAULT_NTHREAD = 1


def _one_model_file(model_dir: str, extensions: str | tuple[str, ...]) -> str:
    model_path = Storage.download(model_dir)
    model_files = [
        os.path.join(model_path, name)
        for name in sorted(os.listdir(model_path))
        if os.path.isfile(os.path.join(model_path, name)) and name.endswith(extensions)
    ]
    if not model_files:
        raise ModelMissingError(model_path)
    if len(model_files) > 1:
        raise RuntimeError(f"More than one model file is detected, Only one is allowed within model_dir: {model_files}")
    return model_files[0]


class _BoosterModel(kserve.Model):
    """A gradient-boosting model file in `model_dir`, served under `name` with `nthread` threads."""

    def __init__(self, name: str, model_dir: str, nthread: int) -> None:
        super().__init__(name)
        self.model_dir = model_dir
        self.nthread = nthread
        self._booster: Any = None


class XGBoostModel(_BoosterModel):
    """One XGBoost Booster file, served under `name`."""

    def load(self) -> bool:
        import xgboost as xgb

        with open(_one_model_file(self.model_dir, XGBOOST_EXTENSIONS), "rb") as handle:
            model_bytes = handle.read()
        self._booster = xgb.Booster(params={"nthread": self.nthread}, model_file=bytearray(model_bytes))
        self.ready = True
        return self.ready

    def predict(self, payload: dict | InferRequest, headers: dict[str, str] | None = None) -> dict | InferResponse:
        import xgboost as xgb

        try:
            dmatrix = xgb.DMatrix(get_predict_input(payload), nthread=self.nthread)
            return get_predict_response(payload, self._booster.predict(dmatrix), self.name)
        except Exception as error:
            raise InferenceError(str(error)) from error


class LightGBMModel(_BoosterModel):
    """One LightGBM text model file, served under `name`."""

    def load(self) -> bool:
        from lightgbm import Booster

        model_file = _one_model_file(self.model_dir, LIGHTGBM_EXTENSIONS)
        self._booster = Booster(params={"nthread": self.nthread}, model_file=model_file)
        self.ready = True
        return self.ready

    def predict(self, payload: dict | InferRequest, headers: dict[str, str] | None = None) -> dict | InferResponse:
        try:
            instances = get_predict_input(payload, columns=self._booster.feature_name())
            return get_predict_response(payload, self._booster.predict(instances), self.name)
        except Exception as error:
            raise InferenceError(str(error)) from error


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """The images' command line (KServe's model-server options, --model_dir, --nthread) and --format."""
    parser = argparse.ArgumentParser(parents=[kserve.model_server.parser])
    parser.add_argument("--format", required=True, choices=("sklearn", "xgboost", "lightgbm"))
    parser.add_argument("--model_dir", required=True, help="A local path to the model directory")
    parser.add_argument("--nthread", default=DEFAULT_NTHREAD, type=int, help="Threads of XGBoost or LightGBM")
    args, _ = parser.parse_known_args(argv)
    return args


def build_model(args: argparse.Namespace) -> kserve.Model:
    """The model class of the format's server."""
    if args.format == "sklearn":
        return SklearnModel(args.model_name, args.model_dir)
    if args.format == "xgboost":
        return XGBoostModel(args.model_name, args.model_dir, args.nthread)
    return LightGBMModel(args.model_name, args.model_dir, args.nthread)


def main(argv: list[str] | None = None) -> int:
    """Serve the --format model in --model_dir (local_sklearnserver.serve_model)."""
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    return serve_model(build_model(args), args)


if __name__ == "__main__":
    sys.exit(main())
