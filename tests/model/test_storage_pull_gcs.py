"""The keyless read path of the gcp target: KServe's storage library lists and downloads the model's
`gs://` prefix from a GCS emulator on 127.0.0.1 with no credentials in its environment, into the
layout the server loads, and the server serves it.

- From the program (a mock run of __main__.py on a gcp stack): the bucket, the object key and the
  file uploaded, the storageUri, and the predictor's ServiceAccount, from which KServe's injector
  derives the init container's environment (kserve_credentials.py): empty, since the account lists
  no Secret.
- The one thing the test adds to that environment is STORAGE_EMULATOR_HOST, which points the
  Google client library at the emulator; it carries no credential. On the VM the same client finds
  application-default credentials on the metadata server instead (the VM's service account).
- The pull runs as the storage-initializer image runs it (`Storage.download_files`), in a process
  with no HOME config, no GOOGLE_APPLICATION_CREDENTIALS and no gcloud files.
Not proven: that the metadata server hands the VM's token to a pod, and that GCS honours the
bucket-level grant; the emulator checks no credentials at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import bench_model
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from components import outputs
from servebox import mnist_client
from tests.harness import FAKE_GCP_PROJECT, ProgramRun, run_program
from tests.model import kserve_credentials, local_servers

DOWNLOAD = "import sys\nfrom kserve_storage import Storage\nStorage.download_files([sys.argv[1]], [sys.argv[2]])\n"


@pytest.fixture(scope="module")
def program() -> ProgramRun:
    return run_program({"target": "gcp", "gcp:project": FAKE_GCP_PROJECT}, stack="gcp")


@pytest.fixture(scope="module")
def emulator(program: ProgramRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gcp-storage-emulator on 127.0.0.1, in memory, holding the program's object in the program's bucket."""
    with local_servers.serving(
        [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1", "--port", "{port}", "--in-memory"],
        tmp_path_factory.mktemp("gcs"),
    ) as port:
        host = f"http://127.0.0.1:{port}"
        os.environ["STORAGE_EMULATOR_HOST"] = host  # read by the client below; removed again after
        try:
            client = storage.Client(project="test", credentials=AnonymousCredentials())
            upload = program.upload("model").inputs
            bucket = client.create_bucket(upload["bucket"])
            bucket.blob(upload["name"]).upload_from_filename(upload["source"].path)
            # A neighbour the download must not pick up: another model's prefix.
            bucket.blob("mnist/someotherkey/model.joblib").upload_from_string(b"not this one")
        finally:
            del os.environ["STORAGE_EMULATOR_HOST"]
        yield host


def test_the_predictor_gets_no_credentials_on_gcp(program: ProgramRun) -> None:
    account = program["model-service-account"].inputs
    env = kserve_credentials.predictor_env([ref["name"] for ref in account.get("secrets") or []], {})
    assert env == {}


def test_the_storage_library_pulls_the_gs_prefix_keyless_and_the_server_serves_it(
    program: ProgramRun, emulator: str, tmp_path: Path, samples: list[mnist_client.Sample]
) -> None:
    account = program["model-service-account"].inputs
    env = kserve_credentials.predictor_env([ref["name"] for ref in account.get("secrets") or []], {})
    uri = program.outputs[outputs.MODEL_URI]
    assert uri.startswith("gs://") and not uri.endswith(".joblib")
    mount = tmp_path / "mnt" / "models"
    mount.mkdir(parents=True)
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", DOWNLOAD, uri, str(mount)],
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "CLOUDSDK_CONFIG": str(home / "gcloud"),
            "STORAGE_EMULATOR_HOST": emulator,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    upload = program.upload("model").inputs
    assert [path.name for path in mount.iterdir()] == ["model.joblib"]
    assert (mount / "model.joblib").read_bytes() == Path(upload["source"].path).read_bytes()
    with bench_model.local_model_server(mount) as server:
        rows = [sample.inputs() for sample in samples[:10]]
        answers = mnist_client.predict(mnist_client.Endpoint(url=server.predict_url, protocol="v1"), rows)
    assert sum(answer == sample.label for answer, sample in zip(answers, samples, strict=False)) >= 8
