"""Shared test setup: the repository root on sys.path, so tests import `components` as the program does."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def no_public_address_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests run offline: anything that would ask the internet for this machine's address fails
    instead, unless it goes through the seam (tests/harness.py, or parse_settings' public_ipv4)."""
    from components import host

    def refuse() -> str:
        raise AssertionError("a test looked up the public address; pass public_ipv4= or use run_program")

    monkeypatch.setattr(host, "public_ipv4", refuse)


# The trained sample and KServe's real sklearn server serving it, once per session: the model tests
# (tests/model/) call it, and so do the tests of the servebox command's smoke test (tests/cli/).


@pytest.fixture(scope="session")
def pins() -> dict[str, str]:
    """The runtime image's library versions, as pinned in components/versions.py."""
    from servebox import training

    return training.expected_versions()


@pytest.fixture(scope="session")
def artifact_dir(tmp_path_factory: pytest.TempPathFactory, pins: dict[str, str]) -> Path:
    """A directory holding model.joblib and metrics.json, trained with the default seed."""
    from servebox import training

    directory = tmp_path_factory.mktemp("artifact")
    training.train(directory, pins=pins)
    return directory


@pytest.fixture(scope="session")
def server(artifact_dir: Path):  # noqa: ANN201  (a generator of bench_model.LocalServer)
    """KServe's sklearn server serving the session artifact as model `mnist` on a free 127.0.0.1 port."""
    import os

    sys.path.insert(0, str(REPO / "scripts"))
    import bench_model

    if not bench_model.runtime_server_available():
        message = "kserve and kserve-storage are not installed (scripts/test.sh installs requirements-dev.txt)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs them: a missing server there is a broken install, not a skip
        pytest.skip(message)
    with bench_model.local_model_server(artifact_dir) as running:
        yield running
