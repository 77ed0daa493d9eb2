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

Exit status: 0 when nothing FAILs (warnings allowed), 2 otherwise (servebox/outcomes.py).

Layout: `gather_facts()` is the only part that runs commands or touches the machine; it returns a
`HostFacts`. Every check is a small pure function of those facts returning a `Check`, so the tests
feed fake facts and need none of the tools.
"""

from __future__ import annotations

import sys

try:
    import yaml  # noqa: F401

    import components  # noqa: F401  (the program's package: run from a checkout, in its venv)
except ImportError as exc:  # a Python without the project's packages (pulumi, PyYAML)
    sys.exit(
        f"preflight: {exc}. Run scripts/up.sh, or create the venv first: "
        "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt"
    )

# The modules' names, so that a test's monkeypatch of preflight.shutil or .subprocess reaches them.
import shutil  # noqa: F401
import subprocess  # noqa: F401

from servebox.preflight.clouds import (  # noqa: F401
    aws_credentials,
    aws_region,
    check_aws_credentials,
    check_aws_region,
    check_gcp_credentials,
    check_gcp_project,
    gcp_credentials,
    gcp_project,
)
from servebox.preflight.existing import check_kubeconfig, existing_kubeconfig  # noqa: F401
from servebox.preflight.facts import (  # noqa: F401
    _SEMVER,
    COMMAND_TIMEOUT,
    DEFAULT_STACK,
    FAIL,
    GIB,
    MINIMUM_PULUMI_CLI,
    OK,
    TOOLS,
    WARN,
    AwsFacts,
    Check,
    GcpFacts,
    HostFacts,
    HostPort,
    Runner,
    ToolRun,
    Version,
    _gib,
    _run,
    _tool,
    check_tool,
    docker_arch,
    install_hint,
    parse_version,
    tool_is_usable,
    upgrade_hint,
)
from servebox.preflight.kind import (  # noqa: F401
    INOTIFY_DIR,
    INOTIFY_MIN,
    MEMORY_TOLERANCE,
    MIN_CPUS,
    MIN_DISK_FREE_GIB,
    MIN_MEMORY_GIB,
    RECOMMENDED_CPUS,
    RECOMMENDED_DISK_FREE_GIB,
    RECOMMENDED_MEMORY_GIB,
    _docker_info,
    _not_checked,
    _read_inotify,
    _resources_hint,
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
from servebox.preflight.runner import gather_facts, main, render, run_checks  # noqa: F401
from servebox.preflight.stackfile import (  # noqa: F401
    HOST_PORT_KEYS,
    OVERRIDES,
    REPO,
    check_stack_file,
    read_host_port,
    stack_host_port,
    stack_name,
    stack_settings,
    stack_target,
    stack_value,
)

# Where the stack files are is preflight.stackfile.STACKS_DIR, read at call time (servebox up
# points it at a stack's own work directory); it is not re-exported here, where a copy would go stale.
