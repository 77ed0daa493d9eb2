"""The server image Seldon runs, served for real with the arguments the program gives it, on the path
Seldon's executor forwards.

From the program (serving: seldon, a mock run): the model container's arguments and the published
`infer_url`. Substituted here, and only these: `--model_dir` (the artifact's directory instead of
/mnt/models, which the storage initializer fills on the cluster) and `--http_port` (a free port
instead of 9000). The route is the one Seldon v1.17.1's source gives (components/model/seldon.py):
the VirtualService strips `/seldon/<namespace>/<name>` and the executor forwards the rest unchanged
to the model container. Not proven: the executor and the VirtualService themselves, which only a
cluster runs.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import bench_model
import pytest

from components import outputs
from components.model import seldon
from servebox import mnist_client
from tests.harness import ProgramRun, run_program


@pytest.fixture(scope="module")
def program() -> ProgramRun:
    return run_program({"serving": "seldon"})


@pytest.fixture(scope="module")
def seldon_server(program: ProgramRun, artifact_dir: Path):
    (predictor,) = program["model-sdep"].inputs["spec"]["predictors"]
    (container,) = predictor["componentSpecs"][0]["spec"]["containers"]
    with bench_model.local_model_server(artifact_dir, arguments=container["args"]) as running:
        yield running


def test_the_operators_probes_answer(seldon_server: bench_model.LocalServer) -> None:
    # readiness /v2/health/ready and liveness /v2/health/live on the `http` port (operator/controllers/mlserver.go).
    assert mnist_client.send_json(f"{seldon_server.base_url}/v2/health/ready") == {"ready": True}
    assert mnist_client.send_json(f"{seldon_server.base_url}/v2/health/live") == {"live": True}


def test_the_path_the_executor_forwards_answers_with_the_right_digits(
    program: ProgramRun, seldon_server: bench_model.LocalServer, samples: list[mnist_client.Sample]
) -> None:
    published = urllib.parse.urlsplit(program.outputs[outputs.INFER_URL]).path
    prefix = seldon.path_prefix("mnist", "models")
    assert published.startswith(prefix + "/")
    forwarded = published[len(prefix) :]  # the VirtualService's rewrite; the executor keeps the rest
    assert forwarded == "/v2/models/mnist/infer"
    endpoint = mnist_client.Endpoint(url=f"{seldon_server.base_url}{forwarded}")
    answers = mnist_client.predict(endpoint, [sample.inputs() for sample in samples[:20]])
    assert sum(answer == sample.label for answer, sample in zip(answers, samples, strict=False)) >= 18
