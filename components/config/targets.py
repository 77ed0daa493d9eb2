"""Which keys belong to which target and serving stack, and the rules of the VM targets (gcp, aws):
project, region, machine types, the architecture a machine type gives."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from components import versions
from components.config.schema import _Reader, known
from components.config.settings import VM_TARGETS, AwsSettings, GcpSettings, NetworkMode, Serving, Target

# The targets a key means something on; a key not listed here applies to every target. Setting one
# on a stack of another target is refused rather than silently ignored.
KEY_TARGETS: dict[str, frozenset[Target]] = {
    "kindHostPort": frozenset({Target.KIND}),
    "kindStoreHostPort": frozenset({Target.KIND}),
    "adminCidrs": VM_TARGETS | {Target.EXISTING},
    **{
        key: VM_TARGETS
        for key in ("modelCidrs", "allowWorldAdminAccess", "vmTtlHours", "vmTerminationAction", "vmSpot")
    },
    **{
        key: frozenset({Target.GCP})
        for key in ("gcpZone", "gcpMachineType", "gcpDiskSizeGb", "gcpNetwork", "gcpStaticIp")
    },
    **{key: frozenset({Target.AWS}) for key in ("awsInstanceType", "awsDiskSizeGb", "awsNetwork", "awsElasticIp")},
    **{
        key: frozenset({Target.EXISTING})
        for key in (
            "kubeconfigPath",
            "kubeContext",
            "kubeconfig",
            "installCertManager",
            "installIstio",
            "installKnative",
            "ingressAddress",
            "ingressDomain",
            "store",
            "eksClusterName",
        )
    },
}

# The serving stacks a key means something to; set with another one, it is refused.
KEY_SERVING: dict[str, frozenset[Serving]] = {
    key: frozenset({Serving.KSERVE}) for key in ("deploymentMode", "installKnative", "modelScaleMetric", "modelScaleTarget")
}

# Where the Google provider finds its project when `gcp:project` is not set (its own env fallbacks).
GCP_PROJECT_ENV = ("GOOGLE_PROJECT", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT")
# Where the AWS provider finds its region when `aws:region` is not set.
AWS_REGION_ENV = ("AWS_REGION", "AWS_DEFAULT_REGION")
# Where the Google provider finds its region when `gcp:region` is not set.
GCP_REGION_ENV = ("GOOGLE_REGION", "GCLOUD_REGION", "CLOUDSDK_COMPUTE_REGION")


def _keys_of_other_targets(read: _Reader, target: Target) -> None:
    for key in sorted(KEY_TARGETS):
        targets = KEY_TARGETS[key]
        if target not in targets and not read.is_default(key):
            names = ", ".join(sorted(t.value for t in targets))
            read.problems.append(
                f"{key}: got {read.value(key)!r}, but it applies to target {names} only and this stack's "
                f"target is {target.value}; allowed: unset on {target.value} stacks. Fix: pulumi config rm {key}"
            )


_GRAVITON_FAMILY = re.compile(r"[a-z-]+\d+([a-z-]*)")


def gcp_architecture(machine_type: str) -> str:
    """The CPU architecture of a Compute Engine machine type's series (t2a-standard-2 -> arm64)."""
    return "arm64" if machine_type.split("-", 1)[0] in versions.GCP_ARM_SERIES else "amd64"


def aws_architecture(instance_type: str) -> str:
    """arm64 for Graviton families (a `g` after the generation: t4g, m7g, c7gn, r8gd), else amd64."""
    match = _GRAVITON_FAMILY.fullmatch(instance_type.split(".", 1)[0])
    return "arm64" if match and "g" in match.group(1) else "amd64"


def _seldon_needs_amd64(read: _Reader, gcp: GcpSettings | None, aws: AwsSettings | None) -> None:
    allowed = "with serving seldon, an amd64 {} (Seldon Core's operator and executor images are amd64-only)"
    # Seldon Core v1.17.1's operator and executor images are built for amd64 only (components/versions.py).
    if gcp is not None and gcp_architecture(gcp.machine_type) == "arm64":
        read.problem("gcpMachineType", gcp.machine_type, allowed.format("machine type such as e2-standard-2"))
    if aws is not None and aws_architecture(aws.instance_type) == "arm64":
        read.problem("awsInstanceType", aws.instance_type, allowed.format("instance type such as t3.large"))


def _keys_of_other_serving(read: _Reader, serving: Serving) -> None:
    for key in sorted(KEY_SERVING):
        stacks = KEY_SERVING[key]
        if serving not in stacks and not read.is_default(key):
            names = ", ".join(sorted(s.value for s in stacks))
            read.problems.append(
                f"{key}: got {read.value(key)!r}, but it applies to serving {names} only and this stack's "
                f"serving is {serving.value}; allowed: unset on {serving.value} stacks. Fix: pulumi config rm {key}"
            )


def provider_setting(
    key: str, fallbacks: tuple[str, ...], provider_config: Mapping[str, Any], environ: Mapping[str, str]
) -> tuple[str, str]:
    """(value, where it came from) of a provider key such as `gcp:project`, as the provider reads it:
    the stack's config, else the first of its environment fallbacks that is set; ("", "") when none is."""
    if provider_config.get(key):
        return str(provider_config[key]), f"{key} in the stack's config"
    for variable in fallbacks:
        if environ.get(variable):
            return environ[variable], variable
    return "", ""


def _provider_key(
    read: _Reader,
    key: str,
    fallbacks: tuple[str, ...],
    provider_config: Mapping[str, Any],
    environ: Mapping[str, str],
    pattern: re.Pattern[str],
    *,
    unset: str,
    shape: str,
    fix: str,
) -> str:
    """A provider key a VM target needs (gcp:project, aws:region) as its provider finds it, or "" with
    the problem recorded: not set anywhere, or not of its shape."""
    value, _ = provider_setting(key, fallbacks, provider_config, environ)
    if not value:
        read.problems.append(
            f"{key}: not set; allowed: {unset} (or one of {', '.join(fallbacks)} in the environment). "
            f"Fix: pulumi config set {key} {fix}"
        )
    elif not pattern.fullmatch(value):
        read.problems.append(f"{key}: got {value!r}; allowed: {shape}. Fix: pulumi config set {key} {fix}")
        value = ""
    return value


_AWS_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]")
_AWS_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[0-9]*[a-z][a-z0-9-]*")


def _aws_settings(read: _Reader, provider_config: Mapping[str, Any], environ: Mapping[str, str]) -> AwsSettings | None:
    region = _provider_key(
        read, "aws:region", AWS_REGION_ENV, provider_config, environ, _AWS_REGION,
        unset="the AWS region to create the instance and the bucket in, such as us-east-1",
        shape="an AWS region such as us-east-1 or eu-west-1 (not a zone)", fix="us-east-1",
    )
    instance_type = read.matching(
        "awsInstanceType",
        lambda v: bool(_AWS_INSTANCE_TYPE.fullmatch(v)),
        "an EC2 instance type such as t3.large, m7i.large or t4g.large",
    )
    disk = read.integer("awsDiskSizeGb", 20, 500)
    network = read.enum("awsNetwork", NetworkMode)
    elastic_ip = read.boolean("awsElasticIp")
    if not region or None in (instance_type, disk, network, elastic_ip):
        return None
    return AwsSettings(
        region=region,
        instance_type=known(instance_type),
        disk_size_gb=known(disk),
        network=network,
        elastic_ip=known(elastic_ip),
    )


_GCP_PROJECT = re.compile(r"([a-z0-9.-]+:)?[a-z][-a-z0-9]{4,28}[a-z0-9]")
_GCP_ZONE = re.compile(r"[a-z]+(-[a-z]+)*[0-9]+-[a-z]")
_GCP_MACHINE_TYPE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+){1,3}")


def _gcp_settings(read: _Reader, provider_config: Mapping[str, Any], environ: Mapping[str, str]) -> GcpSettings | None:
    project = _provider_key(
        read, "gcp:project", GCP_PROJECT_ENV, provider_config, environ, _GCP_PROJECT,
        unset="the id of the GCP project to create the VM and the bucket in",
        shape="a GCP project id (6-30 lower-case letters, digits and '-', starting with a letter)", fix="<project-id>",
    )
    zone = read.matching("gcpZone", lambda v: bool(_GCP_ZONE.fullmatch(v)), "a Compute Engine zone such as us-central1-a")
    machine_type = read.matching(
        "gcpMachineType",
        lambda v: bool(_GCP_MACHINE_TYPE.fullmatch(v)),
        "a Compute Engine machine type such as e2-standard-2, n2d-standard-4 or t2a-standard-2",
    )
    disk = read.integer("gcpDiskSizeGb", 20, 500)
    network = read.enum("gcpNetwork", NetworkMode)
    static_ip = read.boolean("gcpStaticIp")
    if not project or None in (zone, machine_type, disk, network, static_ip):
        return None
    return GcpSettings(
        project=project,
        zone=known(zone),
        machine_type=known(machine_type),
        disk_size_gb=known(disk),
        network=network,
        static_ip=known(static_ip),
    )
