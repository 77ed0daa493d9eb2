"""The model reaches the server as it does in the cluster: KServe's storage library pulls the
uploaded artifact from a real S3 server on 127.0.0.1 with the environment KServe's injector derives
from the objects the program authors, into a directory the server then loads and serves.

- The S3 server is moto in server mode with its IAM checks on (`INITIAL_NO_AUTH_ACTION_COUNT`):
  it verifies request signatures and evaluates the user's policy, so a wrong key and a write are
  refused by the server, not by the test.
- From the program (a mock run of __main__.py): the bucket, the object key and the file uploaded,
  the storageUri, the Secret's keys and annotations and the ServiceAccount that lists it (through
  kserve_credentials.py, our port of KServe's credential builder), and the reader's policy.
- Substituted by the test, and only these: the endpoint annotation's address (the in-cluster
  MinIO Service name becomes 127.0.0.1:<port>) and the key pair's values (moto mints its own keys;
  MinIO takes the program's generated ones). moto authorizes HeadBucket as an action of its own,
  `s3:HeadBucket`, where S3 and MinIO authorize it as `s3:ListBucket`; the test adds that one
  action to the program's policy for moto and says so here.
- The pull runs as the storage-initializer image runs it (kserve/kserve
  python/storage-initializer/scripts/initializer-entrypoint@v0.20.0: `Storage.download_files`),
  in a process that has that environment and nothing else of ours (no ~/.aws, no shell AWS_*).
Not proven: that MinIO itself, in the cluster, enforces the policy as moto does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bench_model
import boto3
import botocore.exceptions
import pytest

from components import outputs
from servebox import mnist_client
from tests.harness import ProgramRun, run_program, secret_value
from tests.model import kserve_credentials, local_servers

REGION = "us-east-1"
# Requests moto serves before it starts checking credentials: exactly the set-up below.
SETUP_REQUESTS = 5
DOWNLOAD = (
    "import sys\n"
    "from kserve_storage import Storage\n"
    "Storage.download_files([sys.argv[1]], [sys.argv[2]])\n"
)


@dataclass(frozen=True)
class S3Server:
    url: str
    host_port: str
    reader_key: str
    reader_secret: str


@pytest.fixture(scope="module")
def program() -> ProgramRun:
    return run_program()


@pytest.fixture(scope="module")
def s3(program: ProgramRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto on 127.0.0.1 holding the program's bucket and object, and the reader with the program's policy."""
    with local_servers.moto(tmp_path_factory.mktemp("moto"), SETUP_REQUESTS) as url:
        port = int(url.rsplit(":", 1)[1])
        admin = {"endpoint_url": url, "region_name": REGION, "aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
        upload = program.upload("model").inputs
        reader = program["store-reader"].inputs["name"]
        s3_client, iam = boto3.client("s3", **admin), boto3.client("iam", **admin)
        s3_client.create_bucket(Bucket=upload["bucketName"])
        s3_client.put_object(Bucket=upload["bucketName"], Key=upload["objectName"], Body=Path(upload["source"]).read_bytes())
        iam.create_user(UserName=reader)
        iam.put_user_policy(
            UserName=reader,
            PolicyName="read",
            PolicyDocument=local_servers.moto_policy(program["store-reader-policy"].inputs["policy"]),
        )
        key = iam.create_access_key(UserName=reader)["AccessKey"]
        # From here on moto checks every request: prove it, or every test below proves nothing.
        with pytest.raises(botocore.exceptions.ClientError, match="InvalidAccessKeyId"):
            s3_client.list_objects_v2(Bucket=upload["bucketName"])
        yield S3Server(url, f"127.0.0.1:{port}", key["AccessKeyId"], key["SecretAccessKey"])


def _secrets(program: ProgramRun, s3: S3Server, *, drop_annotation: str = "", secret_key: str = "") -> dict:
    """The program's Secret as the API server would hold it, with the test's two substitutions."""
    inputs = program["model-storage-credentials"].inputs
    annotations = dict(inputs["metadata"]["annotations"])
    in_cluster = annotations["serving.kserve.io/s3-endpoint"]
    assert in_cluster == "minio.model-store.svc.cluster.local:9000"  # what the pod would reach
    annotations["serving.kserve.io/s3-endpoint"] = s3.host_port
    annotations.pop(drop_annotation, None)
    data = dict(secret_value(inputs["stringData"]))
    data["AWS_ACCESS_KEY_ID"] = s3.reader_key
    data["AWS_SECRET_ACCESS_KEY"] = secret_key or s3.reader_secret
    name = inputs["metadata"]["name"]
    return {name: kserve_credentials.Secret(name, annotations, data)}


def _predictor_env(program: ProgramRun, secrets: dict) -> dict[str, str]:
    account = program["model-service-account"].inputs
    return kserve_credentials.predictor_env([ref["name"] for ref in account["secrets"]], secrets)


def _pull(env: dict[str, str], uri: str, dest: Path, home: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),  # empty: no ~/.aws of the machine running the tests
        "AWS_CONFIG_FILE": str(home / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", DOWNLOAD, uri, str(dest)],
        env=clean,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_injected_environment_is_what_kserve_derives_from_the_program(program: ProgramRun, s3: S3Server) -> None:
    env = _predictor_env(program, _secrets(program, s3))
    assert env == {
        "AWS_ACCESS_KEY_ID": s3.reader_key,
        "AWS_SECRET_ACCESS_KEY": s3.reader_secret,
        "S3_USE_HTTPS": "0",
        "S3_ENDPOINT": s3.host_port,
        "AWS_ENDPOINT_URL": f"http://{s3.host_port}",
        "S3_VERIFY_SSL": "0",
        "AWS_DEFAULT_REGION": REGION,
    }


def test_the_storage_library_pulls_the_artifact_and_the_server_serves_it(
    program: ProgramRun, s3: S3Server, tmp_path: Path, samples: list[mnist_client.Sample]
) -> None:
    uri = program.outputs[outputs.MODEL_URI]
    mount = tmp_path / "mnt" / "models"
    mount.mkdir(parents=True)
    done = _pull(_predictor_env(program, _secrets(program, s3)), uri, mount, tmp_path)
    assert done.returncode == 0, done.stderr
    upload = program.upload("model").inputs
    assert [path.name for path in mount.iterdir()] == ["model.joblib"]  # the layout the server loads
    assert (mount / "model.joblib").read_bytes() == Path(upload["source"]).read_bytes()
    with bench_model.local_model_server(mount) as server:
        rows = [sample.inputs() for sample in samples[:10]]
        answers = mnist_client.predict(mnist_client.Endpoint(url=server.infer_url), rows)
    assert sum(answer == sample.label for answer, sample in zip(answers, samples, strict=False)) >= 8


def test_a_wrong_secret_key_fails_with_the_storage_librarys_error(
    program: ProgramRun, s3: S3Server, tmp_path: Path
) -> None:
    env = _predictor_env(program, _secrets(program, s3, secret_key="not-the-key"))
    done = _pull(env, program.outputs[outputs.MODEL_URI], tmp_path / "models", tmp_path)
    assert done.returncode != 0
    assert "RuntimeError: S3 error [403]: Forbidden" in done.stderr
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_a_missing_endpoint_annotation_sends_the_pull_to_aws_and_fails(
    program: ProgramRun, s3: S3Server, tmp_path: Path
) -> None:
    env = _predictor_env(program, _secrets(program, s3, drop_annotation="serving.kserve.io/s3-endpoint"))
    assert "AWS_ENDPOINT_URL" not in env and "S3_ENDPOINT" not in env
    done = _pull(env, program.outputs[outputs.MODEL_URI], tmp_path / "models", tmp_path)
    assert done.returncode != 0
    # Offline, boto3 cannot connect to AWS; online, AWS refuses the MinIO key. Both are the library's own.
    bucket = program.upload("model").inputs["bucketName"]
    assert (
        f'Could not connect to the endpoint URL: "https://{bucket}.s3.amazonaws.com/"' in done.stderr
        or "RuntimeError: S3 error [403]" in done.stderr
    ), done.stderr[-2000:]


def test_the_reader_cannot_write_or_list_other_buckets(program: ProgramRun, s3: S3Server) -> None:
    reader = boto3.client(
        "s3",
        endpoint_url=s3.url,
        region_name=REGION,
        aws_access_key_id=s3.reader_key,
        aws_secret_access_key=s3.reader_secret,
    )
    bucket = program.upload("model").inputs["bucketName"]
    with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
        reader.put_object(Bucket=bucket, Key="mnist/evil/model.joblib", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
        reader.list_buckets()


def test_no_credentials_at_all_fail(program: ProgramRun, s3: S3Server, tmp_path: Path) -> None:
    env = _predictor_env(program, _secrets(program, s3))
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    done = _pull(env, program.outputs[outputs.MODEL_URI], tmp_path / "models", tmp_path)
    assert done.returncode != 0
    assert "Unable to locate credentials" in done.stderr or "S3 error" in done.stderr, done.stderr[-2000:]

