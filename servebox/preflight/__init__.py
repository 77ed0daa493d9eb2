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

# Each module's public names (their __all__, or every name without a leading _), and the two
# private ones tests reach.
from servebox.preflight.clouds import *  # noqa: F403
from servebox.preflight.existing import *  # noqa: F403
from servebox.preflight.facts import *  # noqa: F403
from servebox.preflight.facts import _run, _tool  # noqa: F401
from servebox.preflight.kind import *  # noqa: F403
from servebox.preflight.runner import *  # noqa: F403
from servebox.preflight.stackfile import *  # noqa: F403

# Where the stack files are is preflight.stackfile.STACKS_DIR, read at call time (servebox up
# points it at a stack's own work directory); it is not re-exported here, where a copy would go stale.
