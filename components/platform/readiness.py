"""The one way the platform waits for an admission webhook: a Command that runs webhook_probe.py.

The probe runs beside the Kubernetes provider (a local process with the project's Python), gets the
kubeconfig as a secret environment variable, dry-runs `manifest` until the webhook admits it, and
fails the update with a diagnostic when it does not in time.
"""

from __future__ import annotations

import pulumi
import pulumi_command as command

from components.local import PROJECT_DIR, project_python
from components.platform.webhook_probe import KUBECONFIG_ENV


def probe_command(plural: str, service: str, timeout_seconds: int) -> str:
    """Shell command that runs the webhook probe with this project's Python."""
    return (
        f"{project_python()} -m components.platform.webhook_probe --plural {plural} "
        f"--service {service} --timeout {timeout_seconds}"
    )


def webhook_ready(
    resource_name: str,
    *,
    plural: str,
    service: str,
    manifest: str,
    kubeconfig: pulumi.Input[str],
    timeout_seconds: int,
    opts: pulumi.ResourceOptions,
) -> command.local.Command:
    """A Command that completes once the webhook behind `service` admits a dry-run `manifest`."""
    return command.local.Command(
        resource_name,
        create=probe_command(plural, service, timeout_seconds),
        stdin=manifest,
        environment={KUBECONFIG_ENV: pulumi.Output.secret(kubeconfig)},
        dir=str(PROJECT_DIR),
        opts=opts,
    )
