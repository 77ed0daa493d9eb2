"""Fixtures for the model tests: scripts/ importable, one trained artifact, the real runtime serving it.

The artifact is trained once per session into a temporary directory. The server is KServe's
scikit-learn server (scripts/local_sklearnserver.py on KServe's own library at the image's
release), started by `bench_model.local_model_server` with the arguments the cluster's
ClusterServingRuntime gives the container, on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import bench_model  # noqa: E402
from servebox import mnist_client  # noqa: E402
from servebox import training as train_mnist  # noqa: E402


@pytest.fixture(scope="session")
def pins() -> dict[str, str]:
    """The runtime image's library versions, as pinned in components/versions.py."""
    return train_mnist.expected_versions()


@pytest.fixture(scope="session")
def artifact_dir(tmp_path_factory: pytest.TempPathFactory, pins: dict[str, str]) -> Path:
    """A directory holding model.joblib and metrics.json, trained with the default seed."""
    directory = tmp_path_factory.mktemp("artifact")
    train_mnist.train(directory, pins=pins)
    return directory


@pytest.fixture(scope="session")
def metrics(artifact_dir: Path) -> dict:
    """The session artifact's metrics.json."""
    loaded = train_mnist.read_metrics(artifact_dir)
    assert loaded is not None
    return loaded


@pytest.fixture(scope="session")
def samples() -> list[mnist_client.Sample]:
    """Fifty held-out digits."""
    return mnist_client.load_samples(50)


@pytest.fixture(scope="session")
def server(artifact_dir: Path) -> Iterator[bench_model.LocalServer]:
    """KServe's sklearn server serving the session artifact as model `mnist` on a free 127.0.0.1 port."""
    if not bench_model.runtime_server_available():
        message = "kserve and kserve-storage are not installed (scripts/test.sh installs requirements-dev.txt)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs them: a missing server there is a broken install, not a skip
        pytest.skip(message)
    with bench_model.local_model_server(artifact_dir) as running:
        yield running
