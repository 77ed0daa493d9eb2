"""The Commands the platform waits with: webhook_probe.py for admission webhooks, cluster_probe.py
for parts an existing cluster is said to have and for a gateway's load-balancer address.

Each probe runs beside the Kubernetes provider (a local process with the project's Python), gets the
kubeconfig as a secret environment variable, and fails the update with a diagnostic when what it
waits for does not come in time.
"""

from __future__ import annotations

import pulumi
import pulumi_command as command

from components.local import PROJECT_DIR, project_python
from components.platform.probe import KUBECONFIG_ENV

_PROBE = "-m components.platform.cluster_probe"


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


def _probe(resource_name: str, create: str, kubeconfig: pulumi.Input[str], opts: pulumi.ResourceOptions) -> command.local.Command:
    return command.local.Command(
        resource_name,
        create=create,
        environment={KUBECONFIG_ENV: pulumi.Output.secret(kubeconfig)},
        dir=str(PROJECT_DIR),
        opts=opts,
    )


def part_present(
    resource_name: str,
    *,
    part: str,
    kubeconfig: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    domain: str | None = None,
    ingress_class: bool = False,
) -> command.local.Command:
    """A Command that fails unless the cluster has `part` (cluster_probe.PARTS), as servebox needs it."""
    flags = f" --domain {domain}" if domain else ""
    flags += " --ingress-class" if ingress_class else ""
    return _probe(resource_name, f"{project_python()} {_PROBE} present --part {part}{flags}", kubeconfig, opts)


def service_address(
    resource_name: str,
    *,
    service: str,
    from_status: bool,
    kubeconfig: pulumi.Input[str],
    timeout_seconds: int,
    opts: pulumi.ResourceOptions,
    missing_key: str | None = None,
) -> command.local.Command:
    """A Command that completes once `service` serves; its stdout is the load-balancer address when
    `from_status`."""
    flags = " --from-status" if from_status else ""
    flags += f" --missing-key {missing_key}" if missing_key else ""
    return _probe(
        resource_name,
        f"{project_python()} {_PROBE} address --service {service}{flags} --timeout {timeout_seconds}",
        kubeconfig,
        opts,
    )
