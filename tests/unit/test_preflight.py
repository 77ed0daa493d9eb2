"""servebox/preflight.py (servebox preflight, scripts/preflight.py): every check, fed fake host facts, on each of its OK / WARN / FAIL paths.

No tool is needed: the checks are pure functions of `HostFacts`. The port check binds real
sockets on 127.0.0.1, and `gather_facts` runs against a fake command runner. The shell scripts
are checked in test_shell_scripts.py.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from components import versions
from components.versions import Image
from servebox import preflight as pf

REPO = Path(__file__).resolve().parents[2]
GIB = 2**30
PINNED_IMAGES = versions.images()
REAL_IMAGES = versions.images  # before the autouse fixture below pins a fake
AMD64_ONLY = Image("example.io/model-runtime", "1.0", frozenset({"amd64"}), "a test fact")
BOTH = Image("example.io/controller", "2.0", versions.AMD64_ARM64, "a test fact", digest="sha256:feed")


@pytest.fixture(autouse=True)
def pins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fixed pins, so that the exact messages below do not move when versions.py does."""
    monkeypatch.setattr(versions, "KIND_MIN_CLI_VERSION", "0.32.0")
    monkeypatch.setattr(versions, "KUBERNETES_VERSION", "1.33.12")
    monkeypatch.setattr(versions, "KIND_NODE", Image("kindest/node", "v1.33.12", versions.AMD64_ARM64, "a test fact", digest="sha256:abc"))
    monkeypatch.setattr(versions, "images", lambda serving="kserve": (BOTH,))


def info(**overrides: Any) -> dict[str, Any]:
    """`docker info` of a healthy local Docker Engine on a Linux machine named `box`."""
    return {
        "Name": "box",
        "ServerVersion": "27.3.1",
        "OperatingSystem": "Ubuntu 24.04.1 LTS",
        "OSType": "linux",
        "Architecture": "x86_64",
        "NCPU": 8,
        "MemTotal": 16 * GIB,
        "DockerRootDir": "/var/lib/docker",
        **overrides,
    }


DESKTOP = {"Name": "docker-desktop", "OperatingSystem": "Docker Desktop", "Architecture": "aarch64"}

TOOLS = {
    "pulumi": pf.ToolRun("/usr/bin/pulumi", "v3.150.0\n"),
    "docker": pf.ToolRun("/usr/bin/docker", "Docker version 27.3.1, build ce12230\n"),
    "kind": pf.ToolRun("/usr/bin/kind", "kind v0.32.0 go1.24.2 linux/amd64\n"),
    "kubectl": pf.ToolRun("/usr/bin/kubectl", json.dumps({"clientVersion": {"gitVersion": "v1.33.1"}})),
}


def facts(**overrides: Any) -> pf.HostFacts:
    """A machine where every check passes, changed by `overrides`."""
    base = pf.HostFacts(
        stack="kind",
        host_os="linux",
        host_arch="amd64",
        hostname="box",
        tools=TOOLS,
        docker_info=info(),
        docker_root_free_bytes=100 * GIB,
        inotify={"max_user_watches": 524288, "max_user_instances": 512},
        kind_clusters=(),
        host_ports=ports(),
    )
    return dataclasses.replace(base, **overrides)


DEFAULT = "default in Pulumi.yaml"


def ports(
    host: pf.HostPort | int | None = 8080, store: pf.HostPort | int | None = 8081
) -> dict[str, pf.HostPort]:
    """HostFacts.host_ports: a number is that port from Pulumi.yaml's defaults; None leaves the key out."""
    given = {"kindHostPort": host, "kindStoreHostPort": store}
    return {
        key: value if isinstance(value, pf.HostPort) else pf.HostPort(value, DEFAULT)
        for key, value in given.items()
        if value is not None
    }


def with_tool(name: str, run: pf.ToolRun | None) -> dict[str, pf.ToolRun]:
    tools = dict(TOOLS)
    if run is None:
        del tools[name]
    else:
        tools[name] = run
    return tools


def always_free(port: int) -> bool:
    return True


# --- The whole run ---------------------------------------------------------------------------------


def test_a_healthy_machine_passes_every_check() -> None:
    checks = pf.run_checks(facts(), is_free=always_free)
    assert [(c.name, c.status) for c in checks] == [
        ("pulumi CLI", "OK"),
        ("docker CLI", "OK"),
        ("kind CLI", "OK"),
        ("kubectl", "OK"),
        ("docker daemon", "OK"),
        ("docker CPUs", "OK"),
        ("docker memory", "OK"),
        ("docker disk", "OK"),
        ("inotify limits", "OK"),
        ("architecture", "OK"),
        ("host port (kindHostPort)", "OK"),
        ("host port (kindStoreHostPort)", "OK"),
    ]


def test_inotify_is_checked_only_when_docker_runs_on_this_linux_machine() -> None:
    mac = facts(host_os="darwin", docker_info=info(**DESKTOP), inotify=None)
    assert "inotify limits" not in [c.name for c in pf.run_checks(mac, is_free=always_free)]


# --- Parsers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind v0.32.0 go1.24.2 linux/amd64", (0, 32, 0, True)),
        ("kind v0.33.0-alpha+0ab1e6b9b9 go1.24.2 linux/arm64", (0, 33, 0, False)),
        ("v3.150.0", (3, 150, 0, True)),
        ("Docker version 27.3.1, build ce12230", (27, 3, 1, True)),
        ("no version here", None),
    ],
)
def test_parse_version(text: str, expected: tuple[int, int, int, bool] | None) -> None:
    found = pf.parse_version(text)
    assert (None if found is None else (found.major, found.minor, found.patch, found.release)) == expected


def test_a_pre_release_sorts_before_its_release() -> None:
    alpha, release, patch = (pf.parse_version(text) for text in ("v0.32.0-alpha", "v0.32.0", "v0.32.1"))
    assert alpha is not None and release is not None and patch is not None
    assert alpha < release < patch


@pytest.mark.parametrize(
    ("machine", "arch"),
    [
        ("x86_64", "amd64"),
        ("amd64", "amd64"),
        ("AMD64", "amd64"),
        ("aarch64", "arm64"),
        ("arm64", "arm64"),
        ("s390x", "s390x"),
    ],
)
def test_docker_arch(machine: str, arch: str) -> None:
    assert pf.docker_arch(machine) == arch


@pytest.mark.parametrize(
    ("host_os", "docker", "local"),
    [
        ("linux", info(), True),
        ("linux", info(**DESKTOP), False),  # Docker Desktop for Linux or WSL2: a VM
        ("linux", info(Name="colima"), False),
        ("linux", info(Name="build-server-7"), False),  # DOCKER_HOST / a context elsewhere
        ("darwin", info(), False),
        ("linux", None, False),
    ],
)
def test_docker_is_local(host_os: str, docker: dict[str, Any] | None, local: bool) -> None:
    assert pf.docker_is_local(host_os, "box", docker) is local


# --- 1. Tools ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "host_os", "hint"),
    [
        ("pulumi", "darwin", "brew install pulumi/tap/pulumi"),
        (
            "pulumi",
            "linux",
            "curl -fsSL https://get.pulumi.com | sh   (https://www.pulumi.com/docs/iac/download-install/)",
        ),
        ("docker", "darwin", "install Docker Desktop: https://docs.docker.com/desktop/setup/install/mac-install/"),
        (
            "docker",
            "linux",
            (
                "install Docker Engine: https://docs.docker.com/engine/install/ , then let your user run it: "
                "sudo usermod -aG docker $USER (log out and back in)"
            ),
        ),
    ],
)
def test_a_missing_tool_fails_with_its_install_hint(name: str, host_os: str, hint: str) -> None:
    check = pf.check_tool(name, pf.ToolRun(), host_os, "amd64")
    assert check == pf.Check(f"{name} CLI", "FAIL", f"{name} is not installed (not found on PATH)", hint)


def test_a_tool_that_does_not_run_fails() -> None:
    check = pf.check_tool("pulumi", pf.ToolRun("/usr/bin/pulumi", error="exec format error"), "linux", "amd64")
    assert (check.status, check.message) == ("FAIL", "pulumi at /usr/bin/pulumi does not run: exec format error")


def test_a_tool_reports_its_version() -> None:
    assert pf.check_tool("docker", TOOLS["docker"], "linux", "amd64") == pf.Check(
        "docker CLI", "OK", "27.3.1 (/usr/bin/docker)"
    )


KIND_LINUX_ARM64 = (
    "curl -Lo ./kind https://kind.sigs.k8s.io/dl/v0.32.0/kind-linux-arm64 && chmod +x ./kind "
    "&& sudo mv ./kind /usr/local/bin/kind"
)
TOO_OLD = "is older than v0.32.0, the oldest kind that runs the pinned node image kindest/node:v1.33.12"


@pytest.mark.parametrize(
    ("output", "host_os", "status", "message", "hint"),
    [
        ("kind v0.32.0 go1.24.2 linux/amd64", "linux", "OK", "v0.32.0 (/usr/bin/kind)", ""),
        ("kind v0.33.0-alpha+0ab1e6b9 go1.24 linux/amd64", "linux", "OK", "v0.33.0-alpha (/usr/bin/kind)", ""),
        ("kind v0.20.0 go1.20.4 linux/amd64", "linux", "FAIL", f"kind v0.20.0 {TOO_OLD}", KIND_LINUX_ARM64),
        ("kind v0.31.9 go1.24 darwin/arm64", "darwin", "FAIL", f"kind v0.31.9 {TOO_OLD}", "brew upgrade kind"),
        (
            "kind v0.32.0-alpha go1.24 darwin/arm64",
            "darwin",
            "FAIL",
            f"kind v0.32.0-alpha {TOO_OLD}",
            "brew upgrade kind",
        ),
        (
            "kind (devel)",
            "darwin",
            "WARN",
            "could not read a version from `kind version` ('kind (devel)'); servebox needs kind v0.32.0 or newer",
            "brew upgrade kind",
        ),
    ],
)
def test_kind_version(output: str, host_os: str, status: str, message: str, hint: str) -> None:
    check = pf.check_kind(pf.ToolRun("/usr/bin/kind", output), host_os, "arm64")
    assert check == pf.Check("kind CLI", status, message, hint)


def test_kind_missing_fails_with_the_install_hint() -> None:
    assert pf.check_kind(None, "darwin", "arm64") == pf.Check(
        "kind CLI", "FAIL", "kind is not installed (not found on PATH)", "brew install kind"
    )


def _kubectl(version: str) -> pf.ToolRun:
    return pf.ToolRun("/usr/bin/kubectl", json.dumps({"clientVersion": {"gitVersion": version}}))


@pytest.mark.parametrize(
    ("run", "status", "message"),
    [
        (_kubectl("v1.33.1"), "OK", "v1.33.1 (/usr/bin/kubectl)"),
        (_kubectl("v1.34.0"), "OK", "v1.34.0 (/usr/bin/kubectl)"),
        (_kubectl("v1.32.4"), "OK", "v1.32.4 (/usr/bin/kubectl)"),
        (
            _kubectl("v1.28.2"),
            "WARN",
            (
                "kubectl v1.28.2 is more than one minor version away from the cluster's Kubernetes v1.33.12; "
                "some kubectl commands may fail"
            ),
        ),
        (pf.ToolRun("/usr/bin/kubectl", "Client Version: v1.33.0\n"), "OK", "v1.33.0 (/usr/bin/kubectl)"),
        (
            pf.ToolRun(),
            "WARN",
            (
                "kubectl is not installed (not found on PATH); pulumi up does not need it, but you will to look "
                "inside the cluster"
            ),
        ),
    ],
)
def test_kubectl(run: pf.ToolRun, status: str, message: str) -> None:
    check = pf.check_kubectl(run, "linux", "amd64")
    assert (check.status, check.message) == (status, message)
    if status != "OK":
        assert check.hint == (
            "curl -LO https://dl.k8s.io/release/v1.33.12/bin/linux/amd64/kubectl "
            "&& sudo install -m 0755 kubectl /usr/local/bin/kubectl"
        )


# --- 2. Docker daemon --------------------------------------------------------------------------------

DAEMON_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"


@pytest.mark.parametrize(
    ("host_os", "hint"),
    [
        ("linux", "sudo systemctl start docker (Docker Engine), or start Docker Desktop"),
        ("darwin", "start Docker Desktop (open -a Docker) and wait until it says it is running"),
    ],
)
def test_daemon_down_fails(host_os: str, hint: str) -> None:
    check = pf.check_docker_daemon(facts(host_os=host_os, docker_info=None, docker_error=DAEMON_DOWN + "\n"))
    assert check == pf.Check(
        "docker daemon", "FAIL", f"Docker is installed but the daemon is not running ({DAEMON_DOWN})", hint
    )


def test_daemon_refusing_this_user_says_how_to_join_the_docker_group() -> None:
    error = (
        "permission denied while trying to connect to the Docker daemon socket at "
        "unix:///var/run/docker.sock: connect: permission denied"
    )
    check = pf.check_docker_daemon(facts(docker_info=None, docker_error=error))
    assert check == pf.Check(
        "docker daemon",
        "FAIL",
        f"Docker is running but this user may not use it: {error}",
        "sudo usermod -aG docker $USER, then log out and back in (or run: newgrp docker)",
    )


def test_windows_containers_fail() -> None:
    check = pf.check_docker_daemon(facts(host_os="win32", docker_info=info(OSType="windows")))
    assert (check.status, check.message) == ("FAIL", "Docker runs windows containers; kind needs Linux containers")


def test_daemon_without_docker_cli_fails() -> None:
    check = pf.check_docker_daemon(facts(tools=with_tool("docker", None), docker_info=None))
    assert (check.status, check.message) == ("FAIL", "not checked: the docker CLI is not installed (see above)")


def test_daemon_ok_summarises_the_engine() -> None:
    assert pf.check_docker_daemon(facts()).message == ("Docker 27.3.1 on Ubuntu 24.04.1 LTS (x86_64, 8 CPUs, 16.0 GiB)")


@pytest.mark.parametrize("check", [pf.check_cpus, pf.check_memory, pf.check_disk, pf.check_architecture])
def test_checks_needing_the_daemon_warn_when_it_is_down(check: Any) -> None:
    result = check(facts(docker_info=None, docker_error=DAEMON_DOWN))
    assert (result.status, result.message) == ("WARN", "not checked: needs a running Docker daemon (see docker daemon)")


# --- 3. Resources ------------------------------------------------------------------------------------

LOCAL_HINT = "Docker uses this machine's own {}: close other programs, or use a bigger machine"
VM_HINT = (
    "give Docker's VM more {}: Docker Desktop → Settings → Resources, then Apply & restart "
    "(colima: colima start --cpu 4 --memory 8)"
)


@pytest.mark.parametrize(
    ("cpus", "status", "message"),
    [
        (1, "FAIL", "Docker has 1 CPU; servebox needs at least 2 (4 recommended)"),
        (2, "WARN", "Docker has 2 CPUs; it works, but 4 are recommended for a quick install"),
        (3, "WARN", "Docker has 3 CPUs; it works, but 4 are recommended for a quick install"),
        (4, "OK", "4 CPUs"),
        (16, "OK", "16 CPUs"),
    ],
)
def test_cpus(cpus: int, status: str, message: str) -> None:
    check = pf.check_cpus(facts(docker_info=info(NCPU=cpus)))
    assert (check.status, check.message) == (status, message)
    assert check.hint == ("" if status == "OK" else LOCAL_HINT.format("CPUs"))


@pytest.mark.parametrize(
    ("memory", "status", "message"),
    [
        (2 * GIB, "FAIL", "Docker has 2.0 GiB of memory; servebox needs at least 4 GiB (8 GiB recommended)"),
        (3.5 * GIB, "FAIL", "Docker has 3.5 GiB of memory; servebox needs at least 4 GiB (8 GiB recommended)"),
        # What a "4 GB" Docker Desktop VM reports: counts as 4 GiB, below the recommendation.
        (3.8 * GIB, "WARN", "Docker has 3.8 GiB of memory; it works, but 8 GiB are recommended"),
        (7.7 * GIB, "OK", "7.7 GiB"),
        (16 * GIB, "OK", "16.0 GiB"),
    ],
)
def test_memory(memory: float, status: str, message: str) -> None:
    check = pf.check_memory(facts(host_os="darwin", docker_info=info(MemTotal=int(memory), **DESKTOP)))
    assert (check.status, check.message) == (status, message)
    assert check.hint == ("" if status == "OK" else VM_HINT.format("memory"))


NEED_DISK = "servebox needs at least 10 GiB free (20 GiB recommended)"
PRUNE = (
    "free space on the filesystem of /var/lib/docker: `docker system prune` removes stopped containers "
    "and dangling images (add -a for all unused images)"
)


@pytest.mark.parametrize(
    ("free", "status", "message", "hint"),
    [
        (5 * GIB, "FAIL", f"5.0 GiB free at /var/lib/docker; {NEED_DISK}", PRUNE),
        (15 * GIB, "WARN", "15.0 GiB free at /var/lib/docker; 20 GiB recommended", PRUNE),
        (50 * GIB, "OK", "50.0 GiB free at /var/lib/docker", ""),
        (
            None,
            "WARN",
            f"could not measure free space at /var/lib/docker; {NEED_DISK}",
            "check with: df -h /var/lib/docker",
        ),
    ],
)
def test_disk_on_a_local_engine(free: int | None, status: str, message: str, hint: str) -> None:
    assert pf.check_disk(facts(docker_root_free_bytes=free)) == pf.Check("docker disk", status, message, hint)


@pytest.mark.parametrize("host_os", ["darwin", "linux"])
def test_disk_inside_a_vm_is_not_measured(host_os: str) -> None:
    check = pf.check_disk(facts(host_os=host_os, docker_info=info(**DESKTOP), docker_root_free_bytes=None))
    assert check == pf.Check(
        "docker disk",
        "WARN",
        f"could not measure: Docker keeps its data inside a VM (Docker Desktop); {NEED_DISK}",
        "Docker Desktop → Settings → Resources → Disk usage limit; `docker system df` shows what Docker uses, "
        "`docker system prune` frees unused data",
    )


# --- 4. inotify --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "status", "message", "hint"),
    [
        (
            {"max_user_watches": 8192, "max_user_instances": 128},
            "FAIL",
            (
                "inotify limits too low for kind (pods fail with 'too many open files'): "
                "max_user_watches 8192 (needs 524288), max_user_instances 128 (needs 512)"
            ),
            (
                "sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512\n"
                "to keep it after a reboot: printf '%s\\n' 'fs.inotify.max_user_watches = 524288' "
                "'fs.inotify.max_user_instances = 512' | sudo tee /etc/sysctl.d/99-kind.conf"
            ),
        ),
        (
            # Only the low limit is raised: the fix must never lower the one already set higher.
            {"max_user_watches": 1048576, "max_user_instances": 128},
            "FAIL",
            (
                "inotify limits too low for kind (pods fail with 'too many open files'): "
                "max_user_instances 128 (needs 512)"
            ),
            (
                "sudo sysctl fs.inotify.max_user_instances=512\n"
                "to keep it after a reboot: printf '%s\\n' 'fs.inotify.max_user_instances = 512' "
                "| sudo tee /etc/sysctl.d/99-kind.conf"
            ),
        ),
        (
            {"max_user_watches": 524288, "max_user_instances": 8192},
            "OK",
            "max_user_watches 524288, max_user_instances 8192",
            "",
        ),
        (
            None,
            "WARN",
            "could not read /proc/sys/fs/inotify/max_user_watches and max_user_instances",
            "",
        ),
    ],
)
def test_inotify(limits: dict[str, int] | None, status: str, message: str, hint: str) -> None:
    assert pf.check_inotify(limits) == pf.Check("inotify limits", status, message, hint)


# --- 5. Architecture ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("docker_architecture", "status", "message"),
    [
        ("x86_64", "OK", "all 2 images publish linux/amd64"),
        (
            "aarch64",
            "FAIL",
            (
                "Docker runs linux/arm64 (aarch64), but 1 image the stack pulls has no linux/arm64 build: "
                "example.io/model-runtime:1.0 (amd64)"
            ),
        ),
    ],
)
def test_architecture_names_every_image_without_a_build(
    monkeypatch: pytest.MonkeyPatch, docker_architecture: str, status: str, message: str
) -> None:
    monkeypatch.setattr(versions, "images", lambda serving="kserve": (BOTH, AMD64_ONLY))
    check = pf.check_architecture(facts(docker_info=info(Architecture=docker_architecture)))
    assert (check.status, check.message) == (status, message)
    if status == "FAIL":
        assert check.hint == (
            "use a machine whose Docker runs linux/amd64 (a cloud VM or CI runner), or pin versions of "
            "these images that publish linux/arm64 in components/versions.py"
        )


def test_architecture_lists_several_missing_images(monkeypatch: pytest.MonkeyPatch) -> None:
    other = Image("example.io/ppc-tool", "3", frozenset({"amd64", "ppc64le"}), "a test fact")
    monkeypatch.setattr(versions, "images", lambda serving="kserve": (AMD64_ONLY, BOTH, other))
    check = pf.check_architecture(facts(docker_info=info(**DESKTOP)))
    assert check.message == (
        "Docker runs linux/arm64 (aarch64), but 2 images the stack pulls have no linux/arm64 build: "
        "example.io/model-runtime:1.0 (amd64); example.io/ppc-tool:3 (amd64, ppc64le)"
    )
    assert check.hint.startswith("use a machine whose Docker runs linux/amd64 or linux/ppc64le (")


def test_architecture_checks_what_versions_images_returns_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pinned set today, then that set plus an image added later: both are seen without a change here.
    monkeypatch.setattr(versions, "images", lambda serving="kserve": PINNED_IMAGES)
    assert pf.check_architecture(facts()).message == f"all {len(PINNED_IMAGES)} images publish linux/amd64"
    monkeypatch.setattr(versions, "images", lambda serving="kserve": (*PINNED_IMAGES, AMD64_ONLY))
    check = pf.check_architecture(facts(docker_info=info(Architecture="arm64")))
    assert (check.status, check.message.endswith("example.io/model-runtime:1.0 (amd64)")) == ("FAIL", True)


# The real pins: what an Apple Silicon laptop (Docker Desktop, arm64 node) and an amd64 machine see.
DEFAULT_STACK_IMAGES = {
    "kindest/node",
    "quay.io/jetstack/cert-manager-controller",
    "quay.io/jetstack/cert-manager-webhook",
    "quay.io/jetstack/cert-manager-cainjector",
    "quay.io/jetstack/cert-manager-startupapicheck",
    "docker.io/istio/pilot",
    "docker.io/istio/proxyv2",
    "gcr.io/knative-releases/knative.dev/operator/cmd/operator",
    "gcr.io/knative-releases/knative.dev/operator/cmd/webhook",
    "docker.io/kserve/kserve-controller",
    "docker.io/kserve/storage-initializer",
    "quay.io/brancz/kube-rbac-proxy",
    "docker.io/kserve/sklearnserver",
    "docker.io/kserve/xgbserver",
    "docker.io/kserve/lgbserver",
    "quay.io/minio/minio",
}


def test_the_default_stack_pulls_exactly_these_images() -> None:
    assert {image.repository for image in PINNED_IMAGES} == DEFAULT_STACK_IMAGES
    assert len(PINNED_IMAGES) == len(DEFAULT_STACK_IMAGES)


@pytest.mark.parametrize("image", PINNED_IMAGES, ids=lambda image: image.repository)
def test_every_pinned_image_records_amd64_and_arm64_with_its_source(image: Image) -> None:
    assert image.architectures >= {"amd64", "arm64"}
    assert image.tag and image.tag != "latest"
    # A source names a file upstream at a tag, not a belief.
    assert "@" in image.architectures_source or " (TAG " in image.architectures_source, image.architectures_source
    assert any(arch in image.architectures_source for arch in ("arm64", "--platform=all")), image.architectures_source


@pytest.mark.parametrize(
    ("docker_architecture", "arch"), [("x86_64", "amd64"), ("aarch64", "arm64"), ("arm64", "arm64")]
)
def test_preflight_passes_the_real_pins_on_amd64_and_on_apple_silicon(
    monkeypatch: pytest.MonkeyPatch, docker_architecture: str, arch: str
) -> None:
    monkeypatch.setattr(versions, "images", lambda serving="kserve": PINNED_IMAGES)
    check = pf.check_architecture(facts(docker_info=info(Architecture=docker_architecture)))
    assert (check.status, check.message) == ("OK", f"all {len(PINNED_IMAGES)} images publish linux/{arch}")


def test_preflight_would_stop_an_arm64_machine_on_an_amd64_only_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    amd64_sklearn = Image("docker.io/kserve/sklearnserver", "v0.20.0", frozenset({"amd64"}), "a test fact")
    pins = tuple(amd64_sklearn if i.repository == amd64_sklearn.repository else i for i in PINNED_IMAGES)
    monkeypatch.setattr(versions, "images", lambda serving="kserve": pins)
    check = pf.check_architecture(facts(docker_info=info(**DESKTOP)))
    assert check.status == "FAIL"
    assert check.message.endswith("1 image the stack pulls has no linux/arm64 build: docker.io/kserve/sklearnserver:v0.20.0 (amd64)")


# --- 6. Host port ------------------------------------------------------------------------------------


@pytest.fixture
def listener() -> Any:
    """A real listening socket on 127.0.0.1, on a port the OS picked."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("key", pf.HOST_PORT_KEYS)
def test_port_in_use_fails_naming_the_key_the_port_and_the_fix(listener: int, key: str) -> None:
    check = pf.check_host_port(facts(host_ports={key: pf.HostPort(listener, DEFAULT)}), key)
    assert (check.name, check.status) == (f"host port ({key})", "FAIL")
    assert check.message == (
        f"127.0.0.1:{listener} ({key}, default in Pulumi.yaml) is already in use by another program; "
        "the kind cluster of stack kind needs it"
    )
    assert check.hint.startswith(f"servebox up kind --set {key}=")
    assert f"   (or stop what listens there: lsof -nP -iTCP:{listener} -sTCP:LISTEN)" in check.hint
    suggested = int(check.hint.split()[4].split("=")[1])
    assert suggested != listener and pf.port_is_free(suggested)


@pytest.mark.parametrize("key", pf.HOST_PORT_KEYS)
def test_free_port_is_ok(key: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert pf.port_is_free(port)
    assert pf.check_host_port(facts(host_ports={key: pf.HostPort(port, DEFAULT)}), key) == pf.Check(
        f"host port ({key})", "OK", f"127.0.0.1:{port} is free (default in Pulumi.yaml)"
    )


def lsof(port: int) -> str:
    return f"(or stop what listens there: lsof -nP -iTCP:{port} -sTCP:LISTEN)"


IN_FILE = "set in stacks/Pulumi.dev.yaml"
BAD_STORE_PORT = f"kindStoreHostPort is 'http' ({IN_FILE}), not a port from 1024 to 65535"


@pytest.mark.parametrize(
    ("key", "host_ports", "busy", "clusters", "status", "message", "hint"),
    [
        ("kindHostPort", ports(), (), (), "OK", "127.0.0.1:8080 is free (default in Pulumi.yaml)", ""),
        (
            "kindStoreHostPort",
            ports(store=pf.HostPort(9000, IN_FILE)),
            (),
            (),
            "OK",
            f"127.0.0.1:9000 is free ({IN_FILE})",
            "",
        ),
        (
            # Both held, by this stack's own cluster from an earlier `pulumi up`.
            "kindStoreHostPort",
            ports(),
            (8080, 8081),
            ("other", "servebox-dev"),
            "OK",
            "kind cluster servebox-dev exists; port 8081 is in use by it",
            "",
        ),
        (
            # 8081 is free, but it is kindStoreHostPort's: the suggestion skips it.
            "kindHostPort",
            ports(),
            (8080,),
            (),
            "FAIL",
            (
                "127.0.0.1:8080 (kindHostPort, default in Pulumi.yaml) is already in use by another program; "
                "the kind cluster of stack dev needs it"
            ),
            f"servebox up dev --set kindHostPort=8082   {lsof(8080)}",
        ),
        (
            "kindStoreHostPort",
            ports(store=pf.HostPort(8081, IN_FILE)),
            (8081, 8082),
            (),
            "FAIL",
            (
                f"127.0.0.1:8081 (kindStoreHostPort, {IN_FILE}) is already in use by another program; "
                "the kind cluster of stack dev needs it"
            ),
            f"servebox up dev --set kindStoreHostPort=8083   {lsof(8081)}",
        ),
        (
            # The next port up is free but is kindHostPort's.
            "kindStoreHostPort",
            ports(host=9001, store=9000),
            (9000,),
            (),
            "FAIL",
            (
                "127.0.0.1:9000 (kindStoreHostPort, default in Pulumi.yaml) is already in use by another program; "
                "the kind cluster of stack dev needs it"
            ),
            f"servebox up dev --set kindStoreHostPort=9002   {lsof(9000)}",
        ),
        (
            "kindStoreHostPort",
            ports(store=pf.HostPort(problem=BAD_STORE_PORT)),
            (),
            (),
            "FAIL",
            BAD_STORE_PORT,
            "servebox up dev --set kindStoreHostPort=8081",
        ),
        (
            "kindHostPort",
            ports(host=None),
            (),
            (),
            "FAIL",
            "kindHostPort could not be read",
            "servebox up dev --set kindHostPort=8080",
        ),
    ],
)
def test_host_port(
    key: str,
    host_ports: dict[str, pf.HostPort],
    busy: tuple[int, ...],
    clusters: tuple[str, ...],
    status: str,
    message: str,
    hint: str,
) -> None:
    gathered = facts(stack="org/dev", host_ports=host_ports, kind_clusters=clusters)
    check = pf.check_host_port(gathered, key, is_free=lambda port: port not in busy)
    assert check == pf.Check(f"host port ({key})", status, message, hint)


@pytest.mark.parametrize(
    ("host_ports", "duplicate"),
    [
        (ports(), None),
        (
            ports(host=9000, store=pf.HostPort(9000, IN_FILE)),
            pf.Check(
                "host ports",
                "FAIL",
                "kindHostPort and kindStoreHostPort are both 9000; they must differ",
                "servebox up dev --set kindStoreHostPort=9001",
            ),
        ),
        (
            ports(host=65535, store=65535),  # no port above: the fix goes down instead
            pf.Check(
                "host ports",
                "FAIL",
                "kindHostPort and kindStoreHostPort are both 65535; they must differ",
                "servebox up dev --set kindStoreHostPort=65534",
            ),
        ),
        # An unreadable side already FAILs on its own line; no second FAIL about it.
        (ports(host=pf.HostPort(problem="kindHostPort is 'x'"), store=pf.HostPort(problem="bad")), None),
        (ports(host=None), None),
    ],
)
def test_both_host_ports_must_differ(host_ports: dict[str, pf.HostPort], duplicate: pf.Check | None) -> None:
    checks = pf.run_checks(facts(stack="dev", host_ports=host_ports), is_free=always_free)
    port_checks = [check for check in checks if check.name.startswith("host port")]
    assert [check.name for check in port_checks[:2]] == ["host port (kindHostPort)", "host port (kindStoreHostPort)"]
    assert port_checks[2:] == ([] if duplicate is None else [duplicate])


@pytest.mark.parametrize(
    ("content", "key", "port", "source"),
    [
        (None, "kindHostPort", 8080, DEFAULT),
        (None, "kindStoreHostPort", 8081, DEFAULT),
        ("config:\n  servebox:kindHostPort: 8081\n", "kindHostPort", 8081, IN_FILE),
        ("config:\n  servebox:kindHostPort: 8081\n", "kindStoreHostPort", 8081, DEFAULT),
        ("config:\n  servebox:kindHostPort: '9090'\n", "kindHostPort", 9090, IN_FILE),
        ("config:\n  servebox:kindStoreHostPort: 9000\n", "kindStoreHostPort", 9000, IN_FILE),
        ("config:\n  kindStoreHostPort: 9000\n", "kindStoreHostPort", 9000, IN_FILE),
        ("config:\n  servebox:kindStoreHostPort: 9000\n", "kindHostPort", 8080, DEFAULT),
        ("config:\n  servebox:modelName: mnist\n", "kindHostPort", 8080, DEFAULT),
        ("encryptionsalt: v1:abc\n", "kindStoreHostPort", 8081, DEFAULT),
    ],
)
def test_stack_host_port(tmp_path: Path, content: str | None, key: str, port: int, source: str) -> None:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    if content is not None:
        (stacks / "Pulumi.dev.yaml").write_text(content)
    assert pf.stack_host_port("org/dev", key, stacks) == (port, source)


@pytest.mark.parametrize(
    ("content", "key", "message"),
    [
        (
            "config:\n  servebox:kindHostPort: http\n",
            "kindHostPort",
            f"kindHostPort is 'http' ({IN_FILE}), not a port from 1024 to 65535",
        ),
        (
            "config:\n  servebox:kindHostPort: 80\n",
            "kindHostPort",
            f"kindHostPort is 80 ({IN_FILE}), not a port from 1024 to 65535",
        ),
        (
            "config:\n  servebox:kindStoreHostPort: 70000\n",
            "kindStoreHostPort",
            f"kindStoreHostPort is 70000 ({IN_FILE}), not a port from 1024 to 65535",
        ),
        (
            "config:\n  servebox:kindStoreHostPort: true\n",
            "kindStoreHostPort",
            f"kindStoreHostPort is True ({IN_FILE}), not a port from 1024 to 65535",
        ),
        ("config: [unclosed\n", "kindStoreHostPort", "could not read "),
    ],
)
def test_stack_host_port_problems(tmp_path: Path, content: str, key: str, message: str) -> None:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.dev.yaml").write_text(content)
    with pytest.raises(ValueError) as error:
        pf.stack_host_port("dev", key, stacks)
    assert str(error.value).startswith(message)


# --- Gathering facts (fake commands) ------------------------------------------------------------------


def fake_runner(docker_json: dict[str, Any], docker_code: int = 0, clusters: str = "") -> Any:
    outputs = {
        "pulumi": (0, "v3.150.0\n", ""),
        "docker --version": (0, "Docker version 27.3.1, build ce12230\n", ""),
        "docker info": (docker_code, json.dumps(docker_json), ""),
        "kind version": (0, "kind v0.32.0 go1.24.2 linux/amd64\n", ""),
        "kind get": (0, clusters, ""),
        "kubectl": (0, TOOLS["kubectl"].output, ""),
    }
    calls: list[list[str]] = []

    def run(argv: list[str]) -> tuple[int, str, str]:
        calls.append(list(argv))
        words = [Path(argv[0]).name, *argv[1:]]
        for prefix, answer in outputs.items():
            if " ".join(words).startswith(prefix):
                return answer
        raise AssertionError(f"unexpected command {argv}")

    run.calls = calls  # type: ignore[attr-defined]
    return run


@pytest.fixture
def every_tool_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pf.shutil, "which", lambda name: f"/opt/bin/{name}")


def test_gather_reads_docker_and_kind_clusters(every_tool_on_path: None) -> None:
    run = fake_runner(info(Name=socket.gethostname()), clusters="servebox-kind\nother\n")
    gathered = pf.gather_facts("kind", run=run)
    assert gathered.docker_info is not None and gathered.docker_info["NCPU"] == 8
    assert gathered.kind_clusters == ("servebox-kind", "other")
    assert gathered.tools["kind"] == pf.ToolRun("/opt/bin/kind", "kind v0.32.0 go1.24.2 linux/amd64\n")
    assert all("shell" not in str(call) for call in run.calls)
    assert ["/opt/bin/docker", "info", "--format", "{{json .}}"] in run.calls


def test_gather_reads_every_host_port_and_keeps_problems(
    every_tool_on_path: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.dev.yaml").write_text("config:\n  servebox:kindStoreHostPort: s3\n")
    monkeypatch.setattr(pf.stackfile, "STACKS_DIR", stacks)
    gathered = pf.gather_facts("dev", run=fake_runner(info()))
    assert gathered.host_ports == {
        "kindHostPort": pf.HostPort(8080, DEFAULT),
        "kindStoreHostPort": pf.HostPort(
            problem=f"kindStoreHostPort is 's3' ({IN_FILE}), not a port from 1024 to 65535"
        ),
    }


def test_gather_treats_server_errors_as_a_daemon_that_is_down(every_tool_on_path: None) -> None:
    down = {"ServerErrors": [DAEMON_DOWN], "ClientInfo": {"Version": "27.3.1"}}
    run = fake_runner(down, docker_code=1)
    gathered = pf.gather_facts("kind", run=run)
    assert (gathered.docker_info, gathered.docker_error, gathered.kind_clusters) == (None, DAEMON_DOWN, None)
    assert not any(call[1:2] == ["get"] for call in run.calls)  # kind is not asked without Docker


def test_run_never_uses_a_shell_and_reports_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(argv: list[str], **kwargs: Any) -> Any:
        seen.update(kwargs, argv=argv)
        raise subprocess.TimeoutExpired(argv, kwargs["timeout"])

    monkeypatch.setattr(pf.subprocess, "run", fake_run)
    assert pf._run(["/opt/bin/docker", "info"]) == (-1, "", "`docker info` did not answer within 20 s")
    assert "shell" not in seen and seen["timeout"] == 20


# --- main() and the report ---------------------------------------------------------------------------


def run_main(argv: list[str], gathered: pf.HostFacts) -> int:
    with tempfile.TemporaryDirectory() as stacks_dir:
        stack = argv[argv.index("--stack") + 1] if "--stack" in argv else pf.DEFAULT_STACK
        (Path(stacks_dir) / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
        return pf.main(argv, gather=lambda stack: dataclasses.replace(gathered, stack=stack), is_free=always_free,
                       stacks_dir=Path(stacks_dir))


def test_a_stack_without_a_stack_file_is_refused_with_the_stacks_that_exist(capsys: pytest.CaptureFixture[str]) -> None:
    def never(stack: str) -> pf.HostFacts:
        raise AssertionError("nothing is gathered for an unknown stack")

    assert pf.main(["--stack", "foo"], gather=never) == 2
    out = capsys.readouterr().out
    assert "  FAIL  stack  no stack 'foo': there is no stacks/Pulumi.foo.yaml; the stacks here are aws, existing, gcp, kind" in out
    assert "fix: use one of them, or make it: cp stacks/Pulumi.kind.yaml stacks/Pulumi.foo.yaml" in out


def test_main_exits_0_when_nothing_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["--stack", "dev"], facts()) == 0
    out = capsys.readouterr().out
    assert out.startswith("servebox preflight for stack dev\n")
    assert out.rstrip().endswith("Ready for pulumi up (0 warnings).")


def test_main_exits_0_with_warnings_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main([], facts(docker_info=info(NCPU=2))) == 0
    assert capsys.readouterr().out.rstrip().endswith("Ready for pulumi up (1 warning).")


def test_main_exits_2_and_prints_the_fix_under_a_failure(capsys: pytest.CaptureFixture[str]) -> None:
    old_kind = with_tool("kind", pf.ToolRun("/usr/bin/kind", "kind v0.20.0 go1.20.4 linux/amd64"))
    assert run_main([], facts(host_os="darwin", docker_info=info(**DESKTOP), tools=old_kind)) == 2
    lines = capsys.readouterr().out.splitlines()
    failed = next(i for i, line in enumerate(lines) if line.startswith("  FAIL  kind CLI"))
    assert lines[failed + 1].strip() == "fix: brew upgrade kind"
    assert lines[failed + 1].index("fix:") == lines[failed].index("kind v0.20.0")
    assert lines[-1] == "1 check failed, 1 warning: fix the FAIL lines and run again."


def test_main_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["--json"], facts(docker_info=None, docker_error=DAEMON_DOWN)) == 2
    report = json.loads(capsys.readouterr().out)
    assert (report["stack"], report["ok"]) == ("kind", False)
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert statuses["docker daemon"] == "FAIL" and statuses["docker memory"] == "WARN"
    assert set(report["checks"][0]) == {"name", "status", "message", "hint"}


# --- VM stacks ------------------------------------------------------------------------------------


def _vm_facts(target: str, **cloud: Any) -> pf.HostFacts:
    """A laptop with the Pulumi CLI, about to bring up a `target` stack whose cloud shows `cloud`."""
    facts = pf.GcpFacts(**cloud) if target == "gcp" else pf.AwsFacts(**cloud)
    return pf.HostFacts(
        stack=target,
        host_os="darwin",
        host_arch="arm64",
        hostname="laptop",
        tools={"pulumi": pf.ToolRun("/usr/local/bin/pulumi", "v3.272.0\n")},
        target=target,
        **{target: facts},
    )


def test_a_gcp_stack_is_checked_for_pulumi_credentials_and_project_only() -> None:
    checks = pf.run_checks(
        _vm_facts("gcp", project="my-proj-1", project_source="gcp:project in the stack's config", credentials="GOOGLE_CREDENTIALS")
    )
    assert [(c.name, c.status) for c in checks] == [("pulumi CLI", "OK"), ("GCP credentials", "OK"), ("gcp:project", "OK")]
    assert checks[2].message == "my-proj-1 (gcp:project in the stack's config)"


def test_a_gcp_stack_without_credentials_or_project_fails_with_the_fixes() -> None:
    credentials, project = pf.run_checks(_vm_facts("gcp"))[1:]
    assert (credentials.status, credentials.hint) == ("FAIL", "gcloud auth application-default login")
    assert credentials.message.startswith("no credentials where the Google provider looks")
    assert (project.status, project.hint) == (
        "FAIL",
        "servebox up gcp --set gcp:project=<project-id>   (or add the line `  gcp:project: <project-id>` "
        "under `config:` in stacks/Pulumi.gcp.yaml)",
    )


def test_a_named_credentials_file_that_is_missing_fails(tmp_path: Path) -> None:
    found, problem = pf.gcp_credentials({"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "nope.json")}, tmp_path, {})
    assert (found, problem) == ("", f"GOOGLE_APPLICATION_CREDENTIALS names {tmp_path / 'nope.json'}, which is not a file")


@pytest.mark.parametrize(
    ("environ", "files", "stack_config", "expected"),
    [
        ({}, [], {"gcp:credentials": "{}"}, "gcp:credentials in the stack's config"),
        ({"GOOGLE_CREDENTIALS": "{}"}, [], {}, "GOOGLE_CREDENTIALS"),
        ({"GOOGLE_OAUTH_ACCESS_TOKEN": "ya29"}, [], {}, "GOOGLE_OAUTH_ACCESS_TOKEN"),
        ({"GOOGLE_APPLICATION_CREDENTIALS": "{tmp}/key.json"}, ["key.json"], {}, "GOOGLE_APPLICATION_CREDENTIALS ({tmp}/key.json)"),
        ({}, [".config/gcloud/application_default_credentials.json"], {}, "application-default credentials ({tmp}/.config/gcloud/application_default_credentials.json)"),
        ({"CLOUDSDK_CONFIG": "{tmp}/g"}, ["g/application_default_credentials.json"], {}, "application-default credentials ({tmp}/g/application_default_credentials.json)"),
        ({}, [], {}, ""),
    ],
)
def test_credentials_are_found_the_way_the_provider_finds_them(
    tmp_path: Path, environ: dict, files: list, stack_config: dict, expected: str
) -> None:
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    env = {key: value.replace("{tmp}", str(tmp_path)) for key, value in environ.items()}
    assert pf.gcp_credentials(env, tmp_path, stack_config) == (expected.replace("{tmp}", str(tmp_path)), "")


def test_the_project_comes_from_the_stack_then_the_providers_environment() -> None:
    assert pf.gcp_project({"GOOGLE_PROJECT": "env-proj"}, {"gcp:project": "cfg-proj"}) == ("cfg-proj", "gcp:project in the stack's config")
    assert pf.gcp_project({"GCLOUD_PROJECT": "env-proj"}, {}) == ("env-proj", "GCLOUD_PROJECT")
    assert pf.gcp_project({}, {}) == ("", "")


def test_the_stack_target_is_read_from_its_config_file(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.cloud.yaml").write_text("config:\n  servebox:target: gcp\n  gcp:project: p-123456\n")
    assert pf.stack_target("cloud", tmp_path) == "gcp"
    assert pf.stack_target("org/proj/cloud", tmp_path) == "gcp"
    assert pf.stack_target("absent", tmp_path) == "kind"


def test_the_shipped_gcp_stack_is_a_gcp_stack() -> None:
    assert pf.stack_target("gcp") == "gcp"


def test_an_aws_stack_is_checked_for_pulumi_credentials_and_region_only() -> None:
    checks = pf.run_checks(_vm_facts("aws"))
    assert [(c.name, c.status) for c in checks] == [("pulumi CLI", "OK"), ("AWS credentials", "FAIL"), ("aws:region", "FAIL")]
    assert checks[2].hint == (
        "servebox up aws --set aws:region=us-east-1   (or add the line `  aws:region: us-east-1` "
        "under `config:` in stacks/Pulumi.aws.yaml)"
    )


@pytest.mark.parametrize(
    ("environ", "files", "expected"),
    [
        ({"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s"}, {}, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        ({"AWS_ACCESS_KEY_ID": "AKIA"}, {}, ""),  # half a key pair is none
        ({"AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn"}, {}, "AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN"),
        ({"AWS_PROFILE": "dev"}, {".aws/config": "[profile dev]\nsso_session = x\n"}, "profile dev in {tmp}/.aws/config"),
        ({}, {".aws/credentials": "[default]\naws_access_key_id = A\n"}, "profile default in {tmp}/.aws/credentials"),
        ({"AWS_PROFILE": "prod"}, {".aws/credentials": "[default]\n"}, ""),
    ],
)
def test_aws_credentials_are_found_the_way_the_sdk_finds_them(tmp_path: Path, environ: dict, files: dict, expected: str) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert pf.aws_credentials(environ, tmp_path, {}) == expected.replace("{tmp}", str(tmp_path))


def test_the_region_comes_from_the_stack_then_the_environment() -> None:
    assert pf.aws_region({"AWS_REGION": "eu-west-1"}, {"aws:region": "us-east-2"}) == ("us-east-2", "aws:region in the stack's config")
    assert pf.aws_region({"AWS_DEFAULT_REGION": "eu-west-1"}, {}) == ("eu-west-1", "AWS_DEFAULT_REGION")


def test_the_shipped_aws_stack_is_an_aws_stack() -> None:
    assert pf.stack_target("aws") == "aws"


def test_a_seldon_stack_is_checked_for_seldons_images_and_stops_apple_silicon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(versions, "images", REAL_IMAGES)
    seldon = pf.HostFacts(
        stack="kind", host_os="darwin", host_arch="arm64", hostname="laptop", docker_info=info(**DESKTOP), serving="seldon"
    )
    check = pf.check_architecture(seldon)
    assert check.status == "FAIL"
    assert check.message == (
        "Docker runs linux/arm64 (aarch64), but 2 images the stack pulls have no linux/arm64 build: "
        "docker.io/seldonio/seldon-core-operator:1.17.1 (amd64); docker.io/seldonio/seldon-core-executor:1.17.1 (amd64)"
    )
    kserve = pf.HostFacts(stack="kind", host_os="darwin", host_arch="arm64", hostname="laptop", docker_info=info(**DESKTOP))
    assert pf.check_architecture(kserve).status == "OK"


def test_the_stacks_serving_is_read_from_its_config_file(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.s.yaml").write_text("config:\n  servebox:serving: seldon\n")
    assert pf.stack_value("s", "serving", tmp_path) == "seldon"
    assert pf.stack_value("absent", "serving", tmp_path) == "kserve"


# --- existing clusters -------------------------------------------------------------------------------


def test_an_existing_stack_needs_the_pulumi_cli_and_its_kubeconfig_here() -> None:
    facts = pf.HostFacts(
        stack="existing",
        host_os="darwin",
        host_arch="arm64",
        hostname="laptop",
        tools={"pulumi": pf.ToolRun(None, "")},
        target="existing",
        kubeconfig=("lab", ()),
    )
    checks = pf.run_checks(facts)
    assert [(c.name, c.status) for c in checks] == [("pulumi CLI", "FAIL"), ("kubeconfig", "OK")]


def test_the_shipped_existing_stack_is_an_existing_stack() -> None:
    assert pf.stack_target("existing") == "existing"


def test_an_existing_stack_gets_its_kubeconfig_and_context_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://10.0.0.1'}}]\n"
        "contexts: [{name: lab, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {}}]\n"
    )
    good = pf.existing_kubeconfig({"servebox:kubeconfigPath": str(kubeconfig), "servebox:kubeContext": "lab"})
    assert good == ("lab", ())
    assert pf.check_kubeconfig(facts(target="existing", kubeconfig=good)) == [pf.Check("kubeconfig", "OK", "context lab")]
    bad = pf.existing_kubeconfig({"servebox:kubeconfigPath": str(kubeconfig), "servebox:kubeContext": "prod"})
    assert pf.check_kubeconfig(facts(target="existing", kubeconfig=bad)) == [
        pf.Check(
            "kubeContext",
            "FAIL",
            "got 'prod', but the kubeconfig (kubeconfigPath) has no such context; allowed: one of its contexts (lab).",
            "pulumi config set kubeContext lab",
        )
    ]
    missing = pf.existing_kubeconfig({"servebox:kubeconfigPath": str(tmp_path / "nope"), "servebox:kubeContext": "lab"})
    (check,) = pf.check_kubeconfig(facts(target="existing", kubeconfig=missing))
    assert (check.name, check.status) == ("kubeconfigPath", "FAIL") and "there is no file at" in check.message
    assert pf.existing_kubeconfig({"servebox:kubeconfig": {"secure": "v1:abc"}})[1] == ()
    checks = pf.run_checks(facts(target="existing", kubeconfig=bad))
    assert [c.name for c in checks] == ["pulumi CLI", "kubeContext"]


@pytest.mark.parametrize(
    ("tool", "output", "usable"),
    [
        ("pulumi", "v3.272.0", True),
        ("pulumi", "v3.211.0", True),
        ("pulumi", "v3.210.1", False),
        ("kind", "kind v0.32.0 go1.24.2 linux/amd64", True),
        ("kind", "kind v0.31.0 go1.24.2 linux/amd64", False),
        ("kind", "kind v0.32.0-alpha go1.24.2 linux/amd64", False),
    ],
)
def test_a_tool_is_fetched_when_missing_or_too_old(tool: str, output: str, usable: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pf.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert pf.tool_is_usable(tool, run=lambda argv: (0, output, "")) is usable
    monkeypatch.setattr(pf.shutil, "which", lambda name: None)
    assert pf.tool_is_usable(tool, run=lambda argv: (0, output, "")) is False
