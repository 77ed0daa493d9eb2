"""The VM targets: the cloud's credentials where its provider finds them, and the project or region."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from components import config
from servebox.preflight.facts import FAIL, OK, AwsFacts, Check, GcpFacts

# Where each cloud's provider looks for credentials, and the command that puts some there.
_CREDENTIAL_SOURCES = {
    "GCP": (
        "Google provider looks (gcp:credentials, GOOGLE_CREDENTIALS, GOOGLE_OAUTH_ACCESS_TOKEN, "
        "GOOGLE_APPLICATION_CREDENTIALS, gcloud's application-default file)",
        "gcloud auth application-default login",
    ),
    "AWS": (
        "AWS provider looks (AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws/credentials, ~/.aws/config with SSO, "
        "AWS_WEB_IDENTITY_TOKEN_FILE, container credentials)",
        "aws configure sso (or aws configure), then export AWS_PROFILE=<profile>",
    ),
}


def _credentials(cloud: str, found: str) -> Check:
    if found:
        return Check(f"{cloud} credentials", OK, f"found: {found}")
    looked_in, fix = _CREDENTIAL_SOURCES[cloud]
    return Check(f"{cloud} credentials", FAIL, f"no credentials where the {looked_in}", fix)


def _provider_key(key: str, value: str, source: str, stack: str, environ: tuple[str, ...], example: str) -> Check:
    """A cloud provider's key that says where the stack goes (the project or the region)."""
    if value:
        return Check(key, OK, f"{value} ({source})")
    return Check(
        key,
        FAIL,
        f"not set for stack {stack} (nor {', '.join(environ)} in the environment)",
        # Before the first up the stack may not exist yet, and `pulumi config set` needs it to.
        f"servebox up {stack} --set {key}={example}   (or add the line `  {key}: {example}` "
        f"under `config:` in stacks/Pulumi.{stack}.yaml)",
    )


def check_gcp_credentials(gcp: GcpFacts) -> Check:
    """Credentials where the Google provider looks for them (its `credentials` config, the
    GOOGLE_CREDENTIALS family of env vars, an access token, GOOGLE_APPLICATION_CREDENTIALS, then
    gcloud's application-default credentials file)."""
    if gcp.credentials_problem:
        return Check(
            "GCP credentials",
            FAIL,
            gcp.credentials_problem,
            "point it at a readable key file, or unset it and run: gcloud auth application-default login",
        )
    return _credentials("GCP", gcp.credentials)


def check_gcp_project(gcp: GcpFacts, stack: str) -> Check:
    """The project the VM and the bucket go in."""
    return _provider_key("gcp:project", gcp.project, gcp.project_source, stack, config.GCP_PROJECT_ENV, "<project-id>")


def check_aws_credentials(aws: AwsFacts) -> Check:
    """Credentials where the AWS provider looks (its SDK's default chain, as far as files and the
    environment show it: keys, a profile, web identity, container credentials)."""
    return _credentials("AWS", aws.credentials)


def check_aws_region(aws: AwsFacts, stack: str) -> Check:
    """The region the instance and the bucket go in."""
    return _provider_key("aws:region", aws.region, aws.region_source, stack, config.AWS_REGION_ENV, "us-east-1")


def gcp_credentials(environ: Mapping[str, str], home: Path, stack_config: Mapping[str, Any]) -> tuple[str, str]:
    """(where credentials are, why a named source is unusable) in the Google provider's order."""
    if stack_config.get("gcp:credentials"):
        return "gcp:credentials in the stack's config", ""
    for variable in ("GOOGLE_CREDENTIALS", "GOOGLE_CLOUD_KEYFILE_JSON", "GCLOUD_KEYFILE_JSON", "GOOGLE_OAUTH_ACCESS_TOKEN"):
        if environ.get(variable):
            return variable, ""
    if environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
        path = Path(environ["GOOGLE_APPLICATION_CREDENTIALS"]).expanduser()
        if not path.is_file():
            return "", f"GOOGLE_APPLICATION_CREDENTIALS names {path}, which is not a file"
        return f"GOOGLE_APPLICATION_CREDENTIALS ({path})", ""
    if environ.get("CLOUDSDK_CONFIG"):
        gcloud = Path(environ["CLOUDSDK_CONFIG"]).expanduser()
    elif environ.get("APPDATA"):  # Windows
        gcloud = Path(environ["APPDATA"]) / "gcloud"
    else:
        gcloud = home / ".config" / "gcloud"
    adc = gcloud / "application_default_credentials.json"
    if adc.is_file():
        return f"application-default credentials ({adc})", ""
    return "", ""


def aws_credentials(environ: Mapping[str, str], home: Path, stack_config: Mapping[str, Any]) -> str:
    """Where the AWS SDK's default chain would find credentials, as far as files and env show it."""
    if stack_config.get("aws:accessKey") or stack_config.get("aws:profile"):
        return "aws:accessKey or aws:profile in the stack's config"
    if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"):
        return "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    if environ.get("AWS_WEB_IDENTITY_TOKEN_FILE") and environ.get("AWS_ROLE_ARN"):
        return "AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN"
    if environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI") or environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        return "container credentials (AWS_CONTAINER_CREDENTIALS_*)"
    profile = environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"
    files = (
        Path(environ.get("AWS_SHARED_CREDENTIALS_FILE", home / ".aws" / "credentials")).expanduser(),
        Path(environ.get("AWS_CONFIG_FILE", home / ".aws" / "config")).expanduser(),
    )
    headers = (f"[{profile}]", f"[profile {profile}]")
    for path in files:
        try:
            lines = [line.strip() for line in path.read_text().splitlines()]
        except OSError:
            continue
        if any(line in headers for line in lines):
            return f"profile {profile} in {path}"
    return ""


def aws_region(environ: Mapping[str, str], stack_config: Mapping[str, Any]) -> tuple[str, str]:
    """(region, where it came from), as the program reads it."""
    return config.provider_setting("aws:region", config.AWS_REGION_ENV, stack_config, environ)


def gcp_project(environ: Mapping[str, str], stack_config: Mapping[str, Any]) -> tuple[str, str]:
    """(project, where it came from), as the program and the provider read it."""
    return config.provider_setting("gcp:project", config.GCP_PROJECT_ENV, stack_config, environ)
