"""models[].uri: only the store's scheme, only the stack's own bucket (or one named in
modelUriBuckets), only a path inside it; every refusal exact and before any resource."""

from __future__ import annotations

import pytest

from components.config import ConfigError
from tests import harness
from tests.engine import project_settings
from tests.harness import run_program

KIND = {"target": "kind"}
GCP = harness.GCP_STACK
AWS = harness.AWS_STACK
GCS_BUCKET = f"{harness.FAKE_GCP_PROJECT}-servebox-gcp-models"


def _models(uri: str) -> dict:
    return {"models": [{"name": "ranker", "uri": uri, "format": "lightgbm"}]}


def _problems(stack: str, config: dict) -> list[str]:
    with pytest.raises(ConfigError) as error:
        project_settings(stack, config, environ={}, public_ipv4=lambda: harness.FAKE_PUBLIC_IPV4)
    return error.value.problems


WRONG_SCHEME = (
    "models[0].uri: got {uri!r}; allowed: a {scheme}:// URI (this stack's store is {store}): servebox serves models "
    "only from buckets the stack's identity reads, never over http(s) or from another cloud. Fix: set "
    "models[0].path to a local copy instead (servebox checks and uploads it)"
)
TRAVERSAL = (
    "models[0].uri: got {uri!r}; allowed: {scheme}://<bucket>/<path to the model> with no '.', '..', empty, "
    "encoded or backslashed parts in the path. Fix: write the object's path as the bucket lists it"
)


@pytest.mark.parametrize(
    ("stack", "config", "uri", "message"),
    [
        pytest.param("kind", KIND, "http://models.example.com/ranker.bst", WRONG_SCHEME, id="http-on-kind"),
        pytest.param("kind", KIND, "https://models.example.com/ranker.bst", WRONG_SCHEME, id="https-on-kind"),
        pytest.param("kind", KIND, "gs://servebox-kind-models/ranker", WRONG_SCHEME, id="gcs-on-kind"),
        pytest.param("gcp", GCP, f"s3://{GCS_BUCKET}/ranker", WRONG_SCHEME, id="s3-on-gcp"),
        pytest.param("aws", AWS, "gs://servebox-aws-models-x/ranker", WRONG_SCHEME, id="gcs-on-aws"),
        pytest.param("kind", KIND, "s3://servebox-kind-models/../../x", TRAVERSAL, id="dot-dot"),
        pytest.param("kind", KIND, "s3://servebox-kind-models/ranker/./7", TRAVERSAL, id="dot"),
        pytest.param("kind", KIND, "s3://servebox-kind-models//ranker", TRAVERSAL, id="empty-part"),
        pytest.param("kind", KIND, "s3://servebox-kind-models/%2e%2e/x", TRAVERSAL, id="encoded-dots"),
        pytest.param("kind", KIND, "s3://servebox-kind-models/ranker\\..\\x", TRAVERSAL, id="backslash"),
        pytest.param("kind", KIND, "s3://servebox-kind-models/", TRAVERSAL, id="the-whole-bucket"),
        pytest.param("gcp", GCP, f"gs://{GCS_BUCKET}/a/../b", TRAVERSAL, id="dot-dot-on-gcp"),
    ],
)
def test_a_uri_outside_the_stores_scheme_or_with_traversal_is_refused(stack: str, config: dict, uri: str, message: str) -> None:
    scheme, store = {"kind": ("s3", "minio"), "gcp": ("gs", "gcs"), "aws": ("s3", "s3")}[stack]
    assert _problems(stack, {**config, **_models(uri)}) == [message.format(uri=uri, scheme=scheme, store=store)]


@pytest.mark.parametrize(
    ("stack", "config", "uri", "own"),
    [
        ("kind", KIND, "s3://team-models/ranker/7", "servebox-kind-models"),
        ("gcp", GCP, "gs://team-models/ranker/7", GCS_BUCKET),
        ("aws", AWS, "s3://team-models/ranker/7", "servebox-aws-models-<unique suffix>"),
    ],
)
def test_another_bucket_is_refused_unless_named(stack: str, config: dict, uri: str, own: str) -> None:
    assert _problems(stack, {**config, **_models(uri)}) == [
        f"models[0].uri: got {uri!r}, in bucket 'team-models'; allowed: this stack's bucket ({own}) or one named in "
        "modelUriBuckets (now: none). Fix: pulumi config set modelUriBuckets team-models (only if the stack's "
        "identity can read that bucket: servebox grants nothing on it)"
    ]


@pytest.mark.parametrize(
    ("stack", "config", "uri"),
    [
        ("kind", KIND, "s3://servebox-kind-models/ranker/7"),
        ("kind", KIND, "s3://servebox-kind-models/ranker/7/"),
        ("gcp", GCP, f"gs://{GCS_BUCKET}/ranker/model.bst"),
        ("aws", AWS, "s3://servebox-aws-models-20261201093040123400000001/ranker"),
        ("gcp", {**GCP, "modelUriBuckets": "team-models, shared.models"}, "gs://shared.models/ranker"),
        ("aws", {**AWS, "modelUriBuckets": "team-models"}, "s3://team-models/ranker/7"),
    ],
)
def test_the_stacks_own_bucket_or_a_named_one_is_served(stack: str, config: dict, uri: str) -> None:
    settings = project_settings(stack, {**config, **_models(uri)}, environ={}, public_ipv4=lambda: harness.FAKE_PUBLIC_IPV4)
    assert [model.uri for model in settings.own_models] == [uri]


def test_modelUriBuckets_is_refused_with_minio_and_checked_as_bucket_names() -> None:
    assert _problems("kind", {**KIND, "modelUriBuckets": "team-models"}) == [
        "modelUriBuckets: got 'team-models', but this stack's store is minio, whose credentials for the predictor "
        "read the stack's bucket only; allowed: empty with store minio. Fix: pulumi config rm modelUriBuckets"
    ]
    assert _problems("gcp", {**GCP, "modelUriBuckets": "Team_Models"}) == [
        "modelUriBuckets: got 'Team_Models' ('Team_Models': not a bucket name); allowed: comma-separated bucket names "
        "(3-63 lower-case letters, digits, '-' and '.'). Fix: pulumi config set modelUriBuckets <bucket>"
    ]


def test_a_refused_uri_registers_no_resource() -> None:
    with pytest.raises(Exception, match="servebox configuration has 1 problem"):
        run_program({**KIND, **_models("http://models.example.com/ranker.bst")}, stack="kind")
    assert harness.LAST_REGISTRATIONS == []
