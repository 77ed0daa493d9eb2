"""The keyless read path of the aws target: KServe's storage library pulls the model's `s3://` prefix
from a real S3 server on 127.0.0.1 with boto3's default credential chain only, and the server serves
what it pulled.

- From the program (a mock run of __main__.py on an aws stack): the bucket, the object key and the
  file uploaded, the storageUri, the instance role's name and its one policy, and the predictor's
  ServiceAccount, from which KServe's injector derives the init container's environment
  (kserve_credentials.py): empty, since the account lists no Secret. So no credential comes from
  the project.
- The credentials are what the instance role hands out: moto (IAM checks on) holds a role of the
  program's name with the program's policy, and the test assumes it, which gives the same kind of
  temporary key, secret and session token that IMDSv2 gives a pod on the instance. They reach the
  pull through the environment, one link of boto3's default chain, as the instance-metadata link
  would on EC2.
- Added by the test for moto, and only these: AWS_ENDPOINT_URL (real S3 needs none) and the region
  (on EC2 botocore reads it from instance metadata). moto authorizes HeadBucket as `s3:HeadBucket`
  where S3 authorizes it as `s3:ListBucket`; the test adds that one action for moto.
Not proven: that IMDSv2 with hop limit 2 reaches a pod on k3s, which only an instance can show.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import bench_model
import boto3
import botocore.exceptions
import pytest

from components import outputs
from servebox import mnist_client
from tests.harness import ProgramRun, run_program
from tests.model import kserve_credentials, local_servers

REGION = "us-east-1"
SETUP_REQUESTS = 5  # create_bucket, put_object, create_role, put_role_policy, assume_role
DOWNLOAD = "import sys\nfrom kserve_storage import Storage\nStorage.download_files([sys.argv[1]], [sys.argv[2]])\n"


@pytest.fixture(scope="module")
def program() -> ProgramRun:
    return run_program({"target": "aws", "aws:region": REGION}, stack="aws")


@pytest.fixture(scope="module")
def role_credentials(program: ProgramRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """moto holding the program's bucket and object, and temporary credentials of the program's role."""
    with local_servers.moto(tmp_path_factory.mktemp("moto-s3"), SETUP_REQUESTS) as url:
        setup = {"endpoint_url": url, "region_name": REGION, "aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
        upload = program.upload("model").inputs
        role = program["cluster-node-identity"].inputs
        grant = program["store-reader"].inputs
        bucket = program.outputs[outputs.BUCKET]
        s3, iam, sts = (boto3.client(service, **setup) for service in ("s3", "iam", "sts"))
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key=upload["key"], Body=Path(upload["source"].path).read_bytes())
        created = iam.create_role(RoleName=role["name"], AssumeRolePolicyDocument=role["assumeRolePolicy"])
        iam.put_role_policy(RoleName=role["name"], PolicyName="read", PolicyDocument=local_servers.moto_policy(grant["policy"]))
        assumed = sts.assume_role(RoleArn=created["Role"]["Arn"], RoleSessionName="i-0123456789")["Credentials"]
        with pytest.raises(botocore.exceptions.ClientError):  # from here on moto checks every request
            s3.list_objects_v2(Bucket=bucket)
        yield {
            "AWS_ACCESS_KEY_ID": assumed["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": assumed["SecretAccessKey"],
            "AWS_SESSION_TOKEN": assumed["SessionToken"],
            "AWS_ENDPOINT_URL": url,
            "AWS_DEFAULT_REGION": REGION,
        }


def _pull(env: dict[str, str], uri: str, dest: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", DOWNLOAD, uri, str(dest)],
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "AWS_CONFIG_FILE": str(home / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _injected(program: ProgramRun) -> dict[str, str]:
    account = program["model-service-account"].inputs
    return kserve_credentials.predictor_env([ref["name"] for ref in account.get("secrets") or []], {})


def test_the_project_gives_the_predictor_no_credentials(program: ProgramRun) -> None:
    assert _injected(program) == {}


def test_the_role_pulls_the_s3_prefix_and_the_server_serves_it(
    program: ProgramRun, role_credentials: dict[str, str], tmp_path: Path, samples: list[mnist_client.Sample]
) -> None:
    mount = tmp_path / "mnt" / "models"
    mount.mkdir(parents=True)
    done = _pull({**_injected(program), **role_credentials}, program.outputs[outputs.MODEL_URI], mount, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert [path.name for path in mount.iterdir()] == ["model.joblib"]
    with bench_model.local_model_server(mount) as server:
        answers = mnist_client.predict(mnist_client.Endpoint(url=server.infer_url), [s.inputs() for s in samples[:10]])
    assert sum(answer == sample.label for answer, sample in zip(answers, samples, strict=False)) >= 8


def test_without_the_roles_session_token_the_pull_is_refused(
    program: ProgramRun, role_credentials: dict[str, str], tmp_path: Path
) -> None:
    env = {key: value for key, value in role_credentials.items() if key != "AWS_SESSION_TOKEN"}
    done = _pull(env, program.outputs[outputs.MODEL_URI], tmp_path / "models", tmp_path)
    assert done.returncode != 0
    assert "RuntimeError: S3 error [403]" in done.stderr


def test_the_role_cannot_write_the_bucket(program: ProgramRun, role_credentials: dict[str, str]) -> None:
    client = boto3.client(
        "s3",
        endpoint_url=role_credentials["AWS_ENDPOINT_URL"],
        region_name=REGION,
        aws_access_key_id=role_credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=role_credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=role_credentials["AWS_SESSION_TOKEN"],
    )
    with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
        client.put_object(Bucket=program.outputs[outputs.BUCKET], Key="mnist/x/model.joblib", Body=b"x")
