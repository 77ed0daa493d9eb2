"""What every check works from: the facts gathered from the machine, a check's result, the tools
and their versions, and how to install each."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components import versions
from servebox.stacks import MINIMUM_CLI

OK, WARN, FAIL = "OK", "WARN", "FAIL"
GIB = 2**30
MINIMUM_PULUMI_CLI = str(MINIMUM_CLI)
"""The oldest CLI servebox accepts (servebox/stacks.py: its file backend keeps stack tags)."""
DEFAULT_STACK = "kind"

COMMAND_TIMEOUT = 20  # seconds; `docker info` can hang while Docker Desktop is starting
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
