"""The kind target's machine: Docker (daemon, CPUs, memory, disk, architecture), kind, kubectl, the
inotify limits and the host ports."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from itertools import combinations
from pathlib import Path
from typing import Any

from components import config, naming, versions
from servebox.preflight.facts import (
    FAIL,
    GIB,
    OK,
    WARN,
    Check,
    HostFacts,
    HostPort,
    Runner,
    ToolRun,
    _gib,
    check_tool,
    docker_arch,
    install_hint,
    parse_version,
    upgrade_hint,
)
from servebox.preflight.stackfile import HOST_PORT_KEYS, stack_name

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
