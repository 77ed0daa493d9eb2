"""Fixtures for the model tests: scripts/ importable, the artifact's metrics, held-out samples.

The trained artifact (`artifact_dir`) and the server (`server`) are in tests/conftest.py, shared
with the servebox command's tests: KServe's scikit-learn server (scripts/local_sklearnserver.py on
KServe's own library at the image's release), started by `bench_model.local_model_server` with the
arguments the cluster's ClusterServingRuntime gives the container, on 127.0.0.1 only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from servebox import mnist_client  # noqa: E402
from servebox import training as train_mnist  # noqa: E402


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
