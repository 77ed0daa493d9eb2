"""Preflight's one runner: gather the facts, run the checks the stack's target needs, print them."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from components import config
from servebox.preflight import stackfile
from servebox.preflight.clouds import (
    aws_credentials,
    aws_region,
    check_aws_credentials,
    check_aws_region,
    check_gcp_credentials,
    check_gcp_project,
    gcp_credentials,
    gcp_project,
)
from servebox.preflight.existing import check_kubeconfig, existing_kubeconfig
from servebox.preflight.facts import (
    DEFAULT_STACK,
    FAIL,
    OK,
    TOOLS,
    WARN,
    AwsFacts,
    Check,
    GcpFacts,
    HostFacts,
    Runner,
    _run,
    _tool,
    check_tool,
    docker_arch,
)
from servebox.preflight.kind import (
    _docker_info,
    _read_inotify,
    check_architecture,
    check_cpus,
    check_disk,
    check_distinct_host_ports,
    check_docker_daemon,
    check_host_port,
    check_inotify,
    check_kind,
    check_kubectl,
    check_memory,
    docker_is_local,
    port_is_free,
)
from servebox.preflight.stackfile import (
    HOST_PORT_KEYS,
    OVERRIDES,
    check_stack_file,
    read_host_port,
    stack_name,
    stack_settings,
    stack_target,
    stack_value,
)


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


def gather_facts(stack: str, run: Runner = _run) -> HostFacts:
    """Look at this machine: tools, Docker, disk, inotify, kind clusters, the stack's ports; on a
    gcp stack only the Pulumi CLI and where the Google provider would find a project and credentials."""
    host_os, hostname = sys.platform, socket.gethostname()
    target = stack_target(stack, stackfile.STACKS_DIR)
    # What every target's facts hold; a VM or an existing cluster needs no more tools than the CLI.
    only_the_cli: dict[str, Any] = {"stack": stack, "host_os": host_os, "host_arch": docker_arch(platform.machine()),
                    "hostname": hostname, "tools": {"pulumi": _tool("pulumi", run)}, "target": target}
    if target == config.Target.EXISTING.value:
        return HostFacts(**only_the_cli, kubeconfig=existing_kubeconfig(stack_settings(stack, stackfile.STACKS_DIR)))
    if target in (config.Target.GCP.value, config.Target.AWS.value):
        settings, home = stack_settings(stack, stackfile.STACKS_DIR), Path.home()
        on_gcp = target == config.Target.GCP.value
        return HostFacts(
            **only_the_cli,
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

    # stackfile.STACKS_DIR looked up now, not bound as a default, so that tests can point it elsewhere.
    host_ports = {key: read_host_port(stack, key, stackfile.STACKS_DIR) for key in HOST_PORT_KEYS}

    return HostFacts(
        stack=stack,
        host_os=host_os,
        host_arch=docker_arch(platform.machine()),
        hostname=hostname,
        serving=stack_value(stack, "serving", stackfile.STACKS_DIR),
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


def main(
    argv: Sequence[str] | None = None,
    gather: Callable[[str], HostFacts] = gather_facts,
    is_free: Callable[[int], bool] = port_is_free,
    stacks_dir: Path | None = None,
) -> int:
    """Gather, check, print; 0 when nothing FAILs, else 2 (a missing prerequisite: servebox/outcomes.py).
    `stacks_dir` is where the stack files are (default stackfile.STACKS_DIR, which servebox up points at a work directory)."""
    parser = argparse.ArgumentParser(description="Check this machine before `pulumi up` on a servebox stack.")
    parser.add_argument("--stack", default=DEFAULT_STACK, help=f"Pulumi stack name (default: {DEFAULT_STACK})")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON instead of text")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="a config value this run will set on the stack (as servebox up --set)")
    args = parser.parse_args(argv)
    OVERRIDES.clear()
    OVERRIDES.update(pair.partition("=")[::2] for pair in args.settings)

    unknown = check_stack_file(args.stack, stackfile.STACKS_DIR if stacks_dir is None else stacks_dir)
    checks = [unknown] if unknown else run_checks(gather(args.stack), is_free)
    ok = not any(check.status == FAIL for check in checks)
    if args.json:
        print(json.dumps({"stack": args.stack, "ok": ok, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        print(render(checks, args.stack))
    return 0 if ok else 2
