"""A shared workshop's store keys, judged by a real S3 server: moto on 127.0.0.1 with its IAM
checks on holds the program's bucket and each attendee's uploaded object, and each attendee's
MinIO user with the policy the program gives it (components/storage/minio.py
`prefix_read_policy`). With ada's keys KServe's storage library pulls ada's model and is refused
bob's, and writing is refused. (Listing outside her prefix is refused by the policy's condition, which
moto does not evaluate: asserted as written.) The counter-check: the
stack's whole-bucket reader policy would have let her read bob's, so the refusal is the prefix
policy's doing. moto authorizes HeadBucket as `s3:HeadBucket` (tests/model/local_servers.py says
why the test adds it). Not proven: MinIO itself enforcing the policy as moto does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.exceptions
import pytest

from components.storage.minio import read_only_policy
from tests.harness import ProgramRun, run_program
from tests.model import local_servers

REGION = "us-east-1"
# create_bucket, 2 × put_object, 3 × (create_user, put_user_policy, create_access_key).
SETUP_REQUESTS = 12
PULL = "import sys\nfrom kserve_storage import Storage\nStorage.download_files([sys.argv[1]], [sys.argv[2]])\n"


@pytest.fixture(scope="module")
def program() -> ProgramRun:
    return run_program({"attendees": "ada,bob"}, stack="kind")


@pytest.fixture(scope="module")
def keys(program: ProgramRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, str]]]:
    """moto holding both attendees' objects; each attendee's key pair, and a whole-bucket reader's."""
    with local_servers.moto(tmp_path_factory.mktemp("moto-shared"), SETUP_REQUESTS) as url:
        admin = {"endpoint_url": url, "region_name": REGION, "aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
        s3, iam = boto3.client("s3", **admin), boto3.client("iam", **admin)
        bucket = program.upload("attendee-ada-model").inputs["bucketName"]
        s3.create_bucket(Bucket=bucket)
        for attendee in ("ada", "bob"):
            upload = program.upload(f"attendee-{attendee}-model").inputs
            s3.put_object(Bucket=bucket, Key=upload["objectName"], Body=Path(upload["source"]).read_bytes())
        policies = {a: program[f"attendee-{a}-store-reader-policy"].inputs["policy"] for a in ("ada", "bob")}
        policies["whole-bucket"] = read_only_policy(bucket)
        found = {}
        for user, policy in policies.items():
            iam.create_user(UserName=user)
            iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=local_servers.moto_policy(policy))
            key = iam.create_access_key(UserName=user)["AccessKey"]
            found[user] = (key["AccessKeyId"], key["SecretAccessKey"], url)
        with pytest.raises(botocore.exceptions.ClientError, match="InvalidAccessKeyId"):
            s3.list_objects_v2(Bucket=bucket)  # from here on moto checks every request
        yield found


def _pull(keys: tuple[str, str, str], uri: str, dest: Path) -> subprocess.CompletedProcess[str]:
    key_id, secret, url = keys
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(dest.parent), "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_ENDPOINT_URL": url, "S3_ENDPOINT": url.removeprefix("http://"), "S3_USE_HTTPS": "0", "S3_VERIFY_SSL": "0",
        "AWS_DEFAULT_REGION": REGION,
    }
    return subprocess.run([sys.executable, "-c", PULL, uri, str(dest)], env=env, capture_output=True, text=True, timeout=180, check=False)


def _uri(program: ProgramRun, attendee: str) -> str:
    return program[f"attendee-{attendee}-model-isvc"].inputs["spec"]["predictor"]["model"]["storageUri"]


def test_an_attendee_pulls_their_own_model(program: ProgramRun, keys, tmp_path: Path) -> None:
    done = _pull(keys["ada"], _uri(program, "ada"), tmp_path / "ada")
    assert done.returncode == 0, done.stderr[-2000:]
    assert [p.name for p in (tmp_path / "ada").iterdir()] == ["model.joblib"]


def test_an_attendee_cannot_pull_anothers_though_a_whole_bucket_reader_could(program: ProgramRun, keys, tmp_path: Path) -> None:
    refused = _pull(keys["ada"], _uri(program, "bob"), tmp_path / "ada-reads-bob")
    assert refused.returncode != 0 and "(403)" in refused.stderr
    control = _pull(keys["whole-bucket"], _uri(program, "bob"), tmp_path / "whole-bucket-reads-bob")
    assert control.returncode == 0, control.stderr[-2000:]


def test_an_attendee_cannot_write_even_their_own_prefix(program: ProgramRun, keys) -> None:
    key_id, secret, url = keys["ada"]
    s3 = boto3.client("s3", endpoint_url=url, region_name=REGION, aws_access_key_id=key_id, aws_secret_access_key=secret)
    bucket = program.upload("attendee-ada-model").inputs["bucketName"]
    for key in ("ada/mine.joblib", "bob/mnist/overwrite.joblib"):
        with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")


def test_listing_is_limited_to_the_prefix_by_its_condition(program: ProgramRun) -> None:
    """moto does not evaluate policy conditions (listing bob/ with ada's keys passes there), so the
    listing's limit is asserted as the policy states it, for MinIO and S3 to evaluate: ListBucket
    only with an s3:prefix under ada/ (the object names of others stay unlisted)."""
    policy = json.loads(program["attendee-ada-store-reader-policy"].inputs["policy"])
    listing = [st for st in policy["Statement"] if "s3:ListBucket" in st["Action"]]
    assert listing == [{"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::servebox-kind-models"],
                        "Condition": {"StringLike": {"s3:prefix": ["ada/*"]}}}]
