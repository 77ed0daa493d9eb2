"""A canary's two versions, each served by KServe's real sklearn server on 127.0.0.1, behind a
local stand-in of the gateway that routes as Knative does for the InferenceService the program
writes (tests/unit/test_canary.py): the tagged hosts (`prev-`, `latest-<model>-predictor...`) each
to one revision, the model's own host split by the traffic percentages. Through it, the end-of-up
check (servebox/canary_check.py) passes when both answer and fails, naming the host, when one does
not; and the hosts the `models` output publishes reach the two versions' own answers.

What this cannot prove: that Knative and Istio route like the stand-in (read from KServe's
ksvc_reconciler.go and Knative's default tag-template at the pinned tags, not run here).
"""

from __future__ import annotations

import http.client
import itertools
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import bench_model  # noqa: E402

from servebox import canary_check, inference  # noqa: E402
from tests import local_http  # noqa: E402

DOMAIN = "models.127.0.0.1.sslip.io"
PREV, LATEST, MAIN = f"prev-churn-predictor.{DOMAIN}", f"latest-churn-predictor.{DOMAIN}", f"churn.{DOMAIN}"
ROWS = np.random.default_rng(5).normal(size=(40, 3))


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """KServe's sklearn server twice: v1 (answers from column 0) and v2 (from column 1)."""
    if not bench_model.runtime_server_available():
        pytest.fail("kserve and kserve-storage are not installed (scripts/test.sh installs requirements-dev.txt)")
    root = tmp_path_factory.mktemp("canary")
    with bench_model.local_model_server(_version(root, "v1", 0), model_name="churn") as v1, \
            bench_model.local_model_server(_version(root, "v2", 1), model_name="churn") as v2:
        yield {"v1": v1.base_url, "v2": v2.base_url,
               "v1-file": str(root / "v1" / "model.joblib"), "v2-file": str(root / "v2" / "model.joblib")}


def _version(root: Path, name: str, column: int) -> Path:
    directory = root / name
    directory.mkdir()
    X = np.random.default_rng(1).normal(size=(200, 3))
    joblib.dump(LogisticRegression().fit(X, X[:, column] > 0), directory / "model.joblib")
    return directory


def _gateway(routes: dict[str, str], split: list[tuple[str, int]]):
    """A Respond that forwards by Host: a tagged host to its revision, the model's host by weight."""
    turns = itertools.cycle([url for url, percent in split for _ in range(percent)])

    def respond(method: str, path: str, headers, body: bytes) -> tuple[int, bytes]:
        host = headers.get("host", "").split(":")[0]
        target = next(turns) if host == MAIN else routes.get(host)
        if target is None:
            return 404, b'{"error": "no route"}'
        parts = urllib.parse.urlsplit(target)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            connection.request(method, path, body=body or None, headers={"Content-Type": "application/json"})
            answer = connection.getresponse()
            return answer.status, answer.read()
        except OSError:
            return 503, b'{"error": "upstream connect error"}'
        finally:
            connection.close()

    return respond


def test_both_versions_answer_at_their_hosts_and_the_check_passes(two_versions: dict[str, str], capsys) -> None:
    routes = {PREV: two_versions["v1"], LATEST: two_versions["v2"]}
    with local_http.serving(_gateway(routes, [(two_versions["v2"], 10), (two_versions["v1"], 90)])) as gateway:
        code = canary_check.main(["--url", gateway, "--model", "churn", "--host", PREV, "--host", LATEST, "--timeout", "20"])
        assert code == 0, capsys.readouterr().err
        assert "canary check: every version of churn answers (2)" in capsys.readouterr().err
        answers = {
            host: inference.predict(gateway, "churn", ROWS.tolist(), protocol="v2", host_header=host) for host in (PREV, LATEST)
        }
    # Each host reached its own version: their answers are those of each model file, and differ.
    expected = {host: joblib.load(two_versions[f"{version}-file"]).predict(ROWS).tolist() for host, version in ((PREV, "v1"), (LATEST, "v2"))}
    assert answers == expected and expected[PREV] != expected[LATEST]


def test_a_version_that_does_not_answer_fails_the_check_naming_its_host(two_versions: dict[str, str], capsys) -> None:
    (dead,) = bench_model.free_ports(1)
    routes = {PREV: two_versions["v1"], LATEST: f"http://127.0.0.1:{dead}"}
    with local_http.serving(_gateway(routes, [(two_versions["v1"], 100)])) as gateway:
        code = canary_check.main(["--url", gateway, "--model", "churn", "--host", PREV, "--host", LATEST, "--timeout", "2"])
    assert code == 11
    assert f"canary check: churn at {LATEST} does not answer: HTTP 503" in capsys.readouterr().err


def test_v1_asks_the_models_status() -> None:
    assert canary_check.ready_url("http://10.0.0.1:8080/", "churn", "v1") == "http://10.0.0.1:8080/v1/models/churn"
    assert canary_check.ready_url("http://10.0.0.1", "churn", "v2") == "http://10.0.0.1/v2/models/churn/ready"
