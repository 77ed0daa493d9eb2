"""The environment KServe's storage-initializer injector gives a predictor's init container for S3.

Our own port, in Python, of the S3 path of KServe's credential builder at v0.20.0 (read, not
copied: kserve/kserve pkg/credentials/service_account_credentials.go `CreateSecretVolumeAndEnv`
and `mountSecretCredential`, pkg/credentials/s3/s3_secret.go `BuildSecretEnvs`, and
pkg/credentials/s3/utils.go `BuildS3EnvVars`). The controller does this when it admits a
predictor pod: for every Secret the pod's ServiceAccount lists that holds the configured secret
access key name, it adds the key pair as env vars, then endpoint, https, SSL and region, each from
the Secret's annotation, else the Secret's own data, else the cluster-wide credentials config.
Where the Go builds `valueFrom.secretKeyRef`, this resolves the value, as the kubelet would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ANNOTATION_PREFIX = "serving.kserve.io/"

# kserve-resources values.yaml@v0.20.0, `kserve.storage.s3`, which the chart writes into the
# inferenceservice-config ConfigMap's `credentials`; servebox does not change them.
CHART_S3_CONFIG = {
    "s3AccessKeyIDName": "AWS_ACCESS_KEY_ID",
    "s3SecretAccessKeyName": "AWS_SECRET_ACCESS_KEY",
    "s3Endpoint": "",
    "s3UseHttps": "",
    "s3Region": "",
    "s3VerifySSL": "",
    "s3UseVirtualBucket": "",
    "s3UseAccelerate": "",
    "s3UseAnonymousCredential": "",
    "s3CABundleConfigMap": "",
    "s3CABundle": "",
}

# (annotation suffix, key in the Secret's data, config field, env var) in BuildS3EnvVars' order,
# after the endpoint, which is handled on its own.
_AFTER_ENDPOINT = (
    ("s3-verifyssl", "S3_VERIFY_SSL", "s3VerifySSL", "S3_VERIFY_SSL"),
    ("s3-useanoncredential", "awsAnonymousCredential", "s3UseAnonymousCredential", "awsAnonymousCredential"),
    ("s3-region", "AWS_DEFAULT_REGION", "s3Region", "AWS_DEFAULT_REGION"),
    ("s3-usevirtualbucket", "S3_USER_VIRTUAL_BUCKET", "s3UseVirtualBucket", "S3_USER_VIRTUAL_BUCKET"),
    ("s3-useaccelerate", "S3_USE_ACCELERATE", "s3UseAccelerate", "S3_USE_ACCELERATE"),
    ("s3-cabundle", "AWS_CA_BUNDLE", "s3CABundle", "AWS_CA_BUNDLE"),
    ("s3-cabundle-configmap", "AWS_CA_BUNDLE_CONFIGMAP", "s3CABundleConfigMap", "AWS_CA_BUNDLE_CONFIGMAP"),
)


@dataclass(frozen=True)
class Secret:
    """A Secret as the API server stores it: name, annotations, decoded data."""

    name: str
    annotations: Mapping[str, str]
    data: Mapping[str, str]


def _value(secret: Secret, annotation: str, data_key: str, configured: str) -> str:
    annotations = secret.annotations
    if ANNOTATION_PREFIX + annotation in annotations:
        return annotations[ANNOTATION_PREFIX + annotation]
    if data_key in secret.data:
        return secret.data[data_key]
    return configured


def s3_env(secret: Secret, config: Mapping[str, str] = CHART_S3_CONFIG) -> dict[str, str]:
    """BuildSecretEnvs: the key pair, then BuildS3EnvVars."""
    env = {
        "AWS_ACCESS_KEY_ID": secret.data[config["s3AccessKeyIDName"] or "awsAccessKeyID"],
        "AWS_SECRET_ACCESS_KEY": secret.data[config["s3SecretAccessKeyName"] or "awsSecretAccessKey"],
    }
    endpoint = _value(secret, "s3-endpoint", "S3_ENDPOINT", config["s3Endpoint"]).strip()
    if endpoint:
        if endpoint.lower().startswith("https://"):
            use_https, host, url = "1", endpoint[8:], endpoint
        elif endpoint.lower().startswith("http://"):
            use_https, host, url = "0", endpoint[7:], endpoint
        else:
            use_https = _value(secret, "s3-usehttps", "S3_USE_HTTPS", config["s3UseHttps"])
            host, url = endpoint, ("http://" if use_https == "0" else "https://") + endpoint
        if use_https:
            env["S3_USE_HTTPS"] = use_https
        env["S3_ENDPOINT"] = host
        env["AWS_ENDPOINT_URL"] = url
    for annotation, data_key, field, name in _AFTER_ENDPOINT:
        value = _value(secret, annotation, data_key, config[field])
        if value:
            env[name] = value
    return env


def predictor_env(
    service_account_secrets: Sequence[str], secrets: Mapping[str, Secret], config: Mapping[str, str] = CHART_S3_CONFIG
) -> dict[str, str]:
    """CreateSecretVolumeAndEnvFromServiceAccount, S3 only: every listed Secret with S3 keys."""
    env: dict[str, str] = {}
    for name in service_account_secrets:
        secret = secrets[name]  # the Go fails the pod when a listed Secret is missing
        if (config["s3SecretAccessKeyName"] or "awsSecretAccessKey") in secret.data:
            env.update(s3_env(secret, config))
    return env
