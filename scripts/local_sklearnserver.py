"""KServe's scikit-learn server, run on this machine: what the cluster's predictor container runs.

The cluster runs `kserve/sklearnserver` (components/versions.py) with the arguments its
ClusterServingRuntime gives it (components/model/runtime.py `server_arguments`). That image's
server package is not published on PyPI, but everything it is built on is: this module serves a
model directory the same way, for the offline tests and scripts/bench_model.py.

    python scripts/local_sklearnserver.py --model_name=mnist --model_dir=DIR --http_port=8080

Which part is whose:
- KServe's library (`kserve==0.20.0`, the release the image is built from): the argument parser
  the image's entry point extends, `kserve.Model`, the model repository and data plane, the V1
  and V2 REST handlers, their error handling and status codes, the request decoding and response
  encoding (`get_predict_input`, `get_predict_response`), the uvicorn server, and the storage
  library (`kserve-storage`) that resolves the model directory.
- Ours: `SklearnModel`, written to do what KServe's own `SKLearnModel` does at v0.20.0
  (kserve/kserve python/sklearnserver/sklearnserver/model.py): load the one `*.joblib`, `*.pkl`
  or `*.pickle` file of the directory with joblib, `predict`, or `predict_proba` when
  PREDICT_PROBA=true; and the last step, which hands KServe's REST server a socket bound to
  127.0.0.1 instead of the image's 0.0.0.0 (a test server must not listen on every interface).
  The image's gRPC server is off here: no client of servebox speaks gRPC.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path
from typing import Any

import joblib
import kserve
from kserve.errors import InferenceError, ModelMissingError
from kserve.model_server import FASTAPI_APP_IMPORT_STRING
from kserve.protocol.infer_type import InferRequest, InferResponse
from kserve.protocol.rest.server import RESTServer
from kserve.utils.utils import get_predict_input, get_predict_response
from kserve_storage import Storage

# The sklearn server's constants, as in its model.py at the pinned tag (also runtime.MODEL_EXTENSIONS).
MODEL_EXTENSIONS = (".joblib", ".pkl", ".pickle")
ENV_PREDICT_PROBA = "PREDICT_PROBA"


class SklearnModel(kserve.Model):
    """One scikit-learn model file, served under `name`."""

    def __init__(self, name: str, model_dir: str) -> None:
        super().__init__(name)
        self.model_dir = model_dir
        self.ready = False
        self._model: Any = None

    def load(self) -> bool:
        # A local directory comes back as it is; on the cluster it is /mnt/models, already
        # filled by the storage initializer.
        model_path = Path(Storage.download(self.model_dir))
        candidates = sorted(
            path for path in model_path.iterdir() if path.is_file() and path.name.endswith(MODEL_EXTENSIONS)
        )
        if not candidates:
            raise ModelMissingError(str(model_path))
        if len(candidates) > 1:
            raise RuntimeError(
                f"More than one model file is detected, Only one is allowed within model_dir: {candidates}"
            )
        self._model = joblib.load(candidates[0])
        self.ready = True
        return self.ready

    def predict(
        self, payload: dict | InferRequest, headers: dict[str, str] | None = None
    ) -> dict | InferResponse:
        try:
            instances = get_predict_input(payload)
            wants_proba = os.environ.get(ENV_PREDICT_PROBA, "false").lower() == "true"
            if wants_proba and hasattr(self._model, "predict_proba"):
                result = self._model.predict_proba(instances)
            else:
                result = self._model.predict(instances)
            return get_predict_response(payload, result, self.name)
        except Exception as error:  # the image's server turns every model error into an InferenceError
            raise InferenceError(str(error)) from error


def loopback_socket(port: int, host: str = "127.0.0.1") -> socket.socket:
    """A listening TCP socket on host:port for uvicorn to serve on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """The image entry point's command line: KServe's model-server options plus --model_dir."""
    parser = argparse.ArgumentParser(parents=[kserve.model_server.parser])
    parser.add_argument("--model_dir", required=True, help="A local path to the model binary")
    args, _ = parser.parse_known_args(argv)
    return args


def serve_model(model: kserve.Model, args: argparse.Namespace) -> int:
    """Load `model`, then serve V1 and V2 on 127.0.0.1:--http_port until SIGTERM or SIGINT."""
    model.load()
    server = kserve.ModelServer(http_port=args.http_port, enable_grpc=False, workers=1)
    server.registered_models.update(model)
    rest = RESTServer(
        FASTAPI_APP_IMPORT_STRING,
        server.dataplane,
        server.model_repository_extension,
        args.http_port,
        workers=1,
        event_loop=args.event_loop,
    )
    rest.run(sockets=[loopback_socket(args.http_port)])
    return 0


def main(argv: list[str] | None = None) -> int:
    """Serve the scikit-learn model in --model_dir."""
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    return serve_model(SklearnModel(args.model_name, args.model_dir), args)


if __name__ == "__main__":
    sys.exit(main())
