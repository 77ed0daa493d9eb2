"""What every cluster probe shares: where its kubeconfig comes from, how it fails, and the exit code
its pulumi-command `Command` sees.

The probes run outside the Kubernetes provider (`python -m components.platform.<probe> ...`), so the
kubeconfig reaches them in an environment variable, held as a secret on the Command and never printed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

KUBECONFIG_ENV = "SERVEBOX_KUBECONFIG"


class ProbeFailed(RuntimeError):
    """The cluster did not become what the probe waits for, in words that say what to check."""


def run(program: str, probe: Callable[[str], object]) -> int:
    """Run `probe` with the kubeconfig: 0 when it returns, 1 with its reason on stderr when it
    raises ProbeFailed, 2 when there is no kubeconfig to give it."""
    kubeconfig = os.environ.get(KUBECONFIG_ENV)
    if not kubeconfig:
        print(f"{program}: {KUBECONFIG_ENV} is not set", file=sys.stderr)
        return 2
    try:
        probe(kubeconfig)
    except ProbeFailed as error:
        print(f"{program}: {error}", file=sys.stderr)
        return 1
    return 0
