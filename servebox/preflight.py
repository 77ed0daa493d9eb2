#!/usr/bin/env python3
"""Preflight: can this machine run `pulumi up` on this servebox stack?

    python scripts/preflight.py [--stack STACK] [--json]

Checks, before anything is created, what the stack's target needs from the machine, and prints one
line per check (OK / WARN / FAIL) with a fix for each problem. A VM stack (target gcp or aws, read
from stacks/Pulumi.<stack>.yaml) needs the Pulumi CLI, the cloud's credentials found the way its
provider finds them, and `gcp:project` or `aws:region`; not Docker or kind. A kind stack needs:

1. the `pulumi`, `docker`, `kind` and `kubectl` CLIs, with versions (kind at least
   versions.KIND_MIN_CLI_VERSION, kubectl within one minor of the pinned Kubernetes);
2. a running Docker daemon (`docker info`);
3. the CPUs, memory and disk Docker has;
4. Linux inotify limits, when the Docker engine runs on this Linux machine;
5. that every image the stack pulls (versions.images(its serving)) is built for Docker's CPU architecture;
6. that each of the stack's host ports (HOST_PORT_KEYS: kindHostPort for the ingress,
   kindStoreHostPort for the model store's S3 API) is free on 127.0.0.1 or already held by this
   stack's cluster, and that the two differ.

Exit status: 0 when nothing FAILs (warnings allowed), 1 otherwise.

Layout: `gather_facts()` is the only part that runs commands or touches the machine; it returns a
`HostFacts`. Every check is a small pure function of those facts returning a `Check`, so the tests
feed fake facts and need none of the tools.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent

try:
    from components import config, naming, versions
except ImportError as exc:  # a Python without the project's packages (pulumi, PyYAML)
    sys.exit(
        f"preflight: {exc}. Run scripts/up.sh, or create the venv first: "
        "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt"
    )

OK, WARN, FAIL = "OK", "WARN", "FAIL"
GIB = 2**30
STACKS_DIR = REPO / "stacks"  # Pulumi.yaml: stackConfigDir: stacks
MINIMUM_PULUMI_CLI = "3.211.0"
"""servebox/stacks.py MINIMUM_CLI: the oldest CLI whose file backend keeps stack tags."""
OVERRIDES: dict[str, str] = {}
"""This run's `--set KEY=VALUE` values (servebox up passes its own): they go on the stack before up,
so the checks judge them over the stack file's."""
DEFAULT_STACK = "kind"

# --- Thresholds, and why -------------------------------------------------------------------------
# What runs inside the one kind node: the platform (cert-manager, Istio, Knative, KServe and the
# sample predictor) requests about 1 vCPU and 2 GiB; the node's own control plane (apiserver,
# etcd, controller-manager, scheduler, CoreDNS, kubelet, containerd) requests about 0.85 vCPU and
# uses about 1 GiB; image pulls and unpacking burst on CPU and page cache. The scheduler sees the
# node as exactly what Docker has, so with 1 CPU the requests alone leave pods Pending, and under
# 4 GiB Istio and the webhooks get OOM-killed mid-install. Those are the minimums (FAIL). With
# 4 CPUs and 8 GiB the install finishes well inside installTimeoutSeconds and the model answers
# quickly; below that it works but slowly (WARN).
MIN_CPUS, RECOMMENDED_CPUS = 2, 4
MIN_MEMORY_GIB, RECOMMENDED_MEMORY_GIB = 4, 8
# MemTotal is what the kernel reports: a little under the RAM bought or the VM size set (a "4 GB"
# Docker Desktop VM reports about 3.8 GiB). Accept 90% of a threshold as meeting it.
MEMORY_TOLERANCE = 0.9
# Disk: the kind node image (~1 GiB unpacked) plus the platform and model images inside the node
# (several GiB), etcd and logs. 10 GiB free is the least that fits one install (FAIL below);
# 20 GiB leaves room for re-creating the cluster and newer images (WARN below).
MIN_DISK_FREE_GIB, RECOMMENDED_DISK_FREE_GIB = 10, 20
# kind's known issues, "Pod errors due to too many open files": inotify limits are not namespaced,
# so every container of the node shares the host's; distro defaults (8192 / 128 on Ubuntu) are
# too low. kind recommends these values.
# https://github.com/kubernetes-sigs/kind/blob/v0.32.0/site/content/docs/user/known-issues.md
INOTIFY_MIN = {"max_user_watches": 524288, "max_user_instances": 512}
INOTIFY_DIR = Path("/proc/sys/fs/inotify")

COMMAND_TIMEOUT = 20  # seconds; `docker info` can hang while Docker Desktop is starting
# The stack's config keys naming a port on 127.0.0.1 that the kind cluster maps to a NodePort:
# the Istio ingress and the model store's S3 API (MinIO). Docker must bind each, so each must be
# free (or already held by this stack's cluster), and they must differ.
HOST_PORT_KEYS = ("kindHostPort", "kindStoreHostPort")
TOOLS: dict[str, list[str]] = {
    "pulumi": ["version"],
    "docker": ["--version"],  # client only: works while the daemon is down
    "kind": ["version"],
    "kubectl": ["version", "--client", "-o", "json"],
}


@dataclass(frozen=True)
class Check:
    """The result of one check; `hint` says how to fix a WARN or FAIL (lines separated by \\n)."""

    name: str
    status: str
    message: str
    hint: str = ""


@dataclass(frozen=True)
class ToolRun:
    """One CLI: where it is on PATH (None: not found) and what its version command printed."""

    path: str | None = None
    output: str = ""
    error: str = ""
    """Why the version command failed (non-zero exit, timeout); empty when it ran."""


@dataclass(frozen=True)
class HostPort:
    """One of the stack's host ports (HOST_PORT_KEYS) as read from its config."""

    port: int | None = None
    """None when it could not be read (see `problem`)."""
    source: str = ""
    """Where the value came from: "default in Pulumi.yaml" or "set in stacks/Pulumi.<stack>.yaml"."""
    problem: str = ""
    """Why it could not be read; empty when it was."""


@dataclass(frozen=True)
class HostFacts:
    """Everything the checks look at, gathered once by `gather_facts()` (or faked by tests)."""

    stack: str
    host_os: str
    """sys.platform of this machine: linux, darwin, win32."""
    host_arch: str
    """This machine's CPU in Docker's naming (amd64, arm64), for download links."""
    hostname: str
    tools: Mapping[str, ToolRun] = field(default_factory=dict)
    docker_info: Mapping[str, Any] | None = None
    """`docker info --format '{{json .}}'`; None when the daemon did not answer."""
    docker_error: str = ""
    docker_root_free_bytes: int | None = None
    """Free bytes where Docker keeps its data; None when not measured."""
    inotify: Mapping[str, int] | None = None
    """fs.inotify limits by name; None when not read."""
    kind_clusters: tuple[str, ...] | None = None
    """`kind get clusters`; None when kind could not be asked."""
    host_ports: Mapping[str, HostPort] = field(default_factory=dict)
    """The stack's host ports by config key (HOST_PORT_KEYS); a missing key counts as unreadable."""
    target: str = "kind"
    """The stack's target, from its config file (default kind)."""
    serving: str = "kserve"
    """The stack's serving stack, from its config file (default kserve): what images it pulls."""
    kubeconfig: tuple[str, tuple[str, ...]] | None = None
    """existing: (the context named, the program's problems with the kubeconfig keys); None: not read."""
    gcp: GcpFacts | None = None
    """What a gcp stack needs from the machine; None on other targets."""
    aws: AwsFacts | None = None
    """What an aws stack needs from the machine; None on other targets."""


@dataclass(frozen=True)
class AwsFacts:
    """Where the AWS provider would find its region and credentials on this machine."""

    region: str = ""
    region_source: str = ""
    credentials: str = ""
    """Where credentials were found, e.g. 'AWS_PROFILE dev in ~/.aws/config'; empty: none."""


@dataclass(frozen=True)
class GcpFacts:
    """Where the Google provider would find its project and credentials on this machine."""

    project: str = ""
    """gcp:project from the stack's config, else the first of the provider's env fallbacks."""
    project_source: str = ""
    credentials: str = ""
    """Where credentials were found, e.g. 'GOOGLE_APPLICATION_CREDENTIALS (/path)'; empty: none."""
    credentials_problem: str = ""
    """Why a credentials source that was named is unusable (a missing file)."""


# --- Small parsers -------------------------------------------------------------------------------

_SEMVER = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.]+))?")


@dataclass(frozen=True, order=True)
class Version:
    """A semantic version; a pre-release sorts before its release, as semver says."""

    major: int
    minor: int
    patch: int
    release: bool = True
    """False for pre-releases (v0.32.0-alpha), so that they compare lower than v0.32.0."""
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.text or f"v{self.major}.{self.minor}.{self.patch}"


def parse_version(text: str) -> Version | None:
    """The first x.y.z version in `text` ("kind v0.32.0 go1.24.2 linux/amd64" -> v0.32.0)."""
    match = _SEMVER.search(text)
    if not match:
        return None
    major, minor, patch, pre = match.groups()
    return Version(int(major), int(minor), int(patch), pre is None, match.group(0))


def docker_arch(machine: str) -> str:
    """A CPU name as uname or Docker reports it, in the naming images use (x86_64 -> amd64)."""
    name = machine.strip().lower()
    return {"x86_64": "amd64", "x86-64": "amd64", "x64": "amd64", "aarch64": "arm64", "armv8": "arm64"}.get(name, name)


def docker_is_local(host_os: str, hostname: str, info: Mapping[str, Any] | None) -> bool:
    """Whether the Docker engine runs on this Linux machine rather than in a VM or elsewhere.

    Only then are this machine's inotify limits and disk the ones kind uses. Docker Desktop (also
    on Linux and in WSL2) runs a VM named docker-desktop; colima, remote hosts and contexts
    report their own host name. The daemon's Name is its host's hostname, so it must be ours.
    """
    if host_os != "linux" or not info:
        return False
    if "docker desktop" in str(info.get("OperatingSystem", "")).lower():
        return False
    return str(info.get("Name", "")) == hostname


def _gib(number: float) -> str:
    return f"{number / GIB:.1f} GiB"


# --- Install hints ---------------------------------------------------------------------------------


def install_hint(tool: str, host_os: str, arch: str) -> str:
    """How to install `tool` on this OS; short, copy-pastable, pinned where it matters."""
    arch = arch if arch in ("amd64", "arm64") else "amd64"
    kind_version = f"v{versions.KIND_MIN_CLI_VERSION}"
    kubectl_version = f"v{versions.KUBERNETES_VERSION}"
    if host_os == "darwin":
        return {
            "pulumi": "brew install pulumi/tap/pulumi",
            "docker": "install Docker Desktop: https://docs.docker.com/desktop/setup/install/mac-install/",
            "kind": "brew install kind",
            "kubectl": "brew install kubectl",
        }[tool]
    if host_os == "linux":
        return {
            "pulumi": "curl -fsSL https://get.pulumi.com | sh   (https://www.pulumi.com/docs/iac/download-install/)",
            "docker": "install Docker Engine: https://docs.docker.com/engine/install/ , then let your user "
            "run it: sudo usermod -aG docker $USER (log out and back in)",
            "kind": f"curl -Lo ./kind https://kind.sigs.k8s.io/dl/{kind_version}/kind-linux-{arch} "
            "&& chmod +x ./kind && sudo mv ./kind /usr/local/bin/kind",
            "kubectl": f"curl -LO https://dl.k8s.io/release/{kubectl_version}/bin/linux/{arch}/kubectl "
            "&& sudo install -m 0755 kubectl /usr/local/bin/kubectl",
        }[tool]
    # scripts/up.sh is bash, and kind wants Linux containers: on Windows, work inside WSL2.
    return (
        "servebox runs from a Linux shell: install WSL2 (wsl --install) and Docker Desktop with WSL "
        f"integration, then install {tool} inside WSL as on Linux"
    )


def upgrade_hint(tool: str, host_os: str, arch: str) -> str:
    """How to move `tool` to a newer version."""
    if host_os == "darwin":
        return f"brew upgrade {tool}"
    return install_hint(tool, host_os, arch)


# --- Checks: pure functions of the facts -------------------------------------------------------------


def check_tool(name: str, run: ToolRun | None, host_os: str, arch: str) -> Check:
    """A CLI that `pulumi up` needs (pulumi, docker): present, and answering its version command."""
    label = f"{name} CLI"
    if run is None or run.path is None:
        return Check(label, FAIL, f"{name} is not installed (not found on PATH)", install_hint(name, host_os, arch))
    if run.error:
        return Check(label, FAIL, f"{name} at {run.path} does not run: {run.error}", install_hint(name, host_os, arch))
    version = parse_version(run.output)
    shown = str(version) if version else (run.output.strip().splitlines() or ["unknown version"])[0]
    return Check(label, OK, f"{shown} ({run.path})")


def check_kind(run: ToolRun | None, host_os: str, arch: str) -> Check:
    """kind present and at least KIND_MIN_CLI_VERSION: older kind cannot run the pinned node image."""
    base = check_tool("kind", run, host_os, arch)
    if base.status != OK:
        return base
    assert run is not None and run.path is not None
    minimum = parse_version(versions.KIND_MIN_CLI_VERSION)
    found = parse_version(run.output)
    if found is None:
        return Check(
            base.name,
            WARN,
            f"could not read a version from `kind version` ({run.output.strip()!r}); "
            f"servebox needs kind v{versions.KIND_MIN_CLI_VERSION} or newer",
            upgrade_hint("kind", host_os, arch),
        )
    if minimum is not None and found < minimum:
        return Check(
            base.name,
            FAIL,
            f"kind {found} is older than v{versions.KIND_MIN_CLI_VERSION}, the oldest kind that runs the "
            f"pinned node image {versions.KIND_NODE.repository}:{versions.KIND_NODE.tag}",
            upgrade_hint("kind", host_os, arch),
        )
    return Check(base.name, OK, f"{found} ({run.path})")


def check_kubectl(run: ToolRun | None, host_os: str, arch: str) -> Check:
    """kubectl: `pulumi up` does not use it, so missing is a WARN; users need it to look inside.

    Kubernetes supports kubectl within one minor version of the API server (kubernetes.io
    version-skew policy); kind's known issues list skew as a common cause of odd kubectl errors.
    """
    name = "kubectl"
    if run is None or run.path is None:
        return Check(
            name,
            WARN,
            "kubectl is not installed (not found on PATH); pulumi up does not need it, but you will to "
            "look inside the cluster",
            install_hint("kubectl", host_os, arch),
        )
    if run.error:
        return Check(name, WARN, f"kubectl at {run.path} does not run: {run.error}", install_hint(name, host_os, arch))
    try:
        git_version = str(json.loads(run.output)["clientVersion"]["gitVersion"])
    except (ValueError, KeyError, TypeError):
        git_version = run.output
    found = parse_version(git_version)
    server = parse_version(versions.KUBERNETES_VERSION)
    if found is None or server is None:
        return Check(name, WARN, f"could not read kubectl's version from {run.output.strip()[:80]!r}")
    if found.major != server.major or abs(found.minor - server.minor) > 1:
        return Check(
            name,
            WARN,
            f"kubectl {found} is more than one minor version away from the cluster's Kubernetes "
            f"v{versions.KUBERNETES_VERSION}; some kubectl commands may fail",
            install_hint("kubectl", host_os, arch),
        )
    return Check(name, OK, f"{found} ({run.path})")


def check_docker_daemon(facts: HostFacts) -> Check:
    """The Docker daemon answers, lets this user in, and runs Linux containers (kind needs them)."""
    name = "docker daemon"
    docker = facts.tools.get("docker")
    if docker is None or docker.path is None:
        return Check(name, FAIL, "not checked: the docker CLI is not installed (see above)")
    info = facts.docker_info
    if info is None:
        error = facts.docker_error.strip().splitlines()[0] if facts.docker_error.strip() else "no answer"
        if "permission denied" in error.lower():
            return Check(
                name,
                FAIL,
                f"Docker is running but this user may not use it: {error}",
                "sudo usermod -aG docker $USER, then log out and back in (or run: newgrp docker)",
            )
        if facts.host_os == "darwin":
            start = "start Docker Desktop (open -a Docker) and wait until it says it is running"
        elif facts.host_os == "linux":
            start = "sudo systemctl start docker (Docker Engine), or start Docker Desktop"
        else:
            start = "start Docker Desktop"
        return Check(name, FAIL, f"Docker is installed but the daemon is not running ({error})", start)
    if str(info.get("OSType", "linux")).lower() != "linux":
        return Check(
            name,
            FAIL,
            f"Docker runs {info.get('OSType')} containers; kind needs Linux containers",
            "Docker Desktop: right-click the whale icon → Switch to Linux containers",
        )
    return Check(
        name,
        OK,
        f"Docker {info.get('ServerVersion', '?')} on {info.get('OperatingSystem', '?')} "
        f"({info.get('Architecture', '?')}, {info.get('NCPU', '?')} CPUs, {_gib(int(info.get('MemTotal', 0)))})",
    )


def _not_checked(name: str) -> Check:
    return Check(name, WARN, "not checked: needs a running Docker daemon (see docker daemon)")


def _resources_hint(facts: HostFacts, what: str) -> str:
    if docker_is_local(facts.host_os, facts.hostname, facts.docker_info):
        return f"Docker uses this machine's own {what}: close other programs, or use a bigger machine"
    return (
        f"give Docker's VM more {what}: Docker Desktop → Settings → Resources, then Apply & restart "
        "(colima: colima start --cpu 4 --memory 8)"
    )


def check_cpus(facts: HostFacts) -> Check:
    """CPUs Docker has: the node's CPU is exactly this, and requests alone need ~2 (see MIN_CPUS)."""
    name = "docker CPUs"
    if facts.docker_info is None:
        return _not_checked(name)
    cpus = int(facts.docker_info.get("NCPU", 0))
    if cpus < MIN_CPUS:
        return Check(
            name,
            FAIL,
            f"Docker has {cpus} CPU{'s' if cpus != 1 else ''}; servebox needs at least {MIN_CPUS} "
            f"({RECOMMENDED_CPUS} recommended)",
            _resources_hint(facts, "CPUs"),
        )
    if cpus < RECOMMENDED_CPUS:
        return Check(
            name,
            WARN,
            f"Docker has {cpus} CPUs; it works, but {RECOMMENDED_CPUS} are recommended for a quick install",
            _resources_hint(facts, "CPUs"),
        )
    return Check(name, OK, f"{cpus} CPUs")


def check_memory(facts: HostFacts) -> Check:
    """Memory Docker has (see MIN_MEMORY_GIB for why 4 GiB, and MEMORY_TOLERANCE)."""
    name = "docker memory"
    if facts.docker_info is None:
        return _not_checked(name)
    total = int(facts.docker_info.get("MemTotal", 0))
    if total < MIN_MEMORY_GIB * GIB * MEMORY_TOLERANCE:
        return Check(
            name,
            FAIL,
            f"Docker has {_gib(total)} of memory; servebox needs at least {MIN_MEMORY_GIB} GiB "
            f"({RECOMMENDED_MEMORY_GIB} GiB recommended)",
            _resources_hint(facts, "memory"),
        )
    if total < RECOMMENDED_MEMORY_GIB * GIB * MEMORY_TOLERANCE:
        return Check(
            name,
            WARN,
            f"Docker has {_gib(total)} of memory; it works, but {RECOMMENDED_MEMORY_GIB} GiB are recommended",
            _resources_hint(facts, "memory"),
        )
    return Check(name, OK, _gib(total))


def check_disk(facts: HostFacts) -> Check:
    """Free space where Docker stores images and the node's filesystem.

    Measured only when the engine is local (statvfs of DockerRootDir); Docker Desktop, colima and
    remote engines keep their data inside a VM whose free space this machine cannot see.
    """
    name = "docker disk"
    info = facts.docker_info
    if info is None:
        return _not_checked(name)
    root = str(info.get("DockerRootDir", "")) or "the Docker data directory"
    need = f"servebox needs at least {MIN_DISK_FREE_GIB} GiB free ({RECOMMENDED_DISK_FREE_GIB} GiB recommended)"
    if not docker_is_local(facts.host_os, facts.hostname, info):
        return Check(
            name,
            WARN,
            f"could not measure: Docker keeps its data inside a VM ({info.get('OperatingSystem', '?')}); {need}",
            "Docker Desktop → Settings → Resources → Disk usage limit; `docker system df` shows what "
            "Docker uses, `docker system prune` frees unused data",
        )
    free = facts.docker_root_free_bytes
    if free is None:
        return Check(name, WARN, f"could not measure free space at {root}; {need}", f"check with: df -h {root}")
    prune = (
        f"free space on the filesystem of {root}: `docker system prune` removes stopped containers "
        "and dangling images (add -a for all unused images)"
    )
    if free < MIN_DISK_FREE_GIB * GIB:
        return Check(name, FAIL, f"{_gib(free)} free at {root}; {need}", prune)
    if free < RECOMMENDED_DISK_FREE_GIB * GIB:
        return Check(name, WARN, f"{_gib(free)} free at {root}; {RECOMMENDED_DISK_FREE_GIB} GiB recommended", prune)
    return Check(name, OK, f"{_gib(free)} free at {root}")


def check_inotify(limits: Mapping[str, int] | None) -> Check:
    """Linux inotify limits at least kind's recommendation (see INOTIFY_MIN)."""
    name = "inotify limits"
    if limits is None:
        return Check(name, WARN, f"could not read {INOTIFY_DIR}/max_user_watches and max_user_instances")
    low = {key: minimum for key, minimum in INOTIFY_MIN.items() if limits.get(key, 0) < minimum}
    if not low:
        return Check(name, OK, ", ".join(f"{key} {limits[key]}" for key in INOTIFY_MIN))
    # Only the low ones are raised: setting both would lower a limit someone already set higher.
    settings = [f"fs.inotify.{key}={value}" for key, value in low.items()]
    persist = " ".join(f"'fs.inotify.{key} = {value}'" for key, value in low.items())
    return Check(
        name,
        FAIL,
        "inotify limits too low for kind (pods fail with 'too many open files'): "
        + ", ".join(f"{key} {limits.get(key, 0)} (needs {value})" for key, value in low.items()),
        f"sudo sysctl {' '.join(settings)}\n"
        f"to keep it after a reboot: printf '%s\\n' {persist} | sudo tee /etc/sysctl.d/99-kind.conf",
    )


def check_architecture(facts: HostFacts, images: Iterable[versions.Image] | None = None) -> Check:
    """Every image the stack pulls has a build for Docker's CPU.

    containerd inside the kind node pulls for the node's own platform, so an amd64-only image on an
    arm64 node (Apple Silicon, Graviton) fails to pull, or at best runs under whatever emulation
    the Docker VM happens to register; servebox does not count on that.
    """
    name = "architecture"
    if facts.docker_info is None:
        return _not_checked(name)
    raw = str(facts.docker_info.get("Architecture", ""))
    arch = docker_arch(raw)
    pulled = tuple(versions.images(facts.serving) if images is None else images)  # called now: picks up new images
    missing = [image for image in pulled if arch not in image.architectures]
    if missing:
        listed = "; ".join(f"{image.ref} ({', '.join(sorted(image.architectures))})" for image in missing)
        have = sorted({a for image in missing for a in image.architectures})
        return Check(
            name,
            FAIL,
            f"Docker runs linux/{arch} ({raw}), but {len(missing)} image{'s' if len(missing) != 1 else ''} "
            f"the stack pulls {'have' if len(missing) != 1 else 'has'} no linux/{arch} build: {listed}",
            f"use a machine whose Docker runs {' or '.join('linux/' + a for a in have)} (a cloud VM or CI "
            f"runner), or pin versions of these images that publish linux/{arch} in components/versions.py",
        )
    return Check(name, OK, f"all {len(pulled)} images publish linux/{arch}")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a listener could bind host:port now, as Docker's port mapping will."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if os.name == "posix":
            # Docker's proxy (a Go listener) sets SO_REUSEADDR, so connections lingering in
            # TIME_WAIT do not block it; do the same so that they do not count as "in use" here.
            # A live listener still makes bind fail.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def check_host_port(facts: HostFacts, key: str, is_free: Callable[[int], bool] = port_is_free) -> Check:
    """The stack's host port `key` is free on 127.0.0.1, or this stack's kind cluster already holds it."""
    name = f"host port ({key})"
    stack = stack_name(facts.stack)
    setting = facts.host_ports.get(key, HostPort())
    if setting.problem or setting.port is None:
        default = config.config_schema()[key].default
        return Check(
            name,
            FAIL,
            setting.problem or f"{key} could not be read",
            f"servebox up {stack} --set {key}={default}",
        )
    port = setting.port
    cluster = naming.kind_cluster_name(config.project_name(), stack)
    if facts.kind_clusters is not None and cluster in facts.kind_clusters:
        return Check(name, OK, f"kind cluster {cluster} exists; port {port} is in use by it")
    if is_free(port):
        return Check(name, OK, f"127.0.0.1:{port} is free ({setting.source})")
    # Suggest a port the user can set as is: free now, and not one the other keys already claim
    # (that would only trade this FAIL for the same-port one).
    claimed = {other.port for other_key, other in facts.host_ports.items() if other_key != key}
    candidates = [p for p in range(port + 1, min(port + 21, 65536)) if p not in claimed]
    suggestion = next((p for p in candidates if is_free(p)), candidates[0] if candidates else port + 1)
    return Check(
        name,
        FAIL,
        f"127.0.0.1:{port} ({key}, {setting.source}) is already in use by another program; "
        f"the kind cluster of stack {stack} needs it",
        f"servebox up {stack} --set {key}={suggestion}   "
        f"(or stop what listens there: lsof -nP -iTCP:{port} -sTCP:LISTEN)",
    )


def check_distinct_host_ports(facts: HostFacts) -> list[Check]:
    """A FAIL for each pair of host port keys set to the same port: Docker cannot map one host
    port to two NodePorts, and the stack's config validation refuses it too. Pairs where either
    side is unreadable are skipped; their own checks already FAIL."""
    stack = stack_name(facts.stack)
    checks = []
    for first, second in combinations(HOST_PORT_KEYS, 2):
        port = facts.host_ports.get(first, HostPort()).port
        if port is None or port != facts.host_ports.get(second, HostPort()).port:
            continue
        # Move the later key, as the config validation's fix does; 65535 has no port above it.
        other = port + 1 if port < 65535 else port - 1
        checks.append(
            Check(
                "host ports",
                FAIL,
                f"{first} and {second} are both {port}; they must differ",
                f"servebox up {stack} --set {second}={other}",
            )
        )
    return checks


def check_gcp_credentials(gcp: GcpFacts) -> Check:
    """Credentials where the Google provider looks for them (its `credentials` config, the
    GOOGLE_CREDENTIALS family of env vars, an access token, GOOGLE_APPLICATION_CREDENTIALS, then
    gcloud's application-default credentials file)."""
    name = "GCP credentials"
    if gcp.credentials_problem:
        return Check(
            name,
            FAIL,
            gcp.credentials_problem,
            "point it at a readable key file, or unset it and run: gcloud auth application-default login",
        )
    if not gcp.credentials:
        return Check(
            name,
            FAIL,
            "no credentials where the Google provider looks (gcp:credentials, GOOGLE_CREDENTIALS, "
            "GOOGLE_OAUTH_ACCESS_TOKEN, GOOGLE_APPLICATION_CREDENTIALS, gcloud's application-default file)",
            "gcloud auth application-default login",
        )
    return Check(name, OK, f"found: {gcp.credentials}")


def check_gcp_project(gcp: GcpFacts, stack: str) -> Check:
    """The project the VM and the bucket go in."""
    if not gcp.project:
        return Check(
            "gcp:project",
            FAIL,
            f"not set for stack {stack} (nor {', '.join(config.GCP_PROJECT_ENV)} in the environment)",
            # Before the first up the stack may not exist yet, and `pulumi config set` needs it to.
            f"servebox up {stack} --set gcp:project=<project-id>   (or add the line `  gcp:project: <project-id>` "
            f"under `config:` in stacks/Pulumi.{stack}.yaml)",
        )
    return Check("gcp:project", OK, f"{gcp.project} ({gcp.project_source})")


def check_aws_credentials(aws: AwsFacts) -> Check:
    """Credentials where the AWS provider looks (its SDK's default chain, as far as files and the
    environment show it: keys, a profile, web identity, container credentials)."""
    name = "AWS credentials"
    if not aws.credentials:
        return Check(
            name,
            FAIL,
            "no credentials where the AWS provider looks (AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws/credentials, "
            "~/.aws/config with SSO, AWS_WEB_IDENTITY_TOKEN_FILE, container credentials)",
            "aws configure sso (or aws configure), then export AWS_PROFILE=<profile>",
        )
    return Check(name, OK, f"found: {aws.credentials}")


def check_aws_region(aws: AwsFacts, stack: str) -> Check:
    """The region the instance and the bucket go in."""
    if not aws.region:
        return Check(
            "aws:region",
            FAIL,
            f"not set for stack {stack} (nor {', '.join(config.AWS_REGION_ENV)} in the environment)",
            f"servebox up {stack} --set aws:region=us-east-1   (or add the line `  aws:region: us-east-1` "
            f"under `config:` in stacks/Pulumi.{stack}.yaml)",
        )
    return Check("aws:region", OK, f"{aws.region} ({aws.region_source})")


def run_checks(facts: HostFacts, is_free: Callable[[int], bool] = port_is_free) -> list[Check]:
    """Every check the stack's target needs, in the order a user fixes things."""
    tools = facts.tools
    if facts.target == config.Target.EXISTING.value:
        # The cluster is the user's: its kubeconfig and context, with the program's own messages
        # (components/config.py); the store's fit is the program's to check, at up.
        return [check_tool("pulumi", tools.get("pulumi"), facts.host_os, facts.host_arch), *check_kubeconfig(facts)]
    if facts.target == config.Target.AWS.value:
        aws = facts.aws or AwsFacts()
        return [
            check_tool("pulumi", tools.get("pulumi"), facts.host_os, facts.host_arch),
            check_aws_credentials(aws),
            check_aws_region(aws, stack_name(facts.stack)),
        ]
    if facts.target == config.Target.GCP.value:
        gcp = facts.gcp or GcpFacts()
        stack = stack_name(facts.stack)
        return [
            check_tool("pulumi", tools.get("pulumi"), facts.host_os, facts.host_arch),
            check_gcp_credentials(gcp),
            check_gcp_project(gcp, stack),
        ]
    checks = [
        check_tool("pulumi", tools.get("pulumi"), facts.host_os, facts.host_arch),
        check_tool("docker", tools.get("docker"), facts.host_os, facts.host_arch),
        check_kind(tools.get("kind"), facts.host_os, facts.host_arch),
        check_kubectl(tools.get("kubectl"), facts.host_os, facts.host_arch),
        check_docker_daemon(facts),
        check_cpus(facts),
        check_memory(facts),
        check_disk(facts),
    ]
    if facts.inotify is not None or docker_is_local(facts.host_os, facts.hostname, facts.docker_info):
        checks.append(check_inotify(facts.inotify))
    checks.append(check_architecture(facts))
    checks.extend(check_host_port(facts, key, is_free) for key in HOST_PORT_KEYS)
    checks.extend(check_distinct_host_ports(facts))
    return checks


# --- Stack config --------------------------------------------------------------------------------


def stack_name(stack: str) -> str:
    """The stack's own name: `org/project/name` and `org/name` both become `name`, as Pulumi does
    for the stack config file and for pulumi.get_stack() (and so for the kind cluster name)."""
    return stack.rsplit("/", 1)[-1]


def stack_settings(stack: str, stacks_dir: Path = STACKS_DIR) -> dict[str, Any]:
    """The `config:` block of stacks/Pulumi.<stack>.yaml ({} when the file is absent or unreadable:
    the program's own validation reports that), with this run's `--set` values (OVERRIDES) over it."""
    path = stacks_dir / f"Pulumi.{stack_name(stack)}.yaml"
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        document = {}
    settings = document.get("config") if isinstance(document, dict) else None
    settings = dict(settings) if isinstance(settings, dict) else {}
    for key, value in OVERRIDES.items():
        full = key if ":" in key else f"{config.project_name()}:{key}"
        settings.pop(key, None)
        settings[full] = value
    return settings


def stack_value(stack: str, key: str, stacks_dir: Path = STACKS_DIR) -> str:
    """The stack's `key` (its config file, else the Pulumi.yaml default)."""
    settings = stack_settings(stack, stacks_dir)
    value = settings.get(f"{config.project_name()}:{key}", settings.get(key))
    return str(value if value is not None else config.config_schema()[key].default)


def stack_target(stack: str, stacks_dir: Path = STACKS_DIR) -> str:
    """The stack's `target` (its config file, else the Pulumi.yaml default)."""
    return stack_value(stack, "target", stacks_dir)


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


def stack_host_port(stack: str, key: str, stacks_dir: Path = STACKS_DIR) -> tuple[int, str]:
    """The stack's host port `key` and where it came from; ValueError saying what is wrong with it."""
    project = config.project_name()
    path = stacks_dir / f"Pulumi.{stack_name(stack)}.yaml"
    value: Any = None
    source = "default in Pulumi.yaml"
    if path.is_file():
        try:
            document = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"could not read {path}: {exc}") from exc
        settings = document.get("config") if isinstance(document, dict) else None
        settings = settings if isinstance(settings, dict) else {}
        for name in (f"{project}:{key}", key):
            if settings.get(name) is not None:
                value, source = settings[name], f"set in {path.relative_to(stacks_dir.parent)}"
                break
    if key in OVERRIDES:
        value, source = OVERRIDES[key], "--set"
    if value is None:
        value = config.config_schema()[key].default
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or not 1024 <= int(text) <= 65535:
        raise ValueError(f"{key} is {value!r} ({source}), not a port from 1024 to 65535")
    return int(text), source


def read_host_port(stack: str, key: str, stacks_dir: Path) -> HostPort:
    """`stack_host_port` as a HostPort, a problem kept for the check to report instead of raised."""
    try:
        port, source = stack_host_port(stack, key, stacks_dir)
    except ValueError as exc:
        return HostPort(problem=str(exc))
    return HostPort(port, source)


# --- Gathering facts: the only part that runs commands ---------------------------------------------


def _run(argv: Sequence[str], timeout: int = COMMAND_TIMEOUT) -> tuple[int, str, str]:
    """Run a command without a shell; (exit code, stdout, stderr). Timeouts become exit code -1."""
    env = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}  # no network call from `pulumi version`
    try:
        done = subprocess.run(
            list(argv), check=False, capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        return -1, "", f"`{' '.join([Path(argv[0]).name, *argv[1:]])}` did not answer within {timeout} s"
    except OSError as exc:
        return -1, "", str(exc)
    return done.returncode, done.stdout, done.stderr


Runner = Callable[[Sequence[str]], tuple[int, str, str]]


def tool_is_usable(name: str, run: Runner = _run) -> bool:
    """Whether `name` (pulumi, kind) is on PATH at a version servebox accepts; else `servebox up`
    fetches the pinned release (servebox/toolfetch.py)."""
    found = _tool(name, run)
    if found.path is None or found.error:
        return False
    version = parse_version(found.output)
    minimum = parse_version(versions.KIND_MIN_CLI_VERSION if name == "kind" else MINIMUM_PULUMI_CLI)
    return version is not None and minimum is not None and version >= minimum


def _tool(name: str, run: Runner) -> ToolRun:
    path = shutil.which(name)
    if path is None:
        return ToolRun()
    code, out, err = run([path, *TOOLS[name]])
    if code != 0:
        return ToolRun(path, out, (err.strip() or out.strip() or f"exit code {code}").splitlines()[0])
    return ToolRun(path, out)


def _docker_info(docker: ToolRun, run: Runner) -> tuple[dict[str, Any] | None, str]:
    if docker.path is None:
        return None, "docker is not installed"
    code, out, err = run([docker.path, "info", "--format", "{{json .}}"])
    try:
        info = json.loads(out)
    except ValueError:
        info = None
    # A daemon that cannot be reached may still yield JSON, with the reason in ServerErrors.
    server_errors = (info.get("ServerErrors") if isinstance(info, dict) else None) or []
    if code != 0 or server_errors or not isinstance(info, dict) or not info.get("ServerVersion"):
        return None, "; ".join(server_errors) or err.strip() or out.strip() or f"exit code {code}"
    return info, ""


def _read_inotify() -> dict[str, int] | None:
    try:
        return {key: int((INOTIFY_DIR / key).read_text().strip()) for key in INOTIFY_MIN}
    except (OSError, ValueError):
        return None


def gather_facts(stack: str, run: Runner = _run) -> HostFacts:
    """Look at this machine: tools, Docker, disk, inotify, kind clusters, the stack's ports; on a
    gcp stack only the Pulumi CLI and where the Google provider would find a project and credentials."""
    host_os, hostname = sys.platform, socket.gethostname()
    target = stack_target(stack, STACKS_DIR)
    if target == config.Target.EXISTING.value:
        return HostFacts(
            stack=stack,
            host_os=host_os,
            host_arch=docker_arch(platform.machine()),
            hostname=hostname,
            tools={"pulumi": _tool("pulumi", run)},
            target=target,
            kubeconfig=existing_kubeconfig(stack_settings(stack, STACKS_DIR)),
        )
    if target in (config.Target.GCP.value, config.Target.AWS.value):
        settings, home = stack_settings(stack, STACKS_DIR), Path.home()
        on_gcp = target == config.Target.GCP.value
        return HostFacts(
            stack=stack,
            host_os=host_os,
            host_arch=docker_arch(platform.machine()),
            hostname=hostname,
            tools={"pulumi": _tool("pulumi", run)},
            target=target,
            gcp=GcpFacts(*gcp_project(os.environ, settings), *gcp_credentials(os.environ, home, settings)) if on_gcp else None,
            aws=None if on_gcp else AwsFacts(*aws_region(os.environ, settings), aws_credentials(os.environ, home, settings)),
        )
    tools = {name: _tool(name, run) for name in TOOLS}
    info, docker_error = _docker_info(tools["docker"], run)
    local = docker_is_local(host_os, hostname, info)

    free = None
    if local and info and info.get("DockerRootDir"):
        try:
            free = shutil.disk_usage(str(info["DockerRootDir"])).free
        except OSError:
            free = None
    # inotify: when the engine runs here; also when Docker is down on Linux, where it most likely
    # will run here once started (the limits can then be fixed in the same round).
    inotify = _read_inotify() if local or (host_os == "linux" and info is None) else None

    clusters = None
    kind = tools["kind"]
    if kind.path and info is not None:
        code, out, _ = run([kind.path, "get", "clusters"])
        clusters = tuple(line.strip() for line in out.splitlines() if line.strip()) if code == 0 else None

    # STACKS_DIR looked up now, not bound as a default, so that tests can point it elsewhere.
    host_ports = {key: read_host_port(stack, key, STACKS_DIR) for key in HOST_PORT_KEYS}

    return HostFacts(
        stack=stack,
        host_os=host_os,
        host_arch=docker_arch(platform.machine()),
        hostname=hostname,
        serving=stack_value(stack, "serving", STACKS_DIR),
        tools=tools,
        docker_info=info,
        docker_error=docker_error,
        docker_root_free_bytes=free,
        inotify=inotify,
        kind_clusters=clusters,
        host_ports=host_ports,
    )


# --- Output and entry point --------------------------------------------------------------------------


def render(checks: Sequence[Check], stack: str) -> str:
    """The human report: one line per check, fixes indented under it, a summary last."""
    width = max(len(check.name) for check in checks)
    lines = [f"servebox preflight for stack {stack}"]
    for check in checks:
        lines.append(f"  {check.status:<4}  {check.name:<{width}}  {check.message}")
        if check.hint and check.status != OK:
            pad = " " * (width + 10)
            for number, hint_line in enumerate(check.hint.splitlines()):
                lines.append(f"{pad}{'fix: ' if number == 0 else '     '}{hint_line}")
    failed = sum(check.status == FAIL for check in checks)
    warned = sum(check.status == WARN for check in checks)
    warnings = f"{warned} warning{'s' if warned != 1 else ''}"
    if failed:
        lines.append(
            f"{failed} check{'s' if failed != 1 else ''} failed, {warnings}: fix the FAIL lines and run again."
        )
    else:
        lines.append(f"Ready for pulumi up ({warnings}).")
    return "\n".join(lines)


def existing_kubeconfig(settings: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The program's verdict on an existing stack's kubeconfig keys, from the stack file (and --set).
    A `kubeconfig` held as a secret (`secure:`) cannot be read here: the program checks it at up."""
    prefix = f"{config.project_name()}:"
    raw = {key[len(prefix) :]: value for key, value in settings.items() if key.startswith(prefix)}
    raw = {key: raw[key] for key in ("kubeconfigPath", "kubeContext", "kubeconfig") if key in raw}
    secret = isinstance(raw.get("kubeconfig"), dict)
    if secret:
        return "(a secret kubeconfig: checked by the program at up)", ()
    context, problems = config.kubeconfig_problems({key: str(value) for key, value in raw.items()})
    return context, tuple(problems)


def check_kubeconfig(facts: HostFacts) -> list[Check]:
    """One OK for a kubeconfig and context the program will accept, else a FAIL per problem."""
    if facts.kubeconfig is None:
        return [Check("kubeconfig", WARN, "not checked")]
    context, problems = facts.kubeconfig
    if not problems:
        return [Check("kubeconfig", OK, f"context {context}" if not context.startswith("(") else context)]
    checks = []
    for problem in problems:
        message, _, fix = problem.partition(" Fix: ")
        checks.append(Check(message.split(":", 1)[0], FAIL, message.split(":", 1)[1].strip(), fix))
    return checks


def check_stack_file(stack: str, stacks_dir: Path) -> Check | None:
    """A FAIL naming the stacks that exist when STACK has no stack file, else None: its target, and so
    every other check, would be a guess."""
    name = stack_name(stack)
    if (stacks_dir / f"Pulumi.{name}.yaml").is_file():
        return None
    known = sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in stacks_dir.glob("Pulumi.*.yaml"))
    return Check(
        "stack",
        FAIL,
        f"no stack {name!r}: there is no {stacks_dir.name}/Pulumi.{name}.yaml; the stacks here are "
        f"{', '.join(known) or 'none'}",
        f"use one of them, or make it: cp {stacks_dir.name}/Pulumi.kind.yaml {stacks_dir.name}/Pulumi.{name}.yaml",
    )


def main(
    argv: Sequence[str] | None = None,
    gather: Callable[[str], HostFacts] = gather_facts,
    is_free: Callable[[int], bool] = port_is_free,
    stacks_dir: Path | None = None,
) -> int:
    """Gather, check, print; 0 when nothing FAILs, else 2 (a missing prerequisite: servebox/outcomes.py).
    `stacks_dir` is where the stack files are (default STACKS_DIR)."""
    parser = argparse.ArgumentParser(description="Check this machine before `pulumi up` on a servebox stack.")
    parser.add_argument("--stack", default=DEFAULT_STACK, help=f"Pulumi stack name (default: {DEFAULT_STACK})")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON instead of text")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="a config value this run will set on the stack (as servebox up --set)")
    args = parser.parse_args(argv)
    OVERRIDES.clear()
    OVERRIDES.update(pair.partition("=")[::2] for pair in args.settings)

    unknown = check_stack_file(args.stack, STACKS_DIR if stacks_dir is None else stacks_dir)
    checks = [unknown] if unknown else run_checks(gather(args.stack), is_free)
    ok = not any(check.status == FAIL for check in checks)
    if args.json:
        print(json.dumps({"stack": args.stack, "ok": ok, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        print(render(checks, args.stack))
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
